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
from ..scan.sequence import counts, is_over
from .partials import GroupMap, summary
from .tables import Column, DerivedTable, rounded

DEFAULT_THRESHOLDS = {"pm25": 15.0, "pm10": 45.0, "noise": 55.0}
HOUR_KEY, DAY_KEY = "hour", "day"
SKETCHED = {HOUR_KEY: False, DAY_KEY: True}  # which series have a 95th percentile (group_bys)


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
    """Station × hour and station × day, every quantity; the days with quantile sketches.

    An hour holds a few readings (one to sixty), too few for a 95th percentile to say more
    than its maximum; a sketch per station-hour would cost more than the rest of the scan."""
    index = {name: i for i, name in enumerate(names)}
    if config.station not in index or config.timestamp not in index:
        return ()
    measures = tuple(index[q] for q in config.quantities if q in index)
    station, stamp = index[config.station], index[config.timestamp]
    return (
        GroupBy(((station, "value", 0), (stamp, HOUR_KEY, 0)), measures, SKETCHED[HOUR_KEY]),
        GroupBy(((station, "value", 0), (stamp, DAY_KEY, 0)), measures, SKETCHED[DAY_KEY]),
    )


def series_table(
    name: str,
    period: str,
    config: SensorConfig,
    quantities: list[str],
    groups: GroupMap,
    units: dict[str, str],
) -> DerivedTable:
    """The series of one period; a sketched period's (SKETCHED) has a 95th percentile column."""
    quantiles = SKETCHED[period]
    percentile = " and 95th percentile (within 1 %)" if quantiles else ""
    table = DerivedTable(
        name,
        f"{period.capitalize()} series",
        f"Per station, {period} and quantity: readings, mean, minimum, maximum{percentile}.",
        [
            Column("station"),
            Column(period),
            Column("quantity"),
            Column("unit"),
            Column("readings", "integer"),
            Column("mean", "number"),
            Column("min", "number"),
            Column("max", "number"),
            *([Column("p95", "number")] if quantiles else []),
        ],
    )
    for (station, when), group in sorted(groups.items()):
        for quantity, state in zip(quantities, group[1], strict=True):
            s = summary(state)
            if s["count"]:
                row: list[Any] = [station, when, quantity, units.get(quantity, ""), s["count"]]
                row += [rounded(s["mean"], 3), s["min"], s["max"]]
                table.rows.append(row + [rounded(s["p95"], 3)] if quantiles else row)
    return table


def parse_hour(text: str) -> datetime | None:
    try:
        return datetime.strptime(text[:13], "%Y-%m-%dT%H")
    except ValueError:
        return None


def reading_order(config: SensorConfig, plan: Any, result: Any) -> dict[str, tuple[int, int]]:
    """Per station: (duplicate timestamps, readings out of order), as the scan counted them
    (scan/sequence.py): a reading is out of order when its time is earlier than a reading
    of its station listed before it, a duplicate when it repeats the latest such time."""
    names = [f.name for f in plan.fields]
    wanted = (names.index(config.station), names.index(config.timestamp))
    found = [i for i, s in enumerate(plan.sequences) if (s.key, s.time) == wanted]
    if not found or is_over(result.sequences[found[0]]):  # too many stations: see the report
        return {}
    return {station: counts(state) for station, state in result.sequences[found[0]].items()}


def coverage_table(
    config: SensorConfig,
    hourly: GroupMap,
    order: dict[str, tuple[int, int]] | None = None,
) -> DerivedTable:
    """Share of expected readings present, from the first to the last hour of each station."""
    table = DerivedTable(
        "coverage",
        "Coverage",
        "Readings present against readings expected between a station's first and last "
        "hour, the hours with no reading at all (gaps), readings at the same time as the "
        "station's latest before them (duplicates), and readings earlier than one listed "
        "before them (out of order).",
        [
            Column("station"),
            Column("first_hour"),
            Column("last_hour"),
            Column("readings", "integer"),
            Column("expected", "integer"),
            Column("coverage", "number", ratio=True),
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
    aggregates: list[GroupMap],
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
