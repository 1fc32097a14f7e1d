"""A large file scanned on a Dask cluster: partitions at row boundaries, partial states combined.

This process (Dask's client) holds the file, as the repository it validates: it reads the
header and cuts the rest after line feeds, every partition_bytes. Each partition is one task,
described by the file's path and size, its byte range and the row it starts at; a worker
opens the file at that path itself (workers must reach the same files: a shared folder),
maps it and runs the compiled kernel on its range, as a local worker process does
(chunks.scan_chunk). What comes back is the partition's partial state: its errors and rows,
its aggregates (compact dumps, merged in C), its unique keys, and each row's primary-key
hash and row number (12 bytes a row). They are combined here as the local chunked scan
combines its chunks (parallel.Chunked, merge.Merge): rows renumbered from the partitions
before, a hash met twice confirmed on the two rows' cells, read here, so primary-key and
unique checks are exact. The scheduler sees only task descriptions and partial states.

A partition that turns out to hold a quote before its end is cut again where the kernel
finds record starts (a line feed may sit inside a quoted cell). When a worker dies, Dask
runs its tasks again elsewhere; a task that fails for good ends the scan with an error,
never with a report that misses a partition.
"""

from __future__ import annotations

import array
import bisect
import contextlib
import mmap
import os
from concurrent.futures import CancelledError
from typing import Any

from ..exceptions import CivicgenException
from ..parts import FilePiece
from .chunks import scan_chunk
from .cluster import Cluster
from .parallel import Chunked
from .plan import TablePlan
from .reference import ScanResult

MAX_PARTITIONS = 4096  # of one file: about 35 s of scheduling at 9 ms each


class PartitionUnreadable(Exception):
    """A worker cannot read the file this process scans (another file, or none, at the path)."""


def scan_on_cluster(
    cluster: Cluster, path: str | os.PathLike[str], data: Any, plan: TablePlan
) -> ScanResult:
    """The scan of the file at path (data: its bytes or map here) on the cluster's workers."""
    executor = cluster.client.get_executor(pure=False)
    size = partition_size(len(data), cluster.partition_bytes)
    return run_on_cluster(OnCluster(data, plan, size, executor, os.fspath(path)), os.fspath(path))


def scan_files_on_cluster(
    cluster: Cluster, pieces: tuple[FilePiece, ...], data: bytes, plan: TablePlan
) -> ScanResult:
    """The scan of a table in several files (data: joined here) on the cluster's workers:
    each file a partition at least, a large one cut after line feeds."""
    executor = cluster.client.get_executor(pure=False)
    size = partition_size(len(data), cluster.partition_bytes)
    where = f"{pieces[0].path} and the {len(pieces) - 1} other files of its table"
    return run_on_cluster(FilesOnCluster(data, plan, size, executor, pieces), where)


def run_on_cluster(scan: OnCluster, where: str) -> ScanResult:
    """Run a scan on the cluster: its result, or a clear error (never a partial report)."""
    from distributed import KilledWorker

    try:
        return scan.run()
    except PartitionUnreadable as exc:
        raise CivicgenException(str(exc)) from None
    except (KilledWorker, CancelledError, OSError, TimeoutError) as exc:
        raise CivicgenException(
            f"the Dask cluster could not scan {where} ({type(exc).__name__}: {exc}); "
            "no report is given, as it would miss part of the file: run it again, or with "
            "--engine local"
        ) from None


def partition_size(file_bytes: int, wanted: int) -> int:
    """The partition size asked for, or larger so that a file makes at most MAX_PARTITIONS
    (a tiny size in mkdocs.yml must not turn a file into a task a row)."""
    return max(wanted, -(-file_bytes // MAX_PARTITIONS))


class OnCluster(Chunked):
    """A chunked scan whose chunks are partitions scanned by a Dask cluster's workers."""

    def __init__(
        self, data: Any, plan: TablePlan, partition_bytes: int, executor: Any, path: str
    ) -> None:
        super().__init__(data, plan, partition_bytes, workers=1)
        self.executor, self.path = executor, path

    def scan_chunks(
        self, body: int, first_row: int, width: int | None
    ) -> tuple[list[Any], list[Any], None] | None:
        """The partitions' ranges and partial results, their groups merged (None: the
        rows make one partition, scanned here)."""
        found = self.speculate(self.executor, body, first_row, width)
        collected = self.collect(*found) if found is not None else None
        if collected is None:
            ranges = self.ranges(body, first_row)
            if len(ranges) < 2:
                return None
            return self.scan_ranges(ranges, width)
        return self.merged(collected)

    def scan_ranges(
        self, ranges: list[tuple[int, int, int]], width: int | None
    ) -> tuple[list[Any], list[Any], None]:
        """Scan these partitions, none of which may hold a quote before its end."""
        futures = [self.submit(self.executor, lo, hi, row, width, False) for lo, hi, row in ranges]
        return self.merged(self.collect(ranges, futures))

    def merged(self, collected: Any) -> tuple[list[Any], list[Any], None]:
        """The partitions' ranges and partial results, their groups merged (primary keys:
        compared here, from the partitions' hashes)."""
        assert collected is not None  # cut where records start: nothing is quoted or shifted
        ranges, parts, merged = collected
        self.groups = merged.groups()
        return ranges, parts, None

    def submit(
        self,
        pool: Any,
        lo: int,
        hi: int,
        row: int,
        width: int | None,
        fork: bool,
        quote: bytes | None = None,
    ) -> Any:
        """One partition's task: what to read, never the bytes."""
        size = len(self.data)
        return pool.submit(scan_partition, self.path, size, self.plan, lo, hi, row, width, quote)


class FilesOnCluster(OnCluster):
    """A table in several files scanned on the cluster: a worker reads each file itself;
    the joined bytes here serve to confirm keys met twice, as for one file."""

    def __init__(
        self,
        data: bytes,
        plan: TablePlan,
        partition_bytes: int,
        executor: Any,
        pieces: tuple[FilePiece, ...],
    ) -> None:
        super().__init__(data, plan, partition_bytes, executor, pieces[0].path)
        self.pieces = pieces
        self.starts = [piece.start for piece in pieces]

    def scan_chunks(
        self, body: int, first_row: int, width: int | None
    ) -> tuple[list[Any], list[Any], None] | None:
        """The partitions' ranges and partial results, their groups merged (None: the rows
        make one partition, scanned here)."""
        ranges = self.piece_ranges(first_row)
        return self.scan_ranges(ranges, width) if len(ranges) >= 2 else None

    def piece_ranges(self, first_row: int) -> list[tuple[int, int, int]]:
        """(start, stop, first row) in the joined table of each partition: every file, cut
        after line feeds when none of its cells is quoted (collect numbers the rows)."""
        quote = self.plan.dialect.quote_char.encode()
        stops = [*self.starts[1:], len(self.data)]
        ranges: list[tuple[int, int, int]] = []
        for start, stop in zip(self.starts, stops, strict=True):
            quoted = bool(quote) and self.data.find(quote, start, stop) >= 0
            bounds = [start, *([] if quoted else self.line_cuts(start, stop)), stop]
            ranges.extend((lo, hi, first_row) for lo, hi in zip(bounds, bounds[1:], strict=False))
        return [(lo, hi, row) for lo, hi, row in ranges if hi > lo]

    def submit(
        self,
        pool: Any,
        lo: int,
        hi: int,
        row: int,
        width: int | None,
        fork: bool,
        quote: bytes | None = None,
    ) -> Any:
        """One partition's task: the file, and the range of it, to read."""
        piece = self.pieces[bisect.bisect_right(self.starts, lo) - 1]
        shift = piece.start - piece.lo  # from the file's offsets to the joined table's
        file_lo, file_hi = lo - shift, min(hi - shift, piece.size)  # the file may end unbroken
        plan, path, size = self.plan, piece.path, piece.size
        return pool.submit(scan_piece, path, size, plan, file_lo, file_hi, row, width, shift)


def scan_piece(
    path: str,
    size: int,
    plan: TablePlan,
    lo: int,
    hi: int,
    first_row: int,
    width: int | None,
    shift: int,
) -> Any:
    """On a worker: the partial state of bytes lo..hi of one file of a joined table, its
    offsets moved by shift to the joined table's (where keys met twice are read again)."""
    part = scan_partition(path, size, plan, lo, hi, first_row, width, None)
    if not isinstance(part, tuple) or part[1] is None:
        return part  # not UTF-8, or no primary key: no offsets
    result, primary, uniques, format_error = part
    where, keys, offsets, row, start, stop, moved = primary
    moved_offsets = array.array("q", offsets)
    for index, offset in enumerate(moved_offsets):
        moved_offsets[index] = offset + shift
    primary = (where, keys, moved_offsets.tobytes(), row, start + shift, stop + shift, moved)
    return result, primary, uniques, format_error


def scan_partition(
    path: str,
    size: int,
    plan: TablePlan,
    lo: int,
    hi: int,
    first_row: int,
    width: int | None,
    quote: bytes | None,
) -> Any:
    """On a worker: the partial state of bytes lo..hi of the file at path (size bytes long)."""
    try:
        with open(path, "rb") as source:
            found = os.fstat(source.fileno()).st_size
            if found != size:
                raise PartitionUnreadable(
                    f"a Dask worker finds another file at {path} ({found:,} bytes, not "
                    f"{size:,}); every worker must read the same files as this machine "
                    "(a shared folder at the same path)"
                )
            mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise PartitionUnreadable(
            f"a Dask worker cannot read {path} ({exc.strerror or exc}); every worker must "
            "read the same files as this machine (a shared folder at the same path)"
        ) from None
    try:
        return scan_chunk(mapped, plan, lo, hi, first_row, width, True, 1, quote, True)
    finally:
        with contextlib.suppress(BufferError):  # a view still held: it closes when freed
            mapped.close()
