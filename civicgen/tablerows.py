"""The one reader of a table's rows after the scan: the scan's own dialect and encoding.

Previews, station maps and the diff read rows through here, so that a `;` delimiter, a
latin-1 file, a quote character or several header rows mean the same everywhere.
"""

from __future__ import annotations

import csv

from .repo import Source
from .scan.reference import csv_rows, decode
from .validation import TableScan, table_bytes


def stored_rows(source: Source, scanned: TableScan) -> list[list[str]]:
    """Every row of a CSV table as stored, header rows included ([] if it cannot be read:
    the scan has reported why)."""
    try:
        data = table_bytes(source, scanned)
    except OSError:
        return []
    text, problem = decode(data, scanned.plan.dialect.encoding)
    try:
        return [] if problem else [cells for _, cells in csv_rows(text, scanned.plan.dialect)]
    except csv.Error:
        return []


def header_count(scanned: TableScan) -> int:
    return max(scanned.plan.dialect.header_rows, default=0)


def data_rows(source: Source, scanned: TableScan) -> list[list[str]]:
    """The rows below the header, through the table's dialect and encoding."""
    return stored_rows(source, scanned)[header_count(scanned) :]
