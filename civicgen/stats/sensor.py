"""Sensor statistics: hourly and daily series per station and quantity, coverage, exceedances.

Default thresholds are the WHO 2021 global air-quality guidelines (24-hour means:
PM2.5 15 µg/m³, PM10 45 µg/m³) and, for noise, 55 dBA as a daily mean: the WHO
community-noise guideline for serious annoyance outdoors in the daytime (1999).
A package may set its own in civicgen.sensor.thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..scan.plan import GroupBy
from .partials import Group, summary
from .tables import Column, DerivedTable, rounded

DEFAULT_THRESHOLDS = {"pm25": 15.0, "pm10": 45.0, "noise": 55.0}
HOUR_KEY, DAY_KEY = "hour", "day"


@dataclass(frozen=True)
class SensorConfig:
    station: str
    timestamp: str
    quantities: tuple[str, ...]
    interval_minutes: int = 60
    timezone: str = "UTC"
    thresholds: dict[str, float] = field(default_factory=dict)
    base_layer: str = ""  # a GeoJSON file under the package folder, drawn under the station map
    base_layer_source: str = ""  # where the base layer comes from and its licence, shown with it


def sensor_config(descriptor: dict[str, Any]) -> SensorConfig | None:
    declared = (descriptor.get("civicgen") or {}).get("sensor")
    if not declared:
        return None
    return SensorConfig(
        station=declared.get("station", "station"),
        timestamp=declared.get("timestamp", "timestamp"),
        quantities=tuple(declared.get("quantities", ())),
        interval_minutes=int(declared.get("intervalMinutes", 60)),
        timezone=declared.get("timezone", "UTC"),
        thresholds={**DEFAULT_THRESHOLDS, **(declared.get("thresholds") or {})},
        base_layer=str(declared.get("baseLayer") or ""),
        base_layer_source=str(declared.get("baseLayerSource") or ""),
    )


def group_bys(config: SensorConfig, names: list[str]) -> tuple[GroupBy, ...]:
    """Station × hour and station × day, every quantity, with quantile sketches."""
    index = {name: i for i, name in enumerate(names)}
    if config.station not in index or config.timestamp not in index:
        return ()
    measures = tuple(index[q] for q in config.quantities if q in index)
    station, stamp = index[config.station], index[config.timestamp]
    return (
        GroupBy(((station, "value", 0), (stamp, HOUR_KEY, 0)), measures, True),
        GroupBy(((station, "value", 0), (stamp, DAY_KEY, 0)), measures, True),
    )


def series_table(
    name: str,
    period: str,
    config: SensorConfig,
    quantities: list[str],
    groups: dict[tuple[str, ...], Group],
    units: dict[str, str],
) -> DerivedTable:
    table = DerivedTable(
        name,
        f"{period.capitalize()} series",
        f"Per station, {period} and quantity: readings, "
        "mean, minimum, maximum and 95th percentile (within 1 %).",
        [
            Column("station"),
            Column(period),
            Column("quantity"),
            Column("unit"),
            Column("readings", "integer"),
            Column("mean", "number"),
            Column("min", "number"),
            Column("max", "number"),
            Column("p95", "number"),
        ],
    )
    for (station, when), group in sorted(groups.items()):
        for quantity, state in zip(quantities, group[1], strict=True):
            s = summary(state)
            if s["count"]:
                table.rows.append(
                    [
                        station,
                        when,
                        quantity,
                        units.get(quantity, ""),
                        s["count"],
                        rounded(s["mean"], 3),
                        s["min"],
                        s["max"],
                        rounded(s["p95"], 3),
                    ]
                )
    return table


def parse_hour(text: str) -> datetime | None:
    try:
        return datetime.strptime(text[:13], "%Y-%m-%dT%H")
    except ValueError:
        return None


def reading_order(config: SensorConfig, plan: Any, result: Any) -> dict[str, tuple[int, int]]:
    """Per station: (duplicate timestamps, readings out of order), from the collected keys.

    A reading is out of order when the file lists it after a later reading of its station.
    """
    names = [f.name for f in plan.fields]
    wanted = (names.index(config.station), names.index(config.timestamp))
    if wanted not in plan.key_sets:
        return {}
    rows_by_key = result.key_rows[plan.key_sets.index(wanted)]
    per_station: dict[str, list[tuple[Any, int]]] = {}
    duplicates: dict[str, int] = {}
    for (station, when), rows in rows_by_key.items():
        per_station.setdefault(station, []).append((when, min(rows)))
        duplicates[station] = duplicates.get(station, 0) + len(rows) - 1
    order = {}
    for station, readings in per_station.items():
        latest_row, late = 0, 0
        for _, row in sorted(readings, key=lambda item: item[0]):
            late += row < latest_row
            latest_row = max(latest_row, row)
        order[station] = (duplicates[station], late)
    return order


def coverage_table(
    config: SensorConfig,
    hourly: dict[tuple[str, ...], Group],
    order: dict[str, tuple[int, int]] | None = None,
) -> DerivedTable:
    """Share of expected readings present, from the first to the last hour of each station."""
    table = DerivedTable(
        "coverage",
        "Coverage",
        "Readings present against readings expected between a station's first and last "
        "hour, the hours with no reading at all (gaps), duplicate timestamps, and readings "
        "listed after a later one (out of order).",
        [
            Column("station"),
            Column("first_hour"),
            Column("last_hour"),
            Column("readings", "integer"),
            Column("expected", "integer"),
            Column("coverage", "number"),
            Column("gap_hours", "integer"),
            Column("duplicates", "integer"),
            Column("out_of_order", "integer"),
        ],
    )
    order = order or {}
    per_station: dict[str, dict[datetime, int]] = {}
    for (station, hour), group in hourly.items():
        parsed = parse_hour(hour)
        if parsed is not None:
            per_station.setdefault(station, {})[parsed] = group[0]
    per_hour = max(1, 60 // max(1, config.interval_minutes))
    for station, hours in sorted(per_station.items()):
        first, last = min(hours), max(hours)
        span = int((last - first) / timedelta(hours=1)) + 1
        readings = sum(hours.values())
        table.rows.append(
            [
                station,
                first.strftime("%Y-%m-%dT%H"),
                last.strftime("%Y-%m-%dT%H"),
                readings,
                span * per_hour,
                rounded(readings / (span * per_hour)),
                span - len(hours),
                *order.get(station, (None, None)),
            ]
        )
    return table


def exceedance_table(config: SensorConfig, daily: DerivedTable) -> DerivedTable:
    table = DerivedTable(
        "exceedances",
        "Days above guideline",
        "Days whose mean exceeds the guideline threshold, per station and quantity.",
        [
            Column("station"),
            Column("quantity"),
            Column("threshold", "number"),
            Column("days_with_data", "integer"),
            Column("days_above", "integer"),
            Column("worst_day"),
            Column("worst_mean", "number"),
        ],
    )
    counted: dict[tuple[str, str], list[Any]] = {}
    for row in daily.records():
        limit = config.thresholds.get(row["quantity"])
        if limit is None:
            continue
        entry = counted.setdefault((row["station"], row["quantity"]), [limit, 0, 0, "", None])
        entry[1] += 1
        entry[2] += row["mean"] > limit
        if entry[4] is None or row["mean"] > entry[4]:
            entry[3], entry[4] = row["day"], row["mean"]
    for (station, quantity), entry in sorted(counted.items()):
        table.rows.append([station, quantity, *entry])
    return table


def derive(
    config: SensorConfig,
    aggregates: list[dict[tuple[str, ...], Group]],
    units: dict[str, str],
    names: list[str],
    order: dict[str, tuple[int, int]] | None = None,
) -> list[DerivedTable]:
    if len(aggregates) < 2:
        return []
    quantities = [q for q in config.quantities if q in names]
    hourly = series_table("hourly", "hour", config, quantities, aggregates[0], units)
    daily = series_table("daily", "day", config, quantities, aggregates[1], units)
    coverage = coverage_table(config, aggregates[0], order)
    return [coverage, exceedance_table(config, daily), daily, hourly]
