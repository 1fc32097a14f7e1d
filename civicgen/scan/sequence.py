"""Readings in time order per station, counted in one pass in memory bounded by stations.

A reading is *out of order* when its time is earlier than a reading of its station
listed before it (a repeat of an earlier time counts here); it is a *duplicate* when
its time equals the latest time of its station listed before it.

One station's state is a list [late, latest, runs, rest, rest_duplicates]:
late counts readings out of order; latest is the latest time so far; runs are the first
distinct times (at most RUNS) that were each a new latest, as [time, readings at it];
rest is the first such time after them (None if there is none) and rest_duplicates the duplicates of
the later ones. Times are microseconds (UTC when the text has an offset).

States of consecutive parts of a file (chunks, partitions, files of one resource)
combine into the state of the whole, in file order: a later part's readings are
compared with the earlier parts' latest time through its kept runs. Only when a part's
kept runs all fall at or before that time and it has more is the answer unknown
(Undecided): the caller scans the parts as one. Both kernels keep these states.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from .plan import Sequence, TablePlan

RUNS = 16  # kept times per station and part: enough for parts that overlap a little
OVER = ""  # the one key of a sequence past its limit of stations (an empty key is never one)
State = list[Any]  # [late, latest, runs, rest, rest_duplicates]
States = dict[str, State]  # per station (the key cell's text)
STAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})?)?"
)


class Undecided(Exception):
    """A part's order cannot be told from its kept runs: scan the parts as one."""


def micros(text: str) -> int | None:
    """An ISO date or date-time (seconds, an optional fraction of up to 9 digits, optional
    Z or ±HH:MM) as microseconds (a finer fraction cut), else None; the compiled kernel's
    parse_moment reads the same."""
    found = STAMP.fullmatch(text)
    if found is None:
        return None
    year, month, day = int(found[1]), int(found[2]), int(found[3])
    hour, minute, second = (int(found[i] or 0) for i in (4, 5, 6))
    if hour > 23 or minute > 59 or second > 59:
        return None
    try:
        days = date(year, month, day).toordinal() - 1
    except ValueError:
        return None
    fraction = int((found[7] or "").ljust(6, "0")[:6])
    offset = 0
    zone = found[8]
    if zone and zone != "Z":
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 23 or zone_minutes > 59:
            return None
        offset = (zone_hours * 60 + zone_minutes) * 60 * (-1 if zone[0] == "-" else 1)
    return (days * 86400 + hour * 3600 + minute * 60 + second - offset) * 1_000_000 + fraction


def new_state(time: int) -> State:
    return [0, time, [[time, 1]], None, 0]


def add(state: State, time: int) -> None:
    """One more reading of the state's station, listed after all before."""
    latest = state[1]
    if time < latest:
        state[0] += 1
    elif time == latest:
        repeat(state, 1)
    else:
        newer(state, time, 1)


def repeat(state: State, count: int) -> None:
    """count more readings at the latest time: duplicates."""
    if state[3] is None:
        state[2][-1][1] += count
    else:
        state[4] += count


def newer(state: State, time: int, count: int) -> None:
    """count readings at a time later than the latest: the first is new, the rest duplicates."""
    state[1] = time
    if state[3] is not None:
        state[4] += count - 1
    elif len(state[2]) < RUNS:
        state[2].append([time, count])
    else:
        state[3] = time
        state[4] += count - 1


def combine(before: States, after: States) -> States:
    """The states of two consecutive parts of a file as one (before is changed)."""
    if is_over(before) or is_over(after):
        overflowed(before)
        return before
    for station, later in after.items():
        state = before.get(station)
        if state is None:
            before[station] = copied(later)
            continue
        late, _, runs, rest, rest_duplicates = later
        state[0] += late
        for time, count in runs:
            if time < state[1]:
                state[0] += count
            elif time == state[1]:
                repeat(state, count)
            else:
                newer(state, time, count)
        if rest is not None:
            if rest <= state[1]:
                raise Undecided(station)
            if state[3] is None:
                state[3] = rest
            state[1] = later[1]
            state[4] += rest_duplicates
    return before


def copied(state: State) -> State:
    return [state[0], state[1], [list(run) for run in state[2]], state[3], state[4]]


def combined(parts: list[list[States]], limits: list[int] | None = None) -> list[States]:
    """Per sequence, the states of parts listed in file order, combined (each sequence at
    most its limit of stations, if given)."""
    if not parts:
        return []
    merged: list[States] = [{} for _ in parts[0]]
    for part in parts:
        for states, more in zip(merged, part, strict=True):
            combine(states, more)
    for states, limit in zip(merged, limits or [], strict=False):
        if limit and len(states) > limit:
            overflowed(states)
    return merged


def overflowed(states: States) -> None:
    """Past the limit: no station is followed any more (one OVER entry)."""
    states.clear()
    states[OVER] = [0, 0, [], None, 0]


def is_over(states: States) -> bool:
    return OVER in states


def keys_proven(plan: TablePlan, sequences: list[States], unplaced: int) -> bool:
    """Whether a scan that kept no primary key (plan.ordered_key) has shown it unique: every
    keyed row was a reading of its station later than all before it."""
    if plan.ordered_key < 0:
        return True
    states = sequences[plan.ordered_key]
    return (
        not unplaced
        and not is_over(states)
        and all(
            state[0] == 0 and state[4] == 0 and all(count == 1 for _, count in state[2])
            for state in states.values()
        )
    )


def counts(state: State) -> tuple[int, int]:
    """(duplicates, out of order) of a station's state."""
    return sum(count - 1 for _, count in state[2]) + state[4], state[0]


def fold_function(sequence: Sequence, states: States) -> Callable[[list[Any]], None]:
    """The reference kernel's per-row update of one sequence, from the row's cell texts."""
    key, when, limit = sequence

    def fold(cells: list[Any]) -> None:
        if key >= len(cells) or when >= len(cells) or not cells[key] or is_over(states):
            return
        time = micros(cells[when]) if isinstance(cells[when], str) else None
        if time is None:
            return
        state = states.get(cells[key])
        if state is None:
            if limit and len(states) >= limit:
                overflowed(states)
                return
            states[cells[key]] = new_state(time)
        else:
            add(state, time)

    return fold
