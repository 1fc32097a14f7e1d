"""Rows of derived tables formatted for the page tables (Jinja2 filters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .budget_view import budget_view
from .formats import date, money, number, percent, signed_percent


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


def exceedance_row(row: list[Any]) -> list[Any]:
    """station, quantity (its code: the template names it), guideline, days with data, days
    above, worst day and its mean, in the page's language."""
    station, quantity, threshold, days, above, worst_day, worst_mean = row
    return [station, quantity, number(threshold, 1), days, above, date(worst_day, "medium"),
            number(worst_mean, 1)]  # fmt: skip


def summary_row(row: dict[str, Any], currency: str = "") -> list[Any]:
    return [
        row["value"],
        number(row["proposals"]),
        number(row["votes"]),
        money(row["estimated_cost"], currency),
    ]


def funding_row(row: dict[str, Any], currency: str = "", unpublished: str = "") -> list[Any]:
    """A proposal and its budget line; unpublished is what an executed amount the budget does
    not publish reads as (the template's words, in the page's language)."""
    program = f"{row['budget_program']} {row['program_label']}".strip()
    executed = row["program_executed"]
    progress = row["progress"]
    return [
        row["title"],
        row["status"],
        percent(progress / 100, 0) if isinstance(progress, (int, float)) else "",
        money(row["estimated_cost"], currency),
        row["year"],
        program,
        money(row["program_approved"], currency),
        money(executed, currency) if executed is not None else unpublished,
    ]


def count_row(row: dict[str, Any]) -> list[Any]:
    return [row["value"], number(row["tools"])]


FILTERS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        budget_total_row,
        budget_node_row,
        coverage_row,
        exceedance_row,
        summary_row,
        funding_row,
        count_row,
    )
}
FILTERS["budget_view"] = budget_view
