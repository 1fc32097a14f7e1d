"""A dataset's history: the commits that changed its folder, ready for a page; and how one
field of each record file (a proposal's status) changed from commit to commit."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pygit2

from .exceptions import CivicgenException
from .package import DEFAULT_LIMITS, FRONT_MATTER
from .parse import ParseProblem, load_yaml
from .repo import entry_id, find_repository, folder_log

PR_NUMBER = re.compile(r"#(\d+)")


@dataclass(frozen=True)
class HistoryEntry:
    commit: str
    date: str  # YYYY-MM-DD, UTC, from git
    author: str
    summary: str
    pull_request: str  # the number, or ""
    files: tuple[str, ...]


def pull_request_of(message: str) -> str:
    """The pull-request number a commit message names ("Merge pull request #12", "(#12)")."""
    found = PR_NUMBER.search(message)
    return found.group(1) if found else ""


def dataset_history(root: str | Path, folder: str, limit: int = 20) -> list[HistoryEntry]:
    """Newest first: when, who, which pull request, which files of the folder changed."""
    return [
        HistoryEntry(
            commit=change.commit,
            date=datetime.fromtimestamp(change.time, timezone.utc).strftime("%Y-%m-%d"),
            author=change.author,
            summary=change.message.splitlines()[0] if change.message else "",
            pull_request=pull_request_of(change.message),
            files=tuple(path[len(folder) + 1 :] for path in change.paths),
        )
        for change in folder_log(root, folder, limit)
    ]


# --- a record's field through history (e.g. a proposal's status) ----------------------------

RECORD_SUFFIXES = (".md", ".yaml", ".yml")


@dataclass(frozen=True)
class FieldChange:
    """The commit from which a record file's field held a value."""

    value: str
    commit: str
    date: str  # YYYY-MM-DD, UTC, from git
    author: str
    summary: str


def field_history(
    root: str | Path,
    folder: str,
    pattern: str,
    field: str = "status",
    walk: int = 500,
    per_record: int = 20,
) -> dict[str, list[FieldChange]]:
    """Oldest first, for each record file matching pattern under folder: each value field
    took and the commit that set it. At most walk commits are read (newest first, first
    parents) and the latest per_record changes of a file are kept; a file that cannot be
    read at a commit (too large, not YAML) is skipped at that commit."""
    repository = find_repository(root)
    if repository is None or repository.head_is_unborn:
        return {}
    try:
        seen = values_by_commit(repository, folder, posixpath.join(folder, pattern), field, walk)
    except (KeyError, ValueError, pygit2.GitError) as exc:
        raise CivicgenException(
            f"the history of {folder} cannot be read: a git object is missing or damaged "
            f"({exc}); run git fsck, or fetch the full history (git fetch --unshallow)"
        ) from exc
    return {path: transitions(changes)[-per_record:] for path, changes in sorted(seen.items())}


def transitions(newest_first: list[FieldChange]) -> list[FieldChange]:
    """Oldest first, only the commits where the value differs from the one before."""
    kept: list[FieldChange] = []
    for change in reversed(newest_first):
        if not kept or kept[-1].value != change.value:
            kept.append(change)
    return kept


def values_by_commit(
    repository: pygit2.Repository, folder: str, pattern: str, field: str, walk: int
) -> dict[str, list[FieldChange]]:
    """Newest first, per record file: its field's value after each commit that changed it."""
    seen: dict[str, list[FieldChange]] = {}
    read: dict[tuple[str, bool], str | None] = {}  # (blob, is Markdown) -> value: parsed once
    walker = repository.walk(repository.head.target, pygit2.enums.SortMode.TIME)
    walker.simplify_first_parent()
    for number, commit in enumerate(walker):
        if number >= walk:
            break
        for path in changed_records(repository, commit, folder, pattern):
            value = field_at(repository, commit.tree, path, field, read)
            if value is not None:
                seen.setdefault(path, []).append(change_of(commit, value))
    return seen


def change_of(commit: pygit2.Commit, value: str) -> FieldChange:
    message = commit.message.strip()
    return FieldChange(
        value=value,
        commit=str(commit.id),
        date=datetime.fromtimestamp(commit.commit_time, timezone.utc).strftime("%Y-%m-%d"),
        author=commit.author.name,
        summary=message.splitlines()[0] if message else "",
    )


def changed_records(
    repository: pygit2.Repository, commit: pygit2.Commit, folder: str, pattern: str
) -> list[str]:
    """The record files under folder that this commit added or changed."""
    after = folder_id(commit.tree, folder)
    before = folder_id(commit.parents[0].tree, folder) if commit.parent_ids else None
    if after is None or after == before:
        return []
    new_tree = repository[after]
    old_tree = repository[before] if before else repository[repository.TreeBuilder().write()]
    patch = repository.diff(old_tree, new_tree)  # type: ignore[call-overload]
    prefix = "" if folder in ("", ".") else folder
    paths = (posixpath.join(prefix, d.new_file.path) for d in patch.deltas)
    return sorted(
        p for p in paths if p.endswith(RECORD_SUFFIXES) and fnmatch.fnmatchcase(p, pattern)
    )


def folder_id(tree: pygit2.Tree, folder: str) -> str | None:
    """The id of the folder's tree (the whole tree for a package at the repository's root)."""
    return str(tree.id) if folder in ("", ".") else entry_id(tree, folder)


def field_at(
    repository: pygit2.Repository,
    tree: pygit2.Tree,
    path: str,
    field: str,
    read: dict[tuple[str, bool], str | None],
) -> str | None:
    """The field's value in the record file at path of this tree (None: absent or unreadable);
    a file's version already read is not parsed again."""
    try:
        oid = tree[path].id
    except KeyError:
        return None
    key = (str(oid), path.endswith(".md"))
    if key not in read:
        read[key] = blob_field(repository[oid], path, field)
    return read[key]


def blob_field(blob: pygit2.Object, path: str, field: str) -> str | None:
    if not isinstance(blob, pygit2.Blob) or blob.size > DEFAULT_LIMITS.record_bytes:
        return None
    values = record_values(blob.data, path)
    value = values.get(field) if isinstance(values, dict) else None
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def record_values(data: bytes, path: str) -> object:
    """A record file's fields, parsed with the record parser's limits (None: not readable)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if path.endswith(".md"):
        match = FRONT_MATTER.match(text)
        if not match:
            return None
        text = match.group(1) or ""
    try:
        return load_yaml(text, DEFAULT_LIMITS)[0]
    except ParseProblem:
        return None
