"""Bad input: each answers its IPP status, stores no job, and the appliance keeps serving."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from appliance.ipp import codec, codes
from tests.support import make_settings, running

from .client import IppClient, attrs, label_png, qr_pdf, request, status_name


async def still_serving_and_no_job(ipp: IppClient, rpc) -> None:
    answer = await ipp.op(codes.GET_PRINTER_ATTRIBUTES, operation=[
        ("requested-attributes", codec.KEYWORD, "printer-state")])
    assert status_name(answer) == "successful-ok"
    assert (await rpc.call("job.list", {}))["jobs"] == []


def answer_of(body: bytes) -> codec.Message:
    return codec.read_message(io.BytesIO(body))


async def test_truncated_and_garbage_requests_are_bad_requests(ipp, rpc) -> None:
    whole = codec.encode_message(request(codes.GET_PRINTER_ATTRIBUTES, ipp.uri))
    for body in (whole[:5], whole[:-7], b"\x02\x00\x00\x0b\x00\x00\x00\x01" + b"\xfe" * 300):
        status, _, raw = await ipp.post_raw(body)
        assert status == 200
        assert status_name(answer_of(raw)) == "client-error-bad-request", body[:20]
    await still_serving_and_no_job(ipp, rpc)


async def test_request_id_zero_and_missing_printer_uri_are_bad_requests(ipp, rpc) -> None:
    assert status_name(await ipp.send(request(codes.GET_PRINTER_ATTRIBUTES, ipp.uri, request_id=0))) == \
        "client-error-bad-request"
    message = request(codes.GET_PRINTER_ATTRIBUTES, ipp.uri)
    message.groups[0].attributes = message.groups[0].attributes[:2]
    assert status_name(await ipp.send(message)) == "client-error-bad-request"


@pytest.mark.parametrize("version", [(0, 0), (3, 0), (9, 9)])
async def test_a_wrong_version_is_not_supported(version: tuple[int, int], ipp, rpc) -> None:
    answer = await ipp.send(request(codes.PRINT_JOB, ipp.uri, version=version), label_png())
    assert status_name(answer) == "server-error-version-not-supported"
    await still_serving_and_no_job(ipp, rpc)


async def test_ipp_1_1_and_2_x_are_accepted(ipp) -> None:
    for version in ((1, 1), (2, 0), (2, 2)):
        answer = await ipp.send(request(codes.GET_PRINTER_ATTRIBUTES, ipp.uri, version=version))
        assert status_name(answer) == "successful-ok"
        assert answer.version == version


async def test_an_attribute_of_one_mebibyte_is_too_large(ipp, rpc) -> None:
    huge = ["x" * 60000] * 18  # one attribute, 18 values: about 1 MiB
    answer = await ipp.op(codes.PRINT_JOB, label_png(), operation=[("job-name", codec.NAME, huge)])
    assert status_name(answer) == "client-error-request-entity-too-large"
    await still_serving_and_no_job(ipp, rpc)


async def test_an_unsupported_operation_says_so(ipp, rpc) -> None:
    answer = await ipp.op(0x0010)  # Pause-Printer
    assert status_name(answer) == "server-error-operation-not-supported"
    await still_serving_and_no_job(ipp, rpc)


@pytest.mark.parametrize(("fmt", "body"), [
    ("image/png", qr_pdf("not a png")),
    ("application/pdf", label_png()),
    ("image/jpeg", b"\xff\xd8\xff" + b"\x00" * 100),
    ("application/pdf", b"%PDF-1.4\n" + b"garbage " * 50),
    ("application/octet-stream", b"neither this nor that" * 10),
    ("image/urf", b"UNIRAST\x00" + b"\x00\x00\x00\x01" + b"\x00" * 10),
])
async def test_a_document_that_is_not_what_it_says_is_a_format_error(fmt: str, body: bytes, ipp, rpc) -> None:
    answer = await ipp.op(codes.PRINT_JOB, body, operation=[("document-format", codec.MIME_TYPE, fmt)])
    assert status_name(answer) == "client-error-document-format-error", attrs(answer, codec.OPERATION_GROUP)
    await still_serving_and_no_job(ipp, rpc)


def pdf_of_size(width_pt: float, height_pt: float) -> bytes:
    """A one-page PDF written by hand with this MediaBox (PDFs allow up to 14400 pt a side)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] >>" % (width_pt, height_pt)]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def test_a_pdf_bomb_page_is_refused(ipp, rpc) -> None:
    answer = await ipp.op(codes.PRINT_JOB, pdf_of_size(14400, 14400), operation=[
        ("document-format", codec.MIME_TYPE, "application/pdf")])
    assert status_name(answer) == "client-error-document-format-error"
    message = attrs(answer, codec.OPERATION_GROUP)["status-message"][0]
    assert "5080×5080 mm" in message
    await still_serving_and_no_job(ipp, rpc)


def pwg_page(width: int, height: int, lines: int) -> bytes:
    """A PWG raster (sgray_8) whose header says width × height and whose data holds `lines` white lines."""
    header = bytearray(1796)
    header[0:9] = b"PwgRaster"
    for offset, value in ((276, 300), (280, 300), (372, width), (376, height), (384, 8), (388, 8),
                          (392, width), (400, 18), (420, 1)):
        struct.pack_into(">I", header, offset, value)
    line = bytes([0, 128])  # once, then "the rest of the line is white"
    return b"RaS2" + bytes(header) + line * lines


async def test_a_pwg_raster_header_lying_about_its_size_is_refused(ipp, rpc) -> None:
    for body in (pwg_page(200, 1000, 10), pwg_page(60000, 60000, 1), pwg_page(0, 10, 10)):
        answer = await ipp.op(codes.PRINT_JOB, body, operation=[
            ("document-format", codec.MIME_TYPE, "image/pwg-raster")])
        assert status_name(answer) == "client-error-document-format-error"
    await still_serving_and_no_job(ipp, rpc)


async def test_a_true_pwg_raster_prints(ipp, rpc) -> None:
    answer = await ipp.op(codes.PRINT_JOB, pwg_page(200, 100, 100), operation=[
        ("document-format", codec.MIME_TYPE, "image/pwg-raster")])
    assert status_name(answer) == "successful-ok"


async def test_limits_on_bytes_and_pages(state_dir: Path) -> None:
    from rpc.client import RpcClient

    settings = make_settings(state_dir, ipp={"max_document_bytes": 60_000, "max_pages": 2})
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        ipp = IppClient(socket=str(app.settings.socket_path))
        big = await ipp.op(codes.PRINT_JOB, b"\x00" * 70_000 + label_png())
        assert status_name(big) == "client-error-request-entity-too-large"
        pages = await ipp.op(codes.PRINT_JOB, qr_pdf("three", pages=3, size_mm=(20, 10)), operation=[
            ("document-format", codec.MIME_TYPE, "application/pdf")])
        assert status_name(pages) == "client-error-request-entity-too-large"
        assert "max_pages" in attrs(pages, codec.OPERATION_GROUP)["status-message"][0]
        await still_serving_and_no_job(ipp, rpc)


async def test_each_refusal_is_one_log_line(captured_logs, ipp, rpc) -> None:
    import json

    await ipp.op(codes.PRINT_JOB, b"not a png", operation=[("document-format", codec.MIME_TYPE, "image/png")])
    await ipp.send(request(codes.GET_PRINTER_ATTRIBUTES, ipp.uri, version=(3, 0)))
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines() if line.strip()]
    refusals = [line for line in lines if line.get("level") in ("warning", "error")]
    assert [line["event"] for line in refusals] == ["ipp.document_refused", "ipp.bad_request"], refusals
    assert "Traceback" not in captured_logs.getvalue()
