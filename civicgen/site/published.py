"""The bytes a table is published with: formulas neutralised, home stations protected.

The repository's files are never changed. A CSV download is the file itself, byte for byte,
unless a text cell would run as a spreadsheet formula (it gets a leading apostrophe, the
OWASP convention) or the package has home stations (ids pseudonymised, coordinates snapped
to a grid, names replaced); then the file is rewritten in its own dialect and encoding.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from ..collection import formula_cells, to_csv
from ..model import Package
from ..privacy import HomeStations, home_stations, sensor_settings
from ..scan.plan import Dialect
from ..scan.reference import csv_rows, decode
from ..tablerows import stored_rows
from ..textcheck import TEXT_TYPES, is_formula, neutralise
from ..textscan import may_hold_formula, scanned_values
from ..validation import TableScan, Validation, table_bytes

HOME_NAME = "Home sensor"
Rewrite = Callable[[list[str]], list[str]]


@dataclass(frozen=True)
class Published:
    """A table's published bytes and how many text cells were written as text, not formulas."""

    data: bytes
    neutralised: int = 0


def station_rows(validation: Validation, package: Package) -> list[dict[str, str]]:
    """The stations table of a sensor package as dicts, as stored in the repository."""
    name = str(sensor_settings(package.descriptor).get("stations", "stations"))
    scanned = validation.tables.get((package.name, name))
    if scanned is None or scanned.is_collection:
        return []
    rows = stored_rows(validation.source, scanned)
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]] if rows else []


def homes_in(package: Package, stations: list[dict[str, str]]) -> HomeStations | None:
    """The home stations of a sensor package, from its stations table as stored."""
    if package.profile != "sensor":
        return None
    return home_stations(package.descriptor, stations)


def protect_station(row: dict[str, str], homes: HomeStations) -> dict[str, str]:
    """A stations-table row as published: a home station pseudonymised and coarsened."""
    if not homes.is_home(row.get("id", "")):
        return row
    shown = dict(row, id=homes.pseudonym(row.get("id", "")))
    shown.update({k: homes.coarse(row[k]) for k in ("latitude", "longitude") if k in row})
    return shown | ({"name": HOME_NAME} if "name" in row else {})


def privacy_rewrite(scanned: TableScan, homes: HomeStations | None) -> Rewrite | None:
    """How each row of this table changes for home stations, or None when it does not."""
    if homes is None:
        return None
    settings = sensor_settings(scanned.package.descriptor)
    names = [f.name for f in scanned.plan.fields]
    if scanned.resource.name == settings.get("stations", "stations"):
        return lambda row: list(
            protect_station(dict(zip(names, row, strict=False)), homes).values()
        )
    station = str(settings.get("station", "station"))
    if station not in names:
        return None
    index = names.index(station)
    return lambda row: [homes.pseudonym(c) if i == index else c for i, c in enumerate(row)]


def formula_columns(scanned: TableScan, data: bytes) -> set[int]:
    """The text columns whose cells may start like a formula (none when no cell can)."""
    columns = {i for i, f in enumerate(scanned.plan.fields) if f.type in TEXT_TYPES}
    known = [scanned_values(scanned, i) for i in columns]
    if all(values is not None and not any(map(is_formula, values)) for values in known):
        return set()  # the scan's groups hold every value of the text columns: none is a formula
    dialect = scanned.plan.dialect
    text, problem = decode(data, dialect.encoding)
    if problem or text.isascii() and not may_hold_formula(text.encode("ascii"), dialect.delimiter):
        return set()
    return columns


def write_rows(rows: list[list[str]], dialect: Dialect, newline: str) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer,
        delimiter=dialect.delimiter,
        quotechar=dialect.quote_char or '"',
        doublequote=dialect.double_quote,
        lineterminator=newline,
    )
    writer.writerows(rows)
    return buffer.getvalue()


def rewritten(
    data: bytes, scanned: TableScan, privacy: Rewrite | None, formulas: set[int]
) -> Published:
    """The table's rows rewritten in its own dialect; when nothing changed, the same bytes."""
    dialect = scanned.plan.dialect
    text, _ = decode(data, dialect.encoding)
    rows, changed, neutralised = [], False, 0
    for number, cells in csv_rows(text, dialect):
        shown = cells
        if number not in dialect.header_rows:
            shown = privacy(cells) if privacy else cells
            hits = [i for i in formulas if i < len(shown) and is_formula(shown[i])]
            if hits:
                shown = [neutralise(c) if i in hits else c for i, c in enumerate(shown)]
                neutralised += len(hits)
        changed = changed or shown != cells
        rows.append(shown)
    if not changed:
        return Published(data)
    newline = "\r\n" if b"\r\n" in data[:65536] else "\n"
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    return Published(bom + write_rows(rows, dialect, newline).encode(dialect.encoding), neutralised)


def published_table(
    validation: Validation, scanned: TableScan, homes: HomeStations | None
) -> Published:
    """What the site publishes for one table (a collection is written out as CSV)."""
    resource = scanned.resource
    if scanned.is_collection:
        count = formula_cells(resource, scanned.records)
        return Published(to_csv(resource, scanned.records), count)
    data = table_bytes(validation.source, scanned)
    privacy = privacy_rewrite(scanned, homes)
    formulas = formula_columns(scanned, data)
    if privacy is None and not formulas:
        return Published(data)
    return rewritten(data, scanned, privacy, formulas)
