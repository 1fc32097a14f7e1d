"""`civicgen validate` of a sensor package (the sensor profile declared) on Dask, side by side
with the local engine, as users run it: whole processes, timed from outside.

Commands, each round interleaved:

- local, one process: `civicgen validate PKG` pinned to one core (taskset), so it scans in
  one process;
- local, all cores: `civicgen validate PKG` (a file of 32 MB or more is cut in chunks, one
  process a core);
- Dask, 1 and 2 workers: `civicgen validate PKG --scheduler ADDRESS` on a cluster already
  running (`dask scheduler` and `dask worker --nworkers N --nthreads 1`, started here);
- Dask, its own cluster: `civicgen validate PKG --engine dask` (starting a cluster on this
  machine and stopping it are part of the run).

Peak memory: the largest sum of resident memory over the command's process tree, plus the
running cluster's (scheduler and workers) for the Dask rows. Then, on 2 workers, the same
file in smaller partitions (the seconds a partition adds: scheduling), and what one
partition sends back (its partial state), by part, with and without the profile.

    python benchmarks/generate.py 5M 20M && python benchmarks/on_dask.py 5M 20M [--rounds 3]

Writes benchmarks/RESULTS-dask.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import pickle
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from process import DATA, profiled_folder, timed  # noqa: E402  (benchmarks/process.py)

CORES = os.cpu_count() or 1
PARTITIONS_MB = (64, 16, 4, 1)  # the overhead sweep, on 2 workers


@contextlib.contextmanager
def cluster(workers: int) -> Iterator[tuple[str, list[int]]]:
    """A scheduler and `workers` single-threaded worker processes on 127.0.0.1: its address
    and the pids whose process trees are the cluster."""
    folder = Path(tempfile.mkdtemp(prefix="civicgen-dask-"))
    scheduler_file = folder / "scheduler.json"
    module = [sys.executable, "-m"]
    scheduler = subprocess.Popen(
        [*module, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
         "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not scheduler_file.exists():
        if scheduler.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the Dask scheduler did not start")
        time.sleep(0.1)
    worker = subprocess.Popen(
        [*module, "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
         "--nworkers", str(workers), "--nthreads", "1", "--host", "127.0.0.1",
         "--dashboard-address", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    address = wait_for_workers(scheduler_file, workers)
    try:
        yield address, [scheduler.pid, worker.pid]
    finally:
        for process in (worker, scheduler):
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            if process.poll() is None:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_workers(scheduler_file: Path, workers: int) -> str:
    from distributed import Client

    with Client(scheduler_file=str(scheduler_file)) as client:
        client.wait_for_workers(workers, timeout=120)
        return str(client.scheduler.address)


def validate(folder: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "civicgen", "validate", str(folder), *options]


def environment(cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CIVICGEN_NO_EXTENSIONS"}
    env["XDG_CACHE_HOME"] = cache  # an empty cache: every run scans
    return env


def run_suite(folder: Path, rounds: int) -> dict[str, list[dict]]:
    """Each command once a round, interleaved; the clusters stay up between rounds."""
    runs: dict[str, list[dict]] = {}
    with cluster(1) as (one, one_pids), cluster(2) as (two, two_pids):
        commands = {
            "local, 1 process": (["taskset", "-c", "0", *validate(folder)], []),
            f"local, {CORES} processes": (validate(folder), []),
            "Dask, 1 worker": (validate(folder, "--scheduler", one), one_pids),
            "Dask, 2 workers": (validate(folder, "--scheduler", two), two_pids),
            "Dask, its own cluster (start included)": (validate(folder, "--engine", "dask"), []),
        }
        for _ in range(rounds):
            for name, (command, pids) in commands.items():
                with tempfile.TemporaryDirectory() as cache:
                    runs.setdefault(name, []).append(
                        timed(command, environment(cache), tuple(pids))
                    )
    return runs


def sweep(folder: Path, rounds: int) -> dict[int, float]:
    """Median seconds on 2 workers for each partition size (MB)."""
    found: dict[int, list[float]] = {}
    with cluster(2) as (address, pids):
        for _ in range(rounds):
            for mb in PARTITIONS_MB:
                command = validate(folder, "--scheduler", address, "--partition-mb", str(mb))
                with tempfile.TemporaryDirectory() as cache:
                    found.setdefault(mb, []).append(
                        timed(command, environment(cache), tuple(pids))["seconds"]
                    )
    return {mb: statistics.median(seconds) for mb, seconds in found.items()}


def partial_state(folder: Path, partition_mb: int = 64) -> dict[str, int]:
    """Bytes of one partition's partial state (pickled, as Dask sends it), by part."""
    from civicgen.config import Settings
    from civicgen.pipeline import load
    from civicgen.scan.partitions import scan_partition
    from civicgen.scan.plan import compile_plan
    from civicgen.stats.profiles import aggregates_for, sequences_for

    portal = load([str(folder)], None, Settings()).portal
    package = portal.packages[0]
    resource = package.resources[0]
    plan = compile_plan(resource.descriptor, aggregates=aggregates_for(package, resource, 500_000),
                        sequences=sequences_for(package, resource))  # fmt: skip
    path = folder / "readings.csv"
    data = path.read_bytes()
    body = data.index(b"\n") + 1
    hi = data.find(b"\n", body + (partition_mb << 20)) + 1 or len(data)  # or the whole file
    result, primary, uniques, _ = scan_partition(str(path), len(data), plan, body, hi, 2, 6, None)
    keys = primary[1] if primary else []
    return {
        "rows": result.rows,
        "bytes": hi - body,
        "whole": len(pickle.dumps((result, primary, uniques), protocol=pickle.HIGHEST_PROTOCOL)),
        "aggregates": len(pickle.dumps(result.aggregates, protocol=pickle.HIGHEST_PROTOCOL)),
        "sequences": len(pickle.dumps(result.sequences, protocol=pickle.HIGHEST_PROTOCOL)),
        "keys": sum(len(tags) + len(rows) for tags, rows in keys),
    }


def table(label: str, runs: dict[str, list[dict]]) -> list[str]:
    base = statistics.median(r["seconds"] for r in runs["local, 1 process"])
    lines = []
    for name, found in runs.items():
        seconds = sorted(r["seconds"] for r in found)
        middle = statistics.median(seconds)
        peak = statistics.median(r["peak_mb"] for r in found)
        lines.append(f"| {label} | {name} | {middle:.2f} | {seconds[0]:.2f}–{seconds[-1]:.2f} "
                     f"| {peak:,.0f} | {base / middle:.2f} |")  # fmt: skip
    return lines


def versions() -> str:
    code = "import dask, distributed, civicgen; print(dask.__version__, civicgen.__version__)"
    dask, civicgen = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                    text=True).stdout.split()  # fmt: skip
    return f"Python {platform.python_version()}, civicgen {civicgen}, dask {dask}"


def main(labels: list[str], rounds: int) -> None:
    lines = [
        "# Sensor packages on Dask: `civicgen validate --engine dask` against the local engine", "",
        f"{dt.date.today()}, {CORES} cores, {platform.system()} {platform.release()}; {versions()}. "
        f"Command: `python benchmarks/generate.py {' '.join(labels)} && python benchmarks/on_dask.py "
        f"{' '.join(labels)} --rounds {rounds}`. The sensor profile declared; whole processes, an "
        f"empty cache each run; medians of {rounds} interleaved round(s), spread = min–max; peak = "
        "the largest sum of resident memory over the command's process tree and, for a running "
        "cluster, its scheduler's and workers'; speed-up against the local engine in one process.",
        "", "| rows | command | seconds | spread s | peak MB | × local, 1 process |",
        "|---|---|---:|---:|---:|---:|",
    ]  # fmt: skip
    for label in labels:
        lines.extend(table(label, run_suite(profiled_folder(label), rounds)))
    label = labels[0]
    swept = sweep(profiled_folder(label), rounds)
    size = (profiled_folder(label) / "readings.csv").stat().st_size
    counts = {mb: max(1, -(-size // (mb << 20))) for mb in swept}
    lines += ["", f"## Partition size, {label} rows ({size / 1e6:,.0f} MB), 2 workers", "",
              "| partition MB | partitions | seconds |", "|---:|---:|---:|"]  # fmt: skip
    lines += [f"| {mb} | {counts[mb]} | {swept[mb]:.2f} |" for mb in swept]
    first, last = max(swept), min(swept)
    per = (swept[last] - swept[first]) / max(counts[last] - counts[first], 1)
    lines += ["", f"Each partition beyond {counts[first]} adds {per * 1000:.1f} ms "
              f"(from {counts[first]} to {counts[last]} partitions)."]  # fmt: skip
    lines += ["", "## One partition's partial state (pickled bytes; 64 MB, or the file if smaller)",
              "", "| package | rows | data bytes | aggregates | sequences | primary-key hashes "
              "| whole | × data |", "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, folder in (("no profile", DATA / f"sensor-{label}"),
                         ("sensor profile", profiled_folder(label))):  # fmt: skip
        state = partial_state(folder)
        lines.append(f"| {name} | {state['rows']:,} | {state['bytes']:,} | {state['aggregates']:,} | "
                     f"{state['sequences']:,} | {state['keys']:,} | {state['whole']:,} | "
                     f"{state['whole'] / state['bytes']:.3f} |")  # fmt: skip
    (HERE / "RESULTS-dask.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labels", nargs="*", default=["5M", "20M"])
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.labels, arguments.rounds)
