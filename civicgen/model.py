"""The portal as plain data: packages, resources, records. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .registry import profile_or_generic


@dataclass(frozen=True)
class RecordSpec:
    """How a one-file-per-record collection maps files to rows."""

    pattern: str  # glob relative to the package folder, e.g. "records/*.md"
    key: str = "id"  # field filled from the file name
    body: str | None = None  # field filled from the Markdown body


@dataclass(frozen=True)
class Record:
    """One record file, read: values by field and the 0-based line of each key."""

    path: str
    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Resource:
    """A table of a package: a CSV file or a collection of record files."""

    name: str
    path: str  # repo-relative POSIX path of the CSV (a collection, or files: where published)
    descriptor: dict[str, Any]
    records: RecordSpec | None = None
    parts: tuple[str, ...] = ()  # a table in several files (path is a list): the files

    @property
    def files(self) -> tuple[str, ...]:
        """The CSV files the table is read from."""
        return self.parts or (self.path,)

    @property
    def schema(self) -> dict[str, Any]:
        return self.descriptor.get("schema") or {}

    @property
    def fields(self) -> list[dict[str, Any]]:
        return list(self.schema.get("fields") or [])

    @property
    def title(self) -> str:
        return str(self.descriptor.get("title") or self.name)


@dataclass(frozen=True)
class Package:
    """A data package folder: its descriptor and resources."""

    name: str
    folder: str  # repo-relative POSIX folder
    descriptor: dict[str, Any]
    resources: tuple[Resource, ...]

    @property
    def descriptor_path(self) -> str:
        return f"{self.folder}/datapackage.json" if self.folder else "datapackage.json"

    @property
    def profile(self) -> str:
        """The profile's name as declared (civicgen.registry knows what it means)."""
        profile = (self.descriptor.get("civicgen") or {}).get("profile")
        return profile if isinstance(profile, str) and profile else "generic"

    @cached_property
    def options(self) -> Any:
        """The profile's options, read from the descriptor once."""
        return profile_or_generic(self.profile).read_options(self.descriptor)

    @property
    def title(self) -> str:
        return str(self.descriptor.get("title") or self.name)

    def resource(self, name: str) -> Resource | None:
        return next((r for r in self.resources if r.name == name), None)


@dataclass(frozen=True)
class Portal:
    """Every package found in a repository (at the work tree or one revision)."""

    root: str
    packages: tuple[Package, ...]

    def package(self, name: str) -> Package | None:
        return next((p for p in self.packages if p.name == name), None)
