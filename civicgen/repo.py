"""Read files from the work tree or from any git revision, never outside the repository.

The same interface serves `build` (work tree) and `diff` (two revisions); no pygit2
object leaves this module.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

import pygit2

from .exceptions import CivicgenException, UnsafePath


def clean_path(path: str) -> str:
    """A repo-relative POSIX path, or UnsafePath if it could leave the repository."""
    if "://" in path or path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise UnsafePath(f'"{path}" is not a path inside the repository')
    normal = posixpath.normpath(path.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        raise UnsafePath(f'"{path}" points outside the repository')
    return "" if normal == "." else normal


class WorkTree:
    """Files as they are on disk under root."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def describe(self) -> str:
        return "work tree"

    def full_path(self, path: str) -> Path:
        full = (self.root / clean_path(path)).resolve()
        if full != self.root and self.root not in full.parents:
            raise UnsafePath(f'"{path}" leads outside the repository through a link')
        return full

    def read(self, path: str) -> bytes:
        return self.full_path(path).read_bytes()

    def exists(self, path: str) -> bool:
        try:
            return self.full_path(path).is_file()
        except UnsafePath:
            return False

    def glob(self, pattern: str) -> list[str]:
        """Repo-relative files matching a glob, sorted, links that escape left out."""
        found = []
        for match in self.root.glob(clean_path(pattern)):
            relative = match.relative_to(self.root).as_posix()
            if self.exists(relative):
                found.append(relative)
        return sorted(found)


class Revision:
    """Files as they are in one commit of a git repository."""

    def __init__(self, repository: pygit2.Repository, rev: str) -> None:
        self.repository = repository
        try:
            self.commit = repository.revparse_single(rev).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError) as exc:
            raise CivicgenException(f'"{rev}" is not a revision of this repository') from exc
        self.rev = rev
        self.root = Path(repository.workdir or repository.path).resolve()

    def describe(self) -> str:
        return f"revision {self.rev} ({str(self.commit.id)[:10]})"

    def blob(self, path: str) -> pygit2.Blob | None:
        try:
            entry = self.commit.tree[clean_path(path)]
        except KeyError:
            return None
        obj = self.repository[entry.id]
        return (
            obj
            if isinstance(obj, pygit2.Blob) and entry.filemode != pygit2.GIT_FILEMODE_LINK
            else None
        )

    def read(self, path: str) -> bytes:
        blob = self.blob(path)
        if blob is None:
            raise FileNotFoundError(path)
        return bytes(blob.data)

    def exists(self, path: str) -> bool:
        return self.blob(path) is not None

    def glob(self, pattern: str) -> list[str]:
        pattern = clean_path(pattern)
        return sorted(
            p
            for p in self.walk(self.commit.tree, "")
            if fnmatch.fnmatchcase(p, pattern) and p.count("/") == pattern.count("/")
        )

    def walk(self, tree: pygit2.Tree, prefix: str) -> list[str]:
        paths = []
        for entry in tree:
            path = f"{prefix}{entry.name}"
            if entry.type_str == "tree":
                paths.extend(self.walk(self.repository[entry.id], path + "/"))
            elif entry.filemode != pygit2.GIT_FILEMODE_LINK:
                paths.append(path)
        return paths


Source = WorkTree | Revision


def find_repository(path: str | Path) -> pygit2.Repository | None:
    """The git repository that contains path, if any."""
    found = pygit2.discover_repository(str(Path(path).resolve()))
    return pygit2.Repository(found) if found else None


def open_source(path: str | Path = ".", rev: str | None = None) -> Source:
    """The work tree (rev None) or a revision of the repository around path."""
    repository = find_repository(path)
    if rev is None:
        if repository is not None and repository.workdir:
            return WorkTree(repository.workdir)
        start = Path(path)
        return WorkTree(start if start.is_dir() else start.parent)
    if repository is None:
        raise CivicgenException(f"{os.fspath(path)} is not inside a git repository")
    return Revision(repository, rev)


def last_commit_time(path: str | Path = ".") -> int | None:
    """Seconds since the epoch of HEAD's commit, for reproducible builds."""
    repository = find_repository(path)
    if repository is None or repository.head_is_unborn:
        return None
    return int(repository.head.peel(pygit2.Commit).commit_time)


@dataclass(frozen=True)
class Change:
    """One commit that changed a folder: what git knows, as plain values."""

    commit: str
    time: int  # seconds since the epoch (the committer's time)
    author: str
    message: str
    paths: tuple[str, ...]  # repo-relative files of the folder that changed


def entry_id(tree: pygit2.Tree, folder: str) -> str | None:
    try:
        return str(tree[folder].id)
    except KeyError:
        return None


def changed_paths(
    repository: pygit2.Repository, commit: pygit2.Commit, folder: str
) -> tuple[str, ...]:
    parent = (
        commit.parents[0].tree if commit.parents else repository[repository.TreeBuilder().write()]
    )
    patch = repository.diff(parent, commit.tree)
    paths = {d.new_file.path for d in patch.deltas} | {d.old_file.path for d in patch.deltas}
    return tuple(sorted(p for p in paths if p.startswith(folder + "/")))


def folder_log(root: str | Path, folder: str, limit: int = 50, walk: int = 5000) -> list[Change]:
    """The commits (newest first, first parents) that changed anything under folder."""
    repository = find_repository(root)
    if repository is None or repository.head_is_unborn:
        return []
    changes: list[Change] = []
    walker = repository.walk(repository.head.target, pygit2.enums.SortMode.TIME)
    walker.simplify_first_parent()
    for number, commit in enumerate(walker):
        if number >= walk or len(changes) >= limit:
            break
        before = entry_id(commit.parents[0].tree, folder) if commit.parents else None
        if entry_id(commit.tree, folder) != before:
            changes.append(
                Change(
                    str(commit.id),
                    int(commit.commit_time),
                    commit.author.name,
                    commit.message.strip(),
                    changed_paths(repository, commit, folder),
                )
            )
    return changes
