"""Read files from the work tree or from any git revision, never outside the repository.

The same interface serves `build` (work tree) and `diff` (two revisions); no pygit2
object leaves this module.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
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
