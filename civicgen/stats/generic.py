"""Column profiles for any table: count, missing, distinct, min, max, mean, top values."""

from __future__ import annotations

from typing import Any

from ..scan.plan import GroupBy
from .partials import GroupMap, summary
from .tables import Column, DerivedTable, rounded

NUMERIC = ("integer", "number", "year")
TOP = 3
DISTINCT_LIMIT = 1000  # past this many distinct values a column is profiled as a whole


def group_bys(fields: list[dict[str, str]]) -> tuple[GroupBy, ...]:
    """One group per column value (distinct and top values), with the column as measure if
    numeric; a column of more than DISTINCT_LIMIT values collapses into one group."""
    return tuple(
        GroupBy(((i, "value", 0),), (i,) if f.get("type") in NUMERIC else (), limit=DISTINCT_LIMIT)
        for i, f in enumerate(fields)
    )


def profile_table(
    resource: str,
    fields: list[dict[str, str]],
    aggregates: list[GroupMap],
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
        table.rows.append(
            [
                field.get("name"),
                field.get("type", "string"),
                *column_profile(field, groups, missing),
            ]
        )
    return table


def column_profile(field: dict[str, str], groups: GroupMap, missing: tuple[str, ...]) -> list[Any]:
    """count, missing, distinct, min, max, mean and top values of one column."""
    numeric = field.get("type") in NUMERIC
    if () in groups:  # more than DISTINCT_LIMIT values: only the whole column's measure
        state = summary(groups[()][1][0]) if numeric else None
        return [
            state["count"] if state else None,
            state["missing"] if state else None,
            None,
            *(numbers([state]) if state else (None, None, None)),
            f"more than {DISTINCT_LIMIT:,} distinct values",
        ]
    absent = sum(g[0] for (value,), g in groups.items() if value in missing)
    present = {value: g for (value,), g in groups.items() if value not in missing}
    top = sorted(present.items(), key=lambda item: (-item[1][0], item[0]))[:TOP]
    measured = [summary(g[1][0]) for g in present.values()] if numeric else []
    return [
        sum(g[0] for g in present.values()),
        absent,
        len(present),
        *numbers(measured),
        "; ".join(f"{value} ({g[0]})" for value, g in top),
    ]


def numbers(summaries: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    """min, max and mean over the summaries of several groups of one numeric column."""
    counted = [s for s in summaries if s["count"]]
    if not counted:
        return None, None, None
    n = sum(int(s["count"] or 0) for s in counted)
    return (
        min(s["min"] for s in counted),
        max(s["max"] for s in counted),
        rounded(sum(float(s["sum"] or 0) for s in counted) / n, 4),
    )
