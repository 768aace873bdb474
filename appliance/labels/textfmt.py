"""Template strings: ``"{name} – {asset_id}"`` with plain field placeholders.

Placeholders must name a declared field; a format spec is allowed (``{n:04d}``,
``{date:%d.%m.%Y}``), attribute/index access and conversions are not, so a
user-supplied template cannot reach into Python objects.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

_FORMATTER = string.Formatter()
_SPEC_NUMBER = re.compile(r"\d+")
MAX_SPEC_NUMBER = 255  # a width of 10**9 in a spec would build a gigabyte string at print time


@dataclass(frozen=True, slots=True)
class Formatted:
    source: str
    names: tuple[str, ...]  # placeholders in order of appearance, without repeats

    def format(self, values: dict[str, object]) -> str:
        if not self.names:
            return self.source
        try:
            return self.source.format_map(values)
        except (ValueError, TypeError) as exc:  # a spec that does not suit the value: {text:04d}
            raise ValueError(f"{self.source!r} cannot format these values: {exc}") from None

    @property
    def field_path(self) -> str | None:
        return f"fields.{self.names[0]}" if self.names else None

    def blame(self, values: dict[str, object]) -> str | None:
        """The field to name when the formatted text is refused: the first placeholder with a value,
        not an empty optional one (``{url_prefix}{asset_id}`` with no prefix blames asset_id)."""
        filled = next((name for name in self.names if values.get(name) not in (None, "")), None)
        return f"fields.{filled}" if filled else self.field_path


def compile_format(source: str, fields: set[str]) -> Formatted:
    """Check a template string once; ValueError with a reason when it is unusable."""
    names: list[str] = []
    try:
        parsed = list(_FORMATTER.parse(source))
    except ValueError as exc:
        raise ValueError(f"bad template string {source!r}: {exc}") from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if conversion is not None or not name.isidentifier():
            raise ValueError(f"placeholder {{{name}}} must be a plain field name")
        if spec and "{" in spec:
            raise ValueError(f"nested placeholder in {{{name}:{spec}}}")
        if spec and any(int(n) > MAX_SPEC_NUMBER for n in _SPEC_NUMBER.findall(spec)):
            raise ValueError(f"width or precision over {MAX_SPEC_NUMBER} in {{{name}:{spec}}}")
        if name not in fields:
            raise ValueError(f"placeholder {{{name}}} names no declared field")
        if name not in names:
            names.append(name)
    return Formatted(source, tuple(names))
