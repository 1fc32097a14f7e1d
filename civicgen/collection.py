"""One-file-per-record collections as tables: the rows civicgen scans and publishes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from .model import Record, Resource


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


def to_csv(resource: Resource, records: list[Record]) -> bytes:
    """The published CSV of a collection: a header, then one row per record, by file name."""
    names = [str(f.get("name")) for f in resource.fields]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for record in sorted(records, key=lambda r: r.path):
        writer.writerow(record_cells(record, names))
    return buffer.getvalue().encode("utf-8")
