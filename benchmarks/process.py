"""`civicgen validate PKG` as users run it (whole process, the sensor profile declared or not)
side by side with DuckDB and polars doing the same checks and aggregates in a whole process.

Every command is timed from outside, from its start to its exit (interpreter start, imports,
descriptor checks and cache writes included), and its peak memory is the largest sum of
the resident memory of its whole process tree (sampled every 10 ms from /proc). civicgen
runs with an empty cache each time (as on a CI runner), and once more with the cache its
first run left ("warm"). Each round runs every command once, interleaved.

The same work for every engine, on the generated sensor files (generate.py: 200 stations,
one reading a minute): typed read; required, minimum, maximum and pattern checks;
primary-key uniqueness; and, with the profile, the sensor statistics: per station × hour
and station × day count, mean, minimum and maximum of four quantities, the 95th
percentile per day, and per station the readings out of order and duplicated (compared
with the latest earlier reading of the station in file order). civicgen also checks the
descriptor (frictionless) and the text of every cell; DuckDB and polars do neither.

    python benchmarks/generate.py 1M 5M && python benchmarks/process.py 1M 5M [--rounds 5]

Writes benchmarks/RESULTS-process.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import BOUNDS, MEASURES, polars_checked  # noqa: E402  (benchmarks/run.py)

DATA = HERE / "data"
CORES = os.cpu_count() or 1
PROFILE = {
    "profile": "sensor",
    "sensor": {"station": "station", "timestamp": "timestamp", "quantities": list(MEASURES),
               "intervalMinutes": 1},
}  # fmt: skip


def profiled_folder(label: str) -> Path:
    """sensor-<label>-profile/: the sensor file (a hard link) with the sensor profile declared."""
    plain = DATA / f"sensor-{label}"
    if not (plain / "datapackage.json").exists():
        print(f"{plain} is missing: run `python benchmarks/generate.py {label}`", file=sys.stderr)
        sys.exit(2)
    folder = DATA / f"sensor-{label}-profile"
    folder.mkdir(exist_ok=True)
    if not (folder / "readings.csv").exists():
        os.link(plain / "readings.csv", folder / "readings.csv")
    descriptor = json.loads((plain / "datapackage.json").read_text())
    descriptor["civicgen"] = PROFILE
    (folder / "datapackage.json").write_text(json.dumps(descriptor))
    return folder


# --- the other engines, each run as its own process: python process.py --engine NAME FOLDER


def duckdb_sql(path: Path, profile: bool) -> str:
    checks = " + ".join(f"count_if({m} < {lo} OR {m} > {hi})" for m, (lo, hi) in BOUNDS.items())
    per = ", ".join(f"avg({m}), min({m}), max({m}), count({m})" for m in MEASURES)
    base = f"""
    CREATE TEMP TABLE r AS SELECT row_number() OVER () AS rn, * FROM read_csv('{path}',
        header=true, columns={{'station': 'VARCHAR', 'timestamp': 'TIMESTAMPTZ',
        'temperature': 'DOUBLE', 'humidity': 'DOUBLE', 'noise': 'DOUBLE', 'pm25': 'DOUBLE'}});
    SELECT count(*), count_if(station IS NULL OR NOT regexp_full_match(station, 'sck-[0-9]{{4}}'))
        + count_if(timestamp IS NULL) + {checks}, count(*) - count(DISTINCT (station, timestamp))
        FROM r;"""
    if not profile:
        return base
    quantiles = ", ".join(f"approx_quantile({m}, 0.95)" for m in MEASURES)
    return (
        base
        + f"""
    SELECT count(*) FROM (SELECT station, date_trunc('hour', timestamp), count(*), {per}
        FROM r GROUP BY ALL);
    SELECT count(*) FROM (SELECT station, date_trunc('day', timestamp), count(*), {per},
        {quantiles} FROM r GROUP BY ALL);
    SELECT count_if(timestamp < latest), count_if(timestamp = latest) FROM (SELECT timestamp,
        max(timestamp) OVER (PARTITION BY station ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING
        AND 1 PRECEDING) AS latest FROM r);"""
    )


def run_duckdb(folder: Path, threads: int, profile: bool) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    results = []
    for statement in duckdb_sql(folder / "readings.csv", profile).split(";"):
        if statement.strip():
            results.append(con.execute(statement).fetchall())
    rows, bad, duplicates = results[1][0]
    assert rows > 0 and bad == 0 and duplicates == 0, results


def run_polars(folder: Path, profile: bool) -> None:
    import polars as pl

    frame = polars_checked(folder)
    if not profile:
        return
    stats = [
        f(m).name.suffix(f"_{f.__name__}") for m in MEASURES for f in (pl.mean, pl.min, pl.max)
    ]
    for every, quantiles in (("1h", False), ("1d", True)):
        extra = [pl.col(m).quantile(0.95).alias(f"{m}_p95") for m in MEASURES] if quantiles else []
        period = pl.col("timestamp").dt.truncate(every)
        assert frame.group_by("station", period).agg(pl.len(), *stats, *extra).height > 0
    latest = pl.col("timestamp").cum_max().shift(1).over("station")
    order = frame.select(
        (pl.col("timestamp") < latest).sum().alias("late"),
        (pl.col("timestamp") == latest).sum().alias("duplicates"),
    )
    assert order.height == 1


# --- timing whole processes -------------------------------------------------------------


def tree_rss_kb(root: int) -> int:
    """The resident memory of a process and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, total = {root}, 0
    for pid in sorted(parents):  # children have higher pids, almost always; loop to be sure
        if parents[pid] in tree:
            tree.add(pid)
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as status:
                total += next(
                    (int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0
                )
        except OSError:
            continue
    return total


def timed(command: list[str], env: dict[str, str], also: tuple[int, ...] = ()) -> dict[str, float]:
    """Wall seconds from start to exit, and the peak memory of the process tree (MB), plus
    the trees of the pids in also (a running cluster's)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], sum(tree_rss_kb(pid) for pid in (process.pid, *also)))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, errors = process.communicate()
    seconds = time.perf_counter() - start
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{errors.decode()[-2000:]}")
    return {"seconds": seconds, "peak_mb": peak[0] / 1024}


def commands(folder: Path, profile: bool, cache: Path) -> dict[str, tuple[list[str], dict]]:
    env = {k: v for k, v in os.environ.items() if k != "CIVICGEN_NO_EXTENSIONS"}
    own = [sys.executable, __file__, "--engine"]
    flag = ["--profile"] if profile else []
    single = {**env, "POLARS_MAX_THREADS": "1"}
    civicgen = [sys.executable, "-m", "civicgen", "validate", str(folder)]
    return {
        "civicgen (cold cache)": (civicgen, {**env, "XDG_CACHE_HOME": str(cache / "cold")}),
        "civicgen (warm cache)": (civicgen, {**env, "XDG_CACHE_HOME": str(cache / "warm")}),
        "duckdb 1 thread": ([*own, "duckdb-1", str(folder), *flag], env),
        f"duckdb {CORES} threads": ([*own, f"duckdb-{CORES}", str(folder), *flag], env),
        "polars 1 thread": ([*own, "polars", str(folder), *flag], single),
        f"polars {CORES} threads": ([*own, "polars", str(folder), *flag], env),
    }


def run_suite(folder: Path, profile: bool, rounds: int) -> dict[str, list[dict]]:
    subprocess.run(["cat", str(folder / "readings.csv")], stdout=subprocess.DEVNULL, check=True)
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch)
        planned = commands(folder, profile, cache)
        subprocess.run(planned["civicgen (warm cache)"][0], env=planned["civicgen (warm cache)"][1],
                       stdout=subprocess.DEVNULL, check=False)  # fmt: skip
        runs: dict[str, list[dict]] = {name: [] for name in planned}
        for number in range(1, rounds + 1):
            for name, (command, env) in planned.items():
                if name.endswith("(cold cache)"):
                    subprocess.run(["rm", "-rf", str(cache / "cold")], check=True)
                runs[name].append(timed(command, env))
                print(f"{folder.name} round {number}/{rounds} {name}", runs[name][-1], flush=True)
    return runs


def table(label: str, profile: bool, runs: dict[str, list[dict]]) -> list[str]:
    medians = {
        name: (statistics.median(r["seconds"] for r in done),
               statistics.median(r["peak_mb"] for r in done), done)
        for name, done in runs.items()
    }  # fmt: skip
    duck_s, duck_mb, _ = medians["duckdb 1 thread"]
    polars_s = medians[f"polars {CORES} threads"][0]
    kind = "sensor profile" if profile else "no profile"
    out = []
    for name, (seconds, peak, done) in medians.items():
        spread = f"{min(r['seconds'] for r in done):.2f}–{max(r['seconds'] for r in done):.2f}"
        out.append(
            f"| {label} | {kind} | {name} | {seconds:.2f} | {spread} | {peak:.0f} "
            f"| {duck_s / seconds:.2f}x | {polars_s / seconds:.2f}x | {peak / duck_mb:.2f} |"
        )
    return out


def versions() -> str:
    code = "import duckdb, polars, frictionless, civicgen; print(duckdb.__version__, " \
        "polars.__version__, frictionless.__version__, civicgen.__version__)"  # fmt: skip
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    duck, polars, frictionless, civicgen = found.split()
    return (f"Python {platform.python_version()}, civicgen {civicgen}, frictionless "
            f"{frictionless}, duckdb {duck}, polars {polars}")  # fmt: skip


def main(labels: list[str], rounds: int) -> None:
    lines = [
        "# Whole-process results: `civicgen validate` as users run it", "",
        f"{dt.date.today()}, {CORES} cores, {platform.system()} {platform.release()}; "
        f"{versions()}. Command: `python benchmarks/generate.py {' '.join(labels)} && "
        f"python benchmarks/process.py {' '.join(labels)} --rounds {rounds}`. Medians of "
        f"{rounds} interleaved round(s); spread = min–max seconds; peak = the largest sum of "
        "resident memory over the process tree; ratios: the engine's speed against DuckDB on "
        f"one thread and polars on {CORES} threads (above 1: faster), its peak against "
        "DuckDB's on one thread.", "",
        "| rows | data | command | seconds | spread s | peak MB | vs DuckDB 1 thread "
        f"| vs polars {CORES} threads | peak / DuckDB 1 thread |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for label in labels:
        for profile in (False, True):
            folder = profiled_folder(label) if profile else DATA / f"sensor-{label}"
            lines.extend(table(label, profile, run_suite(folder, profile, rounds)))
    (HERE / "RESULTS-process.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def engine_main(engine: str, folder: Path, profile: bool) -> None:
    if engine.startswith("duckdb"):
        run_duckdb(folder, int(engine.split("-")[1]), profile)
    else:
        run_polars(folder, profile)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--engine"]:
        engine_main(sys.argv[2], Path(sys.argv[3]), "--profile" in sys.argv[4:])
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        parser.add_argument("labels", nargs="*", default=["1M", "5M"], metavar="label")
        parser.add_argument("--rounds", type=int, default=5, help="runs per command (default 5)")
        args = parser.parse_args()
        main(args.labels, max(1, args.rounds))
