"""The fixed cost of a run: `civicgen validate` of a 10-row package in a city with its
mkdocs.yml, whole process, with an empty cache (as on a CI runner) and with the cache its
first run left, next to the interpreter starting alone and to importing frictionless alone.

Python's own start is not civicgen's cost, and on a loaded or slow machine it is large, so
the table also gives each command's time above `python -c pass` measured in the same round.
`--tree PATH` adds the same runs of another civicgen checkout (its kernel built in place),
side by side: before and after a change, in one run. Peak memory is that of the process tree
(process.py's timing).

    python benchmarks/fixed_cost.py [--rounds 9] [--tree ../old-checkout]
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from process import timed  # noqa: E402  (benchmarks/process.py: seconds and peak memory)

FIELDS = [
    {"name": "id", "type": "integer"},
    {"name": "name", "type": "string"},
    {"name": "amount", "type": "number"},
]


MKDOCS_YML = """site_name: Ten rows
docs_dir: content
theme:
  name: material
  font: false
plugins:
  - civicgen:
      datasets_dir: datasets
      languages: [en]
"""


def tiny_package(folder: Path) -> Path:
    """A git repository holding one package of 10 rows and the configuration every city has
    (mkdocs.yml, read at each run)."""
    package = folder / "datasets" / "ten"
    package.mkdir(parents=True)
    rows = ["id,name,amount"] + [f"{i},item {i},{i * 1.5}" for i in range(1, 11)]
    (package / "data.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    resource = {"name": "data", "path": "data.csv", "schema": {"fields": FIELDS,
                "primaryKey": ["id"]}}  # fmt: skip
    descriptor = {"name": "ten", "licenses": [{"name": "CC-BY-4.0"}], "resources": [resource]}
    (package / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    (folder / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return package


def commands(
    package: Path, cache: Path, trees: dict[str, Path]
) -> dict[str, tuple[list[str], dict[str, str]]]:
    base = {k: v for k, v in os.environ.items() if k != "CIVICGEN_NO_EXTENSIONS"}
    planned = {
        "python -c pass": ([sys.executable, "-c", "pass"], base),
        "import frictionless": ([sys.executable, "-c", "import frictionless"], base),
    }
    for number, (name, tree) in enumerate(trees.items()):
        env = {**base, "PYTHONPATH": str(tree)}
        # -P: the tree on PYTHONPATH is imported, not a civicgen in the current folder
        validate = [sys.executable, "-P", "-m", "civicgen", "validate", str(package)]
        for state, folder in (("empty", "cold"), ("warm", "warm")):
            own_cache = {**env, "XDG_CACHE_HOME": str(cache / str(number) / folder)}
            planned[f"{name}: validate, {state} cache"] = (validate, own_cache)
    return planned  # fmt: skip


def main(rounds: int, trees: dict[str, Path]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        package = tiny_package(Path(scratch) / "city")
        cache = Path(scratch) / "cache"
        planned = commands(package, cache, trees)
        for command, env in planned.values():  # warm the caches, check each runs
            timed(command, env)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in planned}
        for _ in range(rounds):
            for name, (command, env) in planned.items():
                if name.endswith("empty cache"):
                    shutil.rmtree(Path(env["XDG_CACHE_HOME"]), ignore_errors=True)
                runs[name].append(timed(command, env))
    start = statistics.median(r["seconds"] for r in runs["python -c pass"])
    lines = [
        f"`python benchmarks/fixed_cost.py --rounds {rounds}`: medians of {rounds} interleaved "
        "rounds, whole processes; above start = the median less `python -c pass`'s; peak = "
        "the largest sum of resident memory over the process tree.", "",
        "| command | seconds | spread s | above start s | peak MB |", "|---|---:|---:|---:|---:|",
    ]  # fmt: skip
    for name, done in runs.items():
        times = [r["seconds"] for r in done]
        median = statistics.median(times)
        peak = statistics.median(r["peak_mb"] for r in done)
        lines.append(f"| {name} | {median:.3f} | {min(times):.3f}–{max(times):.3f} "
                     f"| {median - start:.3f} | {peak:.0f} |")  # fmt: skip
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--tree", type=Path, action="append", default=[],
                        help="another civicgen checkout to time beside this one")  # fmt: skip
    args = parser.parse_args()
    chosen = {"this tree": HERE.parent, **{str(t): t.resolve() for t in args.tree}}
    main(max(1, args.rounds), chosen)
