"""How a budget package is described: civicgen.budget, or a Fiscal Data Package v0.3 mapping.

Both are read into one BudgetConfig: the measures (amount columns, each with its phase,
direction and currency), the fiscal year, the classifications with their levels from the
coarsest to the finest, the label field of each code field, and the titles the schema gives.
See docs/budget.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PHASES = ("proposed", "approved", "adjusted", "executed")  # the FDP v0.3 keywords, in order
PHASE_TYPES, DIRECTION_TYPES = ("phase:id", "phase"), ("direction",)  # FDP 1.0 columnType
YEAR_ATTRIBUTES = ("year", "fiscalYear", "fiscal_year")


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
class Measure:
    """One amount column: its phase and direction (unless a column says them per row)."""

    field: str
    phase: str = "approved"
    direction: str = "expenditure"
    currency: str = ""


@dataclass(frozen=True)
class BudgetConfig:
    measures: tuple[Measure, ...]
    year: str
    currency: str = ""
    phase_field: str = ""
    direction_field: str = ""
    levels: tuple[Level, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    code_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    population: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # field or classification → title

    @property
    def amount(self) -> str:
        """The first measure's field: a table without it is not a budget table."""
        return self.measures[0].field

    @property
    def several_phases(self) -> bool:
        return bool(self.phase_field) or len({m.phase for m in self.measures}) > 1


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


def schema_fields(descriptor: dict[str, Any]) -> list[dict[str, Any]]:
    """Every field object of every resource's schema (malformed parts skipped)."""
    found: list[dict[str, Any]] = []
    for resource in descriptor.get("resources") or []:
        schema = resource.get("schema") if isinstance(resource, dict) else None
        if isinstance(schema, dict) and isinstance(schema.get("fields"), list):
            found.extend(f for f in schema["fields"] if isinstance(f, dict))
    return found


def field_titles(descriptor: dict[str, Any]) -> dict[str, str]:
    """field name → its title in the schema (the first one given)."""
    titles: dict[str, str] = {}
    for described in schema_fields(descriptor):
        if isinstance(described.get("title"), str) and described.get("title"):
            titles.setdefault(str(described.get("name")), described["title"])
    return titles


def typed_field(descriptor: dict[str, Any], column_types: tuple[str, ...]) -> str:
    """The first field whose FDP 1.0 columnType is one of column_types ("" if none)."""
    for described in schema_fields(descriptor):
        if described.get("columnType") in column_types:
            return str(described.get("name"))
    return ""


def texts(value: Any) -> dict[str, str]:
    """A {name: text} option, with anything else in it left out."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def mapping_currency(descriptor: dict[str, Any]) -> str:
    measures = ((descriptor.get("mapping") or {}).get("measures")) or {}
    return next((str(m["currency"]) for m in measures.values() if m.get("currency")), "")


def from_civicgen(budget: dict[str, Any], descriptor: dict[str, Any]) -> BudgetConfig:
    currency = budget.get("currency") or mapping_currency(descriptor)
    measure = Measure(
        budget["amount"],
        budget.get("phase", "approved"),
        budget.get("direction", "expenditure"),
        currency,
    )
    return BudgetConfig(
        measures=(measure,),
        year=budget["year"],
        currency=currency,
        phase_field=budget.get("phaseField", ""),
        direction_field=budget.get("directionField", ""),
        levels=levels_of(budget.get("classifications", {}), budget.get("levels", {})),
        labels=budget.get("labels", {}),
        code_labels=budget.get("codeLabels", {}),
        population={str(k): int(v) for k, v in (budget.get("population") or {}).items()},
        titles={**field_titles(descriptor), **texts(budget.get("titles"))},
    )


# --- the Fiscal Data Package v0.3 mapping ------------------------------------------------------


def fdp_measures(mapping: dict[str, Any]) -> tuple[Measure, ...]:
    """Each measure of the mapping, in the order declared."""
    return tuple(
        Measure(
            str(m["source"]),
            str(m.get("phase") or "approved"),
            str(m.get("direction") or "expenditure"),
            str(m.get("currency") or ""),
        )
        for m in (mapping.get("measures") or {}).values()
        if isinstance(m, dict) and m.get("source")
    )


def is_date(name: str, dimension: dict[str, Any]) -> bool:
    return name == "date" or dimension.get("dimensionType") == "datetime"


def year_source(dimensions: dict[str, Any]) -> str:
    """The fiscal year's field: the `year` attribute of the date dimension (or its first one)."""
    for name, dimension in dimensions.items():
        attributes = dimension.get("attributes") or {}
        if is_date(name, dimension) and attributes:
            chosen = next((attributes[a] for a in YEAR_ATTRIBUTES if a in attributes), None)
            chosen = chosen or next(iter(attributes.values()))
            return str(chosen.get("source") or "")
    return ""


def depth(attributes: dict[str, Any], name: str) -> int:
    """How many parents an attribute has (a cycle stops the count)."""
    seen: set[str] = set()
    while name in attributes and name not in seen:
        seen.add(name)
        name = str(attributes[name].get("parent") or "")
    return len(seen)


def code_sources(attributes: dict[str, Any]) -> list[str]:
    """The code attributes' fields (labels left out), each parent before its children."""
    codes = [a for a, v in attributes.items() if v.get("source") and not v.get("labelfor")]
    return [str(attributes[a]["source"]) for a in sorted(codes, key=lambda a: depth(attributes, a))]


def label_sources(attributes: dict[str, Any]) -> dict[str, str]:
    """code field → label field, from each attribute's `labelfor`."""
    return {
        str(attributes[v["labelfor"]]["source"]): str(v["source"])
        for v in attributes.values()
        if v.get("source")
        and v.get("labelfor") in attributes
        and attributes[v["labelfor"]].get("source")
    }


def single_source(dimension: dict[str, Any]) -> str:
    return next(iter(code_sources(dimension.get("attributes") or {})), "")


def from_fdp_mapping(mapping: dict[str, Any], descriptor: dict[str, Any]) -> BudgetConfig | None:
    """Read a Fiscal Data Package v0.3 `mapping`: several measures (one per phase, or per
    direction) sum side by side; dimensions named `phase` or `direction` are columns that
    say them per row; every other dimension but the date is a classification."""
    measures, dimensions = fdp_measures(mapping), mapping.get("dimensions") or {}
    year = year_source(dimensions)
    if not measures or not year:
        return None
    special = {n.lower(): single_source(d) for n, d in dimensions.items()}
    classifications: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    titles = field_titles(descriptor)
    for name, dimension in dimensions.items():
        if is_date(name, dimension) or name.lower() in ("phase", "direction"):
            continue
        attributes = dimension.get("attributes") or {}
        classifications[name] = code_sources(attributes)
        labels.update(label_sources(attributes))
        if isinstance(dimension.get("title"), str):
            titles[name] = dimension["title"]
    return BudgetConfig(
        measures=measures,
        year=year,
        currency=measures[0].currency,
        phase_field=special.get("phase") or typed_field(descriptor, PHASE_TYPES),
        direction_field=special.get("direction") or typed_field(descriptor, DIRECTION_TYPES),
        levels=levels_of({k: v for k, v in classifications.items() if v}, {}),
        labels=labels,
        titles=titles,
    )


def budget_config(descriptor: dict[str, Any]) -> BudgetConfig | None:
    """The budget's configuration: civicgen.budget first, else the FDP v0.3 mapping."""
    declared = (descriptor.get("civicgen") or {}).get("budget")
    if declared:
        return from_civicgen(declared, descriptor)
    return from_fdp_mapping(descriptor.get("mapping") or {}, descriptor)


# --- what a budget's FDP mapping gets wrong, in words for its author -------------------------

DIRECTIONS = ("expenditure", "revenue")


def keyword_problems(mapping: dict[str, Any]) -> list[str]:
    """Measures whose phase or direction is not an FDP keyword."""
    problems = []
    for name, measure in (mapping.get("measures") or {}).items():
        for key, allowed in (("phase", PHASES), ("direction", DIRECTIONS)):
            value = measure.get(key) if isinstance(measure, dict) else None
            if value is not None and value not in allowed:
                problems.append(
                    f'"mapping.measures.{name}.{key}" is "{value}"; use one of {", ".join(allowed)}'
                )
    return problems


def mapping_sources(mapping: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, field) of every measure and attribute source."""
    found = [
        (f"mapping.measures.{n}.source", str(m["source"]))
        for n, m in (mapping.get("measures") or {}).items()
        if isinstance(m, dict) and m.get("source")
    ]
    for name, dimension in (mapping.get("dimensions") or {}).items():
        attributes = dimension.get("attributes") if isinstance(dimension, dict) else None
        for key, attribute in (attributes or {}).items():
            if isinstance(attribute, dict) and attribute.get("source"):
                where = f"mapping.dimensions.{name}.attributes.{key}.source"
                found.append((where, str(attribute["source"])))
    return found


def mapping_problems(descriptor: dict[str, Any]) -> list[str]:
    """Why a budget package's FDP mapping cannot be read as written ([] if it can): a source
    that names no field, a phase or direction that is not an FDP keyword, no fiscal year.
    The budget profile's package_check; shapes are checked before (descriptor.py)."""
    options = descriptor.get("civicgen") or {}
    mapping = descriptor.get("mapping")
    if options.get("profile") != "budget" or not isinstance(mapping, dict):
        return []
    fields = {str(f.get("name")) for f in schema_fields(descriptor)}
    problems = [
        f'"{where}" is "{source}", which is not a field of any table'
        for where, source in mapping_sources(mapping)
        if source not in fields
    ]
    problems += keyword_problems(mapping)
    if not options.get("budget") and not year_source(mapping.get("dimensions") or {}):
        problems.append('"mapping.dimensions" has no "date" dimension with a "year" attribute')
    return problems
