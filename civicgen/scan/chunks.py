"""What a worker does with one chunk of a large CSV file, and the files chunks talk through.

A forked worker reads the file from SHARED (the parent's memory map, inherited at fork);
its result and its primary keys go through files in shared memory (/dev/shm where
there is one), so that the worker is free at once and the key merge reads them in place.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import tempfile
from collections.abc import Iterator
from typing import Any

from .engine import compiled as _kernel  # None in a pure-Python install: chunks are never scanned
from .plan import TablePlan, keys_hashed
from .reference import ScanResult

QUOTED = "quoted"  # a worker's answer for a chunk that holds a quote before the last cut
PARCEL = "parcel"  # a worker's answer: (PARCEL, path of the file that holds its result)
SHARED: Any = None  # the file (bytes or a read-only mmap), inherited by forked workers


@contextlib.contextmanager
def sharing(data: Any) -> Iterator[None]:
    """Make data the file that workers forked meanwhile read (None: they are sent bytes)."""
    global SHARED
    SHARED = data
    try:
        yield
    finally:
        SHARED = None


# the run's process group: a scan and its workers share it, so one run's files are told apart
SHARED_PREFIX = f"civicgen-{os.getpgrp() if hasattr(os, 'getpgrp') else os.getpid()}-"


def shared_file(kind: str) -> Any:
    """A new file for chunks to talk through: in shared memory where there is /dev/shm."""
    folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
    return tempfile.NamedTemporaryFile(prefix=f"{SHARED_PREFIX}{kind}-", dir=folder, delete=False)


def scan_chunk(
    data: bytes | mmap.mmap | None,
    plan: TablePlan,
    lo: int,
    hi: int,
    first_row: int,
    width: int | None,
    release: bool = False,
    key_parts: int = 1,
    quote: bytes | None = None,
    keys_inline: bool = False,
) -> tuple[ScanResult, Any, list[Any], bool] | tuple[str, str] | str | None:
    """In a worker: scan one chunk; return its result and its keys, compactly (None if
    the chunk is not UTF-8; QUOTED, at once, if quote is given and found in it).

    Primary keys are not looked up here: every row's key travels as a 32-bit hash tag and
    the row (12 bytes a row), split in key_parts parts by tag, with the chunk's record
    checkpoints, so that the process merging a part can re-read any row to confirm a match.
    They go through a file in shared memory, or in the result itself (keys_inline: a worker
    on another machine).
    """
    shared, data = data is None, SHARED if data is None else data
    assert data is not None
    if quote is not None and data.find(quote, lo, hi) >= 0:
        return QUOTED
    scan = _kernel.scan_range(data, plan, lo, hi, first_row, width, release, key_parts, True)
    if scan.bad_utf8:  # checked in the record loop, a block ahead of the cursor
        return None
    uniques = [keys.dumps() for keys in scan.uniques]
    primary = None
    if keys_hashed(plan):
        keys = scan.deferred_keys()
        where = ("", keys) if keys_inline else park_keys(keys)  # ("", parts): no file
        primary = (*where, *scan.checkpoints(), lo, hi, 0)
    part = (scan.result(dump_groups=True), primary, uniques, bool(scan.format_error))
    return parcel(part) if shared else part


def parcel(part: Any) -> tuple[str, str]:
    """A worker's result through a shared-memory file: the worker is free at once (a large
    result through the pool's pipe waits for this process to read it)."""
    with shared_file("part") as out:
        pickle.dump(part, out, protocol=pickle.HIGHEST_PROTOCOL)
    return PARCEL, out.name


def unwrap(answer: Any) -> Any:
    """A worker's answer, read from its parcel file (then deleted) if it sent one."""
    if isinstance(answer, tuple) and len(answer) == 2 and answer[0] == PARCEL:
        with open(answer[1], "rb") as source:
            os.unlink(answer[1])
            return pickle.load(source)  # noqa: S301 - written by this scan's own workers
    return answer


def park_keys(parts: list[tuple[bytes, bytes]]) -> tuple[str, list[tuple[int, int, int]]]:
    """Write a chunk's key parts to a file (in shared memory where there is /dev/shm), for
    the processes that merge them: (path, [(offset, tag bytes, row bytes) of each part])."""
    layout, offset = [], 0
    with shared_file("keys") as out:
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


def remove_keys(parts: list[Any]) -> None:
    """Delete the files of the chunks' primary keys (park_keys)."""
    for part in parts:
        if isinstance(part, tuple) and part[1] is not None and part[1][0]:
            with contextlib.suppress(OSError):
                os.unlink(part[1][0])


def merge_parts(
    plan: TablePlan, keys: list[Any], parts: range, data: Any = None
) -> list[dict[int, int]]:
    """_kernel.merge_primary over some parts of every chunk's primary keys (a worker's share)."""
    chunks = []
    for path, layout, *rest in keys:
        wanted = [layout[part] for part in parts]
        found = read_keys(path, wanted) if path else wanted  # no path: the keys themselves
        chunks.append(([tags for tags, _ in found], [rows for _, rows in found], *rest))
    return _kernel.merge_primary(SHARED if data is None else data, plan, chunks)
