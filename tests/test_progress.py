"""Progress on stderr: on a real terminal (a pty) a long run says what it reads; a pipe
gets nothing; a hostile file name cannot send escape sequences to the terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import commit_all
from test_diff_packages import ROWS, town

from civicgen import progress as progress_module
from civicgen.pipeline import Settings, diff
from civicgen.progress import CLEAR, progress


def terminal_output(master: int) -> str:
    """Everything written to the terminal so far."""
    chunks = []
    os.set_blocking(master, False)
    while True:
        try:
            chunk = os.read(master, 65536)
        except (BlockingIOError, OSError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def terminal() -> tuple[int, object]:
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w", encoding="utf-8")
    yield master, stream
    stream.close()
    os.close(master)


def edited_town(root: Path) -> None:
    town(root, "id,item,amount", ROWS)
    commit_all(root, "Spending")
    town(root, "id,item,amount", ROWS.replace("7,item 7,70\n", "7,item 7,75\n"))
    commit_all(root, "One amount corrected", when=1_700_000_100)


def test_a_terminal_sees_what_is_read_then_a_clean_line(
    tmp_path: Path, terminal: tuple[int, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    master, stream = terminal
    monkeypatch.setattr(progress_module, "DELAY", 0.0)  # the example is quick: show at once
    edited_town(tmp_path / "town")
    with progress.on(stream):  # type: ignore[arg-type]
        changes = diff("HEAD~1", "HEAD", Settings(), start=str(tmp_path / "town"))
    shown = terminal_output(master)
    path = "datasets/spending/lines.csv"
    assert changes.valid and f"checking {path} (spending)" in shown
    assert f"comparing {path}" in shown and shown.endswith(CLEAR)


def test_a_quick_run_shows_nothing(
    tmp_path: Path, terminal: tuple[int, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that ends within the delay leaves the terminal untouched (the delay is set
    long, so a slow machine cannot make this run count as a long one)."""
    master, stream = terminal
    monkeypatch.setattr(progress_module, "DELAY", 3600.0)
    edited_town(tmp_path / "town")
    with progress.on(stream):  # type: ignore[arg-type]
        diff("HEAD~1", "HEAD", Settings(), start=str(tmp_path / "town"))
    assert terminal_output(master) == ""


def test_escape_sequences_in_a_name_do_not_reach_the_terminal(
    terminal: tuple[int, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    master, stream = terminal
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    with progress.on(stream):  # type: ignore[arg-type]
        progress.show("checking \x1b]0;owned\x07x\x1b[2J.csv")
    shown = terminal_output(master)
    assert "<U+001B>]0;owned<U+0007>x<U+001B>[2J.csv" in shown
    assert "\x1b]" not in shown and "\x07" not in shown and "\x1b[2J" not in shown


def test_a_pipe_gets_no_progress(tmp_path: Path) -> None:
    """The whole command in its own process, stderr a pipe: stderr stays empty."""
    edited_town(tmp_path / "town")
    done = subprocess.run(
        [sys.executable, "-m", "civicgen", "diff", "HEAD~1", "HEAD"],
        cwd=tmp_path / "town",
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stderr == b"" and b"1 changed" in done.stdout
