"""Everything the pages show, read once before any page is rendered.

The render stage (pages.py, maps.py, the templates) reads nothing from disk or git: it is
given the validation, the derived statistics, each table's published bytes and column
profile, each package's history and its stations as published (home stations protected).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..history import FieldChange, HistoryEntry, dataset_history, field_history
from ..model import Package
from ..privacy import HomeStations, protect_derived
from ..stats.profiles import derive_all
from ..stats.tables import DerivedTable
from ..validation import Validation
from .profile import ColumnProfile, table_profile
from .published import Published, homes_in, protect_station, published_table, station_rows

Derived = dict[str, list[DerivedTable]]
T = TypeVar("T")


@dataclass(frozen=True)
class SiteInputs:
    """What the portal shows, gathered from the validated repository."""

    validation: Validation
    derived: Derived  # home stations already under their pseudonyms
    published: dict[tuple[str, str], Published]  # (package, resource) -> bytes as published
    histories: dict[str, list[HistoryEntry]]  # package name -> latest changes
    stations: dict[str, list[dict[str, str]]]  # package name -> stations as published
    homes: dict[str, HomeStations | None]  # package name -> its home stations, if any
    # package name -> record file -> its status, oldest first, as git recorded it
    statuses: dict[str, dict[str, list[FieldChange]]] = field(default_factory=dict)
    # (package, resource) -> the column profile of the table as published
    profiles: dict[tuple[str, str], list[ColumnProfile]] = field(default_factory=dict)

    # what every language's pages share, made by the first language that needs it
    shared: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def packages(self) -> dict[str, Package]:
        return self.validation.packages

    def once(self, key: Hashable, make: Callable[[], T]) -> T:
        """make(), computed for the first language only (downloads and other figures that
        are the same in every language)."""
        if key not in self.shared:
            self.shared[key] = make()
        return self.shared[key]


def gather(validation: Validation) -> SiteInputs:
    """Read and compute, once, everything the pages will show."""
    packages = validation.packages
    stations, homes = stations_and_homes(validation)
    published = {
        key: published_table(validation, s, homes[key[0]]) for key, s in validation.tables.items()
    }
    return SiteInputs(
        validation=validation,
        derived=protected_stats(derive_all(validation), packages, homes),
        published=published,
        histories={
            name: dataset_history(validation.source.root, package.folder)
            for name, package in packages.items()
        },
        stations={name: published_stations(stations[name], homes[name]) for name in packages},
        homes=homes,
        statuses=status_histories(validation),
        profiles={
            key: table_profile(s, published[key].data) for key, s in validation.tables.items()
        },
    )


STATUS_FIELD = "status"
STATUS_WALK = 500  # commits read, newest first, to find how each record's status changed
STATUS_CHANGES = 20  # the latest changes kept per record


def status_histories(validation: Validation) -> dict[str, dict[str, list[FieldChange]]]:
    """How the status of each record of each collection with a status field changed."""
    found: dict[str, dict[str, list[FieldChange]]] = {}
    for scanned in validation.tables.values():
        spec, package = scanned.resource.records, scanned.package
        names = {str(f.get("name")) for f in scanned.resource.fields}
        if spec is None or STATUS_FIELD not in names:
            continue
        history = field_history(
            validation.source.root, package.folder, spec.pattern, STATUS_FIELD,
            STATUS_WALK, STATUS_CHANGES,
        )  # fmt: skip
        found.setdefault(package.name, {}).update(history)
    return found


def stations_and_homes(
    validation: Validation,
) -> tuple[dict[str, list[dict[str, str]]], dict[str, HomeStations | None]]:
    """Each package's stations table as stored (read once) and its home stations."""
    packages = validation.packages
    stations = {name: station_rows(validation, package) for name, package in packages.items()}
    homes = {name: homes_in(package, stations[name]) for name, package in packages.items()}
    return stations, homes


def shown_statistics(validation: Validation, only: set[str] | None = None) -> Derived:
    """The derived tables as the portal shows them (home stations protected); only: of these
    packages (and what they read)."""
    _, homes = stations_and_homes(validation)
    return protected_stats(derive_all(validation, only), validation.packages, homes)


def published_stations(
    rows: list[dict[str, str]], homes: HomeStations | None
) -> list[dict[str, str]]:
    return [protect_station(row, homes) for row in rows] if homes else rows


def protected_stats(
    derived: Derived, packages: dict[str, Package], homes: dict[str, HomeStations | None]
) -> Derived:
    """The derived tables with home stations under their pseudonyms."""
    return {
        name: protect_derived(tables, homes[name], packages[name]) if name in packages else tables
        for name, tables in derived.items()
    }
