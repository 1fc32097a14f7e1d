"""The reference's row loop, prepared once per plan: field checkers and group folds.

Each field becomes one closure (its cast and constraints, bounds and patterns prepared
once, verdicts remembered per distinct text) and each GroupBy one generated function.
They do exactly what cast.cast, broken_constraint, group_key and partials.add
define, so reference.Scanner stays the spec; tests/test_hypothesis.py checks the
checkers against those functions cell by cell.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from ..stats.partials import Group, bucket, collapse, new_group
from .cast import (
    CASTERS,
    CHECKED_FORMATS,
    NOT_CAST,
    RawError,
    bound,
    broken_constraint,
    decimal_of,
    group_key,
    iso_datetime,
)
from .plan import FieldPlan, GroupBy

Checker = Callable[[int, Any], Any]  # (row, cell) -> value or None; errors go to the list
# values of these types are never lists or dicts, so they are their own key (hashable)
TYPED_KEYS = ("integer", "number", "boolean", "date", "time", "datetime", "year", "yearmonth")
JSON_TYPES = ("object", "array", "geojson")  # the only lists and dicts when cells are text
BOUND_TESTS = {
    "minimum": operator.lt,
    "maximum": operator.gt,
    "exclusiveMinimum": operator.le,
    "exclusiveMaximum": operator.ge,
}


def caster(field: FieldPlan) -> Callable[[Any], Any] | None:
    """cast(field, ·) without the dispatch; None when the value is the cell itself."""
    kind = field.type
    if kind == "string" and field.format not in CHECKED_FORMATS or kind == "any":
        return None
    if kind not in CASTERS:
        return None  # cast() treats an unknown type as "any"
    if kind == "integer" and field.bare_number:
        return cast_plain_integer
    plain = field.bare_number and not field.group_char and field.decimal_char == "."
    if kind == "number" and plain:
        return cast_plain_number
    if kind == "datetime" and field.format in ("default", "any"):
        return iso_datetime
    typed = CASTERS[kind]
    return lambda cell: typed(field, cell)


def cast_plain_integer(cell: Any) -> Any:
    """cast_integer of a bare-number field."""
    try:
        return int(cell.strip())
    except ValueError:
        return NOT_CAST


def cast_plain_number(cell: Any) -> Any:
    """cast_number of a bare-number field with "." decimals and no group separator."""
    return decimal_of(cell.strip())


def constraint_test(field: FieldPlan, name: str, rule: Any) -> Callable[[Any, Any], bool]:
    """broken_constraint for one constraint, its bound or pattern prepared once.

    When preparing fails (a bound that does not cast cleanly, a bad pattern), the test
    runs broken_constraint itself on every cell, so the cell fails as it would there.
    """
    try:
        if name in BOUND_TESTS:
            return bound_test(BOUND_TESTS[name], bound(field, rule))
        if name == "pattern":
            match = re.compile(str(rule)).fullmatch
            return lambda cell, value: not match(cell)
        if name == "enum":
            options = [bound(field, option) for option in rule]
            return lambda cell, value: value not in options
    except Exception:  # noqa: BLE001 - the per-cell path raises or reports it as before
        pass
    one = field._replace(constraints=((name, rule),))
    return lambda cell, value: broken_constraint(one, cell, value) is not None


def bound_test(compare: Callable[[Any, Any], Any], limit: Any) -> Callable[[Any, Any], bool]:
    def broken(cell: Any, value: Any) -> bool:
        try:
            return bool(compare(value, limit))
        except InvalidOperation:  # a NaN value breaks every bound (reference.breaks_bound)
            return value != value
        except TypeError:
            return False  # incomparable (a bound of another type): no verdict

    return broken


MEMO_SIZE = 1 << 15  # distinct cells a field remembers the verdict of; then it stops


def field_judge(field: FieldPlan) -> Callable[[Any], tuple[Any, str | None, str]] | None:
    """The verdict on a present cell: (value, error code or None, detail); None if always
    (cell, None, "") (a plain string without constraints)."""
    kind, cast_cell = field.type, caster(field)
    tests = tuple(
        (name, constraint_test(field, name, rule))
        for name, rule in field.constraints
        if name not in ("required", "unique")
    )
    if cast_cell is None and not tests:
        return None

    def judge(cell: Any) -> tuple[Any, str | None, str]:
        value = cell if cast_cell is None else cast_cell(cell)
        if value is NOT_CAST:
            return None, "type-error", kind
        for name, broken in tests:
            if broken(cell, value):
                return value, "constraint-error", name
        return value, None, ""

    return judge


def same_value(value: Any) -> bool:
    """Whether one shared object can stand for every cast of a text: immutable and equal to
    itself (a NaN is not: each cell's NaN is a distinct key, as the spec makes them)."""
    if type(value) is Decimal:
        return not value.is_nan()
    return type(value) in (int, str, bool, dt.date, dt.datetime, dt.time, type(None))


def json_valued(field: FieldPlan, text_cells: bool) -> bool:
    """Whether a value of the field may be a list or dict (it needs hashable() as a key)."""
    return field.type in JSON_TYPES if text_cells else field.type not in TYPED_KEYS


def field_checker(
    field: FieldPlan,
    number: int,
    required: bool,
    errors: list[RawError],
    seen: dict | None,
    keyed: Callable[[Any], Any] | None,
) -> Checker:
    """Scanner.cell for one field: missing, cast, first broken constraint, unique.

    The verdict is a function of the cell's text alone, so it is remembered for up to
    MEMO_SIZE distinct texts (codes, rounded measures); a field whose texts are mostly new
    (timestamps) stops remembering and judges every cell.
    """
    missing, judge = field.missing_values, field_judge(field)
    memo: dict[str, tuple[Any, str | None, str]] | None = {} if judge is not None else None

    def check(row: int, cell: Any) -> Any:
        nonlocal memo
        if cell in missing:
            if required:
                errors.append((row, number, "constraint-error", cell, "required"))
            return None
        if judge is None:
            value = cell
        else:
            verdict = memo.get(cell) if memo is not None and type(cell) is str else None
            if verdict is None:
                verdict = judge(cell)
                if memo is not None and type(cell) is str and same_value(verdict[0]):
                    memo[cell] = verdict
                    size = len(memo)
                    if size % 1024 == 0 and (size * 2 > row or size >= MEMO_SIZE):
                        memo = None  # most texts are new (timestamps), or too many
            value, code, detail = verdict
            if code is not None:
                errors.append((row, number, code, cell, detail))
                if code == "type-error":
                    return None
        if seen is not None:
            first = seen.setdefault(value if keyed is None else keyed(value), row)
            if first != row:
                errors.append((row, number, "unique-error", cell, str(first)))
        return value

    return check


# --- group folds -----------------------------------------------------------------------


def fold_source(group_by: GroupBy) -> str:
    """Python source of fold(cells, values) for one GroupBy, its keys and measures unrolled.

    Built from integers only. It does what group_key, new_group and partials.add do
    (min and max as comparisons, which give what min() and max() give, NaN included).
    """
    cuts = {"day": 10, "hour": 13}
    parts = []
    for index, transform, argument in group_by.keys:
        cut = int(argument) if transform == "prefix" else cuts.get(transform)
        parts.append(f"cells[{int(index)}]" + ("" if cut is None else f"[:{cut}]"))
    lines = [
        "def fold(cells, values):",
        "    try:",
        f"        key = ({''.join(part + ', ' for part in parts)})",
        "    except IndexError:",
        "        key = short_key(cells)",
        "    group = groups.get(key)",
        "    if group is None:",
        f"        group = groups[key] = new_group({len(group_by.measures)}, quantiles)",
    ]
    if group_by.limit and group_by.keys:  # past the limit, every row goes to the one group
        lines[-1:] = [
            "        group = groups.get(())",
            "        if group is None:",
            f"            group = groups[key] = new_group({len(group_by.measures)}, quantiles)",
            f"            if len(groups) > {int(group_by.limit)}:",
            "                group = collapse(groups)",
        ]
    lines += [
        "    group[0] += 1",
        "    states = group[1]",
    ]
    for m, index in enumerate(group_by.measures):
        lines += [
            f"    state = states[{m}]",
            f"    value = values[{int(index)}]",
            "    if value is None:",
            "        state[4] += 1",
            "    else:",
            "        value = float(value)",
            "        state[0] += 1",
            "        state[1] += value",
            "        if value < state[2]:",
            "            state[2] = value",
            "        if value > state[3]:",
            "            state[3] = value",
        ]
        if group_by.quantiles:
            lines.append("        sketch(state[5], value)")
    return "\n".join(lines) + "\n"


def fold_function(
    group_by: GroupBy, groups: dict[tuple[str, ...], Group]
) -> Callable[[list[Any], list[Any]], None]:
    """Fold a valid-enough row into its group; uncastable measures count as missing."""

    def short_key(cells: list[Any]) -> tuple[str, ...]:
        return tuple(
            group_key(cells[i] if i < len(cells) else "", transform, argument)
            for i, transform, argument in group_by.keys
        )

    scope: dict[str, Any] = {
        "groups": groups,
        "new_group": new_group,
        "quantiles": group_by.quantiles,
        "short_key": short_key,
        "sketch": sketch,
        "collapse": collapse,
    }
    exec(fold_source(group_by), scope)  # noqa: S102 - source made of integers, see fold_source
    return scope["fold"]


def sketch(counts: dict[int, int], value: float) -> None:
    """The sketch part of partials.add."""
    if math.isfinite(value):
        key = bucket(value)
        counts[key] = counts.get(key, 0) + 1
