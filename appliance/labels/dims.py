"""Dimensions in a template: millimetres, percentages, keywords, or small expressions.

A dimension is one of
  * a number → millimetres (``12.5``), or a string ``"12.5mm"``;
  * ``"40%"`` → percent of the printable area (height for y/h, label content length for x/w);
  * a keyword: ``"auto"`` (natural size), ``"fill"`` (take the remaining length), ``"same"``
    (x only: share the previous element's slot, to stack elements vertically);
  * an expression in mm with ``{field}`` placeholders and ``+ - * / ( )``, e.g.
    ``"{cable_diameter_mm} * 3.1416 + 4"``.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass
from typing import Literal

from appliance.labels.textfmt import Formatted, compile_format

DimKind = Literal["mm", "pct", "auto", "fill", "same", "expr"]
KEYWORDS = ("auto", "fill", "same")

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


@dataclass(frozen=True, slots=True)
class Dim:
    kind: DimKind
    value: float = 0.0
    expr: Formatted | None = None

    def mm(self, values: dict[str, object]) -> float:
        """Millimetres for kinds "mm" and "expr"."""
        if self.kind == "mm":
            return self.value
        assert self.expr is not None
        return evaluate(self.expr.format(values))


def evaluate(text: str) -> float:
    """Evaluate + - * / arithmetic on numbers; ValueError on anything else."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL in the text
        raise ValueError(f"not an arithmetic expression: {text[:60]!r}") from exc
    except (RecursionError, MemoryError):  # CPython's parser on thousands of nested operators
        raise ValueError(f"{text[:60]!r} is nested too deeply") from None

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        raise ValueError(f"not an arithmetic expression: {text!r}")

    try:
        value = ev(tree.body)
    except ZeroDivisionError as exc:
        raise ValueError(f"division by zero in {text!r}") from exc
    except (OverflowError, RecursionError):
        raise ValueError(f"{text[:60]!r} is too large or nested too deeply") from None
    return _finite(value, text)


def _finite(value: float, raw: object) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{str(raw)[:60]!r} is not a finite number of mm")
    return value


def parse_dim(raw: object, fields: set[str], *, allow: tuple[str, ...] = ()) -> Dim:
    """Parse one dimension; ValueError with a reason on bad input."""
    if isinstance(raw, bool):
        raise ValueError("expected a number of mm, a percentage or a keyword")
    if isinstance(raw, int | float):
        return Dim("mm", _finite(float(raw), raw))
    if not isinstance(raw, str):
        raise ValueError("expected a number of mm, a percentage or a keyword")
    s = raw.strip()
    if s in KEYWORDS:
        if s not in allow:
            raise ValueError(f"{s!r} is not allowed here (allowed: {', '.join(allow) or 'none'})")
        return Dim(s)  # type: ignore[arg-type]
    if s.endswith("%"):
        try:
            return Dim("pct", _finite(float(s[:-1]), raw))
        except ValueError:
            raise ValueError(f"bad percentage {raw!r}") from None
    if s.endswith("mm") and "{" not in s:
        try:
            return Dim("mm", _finite(float(s[:-2]), raw))
        except ValueError:
            raise ValueError(f"bad length {raw!r}") from None
    fmt = compile_format(s, fields)
    if not fmt.names:
        return Dim("mm", evaluate(s))
    evaluate(fmt.format(dict.fromkeys(fmt.names, 1)))  # reject bad arithmetic now, not at print time
    return Dim("expr", expr=fmt)
