"""civicgen diff of a large table against a DuckDB keyed join, whole processes, side by side.

A budget-like table of N rows (default 1,000,000; a six-field primary key: year, centre,
section, programme, chapter, item; an amount) is committed to a real git repository
(pygit2), then 1 % of its amounts are changed and committed. In interleaved rounds, each
as users run it (its own process):

- `civicgen diff --format json HEAD~1 HEAD`, cold (an empty scan cache) and warm (the
  cache the cold run left);
- DuckDB: the two revisions' files (exported once from git) read and joined on the key,
  the changed, added and removed rows counted (`duckdb` from PyPI, one process).

Reported: median wall seconds (min–max), CPU seconds, peak resident memory of the whole
process tree, and the ratio to DuckDB. daff and csv-diff are not in this run (not
installed here); the issue's figures for them were 15 s (daff, npm) and 8 s (csv-diff).

    python benchmarks/diff.py [--rows 1000000] [--rounds 3] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import pygit2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from build import Run, measured  # noqa: E402
from conftest import commit_all  # noqa: E402

KEY = ["year", "centre", "section", "programme", "chapter", "item"]
DESCRIPTOR = {
    "name": "spending",
    "licenses": [{"name": "CC0-1.0"}],
    "resources": [
        {
            "name": "lines",
            "path": "lines.csv",
            "schema": {
                "fields": [{"name": "year", "type": "integer"}]
                + [{"name": n, "type": "string"} for n in KEY[1:]]
                + [{"name": "amount", "type": "number"}],
                "primaryKey": KEY,
            },
        }
    ],
}
DUCKDB_JOIN = """
import sys, duckdb
key = {key}
on = " AND ".join(f"a.{{k}} = b.{{k}}" for k in key)
print(duckdb.sql(f'''
  SELECT count(*) FILTER (WHERE a.year IS NULL) AS added,
         count(*) FILTER (WHERE b.year IS NULL) AS removed,
         count(*) FILTER (WHERE a.amount <> b.amount) AS changed
  FROM read_csv('{{sys.argv[1]}}', all_varchar=true) a
  FULL OUTER JOIN read_csv('{{sys.argv[2]}}', all_varchar=true) b ON {{on}}
''').fetchall())
"""


def line(i: int, amount: int) -> str:
    year = 2020 + i % 5
    rest = i // 5
    return (
        f"{year},{rest % 100:03d},{rest // 100 % 10:02d},{rest // 1000 % 200:05d},"
        f"{rest // 200000 % 9 + 1},{rest // 1000:06d}{rest % 1000:03d},{amount}\n"
    )


def make_repository(folder: Path, rows: int) -> Path:
    """The table at base, then with every 100th amount changed, as two commits."""
    data = folder / "datasets" / "spending"
    data.mkdir(parents=True)
    (data / "datapackage.json").write_text(json.dumps(DESCRIPTOR), encoding="utf-8")
    header = ",".join([*KEY, "amount"]) + "\n"
    (data / "lines.csv").write_text(
        header + "".join(line(i, 1000 + i % 977) for i in range(rows)), encoding="utf-8"
    )
    pygit2.init_repository(str(folder))
    commit_all(folder, "Base")
    (data / "lines.csv").write_text(
        header + "".join(line(i, 1000 + i % 977 + (7 if i % 100 == 0 else 0)) for i in range(rows)),
        encoding="utf-8",
    )
    commit_all(folder, "1 % of the amounts changed", when=1_700_000_100)
    return folder


def export(folder: Path) -> tuple[Path, Path]:
    """Both revisions of the table as files, for DuckDB."""
    repository = pygit2.Repository(str(folder))
    paths = []
    for name, revision in (("base.csv", "HEAD~1"), ("head.csv", "HEAD")):
        tree = repository.revparse_single(revision).peel(pygit2.Tree)
        blob = repository[(tree / "datasets/spending/lines.csv").id]
        (folder.parent / name).write_bytes(blob.data)
        paths.append(folder.parent / name)
    return paths[0], paths[1]


def check_answers(diff: list[str], join: list[str], folder: Path, rows: int) -> None:
    """Both tools find exactly the changed amounts (every 100th row), before any timing."""
    import subprocess

    changed = len(range(0, rows, 100))
    report = json.loads(subprocess.run(diff, cwd=folder, capture_output=True, check=True).stdout)
    [table] = report["tables"]
    kinds = [(r["kind"], [c[0] for c in r["cells"]]) for r in table["rows"]]
    assert kinds == [("changed", ["amount"])] * changed, "civicgen diff missed a change"
    counts = subprocess.run(join, cwd=folder, capture_output=True, check=True, text=True).stdout
    assert counts.strip() == f"[(0, 0, {changed})]", counts


def summary(runs: list[Run]) -> dict[str, float]:
    seconds = [r.seconds for r in runs]
    return {
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "cpu": statistics.median(r.cpu_seconds for r in runs),
        "peak_mib": max(r.peak_mib for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markdown", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="civicgen-diff-bench-") as temporary:
        folder = make_repository(Path(temporary) / "town", options.rows)
        base, head = export(folder)
        runs: dict[str, list[Run]] = {"civicgen diff, cold": [], "civicgen diff, warm": [],
                                      "DuckDB keyed join": []}  # fmt: skip
        diff = [sys.executable, "-m", "civicgen", "diff", "--format", "json", "HEAD~1", "HEAD"]
        join = [sys.executable, "-c", DUCKDB_JOIN.format(key=KEY), str(base), str(head)]
        check_answers(diff, join, folder, options.rows)
        for round_ in range(options.rounds):
            env = {**os.environ, "XDG_CACHE_HOME": f"{temporary}/cache-{round_}"}
            runs["civicgen diff, cold"].append(measured(diff, folder, env))
            runs["civicgen diff, warm"].append(measured(diff, folder, env))
            runs["DuckDB keyed join"].append(measured(join, folder, dict(os.environ)))
        table = {name: summary(r) for name, r in runs.items()}
    reference = table["DuckDB keyed join"]["median"]
    lines = [
        f"{options.rows:,} rows, 1 % of the amounts changed; medians of {options.rounds} "
        "interleaved rounds, whole processes",
        "",
        "| command | wall s (min–max) | CPU s | peak MiB | × DuckDB |",
        "|---|---|---|---|---|",
    ]
    for name, s in table.items():
        lines.append(
            f"| {name} | {s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f}) | {s['cpu']:.2f} "
            f"| {s['peak_mib']:.0f} | {s['median'] / reference:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if options.markdown:
        options.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
