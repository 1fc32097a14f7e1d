"""Rows of derived tables formatted for the page tables (Jinja2 filters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .budget_view import budget_view
from .formats import money, percent, signed_percent


def budget_total_row(row: list[Any], currency: str = "") -> list[Any]:
    year, phase, direction, amount, per_inhabitant, _, change_pct = row
    per_head = money(per_inhabitant, currency)
    return [
        year,
        phase,
        direction,
        money(amount, currency),
        per_head,
        signed_percent(change_pct),
    ]


def budget_node_row(row: dict[str, Any], currency: str = "") -> list[Any]:
    return [
        row["code"],
        row["label"],
        money(row["amount"], currency),
        row["share"],
        signed_percent(row["change_pct"]),
    ]


def coverage_row(row: list[Any]) -> list[Any]:
    return [*row[:5], percent(row[5]), *row[6:]]


def summary_row(row: dict[str, Any], currency: str = "") -> list[Any]:
    return [row["value"], row["proposals"], row["votes"], money(row["estimated_cost"], currency)]


def funding_row(row: dict[str, Any], currency: str = "") -> list[Any]:
    program = f"{row['budget_program']} {row['program_label']}".strip()
    executed = row["program_executed"]
    return [
        row["title"],
        row["status"],
        "" if row["progress"] is None else f"{row['progress']} %",
        money(row["estimated_cost"], currency),
        row["year"],
        program,
        money(row["program_approved"], currency),
        money(executed, currency) if executed is not None else "not published",
    ]


def count_row(row: dict[str, Any]) -> list[Any]:
    return [row["value"], row["tools"]]


FILTERS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (budget_total_row, budget_node_row, coverage_row, summary_row, funding_row, count_row)
}
FILTERS["budget_view"] = budget_view
