"""frictionless's verdicts on the descriptors, found in a process beside the validation
(civicgen/verdicts.py): the same report as when they are found in turn, in this process.

Each run is a fresh process, as users run civicgen: a process with other threads (pytest's
workers may have some) forks nothing, and a thread started by the script makes one such.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, replace_in

from civicgen.beside import Beside
from civicgen.frictionless_check import frictionless_errors

SCRIPT = """
import json, sys, threading
if sys.argv[2] == "in turn":  # a thread running: no process is forked beside this one
    threading.Thread(target=threading.Event().wait, daemon=True).start()
from civicgen.pipeline import validate
validation = validate([sys.argv[1]])
print(json.dumps({
    "errors": validation.report.flatten(["path", "row", "field", "code", "message"]),
    "valid": validation.report.valid,
    "verdicts": [validation.cache.finding_hits, validation.cache.finding_misses],
    "frictionless imported": "frictionless" in sys.modules,
}))
"""


TWO_CORES = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="one core: no process is forked beside"
)


def validated(portal: Path, cache: Path, how: str) -> dict[str, Any]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache)}
    found = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(portal), how],
        env=environment, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(found.stdout)
    return result


def outside_the_plain_shape(portal: Path) -> int:
    """Give every descriptor a creation date, which frictionless checks with a parser of its
    own (accepted.py leaves it to it); how many descriptors there are."""
    descriptors = sorted(portal.rglob("datapackage.json"))
    for path in descriptors:
        replace_in(path, "{", '{"created": "2024-05-01T10:00:00Z", ')
    return len(descriptors)


def test_a_plain_shaped_city_is_validated_without_frictionless(
    portal: Path, tmp_path: Path
) -> None:
    """The example city keeps to the shape frictionless surely accepts: a cold run forks
    nothing, asks nothing, and never imports frictionless."""
    for how in ("beside", "in turn"):
        cold = validated(portal, tmp_path / how, how)
        assert cold["valid"] and cold["verdicts"] == [0, 0]
        assert not cold["frictionless imported"]


@TWO_CORES
def test_the_descriptors_are_checked_beside_and_their_verdicts_cached(
    portal: Path, tmp_path: Path
) -> None:
    """A cold run asks the process beside (this process never imports frictionless); a warm
    one reads every verdict from the cache and forks nothing that imports it."""
    descriptors = outside_the_plain_shape(portal)
    beside, warm = (validated(portal, tmp_path / "c", "beside") for _ in range(2))
    in_turn = validated(portal, tmp_path / "other", "in turn")
    assert beside["valid"] and warm["valid"] and in_turn["valid"]
    assert not beside["frictionless imported"] and in_turn["frictionless imported"]
    misses = beside["verdicts"][1]
    assert misses == descriptors >= 4
    assert warm["verdicts"] == [misses, 0] and in_turn["verdicts"][1] == misses
    assert not warm["frictionless imported"]


@TWO_CORES
def test_a_descriptor_refused_beside_reports_as_in_turn(portal: Path, tmp_path: Path) -> None:
    """frictionless refuses a descriptor (a field type it does not know) while its data,
    which has errors of its own, is read: the report gives the descriptor's error alone, as
    when the verdict comes first."""
    replace_in(
        portal / "datasets/air-quality/datapackage.json", '"type": "number"', '"type": "numbr"'
    )
    replace_in(portal / "datasets/air-quality/data/stations.csv", "40.4234", "north")
    beside = validated(portal, tmp_path / "a", "beside")
    in_turn = validated(portal, tmp_path / "b", "in turn")
    assert not beside["frictionless imported"] and in_turn["frictionless imported"]
    assert not beside["valid"] and beside["errors"] == in_turn["errors"]
    assert [(path, code) for path, _, _, code, _ in beside["errors"]] == [
        ("datasets/air-quality/datapackage.json", "field-error")
    ]
    assert "numbr" in beside["errors"][0][4]


DESCRIPTORS = [
    ({"name": "ok", "resources": [{"name": "t", "path": "t.csv"}]}, "a/datapackage.json"),
    ({"name": "bad", "resources": [{"name": "t", "path": "t.csv", "schema": {
        "fields": [{"name": "x", "type": "numbr"}]}}]}, "b/datapackage.json"),
]  # fmt: skip


def test_the_process_beside_answers_as_frictionless() -> None:
    beside = Beside()
    try:
        for number, (descriptor, path) in enumerate(DESCRIPTORS):
            assert beside.ask(f"key{number}", descriptor, path)
        answers = beside.answers()
    finally:
        beside.end()
    expected = [frictionless_errors(descriptor, path) for descriptor, path in DESCRIPTORS]
    assert list(answers.values()) == expected and expected[0] == [] and expected[1]


def test_a_process_beside_that_dies_leaves_the_verdicts_to_this_one() -> None:
    """Killed before it answers (out of memory, say): the verdicts are found here, never
    taken as nothing wrong."""
    beside = Beside()
    try:
        for number, (descriptor, path) in enumerate(DESCRIPTORS):
            beside.ask(f"key{number}", descriptor, path)
        os.kill(beside.pid, signal.SIGKILL)
        answers = beside.answers()
    finally:
        beside.end()
    assert answers["key1"] == frictionless_errors(*DESCRIPTORS[1]) != []
