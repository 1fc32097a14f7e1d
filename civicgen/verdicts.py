"""frictionless's verdict on each descriptor: known without asking it (accepted.py), from the
cache, from a process beside this one (beside.py), or found here (frictionless_check.py).

A descriptor of the plain shape most packages keep to is accepted without frictionless, which
is not even imported. Importing it (pydantic, jsonschema) and making its first check takes
0.6 s on a slow machine, and a large table's scan used to wait for it. So for any other
descriptor a validation forks a process that imports frictionless at once and checks each
descriptor as it is read, while this process loads and scans the data. Its verdicts are in
before the report is made (`pipeline.validate`); if one refuses its descriptor, the
validation runs again with the verdicts known, as it runs without the process: no data is
reported against a descriptor that frictionless refuses. Where no process can be forked (no
spare core, other threads running, not Linux), each descriptor is checked here, in turn.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from .accepted import surely_accepted
from .cache import ScanCache, entry_key
from .descriptor import without_profiles
from .errors import CivicError
from .frictionless_check import frictionless_errors

if TYPE_CHECKING:
    from .beside import Beside


class Verdicts:
    """frictionless's errors per descriptor: none, if it surely accepts it (accepted.py);
    known (a validation's first run settled them); from the cache; asked of a process beside
    this one (forked at the first descriptor the cache does not know, if beside; nothing is
    wrong until it answers: settle); or found here. Leaving the block ends the process."""

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
        checked = without_profiles(descriptor)  # as frictionless is given it
        if surely_accepted(checked):
            return []
        key = verdict_key(checked, path)
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
            from .beside import Beside  # (pickle, signal: loaded when a process is forked)

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


def verdict_key(checked: dict[str, Any], path: str) -> str:
    """The cache key of a descriptor's verdict: its content as frictionless sees it (checked:
    without its profiles), its path and the frictionless version."""
    from importlib import metadata

    content = json.dumps(checked, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()
    return entry_key(digest, (path, metadata.version("frictionless")), "descriptor")
