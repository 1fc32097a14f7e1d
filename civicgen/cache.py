"""Scan results and text findings cached by git blob id + plan hash + engine version.

The engine version is civicgen's version and a digest of the kernel's source (the
reference, its checkers, the Cython kernel and the partial states they fill, and the text
checks), so that any change to either gives new keys.

An entry holds mergeable summaries, never a value per row: the errors, the groups' partial
states, the distinct keys, and for each key its first row and how many rows hold it (a
foreign key that fails on a cached table is looked up again in the file, for every row).

A rebuild after one file changed rescans that file alone. The cache lives outside the
repository (the user's cache folder, or a folder given by option), so a pull request
cannot bring its own results; every entry names the key it was written for and is used
only under that key. It is JSON with type tags, never pickle, then the numbers of the
groups' columns as raw bytes (int64s and doubles), all gzipped: under 5 % of the data's
size.
"""

from __future__ import annotations

import array
import contextlib
import datetime as dt
import functools
import gc
import gzip
import hashlib
import itertools
import json
import math
import mmap
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from . import __version__
from .errors import ERRORS, CivicError
from .repo import released
from .scan.plan import TablePlan
from .scan.reference import ScanResult
from .stats.partials import Group, GroupMap, Groups

KERNEL_SOURCES = (  # what a scan's result is computed by: the kernels and what they call
    ("civicgen.scan", "reference.py"),
    ("civicgen.scan", "cast.py"),
    ("civicgen.scan", "checkers.py"),
    ("civicgen.scan", "_kernel.pyx"),
    ("civicgen.scan", "infer.py"),
    ("civicgen.scan", "sequence.py"),
    ("civicgen.scan", "merge.py"),
    ("civicgen", "cache.py"),  # the entries' own format
    ("civicgen.stats", "partials.py"),
    ("civicgen", "textscan.py"),  # the text findings cached beside the scans
    ("civicgen", "textcheck.py"),
    ("civicgen", "privacy.py"),
)
T = TypeVar("T")
ENTRY_SUFFIX = ".json.gz"  # gzipped JSON, then its blobs: a 1M-row sensor table's is 4 % of it
ENTRY_LEVEL = 1  # the fastest: 48 ms for that entry, 15 % of the data's size uncompressed
ENTRY_PIECE = 4 << 20  # bytes compressed at a time, as a gzip member of their own
HASH_BLOCK = 16 << 20  # bytes of a mapped file hashed at a time
LEGACY_FOLDER = ".civicgen-cache"  # where caches lived inside the repository before 0.2


def engine_version(version: str, sources: list[bytes]) -> str:
    """A short name of this civicgen and kernel source: another version or source, another name."""
    digest = hashlib.sha256(version.encode())
    for source in sources:
        digest.update(b"\0%d\0" % len(source))
        digest.update(source)
    return f"{version}+{digest.hexdigest()[:16]}"


def kernel_sources() -> list[bytes]:
    """The kernel's source files as installed (an absent file counts as empty)."""
    files = [resources.files(package).joinpath(name) for package, name in KERNEL_SOURCES]
    return [file.read_bytes() if file.is_file() else b"" for file in files]


@functools.cache
def engine() -> str:
    """This installation's engine version (read once per process)."""
    return engine_version(__version__, kernel_sources())


def user_cache_dir() -> Path:
    """$XDG_CACHE_HOME/civicgen/scan (default ~/.cache/civicgen/scan)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "civicgen" / "scan"


def inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def cache_folder(option: str, root: Path) -> tuple[Path, bool]:
    """Where to keep the cache, and whether the option was refused for pointing inside root."""
    if not option:
        return user_cache_dir(), False
    chosen = Path(os.path.expanduser(option))
    chosen = (chosen if chosen.is_absolute() else root / chosen).resolve()
    return (user_cache_dir(), True) if inside(chosen, root) else (chosen, False)


def blob_id(data: bytes | mmap.mmap) -> str:
    """The id git gives these bytes as a blob (the same in the work tree and in any commit)."""
    digest = hashlib.sha1(b"blob %d\0" % len(data))
    if not isinstance(data, mmap.mmap):
        digest.update(data)
        return digest.hexdigest()
    with memoryview(data) as view:  # hashed where it lies, not copied block by block
        for start in range(0, len(data), HASH_BLOCK):  # the pages read are let go behind
            digest.update(view[start : start + HASH_BLOCK])
            released(data, start, start + HASH_BLOCK)
    return digest.hexdigest()


def entry_key(blob: str, what: object, kernel: str) -> str:
    """The key of an entry: these bytes (their blob id), what was computed from them (a
    value whose repr says it all), this engine version and kernel."""
    what_hash = hashlib.sha256(repr(what).encode()).hexdigest()[:16]
    engine_hash = hashlib.sha256(f"{engine()}:{kernel}".encode()).hexdigest()[:8]
    return f"{blob}-{what_hash}-{engine_hash}"


def cache_key(data: bytes | mmap.mmap, plan: TablePlan, kernel: str, blob: str = "") -> str:
    """The key of a scan: these bytes (blob: their id, when known), this plan, this engine."""
    return entry_key(blob or blob_id(data), plan, kernel)


def encode(value: Any) -> Any:
    """Builtins and the scan's value types as JSON: finite floats as JSON numbers (repr, so
    they come back exact), everything JSON cannot say as a one-key object with a tag."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$f": repr(value)}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"$set": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"$map": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    raise TypeError(f"cannot cache {type(value).__name__}")


TAGS: dict[str, Callable[[Any], Any]] = {
    "$f": float, "$dec": Decimal, "$dt": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat, "$time": dt.time.fromisoformat,
    "$tuple": tuple, "$set": set, "$map": dict,
}  # fmt: skip


def tagged(found: dict[str, Any]) -> Any:
    """The value a tagged object stands for (json.loads calls this on every object, innermost
    first, so lists are never walked in Python); any other object as it is."""
    if len(found) == 1:
        ((tag, inner),) = found.items()
        convert = TAGS.get(tag)
        if convert is not None:
            return convert(inner)
    return found


def decode(text: str) -> Any:
    return json.loads(text, object_hook=tagged)


KeyRows = dict[tuple[Any, ...], list[int]]


def summarised(key_rows: list[KeyRows]) -> list[list[list[Any]]]:
    """Per key group: [key, first row, rows holding it] (no list of rows)."""
    return [[[key, min(rows), len(rows)] for key, rows in group.items()] for group in key_rows]


def expanded(summaries: list[list[list[Any]]]) -> list[KeyRows]:
    """Key rows from their summaries: each key's first row, repeated once per row holding it
    (enough for counts and first rows; not the rows of a foreign key error)."""
    return [{key: [first] * count for key, first, count in group} for group in summaries]


def packed(aggregates: list[GroupMap], blobs: list[bytes]) -> list[Any]:
    """Each group-by's states in columns: [keys, rows, counts and missing, sums, minima and
    maxima, sketch entries, whether it has sketches]. A sensor table's hourly groups hold
    millions of numbers, too many to walk in Python or to write as JSON: the numbers go to
    blobs as int64s and doubles, their column holding the blob's index (the floats stay a
    list when they are not all floats, as the pure-Python kernel may leave them)."""
    return [[blob(c, blobs) for c in columns_of(groups)] for groups in aggregates]


def blob(column: Any, blobs: list[bytes]) -> Any:
    """A column of bytes as the index of the blob it is appended as; others as they are."""
    if not isinstance(column, bytes):
        return column
    blobs.append(column)
    return len(blobs) - 1


def columns_of(groups: GroupMap) -> list[Any]:
    """The compiled kernel's columns as it keeps them; a dict's, made here the same way."""
    if isinstance(groups, Groups):
        return groups.columns()
    measures = [measure for _, group_measures in groups.values() for measure in group_measures]
    floats: Any = [value for measure in measures for value in measure[1:4]]
    if all(type(value) is float for value in floats):
        floats = array.array("d", floats).tobytes()
    entries = [
        number
        for index, measure in enumerate(measures)
        for bucket, count in (measure[5] or {}).items()
        for number in (index, bucket, count)
    ]
    return [
        [list(key) for key in groups],
        array.array("q", [rows for rows, _ in groups.values()]).tobytes(),
        array.array("q", [n for measure in measures for n in (measure[0], measure[4])]).tobytes(),
        floats,
        array.array("q", entries).tobytes(),
        any(measure[5] is not None for measure in measures),
    ]


def decoded(index: Any, blobs: Sequence[memoryview], kind: str) -> array.array[Any]:
    """The blob a column names, as an array of int64s ("q") or doubles ("d")."""
    if type(index) is not int or not 0 <= index < len(blobs):
        raise ValueError("a column of numbers that names no blob of the entry")
    if len(blobs[index]) % 8:
        raise ValueError("a column of numbers cut short")
    numbers = array.array(kind)
    numbers.frombytes(blobs[index])
    return numbers


def unpacked(aggregates: list[Any], blobs: Sequence[memoryview]) -> list[GroupMap]:
    """Each group-by's states from their columns: checked now (a broken entry is a cache
    miss), made into states when first read."""
    return [unpacked_lazily(blobs, *columns) for columns in aggregates]


def unpacked_lazily(
    blobs: Sequence[memoryview],
    keys: Any,
    rows: int,
    counts: int,
    floats: Any,
    sketches: int,
    quantiles: bool,
) -> Groups:
    group_rows, numbers = decoded(rows, blobs, "q"), decoded(counts, blobs, "q")
    entries = decoded(sketches, blobs, "q")
    values: Any = floats if isinstance(floats, list) else decoded(floats, blobs, "d")
    if not (isinstance(keys, list) and all(isinstance(key, list) for key in keys)):
        raise ValueError("an entry whose group keys are not lists")
    if len({tuple(key) for key in keys}) != len(keys) or len(group_rows) != len(keys):
        raise ValueError("an entry whose groups and keys do not match")
    measures = len(numbers) // 2
    if len(numbers) % 2 or len(values) != 3 * measures or (keys and measures % len(keys)):
        raise ValueError("an entry whose group states do not fill their columns")
    slots = entries[::3]
    if len(entries) % 3 or (slots and not 0 <= min(slots) <= max(slots) < measures):
        raise ValueError("an entry whose sketches belong to no measure")
    if type(quantiles) is not bool or (slots and not quantiles):
        raise ValueError("an entry with sketches for a group-by that keeps none")

    def build() -> dict[tuple[str, ...], Group]:
        return unpacked_groups(keys, group_rows, numbers, list(values), entries, quantiles)

    def columns() -> list[Any]:
        floats_column = values if isinstance(values, list) else values.tobytes()
        return [keys, group_rows.tobytes(), numbers.tobytes(), floats_column,
                entries.tobytes(), quantiles]  # fmt: skip

    return Groups(build, columns)


def unpacked_groups(
    keys: list[list[str]],
    rows: array.array[int],
    numbers: array.array[int],
    floats: list[float],
    entries: array.array[int],
    quantiles: bool,
) -> dict[tuple[str, ...], Group]:
    count = len(numbers) // 2
    measures: list[list[Any]] = [
        [numbers[2 * i], *floats[3 * i : 3 * i + 3], numbers[2 * i + 1], {} if quantiles else None]
        for i in range(count)
    ]
    for at in range(0, len(entries), 3):
        slot, bucket, n = entries[at : at + 3]
        measures[slot][5][bucket] = n
    per_group = count // len(keys) if keys else 0
    return {
        tuple(key): [n, measures[g * per_group : (g + 1) * per_group]]
        for g, (key, n) in enumerate(zip(keys, rows.tolist(), strict=True))
    }


def encode_result(result: ScanResult, blobs: list[bytes]) -> Any:
    head = encode([*result[:4], summarised(result.key_rows)])
    return [*head, packed(result.aggregates, blobs), encode(result.sequences)]


def decode_result(value: Any, blobs: Sequence[memoryview]) -> ScanResult:
    errors, rows, labels, key_sets, summaries, packed_aggregates, sequences = value
    aggregates = unpacked(packed_aggregates, blobs)
    if any(sum(count for *_, count in group) > rows for group in summaries):
        raise ValueError("an entry whose keys count more rows than its table has")
    if not all(isinstance(states, dict) for states in sequences):
        raise ValueError("an entry whose reading order is not one state per station")
    return ScanResult(errors, rows, labels, key_sets, expanded(summaries), aggregates, sequences)


def encode_errors(errors: list[CivicError]) -> Any:
    return [[e.code, {f.name: getattr(e, f.name) for f in fields(e)}] for e in errors]


def decode_errors(value: Any, blobs: Sequence[memoryview] = ()) -> list[CivicError]:
    return [ERRORS[code](**values) for code, values in value]


def blobs_of(sizes: Any, rest: memoryview) -> list[memoryview]:
    """The blobs after an entry's JSON, cut by the sizes it gives (which must fill it)."""
    if not isinstance(sizes, list) or any(type(n) is not int or n < 0 for n in sizes):
        raise ValueError("an entry whose blob sizes are not byte counts")
    if sum(sizes) != len(rest):
        raise ValueError("an entry whose blobs do not fill it")
    return [rest[start:end] for start, end in itertools.pairwise([0, *itertools.accumulate(sizes)])]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection while an entry is made or read: its many new lists hold numbers
    and strings only, and each pass of the collector would walk them all again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ScanCache:
    """A folder of cached scan results and findings (of the text checks, and frictionless's
    on each descriptor); counts hits and misses of each (tests and benchmarks read them)."""

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder else None
        self.hits = self.misses = 0  # scans
        self.finding_hits = self.finding_misses = 0  # text findings and descriptor verdicts

    def get(self, key: str) -> ScanResult | None:
        with collector_paused():
            result = self.load(key, decode_result)
        self.hits += result is not None
        self.misses += result is None
        return result

    def put(self, key: str, result: ScanResult) -> None:
        blobs: list[bytes] = []
        with collector_paused():
            self.store(key, encode_result(result, blobs), blobs)

    def get_errors(self, key: str) -> list[CivicError] | None:
        errors = self.load(key, decode_errors)
        self.finding_hits += errors is not None
        self.finding_misses += errors is None
        return errors

    def put_errors(self, key: str, errors: list[CivicError]) -> None:
        self.store(key, encode_errors(errors))

    def path_of(self, key: str) -> Path | None:
        return self.folder / f"{key}{ENTRY_SUFFIX}" if self.folder else None

    def load(self, key: str, decoder: Callable[[Any, Sequence[memoryview]], T]) -> T | None:
        """The entry written for this key, or None (absent, unreadable or for another key)."""
        path = self.path_of(key)
        if path is None or not path.is_file():
            return None
        try:
            data = gzip.decompress(path.read_bytes())
            end = data.find(b"\n")
            entry = decode((data if end < 0 else data[:end]).decode("utf-8"))
            if entry.get("key") != key:
                raise ValueError("an entry written for another key")
            rest = memoryview(data)[end + 1 :] if end >= 0 else memoryview(b"")
            return decoder(entry["result"], blobs_of(entry.get("blobs", []), rest))
        except (OSError, EOFError, ValueError, TypeError, KeyError, AttributeError, IndexError):
            return None

    def store(self, key: str, value: Any, blobs: Sequence[bytes] = ()) -> None:
        """Write atomically (temporary file, then rename); a cache that cannot be written is
        skipped. The entry: its JSON, a newline, then the blobs' bytes, gzipped as written."""
        if self.folder is None:
            return
        entry = {"key": key, "result": value, "blobs": [len(b) for b in blobs]}
        head = json.dumps(entry, separators=(",", ":")).encode("utf-8")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:  # JSON as dumps writes it (ASCII) has no newline
                out.writelines(gzip_members([head + b"\n", *blobs]))
            os.replace(temporary, self.folder / f"{key}{ENTRY_SUFFIX}")
        except OSError:
            return


def gzip_members(parts: Sequence[bytes]) -> Iterator[bytes]:
    """The parts, cut in pieces of at most ENTRY_PIECE bytes, each compressed as a gzip
    member of its own (one after another they make one gzip file), a thread per core at a
    time: zlib lets go of the interpreter while it compresses. A 5M-row sensor table's
    entry is 60 MB before compression; a small one is compressed here, without threads."""
    compress = functools.partial(gzip.compress, compresslevel=ENTRY_LEVEL, mtime=0)
    pieces = [
        memoryview(part)[start : start + ENTRY_PIECE]
        for part in parts
        for start in range(0, len(part), ENTRY_PIECE)
    ]
    if sum(map(len, parts)) <= ENTRY_PIECE:
        yield from map(compress, pieces)
        return
    from concurrent.futures import ThreadPoolExecutor  # loaded when there is work to share

    from .scan.parallel import cores

    with ThreadPoolExecutor(min(len(pieces), cores())) as pool:
        yield from pool.map(compress, pieces)
