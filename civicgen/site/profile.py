"""Column profiles of the tables as published: per field, the cells filled and empty, the
distinct values and, by type, the range, mean, median and sum of numbers; the earliest and
latest dates; the counts of true and false; the most frequent texts and their lengths.

A profile reads a table's published bytes (home stations already under their pseudonyms,
formulas neutralised), so it says nothing the download does not. One pass, in chunks of
rows: each column of a chunk is counted by collections.Counter (in C) into the column's
counts, and the measures are folded from the distinct values, each cast once. A column of
more than DISTINCT_LIMIT distinct values stops being counted as a whole (its distinct
count becomes "more than", its top values are dropped) and is folded chunk by chunk, so
time is linear in the cells and memory bounded by the limit.
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
import itertools
import operator
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..scan.cast import NOT_CAST, cast
from ..scan.plan import Dialect, FieldPlan
from ..scan.reference import csv_rows, decode
from ..validation import TableScan

NUMERIC = ("integer", "number")
TEMPORAL = ("date", "datetime", "time", "year", "yearmonth")
CHUNK = 4096  # rows counted at a time
DISTINCT_LIMIT = 10_000  # distinct values counted exactly per column; past it, "more than"
TOP = 5  # most frequent values shown per text column
SHOWN = 60  # characters of a value shown; the download has them all
MAX_DIGITS = 6  # decimals shown at most


@dataclass(frozen=True)
class ColumnProfile:
    """One column of a table, as a reader of the page sees it summed up.

    kind: "number" (low, high, mean, median, total, digits), "temporal" (low, high: the
    earliest and latest), "boolean" (trues, falses) or "text" (top, shortest, longest).
    distinct: the distinct filled values, None when more than DISTINCT_LIMIT.
    """

    name: str
    type: str
    kind: str
    filled: int
    empty: int
    distinct: int | None
    low: Any = None
    high: Any = None
    mean: Decimal | None = None
    median: Any = None  # None past DISTINCT_LIMIT: the values are no longer all counted
    total: Any = None
    digits: int = 0
    trues: int = 0
    falses: int = 0
    top: tuple[tuple[str, int], ...] = ()
    shortest: int | None = None
    longest: int | None = None

    @property
    def rows(self) -> int:
        return self.filled + self.empty

    @property
    def filled_share(self) -> float | None:
        return self.filled / self.rows if self.rows else None

    @property
    def empty_share(self) -> float | None:
        return self.empty / self.rows if self.rows else None

    @property
    def all_different(self) -> bool:
        """Every filled cell holds a value of its own (an identifier, a free text)."""
        return self.filled > 1 and self.distinct == self.filled

    @property
    def distinct_limit(self) -> int:
        return DISTINCT_LIMIT

    @property
    def median_digits(self) -> int:
        return min(max(self.digits, decimals(self.median)), MAX_DIGITS)

    @property
    def mean_digits(self) -> int:
        return min(self.digits + 1, MAX_DIGITS)


def kind_of(type_: str) -> str:
    if type_ in NUMERIC:
        return "number"
    if type_ in TEMPORAL:
        return "temporal"
    return "boolean" if type_ == "boolean" else "text"


def shortened(value: str) -> str:
    return value if len(value) <= SHOWN else value[: SHOWN - 1] + "…"


def decimals(value: Any) -> int:
    """Digits after the decimal point of a Decimal as written (0 for an int)."""
    exponent = value.as_tuple().exponent if isinstance(value, Decimal) else 0
    return min(-exponent, MAX_DIGITS) if isinstance(exponent, int) and exponent < 0 else 0


def finite(value: Any) -> bool:
    """An int, or a Decimal that is no NaN or infinity (those are in no range, nor a sum)."""
    return not isinstance(value, Decimal) or value.is_finite()


def moment_key(value: Any) -> Any:
    """An order for dates and times, with or without an offset (one with: as UTC)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None)
    return value


def moment_shown(value: Any) -> Any:
    """A date or datetime as it is (the page formats it); a time, year or month as text."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    if isinstance(value, tuple):
        return f"{value[0]:04d}-{value[1]:02d}"
    return value.isoformat() if isinstance(value, dt.time) else str(value)


@dataclass
class Tally:
    """What one column has shown so far: its counts (None past the limit) and measures."""

    plan: FieldPlan
    counts: Counter[str | None] | None = field(default_factory=Counter)
    filled: int = 0
    empty: int = 0
    low: Any = None
    high: Any = None
    total: Any = 0
    measured: int = 0
    numbers: list[tuple[Any, int]] = field(default_factory=list)  # the last fold's
    digits: int = 0
    trues: int = 0
    falses: int = 0
    shortest: int | None = None
    longest: int | None = None

    def add(self, cells: Iterable[str | None]) -> None:
        """Count one chunk of the column's cells (None: a row too short to have the cell)."""
        if self.counts is None:
            self.fold(Counter(cells))
            return
        self.counts.update(cells)
        if len(self.counts) - self.blanks(self.counts) > DISTINCT_LIMIT:
            self.fold(self.counts)
            self.counts = None

    def blanks(self, counts: Counter[str | None]) -> int:
        return sum(value in counts for value in (None, *self.plan.missing_values))

    def fold(self, counts: Counter[str | None]) -> None:
        """Fold counted cells into the measures (empties taken out of counts)."""
        for value in {None, *self.plan.missing_values}:
            self.empty += counts.pop(value, 0)
        self.filled += sum(counts.values())
        kind = kind_of(self.plan.type)
        present: dict[str, int] = {k: n for k, n in counts.items() if k is not None}
        if kind == "number":
            self.fold_numbers(present)
        elif kind == "temporal":
            self.fold_moments(present)
        elif kind == "boolean":
            self.trues += sum(n for k, n in present.items() if k in self.plan.true_values)
            self.falses += sum(n for k, n in present.items() if k in self.plan.false_values)
        elif present:
            self.fold_lengths(list(map(len, present)))

    def fold_lengths(self, lengths: list[int]) -> None:
        shortest, longest = min(lengths), max(lengths)
        self.shortest = shortest if self.shortest is None else min(self.shortest, shortest)
        self.longest = longest if self.longest is None else max(self.longest, longest)

    def fold_numbers(self, present: dict[str, int]) -> None:
        typed = [(cast(self.plan, k), n) for k, n in present.items()]
        numbers = [(x, n) for x, n in typed if x is not NOT_CAST and finite(x)]
        if not numbers:
            return
        values = [x for x, _ in numbers]
        self.extend(min(values), max(values), key=None)
        self.total += sum(x * n for x, n in numbers)
        self.measured += sum(n for _, n in numbers)
        self.digits = max(self.digits, *map(decimals, values))
        self.numbers = numbers

    def fold_moments(self, present: dict[str, int]) -> None:
        moments = [m for m in (cast(self.plan, k) for k in present) if m is not NOT_CAST]
        if moments:
            self.extend(min(moments, key=moment_key), max(moments, key=moment_key), moment_key)

    def extend(self, low: Any, high: Any, key: Any) -> None:
        """Widen the range seen so far to low..high (compared through key)."""
        order = key or (lambda v: v)
        if self.low is None or order(low) < order(self.low):
            self.low = low
        if self.high is None or order(high) > order(self.high):
            self.high = high

    def distinct(self, counts: Counter[str | None] | None, kind: str) -> int | None:
        """Distinct filled texts (None past the limit); of a boolean, of true and false."""
        if kind == "boolean":
            return int(self.trues > 0) + int(self.falses > 0)
        return None if counts is None else len(counts)

    def result(self) -> ColumnProfile:
        counts = self.counts
        if counts is not None:
            self.fold(counts)
        kind = kind_of(self.plan.type)
        temporal = kind == "temporal" and self.low is not None
        return ColumnProfile(
            name=self.plan.name,
            type=self.plan.type,
            kind=kind,
            filled=self.filled,
            empty=self.empty,
            distinct=self.distinct(counts, kind),
            low=moment_shown(self.low) if temporal else self.low,
            high=moment_shown(self.high) if temporal else self.high,
            mean=Decimal(self.total) / self.measured if self.measured else None,
            median=median(self.numbers) if counts is not None else None,
            total=self.total if self.measured else None,
            digits=self.digits,
            trues=self.trues,
            falses=self.falses,
            top=top_values(counts) if counts is not None and kind == "text" else (),
            shortest=self.shortest,
            longest=self.longest,
        )


def median(numbers: list[tuple[Any, int]]) -> Any:
    """The middle value of (value, count) pairs; of an even count, the mean of the two
    middle ones (None for no value)."""
    ordered = sorted(numbers, key=operator.itemgetter(0))
    total = sum(n for _, n in ordered)
    if not total:
        return None
    low, high = nth(ordered, (total - 1) // 2), nth(ordered, total // 2)
    return low if low == high else (Decimal(low) + high) / 2


def nth(ordered: list[tuple[Any, int]], index: int) -> Any:
    """The value at index (0-based) of sorted (value, count) pairs, counts unrolled."""
    seen = 0
    for value, n in ordered:
        seen += n
        if seen > index:
            return value
    raise IndexError(index)


def top_values(counts: Counter[str | None]) -> tuple[tuple[str, int], ...]:
    """The TOP most frequent values, shortened; ties broken by the value, so the same data
    always shows the same values."""
    best = heapq.nsmallest(TOP, counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple((shortened(str(value)), n) for value, n in best)


def chunk_columns(chunk: list[list[str]], width: int) -> list[tuple[str | None, ...]]:
    """The chunk's rows as width columns; a cell a short row lacks is None."""
    columns = list(itertools.zip_longest(*chunk))[:width]
    return columns + [(None,) * len(chunk)] * (width - len(columns))


def profile_rows(rows: Iterable[list[str]], fields: tuple[FieldPlan, ...]) -> list[ColumnProfile]:
    """The profile of each field over data rows (header rows already left out); a malformed
    CSV record (csv.Error, which the scan reported) ends the rows."""
    tallies = [Tally(f) for f in fields]
    iterator, more = iter(rows), True
    while more:
        chunk, more = next_chunk(iterator)
        for tally, cells in zip(tallies, chunk_columns(chunk, len(fields)), strict=True):
            tally.add(cells)
    return [tally.result() for tally in tallies]


def next_chunk(rows: Iterator[list[str]]) -> tuple[list[list[str]], bool]:
    """Up to CHUNK rows, and whether more may follow (not after the end nor an error)."""
    chunk: list[list[str]] = []
    try:
        chunk.extend(itertools.islice(rows, CHUNK))  # the rows before an error are kept
    except csv.Error:
        return chunk, False
    return chunk, len(chunk) == CHUNK


def data_rows(data: bytes, dialect: Dialect) -> Iterator[list[str]]:
    """The rows below the header of a CSV file, through its dialect and encoding (none when
    it cannot be read: the scan has reported why)."""
    text, problem = decode(data, dialect.encoding)
    if problem:
        return iter(())
    header = max(dialect.header_rows, default=0)
    return map(operator.itemgetter(1), itertools.islice(csv_rows(text, dialect), header, None))


def table_profile(scanned: TableScan, data: bytes) -> list[ColumnProfile]:
    """The profile of one table from its published bytes (a collection's: civicgen's CSV)."""
    dialect = Dialect() if scanned.is_collection else scanned.plan.dialect
    return profile_rows(data_rows(data, dialect), scanned.plan.fields)
