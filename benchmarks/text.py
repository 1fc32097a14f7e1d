"""What the text, formula and personal-data checks add to validate (issue 8).

    python benchmarks/text.py [FOLDER …]   (default: benchmarks/data/sensor-1M and the example city)

For each folder: validate with the checks and without them (best of 3), and the checks alone
by each of their three paths: the distinct values the scan's groups already hold; one pass
over the bytes of an ASCII file; every text cell read through the dialect (each distinct
value checked once).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from civicgen import textscan, validation
from civicgen.pipeline import Settings, validate

ROOT = Path(__file__).resolve().parent.parent


def best(run, times: int = 3) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        spent.append(time.perf_counter() - start)
    return min(spent)


def measure(folder: Path) -> None:
    settings = Settings(cache_dir=None)
    checked = validate([str(folder)], settings)
    with_checks = best(lambda: validate([str(folder)], settings))
    real = validation.text_errors
    validation.text_errors = lambda *args: []
    try:
        without = best(lambda: validate([str(folder)], settings))
    finally:
        validation.text_errors = real
    packages = {t.package.name: t.package for t in checked.tables.values()}
    portal = validation.Portal(str(folder), tuple(packages.values()))
    alone = best(lambda: real(checked.source, portal, checked.tables))
    run = lambda: real(checked.source, portal, checked.tables)  # noqa: E731
    by_groups = textscan.clean_by_aggregates
    textscan.clean_by_aggregates = lambda scanned, columns: False  # the file is read
    try:
        by_bytes = best(run)
        fast = textscan.may_mislead
        textscan.may_mislead = lambda data, delimiter: True  # every cell is read
        try:
            by_cells = best(run, 1)
        finally:
            textscan.may_mislead = fast
    finally:
        textscan.clean_by_aggregates = by_groups
    rows = checked.report.rows
    print(
        f"{folder.name}: {rows:,} rows; validate {with_checks:.2f} s with the checks, "
        f"{without:.2f} s without (+{with_checks - without:.2f} s, "
        f"{(with_checks - without) / without * 100:+.0f} %); the checks alone {alone:.3f} s "
        f"(from the scan's groups), {by_bytes:.3f} s (one pass over the bytes), "
        f"{by_cells:.2f} s (cell by cell)"
    )


if __name__ == "__main__":
    folders = [Path(p) for p in sys.argv[1:]] or [ROOT / "benchmarks/data/sensor-1M", ROOT]
    for folder in folders:
        measure(folder)
