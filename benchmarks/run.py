"""Side by side on the same files: civicgen compiled (1 process, all cores), the reference,
a plain csv-module loop, frictionless (100k, 1M), DuckDB and polars (1 thread, all threads),
and, next to the kernel-only figures, `civicgen validate` and DuckDB as whole processes.

Sensor files: every engine does the same work: typed read, required / minimum / maximum /
pattern checks, primary-key uniqueness, group-by station x hour (count, mean, min, max of four
measures). Budget (three tables, two foreign keys): civicgen's own validate() pipeline, the same
with CIVICGEN_NO_EXTENSIONS=1, frictionless on the package, DuckDB and polars doing the same
checks (typed read, required, minimum, primary keys, foreign keys as anti-joins).
Each run is its own subprocess that imports its engine first, then times the work alone (no
interpreter start-up, no imports). Peak memory is the child's own high-water mark (VmHWM, not
inherited from the parent) or its largest worker's. Each round runs every engine once,
interleaved, so that noise hits all alike; reported: medians (seconds, peak) and min-max seconds.
Writes benchmarks/RESULTS.md.

    python benchmarks/generate.py && python benchmarks/run.py [100k 1M 5M budget] [--rounds 5]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
CORES = os.cpu_count() or 1
MEASURES = ("temperature", "humidity", "noise", "pm25")
BOUNDS = {"temperature": (-30, 60), "humidity": (0, 100), "noise": (20, 130), "pm25": (0, 1000)}
LABELS = ["100k", "1M", "5M", "budget"]
KEY = ["year", "centre", "section", "program", "economic"]
SMALL = {"programs": "program", "centres": "centre"}  # the referenced tables and their keys


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
    return sum(task.stats["rows"] for task in report.tasks)


def run_pipeline(folder: Path) -> int:
    """civicgen as users run it: descriptor, the three tables, primary and foreign keys."""
    from civicgen.pipeline import Settings, validate

    validation = validate([str(folder)], Settings(cache_dir=None))
    assert validation.report.valid, validation.report.flatten(["path", "row", "code"])[:3]
    return sum(t.result.rows for t in validation.tables.values())


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


def run_duckdb_budget(folder: Path, threads: int) -> int:
    """Typed read of the three tables, then required, minimum, primary and foreign keys."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    types = {"year": "INTEGER", "centre": "VARCHAR", "section": "VARCHAR", "program": "VARCHAR",
             "economic": "BIGINT", "amount": "DECIMAL(18,2)"}  # fmt: skip
    tables = {"lines": types} | {t: {k: "VARCHAR", "name": "VARCHAR"} for t, k in SMALL.items()}
    for table, columns in tables.items():
        spec = ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items())
        con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT * FROM "
            f"read_csv('{folder / table}.csv', header=true, columns={{{spec}}})"
        )
    checks = [
        f"SELECT count_if({' OR '.join(f'{c} IS NULL' for c in KEY)}) + count_if(amount < 0) "
        f"+ count(*) - count(DISTINCT ({', '.join(KEY)})) FROM lines",
        *(f"SELECT count_if({k} IS NULL) + count(*) - count(DISTINCT {k}) FROM {t}"
          for t, k in SMALL.items()),
        *(f"SELECT count(*) FROM lines ANTI JOIN {t} USING ({k})" for t, k in SMALL.items()),
    ]  # fmt: skip
    bad = [con.execute(sql).fetchone()[0] for sql in checks]
    assert not any(bad), bad
    return sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)


def run_polars_budget(folder: Path) -> int:
    """The same checks as run_duckdb_budget, on polars frames."""
    import polars as pl

    schema = {"year": pl.Int32, "centre": pl.Utf8, "section": pl.Utf8, "program": pl.Utf8,
              "economic": pl.Int64, "amount": pl.Decimal(18, 2)}  # fmt: skip
    lines = pl.read_csv(folder / "lines.csv", schema=schema)
    small = {
        t: pl.read_csv(folder / f"{t}.csv", schema={k: pl.Utf8, "name": pl.Utf8})
        for t, k in SMALL.items()
    }
    bad = [
        lines.select(pl.col(KEY).null_count()).sum_horizontal().item(),
        lines.select((pl.col("amount") < 0).sum()).item(),
        lines.height - lines.select(pl.struct(KEY).n_unique()).item(),
        *(small[t][k].null_count() + small[t].height - small[t][k].n_unique()
          for t, k in SMALL.items()),
        *(lines.join(small[t], on=k, how="anti").height for t, k in SMALL.items()),
    ]  # fmt: skip
    assert not any(bad), bad
    return lines.height + sum(frame.height for frame in small.values())


def polars_checked(folder: Path):  # noqa: ANN201 (a polars frame; polars is imported late)
    """The sensor file read by polars, typed and checked (required, pattern, bounds, key)."""
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
    assert bad == 0 and dup == 0
    return frame


def run_polars(folder: Path) -> int:
    import polars as pl

    frame = polars_checked(folder)
    groups = frame.group_by("station", pl.col("timestamp").dt.truncate("1h")).agg(
        pl.len(),
        *[f(m).name.suffix(f"_{f.__name__}") for m in MEASURES for f in (pl.mean, pl.min, pl.max)],
    )
    assert groups.height > 0
    return frame.height


def prepare(engine: str, budget: bool) -> None:
    """Import the engine before the clock starts (every engine is timed without imports)."""
    if engine.startswith("duckdb"):
        import duckdb  # noqa: F401
    elif engine.startswith("polars"):
        import polars  # noqa: F401
    elif engine == "frictionless" or budget:  # civicgen's pipeline checks descriptors with it
        import frictionless

        frictionless.system.plugins  # noqa: B018  (imported on first use otherwise)
    if budget and engine in ("civicgen", "reference"):
        import civicgen.pipeline  # noqa: F401
        import civicgen.scan.checkers  # noqa: F401
    elif not budget and engine not in ("csv-loop", "frictionless"):
        import civicgen.scan._kernel  # noqa: F401
        import civicgen.scan.parallel  # noqa: F401
        import civicgen.scan.plan  # noqa: F401


def work(engine: str, folder: Path, budget: bool) -> int:
    """Run one engine on one folder; return the rows it read."""
    threads = 1 if engine.endswith("-1") else CORES
    if engine.startswith("duckdb"):
        return (run_duckdb_budget if budget else run_duckdb)(folder, threads)
    if engine.startswith("polars"):
        return (run_polars_budget if budget else run_polars)(folder)
    if engine == "frictionless":
        return run_frictionless(folder)
    if budget:
        return run_pipeline(folder)
    if engine == "csv-loop":
        return run_csv_loop(folder)
    return run_civicgen(folder, engine)


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
    budget = folder.name.startswith("budget")
    prepare(engine, budget)
    start = time.perf_counter()
    rows = work(engine, folder, budget)
    seconds = time.perf_counter() - start
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak = max(own_peak_kb(), workers)
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_kb": peak, "workers_kb": workers}))


WHOLE = {  # what users run, timed from outside (process.py): engine -> (command, profile)
    "civicgen validate, whole process": ("civicgen", False),
    "civicgen validate + sensor profile, whole process": ("civicgen", True),
    "duckdb-1, whole process": ("duckdb-1", False),
    "duckdb-1 + sensor statistics, whole process": ("duckdb-1", True),
    f"polars {CORES} threads + sensor statistics, whole process": ("polars", True),
}


WHOLE_PROFILE = "civicgen validate + sensor profile, whole process"
POLARS_PROFILE = f"polars {CORES} threads + sensor statistics, whole process"


def whole_process(engine: str, folder: Path) -> dict:
    """One run as users run it: interpreter start, imports, descriptor checks and an empty
    scan cache included; peak memory summed over the process tree (process.py's timing)."""
    import process  # benchmarks/process.py, which reads this module's checks

    command, profile = WHOLE[engine]
    target = process.profiled_folder(folder.name.removeprefix("sensor-")) if profile else folder
    env = {k: v for k, v in os.environ.items() if k != "CIVICGEN_NO_EXTENSIONS"}
    with tempfile.TemporaryDirectory() as cache:
        if command == "civicgen":
            argv = [sys.executable, "-m", "civicgen", "validate", str(target)]
            env["XDG_CACHE_HOME"] = cache
        else:
            argv = [sys.executable, process.__file__, "--engine", command, str(target)]
            argv += ["--profile"] if profile else []
        timed = process.timed(argv, env)
    return {
        "seconds": timed["seconds"],
        "rows": data_rows(folder),
        "peak_kb": timed["peak_mb"] * 1024,
    }


@functools.cache
def data_rows(folder: Path) -> int:
    """The sensor file's data rows (the generated file quotes no line break), counted once."""
    with open(folder / "readings.csv", "rb") as data:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: data.read(1 << 24), b"")) - 1


def measure(engine: str, folder: Path) -> dict:
    """One run of one engine in a fresh child process."""
    if engine in WHOLE:
        return whole_process(engine, folder)
    env = dict(os.environ)
    env.pop("CIVICGEN_NO_EXTENSIONS", None)
    if engine == "reference":
        env["CIVICGEN_NO_EXTENSIONS"] = "1"  # the kernel is chosen at import from this
    if engine.startswith("polars"):
        env["POLARS_MAX_THREADS"] = "1" if engine.endswith("-1") else str(CORES)
    command = [sys.executable, __file__, "--child", engine, str(folder)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(runs: list[dict]) -> dict:
    """Medians of the rounds (seconds, peak), the min and max seconds, and the rows."""
    seconds = sorted(r["seconds"] for r in runs)
    assert len({r["rows"] for r in runs}) == 1, runs
    peak = statistics.median(r["peak_kb"] for r in runs)
    return {"seconds": statistics.median(seconds), "min": seconds[0], "max": seconds[-1],
            "rows": runs[0]["rows"], "peak_kb": peak}  # fmt: skip


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


def speed(result: dict) -> float:
    return result["rows"] / result["seconds"]


def table_rows(label: str, results: dict, megabytes: float) -> list[str]:
    """One Markdown row per engine; ratios to DuckDB 1 thread and frictionless of this file."""
    duck = speed(results["duckdb-1"])
    fric = speed(results["frictionless"]) if "frictionless" in results else None
    return [
        f"| {label} | {engine} | {r['seconds']:.2f} | {r['min']:.2f}–{r['max']:.2f} "
        f"| {speed(r) / 1e6:.2f} M | {megabytes / r['seconds']:.0f} | {r['peak_kb'] / 1024:.0f} "
        f"| {speed(r) / duck:.2f}x | {f'{speed(r) / fric:.0f}x' if fric else '-'} |"
        for engine, r in results.items()
    ]


def target_lines(label: str, results: dict) -> list[str]:
    """The issue's ratios for one file (none for the budget), from the medians."""

    def x(fast: str, slow: str) -> float:
        return speed(results[fast]) / speed(results[slow])

    if label == "budget":
        return [
            f"- budget: civicgen / DuckDB 1 thread = {x('civicgen', 'duckdb-1'):.2f}x; civicgen / "
            f"frictionless = {x('civicgen', 'frictionless'):.0f}x; reference / frictionless = "
            f"{x('reference', 'frictionless'):.1f}x (no targets)"
        ]
    one, duck = results["compiled-1"]["peak_kb"], results["duckdb-1"]["peak_kb"]
    out = [
        f"- {label}: compiled 1 process / DuckDB 1 thread = {x('compiled-1', 'duckdb-1'):.2f}x "
        f"(target >= 1.5x); peak {one / 1024:.0f} MB vs DuckDB {duck / 1024:.0f} MB = "
        f"{one / duck:.2f} (target <= 0.5); {CORES} processes / 1 process = "
        f"{x(f'compiled-{CORES}', 'compiled-1'):.2f}x (target >= 1.7x on 5M)"
    ]
    user, duck_user = results[WHOLE_PROFILE], results["duckdb-1 + sensor statistics, whole process"]
    out.append(
        f"- {label}, whole process with the sensor profile: civicgen / DuckDB 1 thread = "
        f"{speed(user) / speed(duck_user):.2f}x (target >= 2x), / polars {CORES} threads = "
        f"{speed(user) / speed(results[POLARS_PROFILE]):.2f}x (target >= 1x); peak "
        f"{user['peak_kb'] / duck_user['peak_kb']:.2f} of DuckDB's (target <= 0.5)"
    )
    if "frictionless" in results:
        out.append(
            f"- {label}: compiled 1 process / frictionless = {x('compiled-1', 'frictionless'):.0f}x "
            f"(target >= 50x); reference / csv loop = {x('reference', 'csv-loop'):.2f}x "
            "(target >= 1x)"
        )
    return out


def engines_for(label: str) -> list[str]:
    """The engines of one suite; the slow ones are left out on 5M."""
    tail = ["frictionless", "duckdb-1", f"duckdb-{CORES}", "polars-1", f"polars-{CORES}"]
    if label == "budget":
        return ["civicgen", "reference", *tail]
    if label == "5M":
        return ["compiled-1", f"compiled-{CORES}", *WHOLE, *tail[1:]]
    return ["compiled-1", f"compiled-{CORES}", *WHOLE, "reference", "csv-loop", *tail]


def folder_for(label: str) -> Path:
    """The data folder of a label; exit with status 2 when it was not generated."""
    folder = DATA / ("budget-200k" if label == "budget" else f"sensor-{label}")
    if not (folder / "datapackage.json").exists():
        print(f"{folder} is missing: run `python benchmarks/generate.py {label}`", file=sys.stderr)
        sys.exit(2)
    return folder


def run_suite(label: str, folder: Path, rounds: int) -> dict:
    """Every engine once per round, interleaved; the summary of each engine's runs."""
    csvs = sorted(folder.glob("*.csv"))  # read once: a warm page cache for the first engine too
    subprocess.run(["cat", *csvs], stdout=subprocess.DEVNULL, check=True)
    runs: dict[str, list[dict]] = {engine: [] for engine in engines_for(label)}
    for number in range(1, rounds + 1):
        for engine, done in runs.items():
            done.append(measure(engine, folder))
            print(f"{label} round {number}/{rounds} {engine}", done[-1], flush=True)
    return {engine: summary(done) for engine, done in runs.items()}


def main(labels: list[str], rounds: int) -> None:
    folders = {label: folder_for(label) for label in labels}
    lines = [
        "# Benchmark results", "",
        f"{dt.date.today()} on {platform.machine()} {platform.processor() or ''}, {CORES} cores, "
        f"{platform.system()} {platform.release()}; {versions()}.", "",
        "Sensor files: same work for every engine: typed read, required/minimum/maximum/pattern "
        "checks, primary-key uniqueness, group-by station x hour (count, mean, min, max); civicgen "
        "scans by path (`scan_file`: memory-mapped, pages released behind the cursor). Budget "
        "(200k lines, programs, centres): civicgen = its `validate()` pipeline (descriptor, three "
        "tables, primary and foreign keys), reference = the same with CIVICGEN_NO_EXTENSIONS=1, "
        "frictionless validates the package, DuckDB and polars check types, required, minimum, "
        "primary keys and foreign keys (anti-joins). Each run in its own process, timed after its "
        "imports; peak = VmHWM of that process (or of its largest worker). The rows ending in "
        "\"whole process\" are what users run, timed from outside from start to exit "
        "(interpreter, imports, descriptor checks, an empty scan cache), their peak the sum over "
        "the process tree; with the sensor profile, civicgen also makes the sensor statistics "
        "and reading-order counts, and DuckDB the same statistics (process.py). Seconds and "
        "peak MB: "
        f"medians of {rounds} round(s), engines interleaved (each round runs every engine once); "
        "spread = min–max seconds; ratios from the medians. Command: "
        f"`python benchmarks/generate.py {' '.join(LABELS)} && python benchmarks/run.py "
        f"{' '.join(LABELS)}`.",
        "",
        "| file | engine | seconds | spread s | rows/s | MB/s | peak MB | vs DuckDB 1 thread "
        "| vs frictionless |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    targets = ["", "Targets (issue #3; none for the budget), from the medians above:", ""]
    for label, folder in folders.items():
        results = run_suite(label, folder, rounds)
        megabytes = sum(path.stat().st_size for path in folder.glob("*.csv")) / 1e6
        lines.extend(table_rows(label, results, megabytes))
        targets.extend(target_lines(label, results))
    lines.extend(targets)
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], Path(sys.argv[3]))
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        parser.add_argument("labels", nargs="*", choices=LABELS, default=LABELS, metavar="label")
        parser.add_argument("--rounds", type=int, default=5, help="runs per engine (default 5)")
        args = parser.parse_args()
        main(args.labels or LABELS, max(1, args.rounds))
