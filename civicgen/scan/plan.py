"""Compile a Table Schema and CSV dialect into a plan of builtins that either kernel can run."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

TYPES = (
    "string", "number", "integer", "boolean", "date", "time", "datetime", "year",
    "yearmonth", "duration", "geopoint", "geojson", "object", "array", "any",
)  # fmt: skip
CONSTRAINTS = (
    "required", "unique", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "pattern", "enum",
)  # fmt: skip


class FieldPlan(NamedTuple):
    name: str
    type: str
    format: str
    constraints: tuple[tuple[str, Any], ...]
    decimal_char: str = "."
    group_char: str = ""
    bare_number: bool = True
    true_values: tuple[str, ...] = ("true", "True", "TRUE", "1")
    false_values: tuple[str, ...] = ("false", "False", "FALSE", "0")
    missing_values: tuple[str, ...] = ("",)


class Dialect(NamedTuple):
    delimiter: str = ","
    quote_char: str = '"'
    double_quote: bool = True
    skip_initial_space: bool = False
    header_rows: tuple[int, ...] = (1,)
    encoding: str = "utf-8"
    problem: str = ""  # why the descriptor's dialect cannot be read (the scan's one error)


class GroupBy(NamedTuple):
    """One aggregation computed during the scan: group keys and numeric measures.

    A key is (field index, transform, argument) over the cell's text:
    "value" (the whole cell), "prefix" (its first `argument` characters: a level of a
    classification code), "day" (first 10 characters of an ISO date-time), "hour"
    (first 13). Measures are field indexes of number or integer fields.

    limit: at most this many groups (0: no limit). Past it the groups collapse into one
    group of all the rows, under the key (), so that memory stays bounded on a column
    of mostly distinct values (partials.collapse).
    """

    keys: tuple[tuple[int, str, int], ...]
    measures: tuple[int, ...]
    quantiles: bool = False
    limit: int = 0


class Sequence(NamedTuple):
    """Readings kept in time order per key (a sensor's station), counted during the scan:
    a reading earlier than one listed before it is out of order, one at the same time as
    the latest before it a duplicate (sequence.py). Both are field indexes; rows whose key
    cell is empty, or whose time is not an ISO date or date-time, are left out.

    limit: at most this many keys (0: no limit). Past it no key is followed any more: the
    states become one OVER entry, so that memory stays bounded on a column of mostly
    distinct values."""

    key: int
    time: int
    limit: int = 0


MAX_CELL_BYTES = (
    1 << 20
)  # 1 MiB: a detailed district polygon as GeoJSON fits; a pasted file does not
MAX_ROW_BYTES = 8 << 20  # 8 MiB: a few large cells in one row
MAX_CELLS = 16_384  # the most columns a spreadsheet (Excel, LibreOffice Calc) can hold


class CsvLimits(NamedTuple):
    """How large a CSV record may be; a record over a limit is one error, never kept.

    Sizes are UTF-8 bytes of the cells' values (quotes and delimiters not counted):
    max_cell_bytes for one cell, max_row_bytes for all the cells of a record together;
    max_cells counts a record's cells. A data row over a limit is reported and skipped
    (the scan goes on with the next row); a header row over a limit ends the file's scan.
    The reason for a record is the first that holds of: too many cells, a cell too large
    (the first, from the left), the row too large.
    """

    max_cell_bytes: int = MAX_CELL_BYTES
    max_row_bytes: int = MAX_ROW_BYTES
    max_cells: int = MAX_CELLS


class TablePlan(NamedTuple):
    fields: tuple[FieldPlan, ...]
    dialect: Dialect
    primary_key: tuple[int, ...]  # 0-based field indexes
    key_sets: tuple[tuple[int, ...], ...]  # field tuples whose distinct values are collected
    aggregates: tuple[GroupBy, ...] = ()
    limits: CsvLimits = CsvLimits()
    sequences: tuple[Sequence, ...] = ()
    ordered_key: int = -1  # the sequence whose order may prove the primary key (ordered_key)


def ordered_key(
    fields: tuple[FieldPlan, ...], primary_key: tuple[int, ...], sequences: tuple[Sequence, ...]
) -> int:
    """The sequence whose (station, time) are the primary key, if any (-1: none).

    Readings each later than the station's reading before them have distinct keys: when
    every keyed row is such a reading, the primary key is unique with no key kept (memory
    bounded by stations, not rows). The kernel then only checks that; when it cannot be
    shown, the table is scanned again with every key looked up (keys_hashed). The station
    must be text: a typed value (the integer 7 of "07") equal for different texts would
    make two stations of one.
    """
    for number, sequence in enumerate(sequences):
        if sorted(primary_key) == sorted((sequence.key, sequence.time)) and (
            sequence.key != sequence.time and fields[sequence.key].type == "string"
        ):
            return number
    return -1


def keys_hashed(plan: TablePlan) -> bool:
    """Whether the scan keeps every row's primary key (not proven by a sequence's order)."""
    return bool(plan.primary_key) and plan.ordered_key < 0


def field_plan(field: dict[str, Any], missing: tuple[str, ...]) -> FieldPlan:
    """Plan one field: type, format, constraints, number and boolean options."""
    constraints = field.get("constraints") or {}
    return FieldPlan(
        name=str(field.get("name", "")),
        type=str(field.get("type", "string")),
        format=str(field.get("format", "default")),
        constraints=tuple((k, constraints[k]) for k in CONSTRAINTS if k in constraints),
        decimal_char=str(field.get("decimalChar", ".")),
        group_char=str(field.get("groupChar", "")),
        bare_number=bool(field.get("bareNumber", True)),
        true_values=tuple(field.get("trueValues", ("true", "True", "TRUE", "1"))),
        false_values=tuple(field.get("falseValues", ("false", "False", "FALSE", "0"))),
        missing_values=missing,
    )


def dialect_plan(resource: dict[str, Any]) -> Dialect:
    """Plan the CSV dialect (Data Package v1 and v2 header spellings). A dialect Python's csv
    module cannot read is planned as the default one, with the problem said."""
    dialect = resource.get("dialect") or {}
    if not isinstance(dialect, dict):
        note = '"dialect" must be an object written in datapackage.json, not a reference'
        return Dialect(problem=note)
    header_rows = dialect.get("headerRows", [1] if dialect.get("header", True) else [])
    planned = Dialect(
        delimiter=dialect.get("delimiter", ","),
        quote_char=dialect.get("quoteChar", '"'),
        double_quote=bool(dialect.get("doubleQuote", True)),
        skip_initial_space=bool(dialect.get("skipInitialSpace", False)),
        header_rows=tuple(header_rows) if isinstance(header_rows, list) else header_rows,
        encoding=str(resource.get("encoding") or "utf-8"),
    )
    problem = dialect_problem(planned)
    if not problem:
        return planned
    return Dialect(
        encoding=planned.encoding, problem=f'{problem}; fix "dialect" in datapackage.json'
    )


def dialect_problem(dialect: Dialect) -> str:
    """What makes a dialect unreadable, in words for the descriptor's author ("" if nothing)."""
    if not isinstance(dialect.delimiter, str) or len(dialect.delimiter) != 1:
        return f"the delimiter must be one character, not {shown(dialect.delimiter)}"
    if not isinstance(dialect.quote_char, str) or len(dialect.quote_char) > 1:
        return f"quoteChar must be one character or empty, not {shown(dialect.quote_char)}"
    rows = dialect.header_rows
    if not isinstance(rows, tuple) or not all(type(n) is int and n > 0 for n in rows):
        return f"headerRows must be a list of row numbers, like [1], not {shown(rows)}"
    return ""


def shown(value: Any) -> str:
    """A descriptor value as JSON, cut short for a message."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def as_names(value: Any) -> list[str]:
    """primaryKey and foreignKey fields may be one name or a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def compile_plan(
    resource: dict[str, Any],
    key_sets: list[list[str]] | None = None,
    aggregates: tuple[GroupBy, ...] = (),
    *,
    sequences: tuple[tuple[str, str], ...] = (),
    max_keys: int = 0,
    max_cell_bytes: int = MAX_CELL_BYTES,
    max_row_bytes: int = MAX_ROW_BYTES,
    max_cells: int = MAX_CELLS,
) -> TablePlan:
    """Plan a resource's table; key_sets lists the field groups other tables refer to,
    sequences the (key, time) field names whose order is counted (Sequence), for at most
    max_keys keys each (0: no limit).

    max_cell_bytes, max_row_bytes, max_cells: the CSV record limits (CsvLimits)."""
    schema = resource.get("schema") or {}
    missing = tuple(schema.get("missingValues", [""]))
    fields = tuple(field_plan(f, missing) for f in schema.get("fields") or [])
    names = [f.name for f in fields]
    index = {name: i for i, name in enumerate(names)}
    primary_key = tuple(index[n] for n in as_names(schema.get("primaryKey")) if n in index)
    groups = [tuple(index[n] for n in group if n in index) for group in key_sets or []]
    limits = CsvLimits(*(max(0, int(n)) for n in (max_cell_bytes, max_row_bytes, max_cells)))
    ordered = tuple(
        Sequence(index[k], index[t], max(0, int(max_keys)))
        for k, t in sequences
        if {k, t} <= index.keys()
    )
    return TablePlan(
        fields,
        dialect_plan(resource),
        primary_key,
        tuple(groups),
        aggregates,
        limits,
        ordered,
        ordered_key(fields, primary_key, ordered),
    )
