"""A minimal TOML writer for template definitions (tables, arrays of tables, scalars)."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _string(v: str) -> str:
    # JSON's escapes are TOML's, except that TOML also forbids a raw DEL (U+007F) in a string
    return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(k: str) -> str:
    return k if _BARE.match(k) else _string(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def dumps(data: dict[str, Any]) -> str:
    out: list[str] = []
    _table(data, (), out)
    return "\n".join(out).lstrip("\n") + "\n"


def _table(data: dict[str, Any], prefix: tuple[str, ...], out: list[str]) -> None:
    for k, v in data.items():
        if not isinstance(v, dict) and not _is_table_array(v):
            out.append(f"{_key(k)} = {_value(v)}")
    for k, v in data.items():
        path = (*prefix, k)
        if isinstance(v, dict):
            out.append("")
            out.append("[" + ".".join(_key(p) for p in path) + "]")
            _table(v, path, out)
        elif _is_table_array(v):
            for item in v:
                out.append("")
                out.append("[[" + ".".join(_key(p) for p in path) + "]]")
                _table(item, path, out)
