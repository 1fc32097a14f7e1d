"""A merge or pull request's commits as git objects only: fetched into refs of civicgen's own
and never checked out, so no file of the request is written to disk and none of its hooks,
filters or attributes runs. `civicgen validate --rev` and `civicgen diff` then read its data
as blobs (repo.Revision), as they read any revision."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pygit2

from .http import ForgeError

GIT_TIMEOUT = 600  # seconds: a hostile request's huge blobs cannot hold the job for hours


def fetch(root: Path, remote: str, refspecs: list[str], header: str = "", secret: str = "") -> None:
    """git fetch remote refspecs… in root. header (an HTTP Authorization line, for a private
    repository) goes through git's environment, never its command line; secret is scrubbed
    from any message."""
    if remote.startswith("-") or not remote.strip():
        raise ForgeError(f"{remote!r} cannot name a git remote")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    if header:
        env |= {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": header}  # fmt: skip
    command = ["git", "-C", str(root), "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
               "--no-recurse-submodules", remote, *refspecs]  # fmt: skip
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT)
    except FileNotFoundError:
        raise ForgeError("git is not installed; the job needs git to fetch the requests") from None
    except subprocess.TimeoutExpired:
        raise ForgeError(f"git fetch from {remote} took more than {GIT_TIMEOUT} s") from None
    if done.returncode:
        said = " ".join(done.stderr.split())[-400:]
        raise ForgeError(f"git fetch from {remote} failed: {said}".replace(secret or "\0", "***"))


def commit_of(root: Path, ref: str) -> str | None:
    """The commit a ref of root points to, or None."""
    repository = pygit2.Repository(str(root))
    try:
        return str(repository.revparse_single(ref).peel(pygit2.Commit).id)
    except (KeyError, ValueError, pygit2.GitError):
        return None


def merge_base(root: Path, one: str, other: str) -> str | None:
    """Where other branched off one: what a request changes is merge-base..head."""
    repository = pygit2.Repository(str(root))
    found = repository.merge_base(pygit2.Oid(hex=one), pygit2.Oid(hex=other))
    return str(found) if found else None
