"""The hand-written barcode encoders, checked by a real decoder and by known vectors."""

from __future__ import annotations

import pytest
from PIL import Image

from appliance.labels import code39, code128, ean13
from tests.labels.conftest import decode


def bars(modules: str, module_px: int = 2, height: int = 50) -> Image.Image:
    row = Image.frombytes("L", (len(modules), 1), bytes(0 if m == "1" else 255 for m in modules))
    return row.resize((len(modules) * module_px, height), Image.Resampling.NEAREST)


@pytest.mark.parametrize(
    "data",
    ["A", "12", "123456", "AB12345678", "A123", "x1234y", "Hello, World! ~{}", "1234567", "BIN-A-01-03"],
)
def test_code128_decodes(data: str) -> None:
    assert decode(bars(code128.encode(data)), factor=1) == [(data, "Code128")]


def test_code128_uses_set_c_for_digit_runs() -> None:
    assert code128.symbols("123456")[:1] == [code128.START_C]
    assert code128.symbols("AB12345678")[:4] == [code128.START_B, 33, 34, code128.CODE_C]
    # set C halves the length of a digit run
    assert len(code128.encode("12345678")) < len(code128.encode("A2345678"))


def test_code128_rejects_non_ascii() -> None:
    with pytest.raises(ValueError, match="cannot encode"):
        code128.encode("Ä1")


def test_code128_table_is_consistent() -> None:
    assert len(set(code128._PATTERNS)) == 107
    assert all(sum(map(int, p)) == 11 for p in code128._PATTERNS[:-1])


@pytest.mark.parametrize("data", ["BIN-42", "A B.C/D+E%F$", "0123456789"])
def test_code39_decodes(data: str) -> None:
    assert decode(bars(code39.encode(data)), factor=1) == [(data, "Code39")]


def test_code39_check_character_and_bad_chars() -> None:
    assert code39.check_char("CODE39") == "W"  # worked example of the mod-43 check
    with pytest.raises(ValueError, match="cannot encode 'a'"):
        code39.encode("abc".upper() + "a")


def test_ean13_check_digit_computed_and_verified() -> None:
    assert ean13.check_digit("400638133393") == 1
    assert ean13.normalize("400638133393") == "4006381333931"
    assert ean13.normalize("4006381333931") == "4006381333931"
    with pytest.raises(ValueError, match="bad EAN-13 check digit 2"):
        ean13.normalize("4006381333932")
    with pytest.raises(ValueError, match="12 or 13 digits"):
        ean13.normalize("40063813")


@pytest.mark.parametrize("data", ["4006381333931", "9780201379624", "0000000000000"])
def test_ean13_decodes(data: str) -> None:
    modules = "0" * 11 + ean13.encode(data) + "0" * 11
    assert len(ean13.encode(data)) == 95
    assert decode(bars(modules), factor=1) == [(data, "EAN13")]
