"""Each package's profile, asked what the scan aggregates and which tables it derives.

The profiles themselves live in the registry (civicgen.registry); a table the profile
does not claim, or a package without a profile, gets a generic column profile.
"""

from __future__ import annotations

from typing import Any

from ..model import Package, Resource
from ..registry import Profile, profile_or_generic
from ..scan.plan import GroupBy
from . import generic
from .tables import DerivedTable

Tables = dict[str, Any]  # resource name -> TableScan (kept loose to avoid an import cycle)


def profile_of(package: Package) -> Profile:
    """The package's profile (generic when it names none; an unknown name is a
    profile-error reported by the descriptor checks)."""
    return profile_or_generic(package.profile)


def domain_aggregates(package: Package, resource: Resource) -> tuple[GroupBy, ...] | None:
    """What the profile aggregates for this table (None: not a table of the profile)."""
    planned = profile_of(package).aggregates(package.options, resource)
    return None if planned is None else tuple(planned)


def aggregates_for(
    package: Package, resource: Resource, most_groups: int = 0
) -> tuple[GroupBy, ...]:
    """The aggregations the scan must compute for one table. most_groups (Limits.groups):
    the most groups one of the profile's aggregations may hold; past it the aggregation
    collapses (memory stays bounded) and the table is reported (over_group_limit)."""
    if resource.records is not None:
        return ()  # collections are summarised from their records
    planned = domain_aggregates(package, resource)
    if planned is None:
        return generic.group_bys(resource.fields)
    return tuple(g if g.limit else g._replace(limit=most_groups) for g in planned)


def over_group_limit(package: Package, scanned: Any) -> list[GroupBy]:
    """The profile's aggregations of a scanned table that went past their limit (all that is
    left is one group under the key (), which an aggregation by no key always has)."""
    if scanned.is_collection or domain_aggregates(package, scanned.resource) is None:
        return []
    found = zip(scanned.plan.aggregates, scanned.result.aggregates, strict=False)
    return [g for g, groups in found if g.limit and g.keys and () in groups]


def extra_key_sets(package: Package, resource: Resource) -> list[list[str]]:
    """Key values a profile needs beyond foreign keys (appended after them in the plan)."""
    return list(profile_of(package).key_sets(package.options, resource))


def sequences_for(package: Package, resource: Resource) -> tuple[tuple[str, str], ...]:
    """The (key, time) fields whose reading order the scan counts for this table."""
    if resource.records is not None:
        return ()
    return tuple(profile_of(package).sequences(package.options, resource))


def table_stats(package: Package, scanned: Any, derived: dict[str, list[DerivedTable]]) -> Any:
    """The derived tables of one scanned table."""
    resource = scanned.resource
    if resource.records is None and domain_aggregates(package, resource) is None:
        missing = scanned.plan.fields[0].missing_values if scanned.plan.fields else ("",)
        aggregates = scanned.result.aggregates
        return [generic.profile_table(resource.name, resource.fields, aggregates, missing)]
    if over_group_limit(package, scanned):
        return []  # validation said why: no figures from a summary that lost its groups
    return profile_of(package).derive(package.options, scanned, derived)


def package_tables(
    package: Package, tables: Tables, derived: dict[str, list[DerivedTable]]
) -> list[DerivedTable]:
    """The derived tables of one package."""
    return [t for scanned in tables.values() for t in table_stats(package, scanned, derived)]


def derive_all(validation: Any, only: set[str] | None = None) -> dict[str, list[DerivedTable]]:
    """Every package's derived tables, in the profiles' order (budgets before proposals);
    only: these packages' tables, and the tables of lower orders those that read them need."""
    by_package: dict[str, Tables] = {}
    packages: dict[str, Package] = {}
    for (name, resource), scanned in validation.tables.items():
        by_package.setdefault(name, {})[resource] = scanned
        packages[name] = scanned.package
    order = sorted(packages, key=lambda n: (profile_of(packages[n]).order, n))
    wanted = set(order) if only is None else needed(only, packages)
    derived: dict[str, list[DerivedTable]] = {}
    for name in order:
        if name in wanted:
            derived[name] = package_tables(packages[name], by_package[name], derived)
    return derived


def needed(only: set[str], packages: dict[str, Package]) -> set[str]:
    """These packages, and every package of a lower order when one of them reads derived tables."""
    chosen = only & packages.keys()
    reading = [
        profile_of(packages[n]).order for n in chosen if profile_of(packages[n]).reads_derived
    ]
    if not reading:
        return chosen
    return chosen | {n for n, p in packages.items() if profile_of(p).order < max(reading)}
