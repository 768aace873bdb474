"""template.list, template.get, template.put, template.delete, label.preview."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rpc.dispatcher import CallContext

from ..labels.errors import LabelError
from ..queue.service import label_error

if TYPE_CHECKING:
    from ..app import Appliance


def handlers(appliance: Appliance) -> dict[str, Any]:
    def registry() -> Any:
        return appliance.queue.registry

    def full(template: Any) -> dict[str, Any]:
        out = template.describe()
        out["definition"] = template.raw
        return out

    async def template_list(ctx: CallContext) -> list[dict[str, Any]]:
        return [t.describe() for t in registry().list()]

    async def template_get(ctx: CallContext, name: str) -> dict[str, Any]:
        try:
            return full(registry().get(name))
        except LabelError as exc:
            raise label_error(exc) from None

    async def template_put(ctx: CallContext, name: str, definition: str | dict[str, Any]) -> dict[str, Any]:
        try:  # on the drawing thread: checking a field pattern on long values can take half a second
            saved = await appliance.queue.drawer.run(registry().put, name, definition)
        except LabelError as exc:
            raise label_error(exc) from None
        return saved.describe()

    async def template_delete(ctx: CallContext, name: str) -> dict[str, Any]:
        try:  # on the drawing thread, like put: the registry's files change only there, between labels
            await appliance.queue.drawer.run(registry().delete, name)
        except LabelError as exc:
            raise label_error(exc) from None
        return {"name": name, "deleted": True}

    async def label_preview(ctx: CallContext, template: str, fields: dict[str, Any] | None = None,
                            printer_id: str | None = None, tape: str | None = None,
                            high_res: bool = False) -> dict[str, Any]:
        return await appliance.queue.preview(template, fields or {}, printer_id, tape, high_res)

    return {"template.list": template_list, "template.get": template_get, "template.put": template_put,
            "template.delete": template_delete, "label.preview": label_preview}
