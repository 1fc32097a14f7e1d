"""Reading order per station (scan/sequence.py): exact, in memory bounded by stations,
the same in both kernels, in one process and in chunks."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgen.scan import parallel, reference
from civicgen.scan.engine import compiled
from civicgen.scan.plan import compile_plan, keys_hashed
from civicgen.scan.sequence import (
    OVER,
    RUNS,
    States,
    Undecided,
    add,
    combine,
    combined,
    counts,
    is_over,
    keys_proven,
    micros,
    new_state,
)

RESOURCE = {
    "schema": {
        "fields": [
            {"name": "station", "type": "string"},
            {"name": "timestamp", "type": "datetime"},
            {"name": "pm25", "type": "number"},
        ]
    }
}
PLAN = compile_plan(RESOURCE, sequences=(("station", "timestamp"),))
needs_kernel = pytest.mark.skipif(compiled is None, reason="the compiled kernel is not built")


def by_definition(times: list[int]) -> tuple[int, int]:
    """(duplicates, out of order) of one station's times, straight from the definition."""
    duplicates = late = 0
    for index, time in enumerate(times):
        before = times[:index]
        if before and time < max(before):
            late += 1
        elif before and time == max(before):
            duplicates += 1
    return duplicates, late


def one_pass(times: list[int]) -> list:
    state = new_state(times[0])
    for time in times[1:]:
        add(state, time)
    return state


def parts_of(times: list[int], cuts: list[int]) -> list[States]:
    bounds = [0, *sorted(set(cuts)), len(times)]
    return [{"s": one_pass(times[a:b])} for a, b in itertools.pairwise(bounds) if a < b]


@given(st.lists(st.integers(0, 40), min_size=1, max_size=80))
def test_one_pass_counts_what_the_definition_says(times: list[int]) -> None:
    assert counts(one_pass(times)) == by_definition(times)


@settings(max_examples=300)
@given(
    st.lists(st.integers(0, 60), min_size=1, max_size=120),
    st.lists(st.integers(1, 119), max_size=6),
)
def test_parts_combine_to_the_one_pass_answer_or_say_they_cannot(
    times: list[int], cuts: list[int]
) -> None:
    cuts = [c for c in cuts if c < len(times)]
    merged: States = {}
    try:
        for part in parts_of(times, cuts):
            combine(merged, part)
    except Undecided:
        return  # the caller scans the parts as one
    assert counts(merged["s"]) == by_definition(times)


@given(st.lists(st.integers(0, 60), min_size=3, max_size=90))
def test_combining_is_associative(times: list[int]) -> None:
    """A state made of combined parts combines further as a state of one part would."""
    third = max(1, len(times) // 3)
    a, b, c = times[:third], times[third : 2 * third], times[2 * third :]
    if not (a and b and c):
        return
    try:
        left = combine(combine({"s": one_pass(a)}, {"s": one_pass(b)}), {"s": one_pass(c)})
        right = combine({"s": one_pass(a)}, combine({"s": one_pass(b)}, {"s": one_pass(c)}))
    except Undecided:
        return
    assert counts(left["s"]) == counts(right["s"]) == by_definition(times)


def test_sorted_parts_always_combine() -> None:
    """Readings in time order (what exports are) never leave the answer undecided."""
    times = sorted(random.Random(3).choices(range(10_000), k=5_000))
    merged: States = {}
    for part in parts_of(times, list(range(250, 5_000, 250))):
        combine(merged, part)
    assert counts(merged["s"]) == by_definition(times)


def test_memory_does_not_grow_with_readings() -> None:
    state = one_pass(list(range(100_000)))
    assert len(state[2]) == RUNS and state[3] == RUNS and counts(state) == (0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0001-01-01T00:00:00", 0),
        ("1970-01-01T00:00:00Z", 719162 * 86400 * 10**6),
        ("1970-01-01T01:00:00+01:00", 719162 * 86400 * 10**6),
        ("1970-01-01 00:00:01", (719162 * 86400 + 1) * 10**6),
        ("1970-01-02", 719163 * 86400 * 10**6),
        ("1970-01-01T00:00:00.5Z", 719162 * 86400 * 10**6 + 500_000),
        ("1970-01-01T01:00:00.123456789+01:00", 719162 * 86400 * 10**6 + 123_456),
        ("1970-01-01 00:00:00.000001", 719162 * 86400 * 10**6 + 1),
        ("1970-01-01T00:00:00.Z", None),
        ("1970-01-01T00:00:00.1234567890Z", None),
        ("1970-01-01T00:00:00.5+01", None),
        ("2024-02-30T00:00:00Z", None),
        ("2024-01-01T24:00:00Z", None),
        ("2024-01-01T00:00Z", None),
        ("٢٠٢٤-01-01", None),
        ("", None),
    ],
)
def test_times_are_read_as_the_compiled_kernel_reads_them(text: str, expected: int | None) -> None:
    assert micros(text) == expected
    if compiled is not None:
        data = f"station,timestamp,pm25\ns1,{text},1\n".encode()
        states = compiled.scan_csv(data, PLAN).sequences[0]
        assert (states["s1"][1] if states else None) == expected


def readings_csv(rows: int, shuffle: float, seed: int = 1) -> bytes:
    """Readings of 40 stations a minute apart, some listed late, some repeated, some broken."""
    rng = random.Random(seed)
    lines = ["station,timestamp,pm25"]
    for i in range(rows):
        minute = i // 40
        if rng.random() < shuffle:
            minute = max(0, minute - rng.randint(0, 500))
        stamp = f"2025-01-{1 + minute // 1440:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:00Z"
        station = "" if rng.random() < 0.001 else f"s{i % 40}"
        stamp = "yesterday" if rng.random() < 0.001 else stamp
        lines.append(f"{station},{stamp},{i % 97}")
        if rng.random() < 0.002:
            lines.append(lines[-1])
    return ("\n".join(lines) + "\n").encode()


@needs_kernel
@pytest.mark.parametrize("shuffle", [0.0, 0.001, 0.2])
def test_both_kernels_and_the_chunked_scan_agree(shuffle: float) -> None:
    data = readings_csv(60_000, shuffle)
    expected = reference.scan_csv(data, PLAN).sequences
    assert compiled.scan_csv(data, PLAN).sequences == expected
    chunked = parallel.scan_csv_parallel(data, PLAN, workers=2, chunk_size=100_000)
    assert chunked.sequences == expected
    late = sum(counts(state)[1] for state in expected[0].values())
    assert (late > 0) == (shuffle > 0)


@needs_kernel
def test_a_chunk_that_cannot_be_told_is_scanned_again_as_one() -> None:
    """One station's readings, listed twice in full: the second copy's chunks are all
    earlier than the first's latest, so the chunks' states cannot say more than RUNS."""
    lines = [f"s1,2025-01-01T{m // 60:02d}:{m % 60:02d}:00Z,1" for m in range(1440)]
    data = ("station,timestamp,pm25\n" + "\n".join(lines * 2) + "\n").encode()
    parts = [
        compiled.scan_csv(b"station,timestamp,pm25\n" + "\n".join(half).encode() + b"\n", PLAN)
        for half in (lines, lines)
    ]
    with pytest.raises(Undecided):
        combine(parts[0].sequences[0], parts[1].sequences[0])
    chunked = parallel.scan_csv_parallel(data, PLAN, workers=2, chunk_size=len(data) // 3)
    assert counts(chunked.sequences[0]["s1"]) == by_definition(list(range(1440)) * 2) == (1, 1439)


@needs_kernel
def test_the_compiled_kernel_keeps_as_many_runs_as_the_reference() -> None:
    lines = [f"s1,2025-01-01T00:{m:02d}:00Z,1" for m in range(60)]
    data = ("station,timestamp,pm25\n" + "\n".join(lines) + "\n").encode()
    [states] = compiled.scan_csv(data, PLAN).sequences
    assert states == reference.scan_csv(data, PLAN).sequences[0]
    assert len(states["s1"][2]) == RUNS and states["s1"][3] is not None


@needs_kernel
@pytest.mark.parametrize("limit", [40, 39, 10])
def test_past_its_limit_of_stations_a_sequence_follows_none(limit: int) -> None:
    """40 stations: a limit of 40 keeps them all; below it, both kernels and the chunked
    scan let every station go (one OVER entry: memory stays bounded on a column of mostly
    distinct values), and the sensor statistics then give no order figures."""
    data = readings_csv(20_000, 0.01)
    plan = compile_plan(RESOURCE, sequences=(("station", "timestamp"),), max_keys=limit)
    expected = reference.scan_csv(data, plan).sequences
    assert compiled.scan_csv(data, plan).sequences == expected
    chunked = parallel.scan_csv_parallel(data, plan, workers=2, chunk_size=60_000)
    assert chunked.sequences == expected
    if limit >= 40:
        assert expected == reference.scan_csv(data, PLAN).sequences and len(expected[0]) == 40
    else:
        assert expected == [{OVER: [0, 0, [], None, 0]}] and is_over(expected[0])


def test_chunks_each_under_the_limit_can_be_over_it_together() -> None:
    """Two parts of 30 stations each, 60 in all, with a limit of 50."""
    first = {f"s{i}": new_state(i) for i in range(30)}
    second = {f"s{i}": new_state(100 + i) for i in range(30, 60)}
    assert combined([[first], [second]], [50]) == [{OVER: [0, 0, [], None, 0]}]
    assert len(combined([[dict(first)], [dict(second)]], [60])[0]) == 60


# --- a primary key proven unique by its stations' order (plan.ordered_key) ---------------------

KEYED = {"schema": {**RESOURCE["schema"], "primaryKey": ["station", "timestamp"]}}
KEYED_PLAN = compile_plan(KEYED, sequences=(("station", "timestamp"),))


def keyed_csv(lines: list[str]) -> bytes:
    return ("station,timestamp,pm25\n" + "\n".join(lines) + "\n").encode()


def in_order(rows: int = 4_000) -> list[str]:
    return [
        f"s{i % 40},2025-01-01T{i // 40 // 60:02d}:{i // 40 % 60:02d}:00Z,1" for i in range(rows)
    ]


def test_only_a_text_station_and_its_time_prove_a_key() -> None:
    assert KEYED_PLAN.ordered_key == 0 and keys_hashed(KEYED_PLAN) is False
    assert compile_plan(KEYED).ordered_key == -1  # no sequence: every key is kept
    numbered = {"schema": {**KEYED["schema"], "fields": [
        {"name": "station", "type": "integer"}, *RESOURCE["schema"]["fields"][1:]]}}  # fmt: skip
    assert compile_plan(numbered, sequences=(("station", "timestamp"),)).ordered_key == -1
    wider = {"schema": {**KEYED["schema"], "primaryKey": ["station", "timestamp", "pm25"]}}
    assert compile_plan(wider, sequences=(("station", "timestamp"),)).ordered_key == -1


@needs_kernel
def test_readings_in_order_keep_no_key() -> None:
    """In order, no row's key is kept (memory bounded by stations): a chunk collects no
    key hashes, and the scan is the reference's."""
    data = keyed_csv(in_order())
    scan = compiled.scan_range(data, KEYED_PLAN, len(b"station,timestamp,pm25\n"), len(data),
                               2, 3, False, 4)  # fmt: skip
    assert all(tags == rows == b"" for tags, rows in scan.deferred_keys())
    result = scan.result()
    assert result.unplaced == 0 and keys_proven(KEYED_PLAN, result.sequences, result.unplaced)
    assert compiled.scan_csv(data, KEYED_PLAN) == reference.scan_csv(data, KEYED_PLAN)


def planted_keys(kind: str) -> list[str]:
    """Readings in order but for one planted row."""
    lines = in_order()
    if kind == "repeated":  # the same reading again, next to itself
        lines.insert(101, lines[100])
    elif kind == "late-repeat":  # an early reading again much later: not the latest time
        lines.insert(3_000, lines[5])
    elif kind == "late-unique":  # a reading listed late, at a time not seen before
        lines.insert(3_000, "s5,2025-01-01T00:00:30Z,1")
    elif kind == "no-station":  # two rows whose key is (no station, the same time)
        lines[200] = ",2025-01-01T00:05:00Z,1"
        lines[240] = ",2025-01-01T00:05:00Z,2"
    elif kind == "missing-token":  # two spellings of no station at one time
        lines[200] = "NA,2025-01-01T00:05:00Z,1"
        lines[240] = "n/a,2025-01-01T00:05:00Z,2"
    elif kind == "unread-time":  # a time the sequence cannot read, as a key twice
        lines[200] = "s0,yesterday,1"
        lines[300] = "s0,yesterday,2"
    return lines


@needs_kernel
@pytest.mark.parametrize(
    "kind",
    ["none", "repeated", "late-repeat", "late-unique", "no-station", "missing-token",
     "unread-time"],
)  # fmt: skip
def test_a_key_the_order_cannot_prove_is_looked_up(kind: str) -> None:
    """Whatever breaks the order (a repeat, a late reading, a row the sequence does not
    place), the result is the reference's, which looks every key up: in one process and
    in chunks."""
    resource = KEYED
    if kind == "missing-token":
        resource = {"schema": {**KEYED["schema"], "missingValues": ["", "NA", "n/a"]}}
    plan = compile_plan(resource, sequences=(("station", "timestamp"),))
    data = keyed_csv(planted_keys(kind))
    expected = reference.scan_csv(data, plan)
    duplicates = [e for e in expected.errors if e[2] == "primary-key" and e[4]]
    assert bool(duplicates) == (kind not in ("none", "late-unique")), expected.errors
    assert compiled.scan_csv(data, plan) == expected
    chunked = parallel.scan_csv_parallel(data, plan, workers=2, chunk_size=len(data) // 3)
    assert chunked.errors == expected.errors and chunked.sequences == expected.sequences


@needs_kernel
def test_past_its_limit_of_stations_keys_are_looked_up() -> None:
    lines = in_order()
    lines.insert(2_000, lines[1_000])
    plan = compile_plan(KEYED, sequences=(("station", "timestamp"),), max_keys=10)
    data = keyed_csv(lines)
    expected = reference.scan_csv(data, plan)
    assert [e[2] for e in expected.errors] == ["primary-key"]
    assert compiled.scan_csv(data, plan) == expected
