"""Mergeable partial aggregate states: count, sum, min, max, missing, quantile sketch.

A measure state is a list [count, total, minimum, maximum, missing, sketch]; a group
state is [rows, [measure states…]]. Two states of the same group merge into the state
of the rows of both, so a table can be scanned in chunks (on several cores, or on a
cluster) and the partials combined. The sketch keeps counts in logarithmic buckets
(relative accuracy 1 %, as DDSketch), so its size grows with the range of the values,
never with their number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

ACCURACY = 0.01
GAMMA = (1 + ACCURACY) / (1 - ACCURACY)
LOG_GAMMA = math.log(GAMMA)

Measure = list[Any]
Group = list[Any]
GroupMap = Mapping[tuple[str, ...], Group]  # a group-by's states by key: a dict, or Groups


class Groups(Mapping[tuple[str, ...], Group]):
    """A group-by's states, made on first read. The compiled kernel keeps them in C: a
    command that never reads them (validate) never makes the Python lists, 83,000 groups
    of a 5M-row sensor table. columns(): their compact form, as the cache writes it."""

    def __init__(self, build: Callable[[], dict[tuple[str, ...], Group]],
                 columns: Callable[[], list[Any]]) -> None:  # fmt: skip
        self.build, self.make_columns = build, columns
        self.built: dict[tuple[str, ...], Group] | None = None
        self.made: list[Any] | None = None

    def columns(self) -> list[Any]:
        """The compact form, made once: [keys, rows, counts, floats, sketches, quantiles]."""
        if self.made is None:
            self.made = self.make_columns()
        return self.made

    @property
    def states(self) -> dict[tuple[str, ...], Group]:
        if self.built is None:
            self.built = self.build()
        return self.built

    def __contains__(self, key: object) -> bool:
        """Whether a group has this key: the keys alone are read (so in iter and len)."""
        if self.built is not None:
            return key in self.built
        return isinstance(key, tuple) and list(key) in self.columns()[0]

    def __getitem__(self, key: tuple[str, ...]) -> Group:
        return self.states[key]

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        if self.built is not None:
            return iter(self.built)
        return (tuple(key) for key in self.columns()[0])

    def __len__(self) -> int:
        return len(self.built if self.built is not None else self.columns()[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self.states,))  # sent to another process as the dict it stands for


def new_measure(quantiles: bool = False) -> Measure:
    return [0, 0.0, math.inf, -math.inf, 0, {} if quantiles else None]


def new_group(measures: int, quantiles: bool = False) -> Group:
    return [0, [new_measure(quantiles) for _ in range(measures)]]


def bucket(value: float) -> int:
    """The sketch bucket of a value: signed log index, 0 for zero."""
    if value == 0:
        return 0
    index = math.ceil(math.log(abs(value)) / LOG_GAMMA) + 1_000_000
    return index if value > 0 else -index


def bucket_value(index: int) -> float:
    if index == 0:
        return 0.0
    magnitude = 2 * GAMMA ** (abs(index) - 1_000_000) / (GAMMA + 1)
    return magnitude if index > 0 else -magnitude


def add(state: Measure, value: float | None) -> None:
    """Fold one value (None: missing) into a measure state."""
    if value is None:
        state[4] += 1
        return
    state[0] += 1
    state[1] += value
    state[2] = min(state[2], value)
    state[3] = max(state[3], value)
    if state[5] is not None and math.isfinite(value):
        key = bucket(value)
        state[5][key] = state[5].get(key, 0) + 1


def merge_measure(a: Measure, b: Measure) -> Measure:
    sketch = None
    if a[5] is not None and b[5] is not None:
        sketch = dict(a[5])
        for key, count in b[5].items():
            sketch[key] = sketch.get(key, 0) + count
    return [a[0] + b[0], a[1] + b[1], min(a[2], b[2]), max(a[3], b[3]), a[4] + b[4], sketch]


def merge_group(a: Group, b: Group) -> Group:
    return [a[0] + b[0], [merge_measure(x, y) for x, y in zip(a[1], b[1], strict=True)]]


def merge_groups(a: dict[Any, Group], b: dict[Any, Group], limit: int = 0) -> dict[Any, Group]:
    """The groups of two chunks of the same table, combined (collapsed past limit)."""
    merged = dict(a)
    for key, group in b.items():
        merged[key] = merge_group(merged[key], group) if key in merged else group
    if limit and len(merged) > 1 and (len(merged) > limit or () in merged):
        collapse(merged)
    return merged


def collapse(groups: dict[Any, Group]) -> Group:
    """Merge every group, in order, into one under the key (): a GroupBy past its limit."""
    states = iter(groups.values())
    total = next(states)
    for group in states:
        total = merge_group(total, group)
    groups.clear()
    groups[()] = total
    return total


def mean(state: Measure) -> float | None:
    return state[1] / state[0] if state[0] else None


def quantile(state: Measure, q: float) -> float | None:
    """The q-quantile from the sketch, within 1 % of the true value."""
    if not state[0] or state[5] is None:
        return None
    rank = q * (state[0] - 1)
    seen = 0
    for key in sorted(state[5], key=bucket_value):
        seen += state[5][key]
        if seen > rank:
            return min(max(bucket_value(key), state[2]), state[3])
    return state[3]


def summary(state: Measure) -> dict[str, float | int | None]:
    """count, missing, sum, mean, min, max (and p95 with a sketch) of one measure."""
    empty = state[0] == 0
    result: dict[str, float | int | None] = {
        "count": state[0],
        "missing": state[4],
        "sum": state[1],
        "mean": mean(state),
        "min": None if empty else state[2],
        "max": None if empty else state[3],
    }
    if state[5] is not None:
        result["p95"] = quantile(state, 0.95)
    return result
