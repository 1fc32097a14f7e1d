"""A table in several files (a resource whose path is a list): read as one table.

The Data Package specification lets a resource's path be a list of files that are
concatenated in order; each CSV file after the first repeats the header, which is left
out (as frictionless does). civicgen checks that every file repeats the same header, then
scans the files joined as one table, so that keys, aggregates and per-station orders run
across them. Each error is placed back in its own file: a row of the joined table is a
row of one file (Parts.where).
"""

from __future__ import annotations

import bisect
import csv
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import CivicError, FormatError, TooLargeError
from .limits import size_note
from .model import Resource
from .scan.engine import compiled as _kernel  # None in a pure-Python install
from .scan.plan import Dialect, TablePlan
from .scan.reference import csv_rows, decode

BOM = b"\xef\xbb\xbf"
MAX_PARTS = 10_000  # files of one resource: one a station a month is 1,200 over ten years


@dataclass(frozen=True)
class Parts:
    """Where each file's rows sit in the joined table: file i's first data row is row
    first_rows[i] of the table (rows below the header count from header + 1 in each)."""

    paths: tuple[str, ...]
    first_rows: tuple[int, ...]
    header: int  # header rows at the top of every file

    def where(self, row: int) -> tuple[str, int]:
        """The file and its own row number of a row of the joined table."""
        if row <= self.header:
            return self.paths[0], row
        index = max(bisect.bisect_right(self.first_rows, row) - 1, 0)
        return self.paths[index], row - self.first_rows[index] + self.header + 1

    def named(self, row: int, beside: str) -> str:
        """'12', or '12 of data/2024-02.csv' when the row is in another file than beside."""
        path, own = self.where(row)
        return str(own) if path == beside else f"{own} of {path}"


@dataclass(frozen=True)
class Joined:
    """The files' bytes as one CSV table: the first file whole, then each file's rows."""

    data: bytes
    starts: tuple[int, ...]  # where each file's data rows begin in data
    bodies: tuple[tuple[int, int], ...]  # where they begin in the file, and its size


@dataclass(frozen=True)
class FilePiece:
    """One file of a joined table, as a Dask worker reads it: its rows are bytes lo..size
    of the file at path, and bytes start.. of the joined table."""

    path: str
    lo: int
    size: int
    start: int


def file_pieces(joined: Joined, paths: list[str]) -> tuple[FilePiece, ...]:
    """The joined table's files at these paths on disk."""
    return tuple(
        FilePiece(path, lo, size, start)
        for path, (lo, size), start in zip(paths, joined.bodies, joined.starts, strict=True)
    )


def header_lines(data: bytes, count: int) -> int:
    """The end of the first count lines of a file (0 with no header): where its rows start."""
    end = 0
    for _ in range(count):
        found = data.find(b"\n", end)
        if found < 0:
            return len(data)
        end = found + 1
    return end


def same_header(first: bytes, other: bytes) -> bool:
    """Headers that read the same (line endings aside)."""
    return first.replace(b"\r\n", b"\n") == other.replace(b"\r\n", b"\n")


def join_files(
    read: Callable[[str], tuple[bytes | None, list[CivicError]]],
    resource: Resource,
    header: int,
    limit: int,
) -> tuple[Joined | None, list[CivicError]]:
    """The resource's files joined as one table, or the errors that say why they cannot be
    (a file that cannot be read, a header that differs from the first file's, too many bytes)."""
    pieces: list[bytes] = []
    starts: list[int] = []
    bodies: list[tuple[int, int]] = []
    errors: list[CivicError] = []
    total = length = 0
    first_header = b""
    for number, path in enumerate(resource.parts):
        data, problems = read(path)
        errors.extend(problems)
        if data is None:
            continue
        size, bom = len(data), len(BOM) if data.startswith(BOM) else 0
        data = data[bom:]
        body = header_lines(data, header)
        if number == 0:
            first_header = data[:body]
            pieces.append(first_header)
            length = len(first_header)
        elif not errors and not same_header(first_header, data[:body]):
            errors.append(header_error(path, resource, first_header, data[:body]))
            continue
        total += len(data)
        if total > limit:
            note = size_note("table", total, limit, "limits.file_bytes")
            path = resource.parts[0]
            return None, [TooLargeError(note=f"{note} (its files together)", path=path)]
        starts.append(length)
        bodies.append((bom + body, size))
        rows = data[body:]
        pieces.append(rows if not rows or rows.endswith((b"\n", b"\r")) else rows + b"\n")
        length += len(pieces[-1])
    if errors:
        return None, errors
    return Joined(b"".join(pieces), tuple(starts), tuple(bodies)), []


def header_error(path: str, resource: Resource, first: bytes, found: bytes) -> CivicError:
    shown = found.decode("utf-8", "replace").strip()[:120]
    expected = first.decode("utf-8", "replace").strip()[:120]
    note = (
        f'this file\'s header "{shown}" differs from the header of {resource.parts[0]} '
        f'("{expected}"); the files of resource "{resource.name}" are one table: give each '
        "the same header, in the same order"
    )
    return FormatError(note=note, path=path, resource=resource.name, row=1)


def parts_of(joined: Joined, resource: Resource, plan: TablePlan) -> Parts:
    """Which file each row of the joined table comes from."""
    header = len(plan.dialect.header_rows)
    firsts, row = [header + 1], header + 1
    for count in rows_before_last(joined, plan):
        row += count
        firsts.append(row)
    return Parts(tuple(resource.parts), tuple(firsts), header)


def rows_before_last(joined: Joined, plan: TablePlan) -> list[int]:
    """The data rows of each file but the last, read as the scan reads them (a quoted cell
    may hold a line break)."""
    data, starts, dialect = joined.data, joined.starts, plan.dialect
    segments = list(zip(starts, starts[1:], strict=False))
    quote = dialect.quote_char.encode() if dialect.quote_char else b""
    if not quote or data.find(quote) < 0:
        return [line_breaks(data[lo:hi]) for lo, hi in segments]
    if _kernel is not None and _kernel.supported(plan):
        found = _kernel.row_starts(data, plan, starts[0], list(starts[1:]))
        if [offset for offset, _ in found] == list(starts[1:]):  # else a quote runs on
            numbers = [1] + [number for _, number in found]
            return [later - number for number, later in zip(numbers, numbers[1:], strict=False)]
    return [records(data[lo:hi], dialect) for lo, hi in segments]


def line_breaks(data: bytes) -> int:
    """Rows of a file's body when no cell is quoted: its line breaks (CRLF counts once)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def records(data: bytes, dialect: Dialect) -> int:
    """Rows of a file's body, read by the csv module (line breaks if it cannot be read)."""
    text, problem = decode(data, dialect.encoding)
    if problem:
        return line_breaks(data)
    try:
        return sum(1 for _ in csv_rows(text, dialect))
    except csv.Error:
        return line_breaks(data)


def published_location(folder: str, name: str) -> str:
    """Where a table in several files is published, joined: <package>/<resource>.csv."""
    return posixpath.join(folder, f"{name}.csv") if folder else f"{name}.csv"


def files_label(paths: tuple[str, ...]) -> str:
    """'data/2024-01.csv … data/2024-12.csv (12 files)'."""
    if len(paths) == 1:
        return paths[0]
    return f"{paths[0]} … {paths[-1]} ({len(paths)} files)"


def joined_bytes(read: Callable[[str], bytes], resource: Resource, header: int) -> bytes:
    """The joined table of a resource validated before (the read raises OSError if a file
    went missing); for one file, its bytes."""
    if not resource.parts:
        return read(resource.path)

    def reader(path: str) -> tuple[bytes | None, list[Any]]:
        return read(path), []

    joined, _ = join_files(reader, resource, header, 1 << 62)
    if joined is None:
        raise OSError("the files of this table do not join (the validation said why)")
    return joined.data
