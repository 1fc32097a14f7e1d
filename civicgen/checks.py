"""Civic checks beyond Table Schema: record keys, licences, Fiscal Data Package column types."""

from __future__ import annotations

import difflib
import functools
import json
from importlib import resources

from .errors import CivicError, ExtraCellError, ProfileError, UnknownLicenceError
from .model import Package, Record, Resource

LICENCE_FIELD = {"catalog": "licence"}


def unknown_keys(record: Record, names: list[str], resource: Resource) -> list[CivicError]:
    errors: list[CivicError] = []
    for key in record.values:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f'did you mean "{close[0]}"?' if close else f"allowed: {', '.join(names)}"
            note = f'"{key}" is not a field of {resource.title}; remove it or fix its name ({hint})'
            errors.append(
                ExtraCellError(
                    note=note, path=record.path, field_name=key, line=record.lines.get(key)
                )
            )
    return errors


def column_type_errors(package: Package) -> list[CivicError]:
    """Fiscal Data Package 1.0: every columnType must be one of the official os-types."""
    known = os_types()
    errors: list[CivicError] = []
    for resource in package.resources:
        for described in resource.fields:
            column_type = described.get("columnType")
            if column_type is not None and column_type not in known:
                close = difflib.get_close_matches(str(column_type), known, n=1)
                hint = (
                    f'did you mean "{close[0]}"?'
                    if close
                    else "see the Fiscal Data Package type list"
                )
                note = f'columnType "{column_type}" is not a Fiscal Data Package type ({hint})'
                errors.append(
                    ProfileError(
                        note=note,
                        path=package.descriptor_path,
                        resource=resource.name,
                        field_name=str(described.get("name")),
                    )
                )
    return errors


@functools.cache
def os_types() -> list[str]:
    """The official columnType names (openspending/os-types, MIT)."""
    return json.loads(resources.files("civicgen").joinpath("data/os-types.json").read_text())


def record_errors(record: Record, package: Package) -> list[CivicError]:
    """A record's problems beyond its schema: its licence, then its profile's own checks."""
    from .registry import profile_or_generic

    profile = profile_or_generic(package.profile)
    return [*licence_errors(record, package), *profile.record_check(package.options, record)]


def licence_errors(record: Record, package: Package) -> list[CivicError]:
    """Catalog entries must name their licence as an SPDX identifier or expression."""
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    name = LICENCE_FIELD.get(package.profile)
    value = record.values.get(name) if name else None
    if not isinstance(value, str) or not value:
        return []
    try:
        canonicalize_license_expression(value)
    except InvalidLicenseExpression:
        note = (
            f'"{value}" is not an SPDX licence identifier; use the id from '
            "spdx.org/licenses, like AGPL-3.0-only, MIT or Apache-2.0"
        )
        return [
            UnknownLicenceError(
                note=note,
                path=record.path,
                field_name=str(name),
                line=record.lines.get(str(name)),
                cell=value,
            )
        ]
    return []
