"""Jobs run side by side in forked processes, one per spare core, where the platform allows.

A forked process starts with everything this one has read (the data, validated and gathered
once), so nothing is read or sent twice; it reports back only how its jobs ended. Where there
is no spare core, no fork (Windows, macOS' unsafe one) or other threads run (a fork copies
none of them, and any lock they hold stays held), the jobs are left to the caller.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Generic, TypeVar

from .exceptions import CivicgenException

Job = TypeVar("Job")


class WorkerCrashed(RuntimeError):
    """A forked process stopped on an error that is not civicgen's (a bug): its traceback."""


def spare_cores(wanted: int) -> int:
    """How many processes to fork for wanted jobs: one per core beyond this one's."""
    if wanted == 0 or sys.platform != "linux" or threading.active_count() > 1:
        return 0
    return min(wanted, len(os.sched_getaffinity(0)) - 1)


class SideBySide(Generic[Job]):
    """Forks processes that each run run(job) for their share of jobs; `left` holds the jobs
    no process took (all of them where none could be forked). wait() raises the first
    CivicgenException a process met, as it was raised there; leaving the block kills them.
    workers: how many processes to fork (by default, spare_cores)."""

    def __init__(
        self, jobs: Sequence[Job], run: Callable[[Job], None], workers: int | None = None
    ) -> None:
        workers = spare_cores(len(jobs)) if workers is None else min(workers, len(jobs))
        self.left: list[Job] = [] if workers else list(jobs)
        self.workers: list[tuple[BaseProcess, Connection]] = [
            fork(list(jobs[start::workers]), run) for start in range(workers)
        ]

    def __enter__(self) -> SideBySide[Job]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process, receiver in self.workers:
            if process.is_alive():
                process.kill()
            process.join()
            receiver.close()

    def wait(self) -> None:
        for process, receiver in self.workers:
            try:
                outcome, detail = receiver.recv()
            except EOFError:
                outcome, detail = "crash", "the process ended without a word"
            process.join()
            if outcome == "fault":
                raise rebuilt(*detail)
            if outcome == "crash":
                raise WorkerCrashed(detail)


def rebuilt(kind: type[CivicgenException], message: str) -> CivicgenException:
    """The exception a process met, made again here: its class, else civicgen's own."""
    try:
        return kind(message)
    except TypeError:  # a class made from other arguments than its message
        return CivicgenException(message)


def fork(jobs: list[Job], run: Callable[[Job], None]) -> tuple[BaseProcess, Connection]:
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=work, args=(jobs, run, sender), daemon=True)
    process.start()
    sender.close()
    return process, receiver


def work(jobs: list[Job], run: Callable[[Job], None], sender: Connection) -> None:
    """In the forked process: run each job, then say how they ended."""
    try:
        for job in jobs:
            run(job)
    except CivicgenException as exc:
        sender.send(("fault", (type(exc), str(exc))))
    except BaseException:  # noqa: BLE001 - a bug: its traceback goes back whole
        sender.send(("crash", traceback.format_exc()))
    else:
        sender.send(("done", None))
