"""Scan one large CSV file on several cores: chunks at row boundaries, partial results merged.

The file is split only where a record starts: after a line feed when no cell before the
last cut is quoted (each worker says so of its chunk at once), else where the kernel's
own CSV state machine finds record starts (a line break inside a quoted cell is not a
boundary). Each chunk (a few a worker, so that a slowed worker takes fewer) is scanned
by the compiled kernel in its own process (chunks.py), numbering its rows from a guess
that is corrected when the chunks before it are in. Primary keys are not looked up
there: each chunk leaves every row's key hash and row in a shared-memory file, split in
many small parts by hash, and then each worker looks up a share of the parts of all the
chunks' keys (equal keys share a part). This process merges the aggregates as the chunks
come in and puts the result together (merge.py): the result one pass gives (float sums
of aggregates up to rounding order).
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import multiprocessing
import os
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from ..stats.partials import GroupMap
from . import reference
from .chunks import QUOTED, merge_parts, remove_keys, scan_chunk, sharing, unwrap
from .engine import compiled as _kernel  # None in a pure-Python install: one process, the reference
from .merge import GroupMerge, Merge, renumbered, union_moves, until_format_error
from .plan import TablePlan, keys_hashed
from .reference import ScanResult
from .sequence import Undecided, keys_proven

MIN_CHUNK = 4 << 20  # below this many bytes per worker, one process is faster
CHUNKS_PER_WORKER = 4  # smaller chunks: a worker slowed down by others takes fewer
KEY_PARTS_PER_WORKER = 16  # smaller parts of the keys: each part's index fits in cache
BOM = b"\xef\xbb\xbf"


def scan_file_parallel(
    path: str | os.PathLike[str], plan: TablePlan, workers: int | None = None
) -> ScanResult:
    """scan_file on several processes: the workers share one memory map of the file."""
    if _kernel is None:
        return reference.scan_file(path, plan)
    with open(path, "rb") as source:
        if os.fstat(source.fileno()).st_size == 0:
            return _kernel.scan_csv(b"", plan)
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        workers = workers or cores()
        chunk_size = max(MIN_CHUNK, -(-len(mapped) // (workers * CHUNKS_PER_WORKER)))
        if workers < 2 or not splittable(mapped, plan) or len(mapped) <= chunk_size:
            return _kernel.scan_file(path, plan)
        return Chunked(mapped, plan, chunk_size, workers).run()
    finally:
        with contextlib.suppress(BufferError):  # a scan failed and still views it: never
            mapped.close()  # hide its error behind this one; the map closes when freed


def scan_csv_parallel(
    data: bytes | mmap.mmap,
    plan: TablePlan,
    workers: int | None = None,
    chunk_size: int | None = None,
) -> ScanResult:
    """Scan a CSV file (its bytes, or a read-only map of it) on `workers` processes
    (default: one per core); same result as scan_csv."""
    if _kernel is None or not _kernel.supported(plan):
        return reference.scan_csv(bytes(data), plan)
    workers = workers or cores()
    if chunk_size is None:
        chunk_size = max(MIN_CHUNK, -(-len(data) // (workers * CHUNKS_PER_WORKER)))
    if workers < 2 or not splittable(data, plan) or len(data) <= chunk_size:
        return _kernel.scan_buffer(data, plan, isinstance(data, mmap.mmap))
    return Chunked(data, plan, chunk_size, workers).run()


def cores() -> int:
    """The cores this process may run on (a container's share, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def splittable(data: bytes | mmap.mmap, plan: TablePlan) -> bool:
    """Plans the chunked scan handles: the kernel's own, with header rows 1..k.

    UTF-8 is checked by the workers, each on its chunk (and the header here): if a byte is
    wrong, the one-process scan reports it.
    """
    headers = plan.dialect.header_rows
    return bool(_kernel.supported(plan)) and sorted(headers) == list(range(1, len(headers) + 1))


class Chunked:
    """One chunked scan: the header in this process, the data rows in worker processes."""

    def __init__(
        self, data: bytes | mmap.mmap, plan: TablePlan, chunk_size: int, workers: int
    ) -> None:
        self.data, self.plan, self.chunk_size, self.workers = data, plan, chunk_size, workers
        self.start = len(BOM) if data[: len(BOM)] == BOM else 0
        self.mapped = isinstance(data, mmap.mmap)
        self.groups: list[GroupMap] = []  # merged as the chunks come in

    def run(self) -> ScanResult:
        """The chunks' scan; again with every primary key kept if the stations' order did
        not prove it unique (plan.ordered_key)."""
        enabled = gc.isenabled()
        gc.disable()  # the merge makes many objects and keeps them: no cycles to look for
        try:
            result = self.run_chunks()
            if keys_proven(self.plan, result.sequences, result.unplaced):
                return result
            self.plan = self.plan._replace(ordered_key=-1)
            return self.run_chunks()
        finally:
            if enabled:
                gc.enable()

    def run_chunks(self) -> ScanResult:
        header = self.header()
        if header is None:  # not UTF-8: the one-process scan reports where
            return self.single()
        head, body, first_row = header
        if head is not None and head.ended:  # a header row over a limit ends the scan
            return self.single()
        scanned = self.scan_chunks(body, first_row, head.width if head is not None else None)
        if scanned is None:
            return self.single()
        ranges, parts, primary = scanned
        try:
            if any(part is None for part in parts):  # a chunk is not UTF-8
                return self.single()
            return Merge(self, head, ranges, parts, primary).result()
        except Undecided:  # a station's readings in two chunks overlap too much in time
            return self.single()
        finally:  # the files go in the background (freeing their memory takes a while);
            # a thread that is not a daemon: the interpreter waits for it before it exits
            threading.Thread(target=remove_keys, args=(parts,), name="civicgen-cleanup").start()

    def single(self) -> ScanResult:
        return _kernel.scan_buffer(self.data, self.plan, self.mapped)

    def header(self) -> tuple[Any, int, int] | None:
        """Scan the header rows here: their labels give the width the chunks check against.
        None if they are not UTF-8."""
        count = len(self.plan.dialect.header_rows)
        if count == 0:
            return None, self.start, 1
        body = _kernel.Scan(self.data, self.plan, self.start, len(self.data)).skip(count)
        if body is None:
            body = len(self.data)
        if not _kernel.utf8_ok(self.data, self.start, body):
            return None
        head = _kernel.Scan(self.data, self.plan, self.start, body).run(1)
        return head, body, count + 1

    def ranges(self, body: int, first_row: int) -> list[tuple[int, int, int]]:
        """(start, stop, first row) of each chunk; every start is a record start."""
        targets = list(range(body + self.chunk_size, len(self.data), self.chunk_size))
        quote = self.plan.dialect.quote_char.encode()
        quoted = self.data.find(quote, body) >= 0
        if isinstance(self.data, mmap.mmap):
            self.data.madvise(mmap.MADV_DONTNEED)  # the search read every page: give them back
        if not quoted:
            points = self.line_points(body, first_row, targets)
        else:
            found = _kernel.row_starts(self.data, self.plan, body, targets)
            points = [(offset, first_row + number - 1) for offset, number in found]
        bounds = [(body, first_row)] + sorted(set(points))
        stops = [offset for offset, _ in bounds[1:]] + [len(self.data)]
        return [(lo, hi, row) for (lo, row), hi in zip(bounds, stops, strict=True) if hi > lo]

    def line_points(self, body: int, first_row: int, targets: list[int]) -> list[tuple[int, int]]:
        """Split points when no cell is quoted: after a line feed; rows are line breaks."""
        data, points, row, last = self.data, [], first_row, body
        for target in targets:
            cut = data.find(b"\n", max(target, last)) + 1
            if cut <= 0 or cut >= len(data):
                break
            row += _kernel.count_rows(data, last, cut)
            points.append((cut, row))
            last = cut
        return points

    def scan_chunks(
        self, body: int, first_row: int, width: int | None
    ) -> tuple[list[Any], list[Any], list[dict[int, int]] | None] | None:
        """The chunks' ranges, their partial results and, when the workers share the file,
        the primary keys seen again in later chunks (looked up by the workers, a part of
        the keys each); None if the data rows do not make two chunks."""
        fork = "fork" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if fork else None)
        pool = ProcessPoolExecutor(self.workers, mp_context=context)
        with sharing(self.data if fork else None):
            try:
                return self.scan_in(pool, fork, body, first_row, width)
            finally:
                # wait for the idle workers to exit: a pool left running at interpreter exit
                # races CPython's own shutdown and prints "Exception ignored … Bad file
                # descriptor" on stderr
                pool.shutdown(wait=True, cancel_futures=True)

    def scan_in(
        self, pool: ProcessPoolExecutor, fork: bool, body: int, first_row: int, width: int | None
    ) -> tuple[list[Any], list[Any], list[dict[int, int]] | None] | None:
        """scan_chunks in a pool whose workers were forked from here, or not (fork)."""
        found = self.speculate(pool, body, first_row, width) if fork else None
        collected = self.collect(*found) if found is not None else None
        if collected is None:
            ranges = self.ranges(body, first_row)
            if len(ranges) < 2:
                return None
            futures = [self.submit(pool, lo, hi, row, width, fork) for lo, hi, row in ranges]
            collected = self.collect(ranges, futures)
        assert collected is not None  # true first rows: nothing is quoted or shifted
        ranges, parts, merged = collected
        self.groups = merged.groups()
        if not fork or not keys_hashed(self.plan) or None in parts:
            return ranges, parts, None
        futures = primary_moves(pool, self.plan, until_format_error(parts), self.workers)
        return ranges, parts, union_moves(future.result() for future in futures)

    def collect(
        self, ranges: list[tuple[int, int, int]], futures: list[Any]
    ) -> tuple[list[tuple[int, int, int]], list[Any], GroupMerge] | None:
        """The chunks' results in file order, their rows renumbered from the rows before
        them and their groups merged as they come in; None if a chunk before the last cut
        is QUOTED (the scan is then cut where the kernel finds record starts)."""
        parts: list[Any] = []  # each chunk's result, in file order (None: not UTF-8)
        merged, true_ranges = GroupMerge(self.plan), []
        row = ranges[0][2]
        for (lo, hi, numbered_from), future in zip(ranges, futures, strict=True):
            if quoted_before(future, futures):
                for other in futures:
                    other.cancel()
                later = futures[len(parts) :]
                remove_keys(parts + [unwrap(f.result()) for f in later if not f.cancelled()])
                return None
            part = unwrap(future.result())
            if part is not None and row != numbered_from:
                part = renumbered(part, row - numbered_from)
            parts.append(part)
            merged.add(part)
            true_ranges.append((lo, hi, row))
            row += part[0].rows if part is not None else 0
        return true_ranges, parts, merged

    def submit(
        self,
        pool: ProcessPoolExecutor,
        lo: int,
        hi: int,
        row: int,
        width: int | None,
        fork: bool,
        quote: bytes | None = None,
    ) -> Any:
        """Scan one chunk in a worker (a forked worker reads the shared file itself)."""
        data = None if fork else self.data[lo:hi]
        where = (lo, hi) if fork else (0, hi - lo)
        parts = self.workers * KEY_PARTS_PER_WORKER if fork else 1
        return pool.submit(
            scan_chunk, data, self.plan, *where, row, width, self.mapped, parts, quote
        )

    def speculate(
        self, pool: ProcessPoolExecutor, body: int, first_row: int, width: int | None
    ) -> tuple[list[tuple[int, int, int]], list[Any]] | None:
        """Chunks cut after line feeds, all sent to the workers at once, each numbering its
        rows from first_row (the rows before it are known when the chunks before it are
        in: Chunked.collect); None if there are fewer than two chunks. A worker reports
        QUOTED instead if a chunk before the last cut holds a quote (a line feed may then
        be inside a cell)."""
        bounds = [body, *self.line_cuts(body), len(self.data)]
        if len(bounds) < 3:
            return None
        quote = self.plan.dialect.quote_char.encode()
        ranges = [(lo, hi, first_row) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
        futures = [
            self.submit(pool, lo, hi, row, width, True, quote if hi < len(self.data) else None)
            for lo, hi, row in ranges
        ]
        return ranges, futures

    def line_cuts(self, body: int, stop: int | None = None) -> list[int]:
        """Offsets just after the first line feed past each chunk_size step (up to stop)."""
        data, cuts, last = self.data, [], body
        stop = len(data) if stop is None else stop
        for target in range(body + self.chunk_size, stop, self.chunk_size):
            cut = data.find(b"\n", max(target, last), stop) + 1
            if cut <= 0 or cut >= stop:
                break
            cuts.append(cut)
            last = cut
        return cuts


def quoted_before(future: Any, futures: list[Any]) -> bool:
    """Wait for future; True as soon as any chunk reports QUOTED (workers tell at once)."""
    while True:
        if any(f.done() and not f.exception() and f.result() == QUOTED for f in futures):
            return True
        if future.done():
            return False
        wait([f for f in futures if not f.done()], return_when=FIRST_COMPLETED)


def primary_moves(
    pool: ProcessPoolExecutor, plan: TablePlan, parts: list[Any], workers: int
) -> list[Any]:
    """Futures of, per chunk, {row: the first row of its primary key} for keys seen again:
    each worker looks up every workers-th part of the keys (a key's part is set by its
    hash, so duplicates meet)."""
    keys = [part[1] for part in parts]
    count = len(keys[0][1])
    return [pool.submit(merge_parts, plan, keys, range(w, count, workers)) for w in range(workers)]
