"""The pure-Python scan kernel: the specification the compiled kernel must match.

Input is the raw bytes of a CSV file (or rows already split, for record collections)
and a TablePlan of builtins; output is error tuples and the key values that foreign
keys need. Messages are written elsewhere, so kernels cannot drift on wording.

cast, broken_constraint and group_key define a cell's verdict and a row's group; the
Scanner runs them through checkers.py, which prepares them once per field (bounds,
patterns, a memo of verdicts) and is tested against them cell by cell.
"""

from __future__ import annotations

import csv
import io
import json
import operator
import os
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from ..stats.partials import Group, GroupMap
from .cast import RawError
from .checkers import field_checker, fold_function, json_valued
from .plan import CsvLimits, Dialect, TablePlan
from .sequence import States
from .sequence import fold_function as sequence_fold

PREVIEW = 80  # characters of an oversized cell kept in its error

CSV_FIELD_LIMIT = 2**31 - 1


ROW_DETAIL = ("primary-key", "unique-error")  # codes whose detail is the first row's number


class ScanResult(NamedTuple):
    errors: list[RawError]
    rows: int
    labels: list[str]
    key_sets: list[set[tuple[Any, ...]]]
    key_rows: list[dict[tuple[Any, ...], list[int]]]
    aggregates: list[GroupMap]
    sequences: list[States]  # per plan.sequences: each station's order state (sequence.py)
    unplaced: int = 0  # keyed rows the plan's ordered_key sequence did not place (keys_proven)


# --- types -----------------------------------------------------------------------------


def decode(data: bytes, encoding: str) -> tuple[str, RawError | None]:
    """Text of the file; an undecodable byte becomes an encoding error at its row."""
    if data.startswith(b"\xef\xbb\xbf") and encoding.lower().replace("_", "-") == "utf-8":
        data = data[3:]
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        cell = data[exc.start : exc.end].hex(" ")
        return "", (row, 0, "encoding-error", cell, encoding)
    except LookupError:
        return "", (1, 0, "encoding-error", "", encoding)


def csv_rows(text: str, dialect: Dialect) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for each logical CSV row; the header is row 1.

    Cells are bounded by the plan's CsvLimits (within_limits), never by the csv module's
    process-wide field limit, which is raised here (as frictionless does): the verdict
    does not depend on what ran before."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=dialect.delimiter,
        quotechar=dialect.quote_char or None,
        quoting=csv.QUOTE_MINIMAL if dialect.quote_char else csv.QUOTE_NONE,
        doublequote=dialect.double_quote,
        skipinitialspace=dialect.skip_initial_space,
        strict=True,
    )
    return enumerate(reader, start=1)


LIMIT_NOTES = {
    "cell-too-large": "this cell holds {size:,} bytes, more than the {limit:,} a cell may "
    "hold; shorten it, or publish long text as a file of its own and link to it",
    "row-too-large": "this row holds {size:,} bytes, more than the {limit:,} a row may hold; "
    "check the line breaks (is the file one long line?) or shorten its cells",
    "too-many-cells": "this row has {size:,} cells, more than the {limit:,} a row may have; "
    "check the delimiter in the dialect, or split the table",
}


def limit_detail(code: str, size: int, limit: int) -> str:
    """The sentence of a limit error: how large the cell or row is, the limit, the fix."""
    return LIMIT_NOTES[code].format(size=size, limit=limit)


def breach(cells: list[str], limits: CsvLimits) -> tuple[int, str, str, str] | None:
    """(field number, code, cell, detail) of the first limit a record crosses as it is read,
    or None: a cell too large, the row too large (its bytes so far), or too many cells (at
    the first cell past the limit)."""
    cell_limit, row_limit = limits.max_cell_bytes, limits.max_row_bytes
    if len(cells) <= limits.max_cells and sum(map(len, cells)) * 4 <= min(cell_limit, row_limit):
        return None  # no cell can be too large in UTF-8, nor the row
    before = 0
    for number, cell in enumerate(cells[: max(limits.max_cells, 0)], start=1):
        size = utf8_size(cell)
        if size > cell_limit and cell_limit <= row_limit - before:  # the cell's limit first
            return (
                number,
                "cell-too-large",
                cell[:PREVIEW],
                limit_detail("cell-too-large", size, cell_limit),
            )
        before += size
        if before > row_limit:
            total = sum(map(utf8_size, cells))
            return 0, "row-too-large", "", limit_detail("row-too-large", total, row_limit)
    if len(cells) > limits.max_cells:
        return 0, "too-many-cells", "", limit_detail("too-many-cells", len(cells), limits.max_cells)
    return None


def utf8_size(cell: str) -> int:
    return len(cell.encode("utf-8", "surrogatepass"))


def within_limits(
    rows: Iterable[tuple[int, list[str]]], plan: TablePlan, scanner: Scanner
) -> Iterator[tuple[int, list[str]]]:
    """The records within the plan's limits; each other is one error. A data row over a
    limit is skipped (and counted); a header row over a limit ends the scan."""
    limits, headers = plan.limits, plan.dialect.header_rows
    for number, cells in rows:
        found = breach(cells, limits)
        if found is None:
            yield number, cells
            continue
        scanner.errors.append((number, *found))
        if number in headers:
            return
        scanner.rows += 1
        scanner.skipped = number


def hashable(value: Any) -> Any:
    """A key value that a set can hold: JSON objects and lists as canonical JSON text."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


# --- the scan --------------------------------------------------------------------------


class Scanner:
    """Checks rows one by one; state grows with keys, never with valid rows otherwise."""

    def __init__(self, plan: TablePlan, text_cells: bool = False) -> None:
        """text_cells: every cell is a str (a CSV file), so only JSON types give lists."""

        self.plan = plan
        self.errors: list[RawError] = []
        self.rows = 0
        self.skipped = 0  # the last row skipped for a limit (within_limits)
        self.unique_seen: dict[int, dict[Any, int]] = {
            i: {} for i, f in enumerate(plan.fields) if dict(f.constraints).get("unique")
        }
        self.primary_seen: dict[tuple[Any, ...], int] = {}
        self.key_sets: list[set[tuple[Any, ...]]] = [set() for _ in plan.key_sets]
        self.key_rows: list[dict[tuple[Any, ...], list[int]]] = [{} for _ in plan.key_sets]
        self.groups: list[dict[tuple[str, ...], Group]] = [{} for _ in plan.aggregates]
        self.sequences: list[States] = [{} for _ in plan.sequences]
        self.width = len(plan.fields)  # cells a row should have: the header's, if any
        self.missing = plan.fields[0].missing_values if plan.fields else ("",)
        self.checkers = [
            field_checker(
                field,
                index + 1,
                bool(dict(field.constraints).get("required")),
                self.errors,
                self.unique_seen.get(index),
                hashable if json_valued(field, text_cells) else None,
            )
            for index, field in enumerate(plan.fields)
        ]
        self.key_plans = [
            (group, [i for i in group if json_valued(plan.fields[i], text_cells)])
            for group in (plan.primary_key, *plan.key_sets)
        ]
        self.folds = [
            fold_function(group_by, groups)
            for group_by, groups in zip(plan.aggregates, self.groups, strict=True)
        ]
        self.folds_in_order = [
            sequence_fold(sequence, states)
            for sequence, states in zip(plan.sequences, self.sequences, strict=True)
        ]

    def labels(self, labels: list[str]) -> None:
        """Check the header row against the schema's field names. An empty line has no
        labels: there is no header to check, as in frictionless."""
        if not labels:
            return
        self.width = len(labels)
        seen: set[str] = set()
        for number, label in enumerate(labels, start=1):
            if not label.strip():
                self.errors.append((1, number, "blank-label", label, ""))
            elif label in seen:
                self.errors.append((1, number, "duplicate-label", label, ""))
            elif number <= len(self.plan.fields) and label != self.plan.fields[number - 1].name:
                self.errors.append((1, number, "incorrect-label", label, ""))
            seen.add(label)
        for number in range(len(labels) + 1, len(self.plan.fields) + 1):
            self.errors.append((1, number, "missing-label", "", ""))
        for number in range(len(self.plan.fields) + 1, len(labels) + 1):
            self.errors.append((1, number, "extra-label", labels[number - 1], ""))
        if any(index >= len(labels) for index in self.plan.primary_key):
            self.key_plans[0] = ((), [])  # a key field with no label: no key (frictionless)

    def row(self, row: int, cells: list[Any]) -> None:
        """Check one data row and collect its keys."""
        self.scan(((row, cells),))

    def scan(self, rows: Iterable[tuple[int, list[Any]]]) -> None:
        """Check data rows and collect their keys (the state in local names, for speed)."""
        errors, checkers, missing = self.errors, self.checkers, self.missing
        fields, folds, collect = len(checkers), self.folds, bool(self.key_sets)
        width = self.width  # the header's: a row shorter than it misses cells
        (primary, primary_json), seen = self.key_plans[0], self.primary_seen
        # a key of several typed fields: operator.itemgetter makes the tuple key_of makes
        tuple_of = operator.itemgetter(*primary) if len(primary) > 1 and not primary_json else None
        count = 0
        try:
            for row, cells in rows:
                count += 1
                for cell in cells:
                    if cell not in missing:
                        break
                else:
                    errors.append((row, 0, "blank-row", "", ""))
                    continue
                values = [check(row, cell) for check, cell in zip(checkers, cells, strict=False)]
                if len(cells) != fields or len(cells) < width:
                    self.shape(row, cells, values)
                if primary:
                    if tuple_of is None:
                        key = self.primary_key_of(values, primary, primary_json)
                    else:
                        key = tuple_of(values)
                    for value in key:
                        if value is not None:
                            first = seen.setdefault(key, row)
                            if first != row:
                                errors.append((row, 0, "primary-key", "", str(first)))
                            break
                    else:  # every key cell empty or not of its type: the row has no key
                        errors.append((row, 0, "primary-key", "", ""))
                if collect:
                    self.collect(row, values)
                for fold in folds:
                    fold(cells, values)
                for fold_in_order in self.folds_in_order:
                    fold_in_order(cells)
        finally:
            self.rows += count

    def shape(self, row: int, cells: list[Any], values: list[Any]) -> None:
        """Missing cells (their values None) and extra cells of a row; a cell is missing
        up to the header's width, even past the schema's fields (frictionless)."""
        count, fields = len(cells), len(self.checkers)
        for index in range(count, max(fields, self.width)):
            if index < self.width:
                self.errors.append((row, index + 1, "missing-cell", "", ""))
            if index < fields:
                values.append(None)
        for number in range(max(fields, self.width) + 1, count + 1):
            self.errors.append((row, number, "extra-cell", cells[number - 1], ""))

    def collect(self, row: int, values: list[Any]) -> None:
        """The values of the key sets other tables refer to, with their rows."""
        for (group, json_fields), found, rows in zip(
            self.key_plans[1:], self.key_sets, self.key_rows, strict=True
        ):
            key = self.key_of(values, group, json_fields)
            if key is not None:
                found.add(key)
                rows.setdefault(key, []).append(row)

    @staticmethod
    def key_of(values: list[Any], group: tuple[int, ...], json_fields: list[int]) -> Any:
        """The key tuple of some fields (JSON values as canonical text), or None if one is
        missing. json_fields: the fields whose values may be lists or dicts."""
        key = tuple([values[i] if i not in json_fields else hashable(values[i]) for i in group])
        for value in key:
            if value is None:
                return None
        return key

    @staticmethod
    def primary_key_of(values: list[Any], group: tuple[int, ...], json_fields: list[int]) -> Any:
        """The primary key tuple of a row, None for an empty or uncastable cell: as in
        frictionless, a key with some cells None is compared like any other."""
        return tuple([values[i] if i not in json_fields else hashable(values[i]) for i in group])

    def result(self, labels: list[str]) -> ScanResult:
        return ScanResult(
            self.errors, self.rows, labels, self.key_sets, self.key_rows, list(self.groups),
            self.sequences,
        )  # fmt: skip


def add_header_row(labels: list[str], above: dict[int, str], cells: list[str]) -> list[str]:
    """The labels after one more header row, as frictionless joins header rows: each cell
    is added after a space, unless it repeats the cell last added at its place (kept in
    `above`); a row longer than those before it adds labels."""
    joined = list(labels)
    for index, cell in enumerate(cells):
        if above.get(index) == cell:
            continue
        above[index] = cell
        if index < len(joined):
            joined[index] = f"{joined[index]} {cell}"
        else:
            joined.append(cell)
    return joined


def scan_rows(rows: Iterable[tuple[int, list[str]]], plan: TablePlan) -> ScanResult:
    """Scan rows that are already split (record collections, tests)."""
    scanner = Scanner(plan)
    scanner.scan(rows)
    return scanner.result([f.name for f in plan.fields])


def scan_file(path: str | os.PathLike[str], plan: TablePlan) -> ScanResult:
    """Scan a CSV file by path: the same result as scan_csv of its bytes."""
    with open(path, "rb") as source:
        return scan_csv(source.read(), plan)


def scan_csv(data: bytes, plan: TablePlan) -> ScanResult:
    """Scan the bytes of a CSV file: encoding, structure, header, types, constraints, keys."""
    scanner = Scanner(plan, text_cells=True)
    if plan.dialect.problem:
        scanner.errors.append((1, 0, "dialect-error", "", plan.dialect.problem))
        return scanner.result([])
    text, problem = decode(data, plan.dialect.encoding)
    if problem:
        scanner.errors.append(problem)
        return scanner.result([])
    labels: list[str] = []
    above: dict[int, str] = {}
    headers, last_header = plan.dialect.header_rows, max(plan.dialect.header_rows, default=0)
    rows = within_limits(csv_rows(text, plan.dialect), plan, scanner)
    number, before = 0, None
    try:
        for number, cells in rows:
            if number in headers:
                labels = add_header_row(labels, above, cells)
                if number == last_header:
                    scanner.labels(labels)
            else:
                scanner.row(number, cells)
            if number >= last_header:
                break
        before = scanner.rows
        scanner.scan(rows)  # the data rows after the last header row, in one loop
    except csv.Error as exc:
        if before is not None:  # the data rows read before the one that failed
            number += scanner.rows - before
        number = max(number, scanner.skipped)
        scanner.errors.append((number + 1, 0, "format-error", "", str(exc)))
    return scanner.result(labels)
