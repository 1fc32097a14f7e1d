"""Checks on a descriptor before anything else reads it: no remote references, sane shapes.

frictionless checks the Data Package specification; these checks cover what it would
fetch (remote profiles, schemas and dialects) and civicgen's own `civicgen` property.
"""

from __future__ import annotations

from typing import Any

from .errors import (
    CivicError,
    CompressionError,
    DescriptorError,
    ProfileError,
    RemoteReferenceError,
)
from .registry import Profile, known_names, profile_named, registered, shipped_but_unregistered

NAMED_PROFILES = frozenset(
    {"data-package", "tabular-data-package", "fiscal-data-package", "data-resource",
     "tabular-data-resource"}
)  # fmt: skip
OFFICIAL_PROFILE_PREFIXES = (
    "https://datapackage.org/profiles/",
    "https://specs.frictionlessdata.io/schemas/",
)
COMPRESSED = (".gz", ".zip", ".bz2", ".xz", ".zst", ".lz4", ".7z")
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
        found = [inline_error(resource, key, path, name) for key in INLINE_ONLY]
        found.append(compression_error(resource, path, name))
        errors.extend(e for e in found if e is not None)
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


def compression_error(resource: dict[str, Any], path: str, name: str) -> CivicError | None:
    location = resource.get("path")
    compressed = isinstance(location, str) and location.lower().endswith(COMPRESSED)
    if not compressed and resource.get("compression") in (None, "", "no"):
        return None
    note = (
        f'resource "{name}" is compressed; civicgen reads data files uncompressed, so that '
        "their size is known before reading: commit the CSV itself (git compresses it already)"
    )
    return CompressionError(note=note, path=path, resource=name)


# --- the civicgen property -----------------------------------------------------------------

RECORD_TEXTS = ("pattern", "key", "body")


def civicgen_errors(descriptor: dict[str, Any], path: str) -> list[CivicError]:
    """The `civicgen` properties must have the shapes civicgen reads (objects and strings)."""
    options = descriptor.get("civicgen", {})
    if not isinstance(options, dict):
        return [shape_error(path, "civicgen", "an object")]
    errors = [
        shape_error(path, f"civicgen.{key}", "an object")
        for key in (p.name for p in registered().values() if p.option_shape)
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


# --- profile options: the shapes the statistics read ----------------------------------------

TEXT, WHOLE, NUMBER = str, int, (int, float)
FDP_MAPPING = {
    "measures": {TEXT: {"source": TEXT, "currency": TEXT, "phase": TEXT, "direction": TEXT}},
    "dimensions": {TEXT: {"attributes": {TEXT: {"source": TEXT, "labelfor": TEXT}}}},
}


def shape_problem(value: Any, shape: Any, key: str) -> str | None:
    """Where value departs from shape (a type, [item shape], {TEXT: value shape} or {key: shape})."""
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f'"{key}" must be a list'
        return next((p for v in value if (p := shape_problem(v, shape[0], key + "[]"))), None)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f'"{key}" must be an object'
        if TEXT in shape:
            return next(
                (p for k, v in value.items() if (p := shape_problem(v, shape[TEXT], f"{key}.{k}"))),
                None,
            )
        return next(
            (
                p
                for k, s in shape.items()
                if k in value and (p := shape_problem(value[k], s, f"{key}.{k}"))
            ),
            None,
        )
    if isinstance(value, bool) or not isinstance(value, shape):
        kind = "a text" if shape is TEXT else "a whole number" if shape is WHOLE else "a number"
        return f'"{key}" must be {kind}'
    return None


def profile_option_errors(descriptor: dict[str, Any], path: str) -> list[CivicError]:
    """The profile is one civicgen knows; its options and an FDP mapping have the shapes
    the statistics read, and name fields the tables have."""
    options = descriptor.get("civicgen") or {}
    if not isinstance(options, dict):
        return []
    problems = [unknown_profile(options.get("profile"))]
    fields = {
        str(f.get("name"))
        for r in descriptor.get("resources") or []
        if isinstance(r, dict) and isinstance(r.get("schema"), dict)
        for f in r["schema"].get("fields") or []
        if isinstance(f, dict)
    }
    for profile in registered().values():
        if isinstance(options.get(profile.name), dict):
            problems.extend(option_problems(profile, options[profile.name], fields))
    if "mapping" in descriptor:
        problems.append(shape_problem(descriptor["mapping"], FDP_MAPPING, "mapping"))
    declared = profile_named(str(options.get("profile") or "generic"))
    if declared is not None and not any(problems):  # the shapes are right: can it be read?
        problems.extend(declared.package_check(descriptor))
    return [ProfileError(note=f"{p}; fix it in datapackage.json", path=path) for p in problems if p]


def unknown_profile(name: Any) -> str | None:
    if not isinstance(name, str) or profile_named(name) is not None:
        return None
    if shipped_but_unregistered(name):
        return (
            f'"civicgen.profile" is "{name}", a profile of this civicgen that its installation '
            "does not list yet; reinstall civicgen (pip install -e .)"
        )
    import difflib

    close = difflib.get_close_matches(name, list(registered()), n=1)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    return f'"civicgen.profile" is "{name}", which no installed profile is; {hint}known: {known_names()}'


def option_problems(profile: Profile, options: dict[str, Any], fields: set[str]) -> list[str]:
    """civicgen.<profile>: its shape, the keys it needs, then the profile's own check."""
    key = f"civicgen.{profile.name}"
    shape = shape_problem(options, profile.option_shape, key)
    if shape:
        return [shape]
    missing = [f'"{key}" needs "{name}"' for name in profile.required if name not in options]
    return missing or list(profile.check(options, fields))
