"""Seeded benchmark data in benchmarks/data/ (git-ignored).

sensor-<rows>/: a Smart-Citizen-like package, 200 stations, one reading per minute each
(station, ISO timestamp with Z, temperature, humidity, noise, pm25), with required /
minimum / maximum / pattern constraints and primary key station + timestamp.
budget-200k/: budget lines with a five-field primary key and two foreign keys.

    python benchmarks/generate.py [100k 1M 5M budget]
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
SIZES = {"100k": 100_000, "1M": 1_000_000, "5M": 5_000_000, "20M": 20_000_000}
STATIONS = [f"sck-{i:04d}" for i in range(200)]


def sensor_schema() -> dict:
    def number(name: str, low: float, high: float) -> dict:
        return {"name": name, "type": "number", "constraints": {"minimum": low, "maximum": high}}

    return {
        "fields": [
            {
                "name": "station",
                "type": "string",
                "constraints": {"required": True, "pattern": "sck-[0-9]{4}"},
            },
            {"name": "timestamp", "type": "datetime", "constraints": {"required": True}},
            number("temperature", -30, 60),
            number("humidity", 0, 100),
            number("noise", 20, 130),
            number("pm25", 0, 1000),
        ],
        "primaryKey": ["station", "timestamp"],
    }


def write_sensor(label: str, rows: int) -> Path:
    folder = DATA / f"sensor-{label}"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2025)
    start = dt.datetime(2025, 1, 1)
    with open(folder / "readings.csv", "w", encoding="utf-8", newline="") as out:
        out.write("station,timestamp,temperature,humidity,noise,pm25\n")
        for i in range(rows):
            minute, station = divmod(i, len(STATIONS))
            stamp = (start + dt.timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")
            pm = "" if rng.random() < 0.01 else f"{rng.uniform(0, 80):.1f}"
            out.write(
                f"{STATIONS[station]},{stamp},{rng.uniform(-5, 35):.1f},{rng.uniform(10, 99):.1f},"
                f"{rng.uniform(30, 90):.1f},{pm}\n"
            )
    resource = {"name": "readings", "path": "readings.csv", "schema": sensor_schema()}
    (folder / "datapackage.json").write_text(
        json.dumps({"name": "sensor", "resources": [resource]})
    )
    return folder


def write_budget(rows: int = 200_000) -> Path:
    folder = DATA / "budget-200k"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2014)
    centres = [f"{i:03d}" for i in range(1, 21)]
    programs = [f"{i:05d}" for i in range(10000, 99999, 97)][:400]
    with open(folder / "programs.csv", "w", encoding="utf-8") as out:
        out.write("program,name\n" + "".join(f"{p},Program {p}\n" for p in programs))
    with open(folder / "centres.csv", "w", encoding="utf-8") as out:
        out.write("centre,name\n" + "".join(f"{c},Centre {c}\n" for c in centres))
    with open(folder / "lines.csv", "w", encoding="utf-8") as out:
        out.write("year,centre,section,program,economic,amount\n")
        for i in range(rows):
            year = 2014 + i % 10
            rest = i // 10
            out.write(
                f"{year},{centres[rest % 20]},{rest // 20 % 50:03d},{programs[rest // 1000 % 400]},"
                f"{rest % 1000 + 10000},{rng.uniform(0, 1e6):.2f}\n"
            )
    text = {"type": "string", "constraints": {"required": True}}
    fields = [
        {"name": "year", "type": "year", "constraints": {"required": True}},
        {"name": "centre", **text},
        {"name": "section", **text},
        {"name": "program", **text},
        {"name": "economic", "type": "integer", "constraints": {"required": True}},
        {"name": "amount", "type": "number", "constraints": {"minimum": 0}},
    ]
    key = ["year", "centre", "section", "program", "economic"]
    lines = {
        "name": "lines",
        "path": "lines.csv",
        "schema": {
            "fields": fields,
            "primaryKey": key,
            "foreignKeys": [
                {
                    "fields": ["program"],
                    "reference": {"resource": "programs", "fields": ["program"]},
                },
                {"fields": ["centre"], "reference": {"resource": "centres", "fields": ["centre"]}},
            ],
        },
    }
    small = [
        {
            "name": name,
            "path": f"{name}.csv",
            "schema": {
                "fields": [{"name": key_, **text}, {"name": "name", "type": "string"}],
                "primaryKey": [key_],
            },
        }
        for name, key_ in (("programs", "program"), ("centres", "centre"))
    ]
    (folder / "datapackage.json").write_text(
        json.dumps({"name": "budget", "resources": [lines, *small]})
    )
    return folder


def main(args: list[str]) -> None:
    for label in args or ["100k", "1M", "5M", "budget"]:
        folder = write_budget() if label == "budget" else write_sensor(label, SIZES[label])
        print("wrote", folder)


if __name__ == "__main__":
    main(sys.argv[1:])
