"""Checks on a descriptor before anything else reads it: no remote references, sane shapes.

frictionless checks the Data Package specification; these checks cover what it would
fetch (remote profiles, schemas and dialects) and civicgen's own `civicgen` property.
"""

from __future__ import annotations

from typing import Any

from .errors import CivicError, DescriptorError, RemoteReferenceError

NAMED_PROFILES = frozenset(
    {"data-package", "tabular-data-package", "fiscal-data-package", "data-resource",
     "tabular-data-resource"}
)  # fmt: skip
OFFICIAL_PROFILE_PREFIXES = (
    "https://datapackage.org/profiles/",
    "https://specs.frictionlessdata.io/schemas/",
)
REFERENCES = ("profile", "$schema")  # a name or a well-known URL, never fetched
INLINE_ONLY = ("schema", "dialect")  # must be objects written in the descriptor


def without_profiles(descriptor: dict[str, Any]) -> dict[str, Any]:
    """The descriptor as frictionless may see it: no profile it could go and fetch."""
    local = {k: v for k, v in descriptor.items() if k not in REFERENCES}
    resources = local.get("resources")
    if isinstance(resources, list):
        local["resources"] = [
            {k: v for k, v in r.items() if k not in REFERENCES} if isinstance(r, dict) else r
            for r in resources
        ]
    return local


def reference_errors(descriptor: dict[str, Any], path: str) -> list[CivicError]:
    """A profile or $schema that is not a known name, or a schema or dialect given by reference."""
    errors = [e for key in REFERENCES if (e := profile_error(descriptor.get(key), key, path))]
    resources = descriptor.get("resources")
    for number, resource in enumerate(resources if isinstance(resources, list) else [], start=1):
        if not isinstance(resource, dict):
            continue
        name = str(resource.get("name") or f"resource {number}")
        errors.extend(
            e for key in REFERENCES if (e := profile_error(resource.get(key), key, path, name))
        )
        errors.extend(inline_error(resource, key, path, name) for key in INLINE_ONLY)
        schema = resource.get("schema")
        if isinstance(schema, dict):
            errors.extend(
                e for key in REFERENCES if (e := profile_error(schema.get(key), key, path, name))
            )
    return [e for e in errors if e is not None]


def profile_error(value: Any, key: str, path: str, resource: str = "") -> CivicError | None:
    if value is None or value in NAMED_PROFILES:
        return None
    if isinstance(value, str) and value.startswith(OFFICIAL_PROFILE_PREFIXES):
        return None
    note = (
        f'"{key}" must be one of the standard profiles ({", ".join(sorted(NAMED_PROFILES))}) '
        "or left out; civicgen never fetches a profile from another address or file"
    )
    return RemoteReferenceError(note=note, path=path, resource=resource, field_name=key)


def inline_error(resource: dict[str, Any], key: str, path: str, name: str) -> CivicError | None:
    if key not in resource or isinstance(resource[key], dict):
        return None
    note = (
        f'resource "{name}": "{key}" must be written out in datapackage.json as an object; '
        "civicgen never reads it from another address or file"
    )
    return RemoteReferenceError(note=note, path=path, resource=name, field_name=key)


# --- the civicgen property -----------------------------------------------------------------

PACKAGE_OBJECTS = ("budget", "sensor")
RECORD_TEXTS = ("pattern", "key", "body")


def civicgen_errors(descriptor: dict[str, Any], path: str) -> list[CivicError]:
    """The `civicgen` properties must have the shapes civicgen reads (objects and strings)."""
    options = descriptor.get("civicgen", {})
    if not isinstance(options, dict):
        return [shape_error(path, "civicgen", "an object")]
    errors = [
        shape_error(path, f"civicgen.{key}", "an object")
        for key in PACKAGE_OBJECTS
        if key in options and not isinstance(options[key], dict)
    ]
    if not isinstance(options.get("profile", ""), str):
        errors.append(shape_error(path, "civicgen.profile", "a text"))
    resources = descriptor.get("resources")
    for resource in resources if isinstance(resources, list) else []:
        if isinstance(resource, dict):
            errors.extend(resource_civicgen_errors(resource, path))
    return errors


def resource_civicgen_errors(resource: dict[str, Any], path: str) -> list[CivicError]:
    name = str(resource.get("name") or "")
    options = resource.get("civicgen", {})
    if not isinstance(options, dict):
        return [shape_error(path, "civicgen", "an object", name)]
    records = options.get("records")
    if records is None:
        return []
    if not isinstance(records, dict) or not isinstance(records.get("pattern"), str):
        return [shape_error(path, "civicgen.records", 'an object with a "pattern" text', name)]
    return [
        shape_error(path, f"civicgen.records.{key}", "a text", name)
        for key in RECORD_TEXTS
        if records.get(key) is not None and not isinstance(records[key], str)
    ]


def shape_error(path: str, key: str, expected: str, resource: str = "") -> CivicError:
    note = f'"{key}" must be {expected}; fix it in datapackage.json'
    return DescriptorError(note=note, path=path, resource=resource, field_name=key)
