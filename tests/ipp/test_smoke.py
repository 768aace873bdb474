"""First look: the operations answer over the unix socket, and a PNG becomes a printed label."""

from __future__ import annotations

from appliance.ipp import codec, codes
from tests.fast_fixtures import printed, wait_job

from .client import attrs, label_png, status_name


async def test_get_printer_attributes_describes_the_virtual_printer(ipp, fast) -> None:
    answer = await ipp.op(codes.GET_PRINTER_ATTRIBUTES)
    assert status_name(answer) == "successful-ok"
    found = attrs(answer)
    assert found["printer-name"] == ["virtual"]
    assert found["printer-make-and-model"] == ["Brother PT-P750W"]
    assert found["media-ready"] == ["om_12mm-tape_12x100mm"]
    assert found["printer-resolution-default"] == [(180, 180, 3)]
    assert found["printer-uuid"] == [f"urn:uuid:{fast.printers[0].id}"]


async def test_print_job_with_a_png_prints_one_label(ipp, fast, rpc) -> None:
    answer = await ipp.op(codes.PRINT_JOB, label_png(), operation=[
        ("requesting-user-name", codec.NAME, "alice"), ("document-format", codec.MIME_TYPE, "image/png"),
        ("job-name", codec.NAME, "shelf.png")])
    assert status_name(answer) == "successful-ok", answer
    job_id = attrs(answer, codec.JOB_GROUP)["job-id"][0]
    job = await wait_job(rpc, job_id, ("completed",))
    assert (job["source"], job["user_name"], job["document_name"]) == ("ipp", "alice", "shelf.png")
    assert len(printed(fast)) == 1
