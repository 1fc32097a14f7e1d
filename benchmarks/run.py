"""Side by side on the same files: civicgen compiled (1 process, all cores), the reference,
a plain csv-module loop, frictionless (100k, 1M), DuckDB and polars (1 thread, all threads).

Every engine does the same work: typed read, required / minimum / maximum / pattern checks,
primary-key uniqueness, group-by station x hour (count, mean, min, max of four measures).
Each run is its own subprocess that imports its engine first, then times the work alone
(no interpreter start-up, no imports, for every engine). Peak memory is the child's own
high-water mark (VmHWM, which does not inherit the parent's) or its largest worker's.
Writes benchmarks/RESULTS.md.

    python benchmarks/generate.py && python benchmarks/run.py [100k 1M 5M]
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
CORES = os.cpu_count() or 1
MEASURES = ("temperature", "humidity", "noise", "pm25")
BOUNDS = {"temperature": (-30, 60), "humidity": (0, 100), "noise": (20, 130), "pm25": (0, 1000)}


def plan_for(folder: Path):  # noqa: ANN201
    from civicgen.scan.plan import GroupBy, compile_plan

    descriptor = json.loads((folder / "datapackage.json").read_text())
    group = GroupBy(((0, "value", 0), (1, "hour", 0)), (2, 3, 4, 5))
    return compile_plan(descriptor["resources"][0], aggregates=(group,))


def run_civicgen(folder: Path, engine: str) -> int:
    """The scan by path: the reference reads the bytes, the kernel maps the file."""
    from civicgen.scan import _kernel, reference
    from civicgen.scan.parallel import scan_file_parallel

    plan = plan_for(folder)
    path = folder / "readings.csv"
    if engine == "reference":
        result = reference.scan_file(path, plan)
    elif engine == "compiled-1":
        result = _kernel.scan_file(path, plan)
    else:
        result = scan_file_parallel(path, plan, workers=CORES)
    assert not result.errors, result.errors[:3]
    return result.rows


def run_csv_loop(folder: Path) -> int:
    """The baseline: csv module, the same casts and checks, a dict per group."""
    pattern = re.compile("sck-[0-9]{4}")
    seen: set[tuple[str, dt.datetime]] = set()
    groups: dict[tuple[str, str], list] = {}
    errors = rows = 0
    with open(folder / "readings.csv", encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        next(reader)
        for station, stamp, *cells in reader:
            rows += 1
            errors += not station or not pattern.fullmatch(station)
            when = dt.datetime.fromisoformat(stamp)
            key = (station, when)
            errors += key in seen
            seen.add(key)
            state = groups.get((station, stamp[:13]))
            if state is None:
                state = groups[(station, stamp[:13])] = [0] + [
                    [0, 0.0, float("inf"), float("-inf")] for _ in cells
                ]
            state[0] += 1
            for name, cell, measure in zip(MEASURES, cells, state[1:], strict=True):
                if cell:
                    value = Decimal(cell)
                    low, high = BOUNDS[name]
                    errors += value < low or value > high
                    number = float(value)
                    measure[0] += 1
                    measure[1] += number
                    measure[2] = min(measure[2], number)
                    measure[3] = max(measure[3], number)
    assert errors == 0
    return rows


def run_frictionless(folder: Path) -> int:
    import warnings

    warnings.simplefilter("ignore")
    import frictionless

    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "type"])[:3]
    return report.tasks[0].stats["rows"]


def run_duckdb(folder: Path, threads: int) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    path = str(folder / "readings.csv")
    con.execute(
        f"""CREATE TEMP VIEW r AS SELECT * FROM read_csv('{path}', header=true, columns={{
        'station': 'VARCHAR', 'timestamp': 'TIMESTAMPTZ', 'temperature': 'DECIMAL(18,3)',
        'humidity': 'DECIMAL(18,3)', 'noise': 'DECIMAL(18,3)', 'pm25': 'DECIMAL(18,3)'}})"""
    )
    checks = " + ".join(f"count_if({m} < {lo} OR {m} > {hi})" for m, (lo, hi) in BOUNDS.items())
    sql = f"""
    WITH g AS (SELECT station, date_trunc('hour', timestamp) AS hour, count(*) AS n,
        {", ".join(f"avg({m}), min({m}), max({m}), count({m})" for m in MEASURES)}
        FROM r GROUP BY ALL),
    c AS (SELECT count(*) AS rows, count_if(station IS NULL OR NOT regexp_full_match(station, 'sck-[0-9]{{4}}'))
        + count_if(timestamp IS NULL) + {checks} AS bad,
        count(*) - count(DISTINCT (station, timestamp)) AS dup FROM r)
    SELECT rows, bad, dup, (SELECT count(*) FROM g) FROM c"""
    rows, bad, dup, _ = con.execute(sql).fetchone()
    assert bad == 0 and dup == 0
    return rows


def run_polars(folder: Path) -> int:
    import polars as pl

    schema = {"station": pl.Utf8, "timestamp": pl.Utf8, **{m: pl.Float64 for m in MEASURES}}
    frame = pl.read_csv(folder / "readings.csv", schema=schema)
    frame = frame.with_columns(
        pl.col("timestamp").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC", strict=True)
    )
    bad = frame.select(
        (pl.col("station").is_null() | ~pl.col("station").str.contains(r"^sck-[0-9]{4}$")).sum()
        + pl.col("timestamp").is_null().sum()
        + pl.sum_horizontal(
            [((pl.col(m) < lo) | (pl.col(m) > hi)).sum() for m, (lo, hi) in BOUNDS.items()]
        )
    ).item()
    dup = frame.height - frame.select(pl.struct("station", "timestamp").n_unique()).item()
    groups = frame.group_by("station", pl.col("timestamp").dt.truncate("1h")).agg(
        pl.len(),
        *[f(m).name.suffix(f"_{f.__name__}") for m in MEASURES for f in (pl.mean, pl.min, pl.max)],
    )
    assert bad == 0 and dup == 0 and groups.height > 0
    return frame.height


def prepare(engine: str) -> None:
    """Import the engine before the clock starts (every engine is timed without imports)."""
    if engine.startswith("duckdb"):
        import duckdb  # noqa: F401
    elif engine.startswith("polars"):
        import polars  # noqa: F401
    elif engine == "frictionless":
        import frictionless  # noqa: F401
    elif engine != "csv-loop":
        import civicgen.scan._kernel  # noqa: F401
        import civicgen.scan.parallel  # noqa: F401
        import civicgen.scan.plan  # noqa: F401


def own_peak_kb() -> int:
    """This process's peak RSS; VmHWM is reset at exec, unlike ru_maxrss on Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(engine: str, folder: Path) -> None:
    """Run one engine in this process and print seconds, rows and peak memory as JSON."""
    prepare(engine)
    start = time.perf_counter()
    if engine.startswith("duckdb"):
        rows = run_duckdb(folder, 1 if engine.endswith("-1") else CORES)
    elif engine.startswith("polars"):
        rows = run_polars(folder)
    elif engine == "frictionless":
        rows = run_frictionless(folder)
    elif engine == "csv-loop":
        rows = run_csv_loop(folder)
    else:
        rows = run_civicgen(folder, engine)
    seconds = time.perf_counter() - start
    own = own_peak_kb()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {"seconds": seconds, "rows": rows, "peak_kb": max(own, workers), "workers_kb": workers}
        )
    )


def measure(engine: str, folder: Path) -> dict:
    env = dict(os.environ)
    if engine.startswith("polars"):
        env["POLARS_MAX_THREADS"] = "1" if engine.endswith("-1") else str(CORES)
    out = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def versions() -> str:
    """Engine versions, read in a subprocess so that this driver stays small."""
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import run; print(run.versions_here())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def versions_here() -> str:
    import duckdb
    import frictionless
    import polars

    import civicgen

    return (
        f"Python {platform.python_version()}, civicgen {civicgen.__version__}, frictionless "
        f"{frictionless.__version__}, duckdb {duckdb.__version__}, polars {polars.__version__}"
    )


def target_lines(label: str, results: dict) -> list[str]:
    """The issue's ratios for one file: each with the run's own numbers."""

    def speed(engine: str) -> float:
        return results[engine]["rows"] / results[engine]["seconds"]

    one, duck = results["compiled-1"], results["duckdb-1"]
    out = [
        f"- {label}: compiled 1 process / DuckDB 1 thread = {speed('compiled-1') / speed('duckdb-1'):.2f}x "
        f"(target >= 1.5x); peak {one['peak_kb'] / 1024:.0f} MB vs DuckDB {duck['peak_kb'] / 1024:.0f} MB "
        f"= {one['peak_kb'] / duck['peak_kb']:.2f} (target <= 0.5); "
        f"{CORES} processes / 1 process = {speed(f'compiled-{CORES}') / speed('compiled-1'):.2f}x "
        "(target >= 1.7x on 5M)"
    ]
    if "frictionless" in results:
        out.append(
            f"- {label}: compiled 1 process / frictionless = "
            f"{speed('compiled-1') / speed('frictionless'):.0f}x (target >= 50x); reference / csv "
            f"loop = {speed('reference') / speed('csv-loop'):.2f}x (target >= 1x)"
        )
    return out


def main(labels: list[str]) -> None:
    engines = ["compiled-1", f"compiled-{CORES}", "reference", "csv-loop", "frictionless",
               "duckdb-1", f"duckdb-{CORES}", "polars-1", f"polars-{CORES}"]  # fmt: skip
    lines = [
        "# Benchmark results", "",
        f"{dt.date.today()} on {platform.machine()} {platform.processor() or ''}, {CORES} cores, "
        f"{platform.system()} {platform.release()}; {versions()}.", "",
        "Same work for every engine: typed read, required/minimum/maximum/pattern checks, primary-key "
        "uniqueness, group-by station x hour (count, mean, min, max). Each run in its own process, "
        "timed after its imports (interpreter start-up and imports excluded for every engine); "
        "peak = VmHWM of that process (or of its largest worker). civicgen scans by path "
        "(`scan_file`: memory-mapped, pages released behind the cursor). "
        "Command: `python benchmarks/generate.py 100k 1M 5M && python benchmarks/run.py 100k 1M 5M`.",
        "",
        "| file | engine | seconds | rows/s | MB/s | peak MB | vs DuckDB 1 thread | vs frictionless |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    targets = ["", "Targets (issue #3), from the rows above:", ""]
    for label in labels:
        folder = DATA / f"sensor-{label}"
        size = (folder / "readings.csv").stat().st_size / 1e6
        results = {}
        for engine in engines:
            if engine in ("reference", "csv-loop", "frictionless") and label == "5M":
                continue
            results[engine] = r = measure(engine, folder)
            print(label, engine, r, flush=True)
        duck = results["duckdb-1"]["rows"] / results["duckdb-1"]["seconds"]
        fric = results.get("frictionless")
        for engine, r in results.items():
            speed = r["rows"] / r["seconds"]
            vs_fric = f"{speed / (fric['rows'] / fric['seconds']):.0f}x" if fric else "-"
            lines.append(
                f"| {label} | {engine} | {r['seconds']:.2f} | {speed / 1e6:.2f} M | {size / r['seconds']:.0f} "
                f"| {r['peak_kb'] / 1024:.0f} | {speed / duck:.2f}x | {vs_fric} |"
            )
        targets.extend(target_lines(label, results))
    lines.extend(targets)
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], Path(sys.argv[3]))
    else:
        main(sys.argv[1:] or ["100k", "1M", "5M"])
