"""frictionless's verdict on each descriptor: from the cache, from a process beside this one,
or found here.

Importing frictionless (pydantic, jsonschema) and making its first check takes 0.6 s on a
slow machine, and a large table's scan used to wait for it. So a validation forks a process
(`Beside`) that imports frictionless at once and checks each descriptor as it is read,
while this process loads and scans the data. Its verdicts are in before the report is made
(`pipeline.validate`); if one refuses its descriptor, the validation runs again with the
verdicts known, as it runs without the process: no data is reported against a descriptor
that frictionless refuses. Where no process can be forked (no spare core, other threads
running, not Linux), each descriptor is checked here, in turn.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import signal
import struct
from typing import Any

from .cache import ScanCache, entry_key
from .descriptor import without_profiles
from .errors import ERRORS, CivicError, DescriptorError

PIPE_SIZE = 1031  # fcntl.F_SETPIPE_SZ (Linux; Python 3.10 names it)
FRAME = struct.Struct("<Q")  # a message's length, before its pickled bytes; 0: no more
WARM_UP = {"resources": [{"name": "a", "path": "a.csv", "schema": {"fields": [{"name": "a"}]}}]}


class Verdicts:
    """frictionless's errors per descriptor: known (a validation's first run settled them),
    from the cache, asked of a process beside this one (forked at the first descriptor the
    cache does not know, if beside; nothing is wrong until it answers: settle), or found
    here. Leaving the block ends the process."""

    def __init__(
        self,
        cache: ScanCache | None,
        beside: bool = False,
        known: dict[str, list[CivicError]] | None = None,
    ) -> None:
        self.cache, self.may_fork, self.known = cache, beside, dict(known or {})
        self.beside: Beside | None = None

    def __enter__(self) -> Verdicts:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.beside is not None:
            self.beside.end()

    def of(self, descriptor: dict[str, Any], path: str) -> list[CivicError]:
        key = verdict_key(descriptor, path)
        if key in self.known:
            return self.known[key]
        found = self.cache.get_errors(key) if self.cache is not None else None
        if found is None and self.asked_beside(key, descriptor, path):
            return []
        if found is None:
            found = frictionless_errors(descriptor, path)
            if self.cache is not None:
                self.cache.put_errors(key, found)
        self.known[key] = found
        return found

    def asked_beside(self, key: str, descriptor: dict[str, Any], path: str) -> bool:
        if self.beside is None and self.may_fork:
            self.may_fork = False
            self.beside = Beside.forked()
        return self.beside is not None and self.beside.ask(key, descriptor, path)

    def all_asked(self) -> None:
        """Every descriptor is read: the process beside answers as soon as it is done."""
        if self.beside is not None:
            self.beside.finish()

    def settle(self) -> bool:
        """Wait for the process's answers (cached, and known from now); whether they all
        found nothing wrong."""
        answers = self.beside.answers() if self.beside is not None else {}
        for key, errors in answers.items():
            self.known[key] = errors
            if self.cache is not None:
                self.cache.put_errors(key, errors)
        return not any(answers.values())


def frictionless_errors(descriptor: dict[str, Any], path: str) -> list[CivicError]:
    """Descriptor errors found by frictionless itself (no data is read, nothing is fetched)."""
    from frictionless import Package as FrictionlessPackage

    try:
        report = FrictionlessPackage.validate_descriptor(without_profiles(descriptor))
    except Exception as exc:  # frictionless fails on some shapes it does not expect
        note = (
            f"frictionless cannot read this descriptor ({type(exc).__name__}); check that "
            "resources, schemas and fields are objects and lists as the specification says"
        )
        return [DescriptorError(note=note, path=path)]
    return [
        ERRORS.get(code, DescriptorError)(note=f"{note}; fix datapackage.json", path=path)
        for code, note in report.flatten(["type", "note"])
    ]


def verdict_key(descriptor: dict[str, Any], path: str) -> str:
    """The cache key of a descriptor's verdict: its content as frictionless sees it, its
    path and the frictionless version."""
    from importlib import metadata

    checked = json.dumps(without_profiles(descriptor), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(checked.encode("utf-8", "surrogatepass")).hexdigest()
    return entry_key(digest, (path, metadata.version("frictionless")), "descriptor")


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
