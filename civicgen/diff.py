"""What changed in the data between two revisions: rows by primary key, cells old → new,
schema changes, and how the derived statistics move. Read from git through pygit2."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .collection import record_cells
from .model import Resource
from .parts import files_label
from .progress import progress
from .repo import Source
from .review import ReviewNote, review_notes
from .scan.plan import as_names
from .scan.reference import csv_rows, decode
from .stats.tables import DerivedTable
from .tablerows import data_rows, header_count
from .validation import TableScan, Validation, table_bytes

Key = tuple[str, ...]
NUMERIC = ("number", "integer")
RENAME_SHARE = 0.9  # of the shared rows with the same value: a renamed field, not a new one


@dataclass
class RowChange:
    key: Key
    kind: str  # added | removed | changed
    cells: list[tuple[str, str, str]] = field(default_factory=list)  # (field, old, new)


@dataclass
class TableDiff:
    package: str
    resource: str
    path: str
    key_fields: list[str]
    rows: list[RowChange] = field(default_factory=list)
    schema: list[str] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for change in self.rows if change.kind == kind)


@dataclass
class StatChange:
    package: str
    table: str
    key: Key
    figure: str
    old: float | None
    new: float | None
    is_ratio: bool = False  # a part of a whole (its table's column says so: Column.ratio)

    @property
    def relative(self) -> float | None:
        """(new - old) / |old|; None for a ratio, a new or removed figure, or an old 0."""
        if self.is_ratio or self.old in (None, 0) or self.new is None:
            return None
        return (self.new - self.old) / abs(self.old)

    @property
    def points(self) -> float | None:
        """A ratio's move in percentage points (0.25 → 0.26: +1.0); None for other figures."""
        if not self.is_ratio or self.old is None or self.new is None:
            return None
        return (self.new - self.old) * 100


@dataclass
class PackageChange:
    """A package added or removed, or what changed in its descriptor beyond the schemas."""

    package: str
    kind: str  # added | removed | changed
    notes: list[str] = field(default_factory=list)


@dataclass
class PortalDiff:
    base: str
    head: str
    tables: list[TableDiff]
    stats: list[StatChange]
    head_validation: Validation
    review: list[ReviewNote] = field(default_factory=list)  # changed paths a maintainer checks
    packages: list[PackageChange] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.head_validation.report.valid


# --- rows ------------------------------------------------------------------------------


def table_rows(scanned: TableScan, source: Source) -> tuple[list[str], dict[Key, dict[str, str]]]:
    """(field names, key → cells) of one table at one revision; the key is the primary key,
    or the whole row when there is none, its repeats told apart ("copy 2"), so that the
    rows of a keyless table are compared as a multiset: a removed duplicate counts."""
    if scanned.is_collection:
        names = [f.name for f in scanned.plan.fields]
        return keyed_rows(scanned, [record_cells(r, names) for r in scanned.records])
    return keyed_rows(scanned, data_rows(source, scanned))


def keyed_rows(
    scanned: TableScan, rows: list[list[str]]
) -> tuple[list[str], dict[Key, dict[str, str]]]:
    """(key fields, key → cells) of the given rows of a table."""
    names = [f.name for f in scanned.plan.fields]
    declared = as_names(scanned.resource.schema.get("primaryKey"))
    positions = [names.index(k) for k in declared or names if k in names]
    keyed: dict[Key, dict[str, str]] = {}
    seen: Counter[Key] = Counter()
    for row in rows:
        cells = dict(zip(names, row + [""] * (len(names) - len(row)), strict=False))
        key = tuple(cells[names[i]] for i in positions)
        seen[key] += 1
        keyed[key if declared or seen[key] == 1 else (*key, f"copy {seen[key]}")] = cells
    return declared or names, keyed


def one_row_per_line(data: bytes, scanned: TableScan) -> list[bytes] | None:
    """The file's lines when each is exactly one row (no cell holds a line break: as many
    lines as the scan counted rows), else None."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    expected = scanned.result.rows + header_count(scanned)
    return lines if len(lines) == expected else None


def differing_rows(
    old: TableScan, new: TableScan, old_data: bytes, new_data: bytes
) -> tuple[list[str], dict[Key, dict[str, str]], dict[Key, dict[str, str]]] | None:
    """The keyed rows of each revision whose line the other revision does not have, when a
    line is a row in both, the key is declared and the dialect and header are the same:
    an unchanged line is an unchanged row, so only the few changed lines are parsed (a
    1 % change of a large table reads 1 % of its rows as cells). None: compare it all."""
    keyed = as_names(new.resource.schema.get("primaryKey"))
    if old.is_collection or new.is_collection or not keyed or old.plan.dialect != new.plan.dialect:
        return None
    before, after = one_row_per_line(old_data, old), one_row_per_line(new_data, new)
    header = header_count(new)
    if before is None or after is None or before[:header] != after[:header]:
        return None
    kept = Counter(before[header:])
    added = []
    for line in after[header:]:
        if kept[line]:
            kept[line] -= 1
        else:
            added.append(line)
    removed = list(kept.elements())
    try:
        return (
            keyed,
            keyed_rows(old, parsed(before[:header] + removed, old))[1],
            keyed_rows(new, parsed(after[:header] + added, new))[1],
        )
    except csv.Error:
        return None


def parsed(lines: list[bytes], scanned: TableScan) -> list[list[str]]:
    """The data rows of these lines (the header first), through the table's dialect."""
    text, problem = decode(b"\n".join(lines) + b"\n", scanned.plan.dialect.encoding)
    rows = [] if problem else [cells for _, cells in csv_rows(text, scanned.plan.dialect)]
    return rows[header_count(scanned) :]


def filled(cells: dict[str, str], before: bool) -> list[tuple[str, str, str]]:
    """The non-empty cells of an added (or removed) row, as changes from (or to) nothing."""
    return [(n, v, "") if before else (n, "", v) for n, v in cells.items() if v]


def row_changes(old: dict[Key, dict[str, str]], new: dict[Key, dict[str, str]]) -> list[RowChange]:
    changes = [RowChange(k, "removed", filled(old[k], before=True)) for k in old if k not in new]
    changes += [RowChange(k, "added", filled(new[k], before=False)) for k in new if k not in old]
    for key in old.keys() & new.keys():
        cells = [
            (name, value, new[key].get(name, ""))
            for name, value in old[key].items()
            if new[key].get(name, "") != value
        ]
        cells += [(name, "", value) for name, value in new[key].items() if name not in old[key]]
        if cells:
            changes.append(RowChange(key, "changed", cells))
    return sorted(changes, key=lambda c: (c.key, c.kind))


def paired_key_changes(changes: list[RowChange], key_fields: list[str]) -> list[RowChange]:
    """A removed row and an added row whose cells are the same but for the key are one row
    whose key changed ("key changed": its key cells old → new), not a removal and an
    addition."""
    removed: dict[tuple[tuple[str, str], ...], list[RowChange]] = {}
    for change in changes:
        if change.kind == "removed":
            removed.setdefault(rest_of_row(change, key_fields, before=True), []).append(change)
    paired: set[int] = set()
    result = []
    for change in changes:
        if change.kind != "added":
            continue
        candidates = removed.get(rest_of_row(change, key_fields, before=False))
        if candidates:
            gone = candidates.pop(0)
            paired |= {id(gone), id(change)}
            olds = {name: value for name, value, _ in gone.cells}
            news = {name: value for name, _, value in change.cells}
            cells = [(f, olds.get(f, ""), news.get(f, "")) for f in key_fields]
            result.append(RowChange(change.key, "key changed", [c for c in cells if c[1] != c[2]]))
    result += [c for c in changes if id(c) not in paired]
    return sorted(result, key=lambda c: (c.key, c.kind))


def rest_of_row(
    change: RowChange, key_fields: list[str], before: bool
) -> tuple[tuple[str, str], ...]:
    """The non-key cells of an added (or removed) row, as (field, value) pairs."""
    return tuple(
        sorted((n, old if before else new) for n, old, new in change.cells if n not in key_fields)
    )


def schema_changes(
    old: Resource, new: Resource, renames: dict[str, str] | None = None
) -> list[str]:
    """Fields renamed (old name → new), added, removed, or changed in type, format or
    constraints."""
    renames = renames or {}
    before = {renames.get(str(f.get("name")), str(f.get("name"))): f for f in old.fields}
    after = {str(f.get("name")): f for f in new.fields}
    notes = [f'field "{a}" renamed to "{b}"' for a, b in renames.items()]
    notes += [f'field "{n}" removed' for n in before if n not in after]
    notes += [
        f'field "{n}" added ({after[n].get("type", "string")})' for n in after if n not in before
    ]
    for name in before.keys() & after.keys():
        for prop in ("type", "format", "constraints"):
            if before[name].get(prop) != after[name].get(prop):
                notes.append(
                    f'field "{name}": {prop} {before[name].get(prop)} → {after[name].get(prop)}'
                )
    if old.schema.get("primaryKey") != new.schema.get("primaryKey"):
        notes.append(f"primary key {old.schema.get('primaryKey')} → {new.schema.get('primaryKey')}")
    return sorted(notes)


def renamed_fields(
    old: Resource,
    new: Resource,
    before: dict[Key, dict[str, str]],
    after: dict[Key, dict[str, str]],
) -> dict[str, str]:
    """Fields that changed name (old → new): a field gone and a field come whose values are
    the same in nearly every row the two revisions share (rows keyed as compared; the rows
    that differ are shown as changed cells of the new name)."""
    old_names = [str(f.get("name")) for f in old.fields]
    new_names = [str(f.get("name")) for f in new.fields]
    gone = [name for name in old_names if name not in new_names]
    come = [name for name in new_names if name not in old_names]
    shared = before.keys() & after.keys()
    renames: dict[str, str] = {}
    for name in gone:
        for candidate in come:
            same = sum(before[k].get(name, "") == after[k].get(candidate, "") for k in shared)
            if candidate not in renames.values() and shared and same >= RENAME_SHARE * len(shared):
                renames[name] = candidate
                break
    return renames


def stored_pair(
    old: TableScan, new: TableScan, base: Validation, head: Validation
) -> tuple[bytes, bytes] | None:
    """Both revisions' bytes of a CSV table, read once for the whole comparison (None for a
    collection: one file per record)."""
    if old.is_collection or new.is_collection:
        return None
    return table_bytes(base.source, old), table_bytes(head.source, new)


def same_records(old: TableScan, new: TableScan) -> bool:
    return [r.values for r in old.records] == [r.values for r in new.records]


def table_diffs(base: Validation, head: Validation) -> list[TableDiff]:
    diffs = [one_table(key, base, head) for key in sorted(base.tables.keys() | head.tables.keys())]
    return [d for d in diffs if d is not None]


def one_table(key: tuple[str, str], base: Validation, head: Validation) -> TableDiff | None:
    old, new = base.tables.get(key), head.tables.get(key)
    present = new or old
    assert present is not None
    schema = schema_changes(old.resource, new.resource) if old and new else []
    pair = stored_pair(old, new, base, head) if old and new and not schema else None
    if old and new and not schema and (pair[0] == pair[1] if pair else same_records(old, new)):
        return None  # unchanged bytes (or records): nothing to compare row by row
    progress.show(f"comparing {present.resource.path or present.resource.name}")
    fast = differing_rows(old, new, *pair) if old and new and pair else None
    if fast is not None:
        key_fields, before, after = fast
        key_fields_new = key_fields
    else:
        key_fields, before = table_rows(old, base.source) if old else ([], {})
        key_fields_new, after = table_rows(new, head.source) if new else ([], {})
    if old and new:
        renames = renamed_fields(old.resource, new.resource, before, after)
        if renames:
            schema = schema_changes(old.resource, new.resource, renames)
            before = {
                k: {renames.get(n, n): v for n, v in row.items()} for k, row in before.items()
            }
    where = present.resource.path
    if present.resource.parts:
        where = files_label(present.resource.parts)
    if present.resource.records is not None:
        where = f"{present.package.folder}/{present.resource.records.pattern}"
    diff = TableDiff(key[0], key[1], where, key_fields_new or key_fields, schema=schema)
    if old is None:
        diff.schema.insert(0, "new table")
    if new is None:
        diff.schema.insert(0, "table removed")
    diff.rows = row_changes(before, after)
    if old and new and as_names(new.resource.schema.get("primaryKey")):
        diff.rows = paired_key_changes(diff.rows, key_fields_new)
    return diff if diff.rows or diff.schema else None


# --- descriptors -----------------------------------------------------------------------

SHOWN_VALUE = 120  # characters of a changed descriptor value shown; the descriptor has it all


def shown_value(value: Any, key: str = "") -> str:
    """A descriptor value on one line; licences and sources by their names."""
    if key in ("licenses", "sources") and isinstance(value, list):
        value = ", ".join(
            str(item.get("name") or item.get("title") or item.get("path") or "?")
            if isinstance(item, dict)
            else str(item)
            for item in value
        )
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"


def property_notes(old: dict[str, Any], new: dict[str, Any], where: str = "") -> list[str]:
    """Each property (licence, title, sources, profile options…) whose value changed."""
    notes = []
    for key in sorted(old.keys() | new.keys()):
        if key in ("resources", "schema") or old.get(key) == new.get(key):
            continue
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            notes += property_notes(old[key], new[key], f"{where}{key}.")
        elif key not in new:
            notes.append(f"{where}{key} removed (was {shown_value(old[key], key)})")
        elif key not in old:
            notes.append(f"{where}{key} added: {shown_value(new[key], key)}")
        else:
            before, after = shown_value(old[key], key), shown_value(new[key], key)
            notes.append(f"{where}{key}: {before} → {after}")
    return notes


def resources_by_name(descriptor: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = descriptor.get("resources")
    return (
        {str(r.get("name")): r for r in found if isinstance(r, dict)}
        if isinstance(found, list)
        else {}
    )


def descriptor_notes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed in a descriptor, the package's properties first, then each resource's
    (its schema is compared with the rows, in the table's own section)."""
    notes = property_notes(old, new)
    before, after = resources_by_name(old), resources_by_name(new)
    notes += [f'resource "{name}" removed' for name in sorted(before.keys() - after.keys())]
    notes += [f'resource "{name}" added' for name in sorted(after.keys() - before.keys())]
    for name in sorted(before.keys() & after.keys()):
        notes += property_notes(before[name], after[name], f'resource "{name}": ')
    return notes


def package_changes(base: Validation, head: Validation) -> list[PackageChange]:
    """Packages added, removed, or whose descriptor changed."""
    old, new = base.packages, head.packages
    changes = [PackageChange(name, "removed") for name in sorted(old.keys() - new.keys())]
    changes += [PackageChange(name, "added") for name in sorted(new.keys() - old.keys())]
    for name in sorted(old.keys() & new.keys()):
        notes = descriptor_notes(old[name].descriptor, new[name].descriptor)
        if notes:
            changes.append(PackageChange(name, "changed", notes))
    return sorted(changes, key=lambda c: c.package)


# --- statistics ------------------------------------------------------------------------


def figures(table: DerivedTable) -> dict[tuple[Key, str], float]:
    """(row key, numeric column) → value; the key is the row's non-numeric cells."""
    numeric = [
        c.name for c in table.columns if c.type in NUMERIC and not c.name.startswith("change")
    ]
    values = {}
    for row in table.records():
        key = tuple(str(row[c.name]) for c in table.columns if c.type not in NUMERIC)
        for name in numeric:
            if row[name] is not None:
                values[(key, name)] = float(row[name])
    return values


def ratio_columns(table: DerivedTable) -> set[str]:
    """The table's figures that are a part of a whole: a share, rate or coverage moves by
    points, not by a percentage of itself (which on a share published to 4 decimals turns
    0.0009 → 0.0010 into +11 %)."""
    return {column.name for column in table.columns if column.ratio}


def stat_changes(
    base: dict[str, list[DerivedTable]], head: dict[str, list[DerivedTable]]
) -> list[StatChange]:
    changes = []
    for package in sorted(base.keys() | head.keys()):
        old_tables = {t.name: t for t in base.get(package, [])}
        new_tables = {t.name: t for t in head.get(package, [])}
        for name in [*new_tables, *(n for n in old_tables if n not in new_tables)]:
            before = figures(old_tables[name]) if name in old_tables else {}
            after = figures(new_tables[name]) if name in new_tables else {}
            ratios = ratio_columns(new_tables.get(name) or old_tables[name])
            for point in sorted(before.keys() | after.keys()):
                old, new = before.get(point), after.get(point)
                if old != new:
                    key, figure = point
                    changes.append(
                        StatChange(package, name, key, figure, old, new, figure in ratios)
                    )
    return changes


def diff_portals(
    base: Validation,
    head: Validation,
    base_name: str,
    head_name: str,
    statistics: Callable[[Validation, set[str]], dict[str, list[DerivedTable]]],
) -> PortalDiff:
    """Everything that changed from base to head; no figure moves when head is invalid
    (the figures of invalid data are not figures: the report says so instead). statistics:
    the derived tables of some packages at a revision; only changed packages are derived."""
    tables, packages = table_diffs(base, head), package_changes(base, head)
    changed = {t.package for t in tables} | {p.package for p in packages}
    moved = stat_changes(statistics(base, changed), statistics(head, changed))
    return PortalDiff(
        base_name,
        head_name,
        tables,
        moved if head.report.valid else [],
        head,
        review_notes(base.source, head.source),
        packages,
    )
