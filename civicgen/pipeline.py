"""The stages joined: where a PATH leads, load, validate. The CLI and the plugin both call this."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import LEGACY_FOLDER, ScanCache, cache_folder
from .config import Settings
from .errors import CivicError, UntrustedCacheError
from .exceptions import CivicgenException
from .model import Portal
from .package import descriptor_paths, load_portal
from .repo import Source, open_source
from .scan.cluster import scanning_on
from .validation import Validation, validate_portal
from .verdicts import Verdicts


@dataclass
class Loaded:
    source: Source
    portal: Portal
    errors: list[CivicError]
    cache: ScanCache | None = None


def selected_descriptors(source: Source, paths: list[str]) -> list[str] | None:
    """Repo-relative datapackage.json paths for the PATHs given; None means the whole portal."""
    chosen: list[str] = []
    for given in paths:
        full = Path(given).resolve()
        if full == source.root:
            return ["datapackage.json"] if source.exists("datapackage.json") else None
        relative = full.relative_to(source.root).as_posix()
        descriptor = relative if relative.endswith(".json") else f"{relative}/datapackage.json"
        if not source.exists(descriptor):
            raise CivicgenException(
                f"{given}: no such data package in the {source.describe()} (expected a folder "
                "with datapackage.json, a datapackage.json, or the repository)"
            )
        chosen.append(descriptor)
    return chosen


def with_references(source: Source, chosen: list[str], settings: Settings) -> list[str]:
    """Add the packages that the chosen ones refer to through foreign keys."""
    everything = descriptor_paths(source, settings.datasets_dir, settings.tools_dir)
    by_name = {posixpath.basename(posixpath.dirname(p)): p for p in everything}
    result = list(chosen)
    for path in chosen:
        try:
            descriptor = json.loads(source.read(path))
        except (ValueError, OSError):
            continue
        for resource in descriptor.get("resources") or []:
            for fk in ((resource or {}).get("schema") or {}).get("foreignKeys") or []:
                target = by_name.get(str((fk.get("reference") or {}).get("package")))
                if target and target not in result:
                    result.append(target)
    return result


def load(
    paths: list[str] | None = None,
    rev: str | None = None,
    settings: Settings | None = None,
    start: str = ".",
    verdicts: Verdicts | None = None,
) -> Loaded:
    """Open the repository around the first PATH and load the packages it names (verdicts:
    frictionless's on the descriptors, which take the load's cache)."""
    settings = settings or Settings()
    paths = paths or [start]
    source = open_source(paths[0], rev)
    for given in paths:
        full = Path(given).resolve()
        if full != source.root and source.root not in full.parents:
            raise CivicgenException(
                f"{given} is not inside {source.root}; validate one repository at a time"
            )
    chosen = selected_descriptors(source, paths)
    if chosen is not None:
        chosen = with_references(source, chosen, settings)
    cache, warnings = open_cache(source, settings.cache_dir)
    verdicts = verdicts or Verdicts(None)
    verdicts.cache = cache
    portal, errors = load_portal(
        source, chosen, settings.datasets_dir, settings.tools_dir, settings.limits, verdicts
    )
    verdicts.all_asked()
    if chosen is None and not portal.packages and not errors:
        raise CivicgenException(nothing_found(source, settings))
    return Loaded(source, portal, warnings + errors, cache)


def nothing_found(source: Source, settings: Settings) -> str:
    """Where civicgen looked for data packages, and which options say where they are."""
    return (
        f"no data package in {source.root} ({source.describe()}): civicgen looked for "
        f"{settings.datasets_dir}/*/datapackage.json and {settings.tools_dir}/datapackage.json. "
        f"Run civicgen in the portal's folder, or set datasets_dir and tools_dir under the "
        f"civicgen plugin in {configured_in(settings)}"
    )


def configured_in(settings: Settings) -> str:
    """Which file the settings came from, for messages."""
    return settings.config_file or "mkdocs.yml (none was found, so the defaults apply)"


def validate(
    paths: list[str] | None = None,
    settings: Settings | None = None,
    rev: str | None = None,
    text_checks: bool = True,
) -> Validation:
    """Load and validate: the whole portal, or the packages named by paths (at a revision;
    text_checks off: no check of the cells' text, for a diff's base). frictionless checks
    the descriptors in a process beside this one meanwhile (verdicts.py)."""
    settings = settings or Settings()
    with Verdicts(None, beside=True) as verdicts:
        try:
            validation = validated(paths, settings, rev, text_checks, verdicts)
        except Exception:
            if verdicts.settle():  # no descriptor refused: the error stands
                raise
        else:
            if verdicts.settle():
                return validation
    # frictionless refused a descriptor whose data was read meanwhile: again, knowing it
    return validated(paths, settings, rev, text_checks, Verdicts(None, known=verdicts.known))


def validated(
    paths: list[str] | None,
    settings: Settings,
    rev: str | None,
    text_checks: bool,
    verdicts: Verdicts,
) -> Validation:
    loaded = load(paths, rev, settings, verdicts=verdicts)
    with scanning_on(settings.engine, settings.scheduler, settings.partition_bytes):
        return validate_portal(
            loaded.source,
            loaded.portal,
            loaded.errors,
            settings.limit_errors,
            loaded.cache,
            settings.limits,
            text_checks,
        )


def open_cache(source: Source, option: str | None) -> tuple[ScanCache | None, list[CivicError]]:
    """The scan cache (never inside the repository), and a warning for any cache found there."""
    if option is None:
        return None, []
    folder, refused = cache_folder(option, source.root)
    found = [LEGACY_FOLDER] if source.glob(f"{LEGACY_FOLDER}/*") else []
    if refused:
        found.append(option)
    return ScanCache(folder), [untrusted_cache(name) for name in found]


def untrusted_cache(name: str) -> CivicError:
    note = (
        f"a scan cache ({name}) is inside the repository; civicgen never reads it, since a "
        "pull request could have written it. Delete the folder; caches now live in the "
        "user's cache folder (or set cache_dir to a folder outside the repository)"
    )
    return UntrustedCacheError(note=note, path=name, warning=True)


def package_path(name_or_path: str, settings: Settings, start: str = ".") -> str:
    """A package folder from a folder, a datapackage.json, or a package name."""
    if Path(name_or_path).exists():
        return name_or_path
    source = open_source(start)
    for candidate in (f"{settings.datasets_dir}/{name_or_path}", settings.tools_dir):
        found = source.exists(f"{candidate}/datapackage.json")
        if found and posixpath.basename(candidate) == name_or_path:
            return str(source.root / candidate)
    raise CivicgenException(f'no data package "{name_or_path}" (give its folder or its name)')


def statistics(name_or_path: str, settings: Settings | None = None) -> tuple[Validation, Any]:
    """Validate a package (and those it refers to); return the validation and its package."""
    settings = settings or Settings()
    validation = validate([package_path(name_or_path, settings)], settings)
    chosen = next(iter(validation.tables.values()), None)
    if chosen is None:
        raise CivicgenException(f"{name_or_path}: the package has no table that could be read")
    return validation, chosen.package


def diff(
    base: str, head: str | None = None, settings: Settings | None = None, start: str = "."
) -> Any:
    """The data changes from revision base to head (default: the work tree)."""
    from .diff import diff_portals
    from .site.inputs import shown_statistics

    settings = settings or Settings()
    before = validate([start], settings, base, text_checks=False)  # only head's verdict counts
    after = validate([start], settings, head)
    # the figures as the portal shows them (home sensors protected)
    return diff_portals(before, after, base, head or "work tree", shown_statistics)
