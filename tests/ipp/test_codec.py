"""The IPP codec: every value type round-trips, collections nest, and bad bytes name their status."""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from datetime import UTC, datetime

import pytest

from appliance.ipp import codec, codes
from appliance.ipp.codec import Attribute, Message, MessageError

from .client import attrs, label_png, request, status_name


def roundtrip(message: Message) -> Message:
    return codec.read_message(io.BytesIO(codec.encode_message(message)))


def test_every_value_type_round_trips() -> None:
    message = Message((2, 0), codes.GET_PRINTER_ATTRIBUTES, 7)
    group = message.new_group(codec.PRINTER_GROUP)
    when = datetime(2026, 12, 7, 4, 5, 6, 700000, tzinfo=UTC)
    values = [("i", codec.INTEGER, [-5, 2**31 - 1]), ("b", codec.BOOLEAN, [True, False]), ("e", codec.ENUM, [3]),
              ("o", codec.OCTET_STRING, [b"\x00\xff"]), ("d", codec.DATE_TIME, [when]),
              ("r", codec.RESOLUTION, [(300, 600, 3)]), ("g", codec.RANGE, [(1, 99)]),
              ("t", codec.TEXT, ["grüße"]), ("k", codec.KEYWORD, ["a", "b"]), ("u", codec.URI, ["ipp://x/y"]),
              ("tl", codec.TEXT_WITH_LANGUAGE, ["with language"]), ("n", codec.NO_VALUE, [None])]
    for name, tag, vals in values:
        group.add(name, tag, *vals)
    size = [Attribute("x-dimension", codec.INTEGER, [1200]), Attribute("y-dimension", codec.RANGE, [(440, 100000)])]
    group.add("media-col", codec.BEG_COLLECTION, [Attribute("media-size", codec.BEG_COLLECTION, [size]),
                                                  Attribute("media-type", codec.KEYWORD, ["labels"])])
    back = roundtrip(message)
    assert (back.version, back.code, back.request_id) == ((2, 0), codes.GET_PRINTER_ATTRIBUTES, 7)
    found = {a.name: a for a in back.group(codec.PRINTER_GROUP).attributes}
    for name, tag, vals in values:  # the tag too: a value must come back as the type it went out
        assert (found[name].tag, found[name].values) == (tag, vals), name
    col = {m.name: m for m in found["media-col"].value}
    inner = {m.name: m.value for m in col["media-size"].value}
    assert inner == {"x-dimension": 1200, "y-dimension": (440, 100000)}
    assert col["media-type"].value == "labels"


@pytest.mark.parametrize(("data", "status"), [
    (b"\x02\x00\x00\x0b\x00\x00\x00\x01\x01\x47\x00", codes.BAD_REQUEST),  # ends inside an attribute
    (b"\x02\x00\x00\x0b\x00\x00\x00\x01\x21\x00\x01a\x00\x02\x00\x01\x03", codes.BAD_REQUEST),  # a 2-byte integer
    (b"\x02\x00\x00\x0b\x00\x00\x00\x01\x44\x00\x01a\x00\x01k\x03", codes.BAD_REQUEST),  # before any group
    (b"\x02\x00\x00\x0b\x00\x00\x00\x01\x01\x44\x00\x00\x00\x01k\x03", codes.BAD_REQUEST),  # value without name
])
def test_bad_bytes_name_their_status(data: bytes, status: int) -> None:
    with pytest.raises(MessageError) as caught:
        codec.read_message(io.BytesIO(data))
    assert caught.value.status == status


def test_collections_nested_too_deep_are_refused() -> None:
    body = bytearray(b"\x02\x00\x00\x0b\x00\x00\x00\x01\x01" + b"\x34\x00\x01c\x00\x00")
    for _ in range(20):
        body += b"\x4a\x00\x00\x00\x01m" + b"\x34\x00\x00\x00\x00"
    with pytest.raises(MessageError, match="nested"):
        codec.read_message(io.BytesIO(bytes(body)))


@pytest.mark.parametrize("compression", ["gzip", "deflate"])
async def test_compressed_documents_are_accepted(compression: str, ipp) -> None:
    data = gzip.compress(label_png()) if compression == "gzip" else zlib.compress(label_png())
    answer = await ipp.op(codes.PRINT_JOB, data, operation=[("compression", codec.KEYWORD, compression),
                                                            ("document-format", codec.MIME_TYPE, "image/png")])
    assert status_name(answer) == "successful-ok"
    broken = await ipp.op(codes.PRINT_JOB, data[:40], operation=[("compression", codec.KEYWORD, compression),
                                                                 ("document-format", codec.MIME_TYPE, "image/png")])
    assert status_name(broken) in ("client-error-document-format-error", "client-error-compression-error")
    unknown = await ipp.op(codes.PRINT_JOB, data, operation=[("compression", codec.KEYWORD, "compress")])
    assert status_name(unknown) == "client-error-compression-not-supported"


def urf(width: int, height: int, line: bytes) -> bytes:
    """An Apple raster page of gray pixels: every line is `line` (already run-length coded), repeated."""
    header = struct.pack(">BBBB", 8, 0, 1, 4) + b"\x00" * 8 + struct.pack(">III", width, height, 300) + b"\x00" * 8
    return b"UNIRAST\x00" + struct.pack(">I", 1) + header + bytes([height - 1]) + line


async def test_apple_raster_prints_what_it_draws(ipp, fast, rpc) -> None:
    from appliance.ipp.documents import pages

    line = bytes([49, 0]) + bytes([128])  # 50 black pixels, then white to the end of the line
    page = next(pages(io.BytesIO(urf(200, 60, line)), "image/urf"))
    image = page.draw(200, 60)
    assert image.getpixel((10, 30)) == 0 and image.getpixel((150, 30)) == 255
    answer = await ipp.op(codes.PRINT_JOB, urf(200, 60, line), operation=[
        ("document-format", codec.MIME_TYPE, "image/urf")])
    assert status_name(answer) == "successful-ok"
    assert attrs(answer, codec.JOB_GROUP)["job-state"][0] in (codes.JOB_PENDING, codes.JOB_PROCESSING,
                                                               codes.JOB_COMPLETED)


def test_request_helper_builds_what_the_server_reads() -> None:
    message = request(codes.PRINT_JOB, "ipp://h/ipp/print", job=[("copies", codec.INTEGER, 2)])
    back = roundtrip(message)
    assert back.group(codec.JOB_GROUP).get("copies").value == 2
