"""A dataset's history: the commits that changed its folder, ready for a page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .repo import folder_log

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
