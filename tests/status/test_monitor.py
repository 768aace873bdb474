"""The status monitor and printer.status against the virtual printer's SNMP agent over real UDP."""

from __future__ import annotations

import asyncio
import time

from appliance.app import Appliance
from rpc.client import RpcClient


async def test_printer_status_answers_from_cache_while_snmp_is_silent(fast: Appliance, rpc: RpcClient) -> None:
    await fast.printers[0].monitor.probe_now()  # something in the cache
    fast.simulator.printer.update(snmp_silent=True)
    probe = asyncio.ensure_future(rpc.call("printer.probe"))  # this one waits for the SNMP timeout
    await asyncio.sleep(0.05)
    handler_ms = []
    for _ in range(50):
        started = time.perf_counter()
        status = await rpc.call("printer.status")
        handler_ms.append((time.perf_counter() - started) * 1000)
    assert status["age_s"] is not None
    assert not probe.done()  # printer.status never waited for the printer
    handler_ms.sort()
    # round trip over the unix socket including HTTP; the server-side time is a fraction of this
    print(f"printer.status while SNMP is silent: median {handler_ms[25]:.2f} ms, max {handler_ms[-1]:.2f} ms")
    assert handler_ms[25] < 250  # generous: it must not be the 0.5–1 s of a probe timeout
    answer = await probe
    assert answer["consecutive_failures"] >= 1 and "no SNMP answer" in answer["last_error"]


async def test_status_row_untouched_across_many_unchanged_probes(fast: Appliance) -> None:
    monitor = fast.printers[0].monitor
    await monitor.probe_now()
    await asyncio.sleep(0.1)
    before = fast.db.transactions
    row = await fast.db.fetchone("SELECT changed_at FROM printer_status")
    for _ in range(30):
        await monitor.probe_now()
    await asyncio.sleep(0.1)
    assert fast.db.transactions == before
    assert await fast.db.fetchone("SELECT changed_at FROM printer_status") == row
    fast.simulator.printer.update(cover_open=True)
    await monitor.probe_now()
    await asyncio.sleep(0.1)
    stored = await fast.db.fetchone("SELECT state, reasons FROM printer_status")
    assert stored["state"] == "stopped" and "cover-open" in stored["reasons"]
    assert fast.db.transactions == before + 1


async def test_states_seen_over_snmp(fast: Appliance, rpc: RpcClient) -> None:
    sim = fast.simulator.printer
    monitor = fast.printers[0].monitor

    async def status() -> dict:  # type: ignore[type-arg]
        await monitor.probe_now()
        return await rpc.call("printer.status")

    ready = await status()
    assert ready["state"] == "idle" and ready["media"]["id"] == "12mm" and ready["source"] == "snmp"
    sim.update(cover_open=True)
    opened = await status()
    assert opened["state"] == "stopped" and opened["reasons"] == ["cover-open"]
    assert opened["descriptions"] == ["Cover open — close it to continue"]
    assert opened["media"]["id"] == "12mm" and opened["media"]["source"] == "last-known"
    sim.update(cover_open=False, tape=None)
    empty = await status()
    assert empty["reasons"] == ["media-needed"] and empty["media"] is None
    sim.update(tape="24mm")
    assert (await status())["media"]["width_mm"] == 24
    sim.update(snmp_silent=True)
    for _ in range(monitor.offline_after):
        await monitor.probe_now()
    offline = await rpc.call("printer.status")
    assert offline["state"] == "offline" and offline["media"]["id"] == "24mm"
    sim.update(snmp_silent=False)
    back = await status()
    assert back["state"] == "idle" and back["consecutive_failures"] == 0


async def test_status_changes_are_published_as_events(fast: Appliance) -> None:
    sub = fast.events.subscribe(["printers"])
    try:
        fast.simulator.printer.update(cover_open=True)
        await fast.printers[0].monitor.probe_now()
        event = await asyncio.wait_for(sub.get(), 2)
        assert event.name == "notify_printer_status" and event.payload["reasons"] == ["cover-open"]
    finally:
        sub.close()


async def test_a_status_change_while_stopping_writes_nothing(state_dir) -> None:  # type: ignore[no-untyped-def]
    """A probe that lands while the appliance is stopping (database still open, about to close)
    must not queue a status write that would run against a closed database."""
    from dataclasses import replace

    from tests.support import make_settings, running

    async with running(make_settings(state_dir)) as app:
        monitor = app.printers[0].monitor
        await monitor.probe_now()
        changed = monitor.on_change
        assert changed is not None and app.db.is_open
        await asyncio.gather(*app._tasks - {t for t in app._tasks if t.get_name() == "housekeeping"})
        before = set(app._tasks)
        app.stopping = True  # the window between STOPPING and the database closing
        try:
            changed(replace(monitor.snapshot, state="stopped", reasons=("cover-open",)))
            assert set(app._tasks) == before
        finally:
            app.stopping = False  # let the fixture's stop() run in full


async def test_an_unplugged_printer_is_called_offline_within_seconds_not_intervals(state_dir) -> None:  # type: ignore[no-untyped-def]
    from tests.support import make_settings, running

    settings = make_settings(state_dir, simulator={"poll_interval_s": 30.0})
    async with running(settings) as app:
        monitor = app.printers[0].monitor
        await monitor.probe_now()
        assert monitor.snapshot.state == "idle"
        app.simulator.printer.update(snmp_silent=True, offline=True)  # unplugged
        silent_at = time.monotonic()
        monitor._wake.set()  # the next poll comes due now (instead of waiting up to 30 s in the test)
        while monitor.snapshot.state != "offline":
            assert time.monotonic() - silent_at < 8.0, monitor.snapshot  # 3 intervals would be 60 s
            await asyncio.sleep(0.05)
        took = time.monotonic() - silent_at
        print(f"offline after {took:.1f} s (3 failed probes of 1 s each, 1 s apart)")
        app.simulator.printer.update(snmp_silent=False, offline=False)
        assert monitor.next_wait == 30.0  # offline: back to the usual pace, no hammering


async def test_a_port_check_does_not_clear_a_refusal_noted_while_it_ran(fast: Appliance) -> None:
    monitor = fast.printers[0].monitor
    await monitor.stop()  # its own loop's probes would check the port again after this one
    port_check = monitor.reachable
    assert port_check is not None
    entered, gate = asyncio.Event(), asyncio.Event()

    async def gated() -> bool:  # the real port check, held open until the test lets it go
        entered.set()
        await gate.wait()
        return await port_check()

    monitor.reachable = gated
    monitor.note_refused("refused before a cancel")  # no job tries the port now: an idle probe looks at it
    probe = asyncio.ensure_future(monitor.probe_now())
    await asyncio.wait_for(entered.wait(), 5)
    monitor.note_refused("refused again")  # a new job tried meanwhile and was refused
    gate.set()
    await probe
    # the port took the check's connection, but a job was refused after the check began: still said
    assert monitor.refused == "refused again" and "jobs-refused" in monitor.snapshot.reasons
    monitor.reachable = port_check
    await monitor.probe_now()  # a check with no refusal during it clears it
    assert monitor.refused is None and "jobs-refused" not in monitor.snapshot.reasons
