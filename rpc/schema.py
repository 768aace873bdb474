"""A small, fast validator for the JSON Schema subset the contract uses.

jsonschema would cost ~100 µs a request; the contract needs only types, enums,
bounds, lengths, patterns, arrays and plain objects, checked here in a few µs.
The first problem found is reported as (field path, reason).

Kept after measuring the libraries that could replace it (issue 38, `python -m bench.validators`,
2026-12-07 04:51 UTC, load 1.2 on 2 cores; each wrapped to raise SchemaError as this module does):

    validator        µs/call: printer.status {}  5 methods  17 bad   same field+reason  16 clients
    rpc/schema.py             0.44               4.93       10.9     17/17 (reference)  1.23× baseline
    fastjsonschema            1.46               2.39       10.3     16/17              1.38×
    msgspec                   1.03               1.40        8.4      8/17              1.29×

- Throughput: all three keep `printer.status` at ≥ 1.2× the bare jsonrpcserver baseline at 16
  clients, and their differences are noise (the baseline itself went 3,039-4,392 req/s between
  the three windows): a request costs ≈150 µs in the server here; the validator, ≈1 µs of it.
  (Earlier the same day at load 5: 1.08×, 0.82×, 0.89×.) Validating the request the target is set
  on, `printer.status` with no params, is quickest here.
- Errors: fastjsonschema names the object, not the field, for `required` and
  `additionalProperties`, and words every rule its own way; error.data as good as today's took an
  adapter re-deriving the field and rewording every rule, as long as the rules here (bench/
  validators.py). It also checks `format: date-time`, which this module leaves to the method (the
  17th case). It costs 9-17 ms to import and 20-67 ms to compile the 25 methods (≈1-3 ms on each
  method's first call, compiled lazily).
- msgspec's error is one English sentence to parse, and its path drops object keys (`fields[...]`
  for `fields.text`), so error.data cannot name the field; 18-67 ms to import, in `rpc/`, which the
  TUI and laptop clients import too.
No gain to show for a new dependency on the path every request takes, so this module stays.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

Schema = dict[str, Any]

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


class SchemaError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_ok(actual: str, expected: str) -> bool:
    return actual == expected or (expected == "number" and actual == "integer")


@lru_cache(maxsize=256)
def _pattern(expr: str) -> re.Pattern[str]:
    # JSON Schema patterns are ECMA-262: "$" ends the text. Python's "$" also matches before a
    # final newline, which let "abc\n" pass for a template name.
    if expr.endswith("$") and not expr.endswith("\\$"):
        expr = expr[:-1] + "\\Z"
    return re.compile(expr)


def validate(value: Any, schema: Schema, path: str) -> None:
    """Raise SchemaError naming `path` (e.g. `fields.asset_id`) when `value` breaks `schema`."""
    expected = schema.get("type")
    actual = _json_type(value)
    if expected is not None:
        options = expected if isinstance(expected, list) else [expected]
        if not any(_type_ok(actual, option) for option in options):
            wanted = " or ".join(_TYPE_NAMES.get(o, o) for o in options)
            raise SchemaError(path, f"must be {wanted}, got {_TYPE_NAMES.get(actual, actual)}")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(repr(c) for c in schema["enum"])
        raise SchemaError(path, f"must be one of {choices}")
    if actual in ("integer", "number"):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(path, f"must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError(path, f"must be at most {schema['maximum']}")
    elif actual == "string":
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise SchemaError(path, f"must have at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise SchemaError(path, f"must have at most {schema['maxLength']} characters")
        if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
            raise SchemaError(path, f"must match {schema['pattern']}")
    elif actual == "array":
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise SchemaError(path, f"must have at most {schema['maxItems']} items")
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise SchemaError(path, f"must have at least {schema['minItems']} items")
        items = schema.get("items")
        if items:
            for index, item in enumerate(value):
                validate(item, items, f"{path}[{index}]")
    elif actual == "object":
        validate_object(value, schema, path)


def validate_object(value: dict[str, Any], schema: Schema, path: str) -> None:
    properties: dict[str, Schema] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            raise SchemaError(_join(path, name), "is required")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        sub = properties.get(name)
        if sub is not None:
            validate(item, sub, _join(path, name))
        elif extra is False:
            raise SchemaError(_join(path, name), "is not a known parameter")
        elif isinstance(extra, dict):
            validate(item, extra, _join(path, name))
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        raise SchemaError(path or "params", f"must have at most {schema['maxProperties']} entries")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
