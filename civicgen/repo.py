"""Read files from the work tree or from any git revision, never outside the repository.

The same interface serves `build` (work tree) and `diff` (two revisions); no pygit2
object leaves this module. pygit2 is loaded when a revision or the history is read: a work
tree is found, and read, without it.
"""

from __future__ import annotations

import fnmatch
import functools
import mmap
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from .exceptions import (
    CivicgenException,
    FileTooLarge,
    GitPath,
    LfsPointer,
    LinkPath,
    SubmodulePath,
    UnsafePath,
)

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
LFS_POINTER = b"version https://git-lfs.github.com/spec/"
MAP_FROM = 32 << 20  # a file this large is mapped, not read (WorkTree.map)

if TYPE_CHECKING:
    import pygit2


@functools.cache
def git() -> ModuleType:
    """pygit2, set so that a corrupt object is an error, not data."""
    import pygit2

    pygit2.settings.enable_strict_hash_verification(True)
    return pygit2


def clean_path(path: str) -> str:
    """A repo-relative POSIX path, or UnsafePath if it could leave the repository."""
    if CONTROL.search(path):
        raise UnsafePath("a path holds a control character; use plain letters, digits and - _ . /")
    if ":" in path or path.startswith(("/", "\\", "~")):  # URLs, drives (C:), absolute, home
        raise UnsafePath(f'"{path}" is not a path inside the repository')
    normal = posixpath.normpath(path.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        raise UnsafePath(f'"{path}" points outside the repository')
    if any(part.lower() == ".git" for part in normal.split("/")):
        raise GitPath(f'"{path}" points into .git, the folder where git keeps its own files')
    return "" if normal == "." else normal


def checked_content(data: bytes, path: str) -> bytes:
    """The bytes of a file, unless they are only a pointer to content stored elsewhere."""
    if data.startswith(LFS_POINTER):
        raise LfsPointer(
            f'"{path}" is a Git LFS pointer, not the data; civicgen never fetches LFS content: '
            "commit the file itself (git lfs untrack it)"
        )
    return data


def within(size: int, limit: int | None) -> None:
    if limit is not None and size > limit:
        raise FileTooLarge(size, limit)


def released(mapped: mmap.mmap, start: int, end: int) -> None:
    """Let go of the whole pages of mapped[start:end] (the file stays in the page cache)."""
    first = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE
    last = end // mmap.PAGESIZE * mmap.PAGESIZE
    if last > first and hasattr(mmap, "MADV_DONTNEED"):
        mapped.madvise(mmap.MADV_DONTNEED, first, last - first)


class WorkTree:
    """Files as they are on disk under root."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.safe_folders: set[str] = {""}  # folders checked: no link, no submodule on the way

    def describe(self) -> str:
        return "work tree"

    def full_path(self, path: str) -> Path:
        """The file on disk, refused if any part of the way is a link or a submodule."""
        relative = clean_path(path)
        folder = posixpath.dirname(relative)
        if folder not in self.safe_folders:
            self.check_folder(folder, path)
        full = self.root / relative
        if relative and full.is_symlink():
            raise LinkPath(f'"{path}" goes through a symbolic link; commit the file itself')
        return full

    def check_folder(self, folder: str, path: str) -> None:
        """Refuse a folder reached through a link, or inside a submodule (a nested .git)."""
        parent = posixpath.dirname(folder)
        if parent not in self.safe_folders:
            self.check_folder(parent, path)
        full = self.root / folder
        if full.is_symlink():
            raise LinkPath(f'"{path}" goes through a symbolic link; commit the file itself')
        if (full / ".git").exists():
            raise SubmodulePath(
                f'"{path}" is inside a git submodule, which is not reviewed with this '
                "repository; copy the files into the repository"
            )
        self.safe_folders.add(folder)

    def read(self, path: str, limit: int | None = None) -> bytes:
        full = self.full_path(path)
        with full.open("rb") as handle:
            within(os.fstat(handle.fileno()).st_size, limit)
            return checked_content(handle.read(), path)

    def map(self, path: str, limit: int | None = None) -> bytes | mmap.mmap:
        """A large file mapped read-only (memory holds the pages being read, not the file);
        a file under MAP_FROM bytes is read. The caller closes the map."""
        full = self.full_path(path)
        with full.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            within(size, limit)
            if size < MAP_FROM or size == 0:  # an empty file cannot be mapped
                return checked_content(handle.read(), path)
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            checked_content(mapped[: len(LFS_POINTER)], path)
        except LfsPointer:
            mapped.close()
            raise
        return mapped

    def exists(self, path: str) -> bool:
        try:
            return self.full_path(path).is_file()
        except UnsafePath:
            return False

    def glob(self, pattern: str) -> list[str]:
        """Repo-relative files matching a glob, sorted. Files reached through a link, in a
        submodule or with an unsafe name are listed too, so that reading them is refused
        and reported; anything inside .git is left out."""
        found = []
        for match in self.root.glob(clean_path(pattern)):
            relative = match.relative_to(self.root).as_posix()
            if self.listable(relative):
                found.append(relative)
        return sorted(found)

    def listable(self, relative: str) -> bool:
        try:
            return self.full_path(relative).is_file()
        except GitPath:
            return False
        except UnsafePath:
            return True


class Revision:
    """Files as they are in one commit of a git repository."""

    def __init__(self, repository: pygit2.Repository, rev: str) -> None:
        self.repository = repository
        try:
            self.commit: pygit2.Commit = repository.revparse_single(rev).peel(git().Commit)
        except (KeyError, ValueError, git().GitError) as exc:
            shallow = (
                " (this is a shallow clone: git fetch --unshallow)" if repository.is_shallow else ""
            )
            raise CivicgenException(
                f'"{rev}" is not a revision of this repository{shallow}'
            ) from exc
        self.rev = rev
        self.root = Path(repository.workdir or repository.path).resolve()
        self.trees: dict[str, pygit2.Object | None] = {}  # folder -> its tree, read once

    def describe(self) -> str:
        return f"revision {self.rev} ({str(self.commit.id)[:10]})"

    def object(self, oid: pygit2.Oid) -> pygit2.Object:
        return git_object(self.repository, oid)

    def blob(self, path: str) -> pygit2.Blob | None:
        """The blob at path; UnsafePath if the way goes through a link or a submodule."""
        relative = clean_path(path)
        if not relative:
            return None
        folder, name = posixpath.split(relative)
        node = self.entry_object(self.tree_at(folder, path), name, path)
        return node if isinstance(node, git().Blob) else None

    def tree_at(self, folder: str, path: str) -> pygit2.Object | None:
        """The tree of a folder, read once per revision (git's own cache skips large trees)."""
        if folder not in self.trees:
            parent, name = posixpath.split(folder)
            above = self.tree_at(parent, path) if folder else None
            self.trees[folder] = (
                self.entry_object(above, name, path) if folder else self.commit.tree
            )
        return self.trees[folder]

    def entry_object(
        self, tree: pygit2.Object | None, name: str, path: str
    ) -> pygit2.Object | None:
        """The object named name in tree, refusing links and submodules on the way to path."""
        if not isinstance(tree, git().Tree) or name not in tree:
            return None
        entry = tree[name]
        if entry.filemode == git().GIT_FILEMODE_LINK:
            raise LinkPath(f'"{path}" goes through a symbolic link; commit the file itself')
        if entry.filemode == git().GIT_FILEMODE_COMMIT:
            raise SubmodulePath(
                f'"{path}" is inside a git submodule, which is not reviewed with this '
                "repository; copy the files into the repository"
            )
        return self.object(entry.id)

    def read(self, path: str, limit: int | None = None) -> bytes:
        blob = self.blob(path)
        if blob is None:
            raise FileNotFoundError(path)
        within(blob.size, limit)
        return checked_content(bytes(blob.data), path)

    def map(self, path: str, limit: int | None = None) -> bytes:
        """A revision's file is a blob in memory: its bytes (WorkTree.map maps large files)."""
        return self.read(path, limit)

    def exists(self, path: str) -> bool:
        try:
            return self.blob(path) is not None
        except UnsafePath:
            return False

    def glob(self, pattern: str) -> list[str]:
        pattern = clean_path(pattern)
        return sorted(
            p
            for p in self.files
            if fnmatch.fnmatchcase(p, pattern) and p.count("/") == pattern.count("/")
        )

    @functools.cached_property
    def files(self) -> list[str]:
        """The commit's paths, walked once: every glob of a load reads this list."""
        return self.walk()

    def walk(self, limit: int = 1_000_000) -> list[str]:
        """Every file, link and submodule of the commit, each tree read once."""
        paths: list[str] = []
        pending: list[tuple[pygit2.Tree, str]] = [(self.commit.tree, "")]
        seen: set[str] = set()
        while pending and len(paths) < limit:
            tree, prefix = pending.pop()
            if str(tree.id) in seen:
                continue  # a tree that contains itself can only come from a corrupt object
            seen.add(str(tree.id))
            for entry in tree:
                name = entry.name or ""
                if entry.filemode == git().GIT_FILEMODE_TREE:
                    child = self.object(entry.id)
                    if isinstance(child, git().Tree):
                        pending.append((child, f"{prefix}{name}/"))
                elif name.lower() != ".git":  # links and submodules too: reading refuses them
                    paths.append(f"{prefix}{name}")
        return paths


def git_object(repository: pygit2.Repository, oid: pygit2.Oid) -> pygit2.Object:
    """An object of the repository, or a clear error if it is missing or corrupt."""
    try:
        return repository[oid]
    except (KeyError, ValueError, git().GitError) as exc:
        raise CivicgenException(
            f"the git object {str(oid)[:10]} is missing or damaged, so this revision cannot be "
            "read (a shallow or incomplete clone?); fetch the full history "
            "(git fetch --unshallow) or run git fsck"
        ) from exc


Source = WorkTree | Revision


def find_repository(path: str | Path) -> pygit2.Repository | None:
    """The git repository that contains path, if any."""
    found = git().discover_repository(str(Path(path).resolve()))
    return git().Repository(found) if found else None


def work_tree_root(path: str | Path) -> Path | None:
    """The work tree around path, found as git finds it: the nearest folder, path's or one
    above, that holds a repository's .git (a folder with a HEAD, or the file that points a
    linked work tree or a submodule at its repository)."""
    start = Path(path).resolve()
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if dot_git.is_file() or (dot_git / "HEAD").is_file():
            return folder
    return None


def open_source(path: str | Path = ".", rev: str | None = None) -> Source:
    """The work tree (rev None) or a revision of the repository around path."""
    if rev is None:
        start = Path(path)
        return WorkTree(work_tree_root(start) or (start if start.is_dir() else start.parent))
    repository = find_repository(path)
    if repository is None:
        raise CivicgenException(f"{os.fspath(path)} is not inside a git repository")
    return Revision(repository, rev)


def last_commit_time(path: str | Path = ".") -> int | None:
    """Seconds since the epoch of HEAD's commit, for reproducible builds."""
    repository = find_repository(path)
    if repository is None or repository.head_is_unborn:
        return None
    return int(repository.head.peel(git().Commit).commit_time)


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
    patch = repository.diff(parent, commit.tree)  # type: ignore[call-overload]  # pygit2 stub omits Tree
    paths = {d.new_file.path for d in patch.deltas} | {d.old_file.path for d in patch.deltas}
    return tuple(sorted(p for p in paths if p.startswith(folder + "/")))


def folder_log(root: str | Path, folder: str, limit: int = 50, walk: int = 5000) -> list[Change]:
    """The commits (newest first, first parents, at most walk of them) that changed folder.

    A shallow clone gives the history it has; a damaged object is a CivicgenException.
    """
    repository = find_repository(root)
    if repository is None or repository.head_is_unborn:
        return []
    try:
        return changes_of(repository, folder, limit, walk)
    except (KeyError, ValueError, git().GitError) as exc:
        raise CivicgenException(
            f"the history of {folder} cannot be read: a git object is missing or damaged "
            f"({exc}); run git fsck, or fetch the full history (git fetch --unshallow)"
        ) from exc


def changes_of(repository: pygit2.Repository, folder: str, limit: int, walk: int) -> list[Change]:
    changes: list[Change] = []
    walker = repository.walk(repository.head.target, git().enums.SortMode.TIME)
    walker.simplify_first_parent()
    for number, commit in enumerate(walker):
        if number >= walk or len(changes) >= limit:
            break
        parents = commit.parents if commit.parent_ids else []
        before = entry_id(parents[0].tree, folder) if parents else None
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
