"""Profiles as a registry: what each kind of package means, declared in one place.

A profile (budget, sensor, proposals, catalog, generic, or one a city installs) says how
its options are read from the descriptor, what the scan aggregates, which tables it
derives, which pages and templates show them, which tables head the diff and what
`civicgen new` scaffolds. civicgen's own profiles register through the same entry point
group as a third party's (`civicgen.profiles` in pyproject.toml), as MkDocs plugins do.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, reduce
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
    for name, value in sorted(entry_points(GROUP)):
        profile = loaded(value)
        if not isinstance(profile, Profile) or profile.name != name:
            raise CivicgenException(
                f"the entry point {name} = {value} in {GROUP} is not a civicgen "
                f'Profile named "{name}"; fix the package that declares it'
            )
        profiles[profile.name] = profile
    if DEFAULT not in profiles:
        raise CivicgenException(
            "civicgen's own profiles are not registered: install civicgen (pip install -e .) "
            "rather than running it from a copy of its folder"
        )
    return profiles


DISTRIBUTION = re.compile(r"(?i)([^-]+).*\.(dist|egg)-info$")  # its name: before the first -
ENTRY_POINT = re.compile(r"([\w.]+)\s*(?::\s*([\w.]+)\s*)?(?:\[.*\]\s*)?$")


def entry_points(group: str) -> list[tuple[str, str]]:
    """(name, "module:attribute") of the group's entry points, as importlib.metadata lists
    them: from the first distribution of each name along sys.path (folders; a zip on sys.path
    is not read). Read here, from each entry_points.txt: importing importlib.metadata and
    parsing every distribution's metadata took a sixth of a small validation."""
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for folder, name in distributions():
        normal = re.sub(r"[-_.]+", "_", name).lower()
        if normal in seen:
            continue
        seen.add(normal)
        path = os.path.join(folder, "entry_points.txt")
        with contextlib.suppress(OSError, UnicodeDecodeError), open(path, encoding="utf-8") as text:
            found += group_entries(text.read(), group)
    return found


def distributions() -> Iterator[tuple[str, str]]:
    """(folder, distribution name) of each dist-info and egg-info folder on sys.path, in its
    order."""
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if match := DISTRIBUTION.match(name):
                yield os.path.join(folder or ".", name), match.group(1)


def group_entries(text: str, group: str) -> list[tuple[str, str]]:
    """The name = value lines of [group] in an entry_points.txt."""
    if f"[{group}]" not in text.replace(" ", ""):
        return []
    entries, section = [], None
    for line in map(str.strip, text.splitlines()):
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line and not line.startswith(("#", ";")):
            name, value = (part.strip() for part in line.split("=", 1))
            entries.append((name, value))
    return entries


def loaded(value: str) -> Any:
    """The object an entry point's value names (module, or module:attribute.path)."""
    match = ENTRY_POINT.match(value)
    if match is None:
        raise CivicgenException(f'the entry point "{value}" in {GROUP} names no module')
    attributes = match.group(2).split(".") if match.group(2) else []
    return reduce(getattr, attributes, importlib.import_module(match.group(1)))


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
