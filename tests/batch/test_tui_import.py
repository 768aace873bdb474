"""Import CSV on the Print screen and the batch as one group on the Jobs screen, driven by Pilot against the
real server and its virtual printer."""

from __future__ import annotations

from pathlib import Path

from appliance.app import Appliance
from tests.fast_fixtures import printed
from tests.tui.helpers import SIZE, make_app, notifications, print_form, table_rows, text_of, until
from tui.widgets import LabelPreview


def sheet(path: Path, texts: list[str]) -> Path:
    path.write_bytes(b"\xef\xbb\xbf" + ("Text;Line2;Kommentar\n" + "".join(f"{t};Zeile {i};x\n" for i, t in
                                                                          enumerate(texts, 1))).encode())
    return path


async def open_import(pilot, path: Path) -> None:  # type: ignore[no-untyped-def]
    await print_form(pilot)
    await pilot.press("ctrl+o")
    await until(pilot, lambda: pilot.app.screen.query_one("#csv-path"), what="the path dialog")
    pilot.app.screen.query_one("#csv-path").value = str(path)
    await pilot.press("enter")
    await until(pilot, lambda: pilot.app.screen.query_one("#csv-rows").row_count > 0, what="the rows")


async def test_import_shows_rows_with_their_errors_and_prints_nothing_while_any_is_bad(
        fast: Appliance, tmp_path: Path) -> None:
    app = make_app(fast)
    csv = sheet(tmp_path / "bins.csv", ["Fach 1", "", "Fach 3"])  # row 2: the required text is missing
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot, csv)
        await until(pilot, lambda: "cannot be printed" in text_of(app, "#csv-info"), what="checked")
        rows = table_rows(app, "#csv-rows")
        assert [r[0] for r in rows] == ["1", "2", "3"] and [r[1] for r in rows] == ["2", "3", "4"]
        assert rows[0][-1] == "✓ ok" and rows[1][-1].startswith("✗ fields.text: required")
        assert "ignored columns: Kommentar" in text_of(app, "#csv-info")
        await pilot.press("down")  # the bad row: its error where the preview goes
        await until(pilot, lambda: "Row 2" in str(app.screen.query_one("#preview", LabelPreview).render()),
                    what="the bad row's error in the preview")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
    assert printed(fast) == []
    assert (await _jobs(fast)) == 0


async def test_import_previews_the_selected_row_and_prints_all_as_one_group(fast: Appliance, tmp_path: Path) -> None:
    app = make_app(fast)
    texts = [f"Fach {n}" for n in range(1, 7)]
    csv = sheet(tmp_path / "bins.csv", texts)
    async with app.run_test(size=SIZE) as pilot:
        await open_import(pilot, csv)
        await until(pilot, lambda: "all 6 rows can print" in text_of(app, "#csv-info"), what="checked")
        preview = app.screen.query_one("#preview", LabelPreview)
        await until(pilot, lambda: preview.bitmap is not None, what="the first row's preview")
        first = preview.bitmap
        await pilot.press("down", "down")
        await until(pilot, lambda: preview.bitmap is not None and preview.bitmap != first, what="row 3's preview")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "6 of 6 labels printed" in text_of(app, "#csv-progress"), timeout=20,
                    what="the batch printed")
        assert any("6 labels queued" in n for n in notifications(app))
        await pilot.press("escape", "escape", "j")
        await until(pilot, lambda: any(r[0].startswith("batch #") for r in table_rows(app, "#jobs")),
                    what="the batch as one row on the Jobs screen")
        rows = table_rows(app, "#jobs")
        assert len(rows) == 1, rows  # one group, not six jobs
        assert "6/6 printed" in rows[0][1], rows
        await pilot.press("enter")  # into the group: its jobs
        await until(pilot, lambda: len(table_rows(app, "#jobs")) == 6, what="the batch's jobs")
        assert "batch #" in text_of(app, "#page-info")
    assert len(printed(fast)) == 6


async def _jobs(app: Appliance) -> int:
    import sqlite3

    with sqlite3.connect(app.settings.db_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
