"""Jobs side by side in forked processes (civicgen.forked), as `civicgen build` runs languages."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from civicgen import forked
from civicgen.exceptions import BuildFault, CivicgenException, FileTooLarge
from civicgen.forked import SideBySide, WorkerCrashed

pytestmark = pytest.mark.skipif(forked.spare_cores(1) == 0, reason="no core to spare, or no fork")


def write_pid(folder: Path) -> None:
    (folder / str(os.getpid())).write_text("done", encoding="utf-8")


def test_jobs_run_in_other_processes_and_see_what_this_one_had_read(tmp_path: Path) -> None:
    read = {"budget": "read once, before the fork"}
    jobs = [tmp_path / "a", tmp_path / "b"]
    for job in jobs:
        job.mkdir()

    def job(folder: Path) -> None:
        (folder / str(os.getpid())).write_text(read["budget"], encoding="utf-8")

    with SideBySide(jobs, job) as side:
        assert side.left == []
        side.wait()
    written = [p for folder in jobs for p in folder.iterdir()]
    assert len(written) == len(jobs)
    assert {p.read_text(encoding="utf-8") for p in written} == {read["budget"]}
    assert str(os.getpid()) not in {p.name for p in written}


def test_a_fault_comes_back_with_its_class_and_message(tmp_path: Path) -> None:
    def refuse(name: str) -> None:
        raise BuildFault(f"{name}: the page is not UTF-8; save the file as UTF-8 text")

    with SideBySide(["en"], refuse) as side, pytest.raises(BuildFault) as raised:
        side.wait()
    assert str(raised.value) == "en: the page is not UTF-8; save the file as UTF-8 text"


def test_a_fault_made_from_other_arguments_keeps_its_message() -> None:
    def too_large(size: int) -> None:
        raise FileTooLarge(size, 10)

    with SideBySide([11], too_large) as side, pytest.raises(CivicgenException) as raised:
        side.wait()
    assert str(raised.value) == "11 bytes, more than 10"


def test_a_bug_comes_back_as_its_traceback() -> None:
    def broken(value: int) -> None:
        raise ValueError(f"no such value {value}")

    with SideBySide([7], broken) as side, pytest.raises(WorkerCrashed) as raised:
        side.wait()
    assert "ValueError: no such value 7" in str(raised.value)
    assert "Traceback" in str(raised.value)


def test_a_process_that_dies_is_a_crash_not_a_silent_success() -> None:
    with SideBySide([9], lambda code: os._exit(code)) as side, pytest.raises(WorkerCrashed):
        side.wait()


def test_with_other_threads_running_the_jobs_are_left_to_the_caller(tmp_path: Path) -> None:
    """A fork copies no thread, and a lock one of them holds stays held in the copy."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with SideBySide([tmp_path], write_pid) as side:
            assert side.left == [tmp_path] and side.workers == []
            side.wait()
    finally:
        stop.set()
        other.join()
    assert list(tmp_path.iterdir()) == []


def test_leaving_the_block_stops_a_process_still_running() -> None:
    with SideBySide([600.0], lambda seconds: threading.Event().wait(seconds)) as side:
        [(process, _)] = side.workers
    assert not process.is_alive()
