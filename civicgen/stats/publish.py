"""Derived tables as a standard data package: datapackage.json plus one CSV per table."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..model import Package
from ..textcheck import neutralise
from .tables import DerivedTable


def csv_bytes(table: DerivedTable) -> bytes:
    """A derived table as CSV; text cells that start like a formula get a leading apostrophe."""
    text = [c.type == "string" for c in table.columns]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in table.columns])
    for row in table.rows:
        cells = ["" if value is None else cell_text(value) for value in row]
        writer.writerow([neutralise(c) if t else c for c, t in zip(cells, text, strict=False)])
    return buffer.getvalue().encode("utf-8")


def cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def stats_descriptor(package: Package, tables: list[DerivedTable]) -> dict[str, Any]:
    """A Data Package describing the derived tables of one source package."""
    return {
        "name": f"{package.name}-stats",
        "title": f"Statistics of {package.title}",
        "description": f"Figures derived by civicgen from the data package {package.name} "
        "(same licence and sources).",
        "licenses": package.descriptor.get("licenses", []),
        "sources": [{"title": f"{package.title} (datasets/{package.name}/datapackage.json)"}],
        "resources": [
            {
                "name": table.name,
                "title": table.title,
                "description": table.description,
                "path": f"{table.name}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": [c.descriptor() for c in table.columns]},
            }
            for table in tables
        ],
    }


def stats_files(package: Package, tables: list[DerivedTable]) -> dict[str, bytes]:
    """File name → bytes of the published stats package."""
    descriptor = json.dumps(stats_descriptor(package, tables), indent=2, ensure_ascii=False)
    files = {"datapackage.json": (descriptor + "\n").encode("utf-8")}
    files.update({f"{t.name}.csv": csv_bytes(t) for t in tables})
    return files


def to_json(package: Package, tables: list[DerivedTable]) -> str:
    payload = {
        "package": package.name,
        "tables": [
            {"name": t.name, "title": t.title, "description": t.description,
             "columns": [c.name for c in t.columns], "rows": t.records()}
            for t in tables
        ],
    }  # fmt: skip
    return json.dumps(payload, indent=2, ensure_ascii=False, default=str)


def to_markdown(tables: list[DerivedTable], limit: int | None = None) -> str:
    parts = []
    for table in tables:
        rows = table.rows if limit is None else table.rows[:limit]
        head = [c.name for c in table.columns]
        lines = [
            f"## {table.title} (`{table.name}`)",
            "",
            table.description,
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]
        lines += ["| " + " | ".join(md(v) for v in row) + " |" for row in rows]
        if len(rows) < len(table.rows):
            lines.append(f"\n…{len(table.rows) - len(rows)} more rows")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def md(value: Any) -> str:
    text = "" if value is None else cell_text(value)
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")
