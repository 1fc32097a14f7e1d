"""What the budget page shows, from the package's own description: one section per direction,
its totals and execution, and one breakdown per classification at its coarsest level.

Titles come from the package (classification names or dimension titles, field titles of
the schema), amounts are in the package's currency (none declared: plain numbers).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..stats.budget import execution_rate
from ..stats.budget_config import PHASES, BudgetConfig, Level
from ..stats.tables import DerivedTable
from .formats import money, signed_percent

HEADINGS = {"expenditure": "Where the money goes", "revenue": "Where the money comes from"}
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
class Table:
    caption: str
    description: str
    headers: list[str]
    rows: list[list[Any]]
    bar_index: int = -1


@dataclass
class Breakdown:
    title: str
    tables: list[Table]
    finer: list[str] = field(default_factory=list)


@dataclass
class Section:
    direction: str
    heading: str
    anchor: str
    totals: Table
    execution: Table | None
    breakdowns: list[Breakdown]


def in_unit(config: BudgetConfig) -> str:
    """' (BRL)' after a column title, or nothing when no currency is declared."""
    return f" ({config.currency})" if config.currency else ""


def phase_order(phases: set[str]) -> list[str]:
    return sorted(phases, key=lambda p: (PHASES.index(p) if p in PHASES else len(PHASES), p))


def direction_order(directions: set[str]) -> list[str]:
    return sorted(
        directions,
        key=lambda d: (d not in HEADINGS, list(HEADINGS).index(d) if d in HEADINGS else 0, d),
    )


def level_title(config: BudgetConfig, level: Level) -> str:
    """The schema's title of the level's field (its name if untitled); a prefix says so."""
    title = config.titles.get(level.field) or level.field
    if not level.prefix:
        return title
    return (
        f"{title}, first {level.prefix} characters"
        if level.prefix > 1
        else f"{title}, first character"
    )


def classification_title(config: BudgetConfig, name: str) -> str:
    title = config.titles.get(name) or name
    return title[:1].upper() + title[1:]


def totals_table(config: BudgetConfig, records: list[dict[str, Any]], direction: str) -> Table:
    rows = [r for r in records if r["direction"] == direction]
    per_head = any(r["per_inhabitant"] is not None for r in rows)
    unit = in_unit(config)
    headers = [
        "Year",
        "Phase",
        f"Amount{unit}",
        *([f"Per inhabitant{unit}"] if per_head else []),
        "Change",
    ]
    body = []
    for r in rows:
        head = [money(r["per_inhabitant"])] if per_head else []
        amount = money(r["amount"])
        body.append([r["year"], r["phase"], amount, *head, signed_percent(r["change_pct"])])
    note = "Amount, amount per inhabitant" if per_head else "Amount"
    return Table(
        f"Total {direction} by year", f"{note} and change against the previous year.", headers, body
    )


def execution_summary(
    config: BudgetConfig, stats: dict[str, DerivedTable], direction: str
) -> Table | None:
    table = stats.get("execution")
    rows = table.where(classification="total", direction=direction) if table else []
    if not any(r["executed"] is not None for r in rows):
        return None
    body = [
        [r["year"], *(money(r[p]) for p in ("approved", "adjusted", "executed")),
         "" if r["rate"] is None else f"{r['rate'] * 100:.1f} %"]
        for r in rows
    ]  # fmt: skip
    return Table(
        f"Execution of the {direction} budget by year",
        "Executed amount as a share of the adjusted amount (the approved one where no "
        "adjusted amount is published).",
        [
            "Year",
            *(f"{p}{in_unit(config)}" for p in ("Approved", "Adjusted", "Executed")),
            "Execution rate",
        ],
        body,
    )


def pivot(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """code → label and amount, share and change per phase."""
    by_code: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_code.setdefault(r["code"], {"label": r["label"], "phases": {}})
        entry["phases"][r["phase"]] = r
    return by_code


def node_table(config: BudgetConfig, rows: list[dict[str, Any]], caption: str) -> Table:
    """One breakdown table: a column per phase, the first phase's share as the bar."""
    phases = phase_order({r["phase"] for r in rows})
    main, executed = phases[0], "executed" in phases and len(phases) > 1
    amounts_in = [f"{p.capitalize()}{in_unit(config)}" for p in phases]
    headers = ["Code", "Label", *amounts_in, f"Share ({main})", f"Change ({main})"]
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
        if executed:
            rate = execution_rate({p: e["amount"] for p, e in entry["phases"].items()})[1]
            row.append("" if rate is None else f"{rate * 100:.1f} %")
        body.append((-(first["amount"] if first else float("-inf")), code, row))
    headers += ["Execution rate"] if executed else []
    description = f"Share of the year's {main} total; change against the previous year."
    return Table(
        caption,
        description,
        headers,
        [row for *_, row in sorted(body, key=lambda b: b[:2])],
        len(phases) + 2,
    )


def breakdown(
    config: BudgetConfig, nodes: DerivedTable, levels: list[Level], direction: str
) -> Breakdown | None:
    """The coarsest level with figures, a table per year; the finer levels named."""
    records = nodes.where(classification=levels[0].classification, direction=direction)
    for position, level in enumerate(levels):
        rows = [r for r in records if r["level"] == level.name]
        if rows:
            title = level_title(config, level)
            tables = [
                node_table(config, [r for r in rows if r["year"] == year], f"{title}, {year}")
                for year in sorted({r["year"] for r in rows}, key=str)
            ]
            finer = [level_title(config, f) for f in levels[position + 1 :]]
            return Breakdown(classification_title(config, level.classification), tables, finer)
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
        HEADINGS.get(direction, direction[:1].upper() + direction[1:]),
        anchor(direction),
        totals_table(config, stats["totals"].records(), direction),
        execution_summary(config, stats, direction),
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
