"""The air-quality section: a home per sensor package (map and table of locations) and a
page per station and quantity (daily and hourly series, days above the guideline, coverage).

Everything comes from the package's derived tables (daily, hourly, coverage, exceedances:
bounded by stations × hours, not by rows) and its stations as published, so home stations
appear only under their pseudonyms and on the grid. Words are in the templates.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from jinja2 import Environment

from ..model import Package
from ..stats.sensor import DEFAULT_THRESHOLDS, SensorConfig
from ..stats.tables import DerivedTable
from . import series
from .formats import number
from .inputs import SiteInputs
from .maps import air_map, read_base_layer
from .pages import Output, page, shortened

SECTION = "air"
SAFE_SEGMENT = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")
LONGEST_GAPS = 5


def segment(text: str) -> str:
    """A URL path segment for an id: itself when it is plain (sck-retiro), else its letters
    and a short hash, so that two ids never share a page and no id leaves its folder."""
    if SAFE_SEGMENT.fullmatch(text):
        return text
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    letters = "-".join(re.findall(r"[a-z0-9]+", folded))[:40]
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{letters}-{digest}" if letters else f"id-{digest}"


def air_uri(package: str, station: str = "", quantity: str = "") -> str:
    """The page of a sensor package (its home), or of one station and quantity; station is
    the id as published (a home station's pseudonym), quantity the field name."""
    if not station:
        return f"{SECTION}/{package}/index.md"
    return f"{SECTION}/{package}/{segment(station)}/{segment(quantity)}/index.md"


@dataclass
class Quantity:
    code: str
    title: str  # the schema's field title (the template prefers its own translated name)
    unit: str
    guideline: float | None
    default_guideline: bool  # the WHO value civicgen ships, not one the package set
    segment: str


@dataclass
class Station:
    id: str  # as published (a home station's pseudonym)
    segment: str
    number: int
    name: str
    district: str
    latitude: str
    longitude: str
    home: bool
    quantities: list[Quantity] = field(default_factory=list)
    coverage: dict[str, Any] | None = None


def field_titles(inputs: SiteInputs, package: Package) -> dict[str, str]:
    """The title of every field of the package's tables, by name."""
    return {
        str(f.get("name")): str(f.get("title") or "")
        for scanned in inputs.validation.tables.values()
        if scanned.package.name == package.name
        for f in scanned.resource.fields
    }


def quantities_of(
    config: SensorConfig, daily: DerivedTable, titles: dict[str, str]
) -> list[Quantity]:
    units = {r["quantity"]: r["unit"] for r in daily.records()}
    return [
        Quantity(
            code,
            titles.get(code, ""),
            units[code],
            config.thresholds.get(code),
            DEFAULT_THRESHOLDS.get(code) == config.thresholds.get(code),
            segment(code),
        )
        for code in config.quantities
        if code in units
    ]


def stations_of(inputs: SiteInputs, name: str, stats: dict[str, DerivedTable]) -> list[Station]:
    """Every station with readings, in the stations table's order, then the unlisted ones."""
    rows = {row.get("id", ""): row for row in inputs.stations.get(name, [])}
    measured = {r["station"] for r in stats["daily"].records()}
    homes = inputs.homes.get(name)
    hidden = {homes.pseudonym(i) for i in homes.ids} if homes else set()
    hidden |= measured - set(rows) if homes and homes.every else set()
    ordered = [i for i in rows if i in measured] + sorted(measured - set(rows))
    coverage = {r["station"]: r for r in stats["coverage"].records()} if "coverage" in stats else {}
    return [
        Station(
            station,
            segment(station),
            number,
            shortened(rows.get(station, {}).get("name", "")),  # a page shows a name, not a file
            shortened(rows.get(station, {}).get("district", "")),
            rows.get(station, {}).get("latitude", ""),
            rows.get(station, {}).get("longitude", ""),
            station in hidden,
            coverage=coverage.get(station),
        )
        for number, station in enumerate(ordered, start=1)
    ]


def series_by(table: DerivedTable, key: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The rows of a series table by (station, quantity), in time order."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in table.records():
        if row["mean"] is not None:
            found.setdefault((row["station"], row["quantity"]), []).append(row)
    for rows in found.values():
        rows.sort(key=lambda r: str(r[key]))
    return found


Series = dict[tuple[str, str], list[dict[str, Any]]]


def series_of(stats: dict[str, DerivedTable]) -> tuple[Series, Series]:
    """The daily and hourly series by (station, quantity) (the same in every language)."""
    hourly = series_by(stats["hourly"], "hour") if "hourly" in stats else {}
    return series_by(stats["daily"], "day"), hourly


def daily_view(rows: list[dict[str, Any]], guideline: float | None) -> dict[str, Any]:
    """The latest year of daily means: chart, table, days above and calendar."""
    days = [(d, r) for r in rows if (d := series.parse_day(r["day"])) is not None]
    if days:
        start = days[-1][0] - timedelta(days=series.DAILY_DAYS - 1)
        days = [(d, r) for d, r in days if d >= start]
    shown = [
        {**r, "date": d, "above": guideline is not None and r["mean"] > guideline} for d, r in days
    ]
    return {
        "rows": shown,
        "above": [r for r in shown if r["above"]],
        "chart": series.daily_chart([(r["date"], r["mean"]) for r in shown], guideline),
        "calendar": series.calendar({r["date"]: r["mean"] for r in shown}, guideline),
        "cut": len(days) < len(rows),
    }


def hourly_view(rows: list[dict[str, Any]], guideline: float | None) -> dict[str, Any]:
    """The latest month of hourly means: chart and table."""
    hours = [(h, r) for r in rows if (h := series.parse_hour(r["hour"])) is not None]
    if hours:
        start = hours[-1][0] - timedelta(days=series.HOURLY_DAYS) + timedelta(hours=1)
        hours = [(h, r) for h, r in hours if h >= start]
    return {
        "count": len(hours),
        "days": hour_matrix(hours),
        "hour_labels": [f"{h:02d}" for h in range(24)],
        "chart": series.hourly_chart([(h, r["mean"]) for h, r in hours], guideline),
        "first": hours[0][0] if hours else None,
        "last": hours[-1][0] if hours else None,
    }


def hour_matrix(hours: list[tuple[datetime, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The hourly means as one row per day and a value per hour (None: no reading), and the
    values as the page's language writes them ("–": no reading), a table of 700 cells."""
    days: dict[date, list[float | None]] = {}
    for when, row in hours:
        days.setdefault(when.date(), [None] * 24)[when.hour] = row["mean"]
    return [
        {"day": day, "hours": values, "cells": ["–" if v is None else number(v, 1) for v in values]}
        for day, values in sorted(days.items())
    ]


def coverage_view(rows: list[dict[str, Any]], station: Station) -> dict[str, Any] | None:
    """Hours with a reading of this quantity between the station's first and last hour."""
    present = {h for r in rows if (h := series.parse_hour(r["hour"])) is not None}
    bounds = station.coverage or {}
    first = series.parse_hour(bounds.get("first_hour") or "") or min(present, default=None)
    last = series.parse_hour(bounds.get("last_hour") or "") or max(present, default=None)
    if first is None or last is None or last < first:
        return None
    span = int((last - first) / timedelta(hours=1)) + 1
    with_reading = len({h for h in present if first <= h <= last})
    gaps = series.gaps(present, first, last)
    return {
        "first": first,
        "last": last,
        "hours": span,
        "with_reading": with_reading,
        "share": with_reading / span,
        "missing": span - with_reading,
        "gap_count": len(gaps),
        "longest": gaps[:LONGEST_GAPS],
    }


def exceedance_of(stats: dict[str, DerivedTable], station: str, quantity: str) -> Any:
    table = stats.get("exceedances")
    found = table.where(station=station, quantity=quantity) if table else []
    return found[0] if found else None


def base_layer(inputs: SiteInputs, package: Package, config: SensorConfig) -> Any:
    if not config.base_layer:
        return None
    return read_base_layer(inputs.validation.source, package.folder, config.base_layer)


def package_pages(
    env: Environment, inputs: SiteInputs, package: Package, stats: dict[str, DerivedTable]
) -> list[Output]:
    config = package.options
    quantities = quantities_of(config, stats["daily"], field_titles(inputs, package))
    stations = stations_of(inputs, package.name, stats)
    daily, hourly = inputs.once(("air series", package.name), partial(series_of, stats))
    for station in stations:
        station.quantities = [q for q in quantities if (station.id, q.code) in daily]
    shown = [row for row in map(station_row, stations) if row]
    found = stats["exceedances"].records() if "exceedances" in stats else []
    exceedances = {(r["station"], r["quantity"]): r for r in found}
    context = {
        "summaries": {q.code: guideline_summary(q, stations, exceedances) for q in quantities},
        "package": package,
        "config": config,
        "stations": stations,
        "quantities": quantities,
        "exceedances": exceedances,
    }
    home = page(
        env,
        air_uri(package.name),
        [f"air-home-{package.name}.html", "air-home.html"],
        None,
        map=air_map(shown, base_layer(inputs, package, config)),
        **context,
    )
    return [home] + [
        quantity_page(env, package, stats, station, quantity, daily, hourly, context)
        for station in stations
        for quantity in station.quantities
    ]


def guideline_summary(
    quantity: Quantity, stations: list[Station], exceedances: dict[tuple[str, str], Any]
) -> dict[str, Any] | None:
    """How many stations had days above the guideline, and which had the most."""
    found = [
        (exceedances[(s.id, quantity.code)], s)
        for s in stations
        if (s.id, quantity.code) in exceedances
    ]
    if quantity.guideline is None or not found:
        return None
    most = max(e["days_above"] for e, _ in found)
    return {
        "stations": len(found),
        "above": sum(1 for e, _ in found if e["days_above"]),
        "worst": [station for e, station in found if e["days_above"] == most],
        "worst_days": most,
    }


def station_row(station: Station) -> dict[str, str]:
    """The station as the map needs it (nothing when it has no coordinates)."""
    if not (station.latitude and station.longitude):
        return {}
    return {
        "number": str(station.number),
        "name": station.name,
        "latitude": station.latitude,
        "longitude": station.longitude,
    }


def quantity_page(
    env: Environment,
    package: Package,
    stats: dict[str, DerivedTable],
    station: Station,
    quantity: Quantity,
    daily: dict[tuple[str, str], list[dict[str, Any]]],
    hourly: dict[tuple[str, str], list[dict[str, Any]]],
    context: dict[str, Any],
) -> Output:
    key = (station.id, quantity.code)
    return page(
        env,
        air_uri(package.name, station.id, quantity.code),
        ["air-station.html"],
        None,
        station=station,
        quantity=quantity,
        daily=daily_view(daily.get(key, []), quantity.guideline),
        hourly=hourly_view(hourly.get(key, []), quantity.guideline),
        coverage=coverage_view(hourly.get(key, []), station),
        exceedance=exceedance_of(stats, station.id, quantity.code),
        **context,
    )


def sensor_packages(inputs: SiteInputs) -> list[tuple[Package, dict[str, DerivedTable]]]:
    """The sensor packages with daily series, by name."""
    found = []
    for name, package in sorted(inputs.packages.items()):
        stats = {t.name: t for t in inputs.derived.get(name, [])}
        if isinstance(package.options, SensorConfig) and "daily" in stats:
            found.append((package, stats))
    return found


def air_pages(env: Environment, inputs: SiteInputs) -> list[Output]:
    """The section's index, and each sensor package's home and station pages."""
    packages = sensor_packages(inputs)
    if not packages:
        return []
    index = page(
        env, f"{SECTION}/index.md", ["air-index.html"], None, packages=[p for p, _ in packages]
    )
    return [index] + [
        o for package, stats in packages for o in package_pages(env, inputs, package, stats)
    ]
