"""civicgen diff of a large table against a DuckDB keyed join, whole processes, side by side.

A budget-like table of N rows (default 1,000,000; a six-field primary key: year, centre,
section, programme, chapter, item; an amount) is committed to a real git repository
(pygit2), then 1 % of its amounts are changed and committed. In interleaved rounds, each
as users run it (its own process):

- `civicgen diff --format json HEAD~1 HEAD`, cold (an empty scan cache) and warm (the
  cache the cold run left);
- DuckDB: the two revisions' files (exported once from git) read and joined on the key,
  the changed, added and removed rows counted (`duckdb` from PyPI, one process);
- daff, the tabular diff maintainers otherwise use, keyed on the same six fields
  (`--id` each, `--context 0`): its JavaScript build (`npm install daff`, run by node)
  and its Python build (`pip install daff`). The Python build is slow (about 6 minutes
  for a million rows), so it runs `--slow-rounds` times (default once).

A tool that is not installed is left out and named under the table. Every tool's answer
is checked before timing (the changed rows, none added or removed).

Reported: median wall seconds (min–max), CPU seconds, peak resident memory of the whole
process tree, and the ratio to DuckDB.

    npm install --prefix /tmp/daff-npm daff && pip install daff duckdb
    python benchmarks/diff.py [--rows 1000000] [--rounds 3] [--slow-rounds 1]
        [--daff-npm /tmp/daff-npm/node_modules/.bin/daff] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
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


def daff_command(daff: list[str], base: Path, head: Path) -> list[str]:
    keys = [part for k in KEY for part in ("--id", k)]
    return [*daff, *keys, "--context", "0", str(base), str(head)]


def changed_rows(tool: str, out: str) -> tuple[int, int, int]:
    """(added, removed, changed) rows in a tool's answer."""
    if tool.startswith("civicgen"):
        [table] = json.loads(out)["tables"]
        kinds = [(r["kind"], [c[0] for c in r["cells"]]) for r in table["rows"]]
        assert all(cells == ["amount"] for _, cells in kinds), "civicgen diff saw other cells"
        return tuple(sum(kind == k for kind, _ in kinds) for k in ("added", "removed", "changed"))
    if tool.startswith("DuckDB"):
        return tuple(int(n) for n in out.strip("[()]\n").split(","))  # type: ignore[return-value]
    marks = [line.split(",", 1)[0] for line in out.splitlines()[1:]]  # daff: the @@ column
    return marks.count("+++"), marks.count("---"), marks.count("->")


def check_answers(commands: dict[str, list[str]], folder: Path, rows: int) -> None:
    """Every tool finds exactly the changed amounts (every 100th row), before any timing."""
    expected = (0, 0, len(range(0, rows, 100)))
    for tool, command in commands.items():
        out = subprocess.run(command, cwd=folder, capture_output=True, check=True, text=True)
        assert changed_rows(tool, out.stdout) == expected, f"{tool} answered otherwise"


def tools(
    folder: Path, base: Path, head: Path, daff_npm: str
) -> tuple[dict[str, list[str]], list[str]]:
    """The commands to time, and the tools left out (not installed here)."""
    civicgen = [sys.executable, "-m", "civicgen", "diff", "--format", "json", "HEAD~1", "HEAD"]
    commands = {
        "civicgen diff, cold": civicgen,
        "civicgen diff, warm": civicgen,
        "DuckDB keyed join": [
            sys.executable,
            "-c",
            DUCKDB_JOIN.format(key=KEY),
            str(base),
            str(head),
        ],
    }
    missing = []
    node = shutil.which("node")
    if node and daff_npm and Path(daff_npm).is_file():
        commands["daff (npm, node)"] = daff_command([node, daff_npm], base, head)
    else:
        missing.append("daff (npm): `npm install daff`, then --daff-npm")
    if subprocess.run([sys.executable, "-c", "import daff"], capture_output=True).returncode == 0:
        commands["daff (PyPI)"] = daff_command([sys.executable, "-c", DAFF_PYPI], base, head)
    else:
        missing.append("daff (PyPI): `pip install daff`")
    return commands, missing


DAFF_PYPI = "import sys; from daff import main; sys.argv[0] = 'daff'; sys.exit(main())"
SLOW = ("daff (PyPI)",)  # timed --slow-rounds times


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
    parser.add_argument("--slow-rounds", type=int, default=1)
    parser.add_argument("--daff-npm", default="/tmp/daff-npm/node_modules/.bin/daff")
    parser.add_argument("--markdown", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="civicgen-diff-bench-") as temporary:
        folder = make_repository(Path(temporary) / "town", options.rows)
        base, head = export(folder)
        commands, missing = tools(folder, base, head, options.daff_npm)
        check_answers(commands, folder, options.rows)
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for round_ in range(options.rounds):
            cache = {**os.environ, "XDG_CACHE_HOME": f"{temporary}/cache-{round_}"}
            for name, command in commands.items():
                if name not in SLOW or round_ < options.slow_rounds:
                    env = cache if name.startswith("civicgen") else dict(os.environ)
                    runs[name].append(measured(command, folder, env))
        table = {name: summary(r) for name, r in runs.items()}
    print(markdown(table, runs, missing, options.rows))
    if options.markdown:
        options.markdown.write_text(markdown(table, runs, missing, options.rows), encoding="utf-8")


def markdown(
    table: dict[str, dict[str, float]], runs: dict[str, list[Run]], missing: list[str], rows: int
) -> str:
    reference = table["DuckDB keyed join"]["median"]
    lines = [
        f"{rows:,} rows, 1 % of the amounts changed; medians of interleaved rounds, whole "
        "processes (the cold civicgen run starts from an empty scan cache, the warm one "
        "reads what it left)",
        "",
        "| command | rounds | wall s (min–max) | CPU s | peak MiB | × DuckDB |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in table.items():
        lines.append(
            f"| {name} | {len(runs[name])} | {s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f}) "
            f"| {s['cpu']:.2f} | {s['peak_mib']:.0f} | {s['median'] / reference:.1f} |"
        )
    lines += ["", *(f"Not installed, left out: {m}." for m in missing)]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    main()
