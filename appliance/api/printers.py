"""printer.list, printer.status, printer.probe, printer.pause, printer.resume."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rpc.dispatcher import CallContext

if TYPE_CHECKING:
    from ..app import Appliance


def handlers(appliance: Appliance) -> dict[str, Any]:
    def status_of(printer_id: str | None) -> dict[str, Any]:
        return appliance.queue.printer(printer_id).status_wire()

    async def printer_list(ctx: CallContext) -> list[dict[str, Any]]:
        return [p.to_wire() for p in appliance.queue.printers.values()]

    async def printer_status(ctx: CallContext, printer_id: str | None = None) -> dict[str, Any]:
        return status_of(printer_id)  # from the cache: never waits for the printer

    async def printer_probe(ctx: CallContext, printer_id: str | None = None) -> dict[str, Any]:
        runtime = appliance.queue.printer(printer_id)
        started = time.perf_counter()
        await runtime.monitor.probe_now()
        answer = status_of(runtime.id)
        answer["probe_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return answer

    async def printer_pause(ctx: CallContext, printer_id: str | None = None) -> dict[str, Any]:
        return await appliance.queue.set_paused(printer_id, True)

    async def printer_resume(ctx: CallContext, printer_id: str | None = None) -> dict[str, Any]:
        result = await appliance.queue.set_paused(printer_id, False)
        await appliance.leave_safe_mode()
        return result

    return {"printer.list": printer_list, "printer.status": printer_status, "printer.probe": printer_probe,
            "printer.pause": printer_pause, "printer.resume": printer_resume}
