"""Fuzz the compiled kernel's scan_csv: random bytes and a random plan, checked against the
reference (the spec). A crash, a hang, a memory blow-up or any difference is a finding.

    PYTHONPATH=$PWD python fuzz/fuzz_csv.py fuzz/corpus/csv -max_total_time=300 \\
        -rss_limit_mb=2048 -timeout=10

The first bytes of an input choose the plan (fields, types, constraints, keys, dialect,
limits, aggregates); the rest is the CSV file. The reference's Python is instrumented, so
libFuzzer steers towards inputs that reach new paths of the spec.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    from civicgen.scan import checkers, reference  # noqa: F401 (instrumented for coverage)
    from civicgen.scan.plan import CsvLimits, GroupBy, compile_plan

from civicgen.scan import _kernel

TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "year", "any", "time")
DELIMITERS = (",", ";", "\t", "|", " ", ":", "'")
QUOTES = ('"', "'", "~", ",")
HEADERS = ({}, {"header": False}, {"headerRows": [1, 2]}, {"headerRows": [2]})
PATTERNS = ("[a-z]+", "\\d{1,3}", ".*")


def field(fdp: atheris.FuzzedDataProvider, index: int) -> dict[str, Any]:
    """One field: a type and a few constraints."""
    type_ = TYPES[fdp.ConsumeIntInRange(0, len(TYPES) - 1)]
    constraints: dict[str, Any] = {}
    for name in ("required", "unique"):
        if fdp.ConsumeBool():
            constraints[name] = True
    if fdp.ConsumeBool():
        constraints["minimum" if fdp.ConsumeBool() else "maximum"] = fdp.ConsumeIntInRange(-9, 99)
    if fdp.ConsumeIntInRange(0, 3) == 0:
        constraints["pattern"] = PATTERNS[fdp.ConsumeIntInRange(0, len(PATTERNS) - 1)]
    if fdp.ConsumeIntInRange(0, 3) == 0:
        constraints["maxLength"] = fdp.ConsumeIntInRange(0, 5)
    if fdp.ConsumeIntInRange(0, 5) == 0:
        constraints["enum"] = ["a", "1", "2024-01-01"]
    return {"name": f"f{index}", "type": type_, "constraints": constraints}


def dialect(fdp: atheris.FuzzedDataProvider) -> dict[str, Any]:
    return {
        "delimiter": DELIMITERS[fdp.ConsumeIntInRange(0, len(DELIMITERS) - 1)],
        "quoteChar": QUOTES[fdp.ConsumeIntInRange(0, len(QUOTES) - 1)],
        "doubleQuote": fdp.ConsumeBool(),
        "skipInitialSpace": fdp.ConsumeBool(),
        **HEADERS[fdp.ConsumeIntInRange(0, len(HEADERS) - 1)],
    }


def plan_of(fdp: atheris.FuzzedDataProvider) -> Any:
    """A plan drawn from the input's first bytes."""
    fields = [field(fdp, i) for i in range(fdp.ConsumeIntInRange(0, 4))]
    names = [f["name"] for f in fields]
    schema: dict[str, Any] = {"fields": fields}
    if names and fdp.ConsumeBool():
        schema["primaryKey"] = names[: fdp.ConsumeIntInRange(1, len(names))]
    resource = {"name": "t", "path": "t.csv", "schema": schema, "dialect": dialect(fdp)}
    if fdp.ConsumeIntInRange(0, 7) == 0:
        resource["encoding"] = "latin-1"
    key_sets = [names[:1]] if names and fdp.ConsumeBool() else []
    aggregates: tuple[GroupBy, ...] = ()
    if names and fdp.ConsumeBool():
        keys = ((0, ("value", "prefix", "day", "hour")[fdp.ConsumeIntInRange(0, 3)], 2),)
        measures = tuple(i for i, f in enumerate(fields) if f["type"] in ("integer", "number"))
        aggregates = (GroupBy(keys, measures, fdp.ConsumeBool(), fdp.ConsumeIntInRange(0, 3)),)
    plan = compile_plan(resource, key_sets, aggregates)
    if fdp.ConsumeBool():
        small = CsvLimits(*(fdp.ConsumeIntInRange(0, 64) for _ in range(3)))
        plan = plan._replace(limits=small)
    return plan


def normal(result: Any) -> Any:
    """Comparable: key sets as sorted reprs (a NaN is not equal to itself), groups by count."""
    return (
        result.errors,
        result.rows,
        result.labels,
        [sorted(map(repr, found)) for found in result.key_sets],
        [sorted((repr(k), v) for k, v in rows.items()) for rows in result.key_rows],
        [sorted((k, g[0]) for k, g in groups.items()) for groups in result.aggregates],
    )


def sums_close(a: Any, b: Any) -> bool:
    for groups_a, groups_b in zip(a.aggregates, b.aggregates, strict=True):
        for key, (_, measures) in groups_a.items():
            for x, y in zip(measures, groups_b[key][1], strict=True):
                if not same_float(x[1], y[1]):
                    return False
    return True


def same_float(x: float, y: float) -> bool:
    """Equal up to rounding (sums in another order); NaN equals NaN."""
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    plan = plan_of(fdp)
    csv = fdp.ConsumeBytes(fdp.remaining_bytes())
    got = _kernel.scan_csv(csv, plan)
    expected = reference.scan_csv(csv, plan)
    if normal(got) != normal(expected) or not sums_close(got, expected):
        raise AssertionError(f"the kernels differ on {csv!r} with {plan!r}")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
