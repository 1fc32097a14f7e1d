"""`civicgen verify SITE`: rebuild a site from the commit its manifest names, and compare.

The commit is written out into a temporary folder (a git repository that borrows the
user's objects; the user's work tree and repository are never written to), built there
with civicgen's own build, and every file of SITE is compared by SHA-256 with the rebuild
and with what the manifest claims.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pygit2

from . import __version__
from .exceptions import CivicgenException
from .manifest import META, load_manifest, site_files
from .repo import clean_path, find_repository

EXPLAINED = {
    "differs": "the site's file is not the one the commit builds",
    "missing": "the commit builds this file, the site lacks it",
    "extra": "the site has this file, the commit does not build it",
    "manifest": "the manifest's SHA-256 for this file is not the one the commit builds",
}


@dataclass(frozen=True)
class Difference:
    """One published file that is not what the commit builds (or not what the manifest says)."""

    path: str
    status: str  # differs | missing | extra | manifest
    site: str | None  # SHA-256 of the file in SITE
    rebuilt: str | None  # SHA-256 of the file the commit builds
    manifest: str | None  # SHA-256 the site's manifest gives


@dataclass(frozen=True)
class SourceDifference:
    """A source file the site was built from that is not as the commit holds it."""

    path: str
    site: str | None  # blob id in the site's manifest
    commit: str | None  # blob id in the commit


@dataclass
class Verification:
    site: str
    commit: str
    clean: bool
    built_with: str
    checked: int
    differences: list[Difference] = field(default_factory=list)
    sources: list[SourceDifference] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.differences and not self.sources

    def notes(self) -> list[str]:
        notes = []
        if not self.clean:
            notes.append(
                "the manifest says the site was built from a work tree whose files were not "
                "all committed; only a build of a clean commit can be verified"
            )
        if self.built_with != __version__:
            notes.append(
                f"the site was built with civicgen {self.built_with} and this is civicgen "
                f"{__version__}; another version may build other bytes"
            )
        return notes


# --- the repository at the commit ---------------------------------------------------------


def open_repository(path: Path) -> pygit2.Repository:
    if not path.exists():
        raise CivicgenException(f"{path} does not exist; give the repository with --repo")
    repository = find_repository(path)
    if repository is None:
        raise CivicgenException(f"{path} is not inside a git repository; give it with --repo")
    return repository


def find_commit(repository: pygit2.Repository, commit_id: str) -> pygit2.Commit:
    """The commit the manifest names, or why it cannot be had."""
    try:
        found = repository.get(commit_id)
    except (ValueError, pygit2.GitError) as exc:
        raise CivicgenException(f"commit {commit_id} cannot be read ({exc})") from exc
    if found is None:
        raise CivicgenException(
            f"commit {commit_id}, which the site says it was built from, is not in the "
            f"repository at {repository.workdir or repository.path}; fetch it (git fetch) "
            "or give the right repository with --repo"
        )
    if not isinstance(found, pygit2.Commit):
        raise CivicgenException(
            f"{commit_id} is a {found.type_str} in the repository, not a commit"
        )
    return found


def git_dir_common(repository: pygit2.Repository) -> Path:
    """The folder that holds the objects (for a linked work tree: the main repository's)."""
    git_dir = Path(repository.path)
    common = git_dir / "commondir"
    return (git_dir / common.read_text().strip()).resolve() if common.is_file() else git_dir


def write_checkout(repository: pygit2.Repository, commit_id: str, folder: Path) -> Path:
    """The commit's files in folder, a repository that borrows the objects and has the
    commit as its HEAD (the history pages need it); nothing is written to repository."""
    common = git_dir_common(repository)
    pygit2.init_repository(str(folder))
    (folder / ".git/objects/info/alternates").write_text(f"{common / 'objects'}\n")
    if (common / "shallow").is_file():
        shutil.copyfile(common / "shallow", folder / ".git/shallow")
    copy = pygit2.Repository(str(folder))
    commit = find_commit(copy, commit_id)
    copy.checkout_tree(commit.tree, strategy=pygit2.enums.CheckoutStrategy.FORCE)
    copy.set_head(commit.id)
    return folder


@contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    """These environment variables set (None: unset) for the duration, then restored."""
    before = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
        yield
    finally:
        for name, value in before.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def rebuild_environment(manifest: dict[str, Any], work: Path) -> dict[str, str | None]:
    """The dates the site was built with (or, when none, the commit's), and a cache of its
    own: the rebuild scans every file afresh and trusts no earlier result."""
    epoch = manifest["source_date_epoch"]
    return {
        "SOURCE_DATE_EPOCH": None if epoch is None else str(epoch),
        "XDG_CACHE_HOME": str(work / "cache"),
    }


def rebuild(repository: pygit2.Repository, manifest: dict[str, Any], work: Path) -> Path:
    """The site that the manifest's commit builds, in work/site."""
    from .build import build_site  # MkDocs loads only when a rebuild happens

    try:
        tree = write_checkout(repository, manifest["commit"], work / "tree")
    except (pygit2.GitError, KeyError, OSError) as exc:
        raise CivicgenException(
            f"commit {manifest['commit'][:10]} cannot be written out ({exc}); the repository "
            "may be damaged or incomplete: run git fsck, or verify from a fresh clone"
        ) from exc
    config = tree / clean_path(manifest["config"])
    try:
        with environment(rebuild_environment(manifest, work)):
            return build_site(config, work / "site")
    except CivicgenException as exc:
        raise CivicgenException(f"commit {manifest['commit'][:10]} does not build: {exc}") from exc


# --- the comparison -----------------------------------------------------------------------


def file_status(site: str | None, rebuilt: str | None) -> str | None:
    if site == rebuilt:
        return None
    if site is None:
        return "missing"
    return "extra" if rebuilt is None else "differs"


def compare(
    site: dict[str, str], rebuilt: dict[str, str], claimed: dict[str, str]
) -> list[Difference]:
    """Every file whose site copy, rebuild and manifest entry do not all agree."""
    differences = []
    for path in sorted(site.keys() | rebuilt.keys() | claimed.keys()):
        here, there = site.get(path), rebuilt.get(path)
        expected = there if path in META else claimed.get(path)
        status = file_status(here, there) or (None if expected == there else "manifest")
        if status:
            differences.append(Difference(path, status, here, there, claimed.get(path)))
    return differences


def compare_sources(site: dict[str, str], commit: dict[str, str]) -> list[SourceDifference]:
    return [
        SourceDifference(path, site.get(path), commit.get(path))
        for path in sorted(site.keys() | commit.keys())
        if site.get(path) != commit.get(path)
    ]


def verify_site(site: str | Path, repo: str | Path = ".") -> Verification:
    """Rebuild SITE's commit from repo and say which files differ; CivicgenException when
    the manifest is missing or unreadable, or the commit cannot be had or built."""
    site_dir = Path(site)
    manifest = load_manifest(site_dir)
    repository = open_repository(Path(repo))
    find_commit(repository, manifest["commit"])
    try:
        with tempfile.TemporaryDirectory(prefix="civicgen-verify-") as work:
            rebuilt_dir = rebuild(repository, manifest, Path(work))
            rebuilt = site_files(rebuilt_dir, skip=frozenset())
            rebuilt_sources = load_manifest(rebuilt_dir)["sources"]
    except OSError as exc:
        raise CivicgenException(
            f"the rebuild could not be written in the temporary folder ({exc}); "
            "free some space there or set TMPDIR to another folder"
        ) from exc
    found = site_files(site_dir, skip=frozenset())
    return Verification(
        str(site),
        manifest["commit"],
        manifest["clean"],
        manifest["civicgen"],
        len(found.keys() | rebuilt.keys()),
        compare(found, rebuilt, manifest["files"]),
        compare_sources(manifest["sources"], rebuilt_sources),
    )


# --- output ---------------------------------------------------------------------------------


def shown(text: str) -> str:
    """A file name as it may be printed: control and invisible characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def to_text(result: Verification) -> str:
    lines = [f"{d.status:<9} {shown(d.path)}: {EXPLAINED[d.status]}" for d in result.differences]
    lines += [
        f"source    {shown(s.path)}: the site was built from another version of this file "
        "than the commit holds"
        for s in result.sources
    ]
    lines += [f"note: {note}" for note in result.notes()]
    commit = result.commit[:10]
    if result.identical:
        lines.append(
            f"Verified: the {result.checked} files of {shown(result.site)} are exactly what "
            f"commit {commit} builds."
        )
    else:
        count = len(result.differences) + len(result.sources)
        lines.append(
            f"Not verified: {count} difference(s) between {shown(result.site)} and a rebuild "
            f"of commit {commit} ({result.checked} files compared)."
        )
    return "\n".join(lines)


def to_json(result: Verification) -> str:
    data = {
        "identical": result.identical,
        "site": result.site,
        "commit": result.commit,
        "clean": result.clean,
        "civicgen": {"site": result.built_with, "verifier": __version__},
        "checked": result.checked,
        "differences": [asdict(d) for d in result.differences],
        "sources": [asdict(s) for s in result.sources],
        "notes": result.notes(),
    }
    return json.dumps(data, indent=2, ensure_ascii=False)
