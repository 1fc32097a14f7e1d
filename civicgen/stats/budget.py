"""Budget statistics (Fiscal Data Package conventions): totals and classification rollups.

By fiscal year × every level of every classification: amount, share of the year's total,
change against the previous year; per inhabitant where the package declares a population;
execution rate where approved and executed phases are both present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..scan.plan import GroupBy
from .partials import Group
from .tables import Column, DerivedTable, change, rounded

OVER_EXECUTED, UNDER_EXECUTED = 1.0, 0.5


@dataclass(frozen=True)
class Level:
    """One level of a classification: a whole code field, or the first `prefix` characters."""

    classification: str
    field: str
    prefix: int = 0  # 0: the whole value

    @property
    def name(self) -> str:
        return f"{self.field}:{self.prefix}" if self.prefix else self.field


@dataclass(frozen=True)
class BudgetConfig:
    amount: str
    year: str
    currency: str = ""
    phase: str = "approved"  # constant, unless phase_field is set
    phase_field: str = ""
    direction: str = "expenditure"
    direction_field: str = ""
    levels: tuple[Level, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    code_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    population: dict[str, int] = field(default_factory=dict)


def levels_of(
    classifications: dict[str, list[str]], prefixes: dict[str, list[int]]
) -> tuple[Level, ...]:
    """Levels from the coarsest to the finest: declared prefixes of a field come before it."""
    levels: list[Level] = []
    for name, fields in classifications.items():
        for code_field in fields:
            levels.extend(Level(name, code_field, n) for n in prefixes.get(code_field, []))
            levels.append(Level(name, code_field))
    return tuple(levels)


def from_civicgen(budget: dict[str, Any]) -> BudgetConfig:
    return BudgetConfig(
        amount=budget["amount"],
        year=budget["year"],
        currency=budget.get("currency", ""),
        phase=budget.get("phase", "approved"),
        phase_field=budget.get("phaseField", ""),
        direction=budget.get("direction", "expenditure"),
        direction_field=budget.get("directionField", ""),
        levels=levels_of(budget.get("classifications", {}), budget.get("levels", {})),
        labels=budget.get("labels", {}),
        code_labels=budget.get("codeLabels", {}),
        population={str(k): int(v) for k, v in (budget.get("population") or {}).items()},
    )


def from_fdp_mapping(mapping: dict[str, Any]) -> BudgetConfig | None:
    """Read a Fiscal Data Package v0.3 `mapping` (as in the Madrid sample)."""
    measure = next(iter((mapping.get("measures") or {}).values()), None)
    year = ((mapping.get("dimensions") or {}).get("date") or {}).get("attributes", {}).get("year")
    if not measure or not year:
        return None
    classifications: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for name, dimension in (mapping.get("dimensions") or {}).items():
        if name == "date":
            continue
        for attribute in (dimension.get("attributes") or {}).values():
            if attribute.get("labelfor"):
                labels[dimension["attributes"][attribute["labelfor"]]["source"]] = attribute[
                    "source"
                ]
            else:
                classifications.setdefault(name, []).append(attribute["source"])
    return BudgetConfig(
        amount=measure["source"],
        year=year["source"],
        currency=measure.get("currency", ""),
        phase=measure.get("phase", "approved"),
        direction=measure.get("direction", "expenditure"),
        levels=levels_of(classifications, {}),
        labels=labels,
    )


def budget_config(descriptor: dict[str, Any]) -> BudgetConfig | None:
    """The budget's configuration: civicgen.budget first, else the FDP v0.3 mapping."""
    declared = (descriptor.get("civicgen") or {}).get("budget")
    if declared:
        return from_civicgen(declared)
    return from_fdp_mapping(descriptor.get("mapping") or {})


def base_keys(config: BudgetConfig, index: dict[str, int]) -> tuple[tuple[int, str, int], ...]:
    keys = [(index[config.year], "value", 0)]
    for name in (config.phase_field, config.direction_field):
        if name:
            keys.append((index[name], "value", 0))
    return tuple(keys)


def group_bys(config: BudgetConfig, names: list[str]) -> tuple[GroupBy, ...]:
    """The aggregations the scan computes: the total, then one per classification level."""
    index = {name: i for i, name in enumerate(names)}
    if config.amount not in index or config.year not in index:
        return ()
    base, amount = base_keys(config, index), (index[config.amount],)
    plans = [GroupBy(base, amount)]
    for level in config.levels:
        transform = "prefix" if level.prefix else "value"
        plans.append(GroupBy((*base, (index[level.field], transform, level.prefix)), amount))
    for code_field, label_field in config.labels.items():
        plans.append(
            GroupBy(((index[code_field], "value", 0), (index[label_field], "value", 0)), ())
        )
    if config.phase_field:  # several phases: execution is compared line by line too
        plans.append(
            GroupBy((*base, *((index[f], "value", 0) for f in line_fields(config))), amount)
        )
    return tuple(plans)


def line_fields(config: BudgetConfig) -> list[str]:
    """The code fields that together name one budget line."""
    return list(dict.fromkeys(level.field for level in config.levels if not level.prefix))


def line_records(
    config: BudgetConfig, groups: dict[tuple[str, ...], Group]
) -> list[dict[str, Any]]:
    """Budget lines in the shape of classification rows, for the execution table."""
    level = "+".join(line_fields(config))
    records = []
    for key, group in groups.items():
        year, phase, direction, codes = split_key(config, key)
        records.append(
            {
                "classification": "line",
                "level": level,
                "code": "/".join(codes),
                "label": "",
                "year": int(year) if year.isdigit() else year,
                "phase": phase,
                "direction": direction,
                "amount": group[1][0][1],
            }
        )
    return records


def split_key(config: BudgetConfig, key: tuple[str, ...]) -> tuple[str, str, str, tuple[str, ...]]:
    """(year, phase, direction, rest) of a group key."""
    year, rest = key[0], list(key[1:])
    phase = rest.pop(0) if config.phase_field else config.phase
    direction = rest.pop(0) if config.direction_field else config.direction
    return year, phase, direction, tuple(rest)


def label_map(
    config: BudgetConfig, aggregates: list[dict[tuple[str, ...], Group]]
) -> dict[str, dict[str, str]]:
    """field → code → label (the label of the latest rows seen wins)."""
    labels: dict[str, dict[str, str]] = {}
    label_plans = aggregates[1 + len(config.levels) : 1 + len(config.levels) + len(config.labels)]
    for code_field, groups in zip(config.labels, label_plans, strict=True):
        for code, label in groups:
            labels.setdefault(code_field, {})[code] = label
    return labels


def totals_table(config: BudgetConfig, groups: dict[tuple[str, ...], Group]) -> DerivedTable:
    table = DerivedTable(
        "totals",
        "Totals by year",
        "The budget's total per fiscal year, phase and direction.",
        [
            Column("year", "year"),
            Column("phase"),
            Column("direction"),
            Column("amount", "number", unit=config.currency),
            Column("per_inhabitant", "number", unit=config.currency),
            Column("change", "number", unit=config.currency),
            Column("change_pct", "number"),
        ],
    )
    amounts = {split_key(config, k)[:3]: g[1][0][1] for k, g in groups.items()}
    for (year, phase, direction), amount in sorted(amounts.items()):
        previous = amounts.get((str(int(year) - 1), phase, direction)) if year.isdigit() else None
        people = config.population.get(year)
        table.rows.append(
            [
                int(year) if year.isdigit() else year,
                phase,
                direction,
                rounded(amount, 2),
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


def nodes_table(
    config: BudgetConfig, aggregates: list[dict[tuple[str, ...], Group]]
) -> DerivedTable:
    """Every classification node at every level, with its share and year-over-year change."""
    table = DerivedTable(
        "classifications",
        "Totals by classification",
        "Amount per fiscal year for each node of each classification, at every level, "
        "with its share of the year's total and its change against the previous year.",
        [
            Column("classification"),
            Column("level"),
            Column("code"),
            Column("label"),
            Column("year", "year"),
            Column("phase"),
            Column("direction"),
            Column("amount", "number", unit=config.currency),
            Column("share", "number"),
            Column("change", "number", unit=config.currency),
            Column("change_pct", "number"),
        ],
    )
    totals = {split_key(config, k)[:3]: g[1][0][1] for k, g in aggregates[0].items()}
    labels = label_map(config, aggregates)
    for level, groups in zip(config.levels, aggregates[1:], strict=False):
        amounts = {
            split_key(config, k)[:3] + split_key(config, k)[3]: g[1][0][1]
            for k, g in groups.items()
        }
        for (year, phase, direction, code), amount in sorted(amounts.items()):
            total = totals.get((year, phase, direction)) or 0
            previous = (
                amounts.get((str(int(year) - 1), phase, direction, code))
                if year.isdigit()
                else None
            )
            table.rows.append(
                [
                    level.classification,
                    level.name,
                    code,
                    level_label(config, level, code, labels),
                    int(year) if year.isdigit() else year,
                    phase,
                    direction,
                    rounded(amount, 2),
                    rounded(amount / total) if total else None,
                    *change(amount, previous),
                ]
            )
    return table


def execution_table(config: BudgetConfig, rows: list[dict[str, Any]]) -> DerivedTable | None:
    """Executed against approved per node, with lines far above or below flagged."""
    by_phase: dict[tuple[Any, ...], dict[str, float]] = {}
    for row in rows:
        key = (
            row["classification"],
            row["level"],
            row["code"],
            row["label"],
            row["year"],
            row["direction"],
        )
        by_phase.setdefault(key, {})[row["phase"]] = row["amount"]
    if not any("executed" in phases for phases in by_phase.values()):
        return None
    table = DerivedTable(
        "execution",
        "Execution rate",
        "Executed amount as a share of the approved (or adjusted) amount, per classification "
        "node and per budget line; above 100 % or below 50 % is flagged.",
        [
            Column("classification"),
            Column("level"),
            Column("code"),
            Column("label"),
            Column("year", "year"),
            Column("direction"),
            Column("approved", "number", unit=config.currency),
            Column("executed", "number", unit=config.currency),
            Column("rate", "number"),
            Column("flag"),
        ],
    )
    for key, phases in sorted(by_phase.items(), key=lambda item: tuple(map(str, item[0]))):
        planned = phases.get("adjusted", phases.get("approved"))
        executed = phases.get("executed")
        rate = rounded(executed / planned) if planned and executed is not None else None
        flag = (
            ""
            if rate is None
            else ("above" if rate > OVER_EXECUTED else "far below" if rate < UNDER_EXECUTED else "")
        )
        table.rows.append([*key, planned, executed, rate, flag])
    return table


def derive(
    config: BudgetConfig, aggregates: list[dict[tuple[str, ...], Group]]
) -> list[DerivedTable]:
    nodes = nodes_table(config, aggregates)
    lines = line_records(config, aggregates[-1]) if config.phase_field else []
    execution = execution_table(config, nodes.records() + lines)
    return [totals_table(config, aggregates[0]), nodes, *([execution] if execution else [])]
