"""Turn a template definition (TOML text or dict) into a `Template`, once.

Every problem raises `LabelError(kind="invalid")` whose field is a path into the
definition, e.g. ``definition.layout[2].size`` or ``definition.fields.asset_id.pattern``.
Unknown keys are errors too, so a typo does not silently do nothing.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from appliance.labels import model, symbologies
from appliance.labels.dims import Dim, parse_dim
from appliance.labels.errors import LabelError
from appliance.labels.field_pattern import compile_pattern
from appliance.labels.textfmt import compile_format

NAME_RE = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,63}\Z")  # \Z: "$" would let a final newline through
MAX_IMAGE_BYTES = 2_000_000
MAX_IMAGE_PIXELS = 4_000_000
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(pt|px)?\s*$")


class _Table:
    """A dict being read at a path; `done()` rejects keys nobody asked for."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise LabelError(path, "expected a table")
        self.data: dict[str, Any] = data
        self.path = path
        self.seen: set[str] = set()

    def sub(self, key: str) -> str:
        return f"{self.path}.{key}"

    def fail(self, key: str, reason: str) -> LabelError:
        return LabelError(self.sub(key), reason)

    def get(self, key: str, types: type | tuple[type, ...], default: Any = None, *, required: bool = False) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                raise self.fail(key, "required")
            return default
        value = self.data[key]
        bad_bool = isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,))
        if bad_bool or not isinstance(value, types):
            names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
            raise self.fail(key, f"expected {names.replace('str', 'string').replace('float', 'number')}")
        return value

    def number(self, key: str, default: float | None = None, *, minimum: float | None = None) -> float | None:
        value = self.get(key, (int, float), default)
        if value is not None and minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum:g}")
        return None if value is None else float(value)

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in options:
            raise self.fail(key, f"must be one of {', '.join(options)}")
        return value

    def done(self) -> None:
        extra = sorted(set(self.data) - self.seen)
        if extra:
            raise self.fail(extra[0], "unknown key")


MAX_SIZE = 400.0


MAX_NUMBER = 100_000.0  # no length (mm), size, position or count on a label comes near this


def _non_finite(value: Any, path: str) -> str | None:
    """The path of the first NaN, infinite or absurdly large number in a definition, or None."""
    stack = [(path, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return here
        if isinstance(item, int | float) and not isinstance(item, bool) and abs(item) > MAX_NUMBER:
            return here
        if isinstance(item, dict):
            stack.extend((f"{here}.{k}", v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{here}[{i}]", v) for i, v in reversed(list(enumerate(item))))
    return None


def loads(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LabelError("definition", f"not valid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise LabelError("definition", "nested too deeply") from None


def parse(
    definition: str | dict[str, Any],
    *,
    name: str | None = None,
    version: int | None = None,
    source: str = "user",
    base_dir: Path | None = None,
) -> model.Template:
    """Validate and compile a definition. `name`, when given, wins over the file's `name`."""
    data = loads(definition) if isinstance(definition, str) else definition
    bad = _non_finite(data, "definition")
    if bad is not None:  # TOML has nan and inf; no length, size or position can be either (nor 1e308)
        raise LabelError(bad, f"must be a finite number of at most {MAX_NUMBER:,.0f} in size")
    t = _Table(data, "definition")
    file_name = t.get("name", str)
    name = name or file_name
    if not name:
        raise t.fail("name", "required")
    if not NAME_RE.match(name):
        raise t.fail("name", "use 1–64 characters a–z, 0–9, '-' or '_', starting with a letter or digit")
    title = t.get("title", str, name)
    description = t.get("description", str, "")
    file_version = t.get("version", int, 1)
    if file_version < 1:
        raise t.fail("version", "must be at least 1")
    fields = _fields(t)
    names = set(fields)
    tapes_raw = t.get("tapes", (str, list), "any")
    tapes: tuple[float, ...] | None
    if isinstance(tapes_raw, str):
        if tapes_raw != "any":
            raise t.fail("tapes", 'expected "any" or a list of tape widths in mm')
        tapes = None
    else:
        if not tapes_raw or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in tapes_raw):
            raise t.fail("tapes", 'expected "any" or a list of tape widths in mm')
        tapes = tuple(float(v) for v in tapes_raw)
    length_mm = t.number("length_mm", minimum=1)
    min_length_mm = t.number("min_length_mm", 0.0, minimum=0) or 0.0
    max_length_mm = t.number("max_length_mm", minimum=1)
    if length_mm is not None and ("min_length_mm" in t.data or "max_length_mm" in t.data):
        raise t.fail("length_mm", "give either length_mm or min_length_mm/max_length_mm")
    if max_length_mm is not None and max_length_mm < min_length_mm:
        raise t.fail("max_length_mm", "is less than min_length_mm")
    layout_raw = t.get("layout", list, required=True)
    if not layout_raw:
        raise t.fail("layout", "needs at least one element")
    layout = tuple(
        _element(_Table(el, f"definition.layout[{i}]"), i, names, fields, base_dir) for i, el in enumerate(layout_raw)
    )
    tpl = model.Template(
        name=name,
        title=title,
        description=description,
        version=version if version is not None else file_version,
        fields=fields,
        layout=layout,
        tapes=tapes,
        min_tape_mm=t.number("min_tape_mm", minimum=0),
        length_mm=length_mm,
        min_length_mm=min_length_mm,
        max_length_mm=max_length_mm,
        margin_mm=t.number("margin_mm", 2.0, minimum=0) or 0.0,
        padding_mm=t.number("padding_mm", 0.0, minimum=0) or 0.0,
        gap_mm=t.number("gap_mm", 1.5, minimum=0) or 0.0,
        source=source,
        base_dir=base_dir,
        raw=data,
    )
    t.done()
    return tpl


def _fields(t: _Table) -> dict[str, model.FieldSpec]:
    raw = t.get("fields", dict, {})
    out: dict[str, model.FieldSpec] = {}
    for fname in raw:
        if not fname.isidentifier():
            raise LabelError(f"definition.fields.{fname}", "field names must be identifiers (letters, digits, _)")
    for fname, spec in raw.items():
        f = _Table(spec, f"definition.fields.{fname}")
        ftype = f.choice("type", ("string", "integer", "date", "choice"), "string")
        pattern_src = f.get("pattern", str)
        pattern = None
        max_length = f.get("max_length", int)
        if pattern_src is not None:
            try:
                pattern = compile_pattern(pattern_src)  # RE2: linear time, so no pattern can stall the server
            except ValueError as exc:
                raise f.fail("pattern", str(exc)) from None
        choices = tuple(f.get("choices", list, []))
        if ftype == "choice" and (not choices or not all(isinstance(c, str) for c in choices)):
            raise f.fail("choices", "a choice field needs a list of strings")
        default: Any = f.get("default", (str, int, date))
        default_fmt = None
        if ftype == "integer" and default is not None and not isinstance(default, int):
            raise f.fail("default", "expected an integer")
        if ftype == "date" and isinstance(default, str) and default != "today":
            try:
                default = date.fromisoformat(default)
            except ValueError:
                raise f.fail("default", 'expected a date (YYYY-MM-DD) or "today"') from None
        if ftype == "choice" and default is not None and default not in choices:
            raise f.fail("default", "is not one of the choices")
        if ftype == "string" and isinstance(default, str) and "{" in default:
            try:
                default_fmt = compile_format(default, set(raw) - {fname})
            except ValueError as exc:
                raise f.fail("default", str(exc)) from None
        out[fname] = model.FieldSpec(
            name=fname,
            type=ftype,
            label=f.get("label", str, ""),
            help=f.get("help", str, ""),
            required=f.get("required", bool, False),
            default=default,
            max_length=max_length,
            pattern=pattern,
            choices=choices,
            min=f.get("min", int),
            max=f.get("max", int),
            default_fmt=default_fmt,
        )
        f.done()
    return out


_COMMON_DEFAULTS: dict[str, dict[str, object]] = {
    "text": {"w": "fill"},
    "qr": {"w": "auto"},
    "barcode": {"w": "auto"},
    "image": {"w": "auto"},
    "line": {"w": "auto"},
    "box": {"x": 0, "y": 0, "w": "100%", "h": "100%"},
    "space": {"w": "auto"},
}


def _fmt(t: _Table, key: str, names: set[str], *, required: bool = True, default: str = "") -> Any:
    src = t.get(key, str, default, required=required)
    try:
        return compile_format(src, names)
    except ValueError as exc:
        raise t.fail(key, str(exc)) from None


def _dim(t: _Table, key: str, default: object, names: set[str], allow: tuple[str, ...]) -> Dim:
    t.seen.add(key)
    try:
        dim = parse_dim(t.data.get(key, default), names, allow=allow)
    except ValueError as exc:
        raise t.fail(key, str(exc)) from None
    if not math.isfinite(dim.value) or abs(dim.value) > MAX_NUMBER:  # "1e308mm", "1e308%"
        raise t.fail(key, f"must be at most {MAX_NUMBER:,.0f} in size")
    return dim


def _size(t: _Table, key: str, default: str | None, *, allow_fit: bool = False) -> tuple[float | None, str]:
    raw = t.get(key, (str, int, float), default)
    if raw is None:
        return None, "pt"
    if allow_fit and raw == "fit":
        return None, "fit"
    m = _SIZE_RE.match(str(raw))
    if not m or float(m.group(1)) <= 0:
        raise t.fail(key, 'expected a size like 12, "12pt" or "40px"' + (' or "fit"' if allow_fit else ""))
    if float(m.group(1)) > MAX_SIZE:  # FreeType refuses far larger sizes; 62 mm of tape is ≈176 pt
        raise t.fail(key, f"is larger than {MAX_SIZE:g} (pt or px)")
    return float(m.group(1)), m.group(2) or "pt"


def _element(
    t: _Table, index: int, names: set[str], fields: dict[str, model.FieldSpec], base_dir: Path | None
) -> model.Element:
    etype = t.choice("type", tuple(_COMMON_DEFAULTS), "text")
    defaults = _COMMON_DEFAULTS[etype]
    when = t.get("when", str)
    if when is not None and when not in names:
        raise t.fail("when", f"names no declared field {when!r}")
    common: dict[str, Any] = {
        "index": index,
        "type": etype,
        "x": _dim(t, "x", defaults.get("x", "auto"), names, ("auto", "same")),
        "y": _dim(t, "y", defaults.get("y", 0), names, ()),
        "w": _dim(t, "w", defaults["w"], names, ("auto", "fill")),
        "h": _dim(t, "h", defaults.get("h", "100%"), names, ()),
        "align": t.choice("align", ("left", "center", "right"), "center"),
        "valign": t.choice("valign", ("top", "middle", "bottom"), "middle"),
        "min_tape_mm": t.number("min_tape_mm", minimum=0),
        "max_tape_mm": t.number("max_tape_mm", minimum=0),
        "when": when,
        "optional": t.get("optional", bool, False),
    }
    el: model.Element
    if etype == "text":
        size, unit = _size(t, "size", "fit", allow_fit=True)
        min_size, min_unit = _size(t, "min_size", "5pt")
        max_size, max_unit = _size(t, "max_size", None)
        max_lines = t.get("max_lines", int)
        if max_lines is not None and max_lines < 1:
            raise t.fail("max_lines", "must be at least 1")
        rotate = t.get("rotate", int, 0)
        if rotate not in (0, 180):
            raise t.fail("rotate", "must be 0 or 180")
        el = model.TextElement(
            **common,
            text=_fmt(t, "text", names),
            font=t.get("font", str, "sans"),
            size=size,
            size_unit=unit,
            min_size=min_size or 5.0,
            min_size_unit=min_unit,
            max_size=max_size,
            max_size_unit=max_unit,
            shrink=t.get("shrink", bool, True),
            wrap=t.get("wrap", bool, False),
            max_lines=max_lines,
            line_spacing=t.number("line_spacing", 1.0, minimum=0.5) or 1.0,
            rotate=rotate,
            skip_empty_lines=t.get("skip_empty_lines", bool, True),
        )
    elif etype == "qr":
        quiet = t.get("quiet_zone", int, 2)
        if not 0 <= quiet <= 10:
            raise t.fail("quiet_zone", "must be 0–10 modules")
        el = model.QrElement(
            **common,
            data=_fmt(t, "data", names),
            ec=t.choice("ec", ("L", "M", "Q", "H"), "M"),
            quiet_zone=quiet,
            min_module_dots=_positive_int(t, "min_module_dots", 2),
            max_module_mm=t.number("max_module_mm", minimum=0.05),
        )
    elif etype == "barcode":
        symbology = t.choice("symbology", symbologies.SYMBOLOGIES, "code128")
        el = model.BarcodeElement(
            **common,
            data=_fmt(t, "data", names),
            symbology=symbology,
            human_readable=t.get("human_readable", bool, True),
            font=t.get("font", str, "mono"),
            module_mm=t.number("module_mm", 0.3, minimum=0.05) or 0.3,
            min_module_dots=_positive_int(t, "min_module_dots", 2),
            quiet_zone=t.get("quiet_zone", int, symbologies.quiet_zone(symbology)),
            check_digit=t.get("check_digit", bool, False),
        )
    elif etype == "image":
        el = model.ImageElement(
            **common,
            image=_image(t, base_dir),
            fit=t.choice("fit", ("contain", "stretch"), "contain"),
            dither=t.get("dither", bool, False),
            threshold=t.get("threshold", int, 128),
        )
    elif etype == "line":
        el = model.LineElement(
            **common,
            direction=t.choice("direction", ("vertical", "horizontal"), "vertical"),
            thickness_mm=t.number("thickness_mm", 0.3, minimum=0.01) or 0.3,
        )
    elif etype == "box":
        el = model.BoxElement(
            **common,
            thickness_mm=t.number("thickness_mm", 0.3, minimum=0.01) or 0.3,
            fill=t.get("fill", bool, False),
        )
    else:
        el = model.SpaceElement(**common)
    t.done()
    return el


def _positive_int(t: _Table, key: str, default: int) -> int:
    value = t.get(key, int, default)
    if value < 1:
        raise t.fail(key, "must be at least 1")
    return value


def _image(t: _Table, base_dir: Path | None) -> Image.Image:
    src = t.get("src", str)
    b64 = t.get("data", str)
    if (src is None) == (b64 is None):
        raise t.fail("src", "give exactly one of src (a PNG next to the template) or data (base64)")
    key = "src" if src is not None else "data"
    if src is not None:
        if base_dir is None:
            raise t.fail("src", "this template has no directory; embed the image as base64 data")
        path = (base_dir / src).resolve()
        if not path.is_relative_to(base_dir.resolve()):
            raise t.fail("src", "must stay inside the template directory")
        try:
            blob = path.read_bytes()
        except OSError:
            raise t.fail("src", f"cannot read {src}") from None
    else:
        try:
            blob = base64.b64decode(b64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise t.fail("data", "not valid base64") from None
    if len(blob) > MAX_IMAGE_BYTES:
        raise t.fail(key, f"image too large: {len(blob)} bytes (limit {MAX_IMAGE_BYTES})")
    try:
        img = Image.open(io.BytesIO(blob))
        if img.width * img.height > MAX_IMAGE_PIXELS:
            raise t.fail(key, f"image too large: {img.width}×{img.height} pixels (limit {MAX_IMAGE_PIXELS})")
        img.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise t.fail(key, "not an image Pillow can read") from None
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    return img.convert("L")
