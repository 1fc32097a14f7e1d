"""Budget statistics (Fiscal Data Package conventions): totals and classification rollups.

By fiscal year × phase × direction × every level of every classification: amount, share of
the same phase and direction's total, change against the previous year; per inhabitant
where the package declares a population; execution rate where an executed phase is present.
Several amount columns (one per phase, as most municipal exports are) are summed in the
same pass. A code's label is the one of its latest fiscal year, whatever the row order;
codes with several labels are listed in the `label_conflicts` table.
"""

from __future__ import annotations

import math
from typing import Any

from ..scan.plan import GroupBy
from .budget_config import PHASES, BudgetConfig, Level, Measure, budget_config
from .partials import GroupMap
from .tables import Column, DerivedTable, change, rounded

__all__ = [
    "BudgetConfig", "Level", "Measure", "budget_config", "derive", "group_bys", "line_amounts"
]  # fmt: skip

OVER_EXECUTED, UNDER_EXECUTED = 1.0, 0.5
Aggregates = list[GroupMap]
Amounts = dict[tuple[str, ...], float]  # (year, phase, direction, *codes) → amount


# --- what the scan computes ---------------------------------------------------------------


def base_keys(config: BudgetConfig, index: dict[str, int]) -> tuple[tuple[int, str, int], ...]:
    keys = [(index[config.year], "value", 0)]
    for name in (config.phase_field, config.direction_field):
        if name:
            keys.append((index[name], "value", 0))
    return tuple(keys)


def is_budget_table(config: BudgetConfig, index: dict[str, int]) -> bool:
    """A table with the fiscal year, every measure and every field the options name."""
    named = [config.year, config.phase_field, config.direction_field]
    named += [m.field for m in config.measures] + [level.field for level in config.levels]
    named += [*config.labels, *config.labels.values()]
    return all(name in index for name in named if name)


def group_bys(config: BudgetConfig, names: list[str]) -> tuple[GroupBy, ...]:
    """The aggregations the scan computes, every measure summed in each: the total, one per
    classification level, (year, code, label) per label field, then budget lines when
    there are several phases."""
    index = {name: i for i, name in enumerate(names)}
    if not is_budget_table(config, index):
        return ()
    base = base_keys(config, index)
    amounts = tuple(index[m.field] for m in config.measures)
    plans = [GroupBy(base, amounts)]
    for level in config.levels:
        transform = "prefix" if level.prefix else "value"
        plans.append(GroupBy((*base, (index[level.field], transform, level.prefix)), amounts))
    year = (index[config.year], "value", 0)
    for code_field, label_field in config.labels.items():
        keys = (year, (index[code_field], "value", 0), (index[label_field], "value", 0))
        plans.append(GroupBy(keys, ()))
    lines = tuple((index[f], "value", 0) for f in line_fields(config))
    plans.append(GroupBy((*base, *lines), amounts))  # budget lines: execution and the explorer
    return tuple(plans)


def line_fields(config: BudgetConfig) -> list[str]:
    """The code fields that together name one budget line."""
    return list(dict.fromkeys(level.field for level in config.levels if not level.prefix))


# --- sums per phase and direction --------------------------------------------------------


def split_key(config: BudgetConfig, key: tuple[str, ...]) -> tuple[str, str, str, tuple[str, ...]]:
    """(year, phase, direction, codes) of a group key; "" where the key has no column."""
    year, rest = key[0], list(key[1:])
    phase = rest.pop(0) if config.phase_field else ""
    direction = rest.pop(0) if config.direction_field else ""
    return year, phase, direction, tuple(rest)


def amounts_of(config: BudgetConfig, groups: GroupMap) -> Amounts:
    """Each measure's sum under its phase and direction (a column's value first), to the
    cent, so that the row order cannot move a figure; a measure with no value, or with a
    NaN or infinite one among its rows, is left out (no figure rather than a wrong one)."""
    amounts: Amounts = {}
    for key, group in groups.items():
        year, phase, direction, codes = split_key(config, key)
        for measure, state in zip(config.measures, group[1], strict=True):
            if state[0]:
                point = (year, phase or measure.phase, direction or measure.direction, *codes)
                amounts[point] = amounts.get(point, 0.0) + state[1]
    return {point: round(amount, 2) for point, amount in amounts.items() if math.isfinite(amount)}


def year_value(year: str) -> int | str:
    return int(year) if year.isdigit() else year


def previous_year(year: str) -> str | None:
    return str(int(year) - 1) if year.isdigit() else None


def in_order(amounts: Amounts) -> list[tuple[tuple[str, ...], float]]:
    """Points by year (as numbers), phase in budget order, direction, code."""

    def order(point: tuple[str, ...]) -> tuple[Any, ...]:
        year, phase, *rest = point
        rank = PHASES.index(phase) if phase in PHASES else len(PHASES)
        return (year.isdigit(), year_value(year) if year.isdigit() else year, rank, phase, *rest)

    return sorted(amounts.items(), key=lambda item: order(item[0]))


# --- labels -------------------------------------------------------------------------------


def label_years(
    config: BudgetConfig, aggregates: Aggregates
) -> dict[str, dict[str, dict[str, set[str]]]]:
    """field → code → label → the years it was used in."""
    start = 1 + len(config.levels)
    found: dict[str, dict[str, dict[str, set[str]]]] = {}
    plans = aggregates[start : start + len(config.labels)]
    for code_field, groups in zip(config.labels, plans, strict=True):
        for year, code, label in groups:
            found.setdefault(code_field, {}).setdefault(code, {}).setdefault(label, set()).add(year)
    return found


def latest(years: set[str]) -> tuple[bool, Any]:
    """Sort key of a label's latest year: numeric years after any other text, as numbers."""
    numeric = [int(y) for y in years if y.isdigit()]
    return (True, max(numeric)) if numeric else (False, max(years))


def chosen_label(labels: dict[str, set[str]]) -> str:
    """The label of the latest fiscal year; between labels of that year, the smallest."""
    newest = max(latest(years) for years in labels.values())
    return min(label for label, years in labels.items() if latest(years) == newest)


def label_map(config: BudgetConfig, aggregates: Aggregates) -> dict[str, dict[str, str]]:
    """field → code → label, independent of row order (see chosen_label)."""
    return {
        code_field: {code: chosen_label(labels) for code, labels in codes.items()}
        for code_field, codes in label_years(config, aggregates).items()
    }


def sorted_years(years: set[str]) -> list[str]:
    return sorted(years, key=lambda y: (y.isdigit(), year_value(y) if y.isdigit() else y))


def conflicts_table(config: BudgetConfig, aggregates: Aggregates) -> DerivedTable | None:
    """Codes published with several labels: each label, its years, and the one shown."""
    found = label_years(config, aggregates)
    table = DerivedTable(
        "label_conflicts",
        "Codes with several labels",
        "Codes whose label differs between rows (usually between fiscal years): each label "
        "with the years it appears in; the published label is the one of the latest year "
        "(the alphabetically first, if that year has several).",
        [
            Column("field"),
            Column("code"),
            Column("label"),
            Column("years"),
            Column("published", "boolean"),
        ],
    )
    for code_field in sorted(found):
        for code, labels in sorted(found[code_field].items()):
            if len(labels) < 2:
                continue
            shown = chosen_label(labels)
            for label in sorted(labels):
                years = ", ".join(sorted_years(labels[label]))
                table.rows.append([code_field, code, label, years, label == shown])
    return table if table.rows else None


# --- derived tables -----------------------------------------------------------------------


def totals_table(config: BudgetConfig, amounts: Amounts) -> DerivedTable:
    unit = config.currency
    table = DerivedTable(
        "totals",
        "Totals by year",
        "The budget's total per fiscal year, phase and direction.",
        [
            Column("year", "year"),
            Column("phase"),
            Column("direction"),
            Column("amount", "number", unit=unit),
            Column("per_inhabitant", "number", unit=unit),
            Column("change", "number", unit=unit),
            Column("change_pct", "number"),
        ],
    )
    for (year, phase, direction), amount in in_order(amounts):
        earlier = previous_year(year)
        previous = amounts.get((earlier, phase, direction)) if earlier else None
        people = config.population.get(year)
        table.rows.append(
            [
                year_value(year),
                phase,
                direction,
                amount,
                rounded(amount / people, 2) if people else None,
                *change(amount, previous),
            ]
        )
    return table


def level_label(
    config: BudgetConfig, level: Level, code: str, labels: dict[str, dict[str, str]]
) -> str:
    if level.prefix:
        return config.code_labels.get(level.name, {}).get(code, "")
    return labels.get(level.field, {}).get(code, "")


def nodes_table(config: BudgetConfig, aggregates: Aggregates, totals: Amounts) -> DerivedTable:
    """Every classification node at every level, with its share and year-over-year change."""
    unit = config.currency
    table = DerivedTable(
        "classifications",
        "Totals by classification",
        "Amount per fiscal year, phase and direction for each node of each classification, "
        "at every level, with its share of the same year, phase and direction's total and "
        "its change against the previous year.",
        [
            Column("classification"),
            Column("level"),
            Column("code"),
            Column("label"),
            Column("year", "year"),
            Column("phase"),
            Column("direction"),
            Column("amount", "number", unit=unit),
            Column("share", "number", ratio=True),
            Column("change", "number", unit=unit),
            Column("change_pct", "number"),
        ],
    )
    labels = label_map(config, aggregates)
    for level, groups in zip(config.levels, aggregates[1:], strict=False):
        amounts = amounts_of(config, groups)
        for (year, phase, direction, code), amount in in_order(amounts):
            total = totals.get((year, phase, direction)) or 0
            earlier = previous_year(year)
            previous = amounts.get((earlier, phase, direction, code)) if earlier else None
            table.rows.append(
                [
                    level.classification,
                    level.name,
                    code,
                    level_label(config, level, code, labels),
                    year_value(year),
                    phase,
                    direction,
                    amount,
                    rounded(amount / total) if total else None,
                    *change(amount, previous),
                ]
            )
    return table


def total_records(totals: Amounts) -> list[dict[str, Any]]:
    """The year totals in the shape of classification rows, for the execution table."""
    return [
        {"classification": "total", "level": "", "code": "", "label": "", "year": year_value(y),
         "phase": phase, "direction": direction, "amount": amount}
        for (y, phase, direction), amount in totals.items()
    ]  # fmt: skip


def line_records(config: BudgetConfig, groups: GroupMap) -> list[dict[str, Any]]:
    """Budget lines in the shape of classification rows, for the execution table."""
    level = "+".join(line_fields(config))
    return [
        {"classification": "line", "level": level, "code": "/".join(codes), "label": "",
         "year": year_value(year), "phase": phase, "direction": direction, "amount": amount}
        for (year, phase, direction, *codes), amount in amounts_of(config, groups).items()
    ]  # fmt: skip


def execution_rate(phases: dict[str, float]) -> tuple[float | None, float | None, str]:
    """(planned, rate, flag): executed over adjusted, else over approved."""
    planned = phases.get("adjusted", phases.get("approved"))
    executed = phases.get("executed")
    rate = rounded(executed / planned) if planned and executed is not None else None
    if rate is None:
        return planned, None, ""
    return (
        planned,
        rate,
        "above" if rate > OVER_EXECUTED else "far below" if rate < UNDER_EXECUTED else "",
    )


def execution_table(config: BudgetConfig, rows: list[dict[str, Any]]) -> DerivedTable | None:
    """Executed against adjusted (else approved) per year, node and line, with lines far
    above or below flagged."""
    by_phase: dict[tuple[Any, ...], dict[str, float]] = {}
    for row in rows:
        key = tuple(
            row[k] for k in ("classification", "level", "code", "label", "year", "direction")
        )
        by_phase.setdefault(key, {})[row["phase"]] = row["amount"]
    if not any("executed" in phases for phases in by_phase.values()):
        return None
    unit = config.currency
    table = DerivedTable(
        "execution",
        "Execution rate",
        "Executed amount as a share of the adjusted amount (or of the approved amount where "
        "no adjusted one is published), per year, classification node and budget line; "
        "above 100 % or below 50 % is flagged.",
        [
            Column("classification"),
            Column("level"),
            Column("code"),
            Column("label"),
            Column("year", "year"),
            Column("direction"),
            Column("approved", "number", unit=unit),
            Column("adjusted", "number", unit=unit),
            Column("executed", "number", unit=unit),
            Column("rate", "number", ratio=True),
            Column("flag"),
        ],
    )
    for key, phases in sorted(by_phase.items(), key=lambda item: tuple(map(str, item[0]))):
        _, rate, flag = execution_rate(phases)
        amounts = [phases.get(p) for p in ("approved", "adjusted", "executed")]
        table.rows.append([*key, *amounts, rate, flag])
    return table


def line_amounts(config: BudgetConfig, aggregates: Aggregates) -> Amounts:
    """(year, phase, direction, *line codes) → amount: every budget line (the codes of
    line_fields), as the scan summed it (empty when the scan has no line aggregate)."""
    expected = 1 + len(config.levels) + len(config.labels) + 1
    return amounts_of(config, aggregates[-1]) if len(aggregates) == expected else {}


def derive(config: BudgetConfig, aggregates: Aggregates) -> list[DerivedTable]:
    """Totals, classifications, execution (if executed amounts exist), label conflicts."""
    if not aggregates:
        return []
    totals = {point[:3]: amount for point, amount in amounts_of(config, aggregates[0]).items()}
    nodes = nodes_table(config, aggregates, totals)
    lines = line_records(config, aggregates[-1]) if config.several_phases else []
    execution = execution_table(config, total_records(totals) + nodes.records() + lines)
    conflicts = conflicts_table(config, aggregates)
    extra = [t for t in (execution, conflicts) if t is not None]
    return [totals_table(config, totals), nodes, *extra]
