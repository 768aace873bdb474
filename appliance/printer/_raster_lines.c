/* The raster lines of a label page in one C pass: turn, bit-pack and PackBits.

Why C: for a 62 mm QL label of 200 mm the page is 2,400 raster lines of 720 pins. Pillow keeps a
1-bit image as one byte per pixel, so turning the page (transpose), packing the bits (tobytes) and
compressing (libtiff) were three passes over 1.7 MB and about 3.6 ms, over the 5 ms budget for
render + encode with the render. Here each pixel is read once and 64 of them are packed with a
few word operations.

The result is the same bytes as appliance.printer.raster's Python path (tested): raster line x is
page column x; page row y is pin left_pins + y, the most significant bit of a line's first byte is
pin 0; a page pixel under 128 is ink (raster.py hands over a mode "1" page as tobytes("raw", "L"),
which is 0 for ink and 255 for paper, whatever other values the image held). With
compression each line is PackBits as appliance.printer.packbits.compress makes it (runs of 3..128
equal bytes, literals of up to 128 bytes between them) and an empty line is "Z"; without it every
line goes out whole. Each line is preceded by its raster command: QL "g 00 n", PT "G n(16-bit LE)".

The module is optional: when no C compiler was at hand at install time it is not built, and the
encoder uses libtiff or Python instead (appliance/printer/raster.py).
*/

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define WORDS 8              /* 64-bit words of page row read at a time: one cache line */
#define BLOCK (8 * WORDS)    /* raster lines turned at a time */

/* PackBits of `line` (n bytes) into `out`; returns the bytes written (at most n + n / 128 + 1). */
static size_t packbits(const uint8_t *line, size_t n, uint8_t *out) {
    size_t written = 0, i = 0, literal = 0; /* literal: start of the pending literal bytes */
    while (i < n) {
        size_t run = 1;
        while (i + run < n && run < 128 && line[i + run] == line[i]) {
            run++;
        }
        if (run < 3) {
            i += run;
            continue;
        }
        while (literal < i) { /* the literal bytes before this run, in chunks of up to 128 */
            size_t chunk = i - literal > 128 ? 128 : i - literal;
            out[written++] = (uint8_t)(chunk - 1);
            memcpy(out + written, line + literal, chunk);
            written += chunk;
            literal += chunk;
        }
        out[written++] = (uint8_t)(257 - run);
        out[written++] = line[i];
        i += run;
        literal = i;
    }
    while (literal < n) {
        size_t chunk = n - literal > 128 ? 128 : n - literal;
        out[written++] = (uint8_t)(chunk - 1);
        memcpy(out + written, line + literal, chunk);
        written += chunk;
        literal += chunk;
    }
    return written;
}

static size_t line_command(uint8_t *out, size_t length, int ql) {
    if (ql) {
        out[0] = 'g';
        out[1] = 0;
        out[2] = (uint8_t)length;
        return 3;
    }
    out[0] = 'G';
    out[1] = (uint8_t)(length & 0xFF);
    out[2] = (uint8_t)(length >> 8);
    return 3;
}

/* Ink bits of up to 8 page columns in one page row: the top bit of each byte set where the pixel is ink. */
static inline uint64_t ink_word(const uint8_t *row, Py_ssize_t columns) {
    uint64_t word = UINT64_MAX; /* paper past the page's last column */
    if (columns >= 8) {
        memcpy(&word, row, 8); /* a constant size: one load */
    } else if (columns > 0) {
        memcpy(&word, row, (size_t)columns);
    }
    return ~word & UINT64_C(0x8080808080808080);
}

static size_t encode(const uint8_t *pixels, Py_ssize_t width, Py_ssize_t height, Py_ssize_t head_pins,
                     Py_ssize_t left_pins, int compress, int ql, uint8_t *lines, uint8_t *out) {
    const Py_ssize_t bpl = head_pins / 8;
    size_t written = 0;
    for (Py_ssize_t x0 = 0; x0 < width; x0 += BLOCK) {
        Py_ssize_t columns = width - x0 < BLOCK ? width - x0 : BLOCK;
        for (Py_ssize_t group = 0; group < bpl; group++) {
            /* byte `group` of 8 lines per word: bit 7 - k of lane j is pin 8 * group + k of line
               x0 + 8 * w + j; shifting the top bits right by k keeps each inside its own byte lane */
            uint64_t packed[WORDS] = {0};
            for (int k = 0; k < 8; k++) {
                Py_ssize_t y = group * 8 + k - left_pins;
                if (y < 0 || y >= height) {
                    continue;
                }
                const uint8_t *row = pixels + y * width + x0;
                for (int w = 0; w < WORDS && 8 * w < columns; w++) { /* no pointer past the row's end */
                    packed[w] |= ink_word(row + 8 * w, columns - 8 * w) >> k;
                }
            }
            uint8_t lanes[BLOCK];
            memcpy(lanes, packed, BLOCK);
            for (Py_ssize_t j = 0; j < columns; j++) {
                lines[j * bpl + group] = lanes[j];
            }
        }
        for (Py_ssize_t j = 0; j < columns; j++) {
            const uint8_t *line = lines + j * bpl;
            if (!compress) {
                written += line_command(out + written, (size_t)bpl, ql);
                memcpy(out + written, line, (size_t)bpl);
                written += (size_t)bpl;
                continue;
            }
            Py_ssize_t first = 0;
            while (first < bpl && line[first] == 0) {
                first++;
            }
            if (first == bpl) {
                out[written++] = 'Z';
                continue;
            }
            size_t length = packbits(line, (size_t)bpl, out + written + 3);
            line_command(out + written, length, ql);
            written += 3 + length;
        }
    }
    return written;
}

static PyObject *raster_body(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"pixels", "width", "height", "head_pins", "left_pins", "compress", "ql", NULL};
    Py_buffer pixels;
    Py_ssize_t width, height, head_pins, left_pins;
    int compress, ql;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*nnnnpp:raster_body", keywords, &pixels, &width, &height,
                                     &head_pins, &left_pins, &compress, &ql)) {
        return NULL;
    }
    PyObject *result = NULL;
    const Py_ssize_t most_bpl = ql ? 252 : 8192; /* QL: a one-byte line length; PT: a sane bound */
    if (width < 0 || height < 0 || (height > 0 && width > PY_SSIZE_T_MAX / height) ||
        pixels.len != width * height) {
        PyErr_Format(PyExc_ValueError, "pixels hold %zd bytes, not width x height = %zd x %zd", pixels.len,
                     width, height);
    } else if (head_pins <= 0 || head_pins % 8 != 0) {
        PyErr_Format(PyExc_ValueError, "head_pins must be a positive multiple of 8, not %zd", head_pins);
    } else if (head_pins / 8 > most_bpl) {
        PyErr_Format(PyExc_ValueError, "head_pins %zd is over the %s limit of %zd pins", head_pins,
                     ql ? "QL" : "PT", most_bpl * 8);
    } else if (left_pins < 0 || height > head_pins || left_pins > head_pins - height) {
        PyErr_Format(PyExc_ValueError, "%zd rows from pin %zd fall outside the head's %zd pins", height,
                     left_pins, head_pins);
    } else if (width > PY_SSIZE_T_MAX / (4 + head_pins / 8 + head_pins / 8 / 128)) {
        PyErr_Format(PyExc_ValueError, "width %zd is too many raster lines", width);
    } else {
        const size_t bpl = (size_t)head_pins / 8;
        const size_t most = (size_t)width * (3 + bpl + bpl / 128 + 1); /* every line raw, plus PackBits' worst */
        uint8_t *lines = PyMem_RawMalloc(BLOCK * bpl);
        uint8_t *out = PyMem_RawMalloc(most ? most : 1);
        if (lines == NULL || out == NULL) {
            PyErr_NoMemory();
        } else {
            size_t written;
            Py_BEGIN_ALLOW_THREADS
            written = encode(pixels.buf, width, height, head_pins, left_pins, compress, ql, lines, out);
            Py_END_ALLOW_THREADS
            result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)written);
        }
        PyMem_RawFree(lines);
        PyMem_RawFree(out);
    }
    PyBuffer_Release(&pixels);
    return result;
}

static PyMethodDef methods[] = {
    {"raster_body", (PyCFunction)(void (*)(void))raster_body, METH_VARARGS | METH_KEYWORDS,
     "raster_body(pixels, width, height, head_pins, left_pins, compress, ql) -> bytes\n\n"
     "The raster-line commands of one page: `pixels` is the page row by row, one byte per pixel\n"
     "(under 128 = ink); page column x is raster line x and row y is pin left_pins + y."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_raster_lines", NULL, 0, methods};

PyMODINIT_FUNC PyInit__raster_lines(void) { return PyModule_Create(&module); }
