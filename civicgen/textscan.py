"""The portal's text checked before publishing: descriptors, CSV labels and cells, records.

Called once from validate_portal, after the scan. A CSV table's text columns are checked,
cheapest way first: from the distinct values the scan's groups already hold (a sensor
table's station ids); else, for an ASCII file, one pass over its bytes that rules out
anything that could be a finding; else cell by cell through the package's dialect and
encoding, each distinct value of a column checked once (a bounded memo). A bad value is
reported once, at its first row, with the number of other rows that hold it. Fields whose
enum restricts their values are checked through the enum values in the descriptor.
"""

from __future__ import annotations

import csv
import functools
import itertools
import mmap
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .cache import ScanCache, entry_key
from .collection import cell_text
from .errors import CivicError, FormulaCellError
from .model import Package, Portal, Record
from .privacy import declares_personal, personal_findings, settings_errors
from .progress import progress
from .repo import Source, released
from .scan.reference import csv_rows, decode
from .textcheck import CELL, FREE, NAME, TEXT_TYPES, Finding, findings, is_formula, visible

if TYPE_CHECKING:
    from .validation import TableScan

ASCII_ENCODINGS = ("utf-8", "utf8", "ascii", "us-ascii", "latin-1", "iso-8859-1", "cp1252")
MEMO_LIMIT = 1 << 16  # distinct values remembered per column before the memo starts over
BAD_LIMIT = 1000  # distinct bad values reported per table
BATCH_ROWS = 256  # rows whose columns are gathered at once (larger batches thrash the caches)


@dataclass(frozen=True)
class Column:
    """A text column of a table and how strictly its cells are checked."""

    index: int
    name: str
    level: int
    personal: bool


def text_errors(
    source: Source, portal: Portal, tables: dict[Any, TableScan], cache: ScanCache | None = None
) -> list[CivicError]:
    """Misleading text, formulas and personal data anywhere the portal publishes text (a
    table's cells from the cache when the same bytes were checked the same way before)."""
    errors: list[CivicError] = []
    for package in portal.packages:
        errors += descriptor_errors(package) + settings_errors(package)
    for scanned in tables.values():
        if scanned.is_collection:
            errors += collection_errors(scanned)
        else:
            errors += table_errors(source, scanned, cache)
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
        extra = field["civicgen"] if isinstance(field.get("civicgen"), dict) else {}
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


CONTROLS = bytes([*range(0, 9), 11, 12, *range(14, 32), 127])
# Digits as 0, separators as s, control characters as NUL: shapes are then plain substrings.
SHAPES = bytes.maketrans(b"0123456789 -." + CONTROLS, b"0000000000sss" + b"\0" * len(CONTROLS))
# What an id or a phone number needs: 7 digits in a row, or separated groups of digits.
DIGIT_SHAPES = (b"0000000", b"s000s", b"s00s00s")
SHAPE_BLOCK = 8 << 20  # bytes translated at a time
LONE_CR = re.compile(rb"\r(?!\n)")  # a line break Python's csv module reads apart
NUMBER_AFTER = rb"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?:[%s\r\n]|$)"


@functools.cache
def text_minus(boundary: bytes, delimiter: bytes) -> re.Pattern[bytes]:
    """A cell that starts with - and is not a number (a literal prefix keeps the search fast)."""
    after = NUMBER_AFTER % re.escape(delimiter)
    return re.compile(re.escape(boundary + b"-") + b"(?!" + after + b")")


def may_hold_formula(data: bytes, delimiter: str, first: bool = True) -> bool:
    """Whether ASCII text may hold a cell starting like a formula (a cheap, safe guess).
    first: the data starts the file (else it starts at a line break: line_blocks)."""
    if any(c in data for c in (b"=", b"@", b"+", b'"-')) or first and data.startswith(b"-"):
        return True
    if delimiter != "\t" and b"\t" in data or LONE_CR.search(data):
        return True
    d = delimiter.encode()
    return any(text_minus(b, d).search(data) for b in (d, b"\n"))


def may_mislead(data: bytes | mmap.mmap, delimiter: str) -> bool:
    """False only when no cell of the file can be a finding: plain ASCII with no control
    character, no @, no digits shaped like an id or a phone number, no formula start.
    Read in blocks of whole lines (a mapped file is never held whole in memory)."""
    return any(
        not block.isascii() or may_hold_formula(block, delimiter, number == 0) or has_shape(block)
        for number, block in enumerate(line_blocks(data))
    )


def has_shape(block: bytes) -> bool:
    """Whether a block holds a control character or an id's or a phone number's digits."""
    shapes = block.translate(SHAPES)
    return b"\0" in shapes or any(shape in shapes for shape in DIGIT_SHAPES)


def line_blocks(data: bytes | mmap.mmap, size: int = SHAPE_BLOCK) -> Iterator[bytes]:
    """The data in blocks of about `size` bytes that end after a line feed, each after the
    first starting with the line feed the one before ended with: nothing may_mislead looks
    for (a shape, a formula start after a line break, a lone carriage return) is cut.
    A mapped file's pages are let go behind the blocks."""
    start = 0
    while start < len(data):
        cut = data.rfind(b"\n", start + 1, start + size)
        if cut < 0:  # a line longer than a block: up to its end
            cut = data.find(b"\n", start + size)
        end = len(data) if cut < 0 else cut + 1
        yield data[start:end]
        if isinstance(data, mmap.mmap):
            released(data, start, end)
        start = end if end == len(data) else end - 1


def labels_errors(labels: list[str], path: str, resource: str) -> list[CivicError]:
    errors: list[CivicError] = []
    for number, label in enumerate(labels, start=1):
        position = {"path": path, "resource": resource, "row": 1, "field_number": number}
        errors += as_errors(findings(label, NAME), f"header label {number}", **position)
    return errors


def scanned_values(scanned: TableScan, index: int) -> set[str] | None:
    """Every distinct text of a column, when one of the scan's aggregates grouped by it whole
    (and did not collapse past its limit); None when the file must be read."""
    for group_by, groups in zip(scanned.plan.aggregates, scanned.result.aggregates, strict=False):
        if () in groups:
            continue
        for position, (field, transform, _) in enumerate(group_by.keys):
            if field == index and transform == "value":
                return {key[position] for key in groups}
    return None


def clean_by_aggregates(scanned: TableScan, columns: list[Column]) -> bool:
    """True when the scan's groups hold every value of every text column, and none is bad."""
    for column in columns:
        values = scanned_values(scanned, column.index)
        if values is None or any(cell_findings(value, column) for value in values):
            return False
    return True


def table_errors(
    source: Source, scanned: TableScan, cache: ScanCache | None = None
) -> list[CivicError]:
    """Header labels and text cells of one CSV file (the scan reported what cannot be read).

    The cells are read only when the scan's groups do not already hold every distinct value
    of the text columns, or hold a bad one (then the file says in which rows).
    """
    resource = scanned.resource
    errors = labels_errors(scanned.result.labels, resource.files[0], resource.name)
    columns = columns_of(scanned)
    if not columns or clean_by_aggregates(scanned, columns):
        return errors
    if cache is None or not scanned.blob:
        return errors + file_cells_errors(source, scanned, columns)
    checked = (resource.files, resource.name, columns, scanned.plan.dialect)  # all they name
    key = entry_key(scanned.blob, checked, "text")
    found = cache.get_errors(key)
    if found is None:
        found = file_cells_errors(source, scanned, columns)
        cache.put_errors(key, found)
    return errors + found


def file_cells_errors(
    source: Source, scanned: TableScan, columns: list[Column]
) -> list[CivicError]:
    """The text cells of a CSV table (of each of its files), read through its dialect and
    encoding."""
    return [
        error
        for path in scanned.resource.files
        for error in one_file_cells_errors(source, path, scanned, columns)
    ]


def one_file_cells_errors(
    source: Source, path: str, scanned: TableScan, columns: list[Column]
) -> list[CivicError]:
    resource, dialect = scanned.resource, scanned.plan.dialect
    progress.show(f"checking the text of {path}")
    try:
        mapped = source.map(path)
    except (OSError, ValueError):
        return []
    try:
        ascii_compatible = dialect.encoding.lower().replace("_", "-") in ASCII_ENCODINGS
        if ascii_compatible and not may_mislead(mapped, dialect.delimiter):
            return []  # plain ASCII with nothing that could be a finding
        data = mapped if isinstance(mapped, bytes) else mapped[:]
    finally:
        if isinstance(mapped, mmap.mmap):
            mapped.close()
    text, problem = decode(data, dialect.encoding)
    if problem:
        return []
    rows = csv_rows(text, dialect)
    try:
        for _ in itertools.islice(rows, max(dialect.header_rows, default=0)):
            pass
        return cells_errors(rows, columns, path, resource.name)
    except csv.Error:
        return []  # a malformed row: the scan reported it as a format-error


def cells_errors(
    rows: Iterator[tuple[int, list[str]]], columns: list[Column], path: str, resource: str
) -> list[CivicError]:
    """Each distinct value of each text column checked once; a bad value reported once, at
    its first row, with how many more rows hold it. Rows come in batches, whose columns are
    gathered in C; only the rows of a batch that holds a bad value are visited one by one."""
    clean: list[set[str]] = [set() for _ in columns]  # bounded memo of values found clean
    known: list[dict[str, list[Finding]]] = [{} for _ in columns]  # bounded memo of bad ones
    bad: dict[tuple[int, str], list[Any]] = {}
    while batch := list(itertools.islice(rows, BATCH_ROWS)):
        hits: list[tuple[int, int, str]] = []
        shortest = min(map(len, map(operator.itemgetter(1), batch)))
        for position, column in enumerate(columns):
            values = column_values(batch, column.index, shortest)
            flagged = new_findings(values, column, clean[position], known[position])
            if flagged:
                hits += [
                    (number, position, value)
                    for (number, _), value in zip(batch, values, strict=True)
                    if value in flagged
                ]
        for number, position, value in sorted(hits):
            count_bad(bad, number, value, columns[position], known[position][value])
    return [
        e
        for row, more, found, column in bad.values()
        for e in bad_value_errors(row, more, found, column, path, resource)
    ]


def column_values(batch: list[tuple[int, list[str]]], index: int, shortest: int) -> list[str]:
    """A column's cells in a batch of rows ("" where a short row has no such cell)."""
    if index < shortest:
        return list(map(operator.itemgetter(index), map(operator.itemgetter(1), batch)))
    return [cells[index] if index < len(cells) else "" for _, cells in batch]


def new_findings(
    values: list[str], column: Column, clean: set[str], known: dict[str, list[Finding]]
) -> set[str]:
    """The bad values among these (each distinct value checked once; both memos kept bounded,
    so a file of a million distinct bad values holds no more than MEMO_LIMIT of them)."""
    distinct = set(values)
    if len(known) >= MEMO_LIMIT:
        known.clear()  # a bad value seen again is checked again, and counted all the same
    for value in distinct.difference(clean, known):
        found = cell_findings(value, column)
        if found:
            known[value] = found
        else:
            if len(clean) >= MEMO_LIMIT:
                clean.clear()
            clean.add(value)
    return known.keys() & distinct if known else set()


def count_bad(
    bad: dict[tuple[int, str], list[Any]],
    number: int,
    value: str,
    column: Column,
    found: list[Finding],
) -> None:
    """Note one more row holding a bad value (its first row, while under BAD_LIMIT values)."""
    seen = bad.get((column.index, value))
    if seen is not None:
        seen[1] += 1
    elif len(bad) < BAD_LIMIT:
        bad[(column.index, value)] = [number, 0, found, column]


def bad_value_errors(
    row: int, more: int, found: list[Finding], column: Column, path: str, resource: str
) -> list[CivicError]:
    also = f" (the same value is in {more} more row(s); fix them all)" if more else ""
    position: dict[str, Any] = {
        "path": path,
        "resource": resource,
        "row": row,
        "field_name": visible(column.name),
        "field_number": column.index + 1,
    }
    return [f.error(note=f"{f.note}{also}", warning=f.warning, **position) for f in found]
