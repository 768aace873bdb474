"""Linear barcodes: the module patterns come from python-barcode, the input checks are ours.

python-barcode (`barcode` on PyPI) encodes the symbols: Code 128 with automatic switching between
code sets A, B and C (A carries ASCII control characters, C two digits per symbol), GS1-128 (Code
128 with FNC1), Code 39, EAN-13, EAN-8 and UPC-A. Only its module patterns are used (`build()`:
"1" a black module, "0" a white one, no quiet zone); code_items.py draws them at whole dots per
module, as before, and its renderer (and the PIL/SVG writers it imports) is never called.

What is checked here, before python-barcode sees the data, and why: it replaces a wrong EAN/UPC
check digit silently with the right one (a label would then scan as another article), and its
errors name no position; so check digits are verified, and each refusal says what to send.

Adopted (issue 38) after comparing with the hand-written encoders it replaced: for the barcode
of every built-in and golden test and 2,000 random values, the modules are the same or (Code 128
with control characters, which ours could not encode) new; none is wider; every one decodes with
zxing-cpp at 180 dpi (PT) and 300 dpi (QL) (tests/labels/test_labels_codes.py).
"""

from __future__ import annotations

import re
from typing import Any

SYMBOLOGIES = ("code128", "ean13", "code39", "gs1_128", "ean8", "upca")
QUIET_ZONE = {"ean13": 11, "ean8": 7, "upca": 9}  # modules each side, from the standards; others: 10
DEFAULT_QUIET_ZONE = 10

CODE39_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
# GS1's 82 characters for element values (GS1 General Specifications, figure 7.11-1)
GS1_CHARS = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_GS1_ELEMENT = re.compile(r"\((\d{2,4})\)([^()]*)")
GS1_MAX_CHARS = 48  # data characters in one GS1-128 symbol


def quiet_zone(symbology: str) -> int:
    return QUIET_ZONE.get(symbology, DEFAULT_QUIET_ZONE)


def check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit (EAN-13, EAN-8, UPC-A, GTIN): weights 3, 1, … from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def _digits(name: str, data: str, length: int) -> str:
    """`length` digits with their check digit: one less gets it computed, `length` gets it verified."""
    if not data.isascii() or not data.isdigit() or len(data) not in (length - 1, length):
        raise ValueError(f"{name} needs {length - 1} or {length} digits")
    expected = check_digit(data[: length - 1])
    if len(data) == length and int(data[-1]) != expected:
        raise ValueError(f"bad {name} check digit {data[-1]} (expected {expected})")
    return data[: length - 1] + str(expected)


def _gs1(data: str) -> tuple[str, str]:
    """(data for python-barcode's GS1-128, with FNC1 between elements; the text under the bars)."""
    elements = _GS1_ELEMENT.findall(data)
    if not elements or "".join(f"({ai}){value}" for ai, value in elements) != data:
        raise ValueError("GS1-128 data is application identifiers in brackets, each followed by its value, "
                         "e.g. (01)09501101530003(10)AB12")
    for ai, value in elements:
        if not value:
            raise ValueError(f"GS1-128 element ({ai}) has no value")
        bad = dict.fromkeys(c for c in value if c not in GS1_CHARS)
        if bad:
            raise ValueError(f"GS1-128 element ({ai}) holds {''.join(bad)!r}, which GS1 does not allow")
        if ai in ("01", "02") and (len(value) != 14 or not value.isdigit()):
            raise ValueError(f"GS1-128 element ({ai}) is a GTIN: 14 digits")
        if ai in ("01", "02") and int(value[-1]) != check_digit(value[:13]):
            raise ValueError(f"bad check digit {value[-1]} in GS1-128 element ({ai}) "
                             f"(expected {check_digit(value[:13])})")
    plain = "\xf1".join(ai + value for ai, value in elements)  # FNC1 separates elements (always allowed)
    if len(plain) - len(elements) + 1 > GS1_MAX_CHARS:
        raise ValueError(f"GS1-128 holds at most {GS1_MAX_CHARS} characters")
    return plain, data


def _printable(text: str) -> str:
    """The human-readable line: control characters as their visible symbols (U+2400…)."""
    return "".join(chr(0x2400 + ord(c)) if ord(c) < 32 else "\u2421" if c == "\x7f" else c for c in text)


def encode(symbology: str, data: str, *, check: bool = False) -> tuple[str, str]:
    """(modules, human-readable text) for `data`; ValueError with a reason the caller can act on.

    `check`: add Code 39's optional mod-43 check character (the other symbologies always have one).
    """
    from barcode.codex import Code39, Code128, Gs1_128  # imported on the first barcode drawn
    from barcode.ean import EAN8, EAN13
    from barcode.upc import UPCA

    symbol: Any
    if symbology == "ean13":
        digits = _digits("EAN-13", data, 13)
        symbol, text = EAN13(digits[:12], writer=None), digits
    elif symbology == "ean8":
        digits = _digits("EAN-8", data, 8)
        symbol, text = EAN8(digits[:7], writer=None), digits
    elif symbology == "upca":
        digits = _digits("UPC-A", data, 12)
        symbol, text = UPCA(digits[:11], writer=None), digits
    elif symbology == "code39":
        bad = dict.fromkeys(c for c in data if c not in CODE39_CHARS)  # in the order they come
        if bad:
            raise ValueError(f"Code 39 cannot encode {''.join(bad)!r} (allowed: 0-9 A-Z - . space $ / + %)")
        symbol, text = Code39(data, writer=None, add_checksum=check), data
    elif symbology == "gs1_128":
        plain, text = _gs1(data)
        symbol = Gs1_128(plain, writer=None)
    elif symbology == "code128":
        bad = dict.fromkeys(c for c in data if ord(c) > 127)
        if bad:
            raise ValueError(f"Code 128 cannot encode {''.join(bad)!r}: ASCII only")
        symbol, text = Code128(data, writer=None), _printable(data)
    else:
        raise ValueError(f"unknown symbology {symbology!r}")
    if not data:
        raise ValueError("barcode data is empty")
    (modules,) = symbol.build()
    return modules, text
