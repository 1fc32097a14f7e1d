"""Read data package descriptors and one-file-per-record collections into model objects."""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

import yaml

from .errors import (
    ERRORS,
    CivicError,
    DescriptorError,
    FileError,
    FormatError,
    RecordMissingKeyError,
    SchemeError,
    UnsafePathError,
)
from .exceptions import UnsafePath
from .model import Package, Portal, Record, RecordSpec, Resource
from .repo import Source, clean_path

RECORD_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)


def descriptor_paths(source: Source, datasets_dir: str, tools_dir: str) -> list[str]:
    """Every datapackage.json of the portal: one per dataset folder, plus the tool catalog."""
    found = source.glob(f"{datasets_dir}/*/datapackage.json")
    if source.exists(f"{tools_dir}/datapackage.json"):
        found.append(f"{tools_dir}/datapackage.json")
    return found


def load_portal(
    source: Source,
    paths: list[str] | None = None,
    datasets_dir: str = "datasets",
    tools_dir: str = "tools-catalog",
) -> tuple[Portal, list[CivicError]]:
    """Load the given descriptors (default: all of the portal) and say what is wrong with them."""
    packages, errors = [], []
    for path in paths if paths is not None else descriptor_paths(source, datasets_dir, tools_dir):
        package, problems = load_package(source, path)
        errors.extend(problems)
        if package is not None:
            packages.append(package)
    return Portal(str(source.root), tuple(packages)), errors


def read_descriptor(source: Source, path: str) -> tuple[dict[str, Any] | None, list[CivicError]]:
    try:
        descriptor = json.loads(source.read(path).decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [FileError(note=f"cannot read the descriptor ({exc})", path=path)]
    except json.JSONDecodeError as exc:
        note = f"this is not valid JSON ({exc.msg}); check commas, quotes and brackets"
        return None, [FormatError(note=note, path=path, line=exc.lineno - 1, column=exc.colno - 1)]
    if not isinstance(descriptor, dict):
        return None, [DescriptorError(note="the descriptor must be a JSON object", path=path)]
    return descriptor, frictionless_errors(descriptor, path)


def frictionless_errors(descriptor: dict[str, Any], path: str) -> list[CivicError]:
    """Descriptor errors found by frictionless itself (no data is read, nothing is fetched)."""
    from frictionless import Package as FrictionlessPackage

    local = {k: v for k, v in descriptor.items() if k not in ("profile", "$schema")}
    report = FrictionlessPackage.validate_descriptor(local)
    return [
        ERRORS.get(code, DescriptorError)(note=f"{note}; fix datapackage.json", path=path)
        for code, note in report.flatten(["type", "note"])
    ]


def load_package(source: Source, path: str) -> tuple[Package | None, list[CivicError]]:
    """One package, with its resources resolved safely inside the repository."""
    descriptor, errors = read_descriptor(source, path)
    if descriptor is None or errors:
        return None, errors  # data is only checked against a descriptor that is itself valid
    folder = posixpath.dirname(path)
    resources = []
    for number, raw in enumerate(descriptor.get("resources") or [], start=1):
        resource, problems = load_resource(folder, raw, number, path)
        errors.extend(problems)
        if resource is not None:
            resources.append(resource)
    name = str(descriptor.get("name") or posixpath.basename(folder) or "package")
    return Package(name, folder, descriptor, tuple(resources)), errors


def load_resource(
    folder: str, raw: Any, number: int, descriptor_path: str
) -> tuple[Resource | None, list[CivicError]]:
    if not isinstance(raw, dict):
        return None, []  # frictionless already reported the malformed resource
    name = str(raw.get("name") or f"resource-{number}")
    spec = (raw.get("civicgen") or {}).get("records")
    records = (
        RecordSpec(spec["pattern"], spec.get("key", "id"), spec.get("body"))
        if isinstance(spec, dict) and "pattern" in spec
        else None
    )
    location = raw.get("path") or f"{name}.csv"
    if isinstance(location, list) or not isinstance(location, str):
        note = "multi-part or non-text paths are not supported; give one CSV file as path"
        return None, [DescriptorError(note=note, path=descriptor_path, resource=name)]
    if "://" in location:
        note = (
            f'resource "{name}" points to {location}; civicgen never downloads data while '
            "validating or building: add the file to the repository and give its path"
        )
        return None, [SchemeError(note=note, path=descriptor_path, resource=name)]
    try:
        path = clean_path(posixpath.join(folder, location))
    except UnsafePath as error:
        note = f'resource "{name}": {error}; keep data files inside the package folder'
        return None, [UnsafePathError(note=note, path=descriptor_path, resource=name)]
    return Resource(name, path, raw, records), []


# --- record collections ----------------------------------------------------------------


def load_records(
    source: Source, package: Package, resource: Resource
) -> tuple[list[Record], list[CivicError]]:
    """Every record file of a collection, parsed, with the line of each key."""
    assert resource.records is not None
    pattern = posixpath.join(package.folder, resource.records.pattern)
    records: list[Record] = []
    errors: list[CivicError] = []
    for path in source.glob(pattern):
        record, problems = read_record(source, path, resource.records)
        errors.extend(problems)
        if record is not None:
            records.append(record)
    return records, errors


def read_record(
    source: Source, path: str, spec: RecordSpec
) -> tuple[Record | None, list[CivicError]]:
    """One record: YAML, or Markdown with YAML front matter whose body fills spec.body."""
    try:
        text = source.read(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [FormatError(note="the file is not UTF-8 text; save it as UTF-8", path=path)]
    body, offset = None, 0
    if path.endswith(".md"):
        match = FRONT_MATTER.match(text)
        if not match:
            note = 'the file must start with a "---" line, the fields, and another "---" line'
            return None, [FormatError(note=note, path=path, line=0)]
        body, text, offset = text[match.end() :].strip(), match.group(1) or "", 1
    values, lines, errors = parse_yaml(text, path, offset)
    if values is None:
        return None, errors
    if spec.body:
        values[spec.body] = body
    key = posixpath.splitext(posixpath.basename(path))[0]
    if not RECORD_ID.match(key):
        note = (
            f'the file name "{key}" cannot be used as {spec.key}; use lowercase letters, '
            "digits and hyphens only, like bike-lane-centro"
        )
        errors.append(RecordMissingKeyError(note=note, path=path, field_name=spec.key))
    values[spec.key] = key
    return Record(path, values, lines), errors


def parse_yaml(
    text: str, path: str, offset: int
) -> tuple[dict[str, Any] | None, dict[str, int], list[CivicError]]:
    """A YAML mapping and the 0-based line of each top-level key."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + offset if mark else None
        note = (
            f"this is not valid YAML ({getattr(exc, 'problem', exc)}); check indentation and colons"
        )
        return (
            None,
            {},
            [FormatError(note=note, path=path, line=line, column=mark.column if mark else None)],
        )
    if values is None:
        values, node = {}, None
    if not isinstance(values, dict):
        note = "the file must hold fields as 'name: value' lines"
        return None, {}, [FormatError(note=note, path=path, line=offset)]
    lines = {str(k.value): k.start_mark.line + offset for k, _ in node.value} if node else {}
    return {str(k): v for k, v in values.items()}, lines, []
