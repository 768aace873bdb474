"""Errors and warnings of the labels layer.

A `LabelError` is raised *before* anything is printed. It carries the path of
the offending input (``fields.asset_id``, ``definition.layout[2].size``, ``tape``)
and a `kind` the server maps to a JSON-RPC code: ``invalid`` → −32602,
``state`` → −32003, ``not_found`` → −32002.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ErrorKind = Literal["invalid", "state", "not_found"]


class LabelError(Exception):
    """A label cannot be rendered or a template cannot be accepted."""

    def __init__(self, field: str, reason: str, kind: ErrorKind = "invalid") -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.kind: ErrorKind = kind

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "kind": self.kind}


class FontNotFoundError(LabelError):
    """A font named by a template is not installed in any searched directory."""

    def __init__(self, field: str, font: str, searched: tuple[str, ...]) -> None:
        where = ", ".join(searched) or "(no directories)"
        super().__init__(
            field,
            f"font {font!r} not found in {where}; install the Debian package fonts-dejavu-core or add a font directory",
            "state",
        )
        self.font = font
        self.searched = searched


@dataclass(frozen=True, slots=True)
class LabelWarning:
    """Something the render did on its own that the user may want to know."""

    code: str  # "text-shrunk", "text-small", "content-clipped", "barcode-omitted", "qr-omitted", ...
    message: str
    element: str | None = None  # "layout[1]" or None for the whole label

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "element": self.element}
