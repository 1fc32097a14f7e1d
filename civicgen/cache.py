"""Scan results cached by git blob id + plan hash + engine version.

The engine version is civicgen's version and a digest of the kernel's source (the
reference, its checkers, the Cython kernel and the partial states they fill), so that
any change to either gives new keys.

A rebuild after one file changed rescans that file alone. The cache lives outside the
repository (the user's cache folder, or a folder given by option), so a pull request
cannot bring its own results; every entry names the key it was written for and is used
only under that key. It is JSON with type tags, never pickle.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from . import __version__
from .scan.plan import TablePlan
from .scan.reference import ScanResult

KERNEL_SOURCES = (  # what a scan's result is computed by: the kernels and what they call
    ("civicgen.scan", "reference.py"),
    ("civicgen.scan", "cast.py"),
    ("civicgen.scan", "checkers.py"),
    ("civicgen.scan", "_kernel.pyx"),
    ("civicgen.scan", "infer.py"),
    ("civicgen.stats", "partials.py"),
)
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


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob (the same in the work tree and in any commit)."""
    digest = hashlib.sha1(b"blob %d\0" % len(data))
    digest.update(data)  # no second copy of a large file
    return digest.hexdigest()


def cache_key(data: bytes, plan: TablePlan, kernel: str) -> str:
    """The key of a scan: these bytes, this plan, this engine version and kernel."""
    plan_hash = hashlib.sha256(repr(plan).encode()).hexdigest()[:16]
    engine_hash = hashlib.sha256(f"{engine()}:{kernel}".encode()).hexdigest()[:8]
    return f"{blob_id(data)}-{plan_hash}-{engine_hash}"


def encode(value: Any) -> Any:
    """Builtins and the scan's value types as tagged JSON."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return {"$f": repr(value)}
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


DECODERS: dict[str, Callable[[str], Any]] = {
    "$f": float, "$dec": Decimal, "$dt": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat, "$time": dt.time.fromisoformat,
}  # fmt: skip


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    ((tag, inner),) = value.items()
    if tag in DECODERS:
        return DECODERS[tag](inner)
    if tag == "$tuple":
        return tuple(decode(v) for v in inner)
    if tag == "$set":
        return {decode(v) for v in inner}
    return {decode(k): decode(v) for k, v in inner}


class ScanCache:
    """A folder of cached scan results; counts hits and misses (tests and benchmarks read them)."""

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder else None
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> ScanResult | None:
        path = self.folder / f"{key}.json" if self.folder else None
        if path is None or not path.is_file():
            self.misses += 1
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry.get("key") != key:
                raise ValueError("an entry written for another key")
            result = ScanResult(*decode(entry["result"]))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, key: str, result: ScanResult) -> None:
        """Write atomically (temporary file, then rename); a cache that cannot be written is skipped."""
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                entry = {"key": key, "result": encode(list(result))}
                out.write(json.dumps(entry, separators=(",", ":")))  # dumps: the C encoder
            os.replace(temporary, self.folder / f"{key}.json")
        except OSError:
            return
