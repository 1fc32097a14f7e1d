"""The portal's text checked before publishing: descriptors, CSV labels and cells, records.

Called once from validate_portal, after the scan. CSV cells are read through the package's
dialect and encoding; each distinct value of a column is checked once (a bounded memo), so a
table that repeats a station id a million times costs one check per id. A pure-ASCII file
with nothing that could be a finding is skipped after one regular-expression pass. Fields
whose enum restricts their values are checked through the enum values in the descriptor.
"""

from __future__ import annotations

import csv
import functools
import itertools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from .collection import cell_text
from .errors import CivicError, FormulaCellError
from .model import Package, Portal, Record
from .privacy import declares_personal, personal_findings, settings_errors
from .repo import Source
from .scan.reference import csv_rows, decode
from .textcheck import CELL, FREE, NAME, TEXT_TYPES, Finding, findings, is_formula, visible

if TYPE_CHECKING:
    from .validation import TableScan

MEMO_LIMIT = 1 << 16  # distinct values remembered per column before the memo starts over
BAD_LIMIT = 1000  # distinct bad values reported per table


class Column(NamedTuple):
    """A text column of a table and how strictly its cells are checked."""

    index: int
    name: str
    level: int
    personal: bool


def text_errors(source: Source, portal: Portal, tables: dict[Any, TableScan]) -> list[CivicError]:
    """Misleading text, formulas and personal data anywhere the portal publishes text."""
    errors: list[CivicError] = []
    for package in portal.packages:
        errors += descriptor_errors(package) + settings_errors(package)
    for scanned in tables.values():
        if scanned.is_collection:
            errors += collection_errors(scanned)
        else:
            errors += table_errors(source, scanned)
    return errors


def cell_findings(value: str, column: Column) -> list[Finding]:
    found = findings(value, column.level)
    if is_formula(value):
        note = (
            f'the cell starts with "{visible(value[0])}", so a spreadsheet would run it as a '
            "formula; the published CSV writes it with a leading apostrophe (') so it shows as "
            "text; if it is not meant as a formula, start it with another character"
        )
        found.append(Finding(FormulaCellError, note, True))
    return found if column.personal else found + personal_findings(value)


def as_errors(found: list[Finding], what: str, **position: Any) -> list[CivicError]:
    return [f.error(note=f"{what}: {f.note}", warning=f.warning, **position) for f in found]


# --- descriptors -----------------------------------------------------------------------------


def strings(value: Any, where: str = "") -> Iterator[tuple[str, str, int]]:
    """(location, text, level) for every key and string of a JSON value, without recursion."""
    pending: list[tuple[Any, str, int]] = [(value, where, NAME)]
    while pending:
        item, location, level = pending.pop()
        if isinstance(item, str):
            yield location, item, level
        elif isinstance(item, dict):
            for key, inner in item.items():
                inner_location = f"{location}.{key}" if location else str(key)
                yield inner_location, str(key), NAME
                pending.append((inner, inner_location, FREE if key == "description" else NAME))
        elif isinstance(item, list):
            pending.extend((inner, f"{location}[{i}]", level) for i, inner in enumerate(item))


def descriptor_errors(package: Package) -> list[CivicError]:
    """Every name, title, key and description of the descriptor (descriptions as free text)."""
    errors: list[CivicError] = []
    for location, text, level in strings(package.descriptor):
        what = f"{visible(location)} in datapackage.json"
        errors += as_errors(findings(text, level), what, path=package.descriptor_path)
    return errors


# --- record collections ----------------------------------------------------------------------


def columns_of(scanned: TableScan) -> list[Column]:
    """The text fields of a table without an enum (enum values are checked in the descriptor)."""
    body = scanned.resource.records.body if scanned.resource.records else None
    columns = []
    for index, field in enumerate(scanned.resource.fields):
        constraints = field.get("constraints") or {}
        if field.get("type", "string") not in TEXT_TYPES or "enum" in constraints:
            continue
        extra = field.get("civicgen") if isinstance(field.get("civicgen"), dict) else {}
        name = str(field.get("name", ""))
        free = name == body or extra.get("freeText") is True
        columns.append(Column(index, name, FREE if free else CELL, declares_personal(field)))
    return columns


def record_errors(record: Record, columns: list[Column]) -> list[CivicError]:
    errors: list[CivicError] = []
    for key in record.values:
        position = {"path": record.path, "line": record.lines.get(key)}
        errors += as_errors(findings(key, NAME), f'the key "{visible(key)}"', **position)
    for column in columns:
        value = record.values.get(column.name)
        if value is None:
            continue
        position = {"path": record.path, "field_name": visible(column.name)}
        position["line"] = record.lines.get(column.name)
        errors += as_errors(cell_findings(cell_text(value), column), "the value", **position)
    return errors


def collection_errors(scanned: TableScan) -> list[CivicError]:
    columns = columns_of(scanned)
    return [e for record in scanned.records for e in record_errors(record, columns)]


# --- CSV tables ------------------------------------------------------------------------------


@functools.cache
def candidates(delimiter: str) -> re.Pattern[str]:
    """In ASCII text: anything that could become a finding (controls, @, digit runs, formulas)."""
    d = re.escape(delimiter)
    starts = "=@" + ("" if delimiter == "\t" else "\t")
    number = rf'[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"?(?:[{d}\r\n]|$)'
    formula = rf'(?:^|(?<=[{d}\n]))"?(?:[{re.escape(starts)}]|\r(?!\n)|[+-](?!{number}))'
    parts = [r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "@", "[0-9]{7}", r"\+[0-9]", formula]
    parts.append(r"[0-9](?:[ -]?[0-9]){8}")
    return re.compile("|".join(parts), re.M)


def labels_errors(labels: list[str], path: str, resource: str) -> list[CivicError]:
    errors: list[CivicError] = []
    for number, label in enumerate(labels, start=1):
        position = {"path": path, "resource": resource, "row": 1, "field_number": number}
        errors += as_errors(findings(label, NAME), f"header label {number}", **position)
    return errors


def table_errors(source: Source, scanned: TableScan) -> list[CivicError]:
    """Header labels and text cells of one CSV file (the scan reported what cannot be read)."""
    resource, dialect = scanned.resource, scanned.plan.dialect
    try:
        text, problem = decode(source.read(resource.path), dialect.encoding)
    except (OSError, ValueError):
        return []
    if problem:
        return []
    rows = csv_rows(text, dialect)
    last_header = max(dialect.header_rows, default=0)
    errors: list[CivicError] = []
    try:
        for number, cells in itertools.islice(rows, last_header):
            if number in dialect.header_rows:
                errors += labels_errors(cells, resource.path, resource.name)
        columns = columns_of(scanned)
        if columns and not (text.isascii() and not candidates(dialect.delimiter).search(text)):
            errors += cells_errors(rows, columns, resource.path, resource.name)
    except csv.Error:
        pass  # a malformed row: the scan reported it as a format-error
    return errors


def cells_errors(
    rows: Iterator[tuple[int, list[str]]], columns: list[Column], path: str, resource: str
) -> list[CivicError]:
    """Each distinct value of each text column checked once; a bad value reported once."""
    memos: list[dict[str, list[Finding]]] = [{} for _ in columns]
    bad: dict[tuple[int, str], list[Any]] = {}
    for number, cells in rows:
        for memo, column in zip(memos, columns, strict=True):
            if column.index >= len(cells):
                continue
            value = cells[column.index]
            found = memo.get(value)
            if found is None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                found = memo[value] = cell_findings(value, column)
            if found:
                seen = bad.get((column.index, value))
                if seen is not None:
                    seen[1] += 1
                elif len(bad) < BAD_LIMIT:
                    bad[(column.index, value)] = [number, 0, found, column]
    return [e for entry in bad.values() for e in bad_value_errors(*entry, path, resource)]


def bad_value_errors(
    row: int, more: int, found: list[Finding], column: Column, path: str, resource: str
) -> list[CivicError]:
    also = f" (the same value is in {more} more row(s); fix them all)" if more else ""
    position = {
        "path": path,
        "resource": resource,
        "row": row,
        "field_name": visible(column.name),
        "field_number": column.index + 1,
    }
    return [f.error(note=f"{f.note}{also}", warning=f.warning, **position) for f in found]
