"""The normalised sensor data package that the Smart Citizen importer writes."""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from . import csv_resource, schema_field, slugify


@dataclass
class Column:
    """One measured column of an export, with its normalised name."""

    name: str
    title: str
    unit: str
    label: str
    origin: str


@dataclass
class Reading:
    station: str
    when: datetime
    values: dict[str, str]
    path: str
    line: int


def stamp(when: datetime) -> str:
    """ISO 8601 in UTC with a Z: 2025-10-01T00:00:00Z."""
    text = when.isoformat(timespec="seconds" if not when.microsecond else "microseconds")
    return text.replace("+00:00", "Z")


def readings_csv(readings: list[Reading], names: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["station", "timestamp", *names])
    for r in readings:
        writer.writerow([r.station, stamp(r.when), *(r.values.get(n, "") for n in names)])
    return buffer.getvalue()


def stations_csv(readings: list[Reading]) -> str:
    """One row per station; the exports do not say where a kit is, so coordinates stay empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "name", "latitude", "longitude"])
    for station in sorted({r.station for r in readings}):
        writer.writerow([station, station, "", ""])
    return buffer.getvalue()


def interval_minutes(readings: list[Reading]) -> int | None:
    """The typical time between two readings of a station, in whole minutes."""
    gaps = [
        (later.when - earlier.when).total_seconds()
        for earlier, later in zip(readings, readings[1:], strict=False)
        if earlier.station == later.station
    ]
    return max(1, round(statistics.median(gaps) / 60)) if gaps else None


def package_json(
    out: Path,
    columns: list[Column],
    readings: list[Reading],
    timezone: str,
    paths: list[Path],
    quantities: list[str],
) -> str:
    stations = sorted({r.station for r in readings})
    sensor: dict[str, object] = {
        "station": "station",
        "timestamp": "timestamp",
        "timezone": "UTC",
        "stations": "stations",
        "quantities": quantities,
    }
    interval = interval_minutes(readings)
    if interval is not None:
        sensor["intervalMinutes"] = interval
    descriptor = {
        "name": slugify(out.name) or "smart-citizen-readings",
        "title": f"Smart Citizen Kit readings: {', '.join(stations) or 'no readings'}",
        "description": (
            "Readings imported by civicgen from Smart Citizen Kit CSV exports. "
            "Add where each station is in data/stations.csv and a licence before publishing."
        ),
        "sources": [{"title": f"Smart Citizen Kit export {Path(p).name}"} for p in paths],
        "keywords": ["sensors", "smart citizen"],
        "civicgen": {"profile": "sensor", "sensor": sensor},
        "resources": [stations_resource(), readings_resource(columns, timezone)],
    }
    return json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"


def stations_resource() -> dict[str, Any]:
    degrees = "degrees (WGS 84)"
    fields = [
        schema_field(
            "id", "string", "Station id", required=True, unique=True, pattern="[a-z0-9-]+"
        ),
        schema_field("name", "string", "Name"),
        schema_field("latitude", "number", "Latitude", unit=degrees, minimum=-90, maximum=90),
        schema_field("longitude", "number", "Longitude", unit=degrees, minimum=-180, maximum=180),
    ]
    note = "One row per kit. The exports do not say where a kit is: add it by hand."
    schema = {"fields": fields, "primaryKey": ["id"]}
    return csv_resource("stations", "Stations", note, "data/stations.csv", schema)


def readings_resource(columns: list[Column], timezone: str) -> dict[str, Any]:
    zone_note = "" if timezone == "UTC" else f" Times without a zone were read as {timezone}."
    when = f"When the kit took the reading, ISO 8601 in UTC.{zone_note}"
    fields = [
        schema_field("station", "string", "Station", required=True),
        schema_field("timestamp", "datetime", "Time (UTC)", when, required=True),
        *(quantity_field(c) for c in columns),
    ]
    station_key = {"fields": "station", "reference": {"resource": "stations", "fields": "id"}}
    schema = {
        "fields": fields,
        "primaryKey": ["station", "timestamp"],
        "foreignKeys": [station_key],
    }
    note = (
        "One row per station and reading time. Empty cells are values the kit did not "
        "record (null or none in the export)."
    )
    return csv_resource("readings", "Readings", note, "data/readings.csv", schema)


def quantity_field(column: Column) -> dict[str, Any]:
    unit = f" in {column.unit}" if column.unit else " (unit not given in the export)"
    description = f"{column.title}{unit}; {column.origin}."
    return schema_field(column.name, "number", column.title, description, column.unit)
