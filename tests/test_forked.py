"""Jobs side by side in forked processes (civicgen.forked), as `civicgen build` runs languages."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from civicgen.exceptions import BuildFault, CivicgenException, FileTooLarge
from civicgen.forked import SideBySide, WorkerCrashed

# The number of processes is given: the tests run in pytest workers that other tests may have
# left threads in, where spare_cores (tested on its own below) would fork none.
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="civicgen forks on Linux only")


def write_pid(folder: Path) -> None:
    (folder / str(os.getpid())).write_text("done", encoding="utf-8")


def test_jobs_run_in_other_processes_and_see_what_this_one_had_read(tmp_path: Path) -> None:
    read = {"budget": "read once, before the fork"}
    jobs = [tmp_path / "a", tmp_path / "b"]
    for job in jobs:
        job.mkdir()

    def job(folder: Path) -> None:
        (folder / str(os.getpid())).write_text(read["budget"], encoding="utf-8")

    with SideBySide(jobs, job, workers=2) as side:
        assert side.left == []
        side.wait()
    written = [p for folder in jobs for p in folder.iterdir()]
    assert len(written) == len(jobs)
    assert {p.read_text(encoding="utf-8") for p in written} == {read["budget"]}
    assert str(os.getpid()) not in {p.name for p in written}


def test_a_fault_comes_back_with_its_class_and_message(tmp_path: Path) -> None:
    def refuse(name: str) -> None:
        raise BuildFault(f"{name}: the page is not UTF-8; save the file as UTF-8 text")

    with SideBySide(["en"], refuse, workers=1) as side, pytest.raises(BuildFault) as raised:
        side.wait()
    assert str(raised.value) == "en: the page is not UTF-8; save the file as UTF-8 text"


def test_a_fault_made_from_other_arguments_keeps_its_message() -> None:
    def too_large(size: int) -> None:
        raise FileTooLarge(size, 10)

    with SideBySide([11], too_large, workers=1) as side, pytest.raises(CivicgenException) as raised:
        side.wait()
    assert str(raised.value) == "11 bytes, more than 10"


def test_a_bug_comes_back_as_its_traceback() -> None:
    def broken(value: int) -> None:
        raise ValueError(f"no such value {value}")

    with SideBySide([7], broken, workers=1) as side, pytest.raises(WorkerCrashed) as raised:
        side.wait()
    assert "ValueError: no such value 7" in str(raised.value)
    assert "Traceback" in str(raised.value)


def test_a_process_that_dies_is_a_crash_not_a_silent_success() -> None:
    with (
        SideBySide([9], lambda code: os._exit(code), workers=1) as side,
        pytest.raises(WorkerCrashed),
    ):
        side.wait()


def test_a_fresh_civicgen_process_has_cores_to_spare() -> None:
    """What `civicgen build` imports starts no thread, so its languages do build side by side."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: nothing to spare")
    script = "import civicgen.cli, civicgen.build; print(civicgen.forked.spare_cores(64))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert int(done.stdout) == len(os.sched_getaffinity(0)) - 1


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
    with SideBySide([600.0], lambda s: threading.Event().wait(s), workers=1) as side:
        [(process, _)] = side.workers
    assert not process.is_alive()
