"""The TUI's jobs list shows an IPP job with who sent it and which document (Pilot, real server)."""

from __future__ import annotations

from appliance.app import Appliance
from appliance.ipp import codec, codes
from tests.tui.helpers import connected, make_app, table_rows, text_of, until

from .client import IppClient, attrs, qr_pdf


async def test_the_jobs_list_shows_user_and_document_of_ipp_jobs(appliance: Appliance) -> None:
    ipp = IppClient(socket=str(appliance.settings.socket_path))
    answer = await ipp.op(codes.PRINT_JOB, qr_pdf("tui", pages=2), operation=[
        ("document-format", codec.MIME_TYPE, "application/pdf"), ("requesting-user-name", codec.NAME, "frank"),
        ("document-name", codec.NAME, "bins.pdf")])
    head = attrs(answer, codec.JOB_GROUP)["job-id"][0]
    app = make_app(appliance)
    async with app.run_test(size=(140, 30)) as pilot:
        await connected(pilot)
        await pilot.press("j")
        await until(pilot, lambda: len(table_rows(app, "#jobs")) == 2, what="two pages listed")
        rows = {r[0]: r for r in table_rows(app, "#jobs")}
        assert rows[f"#{head}"][-1] == "ipp: frank · bins.pdf"  # the document (its IPP job)
        assert rows[f"#{head + 1}"][-1] == "ipp: frank · bins.pdf p2"
        await pilot.press("enter")
        await until(pilot, lambda: "Sent by ipp: frank" in text_of(app, "#job-summary"), what="detail says who")

