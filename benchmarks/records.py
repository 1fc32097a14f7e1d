"""A large one-file-per-record collection: `civicgen validate` and `civicgen build` as users run them.

    python benchmarks/records.py [N]     (default 50000)

Copies the example city, adds N proposal records (copies of the examples with new names
and titles), commits them, and times each command in its own process with its peak memory
(GNU time's maximum resident set size).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import commit_all  # noqa: E402

PARTS = ("content", "datasets", "tools-catalog", "theme", "mkdocs.yml")


def city_with_records(target: Path, count: int) -> Path:
    for part in PARTS:
        source = ROOT / part
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, target / part)
    records = target / "datasets/proposals/records"
    examples = sorted(records.glob("*.md"))
    for number in range(count):
        text = examples[number % len(examples)].read_text(encoding="utf-8")
        copy_text = text.replace("title: ", f"title: Copy {number} of ", 1)
        (records / f"pb-9999-{number:06d}.md").write_text(copy_text, encoding="utf-8")
    import pygit2

    pygit2.init_repository(str(target))
    commit_all(target, f"{count} records")
    return target


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak MiB) of one command in its own process."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command], cwd=cwd, capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return seconds, int(peak.group(1)) / 1024 if peak else float("nan")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        city = city_with_records(Path(tmp) / "city", count)
        rows = [
            ("civicgen validate", timed(["civicgen", "validate"], city)),
            ("civicgen build", timed(["civicgen", "build"], city)),
        ]
    print(f"{count} proposal records (plus the example city), {os.cpu_count()} cores\n")
    print("| command | seconds | peak MiB |\n|---|---:|---:|")
    for name, (seconds, peak) in rows:
        print(f"| `{name}` | {seconds:.1f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
