"""civicgen build with its languages side by side (the default) against `--jobs 1` (in turn),
on the example scaled k times: wall, CPU and peak memory (PSS) of the whole process tree,
interleaved rounds, a cold cache each run. Uses build.py's scaled repository and measurement.

    python benchmarks/build_jobs.py --scale 10 --rounds 2
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import build as bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="civicgen-jobs-"))
    portal = work / "city"
    bench.scale_portal(portal, args.scale)
    for round_ in range(1, args.rounds + 1):
        for label, extra in (
            ("side by side (default)", []),
            ("in turn (--jobs 1)", ["--jobs", "1"]),
        ):
            env = bench.civicgen_env(work / f"cache-{round_}-{len(extra)}")
            command = bench.civicgen("build", *extra, "-d", str(work / "site"))
            run = bench.measured(command, portal, env)
            print(f"| {round_} | {label} | {run.seconds:.1f} | {run.cpu_seconds:.1f} "
                  f"| {run.peak_mib:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
