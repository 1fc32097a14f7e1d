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

import contextlib
import mmap
import os
from concurrent.futures import CancelledError
from typing import Any

from ..exceptions import CivicgenException
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
    from distributed import KilledWorker

    executor = cluster.client.get_executor(pure=False)
    size = partition_size(len(data), cluster.partition_bytes)
    scan = OnCluster(data, plan, size, executor, os.fspath(path))
    try:
        return scan.run()
    except PartitionUnreadable as exc:
        raise CivicgenException(str(exc)) from None
    except (KilledWorker, CancelledError, OSError, TimeoutError) as exc:
        raise CivicgenException(
            f"the Dask cluster could not scan {os.fspath(path)} ({type(exc).__name__}: {exc}); "
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
            futures = [self.submit(self.executor, lo, hi, row, width, False)
                       for lo, hi, row in ranges]  # fmt: skip
            collected = self.collect(ranges, futures)
        assert collected is not None  # cut where records start: nothing is quoted or shifted
        ranges, parts, merged = collected
        self.groups = merged.groups()
        return ranges, parts, None  # primary keys: compared here, from the partitions' hashes

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
