"""The TUI's pure parts: PNG decoding and half blocks, connection target resolution, the Store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tui import pixels
from tui.config import resolve
from tui.model import Store


def png(image: Image.Image, **kw: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **kw)
    return out.getvalue()


def drawing(mode: str, fill: object, paper: object) -> Image.Image:
    image = Image.new(mode, (37, 13), paper)
    draw = ImageDraw.Draw(image)
    draw.rectangle((3, 2, 20, 9), fill=fill)
    draw.line((0, 12, 36, 0), fill=fill)
    return image


@pytest.mark.parametrize(("mode", "ink", "paper"), [("1", 0, 1), ("L", 0, 255), ("RGB", (0, 0, 0), (255, 255, 255)),
                                                    ("P", 0, 255), ("RGBA", (0, 0, 0, 255), (255, 255, 255, 255)),
                                                    ("LA", (0, 255), (255, 255))])
def test_png_decoder_matches_pillow(mode: str, ink: object, paper: object) -> None:
    image = drawing(mode, ink, paper)
    if mode == "P":
        image = drawing("L", 0, 255).convert("P")
    data = png(image, optimize=True)
    bitmap = pixels.decode_png(data)
    expected = bytes(1 if v < 128 else 0 for v in Image.open(io.BytesIO(data)).convert("L").tobytes())
    assert (bitmap.width, bitmap.height) == (37, 13)
    assert bitmap.ink == expected


def test_interlaced_falls_back_to_pillow() -> None:
    data = png(drawing("L", 0, 255), interlace=1)
    assert pixels.decode_png(data).ink == pixels.decode_png(png(drawing("L", 0, 255))).ink


def test_half_blocks_keep_aspect_ratio() -> None:
    # 25.4 mm × 12.7 mm label at 180 dpi both ways: 2:1, so 40 columns → 20 pixel rows → 10 text rows
    assert pixels.fit(180, 90, 180, 180, 40, 20) == (40, 20)
    # a high-resolution feed (360 dpi along the tape) halves the physical length
    assert pixels.fit(360, 90, 360, 180, 40, 20) == (40, 20)
    # too tall for the rows given: the width shrinks instead
    assert pixels.fit(90, 90, 180, 180, 40, 5) == (10, 10)
    image = Image.new("1", (4, 4), 1)
    image.putpixel((0, 0), 0)
    image.putpixel((3, 1), 0)
    image.putpixel((1, 2), 0)
    image.putpixel((1, 3), 0)
    lines = pixels.halfblocks(pixels.downscale(pixels.decode_png(png(image)), 4, 4, threshold=0.5))
    assert lines == ["▀  ▄", " █  "]


def test_target_resolution(tmp_path: Path) -> None:
    config = tmp_path / "client.toml"
    config.write_text('url = "http://box:8631"\ntoken = "from-file"\n')
    sock = tmp_path / "rpc.sock"
    assert resolve("http://x", None, "t", env={}, config_file=config).token == "t"
    assert resolve(None, str(sock), None, env={}, config_file=config).url == "http://box:8631"  # socket absent
    assert resolve(None, None, None, env={}, config_file=config).token == "from-file"
    env = {"APPLIANCE_URL": "http://env:1", "APPLIANCE_TOKEN": "env-token"}
    target = resolve(None, None, None, env=env, config_file=config)
    assert (target.url, target.token) == ("http://env:1", "env-token")
    sock.touch()
    assert resolve(None, str(sock), None, env=env, config_file=config).socket_path == str(sock)


def test_store_applies_notifications_over_the_snapshot() -> None:
    store = Store()
    store.apply_snapshot({"printers": [{"printer_id": "p", "name": "virtual", "state": "idle", "age_s": 1.0}],
                          "jobs": [{"id": 2, "state": "pending"}, {"id": 1, "state": "completed"}],
                          "queue": {"totals": {"pending": 1}}}, 1)
    assert store.apply("notify_job_updated", {"id": 2, "state": "completed"}) == "jobs"
    assert store.apply("notify_job_updated", {"id": 3, "state": "pending"}) == "jobs"
    assert [j["id"] for j in store.recent_jobs()] == [3, 2, 1]
    assert store.jobs[2]["state"] == "completed"
    assert store.apply("notify_printer_status", {"printer_id": "p", "state": "stopped", "age_s": 0}) == "printers"
    assert store.printers["p"]["state"] == "stopped"
    assert store.apply("notify_resync", {"dropped": 3}) is None


def test_an_older_job_state_does_not_overwrite_a_newer_one() -> None:
    # a job action's answer (pending) arriving after the worker's notification (processing)
    store = Store()
    store.apply_snapshot({"jobs": []}, 1)
    store.apply("notify_job_updated", {"id": 10, "state": "processing", "updated_at": "2026-12-04T16:00:00.120Z"})
    assert store.apply("notify_job_updated", {"id": 10, "state": "pending",
                                              "updated_at": "2026-12-04T16:00:00.118Z"}) is None
    assert store.jobs[10]["state"] == "processing"
    store.apply("notify_job_updated", {"id": 10, "state": "completed", "updated_at": "2026-12-04T16:00:01.002Z"})
    assert store.jobs[10]["state"] == "completed"


def test_within_one_millisecond_a_job_only_moves_forward() -> None:
    store = Store()
    store.apply_snapshot({"jobs": []}, 1)
    at = "2026-12-04T16:00:00.120Z"
    store.apply("notify_job_updated", {"id": 11, "state": "processing", "updated_at": at})
    assert store.apply("notify_job_updated", {"id": 11, "state": "pending", "updated_at": at}) is None
    assert store.jobs[11]["state"] == "processing"


def test_a_pause_or_resume_shows_on_the_printer_at_once() -> None:
    # the server says it in its queue notification; the printer's status came every 20 s (stale marker)
    store = Store()
    store.apply_snapshot({"printers": [{"printer_id": "a", "name": "shelf", "paused": False, "state": "idle"},
                                       {"printer_id": "b", "name": "ship", "paused": True, "state": "idle"}]})
    queue = {"printers": [{"printer_id": "a", "paused": True}, {"printer_id": "b", "paused": False},
                          {"printer_id": "gone", "paused": True}], "totals": {}}
    assert store.apply("notify_queue_changed", queue) == "queue"
    assert store.printers["a"]["paused"] is True and store.printers["b"]["paused"] is False
    assert store.printers["a"]["state"] == "idle" and "gone" not in store.printers


def test_a_waiting_job_says_why_from_the_live_printer_and_drops_what_job_get_said_once_it_changes() -> None:
    store = Store()
    store.apply_snapshot({"printers": [{"printer_id": "a", "name": "shelf", "paused": True, "state": "idle",
                                        "reasons": [], "descriptions": []}]})
    said = {"reason": "printer-paused", "description": "printer shelf's queue is paused", "ahead": 0}
    job = {"id": 1, "state": "pending", "printer_id": "a", "reasons": [], "updated_at": "2026-12-05T08:00:00.000Z",
           "waiting": said, "position": 1}
    store.apply("notify_job_updated", job)
    assert "paused: P on the Dashboard" in (store.waiting(store.jobs[1]) or "")
    # resumed: the job.get answer's "paused" is stale, and the printer is fine: nothing holds it
    store.apply("notify_queue_changed", {"printers": [{"printer_id": "a", "paused": False}]})
    assert store.waiting(store.jobs[1]) is None
    # the printer goes offline: its own words
    store.apply("notify_printer_status", {"printer_id": "a", "name": "shelf", "paused": False, "state": "offline",
                                          "reasons": ["printer-offline"],
                                          "descriptions": ["Printer not reachable — check power and connection"]})
    assert store.waiting(store.jobs[1]) == "Printer not reachable — check power and connection"
    # a newer notification (no derived keys) drops what job.get worked out from the older job
    store.apply("notify_job_updated", {**{k: v for k, v in job.items() if k not in ("waiting", "position")},
                                       "state": "processing", "updated_at": "2026-12-05T08:00:01.000Z"})
    assert "waiting" not in store.jobs[1] and "position" not in store.jobs[1]
    assert store.waiting(store.jobs[1]) is None  # not pending
    # the same job read again (same updated_at) keeps what it was told
    store.apply("notify_job_updated", {"id": 2, "state": "pending", "printer_id": "a", "reasons": [],
                                       "updated_at": "2026-12-05T08:00:02.000Z", "position": 2})
    store.apply("notify_job_updated", {"id": 2, "state": "pending", "updated_at": "2026-12-05T08:00:02.000Z"})
    assert store.jobs[2]["position"] == 2


def test_a_status_is_asked_for_again_after_its_probe_interval_and_not_every_tick(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tui.model

    clock = [100.0]
    monkeypatch.setattr(tui.model.time, "monotonic", lambda: clock[0])
    store = Store()
    store.apply("notify_printer_status", {"printer_id": "p", "age_s": 0.0, "probe_interval_s": 10.0})
    store.apply("notify_printer_status", {"printer_id": "usb", "age_s": 0.0, "probe_interval_s": None})
    clock[0] += 11.0
    assert not store.status_due("p")  # within the interval and its slack: the next probe may be under way
    clock[0] += 1.5
    assert store.status_due("p") and not store.status_due("usb")  # a printer never probed is never due
    # asked, and the answer is as old (the printer stopped answering): not asked again on the next tick
    store.apply("notify_printer_status", {"printer_id": "p", "age_s": 12.5, "probe_interval_s": 10.0})
    clock[0] += 1.0
    assert not store.status_due("p")
    clock[0] += 9.0
    assert store.status_due("p")
    store.apply("notify_printer_status", {"printer_id": "old", "age_s": 0.0})  # a server that does not say
    clock[0] += 13.0
    assert store.status_due("old")  # its default interval, 10 s


def test_a_waiting_job_says_what_its_printer_says_now_before_what_job_get_said() -> None:
    store = Store()
    store.apply_snapshot({"printers": [{"printer_id": "a", "name": "shelf", "paused": False, "state": "idle",
                                        "reasons": [], "descriptions": []}]})
    said = {"reason": "queued", "description": "behind job 4, which is printing", "ahead": 1, "behind_job_id": 4}
    store.apply("notify_job_updated", {"id": 5, "state": "pending", "printer_id": "a", "reasons": [],
                                       "updated_at": "2026-12-05T08:00:00.000Z", "waiting": said})
    assert store.waiting(store.jobs[5]) == "behind job 4, which is printing"
    for state, reasons, words in (("offline", ["printer-offline"], "Printer not reachable"),
                                  ("idle", ["jobs-refused"], "The printer refuses print jobs")):
        store.apply("notify_printer_status", {"printer_id": "a", "name": "shelf", "paused": False, "state": state,
                                              "reasons": reasons, "descriptions": [words]})
        assert store.waiting(store.jobs[5]) == words  # the job itself did not change meanwhile


def test_the_media_is_shown_in_the_servers_words_and_an_older_servers_bare_id() -> None:
    """The dashboard and the print screen show printer.status's media_noun and media_description, a job's
    details its media_description; from a server before them the media id, or "-": no words of the TUI's own."""
    from tui import fmt

    status = {"media": {"id": "29x90", "width_mm": 29, "length_mm": 90, "kind": "die-cut"}, "media_noun": "roll",
              "media_description": "29 × 90 mm die-cut labels, white"}
    assert fmt.loaded_media(status) == ("roll", "29 × 90 mm die-cut labels, white")
    older = {k: v for k, v in status.items() if k == "media"}
    assert fmt.loaded_media(older) == ("media", "29x90")
    assert fmt.loaded_media({"media": None}) == fmt.loaded_media({}) == ("media", "-")
    assert fmt.loaded_media({"media": "12mm"}) == ("media", "12mm")  # a printer.list row: the id
    assert fmt.job_media({"media": "29x90", "media_description": "29×90 mm labels"}) == "29×90 mm labels"
    assert fmt.job_media({"media": "29x90"}) == "29x90"
    assert fmt.job_media({}) == "-"
    assert not hasattr(fmt, "tape") and not hasattr(fmt, "media_words") and not hasattr(fmt, "media_noun")
