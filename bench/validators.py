"""RPC parameter validation: rpc/schema.py against fastjsonschema and msgspec, on the real contract.

    python -m bench.validators          all figures (≈30 s: three servers under 16 clients)
    python -m bench.validators --quick  in-process figures only

Each candidate is wrapped to answer as rpc/schema.py does, `SchemaError(field, reason)`, so the
dispatcher's error.data (field path + reason) can be compared case by case:
- fastjsonschema: each method's params schema compiled to Python once (on its first call); its
  exception carries the rule, the rule's value and a path, from which our words are made; for
  `required` and `additionalProperties` the path is the object's, so the field is found again.
- msgspec: a Struct per method generated from the schema (constraints as `Meta`), `convert(strict)`;
  its error is one English sentence ("Expected `int` >= 1 - at `$.copies`"), parsed for path and rule.
Figures: µs per validation (valid params of five methods, and the bad ones), one-time costs
(import, compile), how many bad cases give the same field and the same reason as schema.py, and
`printer.status` req/s at 16 clients with the candidate patched into the server's dispatcher,
against the bare aiohttp + jsonrpcserver baseline of bench/rpc_load.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from rpc.contract import METHODS
from rpc.schema import SchemaError, validate_object

from .common import BENCH_AUTH, median, row, start_server, temp_dir, write_config

Validator = Callable[[dict[str, Any], str], None]  # (params, method name); raises SchemaError
SCHEMAS = {method.name: method.params_schema for method in METHODS}

GOOD: list[tuple[str, dict[str, Any]]] = [
    ("printer.status", {}),  # what bench/rpc_load.py sends
    ("printer.status", {"printer_id": "pt-p750w"}),
    ("job.list", {"state": "pending", "limit": 50, "printer_id": "pt-p750w"}),
    ("print.submit", {"template": "asset-tag", "fields": {"asset_id": "IT-000123", "owner": "IT", "n": 3},
                      "copies": 2, "hold": False, "idempotency_key": "k-1"}),
    ("template.put", {"name": "shelf", "definition": "name = 'shelf'\n[[layout]]\ntype = 'text'\ntext = 'a'\n"}),
]
BAD: list[tuple[str, dict[str, Any]]] = [  # tests/foundation/test_params_and_errors.py's, then more
    ("job.get", {"job_id": "seven"}),
    ("job.get", {}),
    ("job.get", {"job_id": 1, "colour": "red"}),
    ("print.submit", {"template": "text", "copies": 0}),
    ("print.submit", {"template": "text", "copies": True}),
    ("print.submit", {"template": "Bad Name!"}),
    ("print.submit", {"template": "text", "fields": {"text": {"nested": 1}}}),
    ("job.list", {"state": "lost"}),
    ("job.list", {"limit": 10_000}),
    ("template.get", {"name": "abc\n"}),  # ECMA-262 "$": no final newline
    ("print.submit", {"template": "text", "copies": 1.5}),
    ("print.submit", {"template": "text", "fields": {"text": "x" * 5000}}),
    ("print.submit", {"template": "text", "fields": {f"f{i}": "x" for i in range(65)}}),
    ("printer.status", {"printer_id": ""}),
    ("server.subscribe", {"topics": []}),
    ("server.subscribe", {"topics": ["printers", "weather"]}),
    ("job.list", {"since": "yesterday"}),
]


def ours(params: dict[str, Any], name: str) -> None:
    validate_object(params, SCHEMAS[name], "")


def patch_dispatcher(label: str) -> None:
    """Put candidate `label` in the place of rpc/schema.py in this process's dispatcher (bench/_served.py)."""
    from rpc import dispatcher

    validator = CANDIDATES[label]
    names = {id(method.params): method.name for method in METHODS}  # params_schema is built per call; params is not

    def validate(value: dict[str, Any], schema: dict[str, Any], path: str) -> None:
        validator(value, names[id(schema["properties"])])

    dispatcher.validate_object = validate  # type: ignore[assignment]


# --- fastjsonschema --------------------------------------------------------------------------

_TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
               "object": "an object", "array": "an array", "null": "null"}


def _json_type(value: Any) -> str:
    for name, kind in (("boolean", bool), ("integer", int), ("number", float), ("string", str), ("array", list),
                       ("object", dict)):
        if isinstance(value, kind):
            return name
    return "null" if value is None else type(value).__name__


@cache
def _compiled(name: str) -> Callable[[Any], Any]:
    import fastjsonschema

    return fastjsonschema.compile(SCHEMAS[name])


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def fastjsonschema_validator(params: dict[str, Any], name: str) -> None:
    import fastjsonschema

    try:
        _compiled(name)(params)
    except fastjsonschema.JsonSchemaValueException as exc:
        path = exc.name.removeprefix("data").lstrip(".")
        rule, limit, value = exc.rule, exc.rule_definition, exc.value
        if rule == "required":
            raise SchemaError(_join(path, next(n for n in limit if n not in value)), "is required") from None
        if rule == "additionalProperties":
            known = exc.definition.get("properties", {})
            raise SchemaError(_join(path, next(n for n in value if n not in known)), "is not a known parameter") \
                from None
        words = {
            "type": lambda: "must be " + " or ".join(_TYPE_NAMES[t] for t in ([limit] if isinstance(limit, str)
                                                                          else limit))
            + f", got {_TYPE_NAMES.get(_json_type(value), _json_type(value))}",
            "enum": lambda: "must be one of " + ", ".join(repr(c) for c in limit),
            "minimum": lambda: f"must be at least {limit}", "maximum": lambda: f"must be at most {limit}",
            "minLength": lambda: f"must have at least {limit} characters",
            "maxLength": lambda: f"must have at most {limit} characters",
            "pattern": lambda: f"must match {limit}",
            "minItems": lambda: f"must have at least {limit} items",
            "maxItems": lambda: f"must have at most {limit} items",
            "maxProperties": lambda: f"must have at most {limit} entries",
        }
        reason = words[rule]() if rule in words else exc.message
        raise SchemaError(path or ("params" if rule == "maxProperties" else ""), reason) from None


# --- msgspec -----------------------------------------------------------------------------------


def _msgspec_type(schema: dict[str, Any]) -> Any:
    from typing import Annotated, Literal, Union

    import msgspec

    def meta(**kwargs: Any) -> Any:
        given = {k: v for k, v in kwargs.items() if v is not None}
        return msgspec.Meta(**given) if given else None

    def one(kind: str) -> Any:
        if "enum" in schema:
            return Literal[tuple(schema["enum"])]
        if kind == "string":
            pattern = schema.get("pattern")
            m = meta(min_length=schema.get("minLength"), max_length=schema.get("maxLength"),
                     pattern=pattern[:-1] + r"\Z" if pattern and pattern.endswith("$") else pattern)
            return Annotated[str, m] if m else str
        if kind == "integer":
            m = meta(ge=schema.get("minimum"), le=schema.get("maximum"))
            return Annotated[int, m] if m else int
        if kind == "number":
            return float
        if kind == "boolean":
            return bool
        if kind == "null":
            return type(None)
        if kind == "array":
            item = _msgspec_type(schema.get("items", {}))
            m = meta(min_length=schema.get("minItems"), max_length=schema.get("maxItems"))
            return Annotated[list[item], m] if m else list[item]  # type: ignore[valid-type]
        if kind == "object":
            extra = schema.get("additionalProperties")
            value = _msgspec_type(extra) if isinstance(extra, dict) else Any
            m = meta(max_length=schema.get("maxProperties"))
            return Annotated[dict[str, value], m] if m else dict[str, value]  # type: ignore[valid-type]
        return Any

    kinds = schema.get("type")
    if kinds is None:
        return Any
    if isinstance(kinds, list):
        return Union[tuple(one(k) for k in kinds)]  # noqa: UP007 - built at run time
    return one(kinds)


@cache
def _struct(name: str) -> Any:
    import msgspec

    schema = SCHEMAS[name]
    required = set(schema["required"])
    fields = [(key, _msgspec_type(sub)) if key in required else (key, _msgspec_type(sub) | msgspec.UnsetType,
                                                                  msgspec.UNSET)
              for key, sub in schema["properties"].items()]
    fields.sort(key=lambda field: len(field) == 3)  # required ones first
    return msgspec.defstruct(name.replace(".", "_"), fields, forbid_unknown_fields=True, kw_only=True)


_AT = re.compile(r" - at `\$\.?(.*)`$")
_MSGSPEC_WORDS = [  # msgspec's sentences (0.19) → rpc/schema.py's words
    (re.compile(r"Object missing required field `(.+)`"), lambda m, path: (_join(path, m[1]), "is required")),
    (re.compile(r"Object contains unknown field `(.+)`"),
     lambda m, path: (_join(path, m[1]), "is not a known parameter")),
    (re.compile(r"Expected `(?:int|str|array|object)` >= (\S+)"), lambda m, path: (path, f"must be at least {m[1]}")),
    (re.compile(r"Expected `int` <= (\S+)"), lambda m, path: (path, f"must be at most {m[1]}")),
    (re.compile(r"Expected `str` of length >= (\d+)"),
     lambda m, path: (path, f"must have at least {m[1]} characters")),
    (re.compile(r"Expected `str` of length <= (\d+)"), lambda m, path: (path, f"must have at most {m[1]} characters")),
    (re.compile(r"Expected `array` of length >= (\d+)"), lambda m, path: (path, f"must have at least {m[1]} items")),
    (re.compile(r"Expected `object` of length <= (\d+)"),
     lambda m, path: (path or "params", f"must have at most {m[1]} entries")),
    (re.compile(r"Expected `str` matching regex '(.*)'"), lambda m, path: (path, f"must match {m[1]}")),
    (re.compile(r"Invalid enum value (.*)"), lambda m, path: (path, "must be one of …")),
    (re.compile(r"Expected `(.+)`, got `(.+)`"), lambda m, path: (path, f"must be {m[1]}, got {m[2]}")),
]


def msgspec_validator(params: dict[str, Any], name: str) -> None:
    import msgspec

    try:
        msgspec.convert(params, _struct(name), strict=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        at = _AT.search(text)
        path = re.sub(r"\[(\d+)\]", r"[\1]", at[1]) if at else ""
        sentence = text[: at.start()] if at else text
        for pattern, words in _MSGSPEC_WORDS:
            found = pattern.search(sentence)
            if found:
                field, reason = words(found, path)
                raise SchemaError(field, reason) from None
        raise SchemaError(path, sentence) from None


CANDIDATES: dict[str, Validator] = {"rpc/schema.py": ours, "fastjsonschema": fastjsonschema_validator,
                                    "msgspec": msgspec_validator}


# --- figures -----------------------------------------------------------------------------------


def _outcome(validator: Validator, name: str, params: dict[str, Any]) -> tuple[str, str] | None:
    try:
        validator(params, name)
    except SchemaError as exc:
        return exc.field, exc.reason
    return None


def _us_per_call(validator: Validator, cases: list[tuple[str, dict[str, Any]]], repeat: int) -> float:
    for name, params in cases:  # compile / build once, outside the timing
        _outcome(validator, name, params)
    rounds = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(50):
            for name, params in cases:
                _outcome(validator, name, params)
        rounds.append((time.perf_counter() - started) / (50 * len(cases)) * 1e6)
    return median(rounds)


def _import_ms(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) * 1e3


def in_process_rows(repeat: int = 15) -> list[dict[str, Any]]:
    rows = []
    reference = [_outcome(ours, name, params) for name, params in BAD]
    for label, validator in CANDIDATES.items():
        good = _us_per_call(validator, GOOD, repeat)
        status = _us_per_call(validator, GOOD[:1], repeat)
        bad = _us_per_call(validator, BAD, repeat)
        got = [_outcome(validator, name, params) for name, params in BAD]
        same_field = sum(1 for a, b in zip(got, reference, strict=True) if (a and a[0]) == (b and b[0]))
        same_both = sum(1 for a, b in zip(got, reference, strict=True) if a == b)
        differ = [f"{BAD[i][0]} {BAD[i][1]!r:.40}: {got[i]}" for i in range(len(BAD)) if got[i] != reference[i]]
        rows.append(row(f"params validation, {label}: µs per call (printer.status / 5 methods / {len(BAD)} bad)",
                        (round(status, 2), round(good, 2), round(bad, 2)), "µs",
                        note=f"same field as schema.py in {same_field}/{len(BAD)} bad cases, same field and reason in "
                             f"{same_both}/{len(BAD)}" + (f"; differs: {' | '.join(differ)[:400]}" if differ else "")))
    for module in ("fastjsonschema", "msgspec"):
        rows.append(row(f"import {module}", round(_import_ms(module), 1), "ms", note="in a fresh interpreter"))
    _compiled.cache_clear()
    started = time.perf_counter()
    for name in SCHEMAS:
        _compiled(name)
    compile_ms = (time.perf_counter() - started) * 1e3
    rows.append(row(f"fastjsonschema: compile the {len(SCHEMAS)} methods' schemas", round(compile_ms, 1), "ms",
                    note=f"≈{compile_ms / len(SCHEMAS):.1f} ms on each method's first call if compiled lazily"))
    _struct.cache_clear()
    started = time.perf_counter()
    for name in SCHEMAS:
        _struct(name)
    built_ms = (time.perf_counter() - started) * 1e3
    rows.append(row(f"msgspec: build the {len(SCHEMAS)} methods' Structs", round(built_ms, 1), "ms"))
    return rows


def served_rows(seconds: float = 3.0, rounds: int = 3) -> list[dict[str, Any]]:
    """printer.status at 16 clients with each candidate in the dispatcher, against the baseline."""
    from . import rpc_load

    rows = []
    for label in CANDIDATES:
        with temp_dir("bench-validators-") as tmp:
            config = write_config(tmp / "bench.toml", {"auth": BENCH_AUTH})
            server = start_server(tmp / "state", config=config, counters=True,  # bench._served patches it in
                                  env={"APPLIANCE_SIMULATOR_SPEED": "instant", "BENCH_VALIDATOR": label})
            baseline, base_url = rpc_load._baseline_process()
            try:
                ((_, mine, base),) = asyncio.run(rpc_load._measure_all(
                    server.url, server.headers(), server.pid, base_url, baseline.pid, seconds, 0.5, rounds, (16,)))
            finally:
                server.stop()
                baseline.terminate()
                baseline.wait(10)
        ratio = mine["rps"] / base["rps"]
        rows.append(row(f"printer.status req/s, 16 clients, {label}", round(mine["rps"]), "req/s",
                        target="≥ 1.2× baseline", ok=ratio >= 1.2 and not mine["errors"], baseline=round(base["rps"]),
                        ratio=round(ratio, 2), note="the validator patched into rpc.dispatcher (bench/_served.py); "
                        f"load average {os.getloadavg()[0]:.1f} after it"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.validators")
    parser.add_argument("--quick", action="store_true", help="in-process figures only")
    args = parser.parse_args()
    rows = in_process_rows() + ([] if args.quick else served_rows())
    for r in rows:
        print(f"{r['figure']}: {r['value']} {r['unit']}"
              + (f"  (baseline {r['baseline']}, ratio {r['ratio']}, {r['target']}: {r['ok']})" if r["baseline"] else "")
              + (f"\n    {r['note']}" if r["note"] else ""))


if __name__ == "__main__":
    main()
