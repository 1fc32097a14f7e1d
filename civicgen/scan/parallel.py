"""Scan one large CSV file on several cores: chunks at row boundaries, partial results merged.

The file is split only where a record starts: after a line feed, this process counting
the rows before each chunk while the workers scan the first ones, when no cell before the
last cut is quoted (else the kernel's own CSV state machine finds the split points: a line
break inside a quoted cell is not a boundary). Each chunk (a few a worker, so that a
slowed worker takes fewer) is scanned by the compiled kernel in its own process with its
true first row number. Primary keys are not looked up there: each chunk leaves every
row's key hash and row in a shared-memory file, split in many small parts by hash, and
then each worker looks up a share of the parts of all the chunks' keys (equal keys share
a part), so no process merges them all. This process merges the aggregates (sent as C
arrays) as the chunks come in, as partials.merge_groups does, then concatenates errors,
adds the primary-key errors and the cross-chunk unique duplicates. The result equals the
one-process scan (float sums of aggregates up to rounding order).
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import mmap
import multiprocessing
import os
import pickle
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from . import reference
from .plan import TablePlan
from .reference import RawError, ScanResult

try:
    from . import _kernel  # type: ignore[attr-defined]
except ImportError:  # pure-Python install: one process, the reference
    _kernel = None

MIN_CHUNK = 4 << 20  # below this many bytes per worker, one process is faster
CHUNKS_PER_WORKER = 4  # smaller chunks: a worker slowed down by others takes fewer
KEY_PARTS_PER_WORKER = 16  # smaller parts of the keys: each part's index fits in cache
BOM = b"\xef\xbb\xbf"
QUOTED = "quoted"  # a worker's answer for a chunk that holds a quote before the last cut
PARCEL = "parcel"  # a worker's answer: (PARCEL, path of the file that holds its result)
ROW_DETAIL = ("primary-key", "unique-error")  # codes whose detail is the first row's number
_DATA: Any = None  # the file (bytes or a read-only mmap), inherited by forked workers


def scan_file_parallel(
    path: str | os.PathLike[str], plan: TablePlan, workers: int | None = None
) -> ScanResult:
    """scan_file on several processes: the workers share one memory map of the file."""
    if _kernel is None or os.environ.get("CIVICGEN_NO_EXTENSIONS"):
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
    data: bytes, plan: TablePlan, workers: int | None = None, chunk_size: int | None = None
) -> ScanResult:
    """Scan a CSV file on `workers` processes (default: one per core); same result as scan_csv."""
    if _kernel is None or os.environ.get("CIVICGEN_NO_EXTENSIONS"):
        return reference.scan_csv(data, plan)
    workers = workers or cores()
    if chunk_size is None:
        chunk_size = max(MIN_CHUNK, -(-len(data) // (workers * CHUNKS_PER_WORKER)))
    if workers < 2 or not splittable(data, plan) or len(data) <= chunk_size:
        return _kernel.scan_csv(data, plan)
    return Chunked(data, plan, chunk_size, workers).run()


def cores() -> int:
    """The cores this process may run on (a container's share, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def splittable(data: bytes, plan: TablePlan) -> bool:
    """Plans the chunked scan handles: the kernel's own, with header rows 1..k.

    UTF-8 is checked by the workers, each on its chunk (and the header here): if a byte is
    wrong, the one-process scan reports it.
    """
    headers = plan.dialect.header_rows
    return bool(_kernel.supported(plan)) and sorted(headers) == list(range(1, len(headers) + 1))


class Chunked:
    """One chunked scan: the header in this process, the data rows in worker processes."""

    def __init__(self, data: bytes, plan: TablePlan, chunk_size: int, workers: int) -> None:
        self.data, self.plan, self.chunk_size, self.workers = data, plan, chunk_size, workers
        self.start = len(BOM) if data[: len(BOM)] == BOM else 0
        self.mapped = isinstance(data, mmap.mmap)
        self.groups: list[dict[tuple[str, ...], Any]] = []  # merged as the chunks come in

    def run(self) -> ScanResult:
        enabled = gc.isenabled()
        gc.disable()  # the merge makes many objects and keeps them: no cycles to look for
        try:
            return self.run_chunks()
        finally:
            if enabled:
                gc.enable()

    def run_chunks(self) -> ScanResult:
        header = self.header()
        if header is None:  # not UTF-8: the one-process scan reports where
            return self.single()
        head, body, first_row = header
        scanned = self.scan_chunks(body, first_row, head.width if head is not None else None)
        if scanned is None:
            return self.single()
        ranges, parts, primary = scanned
        try:
            if any(part is None for part in parts):  # a chunk is not UTF-8
                return self.single()
            return Merge(self, head, ranges, parts, primary).result()
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
        if self.mapped:
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
        global _DATA
        fork = "fork" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if fork else None)
        _DATA = self.data if fork else None
        pool = ProcessPoolExecutor(self.workers, mp_context=context)
        try:
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
            if not fork or not self.plan.primary_key or None in parts:
                self.groups = merged.groups()
                return ranges, parts, None
            futures = primary_moves(pool, self.plan, until_format_error(parts), self.workers)
            handed_over(futures)
            self.groups = merged.groups(handing_over=True)  # as workers look keys up
            return ranges, parts, union_moves(future.result() for future in futures)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # no waiting for exits
            _DATA = None

    def collect(
        self, ranges: list[tuple[int, int, int]], futures: list[Any]
    ) -> tuple[list[tuple[int, int, int]], list[Any], GroupMerge] | None:
        """The chunks' results in file order, their rows renumbered from the rows before
        them and their groups merged as they come in; None if a chunk before the last cut
        is QUOTED (the scan is then cut where the kernel finds record starts)."""
        merged, parts, true_ranges = GroupMerge(self.plan), [], []
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

    def line_cuts(self, body: int) -> list[int]:
        """Offsets just after the first line feed past each chunk_size step."""
        data, cuts, last = self.data, [], body
        for target in range(body + self.chunk_size, len(data), self.chunk_size):
            cut = data.find(b"\n", max(target, last)) + 1
            if cut <= 0 or cut >= len(data):
                break
            cuts.append(cut)
            last = cut
        return cuts


def handed_over(futures: list[Any]) -> None:
    """Wait (a few milliseconds) until the pool's threads have passed the tasks on: they need
    the interpreter, which a long merge here would hold."""
    while not all(future.running() or future.done() for future in futures):
        time.sleep(0.0002)


def quoted_before(future: Any, futures: list[Any]) -> bool:
    """Wait for future; True as soon as any chunk reports QUOTED (workers tell at once)."""
    while True:
        if any(f.done() and not f.exception() and f.result() == QUOTED for f in futures):
            return True
        if future.done():
            return False
        wait([f for f in futures if not f.done()], return_when=FIRST_COMPLETED)


def renumbered(part: Any, shift: int) -> Any:
    """A chunk's result with its rows moved by shift (it numbered them from a guess)."""
    result, primary, uniques, format_error = part
    errors = [
        (row + shift, field, code, cell, str(int(detail) + shift) if code in ROW_DETAIL else detail)
        for row, field, code, cell, detail in result.errors
    ]
    key_rows = [
        {key: [row + shift for row in found] for key, found in rows.items()}
        for rows in result.key_rows
    ]
    if primary is not None:
        path, layout, checkpoints, first_row, lo, hi, moved = primary
        primary = (path, layout, checkpoints, first_row + shift, lo, hi, moved + shift)
    uniques = [_kernel.shifted_rows(arena, entries, shift) for arena, entries in uniques]
    return result._replace(errors=errors, key_rows=key_rows), primary, uniques, format_error


def remove_keys(parts: list[Any]) -> None:
    """Delete the files of the chunks' primary keys (park_keys)."""
    for part in parts:
        if isinstance(part, tuple) and part[1] is not None:
            with contextlib.suppress(OSError):
                os.unlink(part[1][0])


def until_format_error(parts: list[Any]) -> list[Any]:
    """The chunks up to the first with a format error (which ends the scan, as in one process)."""
    for index, part in enumerate(parts):
        if part[3]:
            return parts[: index + 1]
    return parts


def primary_moves(
    pool: ProcessPoolExecutor, plan: TablePlan, parts: list[Any], workers: int
) -> list[Any]:
    """Futures of, per chunk, {row: the first row of its primary key} for keys seen again:
    each worker looks up every workers-th part of the keys (a key's part is set by its
    hash, so duplicates meet)."""
    keys = [part[1] for part in parts]
    count = len(keys[0][1])
    return [pool.submit(merge_parts, plan, keys, range(w, count, workers)) for w in range(workers)]


def union_moves(found: Any) -> list[dict[int, int]]:
    """The moves of all key parts together, per chunk."""
    moves: list[dict[int, int]] = []
    for part in found:
        moves = moves or [{} for _ in part]
        for merged, more in zip(moves, part, strict=True):
            merged.update(more)
    return moves


def merge_parts(
    plan: TablePlan, keys: list[Any], parts: range, data: Any = None
) -> list[dict[int, int]]:
    """_kernel.merge_primary over some parts of every chunk's primary keys (a worker's share)."""
    chunks = []
    for path, layout, *rest in keys:
        found = read_keys(path, [layout[part] for part in parts])
        chunks.append(([tags for tags, _ in found], [rows for _, rows in found], *rest))
    return _kernel.merge_primary(_DATA if data is None else data, plan, chunks)


def park_keys(parts: list[tuple[bytes, bytes]]) -> tuple[str, list[tuple[int, int, int]]]:
    """Write a chunk's key parts to a file (in shared memory where there is /dev/shm), for
    the processes that merge them: (path, [(offset, tag bytes, row bytes) of each part])."""
    folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
    layout, offset = [], 0
    with tempfile.NamedTemporaryFile(prefix="civicgen-keys-", dir=folder, delete=False) as out:
        for tags, rows in parts:
            out.write(tags)
            out.write(rows)
            layout.append((offset, len(tags), len(rows)))
            offset += len(tags) + len(rows)
    return out.name, layout


def read_keys(path: str, wheres: list[tuple[int, int, int]]) -> list[tuple[Any, Any]]:
    """(tags, rows) of some parts of a chunk's keys, as views of the file park_keys wrote
    (mapped, not copied; the map closes when the last view goes)."""
    with open(path, "rb") as source:
        if os.fstat(source.fileno()).st_size == 0:
            return [(b"", b"") for _ in wheres]
        view = memoryview(mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ))
    return [
        (
            view[offset : offset + tag_bytes],
            view[offset + tag_bytes : offset + tag_bytes + row_bytes],
        )
        for offset, tag_bytes, row_bytes in wheres
    ]


def scan_chunk(
    data: bytes | None,
    plan: TablePlan,
    lo: int,
    hi: int,
    first_row: int,
    width: int | None,
    release: bool = False,
    key_parts: int = 1,
    quote: bytes | None = None,
) -> tuple[ScanResult, Any, list[Any], bool] | str | None:
    """In a worker: scan one chunk; return its result and its keys, compactly (None if
    the chunk is not UTF-8; QUOTED, at once, if quote is given and found in it).

    Primary keys are not looked up here: every row's key travels as a 32-bit hash tag and
    the row (12 bytes a row), split in key_parts parts by tag, with the chunk's record
    checkpoints, so that the process merging a part can re-read any row to confirm a match.
    """
    shared, data = data is None, _DATA if data is None else data
    assert data is not None
    if quote is not None and data.find(quote, lo, hi) >= 0:
        return QUOTED
    scan = _kernel.scan_range(data, plan, lo, hi, first_row, width, release, key_parts, True)
    if scan.bad_utf8:  # checked in the record loop, a block ahead of the cursor
        return None
    uniques = [keys.dumps() for keys in scan.uniques]
    primary = None
    if plan.primary_key:
        primary = (*park_keys(scan.deferred_keys()), *scan.checkpoints(), lo, hi, 0)
    part = (scan.result(dump_groups=True), primary, uniques, bool(scan.format_error))
    return parcel(part) if shared else part


def parcel(part: Any) -> tuple[str, str]:
    """A worker's result through a shared-memory file: the worker is free at once (a large
    result through the pool's pipe waits for this process to read it)."""
    folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.NamedTemporaryFile(prefix="civicgen-part-", dir=folder, delete=False) as out:
        pickle.dump(part, out, protocol=pickle.HIGHEST_PROTOCOL)
    return PARCEL, out.name


def unwrap(answer: Any) -> Any:
    """A worker's answer, read from its parcel file (then deleted) if it sent one."""
    if isinstance(answer, tuple) and len(answer) == 2 and answer[0] == PARCEL:
        with open(answer[1], "rb") as source:
            os.unlink(answer[1])
            return pickle.load(source)  # noqa: S301 - written by this scan's own workers
    return answer


def error_rank(error: RawError) -> tuple[int, int, int]:
    """Where an error sits among its row's errors: cells by field, extra cells, then the key."""
    row, field, code = error[0], error[1], error[2]
    if code == "primary-key":
        return (row, 3, 0)
    if code == "extra-cell":
        return (row, 2, field)
    return (row, 1, field)


class Merge:
    """Combine the chunks' partial results into the one-process result."""

    def __init__(
        self,
        chunked: Chunked,
        head: Any,
        ranges: list[Any],
        parts: list[Any],
        primary: list[dict[int, int]] | None = None,
    ) -> None:
        """primary: the primary keys seen again, per chunk, if the workers found them."""
        self.chunked, self.plan = chunked, chunked.plan
        self.parts = until_format_error(parts)  # a format error ends the scan, as in one process
        self.ranges, self.head, self.primary = ranges[: len(self.parts)], head, primary
        self.added: list[RawError] = []

    def result(self) -> ScanResult:
        errors = list(self.head.errors) if self.head is not None else []
        labels = list(self.head.labels) if self.head is not None else []
        results = [part[0] for part in self.parts]
        moves = self.cross_chunk_keys()
        for index, result in enumerate(results):
            errors.extend(
                self.rewrite(result.errors, moves[index]) if moves[index] else result.errors
            )
        if self.added:
            errors = list(heapq.merge(errors, sorted(self.added, key=error_rank), key=error_rank))
        return ScanResult(
            errors,
            sum(result.rows for result in results),
            labels,
            self.key_sets(results),
            self.key_rows(results),
            self.chunked.groups,
        )

    def cross_chunk_keys(self) -> list[dict[Any, dict[int, int]]]:
        """Per chunk: {field number (0: primary key): {first row here: first row before}}."""
        moves: list[dict[Any, dict[int, int]]] = [{} for _ in self.parts]
        if self.plan.primary_key:
            primary = self.primary
            if primary is None:  # the workers did not share the file: look keys up here
                keys = [part[1] for part in self.parts]
                primary = merge_parts(self.plan, keys, range(len(keys[0][1])), self.chunked.data)
            for index, moved in enumerate(primary):
                if moved:
                    moves[index][0] = moved
                    self.added.extend(
                        (row, 0, "primary-key", "", str(first)) for row, first in moved.items()
                    )
        uniques = [_kernel.KeySet.loads(*dump) for dump in self.parts[0][2]]
        unique_fields = [
            i for i, f in enumerate(self.plan.fields) if dict(f.constraints).get("unique")
        ]
        for index in range(1, len(self.parts)):
            part = self.parts[index]
            for keys, dump, field in zip(uniques, part[2], unique_fields, strict=True):
                moved = keys.merge_later(_kernel.KeySet.loads(*dump))
                if moved:
                    moves[index][field + 1] = moved
                    cells = self.cells(index, sorted(moved))
                    self.added.extend(
                        (row, field + 1, "unique-error", cells[row][field], str(first))
                        for row, first in moved.items()
                    )
        return moves

    def cells(self, index: int, rows: list[int]) -> dict[int, list[str]]:
        """The cells of some rows of a chunk (for the text of a cross-chunk unique error)."""
        lo, hi, first = self.ranges[index]
        return _kernel.cells_at(self.chunked.data, self.plan, lo, hi, first, rows)

    @staticmethod
    def rewrite(errors: list[RawError], moves: dict[int, dict[int, int]]) -> list[RawError]:
        """Point a chunk's duplicate errors at the key's first row in the whole file."""
        out = []
        for error in errors:
            row, field, code, cell, detail = error
            field_key = 0 if code == "primary-key" else field if code == "unique-error" else None
            moved = moves.get(field_key) if field_key is not None else None
            if moved and int(detail) in moved:
                error = (row, field, code, cell, str(moved[int(detail)]))
            out.append(error)
        return out

    def key_sets(self, results: list[ScanResult]) -> list[set[tuple[Any, ...]]]:
        merged: list[set[tuple[Any, ...]]] = [set() for _ in self.plan.key_sets]
        for result in results:
            for found, more in zip(merged, result.key_sets, strict=True):
                found.update(more)
        return merged

    def key_rows(self, results: list[ScanResult]) -> list[dict[tuple[Any, ...], list[int]]]:
        merged: list[dict[tuple[Any, ...], list[int]]] = [{} for _ in self.plan.key_sets]
        for result in results:
            for rows, more in zip(merged, result.key_rows, strict=True):
                for key, found in more.items():
                    rows.setdefault(key, []).extend(found)
        return merged


class GroupMerge:
    """The chunks' group states (compact dumps) merged in C, as partials.merge_groups."""

    def __init__(self, plan: TablePlan) -> None:
        self.accs = [_kernel.GroupAcc(group_by) for group_by in plan.aggregates]
        self.ended = False  # a chunk had a format error: the scan ends there

    def add(self, part: Any) -> None:
        """Absorb the next chunk's groups (chunks come in file order)."""
        if part is None or self.ended:
            return
        for acc, dump in zip(self.accs, part[0].aggregates, strict=True):
            acc.absorb(dump)
        self.ended = bool(part[3])

    def groups(self, handing_over: bool = False) -> list[dict[tuple[str, ...], Any]]:
        """The merged groups. handing_over: the pool's threads are still passing tasks to
        the workers; they get the interpreter sooner (the merge lets it go now and then)."""
        interval = sys.getswitchinterval()
        if handing_over:
            sys.setswitchinterval(0.0002)
        try:
            return [acc.groups() for acc in self.accs]
        finally:
            sys.setswitchinterval(interval)
