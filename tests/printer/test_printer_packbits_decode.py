"""PackBits codec and the decoder's strictness (what a real printer refuses)."""

from __future__ import annotations

import random

import pytest

from appliance.printer.decode import RasterDecodeError, decode_job
from appliance.printer.models import get_model
from appliance.printer.packbits import PackBitsError, compress, decompress

HEADER = b"\x00" * 100 + b"\x1b@\x1bia\x01"
INFO = b"\x1biz\x84\x00\x0c\x00\x01\x00\x00\x00\x00\x00"


def test_packbits_roundtrip_random() -> None:
    rng = random.Random(5)
    for _ in range(500):
        data = bytes(rng.choice((0, 0xFF, rng.randrange(256))) for _ in range(rng.randrange(0, 400)))
        packed = compress(data)
        assert decompress(packed) == data
        assert len(packed) <= len(data) + (len(data) + 127) // 128


def test_packbits_known_vectors() -> None:
    # Apple's TN1023 example.
    raw = b"\xaa" * 3 + b"\x80\x00\x2a" + b"\xaa" * 4 + b"\x80\x00\x2a\x22" + b"\xaa" * 10
    assert decompress(bytes.fromhex("FEAA0280002AFDAA0380002A22F7AA")) == raw
    assert compress(bytes(16)) == b"\xf1\x00"
    assert compress(b"\xff" * 200) == b"\x81\xff\xb9\xff"
    assert decompress(b"\x80\x00\x41") == b"A"  # 128 is a no-op


@pytest.mark.parametrize("bad", [b"\x05abc", b"\xfe", b"\x00"])
def test_packbits_truncated(bad: bytes) -> None:
    with pytest.raises(PackBitsError):
        decompress(bad)


def _job(body: bytes) -> bytes:
    return HEADER + INFO + b"M\x02" + body


def test_decoder_accepts_a_minimal_job() -> None:
    job = decode_job(_job(b"G\x02\x00\xf1\x00\x1a"), get_model("PT-P750W"))
    assert job.pages[0].lines == [bytes(16)]
    assert job.command_names()[:3] == ["invalidate", "initialize", "raster-mode"]


@pytest.mark.parametrize(
    ("body", "message", "offset"),
    [
        (b"Q\x1a", "unknown command 51", 0),
        (b"\x1bx\x1a", "unknown command ESC 78", 0),
        (b"\x1bi\x7f\x1a", "unknown command ESC i 7f", 0),
        (b"G\x05\x00\x01", "raster line truncated", 0),
        (b"G\x02\x00\xef\x00\x1a", "expands to more than 16", 0),
        (b"G\x12\x00\x10" + b"\x01" * 17 + b"\x1a", "expands to more than 16", 0),
        (b"G\x02\x00\xf3\x00\x1a", "shorter than the head", 0),
        (b"\x1biz\x84\x00", "print-info truncated", 0),
        (b"G\x02\x00\xf1\x00", "without a print command", 5),
        (b"G\x02\x00\xf1\x00\x1a\x00", "after the end of the job", 6),
    ],
)
def test_decoder_refuses_what_a_printer_would(body: bytes, message: str, offset: int) -> None:
    start = len(_job(b""))
    with pytest.raises(RasterDecodeError, match=message) as info:
        decode_job(_job(body), get_model("PT-P750W"))
    assert info.value.offset == start + offset


def test_uncompressed_lines_are_flagged_for_models_that_need_compression() -> None:
    data = HEADER + INFO + b"M\x00" + b"G\x10\x00" + b"\x0f" * 16 + b"\x1a"
    job = decode_job(data, get_model("PT-P750W"))
    assert job.pages[0].compression == 0
    assert job.pages[0].uncompressed_lines == 1
    assert any("prints them blank" in warning for warning in job.warnings)
    assert not decode_job(data, get_model("PT-P700")).warnings


def test_zero_line_only_in_compression_mode() -> None:
    with pytest.raises(RasterDecodeError, match="outside compression mode"):
        decode_job(HEADER + INFO + b"M\x00Z\x1a", get_model("PT-P750W"))


def test_line_count_mismatch_is_a_warning() -> None:
    job = decode_job(_job(b"ZZ\x1a"), get_model("PT-P750W"))
    assert job.warnings == ["page 1: print info announces 1 lines, 2 were sent"]


def test_head_width_inferred_without_model() -> None:
    job = decode_job(_job(b"Z" + b"G\x02\x00\xbb\xff" + b"\x1a"))
    assert job.pages[0].bytes_per_line == 70
    assert job.pages[0].lines == [bytes(70), b"\xff" * 70]
