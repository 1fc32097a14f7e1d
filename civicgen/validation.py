"""Validate a loaded portal: every table and collection against its schema, then the foreign keys."""

from __future__ import annotations

import contextlib
import mmap
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from .cache import ScanCache, blob_id, cache_key
from .checks import column_type_errors, record_errors, unknown_keys
from .collection import record_cells
from .errors import CivicError, ForeignKeyError, SourceError, TooLargeError
from .explain import explain
from .limits import Limits
from .model import Package, Portal, Record, Resource
from .package import DEFAULT_LIMITS, load_records, map_file, read_file
from .parts import FilePiece, Joined, Parts, file_pieces, join_files, joined_bytes, parts_of
from .progress import progress
from .repo import Source, WorkTree
from .report import Report
from .scan import kernel
from .scan.cluster import current as current_cluster
from .scan.infer import infer_schema
from .scan.plan import TablePlan, as_names, compile_plan
from .scan.reference import ROW_DETAIL, RawError, ScanResult
from .stats.profiles import aggregates_for, extra_key_sets, over_group_limit, sequences_for
from .textscan import text_errors


@dataclass
class TableScan:
    """One scanned table: its plan, its result, and its records when it is a collection."""

    package: Package
    resource: Resource
    plan: TablePlan
    result: ScanResult
    records: list[Record] = field(default_factory=list)
    blob: str = ""  # the git blob id of the scanned bytes, when a cache is in use
    rows_kept: bool = True  # False: from the cache, where each key keeps its first row only
    parts: Parts | None = None  # a table in several files: which file each row comes from

    def place(self, row: int) -> tuple[str, int]:
        """The file and row number in it of a row of the table."""
        return self.parts.where(row) if self.parts is not None else (self.resource.path, row)

    @property
    def is_collection(self) -> bool:
        """One file per record (possibly none yet), rather than a CSV file."""
        return self.resource.records is not None


@dataclass
class Validation:
    report: Report
    tables: dict[tuple[str, str], TableScan]
    source: Source
    cache: ScanCache | None = None

    @property
    def packages(self) -> dict[str, Package]:
        """The packages that have a table, by name."""
        return {scanned.package.name: scanned.package for scanned in self.tables.values()}


def foreign_keys(
    package: Package, resource: Resource
) -> list[tuple[list[str], str, str, list[str]]]:
    """(fields, target package, target resource, target fields) for each foreign key."""
    keys = []
    for fk in resource.schema.get("foreignKeys") or []:
        reference = fk.get("reference") or {}
        target = str(reference.get("resource") or resource.name)
        keys.append(
            (
                as_names(fk.get("fields")),
                str(reference.get("package") or package.name),
                target,
                as_names(reference.get("fields")),
            )
        )
    return keys


def key_groups(portal: Portal) -> dict[tuple[str, str], list[list[str]]]:
    """For each table, the field groups whose values must be collected (FK sources and targets)."""
    groups: dict[tuple[str, str], list[list[str]]] = {}
    for package in portal.packages:
        for resource in package.resources:
            for fields, target_package, target, target_fields in foreign_keys(package, resource):
                groups.setdefault((package.name, resource.name), []).append(fields)
                groups.setdefault((target_package, target), []).append(target_fields)
    return groups


def validate_portal(
    source: Source,
    portal: Portal,
    load_errors: list[CivicError],
    limit_errors: int = 1000,
    cache: ScanCache | None = None,
    limits: Limits = DEFAULT_LIMITS,
    text_checks: bool = True,
) -> Validation:
    """Scan every resource of the portal and check keys across tables, then the text of
    every cell (hidden characters, personal data) unless text_checks is off: the base of
    a diff, whose verdict nobody reads, skips them."""
    report = Report(limit_errors=limit_errors, packages=len(portal.packages))
    report.extend(load_errors)
    for package in portal.packages:
        report.extend(column_type_errors(package))
    groups = key_groups(portal)
    tables: dict[tuple[str, str], TableScan] = {}
    for package in portal.packages:
        for resource in package.resources:
            key = (package.name, resource.name)
            key_sets = groups.get(key, []) + extra_key_sets(package, resource)
            replan = partial(
                compile_plan,
                key_sets=key_sets,
                aggregates=aggregates_for(package, resource, limits.groups),
                sequences=sequences_for(package, resource),
                max_keys=limits.groups,
                max_cell_bytes=limits.cell_bytes,
                max_row_bytes=limits.row_bytes,
                max_cells=limits.row_cells,
            )
            plan = replan(resource.descriptor)
            scanned = scan_resource(source, package, resource, plan, report, cache, limits, replan)
            if scanned is not None:
                report.extend(group_limit_errors(package, scanned, limits.groups))
                tables[key] = scanned
                report.tables += 1
                report.rows += scanned.result.rows
    declared = {
        (p.name, str(r.get("name")))
        for p in portal.packages
        for r in p.descriptor.get("resources") or []
        if isinstance(r, dict)
    }
    for scanned in tables.values():
        check_foreign_keys(scanned, tables, groups, declared, report, source)
    if text_checks:
        report.extend(text_errors(source, portal, tables, cache))
    return Validation(report, tables, source, cache)


PARALLEL_FROM = 32 << 20  # a file this large is scanned on every core


def unmap(data: bytes | mmap.mmap) -> None:
    """Close a mapped file (a scan that failed and still views it: it closes when freed)."""
    if isinstance(data, mmap.mmap):
        with contextlib.suppress(BufferError):
            data.close()


def scan_table(
    data: bytes | mmap.mmap,
    plan: TablePlan,
    path: Path | None = None,
    pieces: tuple[FilePiece, ...] = (),
) -> ScanResult:
    """The scan of a CSV table: in one process, or on every core when it is large (a large
    file of the work tree comes mapped), or on the Dask cluster this run scans on when it
    is on disk (at path, or in the files of pieces, joined in data) and makes two of its
    partitions at least."""
    cluster = current_cluster()
    if cluster is not None and len(data) >= 2 * cluster.partition_bytes:
        from .scan import partitions  # Dask: loaded when used

        if path is not None:
            return partitions.scan_on_cluster(cluster, path, data, plan)
        if pieces and isinstance(data, bytes):
            return partitions.scan_files_on_cluster(cluster, pieces, data, plan)
    if len(data) >= PARALLEL_FROM or isinstance(data, mmap.mmap):
        from .scan.parallel import scan_csv_parallel  # process pools: loaded when needed

        return scan_csv_parallel(data, plan)
    return kernel.scan_csv(data, plan)


def cached_scan(
    data: bytes | mmap.mmap,
    plan: TablePlan,
    cache: ScanCache | None,
    blob: str = "",
    path: Path | None = None,
    pieces: tuple[FilePiece, ...] = (),
) -> tuple[ScanResult, bool]:
    """The scan of a table (on disk at path, or in the files of pieces), and whether it
    was read from the cache (the same bytes scanned with the same plan before)."""
    if cache is None:
        return scan_table(data, plan, path, pieces), False
    key = cache_key(data, plan, kernel.__name__, blob)
    result = cache.get(key)
    if result is not None:
        return result, True
    result = scan_table(data, plan, path, pieces)
    cache.put(key, result)
    return result, False


def scan_resource(
    source: Source,
    package: Package,
    resource: Resource,
    plan: TablePlan,
    report: Report,
    cache: ScanCache | None = None,
    limits: Limits = DEFAULT_LIMITS,
    replan: Callable[[dict[str, Any]], TablePlan] | None = None,
) -> TableScan | None:
    """Scan one resource. replan: the plan of a descriptor; with it, a CSV resource with
    no schema is scanned against the schema frictionless would infer (scan/infer.py)."""
    progress.show(f"checking {resource.path or resource.name} ({package.name})")
    if resource.records is not None:
        return scan_collection(source, package, resource, plan, report, limits)
    data, joined, errors = table_data(source, resource, plan, limits)
    report.extend(errors)
    if data is None:
        return None
    inferred = replan is not None and resource.descriptor.get("schema") is None
    if replan is not None and inferred:
        plan = replan({**resource.descriptor, "schema": infer_schema(data, plan.dialect)})
    try:
        blob = blob_id(data) if cache is not None else ""
        on_disk, pieces = where_on_disk(source, resource, joined)
        result, from_cache = cached_scan(data, plan, cache, blob, on_disk, pieces)
    finally:
        unmap(data)
    parts = parts_of(joined, resource, plan) if joined is not None else None
    explained = table_errors(resource, plan, result, parts)
    report.extend([inferred_note(e) for e in explained] if inferred else explained)
    return TableScan(
        package, resource, plan, result, blob=blob, rows_kept=not from_cache, parts=parts
    )


def where_on_disk(
    source: Source, resource: Resource, joined: Joined | None
) -> tuple[Path | None, tuple[FilePiece, ...]]:
    """Where a cluster's workers read a table of the work tree: its file, or its files."""
    if not isinstance(source, WorkTree):
        return None, ()
    if joined is None:
        return source.full_path(resource.path), ()
    return None, file_pieces(joined, [str(source.full_path(p)) for p in resource.parts])


def table_data(
    source: Source, resource: Resource, plan: TablePlan, limits: Limits
) -> tuple[bytes | mmap.mmap | None, Joined | None, list[CivicError]]:
    """A CSV table's bytes (a large file mapped), its files joined if it has several."""
    if not resource.parts:
        data, errors = map_file(
            source, resource.path, limits.file_bytes, "file_bytes", resource=resource.name
        )
        return data, None, errors
    header = len(plan.dialect.header_rows)
    if sorted(plan.dialect.header_rows) != list(range(1, header + 1)):
        note = (
            "a table in several files needs its header in the first rows of each file; "
            'give "headerRows" as [1] (or [1, 2] …) in the dialect'
        )
        return None, None, [SourceError(note=note, path=resource.parts[0], resource=resource.name)]

    def read(path: str) -> tuple[bytes | None, list[CivicError]]:
        return read_file(source, path, limits.file_bytes, "file_bytes", resource=resource.name)

    joined, errors = join_files(read, resource, header, limits.file_bytes)
    return (joined.data if joined else None), joined, errors


def table_errors(
    resource: Resource, plan: TablePlan, result: ScanResult, parts: Parts | None = None
) -> list[CivicError]:
    """The scan's errors in words, each in its file and row; a file with no header and no
    rows is empty (source-error, as frictionless says)."""
    errors = [
        explain(raw, plan.fields, path=resource.path, resource=resource.name)
        if parts is None
        else placed_error(raw, plan, resource.name, parts)
        for raw in result.errors
    ]
    if not (result.labels or result.rows or result.errors):
        note = "the file is empty (no header, no rows); save the table into it again"
        path = resource.files[0]
        errors.append(SourceError(note=note, path=path, resource=resource.name))
    return errors


def placed_error(raw: RawError, plan: TablePlan, resource: str, parts: Parts) -> CivicError:
    """An error of a table in several files, in its own file and row; the row a duplicate
    repeats is named with its file when that is another."""
    row, field, code, cell, detail = raw
    path, own = parts.where(row)
    if code in ROW_DETAIL and detail.isdigit():
        raw = (row, field, code, cell, parts.named(int(detail), path))
    return explain(raw, plan.fields, path=path, row=own, resource=resource)


def group_limit_errors(package: Package, scanned: TableScan, most: int) -> list[CivicError]:
    """A table whose statistics would hold more groups than the limit (a station and hour,
    a classification code…): too varied to summarise, and more likely a mistake."""
    names = [f.name for f in scanned.plan.fields]
    return [
        TooLargeError(
            note=group_limit_note(most, [grouped_by(names, key) for key in group_by.keys]),
            path=scanned.resource.path or "",
            resource=scanned.resource.name,
        )
        for group_by in over_group_limit(package, scanned)
    ]


def group_limit_note(most: int, columns: list[str]) -> str:
    them = "those columns" if len(columns) > 1 else "that column"
    return (
        f"its statistics would have more than {most:,} groups of {' and '.join(columns)} "
        f"(a row of the derived tables each); check {them} for values that should not "
        "differ, or, if the data is right, raise the limit `groups` in mkdocs.yml (each "
        "group takes about 3 KB of memory while the statistics are made)"
    )


def grouped_by(names: list[str], key: tuple[int, str, int]) -> str:
    """'station', 'timestamp (by hour)', 'code (first 3 characters)'."""
    index, transform, argument = key
    name = f'"{names[index]}"'
    if transform == "value":
        return name
    if transform == "prefix":
        return f"{name} (its first {argument} characters)"
    return f"{name} (by {transform})"


INFERRED = (
    " (this resource has no schema, so the column's type was guessed from its first rows, "
    'as frictionless does; if the value is right, add a "schema" to datapackage.json)'
)


def inferred_note(error: CivicError) -> CivicError:
    """A type error in a column whose type was inferred says so, and how to declare it."""
    return replace(error, note=error.note + INFERRED) if error.code == "type-error" else error


def scan_collection(
    source: Source,
    package: Package,
    resource: Resource,
    plan: TablePlan,
    report: Report,
    limits: Limits = DEFAULT_LIMITS,
) -> TableScan:
    """Scan one record per row; errors point at the record file and the line of the field."""
    records, errors = load_records(source, package, resource, limits)
    report.extend(errors)
    names = [f.name for f in plan.fields]
    rows = [(number, record_cells(r, names)) for number, r in enumerate(records, start=2)]
    result = kernel.scan_rows(rows, plan)
    for raw in result.errors:
        record = records[raw[0] - 2]
        report.add(record_error(raw, plan, record, records))
    for record in records:
        report.extend(unknown_keys(record, names, resource))
        report.extend(record_errors(record, package))
    return TableScan(package, resource, plan, result, records)


def record_error(
    raw: tuple[int, int, str, str, str], plan: TablePlan, record: Record, records: list[Record]
) -> CivicError:
    """A raw error placed in its record file; rows become record file names."""
    _, number, code, cell, detail = raw
    if code in ("unique-error", "primary-key") and detail.isdigit():
        detail = records[int(detail) - 2].path
        raw = (raw[0], number, code, cell, detail)
    name = plan.fields[number - 1].name if number else ""
    return explain(
        raw, plan.fields, path=record.path, resource="", row=None, line=record.lines.get(name)
    )


def check_foreign_keys(
    scanned: TableScan,
    tables: dict[tuple[str, str], TableScan],
    groups: dict[tuple[str, str], list[list[str]]],
    declared: set[tuple[str, str]],
    report: Report,
    source: Source,
) -> None:
    """Every value of a foreign key must exist among the referenced table's keys (a table
    read from the cache is scanned again for the rows of a value that does not)."""
    package, resource = scanned.package, scanned.resource
    mine = groups.get((package.name, resource.name), [])
    for fields, target_package, target, target_fields in foreign_keys(package, resource):
        other = tables.get((target_package, target))
        source_values = scanned.result.key_rows[mine.index(fields)]
        if other is None and (target_package, target) in declared:
            continue  # the referenced table could not be read; that error is reported already
        if other is None:
            note = (
                f'the foreign key {fields} refers to "{target_package}/{target}", '
                "which does not exist; fix the reference in datapackage.json"
            )
            report.add(
                ForeignKeyError(note=note, path=package.descriptor_path, resource=resource.name)
            )
            continue
        target_groups = groups[(target_package, target)]
        known = other.result.key_sets[target_groups.index(target_fields)]
        if not scanned.rows_kept and not source_values.keys() <= known:
            scanned.result = scanned.result._replace(key_rows=rows_again(source, scanned))
            scanned.rows_kept = True
            source_values = scanned.result.key_rows[mine.index(fields)]
        for value, rows in source_values.items():
            if value not in known:
                for row in rows:
                    report.add(fk_error(scanned, fields, value, row, f"{target_package}/{target}"))


def rows_again(source: Source, scanned: TableScan) -> list[dict[tuple[Any, ...], list[int]]]:
    """Every row of every key of a table, scanned again (its cached result has first rows)."""
    return scan_table(table_bytes(source, scanned), scanned.plan).key_rows


def table_bytes(source: Source, scanned: TableScan) -> bytes:
    """The bytes of a CSV table as scanned (its files joined, if it has several)."""
    return joined_bytes(source.read, scanned.resource, len(scanned.plan.dialect.header_rows))


def fk_error(
    scanned: TableScan, fields: list[str], value: tuple[Any, ...], row: int, target: str
) -> CivicError:
    shown = ", ".join(str(v) for v in value)
    note = (
        f'"{shown}" does not exist in {target} ({", ".join(fields)}); '
        "use a value that appears there, or add it there first"
    )
    names = [f.name for f in scanned.plan.fields]
    number = names.index(fields[0]) + 1 if fields[0] in names else None
    if scanned.is_collection:
        record = scanned.records[row - 2]
        return ForeignKeyError(
            note=note,
            path=record.path,
            field_name=fields[0],
            line=record.lines.get(fields[0]),
            cell=shown,
        )
    path, row = scanned.place(row)
    return ForeignKeyError(
        note=note,
        path=path,
        resource=scanned.resource.name,
        row=row,
        field_name=fields[0],
        field_number=number,
        cell=shown,
    )
