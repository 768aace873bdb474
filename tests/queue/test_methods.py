"""job.* and printer.* methods: listing, state changes, replay, stats, retention."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from appliance.app import Appliance
from appliance.store import history
from rpc.client import RpcClient
from rpc.errors import RpcError
from tests.fast_fixtures import printed, wait_job
from tests.support import configured, make_settings, printer_table, running

USER_TEMPLATE = """
title = "Shelf"
[fields.code]
type = "string"
required = true
[[layout]]
type = "text"
text = "{prefix}{code}"
"""


async def test_list_newest_first_with_cursor_paging(fast: Appliance, rpc: RpcClient) -> None:
    ids = [(await rpc.call("print.submit", {"template": "text", "fields": {"text": f"n{n}"}, "hold": True}))["id"]
           for n in range(7)]
    page1 = await rpc.call("job.list", {"limit": 3})
    assert [j["id"] for j in page1["jobs"]] == ids[::-1][:3]
    page2 = await rpc.call("job.list", {"limit": 3, "cursor": page1["next_cursor"]})
    page3 = await rpc.call("job.list", {"limit": 3, "cursor": page2["next_cursor"]})
    assert [j["id"] for j in page2["jobs"] + page3["jobs"]] == ids[::-1][3:]
    assert page3["next_cursor"] is None
    held = await rpc.call("job.list", {"state": "held"})
    assert len(held["jobs"]) == 7
    assert (await rpc.call("job.list", {"state": "completed"}))["jobs"] == []
    future = await rpc.call("job.list", {"since": "2999-01-01T00:00:00Z"})
    assert future["jobs"] == []
    with pytest.raises(RpcError) as info:
        await rpc.call("job.list", {"cursor": "abc"})
    assert info.value.data["field"] == "cursor"


async def test_hold_release_cancel_and_their_refusals(fast: Appliance, rpc: RpcClient) -> None:
    await rpc.call("printer.pause")
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "h"}})
    held = await rpc.call("job.hold", {"job_id": job["id"]})
    assert held["state"] == "held"
    with pytest.raises(RpcError) as info:
        await rpc.call("job.hold", {"job_id": job["id"]})
    assert info.value.code == -32003 and info.value.data["state"] == "held"
    assert info.value.message == f"job {job['id']} is held: only a pending job can be held"
    released = await rpc.call("job.release", {"job_id": job["id"]})
    assert released["state"] == "pending"
    canceled = await rpc.call("job.cancel", {"job_id": job["id"]})
    assert canceled["state"] == "canceled" and "canceled-by-user" in canceled["reasons"]
    with pytest.raises(RpcError) as info:
        await rpc.call("job.cancel", {"job_id": job["id"]})
    assert info.value.code == -32003
    assert info.value.message.endswith("is canceled: only a pending, held or stopped job can be canceled")
    with pytest.raises(RpcError) as info:
        await rpc.call("job.get", {"job_id": 999})
    assert info.value.code == -32002


async def test_pause_holds_the_queue_and_resume_drains_it(fast: Appliance, rpc: RpcClient) -> None:
    paused = await rpc.call("printer.pause")
    assert paused["paused"] is True
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "wait"}})
    await asyncio.sleep(0.4)
    status = await rpc.call("queue.status")
    assert status["printers"][0]["paused"] is True and status["totals"]["pending"] == 1
    assert (await rpc.call("job.get", {"job_id": job["id"]}))["state"] == "pending"
    await rpc.call("printer.resume")
    await wait_job(rpc, job["id"], ("completed",))


async def test_reprint_sends_the_stored_bytes(fast: Appliance, rpc: RpcClient) -> None:
    job = await rpc.call("print.submit", {"template": "asset-tag", "fields": {"name": "Saw", "asset_id": "A-7"}})
    await wait_job(rpc, job["id"], ("completed",))
    again = await rpc.call("job.reprint", {"job_id": job["id"]})
    assert again["origin_job_id"] == job["id"] and again["id"] != job["id"]
    await wait_job(rpc, again["id"], ("completed",))
    from appliance.store import jobs as job_store

    original = await job_store.artifact(fast.db, job["id"])
    replay = await job_store.artifact(fast.db, again["id"])
    assert original is not None and replay is not None
    assert replay["raster"] == original["raster"] and replay["sha256"] == original["sha256"]
    await asyncio.sleep(0.2)
    first, second = printed(fast)
    assert first.read_bytes() != b"" and _pixels(first) == _pixels(second)
    more = await rpc.call("job.reprint", {"job_id": job["id"], "copies": 2})
    await wait_job(rpc, more["id"], ("completed",))
    assert more["copies"] == 2


def _pixels(path):  # type: ignore[no-untyped-def]
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("1").tobytes()


async def test_rerender_uses_the_new_template_version(fast: Appliance, rpc: RpcClient) -> None:
    v1 = await rpc.call("template.put", {"name": "shelf", "definition": USER_TEMPLATE.replace("{prefix}", "OLD-")})
    assert v1["version"] == 1
    job = await rpc.call("print.submit", {"template": "shelf", "fields": {"code": "7"}})
    await wait_job(rpc, job["id"], ("completed",))
    v2 = await rpc.call("template.put", {"name": "shelf", "definition": USER_TEMPLATE.replace("{prefix}", "NEWER-")})
    assert v2["version"] == 2
    same = await rpc.call("job.reprint", {"job_id": job["id"]})
    fresh = await rpc.call("job.reprint", {"job_id": job["id"], "rerender": True})
    assert same["template_version"] == 1 and fresh["template_version"] == 2
    await wait_job(rpc, fresh["id"], ("completed",))
    assert fresh["length_mm"] > same["length_mm"]  # "NEWER-7" is longer than "OLD-7"


async def test_stats_summary_counts_labels_and_tape(fast: Appliance, rpc: RpcClient) -> None:
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "stat"}, "copies": 3})
    await wait_job(rpc, job["id"], ("completed",))
    canceled = await rpc.call("print.submit", {"template": "text", "fields": {"text": "x"}, "hold": True})
    await rpc.call("job.cancel", {"job_id": canceled["id"]})
    stats = await rpc.call("stats.summary", {"days": 7})
    (day,) = stats["per_day"]
    assert day["jobs"] == {"completed": 1, "canceled": 1} and day["labels"] == 3
    (tape,) = stats["per_tape"]
    assert tape["media"] == "12mm" and tape["labels"] == 3
    assert tape["tape_mm"] == pytest.approx(job["length_mm"] * 3, abs=0.2)
    assert (tape["series"], tape["description"], stats["media_noun"]) == ("pt", "12mm tape", "tape")
    assert stats["mean_submit_to_printed_s"] is not None and stats["mean_submit_to_printed_s"] >= 0


async def test_a_ql_names_its_roll_and_its_die_cut_labels_in_the_status_line_and_stats(state_dir: Path) -> None:
    """systemd's STATUS line and stats.summary speak of a QL's roll, and of die-cut labels as labels of a size
    ("29×90 mm labels", not a "29x90 roll"); the stats keys scripts read (per_tape, tape_mm) stay."""
    settings = make_settings(state_dir, simulator={"model": "QL-820NWB", "tape": "29x90"})
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await app.printers[0].monitor.probe_now()
        assert "virtual: idle, 29×90 mm labels" in await app.status_text()
        labels = await rpc.call("print.submit", {"template": "text", "fields": {"text": "die-cut"}, "copies": 2})
        await wait_job(rpc, labels["id"], ("completed",))
        app.simulator.printer.update(tape="62mm")
        await app.printers[0].monitor.probe_now()
        assert "virtual: idle, 62mm roll" in await app.status_text()
        roll = await rpc.call("print.submit", {"template": "text", "fields": {"text": "continuous"}})
        await wait_job(rpc, roll["id"], ("completed",))
        stats = await rpc.call("stats.summary", {"days": 7})
        assert stats["media_noun"] == "roll"
        assert [(r["media"], r["labels"], r["series"], r["description"]) for r in stats["per_tape"]] == [
            ("29x90", 2, "ql", "29×90 mm labels"), ("62mm", 1, "ql", "62mm roll")]
        assert stats["per_tape"][0]["tape_mm"] == pytest.approx(labels["length_mm"] * 2, abs=0.2)
        assert stats["per_day"][0]["tape_mm"] == pytest.approx(labels["length_mm"] * 2 + roll["length_mm"], abs=0.2)


async def test_stats_of_pts_and_qls_keep_a_ql_roll_apart_from_a_pt_tape_of_its_width(tmp_path: Path) -> None:
    """12mm is a PT's tape and a QL's roll alike: two rows, each named; with both kinds configured the stats
    say "media". A reprint refused for other media names die-cut labels as labels."""
    settings = configured(tmp_path / "state", tmp_path,
                          printer_table("shelf", "PT-P750W", f"file://{tmp_path}/shelf.prn", "12mm"),
                          printer_table("narrow", "QL-820NWB", f"file://{tmp_path}/narrow.prn", "12mm"),
                          printer_table("cut", "QL-820NWB", f"file://{tmp_path}/cut.prn", "29x90"))
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        done = [await rpc.call("print.submit", {"template": "text", "fields": {"text": "x"}, "printer_id": name})
                for name in ("shelf", "narrow", "cut")]
        for job in done:
            await wait_job(rpc, job["id"], ("completed",))
        with pytest.raises(RpcError) as refused:
            await rpc.call("job.reprint", {"job_id": done[2]["id"], "printer_id": "narrow"})
        assert refused.value.message == (f"job {done[2]['id']} was drawn for 29×90 mm labels and narrow has 12mm "
                                         "roll: reprint it there with rerender=true")
        assert refused.value.data == {"field": "rerender", "reason": "another tape"}  # as scripts know it
        stats = await rpc.call("stats.summary", {"days": 7})
        assert stats["media_noun"] == "media"
        assert [(r["media"], r["labels"], r["series"], r["description"]) for r in stats["per_tape"]] == [
            ("12mm", 1, "pt", "12mm tape"), ("12mm", 1, "ql", "12mm roll"), ("29x90", 1, "ql", "29×90 mm labels")]
        assert all(set(r) >= {"media", "labels", "tape_mm"} for r in stats["per_tape"])


async def test_retention_prunes_rows_and_artifacts(fast: Appliance, rpc: RpcClient) -> None:
    ids = []
    for n in range(4):
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": f"r{n}"}})
        await wait_job(rpc, job["id"], ("completed",))
        ids.append(job["id"])
    pending = await rpc.call("print.submit", {"template": "text", "fields": {"text": "keep"}, "hold": True})
    pruned = await history.prune(fast.db, keep_days=365, keep_jobs=2, artifact_days=0)
    assert pruned["jobs"] == 3  # finished jobs beyond the newest two (the held one counts, and stays)
    listed = {j["id"] for j in (await rpc.call("job.list"))["jobs"]}
    assert pending["id"] in listed and ids[0] not in listed
    with pytest.raises(RpcError) as info:
        await rpc.call("job.reprint", {"job_id": ids[-1]})
    assert info.value.code == -32003 and info.value.data["field"] == "rerender"
    again = await rpc.call("job.reprint", {"job_id": ids[-1], "rerender": True})
    await wait_job(rpc, again["id"], ("completed",))


async def test_reprint_with_an_idempotency_key_prints_once_however_often_it_is_sent(
    fast: Appliance, rpc: RpcClient
) -> None:
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "again"}, "idempotency_key": "sub-1"})
    await wait_job(rpc, job["id"], ("completed",))
    asked = {"job_id": job["id"], "idempotency_key": "reprint-1"}
    answers = await asyncio.gather(*(rpc.call("job.reprint", asked) for _ in range(3)))  # a script retrying
    assert len({a["id"] for a in answers}) == 1 and sum(bool(a.get("duplicate")) for a in answers) == 2
    await wait_job(rpc, answers[0]["id"], ("completed",))
    later = await rpc.call("job.reprint", asked)
    assert later["id"] == answers[0]["id"] and later["duplicate"] is True
    submit_key = {"job_id": job["id"], "idempotency_key": "sub-1"}
    for different in ({**asked, "copies": 2}, {**asked, "rerender": True}, submit_key):
        with pytest.raises(RpcError) as refused:
            await rpc.call("job.reprint", different)
        assert refused.value.code == -32003 and refused.value.data["field"] == "idempotency_key"
    await asyncio.sleep(0.2)
    assert len(printed(fast)) == 2  # the original and one reprint
    assert (await rpc.call("job.list", {}))["jobs"][0]["id"] == answers[0]["id"]


async def test_submit_and_reprint_answer_with_the_labels_warnings(fast: Appliance, rpc: RpcClient) -> None:
    # a script learns at once that its label lost its QR code on this tape, not only from the timeline
    definition = {"layout": [{"type": "qr", "data": "{v}", "min_tape_mm": 18}, {"type": "text", "text": "{v}"}],
                  "fields": {"v": {}}}
    await rpc.call("template.put", {"name": "wide-qr", "definition": definition})
    params = {"template": "wide-qr", "fields": {"v": "A-1"}, "idempotency_key": "warn-1"}
    job = await rpc.call("print.submit", params)
    assert [w["code"] for w in job["warnings"]] == ["qr-omitted"], job
    again = await rpc.call("print.submit", params)  # the answer a retrying script gets is the same
    assert again["duplicate"] is True and again["warnings"] == job["warnings"]
    await wait_job(rpc, job["id"], ("completed",))
    copy = await rpc.call("job.reprint", {"job_id": job["id"]})
    fresh = await rpc.call("job.reprint", {"job_id": job["id"], "rerender": True})
    assert copy["warnings"] == fresh["warnings"] == job["warnings"]
    plain = await rpc.call("print.submit", {"template": "text", "fields": {"text": "fine"}})
    assert plain["warnings"] == []


async def _sent_pages(app: Appliance, job_id: int) -> list:  # type: ignore[type-arg]
    from appliance.printer.decode import decode_job

    row = await app.db.fetchone("SELECT raster FROM job_artifacts WHERE job_id = ?", (job_id,))
    return decode_job(row["raster"]).pages


async def test_cut_and_resolution_options_reach_the_printer_and_survive_a_reprint(
    fast: Appliance, rpc: RpcClient
) -> None:
    ask = {"template": "text", "fields": {"text": "bin 1"}, "copies": 2, "cut": "half", "idempotency_key": "cut-1"}
    halved = await rpc.call("print.submit", ask)
    assert halved["options"] == {"cut": "half"}
    with pytest.raises(RpcError) as changed:  # the same key with another cut is another request
        await rpc.call("print.submit", {**ask, "cut": "full"})
    assert changed.value.code == -32003 and changed.value.data["field"] == "idempotency_key"
    await wait_job(rpc, halved["id"], ("completed",))
    pages = await _sent_pages(fast, halved["id"])
    assert [(p.auto_cut, p.half_cut, p.chain) for p in pages] == [(True, True, False)] * 2
    sharp = await rpc.call("print.submit", {"template": "text", "fields": {"text": "fine"}, "high_res": True,
                                            "cut": "chain"})
    assert (await _sent_pages(fast, sharp["id"]))[0].high_res
    plain = await rpc.call("label.preview", {"template": "text", "fields": {"text": "fine"}})
    double = await rpc.call("label.preview", {"template": "text", "fields": {"text": "fine"}, "high_res": True})
    assert double["dpi"]["feed"] == 2 * plain["dpi"]["feed"]
    more = await rpc.call("job.reprint", {"job_id": halved["id"], "copies": 3})  # re-encoded: still half-cut
    assert more["options"] == {"cut": "half"}
    assert [p.half_cut for p in await _sent_pages(fast, more["id"])] == [True] * 3
    again = await rpc.call("job.reprint", {"job_id": sharp["id"], "rerender": True})
    assert (await _sent_pages(fast, again["id"]))[0].high_res and again["options"] == sharp["options"]


async def test_an_option_the_printer_lacks_is_refused_by_name(state_dir: Path) -> None:
    # a bad parameter for this printer (-32602, as an unknown cut is), not "not allowed in the current state"
    settings = make_settings(state_dir, simulator={"model": "QL-820NWB", "tape": "62mm"})
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        with pytest.raises(RpcError) as refused:
            await rpc.call("print.submit", {"template": "text", "fields": {"text": "x"}, "cut": "half"})
        assert refused.value.code == -32602 and refused.value.data["field"] == "cut"
        assert refused.value.data["reason"] == "QL-820NWB has no half-cutter; its cuts are full, chain or none"
        with pytest.raises(RpcError) as unknown:
            await rpc.call("print.submit", {"template": "text", "fields": {"text": "x"}, "cut": "zigzag"})
        assert unknown.value.code == -32602 and unknown.value.data["field"] == "cut"
        assert (await rpc.call("queue.status"))["totals"].get("pending", 0) == 0  # nothing half-made


async def test_options_a_pt_p700_lacks_are_bad_params_naming_each_option(state_dir: Path) -> None:
    settings = make_settings(state_dir, simulator={"model": "PT-P700", "tape": "12mm"})
    text = {"template": "text", "fields": {"text": "x"}}
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        for method, option, field, words in [
            ("print.submit", {"cut": "half"}, "cut", "its cuts are full, chain or none"),
            ("print.submit", {"cut_every": 3}, "cut_every", "leave cut_every at 1"),
            ("print.submit", {"high_res": True}, "high_res", "leave high_res off"),
            ("label.preview", {"high_res": True}, "high_res", "leave high_res off"),
        ]:
            with pytest.raises(RpcError) as refused:
                await rpc.call(method, {**text, **option})
            assert (refused.value.code, refused.value.data["field"]) == (-32602, field), (method, refused.value)
            assert "PT-P700" in refused.value.data["reason"] and words in refused.value.data["reason"]
        assert (await rpc.call("print.submit", {**text, "cut": "chain"}))["options"] == {"cut": "chain"}


def test_stored_options_this_version_does_not_know_are_left_at_their_default() -> None:
    # a row written by a newer version (then rolled back) or edited by hand must not fail a reprint
    from appliance.queue.render import PrintOptions

    assert PrintOptions.stored('{"cut": "half", "margin_mm": 2}') == PrintOptions(cut="half")
    assert PrintOptions.stored('{"cut": "zigzag", "cut_every": 500, "high_res": "yes"}') == PrintOptions()
    assert PrintOptions.stored("[1, 2]") == PrintOptions() == PrintOptions.stored(None)


async def test_a_full_disk_is_said_in_words_and_stores_nothing(fast: Appliance, rpc: RpcClient) -> None:
    conn = fast.db.conn
    (pages,) = await (await conn.execute("PRAGMA page_count")).fetchone()  # type: ignore[misc]
    await conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL, as on a full SD card
    try:
        with pytest.raises(RpcError) as full:
            await rpc.call("print.submit", {"template": "text", "fields": {"text": "no room " * 20}})
        assert full.value.code == -32003 and full.value.data["reason"] == "storage-full", full.value
        assert "storage is full" in full.value.message
    finally:
        await conn.execute("PRAGMA max_page_count = 1073741823")
    assert (await rpc.call("job.list", {}))["jobs"] == []  # no half-written job
    job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "room again"}})
    await wait_job(rpc, job["id"], ("completed",))


async def test_a_rerender_after_the_template_lost_a_field_names_the_reprint_not_the_field(
    fast: Appliance, rpc: RpcClient
) -> None:
    layout = [{"type": "text", "text": "{text}"}]
    await rpc.call("template.put", {"name": "rr", "definition": {
        "layout": layout, "fields": {"text": {}, "n": {"type": "integer", "default": 3}}}})
    job = await rpc.call("print.submit", {"template": "rr", "fields": {"text": "hi"}})  # stores n = 3 too
    await rpc.call("template.put", {"name": "rr", "definition": {"layout": layout, "fields": {"text": {}}}})
    with pytest.raises(RpcError) as refused:
        await rpc.call("job.reprint", {"job_id": job["id"], "rerender": True})
    assert refused.value.code == -32003 and refused.value.data["field"] == "rerender", refused.value
    assert "fields.n" in refused.value.message  # not -32602 on a param job.reprint does not have
    await wait_job(rpc, job["id"], ("completed",))
    copy = await rpc.call("job.reprint", {"job_id": job["id"]})  # byte for byte still works
    await wait_job(rpc, copy["id"], ("completed",))


async def test_a_stored_label_that_no_longer_fits_its_labels_is_refused_in_mm_not_as_an_internal_error(
    state_dir: Path
) -> None:
    """job.reprint byte for byte with another number of copies encodes the stored label image again. A
    die-cut label drawn by a version that knew 29x90 labels a dot shorter (here: its stored page made so
    in the real SQLite file) no longer fits: the encoder's words reach the caller, in mm (dots in
    parentheses), with the way out; it was an internal error (-32603) that said nothing."""
    import io

    from PIL import Image

    settings = make_settings(state_dir, simulator={"model": "QL-820NWB", "tape": "29x90"})
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        job = await rpc.call("print.submit", {"template": "text", "fields": {"text": "die-cut"}})
        await wait_job(rpc, job["id"], ("completed",))
        older = io.BytesIO()
        Image.new("1", (990, 306), 1).save(older, format="PNG")
        async with app.db.transaction() as conn:
            await conn.execute("UPDATE job_artifacts SET preview = ? WHERE job_id = ?", (older.getvalue(), job["id"]))
        with pytest.raises(RpcError) as refused:
            await rpc.call("job.reprint", {"job_id": job["id"], "copies": 2})
        assert refused.value.code == -32003 and refused.value.data["field"] == "rerender", refused.value
        assert refused.value.message == (
            f"job {job['id']}'s stored label cannot be sent again as 2 copies on virtual: label 1: the image is "
            "83.8 mm (990 dots) long; die-cut 29x90 labels print exactly 83.9 mm (991 dots at 300 dpi); reprint it "
            "with rerender=true")
        again = await rpc.call("job.reprint", {"job_id": job["id"], "copies": 2, "rerender": True})
        await wait_job(rpc, again["id"], ("completed",))


async def test_a_label_that_does_not_suit_a_ql_speaks_of_its_roll(state_dir: Path) -> None:
    """The label layer's refusals and warnings name the media as the printer takes it: a QL's roll."""
    settings = make_settings(state_dir, simulator={"model": "QL-820NWB", "tape": "62mm"})
    async with running(settings) as app, RpcClient(socket_path=str(app.settings.socket_path)) as rpc:
        await rpc.call("template.put", {"name": "narrow", "definition": {
            "tapes": [12], "layout": [{"type": "text", "text": "{text}"}], "fields": {"text": {}}}})
        with pytest.raises(RpcError) as refused:
            await rpc.call("label.preview", {"template": "narrow", "fields": {"text": "x"}})
        assert refused.value.code == -32003, refused.value
        assert refused.value.data["reason"] == "template 'narrow' needs 12 mm roll; the loaded roll is 62 mm"
