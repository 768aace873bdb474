"""printer.list, printer.status, printer.probe, printer.pause, printer.resume; printer.discover, printer.add,
printer.update, printer.remove (appliance/discovery, appliance/queue/roster.py)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from rpc.dispatcher import CallContext
from rpc.errors import InvalidParams
from rpc.wirejson import dumps

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

    async def printer_discover(ctx: CallContext, network: str | None = None, snmp_port: int = 161,
                               community: str = "public", timeout_s: float = 3.0) -> dict[str, Any]:
        from ..discovery import networks, run
        from ..discovery.candidate import Known

        session = ctx.session if ctx.transport == "ws" else None
        sending: set[asyncio.Task[Any]] = set()

        def publish(candidate: dict[str, Any]) -> None:
            if session is None:
                return
            text = dumps({"jsonrpc": "2.0", "method": "notify_discovery", "params": candidate})
            task = asyncio.get_running_loop().create_task(session.send(text))
            sending.add(task)
            task.add_done_callback(sending.discard)

        known = [Known(p.name, p.uri, _serial(p)) for p in appliance.queue.printers.values() if not p.virtual]
        try:
            answer = await run.discover(network=network, snmp_port=snmp_port, community=community,
                                        timeout_s=timeout_s, known=known,
                                        taken=[p.name for p in appliance.queue.printers.values()], publish=publish)
        except networks.NetworkError as exc:
            raise InvalidParams("network", str(exc)) from None
        if sending:  # every notification goes out before the answer
            await asyncio.gather(*sending, return_exceptions=True)
        return answer

    async def printer_add(ctx: CallContext, name: str, uri: str, model: str | None = None, media: str | None = None,
                          snmp: dict[str, Any] | None = None) -> dict[str, Any]:
        appliance.check_accepting()
        return await appliance.roster.add(name, uri, model, media, snmp)

    async def printer_update(ctx: CallContext, printer_id: str, name: str | None = None, uri: str | None = None,
                             media: str | None = None, snmp: dict[str, Any] | None = None) -> dict[str, Any]:
        appliance.check_accepting()
        return await appliance.roster.update(printer_id, name, uri, media, snmp)

    async def printer_remove(ctx: CallContext, printer_id: str) -> dict[str, Any]:
        appliance.check_accepting()
        return await appliance.roster.remove(printer_id)

    return {"printer.list": printer_list, "printer.status": printer_status, "printer.probe": printer_probe,
            "printer.pause": printer_pause, "printer.resume": printer_resume, "printer.discover": printer_discover,
            "printer.add": printer_add, "printer.update": printer_update, "printer.remove": printer_remove}


def _serial(runtime: Any) -> str | None:
    serial = runtime.monitor.snapshot.info.get("serial")
    return serial if isinstance(serial, str) and serial else None
