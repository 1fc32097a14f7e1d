"""Profiles as a registry: what each kind of package means, declared in one place.

A profile (budget, sensor, proposals, catalog, generic, or one a city installs) says how
its options are read from the descriptor, what the scan aggregates, which tables it
derives, which pages and templates show them, which tables head the diff and what
`civicgen new` scaffolds. civicgen's own profiles register through the same entry point
group as a third party's (`civicgen.profiles` in pyproject.toml), as MkDocs plugins do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from .exceptions import CivicgenException

GROUP = "civicgen.profiles"
DEFAULT = "generic"


def no_options(descriptor: dict[str, Any]) -> None:
    return None


def not_a_domain_table(options: Any, resource: Any) -> None:
    return None


def no_key_sets(options: Any, resource: Any) -> list[list[str]]:
    return []


def no_sequences(options: Any, resource: Any) -> list[tuple[str, str]]:
    return []


def no_check(options: dict[str, Any], fields: set[str]) -> list[str]:
    return []


def no_package_problems(descriptor: dict[str, Any]) -> list[str]:
    return []


def no_tables(options: Any, scanned: Any, derived: dict[str, Any]) -> list[Any]:
    return []


def no_record_problems(options: Any, record: Any) -> list[Any]:
    return []


@dataclass(frozen=True)
class Profile:
    """One kind of package, and every hook civicgen calls for it."""

    name: str
    description: str
    option_shape: dict[str, Any] = field(default_factory=dict)  # civicgen.<name>: {key: shape}
    required: tuple[str, ...] = ()  # keys of civicgen.<name> that must be there when it is
    check: Callable[[dict[str, Any], set[str]], list[str]] = no_check  # (options, field names)
    package_check: Callable[[dict[str, Any]], list[str]] = no_package_problems  # descriptor
    read_options: Callable[[dict[str, Any]], Any] = no_options  # descriptor -> options, once
    record_check: Callable[[Any, Any], list[Any]] = (
        no_record_problems  # (options, Record) -> errors
    )
    aggregates: Callable[[Any, Any], Any] = not_a_domain_table  # (options, Resource) -> GroupBys
    key_sets: Callable[[Any, Any], list[list[str]]] = no_key_sets  # keys kept beyond the FKs
    sequences: Callable[[Any, Any], list[tuple[str, str]]] = no_sequences  # (key, time)
    # fields whose reading order the scan counts (plan.Sequence)
    derive: Callable[[Any, Any, dict[str, Any]], list[Any]] = no_tables  # (options, scan, derived)
    pages: Callable[[Any, Any], list[Any]] | None = None  # (env, SiteInputs) -> pages
    template: str = ""  # the statistics section of the dataset page
    templates_package: str = ""  # an importable package whose templates/ folder holds them
    diff_tables: tuple[str, ...] = ()  # derived tables a reviewer sees first
    scaffold: str = ""  # folder of civicgen/templates/new/datasets that `civicgen new` copies
    order: int = 50  # derived before higher orders (budgets before the proposals they fund)
    reads_derived: bool = True  # reads lower orders' derived tables (a diff derives it again
    # when one of them changed; False: its tables depend on its own package alone)


@cache
def registered() -> dict[str, Profile]:
    """Every installed profile by name (loaded once per process)."""
    profiles: dict[str, Profile] = {}
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        profile = point.load()
        if not isinstance(profile, Profile) or profile.name != point.name:
            raise CivicgenException(
                f"the entry point {point.name} = {point.value} in {GROUP} is not a civicgen "
                f'Profile named "{point.name}"; fix the package that declares it'
            )
        profiles[profile.name] = profile
    if DEFAULT not in profiles:
        raise CivicgenException(
            "civicgen's own profiles are not registered: install civicgen (pip install -e .) "
            "rather than running it from a copy of its folder"
        )
    return profiles


def profile_named(name: str) -> Profile | None:
    return registered().get(name)


def profile_or_generic(name: str) -> Profile:
    """The profile of that name; generic for a name nobody registered (reported elsewhere)."""
    return registered().get(name) or registered()[DEFAULT]


SHIPPED = frozenset({"budget", "sensor", "proposals", "enquiries", "catalog", "generic"})
# civicgen's own profiles (civicgen.profiles, pyproject.toml's entry points; a test keeps
# the three the same)


def shipped_but_unregistered(name: str) -> bool:
    """A profile civicgen ships that the installed metadata does not list: the code was
    updated (a pull, a merge) without reinstalling civicgen."""
    return name in SHIPPED and name not in registered()


def known_names() -> str:
    return ", ".join(sorted(registered()))
