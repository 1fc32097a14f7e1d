"""Column profiles for any table: count, missing, distinct, min, max, mean, top values."""

from __future__ import annotations

from ..scan.plan import GroupBy
from .partials import Group, summary
from .tables import Column, DerivedTable, rounded

NUMERIC = ("integer", "number", "year")
TOP = 3


def group_bys(fields: list[dict[str, str]]) -> tuple[GroupBy, ...]:
    """One group per column value (distinct and top values), with the column as measure if numeric."""
    return tuple(
        GroupBy(((i, "value", 0),), (i,) if f.get("type") in NUMERIC else ())
        for i, f in enumerate(fields)
    )


def profile_table(
    resource: str,
    fields: list[dict[str, str]],
    aggregates: list[dict[tuple[str, ...], Group]],
    missing: tuple[str, ...],
) -> DerivedTable:
    table = DerivedTable(
        f"columns-{resource}",
        f"Column profile of {resource}",
        "Per column: values present, missing, distinct; minimum, maximum and mean of "
        "numeric columns; the most frequent values.",
        [
            Column("field"),
            Column("type"),
            Column("count", "integer"),
            Column("missing", "integer"),
            Column("distinct", "integer"),
            Column("min", "number"),
            Column("max", "number"),
            Column("mean", "number"),
            Column("top_values"),
        ],
    )
    for field, groups in zip(fields, aggregates, strict=True):
        absent = sum(g[0] for (value,), g in groups.items() if value in missing)
        present = {value: g for (value,), g in groups.items() if value not in missing}
        total = sum(g[0] for g in present.values())
        top = sorted(present.items(), key=lambda item: (-item[1][0], item[0]))[:TOP]
        numbers = {"min": None, "max": None, "mean": None}
        if field.get("type") in NUMERIC and present:
            merged = [summary(g[1][0]) for g in present.values()]
            counted = [s for s in merged if s["count"]]
            if counted:
                n = sum(int(s["count"] or 0) for s in counted)
                numbers = {
                    "min": min(s["min"] for s in counted),
                    "max": max(s["max"] for s in counted),
                    "mean": rounded(sum(float(s["sum"] or 0) for s in counted) / n, 4),
                }
        table.rows.append(
            [
                field.get("name"),
                field.get("type", "string"),
                total,
                absent,
                len(present),
                numbers["min"],
                numbers["max"],
                numbers["mean"],
                "; ".join(f"{value} ({g[0]})" for value, g in top),
            ]
        )
    return table
