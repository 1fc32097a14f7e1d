"""A damaged, incomplete or shallow repository: a clear error and exit 2, never a hang."""

from __future__ import annotations

import subprocess
import sys
import zlib
from pathlib import Path

import pygit2
import pytest
from conftest import commit_all, run_cli

READINGS = "datasets/air-quality/data/readings.csv"


def two_commits(portal: Path) -> pygit2.Repository:
    with (portal / "content/about.md").open("a") as page:
        page.write("\nOne more line.\n")
    commit_all(portal, "Second commit", 1_700_000_100)
    return pygit2.Repository(str(portal))


def overwrite_object(
    repository: pygit2.Repository, oid: pygit2.Oid, kind: bytes, data: bytes
) -> None:
    """Replace a loose object's content, keeping its name: what a damaged disk does."""
    path = Path(repository.path) / "objects" / str(oid)[:2] / str(oid)[2:]
    path.chmod(0o644)
    path.write_bytes(zlib.compress(b"%s %d\0" % (kind, len(data)) + data))


def tree_that_contains_itself(portal: Path) -> None:
    """The datasets tree overwritten with the root tree's entries: a cycle, if it were trusted."""
    repository = pygit2.Repository(str(portal))
    root = repository.head.peel(pygit2.Commit).tree
    overwrite_object(repository, root["datasets"].id, b"tree", repository.odb.read(root.id)[1])


def test_hostile_tree_cycle_in_a_revision(portal: Path) -> None:
    tree_that_contains_itself(portal)
    status, output = run_cli(portal, "validate", "--rev", "HEAD")
    assert status == 2 and "missing or damaged" in output


def test_hostile_tree_cycle_in_the_diff(portal: Path) -> None:
    tree_that_contains_itself(portal)
    status, output = run_cli(portal, "diff", "HEAD")
    assert status == 2 and "git fsck" in output


def test_hostile_damaged_history_stops_the_build_cleanly(portal: Path) -> None:
    tree_that_contains_itself(portal)
    done = subprocess.run(
        [sys.executable, "-m", "civicgen", "build"],
        cwd=portal,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "git fsck" in done.stderr
    assert not (portal / "site").exists()


def test_hostile_missing_blob(portal: Path) -> None:
    repository = two_commits(portal)
    oid = repository.head.peel(pygit2.Commit).tree[READINGS].id
    (Path(repository.path) / "objects" / str(oid)[:2] / str(oid)[2:]).unlink()
    for args in (("validate", "--rev", "HEAD"), ("diff", "HEAD~1", "HEAD")):
        status, output = run_cli(portal, *args)
        assert status == 2 and str(oid)[:10] in output


def test_hostile_damaged_blob(portal: Path) -> None:
    repository = pygit2.Repository(str(portal))
    oid = repository.head.peel(pygit2.Commit).tree[READINGS].id
    overwrite_object(repository, oid, b"blob", b"station,timestamp\nforged,2025-01-01T00:00:00Z\n")
    status, output = run_cli(portal, "validate", "--rev", "HEAD")
    assert status == 2 and "forged" not in output


def test_shallow_clone_builds_and_says_why_it_cannot_diff(portal: Path, tmp_path: Path) -> None:
    two_commits(portal)
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{portal}", str(clone)], check=True
    )
    assert run_cli(clone, "validate", "--rev", "HEAD")[0] == 0
    status, output = run_cli(clone, "diff", "HEAD~1", "HEAD")
    assert status == 2 and "shallow" in output


@pytest.mark.parametrize("rev", ["no-such-branch", "HEAD~99", "../../etc", "-rf"])
def test_unknown_revision(portal: Path, rev: str) -> None:
    status, output = run_cli(portal, "validate", "--rev", rev)
    assert status == 2 and "is not a revision" in output
