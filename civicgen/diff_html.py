"""A PortalDiff as one self-contained HTML page: what a maintainer opens from the CI artifact.

No request to anything: the styles are inline, there is no script and no image. Every row
a table lost, gained or changed is shown (a limit per table can be set), cells coloured as
daff's highlighter does: added rows green, removed rows red, a changed cell "old → new".
All text from the repository is escaped (Jinja2's autoescape).
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from .diff import PortalDiff, TableDiff
from .diff_report import STATS_WITHHELD, number, ordered_stats, percent_change, row_counts

MARKS = {"added": "+++", "removed": "---", "changed": "→", "key changed": "key →"}


def table_view(table: TableDiff, limit: int | None) -> dict[str, object]:
    """One changed table: its fields in order, and each row change as cells to print."""
    fields = list(dict.fromkeys(name for row in table.rows for name, _, _ in row.cells))
    rows = []
    for change in table.rows[:limit]:
        cells = {name: (old, new) for name, old, new in change.cells}
        rows.append({"mark": MARKS[change.kind], "kind": change.kind, "key": change.key,
                     "cells": [cells.get(name) for name in fields]})  # fmt: skip
    return {"table": table, "counts": row_counts(table), "fields": fields, "rows": rows,
            "hidden": len(table.rows) - len(rows)}  # fmt: skip


def to_html(diff: PortalDiff, limit: int | None = None) -> str:
    """The whole report as one HTML page (limit: at most that many rows per table)."""
    env = Environment(
        loader=PackageLoader("civicgen", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    stats = ordered_stats(diff, limit or len(diff.stats) or 1)
    return env.get_template("diff.html").render(
        diff=diff,
        report=diff.head_validation.report,
        tables=[table_view(t, limit) for t in diff.tables],
        stats=[(c, number(c.old), number(c.new), percent_change(c)) for c in stats],
        hidden_stats=len(diff.stats) - len(stats),
        withheld=STATS_WITHHELD,
    )
