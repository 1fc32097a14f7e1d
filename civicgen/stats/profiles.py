"""What each domain profile aggregates during the scan, and the tables it derives after.

Profiles register in PROFILES like extensions would; anything without a domain profile
gets a generic column profile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import Package, Resource
from ..scan.plan import GroupBy
from . import budget, generic, records, sensor
from .tables import DerivedTable

Tables = dict[str, Any]  # resource name -> TableScan (kept loose to avoid an import cycle)


def field_names(resource: Resource) -> list[str]:
    return [str(f.get("name")) for f in resource.fields]


def budget_aggregates(package: Package, resource: Resource) -> tuple[GroupBy, ...] | None:
    config = budget.budget_config(package.descriptor)
    if config is None or config.amount not in field_names(resource):
        return None
    return budget.group_bys(config, field_names(resource))


def sensor_aggregates(package: Package, resource: Resource) -> tuple[GroupBy, ...] | None:
    config = sensor.sensor_config(package.descriptor)
    names = field_names(resource)
    if config is None or config.station not in names or config.timestamp not in names:
        return None
    return sensor.group_bys(config, names)


DOMAIN_AGGREGATES: dict[str, Callable[[Package, Resource], tuple[GroupBy, ...] | None]] = {
    "budget": budget_aggregates,
    "sensor": sensor_aggregates,
}


def aggregates_for(package: Package, resource: Resource) -> tuple[GroupBy, ...]:
    """The aggregations the scan must compute for one table."""
    if resource.records is not None:
        return ()  # collections are summarised from their records
    domain = DOMAIN_AGGREGATES.get(package.profile)
    planned = domain(package, resource) if domain else None
    return planned if planned is not None else generic.group_bys(resource.fields)


def extra_key_sets(package: Package, resource: Resource) -> list[list[str]]:
    """Key values a profile needs beyond foreign keys (appended after them in the plan)."""
    config = sensor.sensor_config(package.descriptor) if package.profile == "sensor" else None
    if config is None or sensor_aggregates(package, resource) is None:
        return []
    return [[config.station, config.timestamp]]


def is_domain_table(package: Package, resource: Resource) -> bool:
    domain = DOMAIN_AGGREGATES.get(package.profile)
    return bool(domain and domain(package, resource) is not None)


def units_of(resource: Resource) -> dict[str, str]:
    return {str(f.get("name")): str(f.get("unit", "")) for f in resource.fields}


def package_tables(
    package: Package, tables: Tables, derived: dict[str, list[DerivedTable]]
) -> list[DerivedTable]:
    """The derived tables of one package (budgets before the proposals that refer to them)."""
    result: list[DerivedTable] = []
    for scanned in tables.values():
        resource, aggregates = scanned.resource, scanned.result.aggregates
        if resource.records is not None:
            result.extend(collection_tables(package, scanned, derived))
        elif not is_domain_table(package, resource):
            missing = scanned.plan.fields[0].missing_values if scanned.plan.fields else ("",)
            result.append(
                generic.profile_table(resource.name, resource.fields, aggregates, missing)
            )
        elif package.profile == "budget":
            budget_config = budget.budget_config(package.descriptor)
            assert budget_config is not None  # is_domain_table: budget_aggregates found it
            result.extend(budget.derive(budget_config, aggregates))
        else:
            config = sensor.sensor_config(package.descriptor)
            assert config is not None  # is_domain_table: sensor_aggregates found it
            order = sensor.reading_order(config, scanned.plan, scanned.result)
            derived_tables = sensor.derive(
                config, aggregates, units_of(resource), field_names(resource), order
            )
            result.extend(derived_tables)
    return result


def collection_tables(
    package: Package, scanned: Any, derived: dict[str, list[DerivedTable]]
) -> list[DerivedTable]:
    if package.profile == "catalog":
        return records.catalog_tables(scanned.records)
    if package.profile != "proposals":
        return []
    amounts, labels = program_figures(scanned.resource, derived)
    return [
        records.proposal_summary(scanned.records),
        records.funding_table(scanned.records, amounts, labels),
    ]


def program_figures(
    resource: Resource, derived: dict[str, list[DerivedTable]]
) -> tuple[dict[tuple[str, str, str], float], dict[str, str]]:
    """(year, code, phase) → amount, and code → label, of the budget level a proposal points to."""
    amounts: dict[tuple[str, str, str], float] = {}
    labels: dict[str, str] = {}
    for fk in resource.schema.get("foreignKeys") or []:
        reference = fk.get("reference") or {}
        target_fields = reference.get("fields")
        level = target_fields if isinstance(target_fields, str) else (target_fields or [""])[0]
        for table in derived.get(str(reference.get("package")), []):
            if table.name != "classifications":
                continue
            for row in table.where(level=level):
                amounts[(str(row["year"]), row["code"], row["phase"])] = row["amount"]
                labels[row["code"]] = row["label"]
    return amounts, labels


def derive_all(validation: Any) -> dict[str, list[DerivedTable]]:
    """Every package's derived tables; budgets first, so proposals can read them."""
    by_package: dict[str, Tables] = {}
    packages: dict[str, Package] = {}
    for (name, resource), scanned in validation.tables.items():
        by_package.setdefault(name, {})[resource] = scanned
        packages[name] = scanned.package
    order = sorted(packages, key=lambda n: (packages[n].profile != "budget", n))
    derived: dict[str, list[DerivedTable]] = {}
    for name in order:
        derived[name] = package_tables(packages[name], by_package[name], derived)
    return derived
