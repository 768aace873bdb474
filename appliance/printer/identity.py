"""Stable printer ids: UUIDv5 of ``"{model}|{uri}"`` in the appliance's own namespace."""

from __future__ import annotations

import uuid

from appliance.printer.models import Model

__all__ = ["PRINTER_NAMESPACE", "printer_id"]

# Fixed forever: changing it would change every printer id (and orphan their jobs).
PRINTER_NAMESPACE = uuid.UUID("6c1f4b0e-8a51-5d3c-9e2a-4c6b8d0f1a27")


def printer_id(model: str | Model, uri: str) -> str:
    """The printer's id, the same across restarts for the same model name and URI."""
    name = model.name if isinstance(model, Model) else model
    return str(uuid.uuid5(PRINTER_NAMESPACE, f"{name}|{uri}"))
