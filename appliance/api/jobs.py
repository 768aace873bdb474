"""print.submit and the job.* methods, queue.status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rpc.dispatcher import CallContext

from ..queue.render import PrintOptions
from ..store import jobs as job_store

if TYPE_CHECKING:
    from ..app import Appliance
    from ..printer.raster import Cut


def handlers(appliance: Appliance) -> dict[str, Any]:
    queue = appliance.queue

    async def print_submit(ctx: CallContext, template: str, fields: dict[str, Any] | None = None, copies: int = 1,
                           printer_id: str | None = None, hold: bool = False, idempotency_key: str | None = None,
                           cut: Cut = "full", cut_every: int = 1, high_res: bool = False) -> dict[str, Any]:
        appliance.check_accepting()
        return await queue.submit(template, fields, copies, printer_id, hold, idempotency_key,
                                  PrintOptions(cut=cut, cut_every=cut_every, high_res=high_res))

    async def job_list(ctx: CallContext, state: str | None = None, printer_id: str | None = None,
                       since: str | None = None, limit: int = 50, cursor: str | None = None,
                       batch_id: int | None = None) -> dict[str, Any]:
        return await queue.listing(state, printer_id, since, limit, cursor, batch_id)

    async def job_get(ctx: CallContext, job_id: int) -> dict[str, Any]:
        return await queue.job(job_id)

    async def job_timeline(ctx: CallContext, job_id: int) -> list[dict[str, Any]]:
        await queue.job_row(job_id)
        return await job_store.timeline(appliance.db, job_id)

    async def job_cancel(ctx: CallContext, job_id: int) -> dict[str, Any]:
        return await queue.cancel(job_id)

    async def job_hold(ctx: CallContext, job_id: int) -> dict[str, Any]:
        return await queue.hold(job_id)

    async def job_release(ctx: CallContext, job_id: int) -> dict[str, Any]:
        return await queue.release(job_id)

    async def job_reprint(ctx: CallContext, job_id: int, rerender: bool = False, copies: int | None = None,
                          idempotency_key: str | None = None, printer_id: str | None = None) -> dict[str, Any]:
        appliance.check_accepting()
        return await queue.reprint(job_id, rerender, copies, idempotency_key, printer_id)

    async def job_move(ctx: CallContext, job_id: int, printer_id: str) -> dict[str, Any]:
        appliance.check_accepting()
        return await queue.move(job_id, printer_id)

    async def queue_status(ctx: CallContext) -> dict[str, Any]:
        return await queue.status()

    return {"print.submit": print_submit, "job.list": job_list, "job.get": job_get, "job.timeline": job_timeline,
            "job.cancel": job_cancel, "job.hold": job_hold, "job.release": job_release, "job.reprint": job_reprint,
            "job.move": job_move,
            "queue.status": queue_status}
