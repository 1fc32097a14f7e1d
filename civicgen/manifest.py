"""The site's manifest: what it was built from and what it holds, so anyone can check it.

`civicgen-manifest.json` names the commit (and whether the work tree matched it), the
civicgen version, the git blob id of every source file that went into the build and the
SHA-256 of every published file. It is deterministic: sorted, and no clock in it.
`SHA256SUMS` (for `sha256sum -c`) lists every file of the site, the manifest included.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pygit2

from .cache import blob_id
from .exceptions import CivicgenException
from .package import descriptor_paths
from .repo import Source, find_repository
from .validation import Validation

MANIFEST = "civicgen-manifest.json"
SUMS = "SHA256SUMS"
META = frozenset({MANIFEST, SUMS})
FORMAT = 1
MAX_BYTES = 64 << 20  # a manifest larger than this is not one civicgen wrote
COMMIT_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20


class ManifestError(CivicgenException):
    """The site's manifest is missing, unreadable or not in civicgen's format."""

    code = "manifest-error"
    title = "Manifest error"
    example = "site/civicgen-manifest.json: the manifest names commit 1234abcd, which is not in this repository"
    fix = "Verify against the repository the site was built from (--repo), or rebuild the site."


# --- what the site holds ------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks; a link is named, never followed."""
    if path.is_symlink():
        return f"symlink:{os.readlink(path)}"
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def site_files(site_dir: Path, skip: frozenset[str] = META) -> dict[str, str]:
    """Every file of the site (links included, not followed) → its SHA-256, sorted."""
    found = {}
    for folder, folders, names in os.walk(site_dir):
        folders.sort()
        for name in names:
            path = Path(folder, name)
            relative = path.relative_to(site_dir).as_posix()
            if relative not in skip and (path.is_file() or path.is_symlink()):
                found[relative] = file_sha256(path)
    return dict(sorted(found.items()))


def sums_line(path: str, digest: str) -> str:
    """One line of SHA256SUMS, escaped as sha256sum does, so a name cannot add a line."""
    if not any(c in path for c in "\\\n\r"):
        return f"{digest}  {path}\n"
    escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return f"\\{digest}  {escaped}\n"


def sums_text(files: Mapping[str, str]) -> str:
    """SHA256SUMS: `digest  path`, one line per file, sorted by path (`sha256sum -c` reads it)."""
    return "".join(sums_line(path, digest) for path, digest in sorted(files.items()))


# --- what went into the build -------------------------------------------------------------


def package_sources(validation: Validation, datasets_dir: str, tools_dir: str) -> set[str]:
    """Repo-relative paths of every descriptor, data file and record file the build read."""
    paths = set(descriptor_paths(validation.source, datasets_dir, tools_dir))
    for scanned in validation.tables.values():
        paths.add(scanned.package.descriptor_path)
        if scanned.is_collection:
            paths.update(record.path for record in scanned.records)
        else:
            paths.update(scanned.resource.files)
    return paths


def folder_files(folder: Path, skip_hidden: bool) -> list[Path]:
    """The files under folder, sorted; hidden ones left out when MkDocs leaves them out."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        if (path.is_file() or path.is_symlink()) and not (skip_hidden and hidden):
            found.append(path)
    return found


def relative_to(root: Path, path: Path) -> str:
    """A POSIX path relative to root (with ../ when a theme lives outside the repository)."""
    return Path(os.path.relpath(path.absolute(), root)).as_posix()


def disk_sources(
    root: Path, config_file: Path, docs_dir: Path, theme_dir: Path | None, *more: Path | None
) -> set[str]:
    """mkdocs.yml, every page of docs_dir MkDocs reads, and every file of the theme folder
    (and of any more folders the build reads, e.g. the city's translations)."""
    paths = {relative_to(root, config_file)}
    paths.update(relative_to(root, p) for p in folder_files(docs_dir, skip_hidden=True))
    for folder in (theme_dir, *more):
        if folder is not None:
            paths.update(relative_to(root, p) for p in folder_files(folder, skip_hidden=False))
    return paths


def disk_blobs(root: Path, paths: Iterable[str]) -> dict[str, str]:
    """Each file on disk → the git blob id of its bytes (a link: of the name it points to)."""
    blobs = {}
    for path in paths:
        full = root / path
        if full.is_symlink():
            blobs[path] = blob_id(os.readlink(full).encode("utf-8", "surrogateescape"))
        elif full.is_file():
            blobs[path] = blob_id(full.read_bytes())
    return blobs


def package_blobs(source: Source, paths: Iterable[str]) -> dict[str, str]:
    """Each package file, read as the build read it (work tree or revision) → its blob id."""
    blobs = {}
    for path in paths:
        try:
            blobs[path] = blob_id(source.read(path))
        except (OSError, CivicgenException):
            continue  # not read by the build either
    return blobs


# --- the commit ---------------------------------------------------------------------------


def inputs_unchanged(repository: pygit2.Repository, inputs: Iterable[str]) -> bool:
    """True when no tracked file under the build's inputs is changed, staged or deleted."""
    prefixes = tuple(p.rstrip("/") for p in inputs)
    status = repository.status(untracked_files="no")
    return not any(
        path == prefix or path.startswith(prefix + "/")
        for path, flags in status.items()
        if flags not in (pygit2.GIT_STATUS_CURRENT, pygit2.GIT_STATUS_IGNORED)
        for prefix in prefixes
    )


def committed(index: pygit2.Index, path: str, blob: str) -> bool:
    """The file is tracked with these bytes (the index equals HEAD where nothing is staged)."""
    try:
        return str(index[path].id) == blob
    except (KeyError, ValueError):
        return False


def git_state(
    root: Path, sources: Mapping[str, str], inputs: Iterable[str]
) -> tuple[str | None, bool]:
    """HEAD's commit id, and whether the build's inputs (the files and folders it reads) are
    exactly that commit's: every source committed as it is, nothing tracked there changed."""
    repository = find_repository(root)
    if repository is None or repository.head_is_unborn:
        return None, False
    head = repository.head.peel(pygit2.Commit)
    index = repository.index  # read once: a path lookup in it does not re-read a tree
    clean = inputs_unchanged(repository, inputs) and all(
        committed(index, path, blob) for path, blob in sources.items()
    )
    return str(head.id), clean


def source_date_epoch() -> int | None:
    """The SOURCE_DATE_EPOCH the build ran with (dates on the pages), if any."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else None


# --- the manifest -------------------------------------------------------------------------


def make_manifest(
    commit: str | None,
    clean: bool,
    version: str,
    config: str,
    epoch: int | None,
    sources: Mapping[str, str],
    files: Mapping[str, str],
) -> dict[str, Any]:
    return {
        "manifest": FORMAT,
        "commit": commit,
        "clean": clean,
        "civicgen": version,
        "config": config,
        "source_date_epoch": epoch,
        "sources": dict(sorted(sources.items())),
        "files": dict(sorted(files.items())),
    }


def for_build(
    validation: Validation,
    data_dirs: tuple[str, str],
    mkdocs_paths: tuple[Path, Path, Path | None, Path | None],
    site_dir: Path,
    version: str,
) -> dict[str, Any]:
    """The manifest of the site just built in site_dir: data_dirs are (datasets, tools);
    mkdocs_paths are (mkdocs.yml, docs_dir, theme folder or None, translations folder or
    None)."""
    root = validation.source.root
    sources = package_blobs(validation.source, package_sources(validation, *data_dirs))
    sources.update(disk_blobs(root, disk_sources(root, *mkdocs_paths)))
    folders = [relative_to(root, p) for p in mkdocs_paths if p is not None]
    commit, clean = git_state(root, sources, [*data_dirs, *folders])
    config = relative_to(root, mkdocs_paths[0])
    files = site_files(site_dir)
    return make_manifest(commit, clean, version, config, source_date_epoch(), sources, files)


def dumps(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different (a path listed twice is ambiguous)."""
    counts = Counter(key for key, _ in pairs)
    repeated = sorted(key for key, count in counts.items() if count > 1)
    if repeated:
        raise ManifestError(f'the manifest names "{repeated[0]}" twice')
    return dict(pairs)


def load_manifest(site_dir: Path) -> dict[str, Any]:
    """The manifest of a built site, checked; ManifestError says what is wrong with it."""
    path = site_dir / MANIFEST
    if not site_dir.is_dir():
        raise ManifestError(f"{site_dir} is not a folder; give the folder of a built site")
    if path.is_symlink() or not path.is_file():
        raise ManifestError(
            f"{site_dir} has no {MANIFEST}; the site was not built by civicgen 0.2 or later, "
            "or the file was removed"
        )
    if path.stat().st_size > MAX_BYTES:
        raise ManifestError(
            f"{path} is larger than {MAX_BYTES >> 20} MB; it is not a civicgen manifest"
        )
    try:
        data = json.loads(path.read_bytes().decode("utf-8"), object_pairs_hook=unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ManifestError(
            f"{path} is not a readable manifest ({type(exc).__name__}: {exc})"[:300]
        ) from exc
    return checked(data, path)


def checked(data: Any, path: Path) -> dict[str, Any]:
    """The manifest if every field has the type and form civicgen writes."""
    problem = shape_problem(data)
    if problem:
        raise ManifestError(f"{path}: {problem}; rebuild the site with `civicgen build`")
    return data


def shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict) or data.get("manifest") != FORMAT:
        return f'not a civicgen manifest (format {FORMAT} expected in "manifest")'
    if not isinstance(data.get("commit"), str) or not COMMIT_ID.match(data["commit"]):
        return '"commit" is not a full commit id (the site was built outside a git repository?)'
    if not isinstance(data.get("config"), str) or not isinstance(data.get("civicgen"), str):
        return '"config" and "civicgen" must be text'
    if not isinstance(data.get("clean"), bool):
        return '"clean" must be true or false'
    epoch = data.get("source_date_epoch")
    if epoch is not None and (type(epoch) is not int or epoch < 0):
        return '"source_date_epoch" must be a whole number of seconds or null'
    for key, pattern in (("files", SHA256), ("sources", COMMIT_ID)):
        table = data.get(key)
        if not isinstance(table, dict) or not all(
            isinstance(v, str) and pattern.match(v) for v in table.values()
        ):
            return f'"{key}" must map each path to a hexadecimal digest'
    return None
