"""Smart Citizen Kit CSV exports -> a normalised sensor data package.

Two layouts are read: the SD-card file (four header lines: keys, units, names, sensor ids;
missing values are null or none) and the platform download (one header line
``timestamp,<measurement> in <unit> (<sensor>)…``). Readings become data/readings.csv
(station, timestamp in UTC, one column per quantity) and data/stations.csv.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import (
    CivicError,
    DuplicateLabelError,
    ExtraCellError,
    FormatError,
    LabelError,
    MissingCellError,
    PrimaryKeyError,
    TypeError_,
    preview,
)
from ..exceptions import CivicgenException
from . import (
    ImportProblem,
    ImportResult,
    lines_of,
    prepare_output,
    read_text,
    slugify,
    split_cells,
    write_files,
)
from .sensor_package import (
    Column,
    Reading,
    package_json,
    readings_csv,
    stamp,
    stations_csv,
)

UTC = dt_timezone.utc
MISSING = {"", "null", "none", "nan"}
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
PLATFORM_LABEL = re.compile(r"(?P<measure>.+) in (?P<unit>[^()]+?)(?: \((?P<sensor>.*)\))?")
DATE_STEM = re.compile(r"\d{2}-\d{2}-\d{2}(?:[-_.]\d+)?")

# normalised name -> (title, whether it measures the environment rather than the kit)
QUANTITIES: dict[str, tuple[str, bool]] = {
    "temperature": ("Air temperature", True),
    "humidity": ("Relative humidity", True),
    "noise": ("Noise level", True),
    "pressure": ("Barometric pressure", True),
    "light": ("Ambient light", True),
    "pm1": ("PM1 particles", True),
    "pm25": ("PM2.5 particles", True),
    "pm4": ("PM4 particles", True),
    "pm10": ("PM10 particles", True),
    "eco2": ("Equivalent CO2 (eCO2, estimated)", True),
    "co2": ("Carbon dioxide (CO2)", True),
    "tvoc": ("Total volatile organic compounds", True),
    "battery": ("Battery level", False),
    "sdcard": ("SD card present", False),
    "rssi": ("WiFi signal strength", False),
}

# SD-card keys and platform names, lowercased with runs of other characters as one space
ALIASES: dict[str, str] = {
    **dict.fromkeys(["temp", "temperature", "air temperature"], "temperature"),
    **dict.fromkeys(["hum", "humidity", "relative humidity"], "humidity"),
    **dict.fromkeys(["noise a", "noise", "noise level", "noise dba"], "noise"),
    **dict.fromkeys(["press", "pressure", "barometric pressure"], "pressure"),
    **dict.fromkeys(["light", "ambient light"], "light"),
    **dict.fromkeys(["batt", "battery", "battery sck", "battery sck 1 1"], "battery"),
    **dict.fromkeys(["pm 1", "pm1", "pm 1 0"], "pm1"),
    **dict.fromkeys(["pm 25", "pm25", "pm 2 5", "pm2 5"], "pm25"),
    **dict.fromkeys(["pm 4", "pm4", "pm 4 0"], "pm4"),
    **dict.fromkeys(["pm 10", "pm10", "pm 10 0"], "pm10"),
    **dict.fromkeys(["ccs811 eco2", "eco2"], "eco2"),
    **dict.fromkeys(["scd30 co2", "co2"], "co2"),
    **dict.fromkeys(["ccs811 vocs", "tvoc", "vocs"], "tvoc"),
    **dict.fromkeys(["sdcard", "sd card"], "sdcard"),
    **dict.fromkeys(["rssi", "wifi rssi"], "rssi"),
}

UNITS = {"c": "°C", "ºc": "°C", "°c": "°C", "degc": "°C", "ug/m3": "µg/m³", "µg/m3": "µg/m³"}
UNITS |= {"k pa": "kPa", "kpa": "kPa", "% rel": "%", "dba": "dBA", "lux": "lux"}


@dataclass
class Parsed:
    """What one file gave: its columns, its readings, and what is wrong with it."""

    path: str
    columns: list[Column] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    fatal: list[CivicError] = field(default_factory=list)
    warnings: list[CivicError] = field(default_factory=list)


def import_files(
    paths: list[Path],
    out: Path,
    *,
    station: str | None = None,
    timezone: str = "UTC",
    overwrite: bool = False,
) -> ImportResult:
    """Import Smart Citizen Kit CSV exports into a sensor data package in out/."""
    if not paths:
        raise CivicgenException("give at least one Smart Citizen Kit CSV export to import")
    zone = load_zone(timezone)
    prepare_output(out, overwrite)
    parsed = [parse_file(Path(p), station_of(Path(p), station), zone) for p in paths]
    fatal = [e for p in parsed for e in p.fatal]
    columns, conflicts = merge_columns(parsed)
    if fatal or conflicts:
        raise ImportProblem(fatal + conflicts)
    readings, duplicates = deduplicate([r for p in parsed for r in p.readings])
    names = [c.name for c in columns]
    quantities = [n for n in names if QUANTITIES.get(n, ("", True))[1]]
    files = {
        "datapackage.json": package_json(out, columns, readings, timezone, paths, quantities),
        "data/readings.csv": readings_csv(readings, names),
        "data/stations.csv": stations_csv(readings),
    }
    warnings = station_warnings(paths, station) + [e for p in parsed for e in p.warnings]
    warnings += duplicates
    return ImportResult(write_files(out, files), warnings)


def load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CivicgenException(
            f'"{name}" is not a time zone; use an IANA name like UTC or Europe/Madrid'
        ) from exc


def station_of(path: Path, station: str | None) -> str:
    """The station id: the one given, or the file name without extension, slugified."""
    sid = slugify(station if station is not None else path.stem)
    if not sid:
        note = "cannot make a station id from this name; pass --station sck-retiro (any lowercase name)"
        raise ImportProblem([FormatError(note=note, path=path.as_posix())])
    return sid


def station_warnings(paths: list[Path], station: str | None) -> list[CivicError]:
    """SD-card files are named by date (25-10-01.CSV): a poor station id."""
    if station is not None:
        return []
    note = (
        "the station id comes from the file name, which looks like the date of an "
        "SD-card file; pass --station (station= in Python) to name the kit"
    )
    return [
        CivicError(note=note, path=p.as_posix(), warning=True)
        for p in map(Path, paths)
        if DATE_STEM.fullmatch(p.stem)
    ]


# --- reading one file -----------------------------------------------------------------


def parse_file(path: Path, station: str, zone: ZoneInfo) -> Parsed:
    """Detect the layout, read the header, then every reading."""
    shown = path.as_posix()
    lines = lines_of(read_text(path))
    parsed = Parsed(shown)
    layout = detect_layout(lines, shown, parsed)
    if layout is None:
        return parsed
    header_lines = 4 if layout == "sd-card" else 1
    labels = [split_cells(line, ",") for line in lines[:header_lines]]
    parsed.columns = sd_columns(labels) if layout == "sd-card" else platform_columns(labels[0])
    check_header(labels, parsed, shown)
    rename_duplicates(parsed, shown)
    for number in range(header_lines, len(lines)):
        if lines[number].strip():
            read_row(lines[number], number, station, zone, shown, parsed)
    return parsed


def detect_layout(lines: list[str], path: str, parsed: Parsed) -> str | None:
    """ "sd-card" (TIME + three more header lines) or "platform" (timestamp + readings)."""
    first = lines[0].split(",", 1)[0].strip().strip('"').lower() if lines else ""
    if first == "timestamp":
        return "platform"
    if first == "time":
        for number in range(1, 4):
            if number >= len(lines) or STAMP.match(lines[number].split(",", 1)[0]):
                note = (
                    "an SD-card export has four header lines (keys, units, names, sensor "
                    f"ids), but line {number + 1} is not one; copy the missing header lines "
                    "from another file of the same kit"
                )
                parsed.fatal.append(FormatError(note=note, path=path, line=number))
                return None
        return "sd-card"
    note = (
        'the first line must start with "TIME" (SD-card file) or "timestamp" (platform '
        "download); is this a Smart Citizen Kit export?"
    )
    parsed.fatal.append(FormatError(note=note, path=path, line=0, column=0))
    return None


def sd_columns(labels: list[list[tuple[int, str]]]) -> list[Column]:
    """Columns from the keys, units, names and sensor-id lines."""
    keys, units, names, ids = ([cell for _, cell in row] for row in labels)
    columns = []
    for index in range(1, len(keys)):
        key, name = keys[index].strip(), at(names, index)
        quantity = lookup(key) or lookup(name) or slugify(key or name, "_")
        origin = f"SD-card key {key}" + (f", sensor id {at(ids, index)}" if at(ids, index) else "")
        title = QUANTITIES[quantity][0] if quantity in QUANTITIES else name or key
        columns.append(Column(quantity, title, unit_of(at(units, index)), key, origin))
    return columns


def platform_columns(labels: list[tuple[int, str]]) -> list[Column]:
    """Columns from `<measurement> in <unit> (<sensor>)` labels."""
    columns = []
    for _, label in labels[1:]:
        match = PLATFORM_LABEL.fullmatch(label.strip())
        measure = match["measure"] if match else label.strip()
        sensor = (match["sensor"] or "") if match else ""
        quantity = lookup(measure) or slugify(measure, "_")
        title = QUANTITIES[quantity][0] if quantity in QUANTITIES else measure
        unit = unit_of(match["unit"]) if match else ""
        origin = f"sensor {sensor}" if sensor else f'platform column "{label.strip()}"'
        columns.append(Column(quantity, title, unit, label.strip(), origin))
    return columns


def at(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""


def lookup(label: str) -> str | None:
    """The normalised quantity for a key or name, also after a sensor model (SEN5X PM 2.5)."""
    words = " ".join(re.findall(r"[a-z0-9]+", label.lower()))
    if words in ALIASES:
        return ALIASES[words]
    prefix, _, rest = words.partition(" ")
    sensor_model = prefix == "ext" or any(ch.isdigit() for ch in prefix)
    return ALIASES.get(rest) if sensor_model else None


def unit_of(unit: str) -> str:
    return UNITS.get(unit.strip().lower(), unit.strip())


def check_header(labels: list[list[tuple[int, str]]], parsed: Parsed, path: str) -> None:
    """Every header line has one cell per column; every column has a unit and a name."""
    width = len(labels[0])
    for number, row in enumerate(labels[1:], start=1):
        if len(row) != width:
            note = (
                f"this header line has {len(row)} cells but the first has {width}; "
                "every header line needs one cell per column"
            )
            parsed.fatal.append(MissingCellError(note=note, path=path, line=number))
    for index, column in enumerate(parsed.columns, start=1):
        if not column.name:
            note = "this column has no name; give it one in the header"
            parsed.fatal.append(
                LabelError(note=note, path=path, line=0, column=labels[0][index][0])
            )
        elif not column.unit:
            note = "no unit is given for this column; the package shows it without a unit"
            position: dict[str, Any] = {
                "line": 0,
                "column": labels[0][index][0],
                "field_name": column.label,
            }
            parsed.warnings.append(LabelError(note=note, path=path, warning=True, **position))


def rename_duplicates(parsed: Parsed, path: str) -> None:
    """Two columns that map to one name: the later one keeps its own key, or gets a suffix."""
    seen: set[str] = set()
    for column in parsed.columns:
        if column.name in seen:
            column.name = slugify(column.label, "_") or column.name
        if column.name in seen:
            base, suffix = column.name, 2
            while f"{base}_{suffix}" in seen:
                suffix += 1
            column.name = f"{base}_{suffix}"
            note = (
                f'the header repeats "{column.label}"; the repeated column was imported as '
                f'"{column.name}": check which sensor it is and rename it'
            )
            error = DuplicateLabelError(
                note=note, path=path, line=0, field_name=column.label, warning=True
            )
            parsed.warnings.append(error)
        seen.add(column.name)


def read_row(
    line: str, number: int, station: str, zone: ZoneInfo, path: str, parsed: Parsed
) -> None:
    """One reading: a time and one value per column; problems go to parsed.fatal."""
    cells = split_cells(line, ",")
    width = len(parsed.columns) + 1
    if len(cells) != width:
        parsed.fatal.append(width_error(cells, width, line, number, path))
        return
    when = parse_time(cells[0][1], zone)
    if when is None:
        note = (
            f'"{preview(cells[0][1])}" is not a date and time; use ISO 8601, '
            "like 2025-10-01T00:00:00Z"
        )
        error = TypeError_(note=note, path=path, line=number, column=0, cell=cells[0][1])
        parsed.fatal.append(error)
        return
    if local_time_is_unclear(cells[0][1], zone):
        note = (
            f"{cells[0][1].strip()} is ambiguous or does not exist in {zone.key} (a daylight "
            "saving change); it was read with the earlier offset: check it"
        )
        parsed.warnings.append(CivicError(note=note, path=path, line=number, warning=True))
    values = {}
    for column, (offset, cell) in zip(parsed.columns, cells[1:], strict=True):
        value = cell.strip()
        if value.lower() in MISSING:
            continue
        if not NUMBER.fullmatch(value):
            parsed.fatal.append(value_error(value, column, number, offset, path))
            continue
        values[column.name] = value
    parsed.readings.append(Reading(station, when, values, path, number))


def width_error(
    cells: list[tuple[int, str]], width: int, line: str, number: int, path: str
) -> CivicError:
    found = len(cells)
    if found > width:
        note = (
            f"this line has {found} cells but the header has {width}; remove the extra "
            "values or add the missing column to the header"
        )
        return ExtraCellError(note=note, path=path, line=number, column=cells[width][0])
    note = (
        f"this line has {found} cells but the header has {width}; the line may be cut "
        "short (a power cut while writing?): complete it or delete it"
    )
    return MissingCellError(note=note, path=path, line=number, column=len(line))


def value_error(value: str, column: Column, number: int, offset: int, path: str) -> CivicError:
    note = (
        f'"{preview(value)}" is not a number; write the reading with a dot as decimal '
        "separator, or null if the kit did not record it"
    )
    return TypeError_(
        note=note, path=path, line=number, column=offset, field_name=column.label, cell=value
    )


def parse_time(text: str, zone: ZoneInfo) -> datetime | None:
    """A reading time in UTC; times without a zone are read in zone."""
    text = text.strip()
    if not STAMP.match(text):
        return None
    if text.upper().endswith(" UTC"):
        text = text[:-4] + "+00:00"
    elif text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def local_time_is_unclear(text: str, zone: ZoneInfo) -> bool:
    """A time without zone that falls in a daylight-saving gap or overlap."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    if naive.tzinfo is not None:
        return False
    early, late = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    return early.utcoffset() != late.utcoffset()


# --- joining files ----------------------------------------------------------------------


def merge_columns(parsed: list[Parsed]) -> tuple[list[Column], list[CivicError]]:
    """The union of every file's columns, in order of appearance; one unit per name."""
    merged: dict[str, Column] = {}
    conflicts: list[CivicError] = []
    for part in parsed:
        for column in part.columns:
            known = merged.setdefault(column.name, column)
            if known.unit != column.unit:
                note = (
                    f'"{column.name}" is in {column.unit or "no unit"} here but in '
                    f"{known.unit or 'no unit'} in an earlier file; convert one of them "
                    "before importing them together"
                )
                conflicts.append(LabelError(note=note, path=part.path, field_name=column.label))
    return list(merged.values()), conflicts


def deduplicate(readings: list[Reading]) -> tuple[list[Reading], list[CivicError]]:
    """Keep the first reading per station and time; report each later one. Sorted by time."""
    first: dict[tuple[str, datetime], Reading] = {}
    errors: list[CivicError] = []
    for reading in readings:
        key = (reading.station, reading.when)
        if key in first:
            errors.append(duplicate_error(reading, first[key]))
        else:
            first[key] = reading
    return sorted(first.values(), key=lambda r: (r.station, r.when)), errors


def duplicate_error(reading: Reading, kept: Reading) -> CivicError:
    where = "line" if kept.path == reading.path else f"{kept.path}, line"
    head = (
        f"same station and time as {where} {kept.line + 1} ({reading.station}, "
        f"{stamp(reading.when)}); the first was kept and this line was left out"
    )
    differing = sorted(
        name
        for name in set(kept.values) | set(reading.values)
        if kept.values.get(name) != reading.values.get(name)
    )
    if not differing:
        note = f"{head}; the lines are identical, so no reading was lost"
    else:
        shown = ", ".join(
            f"{n} {reading.values.get(n, 'null')} here, {kept.values.get(n, 'null')} kept"
            for n in differing
        )
        note = f"{head}, but the values differ ({shown}); check which is right"
    return PrimaryKeyError(note=note, path=reading.path, line=reading.line, warning=not differing)
