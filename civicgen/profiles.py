"""civicgen's own profiles, registered like anyone's through the `civicgen.profiles`
entry point group (see pyproject.toml and civicgen.registry)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .codes import code_errors
from .enquiries import enquiries_of, package_problems, record_errors
from .registry import Profile
from .stats import budget, market, records, sensor
from .stats.budget_config import mapping_problems
from .stats.enquiries import status_summary
from .stats.tables import DerivedTable

if TYPE_CHECKING:  # annotations only: model imports the registry, which loads these
    from .model import Resource

TEXT, WHOLE, NUMBER = str, int, (int, float)


def field_names(resource: Resource) -> list[str]:
    return [str(f.get("name")) for f in resource.fields]


def units_of(resource: Resource) -> dict[str, str]:
    return {str(f.get("name")): str(f.get("unit", "")) for f in resource.fields}


def options_under(key: str) -> Any:
    """A reader for civicgen.<key> in the descriptor (an empty dict when absent)."""

    def read(descriptor: dict[str, Any]) -> dict[str, Any]:
        found = (descriptor.get("civicgen") or {}).get(key)
        return found if isinstance(found, dict) else {}

    return read


# --- budget ------------------------------------------------------------------------------


def budget_aggregates(config: budget.BudgetConfig | None, resource: Resource) -> Any:
    if config is None or config.amount not in field_names(resource):
        return None
    return budget.group_bys(config, field_names(resource)) or None  # (): a field is missing


def budget_tables(config: budget.BudgetConfig, scanned: Any, derived: Any) -> list[DerivedTable]:
    if scanned.is_collection:
        return []
    return budget.derive(config, scanned.result.aggregates)


def budget_check(budget: dict[str, Any], fields: set[str]) -> list[str]:
    """Budget options that name a field no table of the package has."""
    named = [budget.get(k) for k in ("amount", "year", "phaseField", "directionField")]
    named += [f for group in (budget.get("classifications") or {}).values() for f in group]
    for mapping in (budget.get("levels") or {}, budget.get("labels") or {}):
        named += list(mapping)
    named += list((budget.get("labels") or {}).values())
    missing = sorted({str(n) for n in named if n and n not in fields})
    levels = [n for ns in (budget.get("levels") or {}).values() for n in ns if n < 1]
    problems = [f'"civicgen.budget" names fields that no table has: {", ".join(missing)}']
    return problems[: bool(missing)] + (
        ['"civicgen.budget.levels" must be prefix lengths of 1 or more'] if levels else []
    )


def budget_pages(env: Any, inputs: Any) -> list[Any]:
    from .site.budget_explorer import budget_pages as pages

    return pages(env, inputs)


BUDGET = Profile(
    name="budget",
    description="A budget (Fiscal Data Package): totals and classification rollups by year.",
    option_shape={
        "amount": TEXT,
        "year": TEXT,
        "currency": TEXT,
        "phase": TEXT,
        "phaseField": TEXT,
        "direction": TEXT,
        "directionField": TEXT,
        "classifications": {TEXT: [TEXT]},
        "levels": {TEXT: [WHOLE]},
        "labels": {TEXT: TEXT},
        "codeLabels": {TEXT: {TEXT: TEXT}},
        "population": {TEXT: WHOLE},
        "populationSource": TEXT,
    },  # fmt: skip
    required=("amount", "year"),
    check=budget_check,
    package_check=mapping_problems,
    read_options=budget.budget_config,
    aggregates=budget_aggregates,
    derive=budget_tables,
    pages=budget_pages,
    template="stats-budget.html",
    diff_tables=("totals",),
    scaffold="budget",
    order=0,
    reads_derived=False,
)


# --- sensor ------------------------------------------------------------------------------


def sensor_aggregates(config: sensor.SensorConfig | None, resource: Resource) -> Any:
    names = field_names(resource)
    if config is None or config.station not in names or config.timestamp not in names:
        return None
    return sensor.group_bys(config, names)


def sensor_sequences(
    config: sensor.SensorConfig | None, resource: Resource
) -> list[tuple[str, str]]:
    if config is None or sensor_aggregates(config, resource) is None:
        return []
    return [(config.station, config.timestamp)]


def sensor_tables(config: sensor.SensorConfig, scanned: Any, derived: Any) -> list[DerivedTable]:
    if scanned.is_collection:
        return []
    resource = scanned.resource
    order = sensor.reading_order(config, scanned.plan, scanned.result)
    return sensor.derive(
        config, scanned.result.aggregates, units_of(resource), field_names(resource), order
    )


def sensor_package_check(descriptor: dict[str, Any]) -> list[str]:
    """A base layer named by a plain relative path to a .geojson or .json file."""
    from .site.maps import layer_path_problem

    options = (descriptor.get("civicgen") or {}).get("sensor") or {}
    problem = layer_path_problem(str(options.get("baseLayer") or ""))
    return [f'"civicgen.sensor.baseLayer" {problem}'] if problem else []


def air_pages(env: Any, inputs: Any) -> list[Any]:
    from .site.air import air_pages as pages

    return pages(env, inputs)


SENSOR = Profile(
    name="sensor",
    description="Sensor readings: hourly and daily series, coverage and days above guidelines.",
    option_shape={
        "station": TEXT,
        "timestamp": TEXT,
        "timezone": TEXT,
        "stations": TEXT,
        "quantities": [TEXT],
        "intervalMinutes": WHOLE,
        "thresholds": {TEXT: NUMBER},
        "pseudonymSalt": TEXT,
        "baseLayer": TEXT,
        "baseLayerSource": TEXT,
    },  # fmt: skip
    package_check=sensor_package_check,
    read_options=sensor.sensor_config,
    aggregates=sensor_aggregates,
    sequences=sensor_sequences,
    derive=sensor_tables,
    pages=air_pages,
    template="stats-sensor.html",
    diff_tables=("coverage",),
    reads_derived=False,
)


# --- proposals and the tool catalog (one file per record) ---------------------------------


def proposal_tables(options: dict[str, Any], scanned: Any, derived: Any) -> list[DerivedTable]:
    """Proposals by status and the funding chain, priced in civicgen.proposals.currency, else
    the estimated cost's unit, else the currency of the budget they are funded from."""
    amounts, labels, budget_currency = records.program_figures(scanned.resource, derived)
    unit = units_of(scanned.resource).get("estimated_cost")
    currency = str(options.get("currency") or unit or budget_currency)
    return [
        records.proposal_summary(scanned.records, currency),
        records.funding_table(scanned.records, amounts, labels, currency),
    ]


def proposal_pages(env: Any, inputs: Any) -> list[Any]:
    from .site.pages import proposal_pages as pages

    return pages(env, inputs)


PROPOSALS = Profile(
    name="proposals",
    description="Participatory-budgeting proposals, one file each, from vote to budget line.",
    option_shape={"currency": TEXT},
    read_options=options_under("proposals"),
    derive=proposal_tables,
    pages=proposal_pages,
    diff_tables=("summary",),
    scaffold="proposals",
    order=10,
)


def enquiry_tables(options: Any, scanned: Any, derived: Any) -> list[DerivedTable]:
    if not scanned.is_collection:
        return []
    return [status_summary(enquiries_of(scanned.records))]


def enquiry_pages(env: Any, inputs: Any) -> list[Any]:
    from .site.enquiries import enquiry_pages as pages

    return pages(env, inputs)


ENQUIRIES = Profile(
    name="enquiries",
    description="Questions to the council about budget lines, one file each, with the answers.",
    package_check=package_problems,
    record_check=record_errors,
    derive=enquiry_tables,
    pages=enquiry_pages,
    diff_tables=("summary",),
    scaffold="enquiries",
    order=20,
)


def catalog_tables(options: Any, scanned: Any, derived: Any) -> list[DerivedTable]:
    """The tools' counts and licences; the marketplace collections' own tables."""
    found = market.market_tables(scanned.resource.name, scanned.records)
    return records.catalog_tables(scanned.records) if found is None else found


def tool_pages(env: Any, inputs: Any) -> list[Any]:
    from .site.pages import tool_pages as pages

    return pages(env, inputs)


CATALOG = Profile(
    name="catalog",
    description="A catalog of open-source tools for open government, one file per tool.",
    record_check=code_errors,
    derive=catalog_tables,
    pages=tool_pages,
    diff_tables=("counts",),
    reads_derived=False,
)

GENERIC = Profile(
    name="generic",
    description="Any tabular data package: a profile of each column.",
    reads_derived=False,
)
