"""The home page's headline figures, read from the derived tables (never from the raw data).

Each figure is a plain dict the home template turns into a sentence; a figure whose tables
are missing (a city with no budget, no sensors, no proposals) is None and gets no box.
"""

from __future__ import annotations

from typing import Any

from ..model import Package
from ..stats.budget_config import PHASES
from ..stats.tables import DerivedTable
from .inputs import SiteInputs

Stats = dict[str, DerivedTable]
RECENT_CHANGES = 5  # commits listed under "what changed recently"
AIR_QUANTITIES = 3  # quantities shown in the air-quality box


def stats_of(inputs: SiteInputs, profile: str) -> tuple[Package | None, Stats]:
    """The first package with this profile and its derived tables by name."""
    for name, package in sorted(inputs.packages.items()):
        if package.profile == profile:
            return package, {t.name: t for t in inputs.derived.get(name, [])}
    return None, {}


def first_phase(phases: set[str]) -> str:
    return sorted(phases, key=lambda p: (PHASES.index(p) if p in PHASES else len(PHASES), p))[0]


def main_direction(directions: set[str]) -> str:
    return "expenditure" if "expenditure" in directions else sorted(directions)[0]


def budget_figure(inputs: SiteInputs) -> dict[str, Any] | None:
    """The latest year's total in the first phase (approved, usually) and its change."""
    package, stats = stats_of(inputs, "budget")
    rows = stats["totals"].records() if "totals" in stats else []
    if package is None or not rows:
        return None
    direction = main_direction({r["direction"] for r in rows})
    phase = first_phase({r["phase"] for r in rows if r["direction"] == direction})
    mine = [r for r in rows if r["direction"] == direction and r["phase"] == phase]
    latest = max(mine, key=lambda r: str(r["year"]))
    earlier = [r for r in mine if str(r["year"]) < str(latest["year"])]
    previous = max(earlier, key=lambda r: str(r["year"]))["year"] if earlier else None
    return {
        "package": package.name,
        "currency": stats["totals"].unit_of("amount"),
        "year": latest["year"],
        "phase": phase,
        "direction": direction,
        "amount": latest["amount"],
        "per_inhabitant": latest["per_inhabitant"],
        "change_pct": latest["change_pct"] if previous is not None else None,
        "previous": previous,
        "largest": largest_node(package, stats, latest),
    }


def largest_node(package: Package, stats: Stats, total: dict[str, Any]) -> dict[str, Any] | None:
    """The node that gets the largest share of the year's total at the coarsest level of the
    functional classification (the first one declared when there is no functional one)."""
    levels = getattr(package.options, "levels", ()) or ()
    names = list(dict.fromkeys(level.classification for level in levels))
    table = stats.get("classifications")
    if not names or table is None:
        return None
    chosen = "functional" if "functional" in names else names[0]
    level = next(lv for lv in levels if lv.classification == chosen)
    rows = table.where(
        classification=chosen, level=level.name, year=total["year"],
        phase=total["phase"], direction=total["direction"],
    )  # fmt: skip
    top = max(rows, key=lambda r: r["amount"], default=None)
    return {"label": top["label"] or top["code"], "share": top["share"]} if top else None


def execution_figure(inputs: SiteInputs) -> dict[str, Any] | None:
    """The latest year whose executed amount is published: how much of it was spent."""
    package, stats = stats_of(inputs, "budget")
    table = stats.get("execution")
    rows = table.where(classification="total") if table else []
    rows = [r for r in rows if r.get("executed") is not None and r.get("rate") is not None]
    if package is None or not rows:
        return None
    direction = main_direction({r["direction"] for r in rows})
    latest = max((r for r in rows if r["direction"] == direction), key=lambda r: str(r["year"]))
    return {
        "package": package.name,
        "currency": table.unit_of("executed") if table else "",
        "year": latest["year"],
        "executed": latest["executed"],
        "planned": latest.get("adjusted") or latest.get("approved"),
        "rate": latest["rate"],
    }


def quantity_names(package: Package) -> dict[str, str]:
    """Each field's title (its name when untitled), so the page never shows a raw code."""
    return {
        str(f.get("name")): str(f.get("title") or f.get("name"))
        for resource in package.resources
        for f in resource.fields
    }


def air_figure(inputs: SiteInputs) -> dict[str, Any] | None:
    """The latest month in the data: each guideline quantity's mean and days above it."""
    package, stats = stats_of(inputs, "sensor")
    daily = stats["daily"].records() if "daily" in stats else []
    if package is None or not daily:
        return None
    month = max(str(r["day"])[:7] for r in daily)
    rows = [r for r in daily if str(r["day"]).startswith(month)]
    limits = thresholds(stats)
    quantities = list(dict.fromkeys(r["quantity"] for r in rows))
    chosen = [q for q in quantities if q in limits] or quantities
    names = quantity_names(package)
    shown = [quantity_month(q, names.get(q, q), rows, limits.get(q)) for q in chosen]
    return {"package": package.name, "month": month, "quantities": shown[:AIR_QUANTITIES]}


def thresholds(stats: Stats) -> dict[str, float]:
    table = stats.get("exceedances")
    return {r["quantity"]: r["threshold"] for r in table.records()} if table else {}


def quantity_month(
    quantity: str, name: str, rows: list[dict[str, Any]], limit: float | None
) -> dict[str, Any]:
    """One quantity over the month: mean of its readings, stations, days above the limit."""
    mine = [r for r in rows if r["quantity"] == quantity]
    readings = sum(r["readings"] for r in mine)
    mean = sum(r["mean"] * r["readings"] for r in mine) / readings if readings else None
    above = {r["day"] for r in mine if limit is not None and r["mean"] > limit}
    return {
        "code": quantity,  # the pages name the quantities they know in their language
        "title": name,
        "unit": mine[0]["unit"] if mine else "",
        "mean": mean,
        "stations": len({r["station"] for r in mine}),
        "days": len({r["day"] for r in mine}),
        "threshold": limit,
        "days_above": len(above),
    }


def proposals_figure(inputs: SiteInputs) -> dict[str, Any] | None:
    """How many proposals there are, how many were funded and how many completed."""
    package, stats = stats_of(inputs, "proposals")
    table = stats.get("summary")
    if package is None or table is None:
        return None
    by_status = {r["value"]: r["proposals"] for r in table.where(dimension="status")}
    funded = {r["value"]: r["proposals"] for r in table.where(dimension="funded")}
    return {
        "package": package.name,
        "total": sum(by_status.values()),
        "funded": funded.get("yes", 0),
        "completed": by_status.get("completed", 0),
    }


def tools_figure(inputs: SiteInputs) -> dict[str, Any] | None:
    package, stats = stats_of(inputs, "catalog")
    table = stats.get("licences")
    if package is None or table is None:
        return None
    counts = stats.get("counts")
    categories = counts.where(dimension="category") if counts else []
    return {"package": package.name, "tools": len(table.rows), "categories": len(categories)}


def recent_changes(inputs: SiteInputs, limit: int = RECENT_CHANGES) -> list[dict[str, Any]]:
    """The latest commits that changed any dataset, newest first, with the datasets each
    changed."""
    found: dict[str, dict[str, Any]] = {}
    for name, entries in sorted(inputs.histories.items()):
        for entry in entries:
            change = found.setdefault(entry.commit, {"entry": entry, "packages": []})
            change["packages"].append(name)
    return sorted(found.values(), key=lambda c: c["entry"].date, reverse=True)[:limit]


def home_figures(inputs: SiteInputs) -> dict[str, Any]:
    """Every headline figure of the home page (None where the city has no such data)."""
    return {
        "budget": budget_figure(inputs),
        "execution": execution_figure(inputs),
        "air": air_figure(inputs),
        "proposals": proposals_figure(inputs),
        "tools": tools_figure(inputs),
        "changes": recent_changes(inputs),
    }
