"""print.batch, batch.get and batch.cancel: many labels from one call (appliance/queue/batch.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rpc.dispatcher import CallContext

from ..queue.render import PrintOptions

if TYPE_CHECKING:
    from ..app import Appliance
    from ..printer.raster import Cut


def handlers(appliance: Appliance) -> dict[str, Any]:
    batches = appliance.queue.batches

    async def print_batch(ctx: CallContext, template: str, rows: list[dict[str, Any]], copies: int = 1,
                          printer_id: str | None = None, hold: bool = False, idempotency_key: str | None = None,
                          cut: Cut = "full", cut_every: int = 1, high_res: bool = False,
                          dry_run: bool = False) -> dict[str, Any]:
        if not dry_run:
            appliance.check_accepting()
        return await batches.submit(template, rows, copies, printer_id, hold, idempotency_key,
                                    PrintOptions(cut=cut, cut_every=cut_every, high_res=high_res), dry_run=dry_run,
                                    max_rows=appliance.settings.queue.batch_max_rows)

    async def batch_get(ctx: CallContext, batch_id: int) -> dict[str, Any]:
        return await batches.get(batch_id)

    async def batch_cancel(ctx: CallContext, batch_id: int) -> dict[str, Any]:
        return await batches.cancel(batch_id)

    return {"print.batch": print_batch, "batch.get": batch_get, "batch.cancel": batch_cancel}
