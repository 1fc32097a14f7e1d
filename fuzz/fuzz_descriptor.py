"""Fuzz the descriptor and record loader (civicgen/package.py): JSON descriptors, YAML records
and Markdown records with front matter, read through a real work tree in a temporary folder.
Any exception, hang or memory blow-up is a finding: bad input must become a report entry.

    PYTHONPATH=$PWD python fuzz/fuzz_descriptor.py WORKDIR fuzz/corpus/descriptor \\
        -max_total_time=300 -rss_limit_mb=2048 -timeout=10

The first byte of an input picks the kind of file; the rest is the file. With
CIVICGEN_FUZZ_FINDINGS=FOLDER set, the run goes on past an exception: the first input of each
kind of exception (type and the line that raised it) is written there, named after it, and
the count of inputs that raised it is printed at the end. Reproduce one with
`python fuzz/fuzz_descriptor.py FILE`.
"""

from __future__ import annotations

import collections
import hashlib
import os
import sys
import tempfile
import traceback
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import yaml  # noqa: F401 (instrumented for coverage)

    from civicgen import package
    from civicgen.model import RecordSpec
    from civicgen.repo import WorkTree

KINDS = (
    ("datapackage.json", None),
    ("records/x.yaml", RecordSpec("records/*.yaml")),
    ("records/x.md", RecordSpec("records/*.md", body="description")),
)
FOLDER = Path(
    tempfile.mkdtemp(prefix="civicgen-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
)
(FOLDER / "records").mkdir()
SOURCE = WorkTree(FOLDER)
FINDINGS = os.environ.get("CIVICGEN_FUZZ_FINDINGS")
SEEN: collections.Counter[str] = collections.Counter()


def test_one_input(data: bytes) -> None:
    if not FINDINGS:
        return read(data)
    try:
        read(data)
    except Exception as exc:  # noqa: BLE001 - every kind is a finding, noted once
        note(data, exc)


def note(data: bytes, exc: Exception) -> None:
    """Write the first input of each kind of exception to FINDINGS."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    kind = f"{type(exc).__name__}-{Path(frame.filename).stem}-{frame.lineno}"
    SEEN[kind] += 1
    if SEEN[kind] == 1:
        name = f"{kind}-{hashlib.sha1(data).hexdigest()[:8]}.bin"
        Path(FINDINGS, name).write_bytes(data)
        print(f"FINDING {name}: {exc!r}"[:300], file=sys.stderr, flush=True)
    if SEEN[kind] & (SEEN[kind] - 1) == 0:  # 1, 2, 4, 8…: often enough, cheaply
        write_summary()


def write_summary() -> None:
    """FINDINGS/summary.txt: inputs per kind of exception (libFuzzer exits without atexit)."""
    lines = [f"{count}\t{kind}" for kind, count in SEEN.most_common()]
    Path(FINDINGS, "summary.txt").write_text("\n".join(lines) + "\n")


def read(data: bytes) -> None:
    if not data:
        return
    path, spec = KINDS[data[0] % len(KINDS)]
    (FOLDER / path).write_bytes(data[1:])
    if spec is None:
        value, errors = package.read_descriptor(SOURCE, path)
    else:
        value, errors = package.read_record(SOURCE, path, spec)
    if value is None and not errors:
        raise AssertionError("nothing read, and no error says why")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
