"""A spreadsheet saved as CSV or TSV, read into label rows for print.batch (client side: the CLI and the TUI).

What Excel, LibreOffice and Numbers write: UTF-8 with or without a BOM, `,` or `;` (a German Excel)
or tab between cells, a header row naming the template's fields in any case. Each row keeps the
line of the file it starts on, so an error can say where to look. Blank rows are skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

DELIMITERS = (",", ";", "\t")


class SheetError(Exception):
    """The file cannot become rows; the message says what to fix."""


@dataclass
class Sheet:
    columns: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)  # column → cell, as in the file
    lines: list[int] = field(default_factory=list)  # the file's line each row starts on
    delimiter: str = ","


def decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError(f"{name} is not UTF-8 text (byte {exc.start + 1}); save it as \"CSV UTF-8\" "
                         "(Excel) or choose UTF-8 as the character set (LibreOffice)") from None


def sniff_delimiter(text: str, name: str = "") -> str:
    """Tab for .tsv/.tab files, else the one of `,` `;` tab that the header line has most of (`,` when none)."""
    if name.lower().endswith((".tsv", ".tab")):
        return "\t"
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse(text: str, name: str = "the file") -> Sheet:
    delimiter = sniff_delimiter(text, name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = []
        line = 1
        for cells in reader:
            records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise SheetError(f"{name}, line {reader.line_num}: {exc}") from None
    records = [(n, cells) for n, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise SheetError(f"{name} is empty: the first row names the fields, the rows below it are the labels")
    _, header = records[0]
    columns = [c.strip() for c in header]
    while columns and not columns[-1]:  # a trailing separator on the header line
        columns.pop()
    if any(not c for c in columns):
        where = ", ".join(str(i + 1) for i, c in enumerate(columns) if not c)
        raise SheetError(f"{name}: the header row has no name for column {where}; name every column")
    seen: dict[str, str] = {}
    for column in columns:
        if column.casefold() in seen:
            raise SheetError(f"{name}: the header names {seen[column.casefold()]!r} twice ({column!r}); "
                             "give each column its own name")
        seen[column.casefold()] = column
    sheet = Sheet(columns, delimiter=delimiter)
    too_long = []
    for line, cells in records[1:]:
        extra = [c for c in cells[len(columns):] if c.strip()]
        if extra:
            too_long.append(f"line {line}: {len(cells)} cells, the header names {len(columns)}")
            continue
        sheet.rows.append({column: cell for column, cell in zip(columns, cells, strict=False)})
        sheet.lines.append(line)
    if too_long:
        raise SheetError(f"{name}: rows with more cells than the header has columns "
                         f"(is a value with a {_word(delimiter)} in it not quoted?):\n  " + "\n  ".join(too_long))
    if not sheet.rows:
        raise SheetError(f"{name} has a header row and no rows below it: nothing to print")
    return sheet


def read(path: Path) -> Sheet:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SheetError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse(decode(data, str(path)), str(path))


def _word(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]


@dataclass
class Mapping:
    """Which column fills which field; columns nobody asked for, when they are to be left out."""

    fields: dict[str, str]  # column → template field
    ignored: list[str]


def map_columns(columns: list[str], template_fields: list[str], renames: dict[str, str], *,
                ignore_extra: bool, given: Collection[str] = ()) -> Mapping:
    """Columns to fields: `renames` first (column=field, the column in any case), then a column named as a
    field in any case. Refuses, by name, a column that is neither (unless `ignore_extra`), a rename of a
    column the file lacks or to a field the template lacks, two columns for one field, and a field both
    in a column and among the `given` field=value pairs."""
    by_fold = {f.casefold(): f for f in template_fields}
    column_fold = {c.casefold(): c for c in columns}
    problems: list[str] = []
    chosen: dict[str, str] = {}
    for source, target in renames.items():
        column = column_fold.get(source.casefold())
        if column is None:
            problems.append(f"--map {source}={target}: the file has no column {source!r} "
                            f"(its columns: {', '.join(columns)})")
            continue
        found = by_fold.get(target.casefold())
        if found is None:
            problems.append(f"--map {source}={target}: the template has no field {target!r}")
            continue
        chosen[column] = found
    unknown: list[str] = []
    ignored: list[str] = []
    for column in columns:
        if column in chosen:
            continue
        found = by_fold.get(column.casefold())
        if found is not None:
            chosen[column] = found
        elif ignore_extra:
            ignored.append(column)
        else:
            unknown.append(column)
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(c) for c in unknown)}: "
                        f"the template's fields are {', '.join(template_fields)}; map a column with --map "
                        "COLUMN=FIELD, or leave such columns out with --ignore-extra")
    twice: dict[str, list[str]] = {}
    for column in columns:  # in the file's order
        if column in chosen:
            twice.setdefault(chosen[column], []).append(column)
    for target, sources in twice.items():
        if len(sources) > 1:
            problems.append(f"columns {', '.join(repr(s) for s in sources)} all fill field {target!r}; keep one")
        if target in given:
            problems.append(f"field {target!r} is given as {target}=… and as column {sources[0]!r}; keep one")
    if problems:
        raise SheetError("\n".join(problems))
    return Mapping(chosen, ignored)


def label_rows(sheet: Sheet, mapping: Mapping, given: dict[str, str]) -> list[dict[str, str]]:
    """Each row's fields: the `given` values, and each mapped column's cell unless it is empty (an
    empty cell is a field left out: the template's default, or "required" when it has none)."""
    out = []
    for row in sheet.rows:
        fields = dict(given)
        for column, target in mapping.fields.items():
            cell = row.get(column, "")
            if cell.strip():
                fields[target] = cell
        out.append(fields)
    return out
