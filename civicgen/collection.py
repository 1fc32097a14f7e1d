"""One-file-per-record collections as tables: the rows civicgen scans and publishes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from .model import Record, Resource
from .textcheck import TEXT_TYPES, is_formula, neutralise


def cell_text(value: Any) -> str:
    """A YAML value written the way a CSV cell of its Table Schema type is written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def record_cells(record: Record, names: list[str]) -> list[str]:
    return [cell_text(record.values.get(name)) for name in names]


def text_columns(resource: Resource) -> list[int]:
    return [i for i, f in enumerate(resource.fields) if f.get("type", "string") in TEXT_TYPES]


def formula_cells(resource: Resource, records: list[Record]) -> int:
    """How many text cells of the published CSV start like a spreadsheet formula."""
    names = [str(f.get("name")) for f in resource.fields]
    columns = text_columns(resource)
    return sum(is_formula(cell_text(r.values.get(names[i]))) for r in records for i in columns)


def to_csv(resource: Resource, records: list[Record]) -> bytes:
    """The published CSV of a collection: a header, then one row per record, by file name.

    A text cell that starts like a spreadsheet formula gets a leading apostrophe
    (textcheck.neutralise); the record files themselves are not changed.
    """
    names = [str(f.get("name")) for f in resource.fields]
    columns = set(text_columns(resource))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for record in sorted(records, key=lambda r: r.path):
        cells = record_cells(record, names)
        writer.writerow([neutralise(c) if i in columns else c for i, c in enumerate(cells)])
    return buffer.getvalue().encode("utf-8")
