"""What the budget page shows, from the package's own description: one section per direction,
its totals and execution, and one breakdown per classification at its coarsest level.

Titles come from the package (classification names or dimension titles, field titles of
the schema), amounts are in the package's currency (none declared: plain numbers). Codes
civicgen knows (directions, phases, FDP's classification types) stay codes here: the
templates (stats-budget.html, _budget.html) name them and write every caption and column
title, so the page reads in its own language.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..stats.budget import execution_rate
from ..stats.budget_config import PHASES, BudgetConfig, Level
from ..stats.tables import DerivedTable
from .formats import money, percent, signed_percent

DIRECTIONS = ("expenditure", "revenue")  # the FDP keywords, in the order the page shows them
SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def node_slug(text: str) -> str:
    """A URL path segment for a code or a name: itself when it is plain letters, digits, - and
    _ (at most 64), else its letters and digits and a hash of it (no two texts share one)."""
    if SAFE_SEGMENT.fullmatch(text):
        return text
    plain = "-".join(re.findall(r"[A-Za-z0-9]+", text))[:40] or "code"
    return f"{plain}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def explorer_uri(package: Any, classification: str, code: str, level: str = "") -> str:
    """The page of a classification node: budget/<package>/<classification>/<code>/index.md.

    package is a package or its name; level is given only for a code that a coarser level of
    the same classification also uses (the page is then <code>--<level>)."""
    name = getattr(package, "name", package)
    segment = node_slug(code) + (f"--{node_slug(level)}" if level else "")
    return f"budget/{node_slug(str(name))}/{node_slug(classification)}/{segment}/index.md"


def explorer_home(package: Any) -> str:
    """The package's explorer home: budget/<package>/index.md."""
    return f"budget/{node_slug(str(getattr(package, 'name', package)))}/index.md"


@dataclass
class Totals:
    """A direction's totals by year: year, phase, amount, (amount per inhabitant,) change."""

    rows: list[list[Any]]
    per_head: bool


@dataclass
class LevelTable:
    """One year of a classification level: code, label, an amount per phase, the first
    phase's share and change, (execution rate)."""

    level: dict[str, Any]  # {"title", "prefix"}, as _budget.html's level_name takes it
    year: Any
    phases: list[str]
    rows: list[list[Any]]
    rate: bool

    @property
    def bar_index(self) -> int:
        return len(self.phases) + 2


@dataclass
class Breakdown:
    name: str  # the classification's name in the options
    title: str  # its title from the package; none: the template names it
    tables: list[LevelTable]
    finer: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Section:
    """A direction's part of the page; its words (headings, captions, column titles, phase
    names) are the template's, so they are in the page's language."""

    direction: str
    anchor: str
    totals: Totals
    execution: list[list[Any]]  # year, approved, adjusted, executed, rate (none published: [])
    breakdowns: list[Breakdown]


def phase_order(phases: set[str]) -> list[str]:
    return sorted(phases, key=lambda p: (PHASES.index(p) if p in PHASES else len(PHASES), p))


def direction_order(directions: set[str]) -> list[str]:
    return sorted(
        directions,
        key=lambda d: (d not in DIRECTIONS, DIRECTIONS.index(d) if d in DIRECTIONS else 0, d),
    )


def level_of(config: BudgetConfig, level: Level) -> dict[str, Any]:
    """A level as the templates name it: its field's title (its name if untitled), and the
    prefix length if any."""
    return {"title": config.titles.get(level.field) or level.field, "prefix": level.prefix}


def classification_title(config: BudgetConfig, name: str) -> str:
    """The classification's title from the package, or nothing (_budget.html's
    classification_name then names it)."""
    return config.titles.get(name, "")


def totals_table(records: list[dict[str, Any]], direction: str) -> Totals:
    rows = [r for r in records if r["direction"] == direction]
    per_head = any(r["per_inhabitant"] is not None for r in rows)
    body = []
    for r in rows:
        head = [money(r["per_inhabitant"])] if per_head else []
        amount = money(r["amount"])
        body.append([r["year"], r["phase"], amount, *head, signed_percent(r["change_pct"])])
    return Totals(body, per_head)


def execution_summary(stats: dict[str, DerivedTable], direction: str) -> list[list[Any]]:
    table = stats.get("execution")
    rows = table.where(classification="total", direction=direction) if table else []
    if not any(r["executed"] is not None for r in rows):
        return []
    return [
        [r["year"], *(money(r[p]) for p in ("approved", "adjusted", "executed")),
         percent(r["rate"])]
        for r in rows
    ]  # fmt: skip


def pivot(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """code → label and amount, share and change per phase."""
    by_code: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_code.setdefault(r["code"], {"label": r["label"], "phases": {}})
        entry["phases"][r["phase"]] = r
    return by_code


def node_rows(rows: list[dict[str, Any]], phases: list[str], rate: bool) -> list[list[Any]]:
    """A row per code, largest first in the first phase: amounts, share, change, rate."""
    main = phases[0]
    body = []
    for code, entry in pivot(rows).items():
        first = entry["phases"].get(main)
        amounts = [money((entry["phases"].get(p) or {}).get("amount")) for p in phases]
        row = [
            code,
            entry["label"],
            *amounts,
            first and first["share"],
            signed_percent(first and first["change_pct"]),
        ]
        if rate:
            row.append(
                percent(execution_rate({p: e["amount"] for p, e in entry["phases"].items()})[1])
            )
        body.append((-(first["amount"] if first else float("-inf")), code, row))
    return [row for *_, row in sorted(body, key=lambda b: b[:2])]


def node_table(level: dict[str, Any], year: Any, rows: list[dict[str, Any]]) -> LevelTable:
    """One breakdown table: a column per phase, the first phase's share as the bar."""
    phases = phase_order({r["phase"] for r in rows})
    rate = "executed" in phases and len(phases) > 1
    return LevelTable(level, year, phases, node_rows(rows, phases, rate), rate)


def breakdown(
    config: BudgetConfig, nodes: DerivedTable, levels: list[Level], direction: str
) -> Breakdown | None:
    """The coarsest level with figures, a table per year; the finer levels named."""
    name = levels[0].classification
    records = nodes.where(classification=name, direction=direction)
    for position, level in enumerate(levels):
        rows = [r for r in records if r["level"] == level.name]
        if rows:
            tables = [
                node_table(level_of(config, level), year, [r for r in rows if r["year"] == year])
                for year in sorted({r["year"] for r in rows}, key=str)
            ]
            finer = [level_of(config, f) for f in levels[position + 1 :]]
            return Breakdown(name, classification_title(config, name), tables, finer)
    return None


def classifications(config: BudgetConfig) -> dict[str, list[Level]]:
    found: dict[str, list[Level]] = {}
    for level in config.levels:
        found.setdefault(level.classification, []).append(level)
    return found


def anchor(direction: str) -> str:
    """The section's id: a fixed one for the FDP keywords, else the direction's letters."""
    fixed = {"expenditure": "where-the-money-goes", "revenue": "where-the-money-comes-from"}
    if direction in fixed:
        return fixed[direction]
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in direction.lower())
    return "budget-" + "-".join(part for part in slug.split("-") if part)


def section(config: BudgetConfig, stats: dict[str, DerivedTable], direction: str) -> Section:
    nodes = stats.get("classifications")
    parts = [
        breakdown(config, nodes, levels, direction) for levels in classifications(config).values()
    ] if nodes else []  # fmt: skip
    return Section(
        direction,
        anchor(direction),
        totals_table(stats["totals"].records(), direction),
        execution_summary(stats, direction),
        [p for p in parts if p is not None],
    )


def budget_view(package: Any, stats: dict[str, DerivedTable]) -> dict[str, Any] | None:
    """Everything the budget page shows (None: no budget statistics)."""
    config = package.options  # the budget profile's options, read once per package
    if not isinstance(config, BudgetConfig) or "totals" not in stats:
        return None
    directions = direction_order({r["direction"] for r in stats["totals"].records()})
    conflicts = stats.get("label_conflicts")
    return {
        "explorer": "../../" + explorer_home(package).removesuffix("index.md"),
        "currency": config.currency,
        "sections": [section(config, stats, d) for d in directions],
        "conflicts": len({(r["field"], r["code"]) for r in conflicts.records()})
        if conflicts
        else 0,
    }
