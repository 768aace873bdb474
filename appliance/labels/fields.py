"""Check and coerce the field values a caller sends for a template."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from appliance.labels.errors import LabelError
from appliance.labels.model import FieldSpec, Template

FieldValue = str | int | date


def coerce(template: Template, values: dict[str, Any]) -> dict[str, FieldValue]:
    """Values after defaults and type coercion; LabelError("fields.<name>") on the first problem."""
    unknown = sorted(set(values) - set(template.fields))
    if unknown:
        known = ", ".join(template.fields) or "none"
        raise LabelError(f"fields.{unknown[0]}", f"unknown field (template {template.name!r} has: {known})")
    out: dict[str, FieldValue] = {}
    later: list[FieldSpec] = []
    for spec in template.fields.values():
        raw = values.get(spec.name)
        if isinstance(raw, str) and raw and not raw.strip():  # a blank-looking cell of a CSV: no label of spaces
            if spec.required:
                raise LabelError(f"fields.{spec.name}", "required, and this value is only spaces")
            raw = ""
        if raw is None or raw == "":
            if spec.required:
                raise LabelError(f"fields.{spec.name}", "required")
            if spec.default_fmt is not None:
                later.append(spec)
                continue
            raw = _default(spec)
            if raw is None or raw == "":
                out[spec.name] = ""
                continue
        out[spec.name] = _coerce_one(spec, raw)
    for spec in later:  # defaults such as "{text}" that name other fields
        out[spec.name] = _coerce_one(spec, spec.default_fmt.format(out))  # type: ignore[union-attr]
    return out


def _default(spec: FieldSpec) -> Any:
    if spec.type == "date" and spec.default == "today":
        return date.today()
    return spec.default


def _coerce_one(spec: FieldSpec, raw: Any) -> FieldValue:
    path = f"fields.{spec.name}"
    if spec.type == "integer":
        if isinstance(raw, bool):
            raise LabelError(path, "expected an integer")
        if isinstance(raw, str):
            try:
                raw = int(raw.strip())
            except ValueError:
                raise LabelError(path, "expected an integer") from None
        if not isinstance(raw, int):
            raise LabelError(path, "expected an integer")
        if spec.min is not None and raw < spec.min:
            raise LabelError(path, f"must be at least {spec.min}")
        if spec.max is not None and raw > spec.max:
            raise LabelError(path, f"must be at most {spec.max}")
        return raw
    if spec.type == "date":
        if isinstance(raw, date):
            return raw
        if not isinstance(raw, str):
            raise LabelError(path, "expected a date (YYYY-MM-DD)")
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise LabelError(path, "expected a date (YYYY-MM-DD)") from None
    if isinstance(raw, float):
        raise LabelError(path, f"expected a string: send \"{raw}\" in quotes (a JSON number loses trailing zeros, "
                               "as 1.50 becomes 1.5)")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise LabelError(path, "expected a string")
    text = _printable(path, str(raw))
    if spec.type == "choice" and text not in spec.choices:
        raise LabelError(path, f"must be one of {', '.join(spec.choices)}")
    if spec.max_length is not None and len(text) > spec.max_length:
        raise LabelError(path, f"longer than {spec.max_length} characters")
    if spec.pattern is not None and not spec.pattern.fullmatch(text):
        raise LabelError(path, f"does not match the pattern {spec.pattern.pattern}")
    return text


LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85")  # control characters the renderer breaks lines at


def _printable(path: str, text: str) -> str:
    """No control character but line breaks: a label would show it as a box, or not at all.
    No lone surrogate (JSON's "\\ud800"): it is no character, and RE2 matches UTF-8."""
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if char not in LINE_BREAKS and category == "Cc":
            raise LabelError(path, f"holds a control character (U+{ord(char):04X}) at position {index + 1}, "
                                   "which a label cannot show; remove it")
        if category == "Cs":
            raise LabelError(path, f"holds a lone surrogate (U+{ord(char):04X}) at position {index + 1}, "
                                   "which is not a character; send the character it was meant to be")
    return text


def json_values(values: dict[str, FieldValue]) -> dict[str, str | int]:
    """Values as JSON types (dates as ISO 8601)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
