"""A Table Schema for a CSV resource that declares none, inferred as frictionless infers it.

Published packages often give a resource no `schema`. frictionless then reads the first
rows (its sample: 100 rows, the header included), names the fields after the header,
and gives each field the first type of a fixed list that nine cells in ten of the sample
read as; the whole table is then checked against that schema. Doing the same here gives
the same verdict: structure (blank rows, missing and extra cells, labels) and the type
errors of cells that do not read as their column's inferred type.
"""

from __future__ import annotations

import csv
import mmap
from typing import Any

from .cast import NOT_CAST, cast
from .plan import Dialect, FieldPlan
from .reference import add_header_row, csv_rows

SAMPLE_ROWS = 100  # frictionless' Detector.sample_size: rows read, the header's included
SAMPLE_BYTES = 4 << 20  # the sample is read from the file's first bytes only
CONFIDENCE = 0.9  # frictionless' Detector.field_confidence
# frictionless' DEFAULT_FIELD_CANDIDATES, in its order
CANDIDATES = (
    "yearmonth", "geopoint", "duration", "geojson", "object", "array", "datetime", "time",
    "date", "integer", "number", "boolean", "year", "string",
)  # fmt: skip
MISSING = ("",)


def infer_schema(data: bytes | mmap.mmap, dialect: Dialect) -> dict[str, Any]:
    """The schema frictionless would infer for this CSV file: {"fields": [...]}.

    The field names are the header's labels as the scan reads them (several header rows
    joined by a space), a blank label named field<n> and a repeated one made unique, as
    frictionless names them; with no header row, field1, field2…"""
    rows = sample_rows(data, dialect)
    last_header = max(dialect.header_rows, default=0)
    labels = header_labels(rows[:last_header], dialect.header_rows)
    fragment = rows[last_header:]
    if not labels and fragment:
        labels = [""] * len(fragment[0])
    names = unique_names([label or f"field{n}" for n, label in enumerate(labels, start=1)])
    types = [infer_type(fragment, index) for index in range(len(names))]
    return {"fields": [{"name": n, "type": t} for n, t in zip(names, types, strict=True)]}


def sample_rows(data: bytes | mmap.mmap, dialect: Dialect) -> list[list[str]]:
    """The first SAMPLE_ROWS records of the file (fewer if it is shorter, or unreadable)."""
    head = data[:SAMPLE_BYTES]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        text = head.decode(dialect.encoding, errors="replace")
    except LookupError:
        return []  # an unknown encoding: the scan reports it
    rows: list[list[str]] = []
    try:
        for _, cells in csv_rows(text, dialect):
            rows.append(cells)
            if len(rows) > SAMPLE_ROWS:
                break
    except csv.Error:
        pass  # the scan reports where the file stops being CSV
    if len(data) > SAMPLE_BYTES and len(rows) <= SAMPLE_ROWS:
        rows = rows[:-1]  # the last record read may be cut short by SAMPLE_BYTES
    return rows[:SAMPLE_ROWS]


def header_labels(rows: list[list[str]], header_rows: tuple[int, ...]) -> list[str]:
    """The labels as the scan joins them (reference.add_header_row)."""
    labels: list[str] = []
    above: dict[int, str] = {}
    for number, cells in enumerate(rows, start=1):
        if number in header_rows:
            labels = add_header_row(labels, above, cells)
    return labels


def unique_names(names: list[str]) -> list[str]:
    """A repeated name becomes the first free one of name2, name3… (frictionless)."""
    used: set[str] = set()
    unique = []
    for name in names:
        new, suffix = name, 2
        while new in used:
            new, suffix = f"{name}{suffix}", suffix + 1
        used.add(new)
        unique.append(new)
    return unique


def infer_type(fragment: list[list[str]], index: int) -> str:
    """frictionless' Detector.detect_schema for one column: a score per candidate type,
    +1 for a cell that reads as the type and -1 for one that does not; a missing cell is
    not scored and lowers the score needed. The first candidate whose score reaches
    CONFIDENCE of the cells that count wins, as soon as it does; "any" if none does."""
    scores = dict.fromkeys(CANDIDATES, 0)
    most = len(fragment)  # cells that count so far: the sample's, less the missing ones
    floor = len(fragment) * (CONFIDENCE - 1)  # a candidate scored below this is dropped
    for cells in fragment:
        cell = cells[index] if index < len(cells) else None  # a short row: no cell
        missing = cell in MISSING
        most -= missing
        for kind in CANDIDATES:
            if scores[kind] < floor:
                continue
            if not missing:
                scores[kind] += 1 if cell is None or reads_as(kind, cell) else -1
            if most > 0 and scores[kind] >= most * CONFIDENCE:
                return kind
    return "any"


def reads_as(kind: str, cell: str) -> bool:
    """Whether a cell reads as a type with its default format (the scan's own cast)."""
    return cast(FieldPlan("", kind, "default", ()), cell) is not NOT_CAST
