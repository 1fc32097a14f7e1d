"""The process beside a validation: it imports frictionless at once and checks each
descriptor sent to it while the validation loads and scans the data (verdicts.py decides
what it is asked)."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
from typing import Any

from .errors import CivicError
from .frictionless_check import frictionless_errors

PIPE_SIZE = 1031  # fcntl.F_SETPIPE_SZ (Linux; Python 3.10 names it)
FRAME = struct.Struct("<Q")  # a message's length, before its pickled bytes; 0: no more
WARM_UP = {"resources": [{"name": "a", "path": "a.csv", "schema": {"fields": [{"name": "a"}]}}]}


class Beside:
    """A forked process that imports frictionless at once, then checks the descriptors sent
    to it until it is told no more will come (finish); then it sends its answers, all
    together (answers), and exits, so that it holds no memory while the data is scanned.
    end() reaps it."""

    def __init__(self) -> None:
        import fcntl  # Unix only, as fork is

        self.asked: dict[str, tuple[dict[str, Any], str]] = {}
        requests, self.requests = os.pipe()
        self.replies, replies = os.pipe()
        for pipe in (self.requests, replies):  # room for descriptors while it imports, and
            with contextlib.suppress(OSError):  # for its answers until they are read
                fcntl.fcntl(pipe, PIPE_SIZE, 1 << 20)
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the forked process, measured from outside
            os.close(self.requests)
            os.close(self.replies)
            serve(requests, replies)
        os.close(requests)
        os.close(replies)
        self.finished = self.ended = False
        self.settled: dict[str, list[CivicError]] | None = None

    @classmethod
    def forked(cls) -> Beside | None:
        """A process beside this one, if a core is spare and no other thread runs."""
        from .forked import spare_cores  # (multiprocessing: not on every run's start-up)

        return cls() if spare_cores(1) else None

    def ask(self, key: str, descriptor: dict[str, Any], path: str) -> bool:
        """Send a descriptor to be checked; False if the process is gone (check it here)."""
        if self.finished or key in self.asked:
            return key in self.asked
        try:
            send(self.requests, (descriptor, path))
        except OSError:
            return False
        self.asked[key] = (descriptor, path)
        return True

    def answers(self) -> dict[str, list[CivicError]]:
        """The verdicts on every descriptor asked about: the process's, or, if it stopped
        before it answered, found here."""
        if self.settled is None:
            found = self.wait() if self.asked else []
            if found is None or len(found) != len(self.asked):
                found = [frictionless_errors(*asked) for asked in self.asked.values()]
            self.settled = dict(zip(self.asked, found, strict=True))
        return self.settled

    def finish(self) -> None:
        """Tell the process that no more descriptors will come."""
        if not self.finished:
            self.finished = True
            with contextlib.suppress(OSError):  # gone: answers finds the verdicts here
                os.write(self.requests, FRAME.pack(0))

    def wait(self) -> list[list[CivicError]] | None:
        self.finish()
        try:
            found = receive(self.replies)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None
        return found if isinstance(found, list) else None

    def end(self) -> None:
        """Close the pipes and reap the process (killed, if it is still at work); once."""
        if self.ended:
            return
        self.ended = True
        for descriptor in (self.requests, self.replies):
            with contextlib.suppress(OSError):
                os.close(descriptor)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):  # reaped already
            os.waitpid(self.pid, 0)


def serve(requests: int, replies: int) -> None:  # pragma: no cover - runs in the fork
    """The process beside: frictionless imported before the first descriptor comes, each
    checked as it comes; all the answers sent when no more will come."""
    status = 1
    try:
        frictionless_errors(WARM_UP, "")  # imports frictionless, and what its first check loads

        found = []
        while (asked := receive(requests)) is not None:
            found.append(frictionless_errors(*asked))
        send(replies, found)
        status = 0
    finally:
        os._exit(status)


def send(descriptor: int, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(descriptor, view) :]


def receive(descriptor: int) -> Any:
    """The next message, or None for the end (a length of 0)."""
    (length,) = FRAME.unpack(read_exactly(descriptor, FRAME.size))
    return pickle.loads(read_exactly(descriptor, length)) if length else None


def read_exactly(descriptor: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(descriptor, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the process beside stopped")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
