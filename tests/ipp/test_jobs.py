"""IPP jobs are appliance jobs: Create-Job/Send-Document, pages, Get-Jobs, cancel, history and reprint."""

from __future__ import annotations

import zxingcpp
from PIL import Image, ImageOps

from appliance.ipp import codec, codes
from rpc.client import RpcClient
from tests.fast_fixtures import printed, wait_job
from tests.support import make_settings, running

from .client import IppClient, attrs, label_png, qr_pdf, status_name

PDF = [("document-format", codec.MIME_TYPE, "application/pdf")]


def decoded(path) -> list[str]:
    """The QR codes on a printed label (a 12 mm tape has 70 dots across: enlarged, as a camera would see it)."""
    with Image.open(path) as image:
        gray = ImageOps.expand(image.convert("L"), border=40, fill=255)
        big = gray.resize((gray.width * 3, gray.height * 3), Image.Resampling.NEAREST)
        return [r.text for r in zxingcpp.read_barcodes(big)]


async def test_a_three_page_pdf_prints_three_labels_in_order_as_one_ipp_job(ipp, fast, rpc) -> None:
    answer = await ipp.op(codes.PRINT_JOB, qr_pdf("shelf", pages=3), operation=[
        *PDF, ("requesting-user-name", codec.NAME, "bob"), ("document-name", codec.NAME, "bins.pdf")])
    assert status_name(answer) == "successful-ok"
    head = attrs(answer, codec.JOB_GROUP)["job-id"][0]
    listed = (await rpc.call("job.list", {}))["jobs"]
    assert sorted(j["id"] for j in listed) == [head, head + 1, head + 2]
    for job in listed:
        await wait_job(rpc, job["id"], ("completed",))
    job = await rpc.call("job.get", {"job_id": head + 2})
    assert (job["source"], job["user_name"], job["document_name"], job["document_job_id"], job["page"]) == \
        ("ipp", "bob", "bins.pdf", head, 3)
    labels = printed(fast)
    assert [decoded(p) for p in labels] == [["shelf-1"], ["shelf-2"], ["shelf-3"]]
    state = attrs(await ipp.op(codes.GET_JOB_ATTRIBUTES, operation=[("job-id", codec.INTEGER, head)]), codec.JOB_GROUP)
    assert state["job-state"] == [codes.JOB_COMPLETED]
    assert state["job-impressions-completed"] == [3]
    assert state["job-originating-user-name"] == ["bob"]


async def test_create_job_then_send_document_prints_once_it_is_complete(ipp, fast, rpc) -> None:
    created = await ipp.op(codes.CREATE_JOB, operation=[("requesting-user-name", codec.NAME, "carol"),
                                                         ("job-name", codec.NAME, "tag")],
                           job=[("copies", codec.INTEGER, 2)])
    assert status_name(created) == "successful-ok"
    job_id = attrs(created, codec.JOB_GROUP)["job-id"][0]
    assert attrs(created, codec.JOB_GROUP)["job-state-reasons"] == ["job-incoming"]
    assert (await rpc.call("job.get", {"job_id": job_id}))["state"] == "held"
    missing_last = await ipp.op(codes.SEND_DOCUMENT, label_png(), operation=[("job-id", codec.INTEGER, job_id)])
    assert status_name(missing_last) == "client-error-bad-request"
    sent = await ipp.op(codes.SEND_DOCUMENT, label_png(), operation=[
        ("job-id", codec.INTEGER, job_id), ("last-document", codec.BOOLEAN, True),
        ("document-format", codec.MIME_TYPE, "image/png")])
    assert status_name(sent) == "successful-ok"
    job = await wait_job(rpc, job_id, ("completed",))
    assert (job["copies"], job["user_name"], job["document_name"]) == (2, "carol", "tag")
    assert len(printed(fast)) == 2


async def test_a_create_job_whose_document_is_broken_ends_aborted(ipp, rpc) -> None:
    created = await ipp.op(codes.CREATE_JOB)
    job_id = attrs(created, codec.JOB_GROUP)["job-id"][0]
    sent = await ipp.op(codes.SEND_DOCUMENT, b"not a png", operation=[
        ("job-id", codec.INTEGER, job_id), ("last-document", codec.BOOLEAN, True),
        ("document-format", codec.MIME_TYPE, "image/png")])
    assert status_name(sent) == "client-error-document-format-error"
    job = await rpc.call("job.get", {"job_id": job_id})
    assert (job["state"], job["reasons"]) == ("aborted", ["document-unprintable"])


async def test_get_jobs_cancel_and_cancel_my_jobs(ipp, fast, rpc) -> None:
    await rpc.call("printer.pause", {})
    ids = []
    for user in ("dave", "dave", "erin"):
        answer = await ipp.op(codes.PRINT_JOB, label_png(), operation=[("requesting-user-name", codec.NAME, user)])
        ids.append(attrs(answer, codec.JOB_GROUP)["job-id"][0])
    listing = await ipp.op(codes.GET_JOBS)
    assert sorted(g.get("job-id").value for g in listing.groups_of(codec.JOB_GROUP)) == ids
    mine = await ipp.op(codes.GET_JOBS, operation=[("my-jobs", codec.BOOLEAN, True),
                                                   ("requesting-user-name", codec.NAME, "erin")])
    assert [g.get("job-id").value for g in mine.groups_of(codec.JOB_GROUP)] == [ids[2]]
    assert status_name(await ipp.op(codes.CANCEL_JOB, operation=[("job-id", codec.INTEGER, ids[0])])) == \
        "successful-ok"
    assert status_name(await ipp.op(codes.CANCEL_JOB, operation=[("job-id", codec.INTEGER, ids[0])])) == \
        "client-error-not-possible"
    assert status_name(await ipp.op(codes.CANCEL_JOB, operation=[("job-id", codec.INTEGER, 999)])) == \
        "client-error-not-found"
    assert status_name(await ipp.op(codes.CANCEL_MY_JOBS, operation=[
        ("requesting-user-name", codec.NAME, "dave")])) == "successful-ok"
    states = {j["id"]: j["state"] for j in (await rpc.call("job.list", {}))["jobs"]}
    assert states == {ids[0]: "canceled", ids[1]: "canceled", ids[2]: "pending"}
    await rpc.call("printer.resume", {})
    await wait_job(rpc, ids[2], ("completed",))
    assert len(printed(fast)) == 1


async def test_an_ipp_job_reprints_byte_for_byte(ipp, fast, rpc) -> None:
    answer = await ipp.op(codes.PRINT_JOB, qr_pdf("again"), operation=PDF)
    job_id = attrs(answer, codec.JOB_GROUP)["job-id"][0]
    await wait_job(rpc, job_id, ("completed",))
    again = await rpc.call("job.reprint", {"job_id": job_id})
    await wait_job(rpc, again["id"], ("completed",))
    assert [decoded(p) for p in printed(fast)] == [["again"], ["again"]]
    original = await rpc.call("job.get", {"job_id": job_id})
    assert (again["source"], again["user_name"], again["document_name"]) == (
        "ipp", original["user_name"], original["document_name"])  # a reprint comes from where its original did


async def test_identify_and_validate_print_nothing(ipp, fast, rpc) -> None:
    assert status_name(await ipp.op(codes.IDENTIFY_PRINTER)) == "successful-ok"
    assert status_name(await ipp.op(codes.VALIDATE_JOB, operation=PDF)) == "successful-ok"
    ignored = await ipp.op(codes.VALIDATE_JOB, job=[("sides", codec.KEYWORD, "two-sided-long-edge")])
    assert status_name(ignored) == "successful-ok-ignored-or-substituted-attributes"
    refused = await ipp.op(codes.VALIDATE_JOB, operation=[("ipp-attribute-fidelity", codec.BOOLEAN, True)],
                           job=[("copies", codec.INTEGER, 5000)])
    assert status_name(refused) == "client-error-attributes-or-values-not-supported"
    assert attrs(refused, codec.UNSUPPORTED_GROUP)["copies"] == [5000]
    assert (await rpc.call("job.list", {}))["jobs"] == []


async def test_an_ipp_page_cannot_be_rendered_again(ipp, rpc) -> None:
    from rpc.errors import RpcError

    answer = await ipp.op(codes.PRINT_JOB, label_png())
    job_id = attrs(answer, codec.JOB_GROUP)["job-id"][0]
    try:
        await rpc.call("job.reprint", {"job_id": job_id, "rerender": True})
    except RpcError as exc:
        assert exc.data["field"] == "rerender"
    else:
        raise AssertionError("rerender of an IPP page was accepted")


async def test_a_document_cut_off_by_a_restart_is_aborted_not_printed(state_dir) -> None:
    settings = make_settings(state_dir)
    async with running(settings) as app:
        created = await IppClient(socket=str(app.settings.socket_path)).op(codes.CREATE_JOB)
        job_id = attrs(created, codec.JOB_GROUP)["job-id"][0]
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        job = await rpc.call("job.get", {"job_id": job_id})
    assert (job["state"], job["reasons"]) == ("aborted", ["document-unprintable"])


async def test_a_page_still_waiting_for_its_document_is_not_released_alone(ipp, fast, rpc) -> None:
    from rpc.errors import RpcError

    created = await ipp.op(codes.CREATE_JOB)
    job_id = attrs(created, codec.JOB_GROUP)["job-id"][0]
    try:
        await rpc.call("job.release", {"job_id": job_id})
    except RpcError as exc:
        assert exc.code == -32003 and exc.data["reason"] == "job-incoming"
    else:
        raise AssertionError("job.release of a page still coming in was accepted")
    job = await rpc.call("job.get", {"job_id": job_id})
    assert (job["state"], job["reasons"]) == ("held", ["job-incoming"])
    assert printed(fast) == []


async def test_a_create_job_left_open_is_closed_after_the_time_out(ipp, fast, rpc, monkeypatch) -> None:
    from appliance.ipp import operations

    created = await ipp.op(codes.CREATE_JOB)
    job_id = attrs(created, codec.JOB_GROUP)["job-id"][0]
    monkeypatch.setattr(operations, "OPEN_JOB_TIMEOUT_S", 0.0)
    await ipp.op(codes.GET_PRINTER_ATTRIBUTES)  # any request sweeps
    job = await rpc.call("job.get", {"job_id": job_id})
    assert (job["state"], job["reasons"]) == ("aborted", ["document-unprintable"])
