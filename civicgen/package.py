"""Read data package descriptors and one-file-per-record collections into model objects."""

from __future__ import annotations

import mmap
import posixpath
import re
from collections.abc import Callable
from typing import Any

from .descriptor import (
    civicgen_errors,
    profile_option_errors,
    reference_errors,
)
from .errors import (
    ERRORS,
    CivicError,
    DescriptorError,
    FileError,
    FormatError,
    RecordMissingKeyError,
    SchemeError,
    TooLargeError,
    UnsafePathError,
)
from .exceptions import FileTooLarge, UnsafePath
from .limits import Limits, size_note
from .model import Package, Portal, Record, RecordSpec, Resource
from .parse import ParseProblem, load_json, load_yaml
from .parts import MAX_PARTS, published_location
from .repo import Source, clean_path
from .verdicts import Verdicts

RECORD_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DEFAULT_LIMITS = Limits()
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
    limits: Limits = DEFAULT_LIMITS,
    verdicts: Verdicts | None = None,
) -> tuple[Portal, list[CivicError]]:
    """Load the given descriptors (default: all of the portal) and say what is wrong with them
    (frictionless's verdicts: see verdicts.py)."""
    packages, errors = [], []
    for path in paths if paths is not None else descriptor_paths(source, datasets_dir, tools_dir):
        package, problems = load_package(source, path, limits, verdicts)
        errors.extend(problems)
        if package is not None:
            packages.append(package)
    return Portal(str(source.root), tuple(packages)), errors


def read_file(
    source: Source, path: str, limit: int, option: str, **position: Any
) -> tuple[bytes | None, list[CivicError]]:
    """A file's bytes, or the error that says why it may not be read."""
    return read_or_map(source.read, path, limit, option, **position)


def map_file(
    source: Source, path: str, limit: int, option: str, **position: Any
) -> tuple[bytes | mmap.mmap | None, list[CivicError]]:
    """read_file, with a large file of the work tree mapped (Source.map): close it after."""
    return read_or_map(source.map, path, limit, option, **position)


def read_or_map(
    reader: Callable[[str, int], Any], path: str, limit: int, option: str, **position: Any
) -> tuple[Any, list[CivicError]]:
    try:
        return reader(path, limit), []
    except UnsafePath as exc:
        return None, [path_error(exc, path, **position)]
    except FileTooLarge as exc:
        note = size_note("file", exc.size, exc.limit, f"limits.{option}")
        return None, [TooLargeError(note=note, path=path, **position)]
    except FileNotFoundError:
        note = "this file is not in the repository; add it, or fix the path that names it"
        return None, [FileError(note=note, path=path, **position)]
    except OSError as exc:
        note = f"cannot read the file ({exc.strerror or exc})"
        return None, [FileError(note=note, path=path, **position)]


def path_error(exc: UnsafePath, path: str, **position: Any) -> CivicError:
    """The report entry for a refused path: its own code, the reason, never the content."""
    return ERRORS.get(exc.code, UnsafePathError)(note=str(exc), path=path, **position)


def problem_error(problem: ParseProblem, path: str, offset: int = 0) -> CivicError:
    """A parse problem as a report entry at its line and column."""
    line = None if problem.line is None else problem.line + offset
    error = ERRORS.get(problem.code, FormatError)
    return error(note=problem.note, path=path, line=line, column=problem.column)


def read_descriptor(
    source: Source, path: str, limits: Limits = DEFAULT_LIMITS, verdicts: Verdicts | None = None
) -> tuple[dict[str, Any] | None, list[CivicError]]:
    data, errors = read_file(source, path, limits.descriptor_bytes, "descriptor_bytes")
    if data is None:
        return None, errors
    try:
        descriptor = load_json(data.decode("utf-8"), limits)
    except UnicodeDecodeError:
        return None, [FormatError(note="the file is not UTF-8 text; save it as UTF-8", path=path)]
    except ParseProblem as problem:
        return None, [problem_error(problem, path)]
    if not isinstance(descriptor, dict):
        return None, [DescriptorError(note="the descriptor must be a JSON object", path=path)]
    problems = (
        reference_errors(descriptor, path)
        + civicgen_errors(descriptor, path)
        + resource_path_errors(descriptor, path)
    )
    if not problems:
        problems = (verdicts or Verdicts(None)).of(descriptor, path)
    return descriptor, problems or profile_option_errors(descriptor, path)


def resource_path_errors(descriptor: dict[str, Any], path: str) -> list[CivicError]:
    """Paths that would leave the package's repository, each with its own code (before frictionless)."""
    folder, errors = posixpath.dirname(path), []
    resources = descriptor.get("resources")
    for resource in resources if isinstance(resources, list) else []:
        options = resource.get("civicgen") if isinstance(resource, dict) else None
        records = options.get("records") if isinstance(options, dict) else None
        for location in (
            resource.get("path") if isinstance(resource, dict) else None,
            records.get("pattern") if isinstance(records, dict) else None,
        ):
            if isinstance(location, str) and "://" not in location:
                try:
                    clean_path(posixpath.join(folder, location))
                except UnsafePath as exc:
                    errors.append(path_error(exc, path, resource=str(resource.get("name") or "")))
    return errors


def load_package(
    source: Source, path: str, limits: Limits = DEFAULT_LIMITS, verdicts: Verdicts | None = None
) -> tuple[Package | None, list[CivicError]]:
    """One package, with its resources resolved safely inside the repository."""
    descriptor, errors = read_descriptor(source, path, limits, verdicts)
    if descriptor is None or errors:
        return None, errors  # data is only checked against a descriptor that is itself valid
    folder = posixpath.dirname(path)
    resources = []
    for number, raw in enumerate(descriptor.get("resources") or [], start=1):
        resource, problems = load_resource(folder, raw, number, path)
        errors.extend(problems)
        if resource is not None:
            resources.append(resource)
    errors.extend(published_clashes(resources, path))
    name = str(descriptor.get("name") or posixpath.basename(folder) or "package")
    return Package(name, folder, descriptor, tuple(resources)), errors


def published_clashes(resources: list[Resource], descriptor_path: str) -> list[CivicError]:
    """A table in several files is published joined as <name>.csv: no other resource of the
    package may be published at that path (two resources may share one plain file)."""
    first: dict[str, Resource] = {}
    errors: list[CivicError] = []
    for resource in resources:
        other = first.setdefault(resource.path, resource)
        if other is resource or not (other.parts or resource.parts):
            continue
        joined, plain = (resource, other) if resource.parts else (other, resource)
        note = (
            f'resource "{joined.name}" is published joined as {joined.path}, the path of '
            f'resource "{plain.name}" too; rename one of the two resources'
        )
        errors.append(DescriptorError(note=note, path=descriptor_path, resource=resource.name))
    return errors


def load_resource(
    folder: str, raw: Any, number: int, descriptor_path: str
) -> tuple[Resource | None, list[CivicError]]:
    if not isinstance(raw, dict):
        return None, []  # frictionless already reported the malformed resource
    name = str(raw.get("name") or f"resource-{number}")
    spec = (raw.get("civicgen") or {}).get("records")  # its shape was checked: civicgen_errors
    records = (
        RecordSpec(spec["pattern"], spec.get("key") or "id", spec.get("body"))
        if isinstance(spec, dict) and "pattern" in spec
        else None
    )
    location = raw.get("path") or f"{name}.csv"
    if isinstance(location, list) and location and all(isinstance(p, str) for p in location):
        if records is not None:
            note = f'resource "{name}" is a collection of records: give it no list of files'
            return None, [DescriptorError(note=note, path=descriptor_path, resource=name)]
        return files_resource(folder, raw, name, location, descriptor_path)
    if not isinstance(location, str):
        note = (
            "path must be a file name, or a list of file names (one table in several CSV "
            'files, like ["data/2024-01.csv", "data/2024-02.csv"])'
        )
        return None, [DescriptorError(note=note, path=descriptor_path, resource=name)]
    path, errors = resource_path(folder, location, name, descriptor_path)
    return (Resource(name, path, raw, records), []) if path is not None else (None, errors)


def resource_path(
    folder: str, location: str, name: str, descriptor_path: str
) -> tuple[str | None, list[CivicError]]:
    """A data file's path in the repository, or why it may not be read."""
    if "://" in location:
        note = (
            f'resource "{name}" points to {location}; civicgen never downloads data while '
            "validating or building: add the file to the repository and give its path"
        )
        return None, [SchemeError(note=note, path=descriptor_path, resource=name)]
    try:
        return clean_path(posixpath.join(folder, location)), []
    except UnsafePath as error:
        return None, [path_error(error, descriptor_path, resource=name)]


def files_resource(
    folder: str, raw: dict[str, Any], name: str, locations: list[str], descriptor_path: str
) -> tuple[Resource | None, list[CivicError]]:
    """A table in several CSV files (path is a list), published joined as <name>.csv."""
    if len(locations) > MAX_PARTS:
        note = (
            f'resource "{name}" lists {len(locations):,} files, more than the {MAX_PARTS:,} '
            "civicgen joins into one table; join some of them, or split the resource"
        )
        return None, [TooLargeError(note=note, path=descriptor_path, resource=name)]
    paths, errors = [], []
    for location in locations:
        path, problems = resource_path(folder, location, name, descriptor_path)
        errors.extend(problems)
        if path is not None and path in paths:
            note = f'resource "{name}" lists {location} twice; list each file once'
            errors.append(DescriptorError(note=note, path=descriptor_path, resource=name))
        elif path is not None:
            paths.append(path)
    if errors:
        return None, errors
    published = published_location(folder, name)
    return Resource(name, published, raw, None, tuple(paths)), []


# --- record collections ----------------------------------------------------------------


def load_records(
    source: Source, package: Package, resource: Resource, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Record], list[CivicError]]:
    """Every record file of a collection, parsed, with the line of each key."""
    assert resource.records is not None
    pattern = posixpath.join(package.folder, resource.records.pattern)
    paths = source.glob(pattern)
    if len(paths) > limits.records:
        note = (
            f"this collection has {len(paths)} record files, more than the {limits.records} "
            "civicgen reads; split it into several collections, or raise `limits.records`"
        )
        return [], [TooLargeError(note=note, path=package.descriptor_path, resource=resource.name)]
    records: list[Record] = []
    errors: list[CivicError] = []
    for path in paths:
        record, problems = read_record(source, path, resource.records, limits)
        errors.extend(problems)
        if record is not None:
            records.append(record)
    return records, errors


def read_record(
    source: Source, path: str, spec: RecordSpec, limits: Limits = DEFAULT_LIMITS
) -> tuple[Record | None, list[CivicError]]:
    """One record: YAML, or Markdown with YAML front matter whose body fills spec.body."""
    data, errors = read_file(source, path, limits.record_bytes, "record_bytes")
    if data is None:
        return None, errors
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [FormatError(note="the file is not UTF-8 text; save it as UTF-8", path=path)]
    body, offset = None, 0
    if path.endswith(".md"):
        match = FRONT_MATTER.match(text)
        if not match:
            note = 'the file must start with a "---" line, the fields, and another "---" line'
            return None, [FormatError(note=note, path=path, line=0)]
        body, text, offset = text[match.end() :].strip(), match.group(1) or "", 1
    try:
        values, lines = load_yaml(text, limits)
    except ParseProblem as problem:
        return None, [problem_error(problem, path, offset)]
    if values is None:
        values = {}
    if not isinstance(values, dict):
        note = "the file must hold fields as 'name: value' lines"
        return None, [FormatError(note=note, path=path, line=offset)]
    values = {str(k): v for k, v in values.items()}
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
    return Record(path, values, {k: v + offset for k, v in lines.items()}), errors
