"""Both scan kernels give the same ScanResult: types, constraints, structure, dialects, aggregates.

The reference is the spec; each test runs once per kernel (the `kernel` fixture) and
compares with the reference's result, so the reference run checks the test itself.
"""

from __future__ import annotations

import array
import glob
import gzip
import json
import math
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, compiled_kernel_skip_reason
from test_frictionless import CASES, f

from civicgen.cache import ScanCache
from civicgen.scan import reference
from civicgen.scan.plan import GroupBy, TablePlan, compile_plan
from civicgen.scan.reference import ScanResult


def plan_of(
    fields: list[dict[str, Any]],
    schema_extra: dict[str, Any] | None = None,
    resource_extra: dict[str, Any] | None = None,
    key_sets: list[list[str]] | None = None,
    aggregates: tuple[GroupBy, ...] = (),
) -> TablePlan:
    schema = {"fields": fields, **(schema_extra or {})}
    resource = {"name": "data", "path": "data.csv", "schema": schema, **(resource_extra or {})}
    if key_sets is None:  # the first field's values, as a foreign key would collect them
        hashable = fields and fields[0].get("type") not in ("object", "array", "geojson")
        key_sets = [[fields[0]["name"]]] if hashable else []
    return compile_plan(resource, key_sets=key_sets, aggregates=aggregates)


def normal(result: ScanResult) -> ScanResult:
    """Key sets as sorted reprs: Decimal('NaN') is never equal to itself."""
    return result._replace(
        key_sets=[sorted(map(repr, found)) for found in result.key_sets],
        key_rows=[sorted((repr(k), v) for k, v in rows.items()) for rows in result.key_rows],
    )


def scan_both(kernel: ModuleType, data: bytes, plan: TablePlan) -> ScanResult:
    """The kernel's result, after checking it equals the reference's."""
    result = kernel.scan_csv(data, plan)
    assert normal(result) == normal(reference.scan_csv(data, plan))
    return result


def codes(result: ScanResult) -> list[tuple[int, int, str]]:
    return [(row, field, code) for row, field, code, _, _ in result.errors]


# --- every frictionless case, structure, encoding and quotes --------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_frictionless_cases(kernel: ModuleType, case: str) -> None:
    fields, data, schema_extra = CASES[case]
    scan_both(kernel, data.encode(), plan_of(fields, schema_extra))


def test_encoding_error_at_its_row(kernel: ModuleType) -> None:
    data = "a\nbien\nmal\xe9\n".encode("latin-1")
    result = scan_both(kernel, data, plan_of([f("a")]))
    assert result.errors == [(3, 0, "encoding-error", "e9", "utf-8")]


@pytest.mark.parametrize(
    "data",
    [b"a\n\xed\xa0\x80\n", b"a\n\xc0\xaf\n", b"a\nok\xf4\x90\x80\x80\n", b"a\n\xe2\x82\n"],
    ids=["surrogate", "overlong", "too-high", "truncated"],
)
def test_invalid_utf8_like_python(kernel: ModuleType, data: bytes) -> None:
    result = scan_both(kernel, data, plan_of([f("a")]))
    assert [code for _, _, code in codes(result)] == ["encoding-error"]


def test_latin1_declared(kernel: ModuleType) -> None:
    data = "a\nmalé\n".encode("latin-1")
    result = scan_both(kernel, data, plan_of([f("a")], resource_extra={"encoding": "latin-1"}))
    assert result.errors == []


@pytest.mark.parametrize(
    ("data", "row", "detail"),
    [
        ('a,b\n1,"open\n2,3\n', 2, "unexpected end of data"),
        ('a,b\n1,2\n3,"x"y\n4,5\n', 3, "',' expected after '\"'"),
        ('a,b\n"""\n', 2, "unexpected end of data"),
    ],
)
def test_quote_errors_like_csv_module(kernel: ModuleType, data: str, row: int, detail: str) -> None:
    result = scan_both(kernel, data.encode(), plan_of([f("a"), f("b")]))
    assert result.errors[-1] == (row, 0, "format-error", "", detail)


def test_csv_module_field_limit_does_not_matter(kernel: ModuleType) -> None:
    import csv

    limit = csv.field_size_limit(131_072)  # frictionless raises it for the whole process
    try:
        data = f"a,b\n1,{'x' * 140_000}\n2,3\n".encode()
        result = scan_both(kernel, data, plan_of([f("a"), f("b")]))
    finally:
        csv.field_size_limit(limit)
    assert result.errors == [] and result.rows == 2


# --- dialects ---------------------------------------------------------------------------

DIALECTS: dict[str, tuple[bytes, dict[str, Any], list[tuple[int, int, str]]]] = {
    "semicolon": (b"a;b\n1;x\ny;z\n", {"delimiter": ";"}, [(3, 1, "type-error")]),
    "tab": (b"a\tb\n1\tx\n2\t\n", {"delimiter": "\t"}, []),
    "single-quote": (
        b"a,b\n1,'x, y'\n2,'it''s'\n'q',z\n",
        {"quoteChar": "'"},
        [(4, 1, "type-error")],
    ),
    "crlf": (
        b'a,b\r\n1,x\r\n\r\n2,"q\r\nz"\r\nx,y',
        {},
        [(3, 0, "blank-row"), (5, 1, "type-error")],
    ),
    "lone-cr": (b"a,b\r1,x\rx,y\r", {}, [(3, 1, "type-error")]),
    "bom": (b"\xef\xbb\xbfa,b\n1,2\n", {}, []),
    "embedded-newlines": (b'a,b\n1,"two\nlines"\n2,"x\n\ny"\n', {}, []),
    "doubled-quotes": (b'a,b\n1,"say ""hi"""\n2,""""\n', {}, []),
    "skip-initial-space": (
        b'a,b\n1, "x, y"\n 2,  z\n  \n',
        {"skipInitialSpace": True},
        [(4, 0, "blank-row")],
    ),
    "no-skip-initial-space": (b'a,b\n1, "x"\n', {}, []),
    "no-double-quote": (b'a,b\n1,"x"y"z\n', {"doubleQuote": False}, []),
    "header-rows": (
        b"a,b\nx,y\n1,2\nz,3\n",
        {"headerRows": [1, 2]},
        [(1, 1, "incorrect-label"), (1, 2, "incorrect-label"), (4, 1, "type-error")],
    ),  # fmt: skip
    "no-header": (b"1,2\nx,3\n", {"header": False}, [(2, 1, "type-error")]),
    "second-row-header": (b"1,2\na,b\nx,3\n", {"headerRows": [2]}, [(3, 1, "type-error")]),
    "blank-lines": (
        b"a,b\n\n1,2\n\n\n",
        {},
        [(2, 0, "blank-row"), (4, 0, "blank-row"), (5, 0, "blank-row")],
    ),  # fmt: skip
    "trailing-delimiter": (b"a,b\n1,2,\n1,", {}, [(2, 3, "extra-cell")]),
    "nul": (b"a,b\n1,x\x00y\n", {}, []),
    "utf8-cells": ("a,b\n1,ñandú\n2,日本\n".encode(), {}, []),
}


@pytest.mark.parametrize("case", sorted(DIALECTS))
def test_dialects(kernel: ModuleType, case: str) -> None:
    data, dialect, expected = DIALECTS[case]
    plan = plan_of([f("a", "integer"), f("b")], resource_extra={"dialect": dialect})
    assert codes(scan_both(kernel, data, plan)) == expected


# --- types and keys the C path reads itself -------------------------------------------

TYPED: dict[str, tuple[list[dict[str, Any]], str, dict[str, Any]]] = {
    "integers": (
        [f("n", "integer", constraints={"minimum": -5, "maximum": 10**12})],
        "n\n+5\n-6\n1_000\n 7 \n٣\n99999999999999999999\n1000000000001\n-0\n",
        {},
    ),
    "numbers": (
        [f("x", "number", constraints={"minimum": 0.1, "exclusiveMaximum": "1e3"})],
        "x\n0.1\n0.10\n.5\n5.\n1e3\n999.9999\nInfinity\n1_0\n +2 \n0.09999999999999999999\n-0\n",
        {},
    ),
    "number-keys": (
        [f("x", "number"), f("y")],
        "x,y\n1.0,a\n1,a\n1e0,a\n0,b\n-0.0,b\nNaN,c\nNaN,c\n10,d\n1E1,d\n",
        {"primaryKey": ["x", "y"]},
    ),
    "datetime-keys": (
        [f("t", "datetime"), f("s")],
        "t,s\n2025-01-01T10:00:00Z,a\n2025-01-01T11:00:00+01:00,a\n2025-01-01T10:00:00,a\n"
        "2025-01-01 10:00:00,a\n2025-01-01T10:00:00.000+00:00,a\n2025-02-29T00:00:00,a\n",
        {"primaryKey": ["t", "s"]},
    ),
    "dates": (
        [f("d", "date", constraints={"unique": True, "maximum": "2025-06-30"})],
        "d\n2025-01-31\n2025-1-31\n2024-02-29\n2025-02-29\n2025-07-01\n2025-01-31\n",
        {},
    ),
    "years": ([f("y", "year", constraints={"minimum": 2000})], "y\n2025\n1999\n0000\n25\n", {}),
    "booleans": (
        [f("b", "boolean", constraints={"unique": True})],
        "b\ntrue\nTrue\n1\nfalse\nno\n",
        {},
    ),
    "strings": (
        [
            f(
                "s",
                constraints={"minLength": 2, "maxLength": 4, "pattern": "[a-zñ]+", "unique": True},
            )
        ],
        "s\nab\nñañá\nñaña\nabcde\na\nab\nAB\n",
        {},
    ),
    "enum-number": ([f("x", "number", constraints={"enum": [1, "2.5"]})], "x\n1.0\n2.50\n3\n", {}),
    "string-bounds": ([f("s", constraints={"minimum": "b"})], "s\na\nc\n", {}),
    "unique-across-types": (
        [
            f("a", "integer", constraints={"unique": True}),
            f("b", "number", constraints={"unique": True}),
        ],
        "a,b\n1,1\n+1,1.00\n01,1e0\n",
        {},
    ),
}


@pytest.mark.parametrize("case", sorted(TYPED))
def test_typed_cells(kernel: ModuleType, case: str) -> None:
    fields, data, schema_extra = TYPED[case]
    scan_both(kernel, data.encode(), plan_of(fields, schema_extra))


def test_foreign_key_values_are_typed(kernel: ModuleType) -> None:
    fields = [f("id", "integer"), f("day", "date"), f("x", "number")]
    plan = plan_of(fields, key_sets=[["id", "day"], ["x"]])
    result = scan_both(
        kernel, b"id,day,x\n1,2025-01-01,1.50\n2,2025-01-02,\n1,2025-01-01,2\n", plan
    )
    import datetime as dt
    from decimal import Decimal

    assert result.key_rows[0] == {(1, dt.date(2025, 1, 1)): [2, 4], (2, dt.date(2025, 1, 2)): [3]}
    assert result.key_sets[1] == {(Decimal("1.50"),), (Decimal(2),)}


def test_foreign_key_values_equal_as_python_values(kernel: ModuleType) -> None:
    """1.0 and 1.00 are one value, each NaN is its own, a time key is a tuple of times."""
    fields = [f("x", "number"), f("at", "time"), f("name", "string")]
    plan = plan_of(fields, key_sets=[["x"], ["at", "name"]])
    data = b"x,at,name\n1.0,10:00:00,a\nNaN,10:00:00,a\n1.00,11:00:00,a\nNaN,10:00:00,b\n,,\n"
    result = scan_both(kernel, data, plan)
    import datetime as dt
    from decimal import Decimal

    assert result.key_rows[0][(Decimal("1.0"),)] == [2, 4]
    assert sorted(len(rows) for rows in result.key_rows[0].values()) == [1, 1, 2]
    assert result.key_rows[1] == {
        (dt.time(10), "a"): [2, 3],
        (dt.time(11), "a"): [4],
        (dt.time(10), "b"): [5],
    }


def test_duplicate_keys_among_other_errors(kernel: ModuleType) -> None:
    """The compiled kernel looks keys up a batch of rows later; errors keep the row order."""
    rows = [f"{i % 37},{'x' if i % 5 == 0 else i},{'' if i % 7 == 0 else 'a'}" for i in range(200)]
    rows[90] = "1,2,a,extra"
    data = ("k,n,s\n" + "\n".join(rows) + "\n").encode()
    fields = [f("k", "integer"), f("n", "integer"), f("s", constraints={"required": True})]
    result = scan_both(kernel, data, plan_of(fields, {"primaryKey": ["k"]}))
    assert {code for _, _, code in codes(result)} == {
        "primary-key", "type-error", "constraint-error", "extra-cell"
    }  # fmt: skip


# --- aggregates on the example city -----------------------------------------------------


def example_plan(
    package: str, resource: str, aggregates: tuple[GroupBy, ...]
) -> tuple[bytes, TablePlan]:
    folder = ROOT / "datasets" / package
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    found = next(r for r in descriptor["resources"] if r["name"] == resource)
    return (folder / found["path"]).read_bytes(), compile_plan(found, aggregates=aggregates)


def readings() -> tuple[bytes, TablePlan]:
    by_hour = GroupBy(((0, "value", 0), (1, "hour", 0)), (6, 4), quantiles=True)
    by_day = GroupBy(((1, "day", 0),), (2, 3, 5, 7))
    return example_plan("air-quality", "readings", (by_hour, by_day))


def budget() -> tuple[bytes, TablePlan]:
    by_chapter = GroupBy(((0, "value", 0), (7, "value", 0)), (11,))
    by_program = GroupBy(((0, "value", 0), (5, "prefix", 2)), (11,), quantiles=True)
    return example_plan("madrid-budget", "gastos", (by_chapter, by_program))


@pytest.mark.parametrize("example", [readings, budget])
def test_example_aggregates(kernel: ModuleType, example: Any) -> None:
    data, plan = example()
    result = scan_both(kernel, data, plan)
    assert result.errors == []
    assert all(result.aggregates)


@pytest.mark.parametrize("example", [readings, budget])
def test_example_aggregates_round_trip_through_the_cache(
    kernel: ModuleType, example: Any, tmp_path: Path
) -> None:
    """The groups come back from the cache as the reference kernel made them (the compiled
    kernel's from its columns, never made into lists on the way); an entry cut short, or
    whose sketches name a measure it does not have or a group-by that keeps none, is a miss."""
    data, plan = example()
    cache = ScanCache(tmp_path)
    cache.put("k", kernel.scan_csv(data, plan))
    back = cache.get("k")
    assert back is not None
    assert [dict(g) for g in back.aggregates] == reference.scan_csv(data, plan).aggregates
    path = cache.path_of("k")
    assert path is not None
    written = gzip.decompress(path.read_bytes())
    head, blobs = written.split(b"\n", 1)
    entry = json.loads(head)
    path.write_bytes(gzip.compress(head + b"\n" + blobs[:-8]))  # cut short
    assert cache.get("k") is None
    sketched = next(c for c in entry["result"][5] if c[5])  # a group-by with quantiles
    own = sketched[4]
    sketched[4], entry["blobs"] = len(entry["blobs"]), [*entry["blobs"], 24]
    wrong_slot = array.array("q", [10**6, 1, 1]).tobytes()
    path.write_bytes(gzip.compress(json.dumps(entry).encode() + b"\n" + blobs + wrong_slot))
    assert cache.get("k") is None
    sketched[4], sketched[5] = own, False  # its own sketches, said to keep none
    path.write_bytes(gzip.compress(json.dumps(entry).encode() + b"\n" + blobs + wrong_slot))
    assert cache.get("k") is None


def test_many_sketch_entries_are_written_in_slot_order(kernel: ModuleType, tmp_path: Path) -> None:
    """Thousands of groups with sketches of many buckets, negative and zero values among
    them: the cache writes their entries by slot, then bucket code (so that they compress),
    and reads back the reference's states."""
    lines = ["k,x,y"] + [
        f"g{(i * 7919) % 3001},{(-1) ** i * 1.37 ** (i % 500):.6g},{(i % 9) - 4}"
        for i in range(60_000)
    ]
    data = "\n".join(lines).encode() + b"\n"
    group = GroupBy(((0, "value", 0),), (1, 2), quantiles=True)
    fields = [f("k"), f("x", "number"), f("y", "number")]
    plan = plan_of(fields, key_sets=[], aggregates=(group,))
    cache = ScanCache(tmp_path)
    cache.put("k", scan_both(kernel, data, plan))
    back = cache.get("k")
    assert back is not None
    assert [dict(g) for g in back.aggregates] == reference.scan_csv(data, plan).aggregates
    path = cache.path_of("k")
    assert path is not None
    head, blobs = gzip.decompress(path.read_bytes()).split(b"\n", 1)
    entry = json.loads(head)
    sizes, column = entry["blobs"], entry["result"][5][0][4]
    start = sum(sizes[:column])
    entries = array.array("q", blobs[start : start + sizes[column]])
    slots = entries[0::3]
    assert len(slots) > 50_000 and list(slots) == sorted(slots)
    buckets = list(zip(slots, entries[1::3], strict=True))
    assert len(set(buckets)) == len(buckets)


def test_aggregates_of_broken_rows(kernel: ModuleType) -> None:
    fields = [f("k"), f("t", "datetime"), f("x", "number"), f("n", "integer")]
    data = (
        "k,t,x,n\nñu,2025-01-01T10:05:00Z,1.5,2\nñu,2025-01-01T10:55:00Z,x,\n"
        "b,2025-01-01T11:00:00Z,-0,3,9\nb\n\n,2025-01-01T11:30:00Z,1e400,7\n"
    )
    group = GroupBy(((0, "prefix", 1), (1, "hour", 0), (3, "value", 0)), (2, 3), quantiles=False)
    scan_both(kernel, data.encode(), plan_of(fields, aggregates=(group,)))


def limited() -> tuple[bytes, TablePlan]:
    """Group-bys with a limit: one stays under it, two go past it (one with quantiles)."""
    by_amount = GroupBy(((11, "value", 0),), (11,), quantiles=True, limit=1000)
    by_program = GroupBy(((5, "value", 0),), (11,), limit=100)
    by_chapter = GroupBy(((7, "value", 0),), (11,), limit=100)
    return example_plan("madrid-budget", "gastos", (by_amount, by_program, by_chapter))


def test_group_limit_collapses_into_one_group(kernel: ModuleType) -> None:
    data, plan = limited()
    result = scan_both(kernel, data, plan)
    by_amount, by_program, by_chapter = result.aggregates
    assert list(by_amount) == [()] and list(by_program) == [()]
    assert by_amount[()][0] == by_program[()][0] == result.rows
    assert by_amount[()][1][0][0] == by_program[()][1][0][0] == result.rows
    assert sum(by_amount[()][1][0][5].values()) == result.rows  # the sketch kept every value
    assert 1 < len(by_chapter) <= 100 and () not in by_chapter


def test_merge_groups_collapses_past_the_limit() -> None:
    from civicgen.stats.partials import add, merge_groups, new_group

    def groups(values: list[str]) -> dict[tuple[str, ...], Any]:
        found: dict[tuple[str, ...], Any] = {}
        for value in values:
            group = found.setdefault((value,), new_group(1))
            group[0] += 1
            add(group[1][0], float(len(value)))
        return found

    under = merge_groups(groups(["a", "b"]), groups(["b", "c"]), limit=3)
    assert sorted(under) == [("a",), ("b",), ("c",)]
    over = merge_groups(groups(["a", "b"]), groups(["c", "dd"]), limit=3)
    assert list(over) == [()] and over[()][0] == 4 and over[()][1][0][3] == 2.0
    assert list(merge_groups(over, groups(["e"]), limit=3)) == [()]


# --- the parallel scan equals the one-process scan --------------------------------------


def close_groups(a: dict[Any, Any], b: dict[Any, Any]) -> bool:
    """Equal partial states, the float sums up to the rounding of a different order."""
    if list(a) != list(b):
        return False
    for key, (rows, measures) in a.items():
        other_rows, others = b[key]
        if rows != other_rows:
            return False
        for x, y in zip(measures, others, strict=True):
            if (
                x[0] != y[0]
                or x[2:] != y[2:]
                or not math.isclose(x[1], y[1], rel_tol=1e-12, abs_tol=1e-9)
            ):
                return False
    return True


def assert_same_scan(parallel: ScanResult, single: ScanResult) -> None:
    assert parallel.errors == single.errors
    assert (parallel.rows, parallel.labels) == (single.rows, single.labels)
    assert normal(parallel).key_sets == normal(single).key_sets
    assert normal(parallel).key_rows == normal(single).key_rows
    assert all(
        close_groups(a, b) for a, b in zip(parallel.aggregates, single.aggregates, strict=True)
    )


@pytest.fixture
def compiled(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    """The compiled kernel; the test must leave no file of the chunked scan behind. Its files
    get a name of their own (the pool's workers are forked, so they share it): other test
    processes of the run share the process group that names a run's files."""
    reason = compiled_kernel_skip_reason(request.config)
    if reason:
        pytest.skip(reason)
    from civicgen.scan import _kernel, chunks

    prefix = f"civicgen-test-{os.getpid()}-{request.node.name}-"
    monkeypatch.setattr(chunks, "SHARED_PREFIX", prefix)
    shared = Path("/dev/shm")
    yield _kernel
    for thread in threading.enumerate():
        if thread.name == "civicgen-cleanup":  # the chunked scan removes its files meanwhile
            thread.join()
    left = sorted(shared.glob(f"{glob.escape(prefix)}*")) if shared.is_dir() else []
    assert left == [], f"left behind: {left}"


def twice(data: bytes, extra: int = 300) -> bytes:
    """The data rows again after the file (duplicate keys across chunks), and a few more."""
    lines = data.split(b"\n")
    return b"\n".join(lines + lines[1:extra])


@pytest.mark.parametrize("example", [readings, budget, limited])
@pytest.mark.parametrize("chunk_size", [4_000, 60_000])
def test_parallel_equals_single(compiled: ModuleType, example: Any, chunk_size: int) -> None:
    from civicgen.scan.parallel import scan_csv_parallel

    data, plan = example()
    for variant in (data, twice(data)):
        single = compiled.scan_csv(variant, plan)
        assert_same_scan(scan_csv_parallel(variant, plan, workers=2, chunk_size=chunk_size), single)


def test_parallel_with_quotes_keys_and_errors(compiled: ModuleType, tmp_path: Path) -> None:
    from civicgen.scan.parallel import scan_csv_parallel

    fields = [
        f("id", "integer", constraints={"unique": True}),
        f("code", constraints={"unique": True, "pattern": "[a-z]+"}),
        f("note"),
        f("x", "number", constraints={"minimum": 0}),
    ]
    rows = [
        f'{i},c{i % 700},"line {i}\nhas ""quotes"", and commas",{(i % 13) - 1}' for i in range(3000)
    ]
    rows[1500] = "x,y"
    data = ("id,code,note,x\n" + "\n".join(rows) + "\n\n").encode()
    plan = plan_of(
        fields,
        {"primaryKey": ["code"]},
        key_sets=[["id"]],
        aggregates=(GroupBy(((1, "prefix", 2),), (3,)),),
    )
    single = compiled.scan_csv(data, plan)
    assert normal(single) == normal(reference.scan_csv(data, plan))
    for chunk_size in (5_000, 33_333):
        assert_same_scan(scan_csv_parallel(data, plan, workers=3, chunk_size=chunk_size), single)


def key_holes() -> bytes:
    """Composite keys (a integer, b) with cells empty, missing or not integers, repeated
    across the file: as frictionless, such a key is compared with None in it, and a row
    whose key cells are all None has no key."""
    holes = ["{i},k{k}", ",k{k}", "x{i},k{k}", "{i},", ",", "NA,k{k}", "{i}"]
    rows = [holes[i % 7].format(i=i % 50, k=i % 11) for i in range(4000)]
    return ("a,b,c\n" + "\n".join(f"{row},z" for row in rows) + "\n").encode()


def test_primary_key_with_empty_or_uncastable_cells(kernel: ModuleType) -> None:
    plan = plan_of([f("a", "integer"), f("b"), f("c")], {"primaryKey": ["a", "b"]})
    result = scan_both(kernel, b"a,b,c\nx,k,1\ny,k,2\n,k,3\n,,4\nz,,5\n1,k,6\n", plan)
    assert codes(result) == [
        (2, 1, "type-error"),
        (3, 1, "type-error"),
        (3, 0, "primary-key"),  # (None, "k") again
        (4, 0, "primary-key"),
        (5, 0, "primary-key"),  # no key at all
        (6, 1, "type-error"),
        (6, 0, "primary-key"),
    ]
    assert [detail for _, _, code, _, detail in result.errors if code == "primary-key"] == [
        "2",
        "2",
        "",
        "",
    ]


def test_parallel_primary_key_with_holes(compiled: ModuleType) -> None:
    from civicgen.scan.parallel import scan_csv_parallel

    plan = plan_of(
        [f("a", "integer"), f("b"), f("c")], {"primaryKey": ["a", "b"], "missingValues": ["", "NA"]}
    )
    data = key_holes()
    single = compiled.scan_csv(data, plan)
    assert normal(single) == normal(reference.scan_csv(data, plan))
    assert {code for _, _, code, _, _ in single.errors} == {
        "type-error",
        "primary-key",
        "missing-cell",
    }
    for chunk_size in (3_000, 20_000):
        assert_same_scan(scan_csv_parallel(data, plan, workers=2, chunk_size=chunk_size), single)


@pytest.mark.parametrize("where", ["header", "first", "last"])
def test_parallel_not_utf8(compiled: ModuleType, where: str) -> None:
    """A chunk (or the header) that is not UTF-8: the one error the one-process scan gives."""
    from civicgen.scan.parallel import scan_csv_parallel

    body = "".join(f"{i},x\n" for i in range(5000))
    head = "a,b\xe9\n" if where == "header" else "a,b\n"
    data = head.encode("latin-1") + body.encode()
    if where != "header":
        at = 40 if where == "first" else len(data) - 3
        data = data[:at] + b"\xff" + data[at:]
    plan = plan_of([f("a", "integer"), f("b")], {"primaryKey": ["a"]})
    single = compiled.scan_csv(data, plan)
    assert [code for _, _, code in codes(single)] == ["encoding-error"]
    assert_same_scan(scan_csv_parallel(data, plan, workers=2, chunk_size=10_000), single)


@pytest.mark.parametrize("where", ["start", "middle", "end", "after-format-error", "none"])
def test_scan_range_checks_utf8_in_the_loop(compiled: ModuleType, where: str) -> None:
    """check_utf8: the record loop validates the range ahead of the cursor (several blocks),
    and the rest of the range after a format error; bytes past the range are not read."""
    line = b"1,abcdefghijklmnopqrstuvwxyz0123456789\n"
    data = line * (10_000_000 // len(line))
    at = {"start": 5, "middle": len(data) // 2, "end": len(data) - 3}.get(where)
    if at is not None:
        data = data[:at] + b"\xff" + data[at:]
    if where == "after-format-error":
        cut, half = len(line) * 3, len(data) // 2  # a record starts at cut
        data = data[:cut] + b'1,"x"y\n' + data[cut:half] + b"\xff" + data[half:]
    stop = len(data) - (len(data) // 2 if where == "none" else 0)
    if where == "none":
        data = data[:stop] + b"\xff" + data[stop:]  # outside the range: not checked
    plan = plan_of([f("a", "integer"), f("b")], {"primaryKey": ["b"]})
    scan = compiled.scan_range(data, plan, 0, stop, 1, 2, False, 2, True)
    assert scan.bad_utf8 == (where != "none")
    assert scan.format_error == (where == "after-format-error")
    if where == "none":
        assert scan.rows == stop // len(line) - 1  # the first line is the header


def test_parallel_stops_at_a_format_error(compiled: ModuleType) -> None:
    from civicgen.scan.parallel import scan_csv_parallel

    body = "".join(f"{i},x\n" for i in range(5000))
    data = ("a,b\n" + body + '1,"open\n' + body).encode()
    plan = plan_of([f("a", "integer"), f("b")], {"primaryKey": ["a"]})
    single = compiled.scan_csv(data, plan)
    assert single.errors[-1][2] == "format-error"
    assert_same_scan(scan_csv_parallel(data, plan, workers=2, chunk_size=10_000), single)


@pytest.mark.parametrize("quote_at", [None, 0.5, 0.99])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_parallel_split_at_line_feeds(compiled: ModuleType, quote_at: Any, newline: str) -> None:
    """Chunks cut after line feeds, their rows numbered when the chunks before are in; a
    quoted cell before the last cut (0.5) makes the kernel find the record starts, one
    after it (0.99) does not."""
    from civicgen.scan.parallel import scan_csv_parallel

    rows = [f"{i % 4000},x{i % 7}," for i in range(6000)]
    if quote_at is not None:
        rows[int(len(rows) * quote_at)] = f'{int(len(rows) * quote_at)},"a{newline}b",'
    rows[10] = ""
    data = newline.join(["a,b,c", *rows, ""]).encode()
    plan = plan_of([f("a", "integer"), f("b"), f("c")], {"primaryKey": ["a"]})
    single = compiled.scan_csv(data, plan)
    assert normal(single) == normal(reference.scan_csv(data, plan))
    assert_same_scan(scan_csv_parallel(data, plan, workers=2, chunk_size=8_000), single)


def test_parallel_rows_renumbered(compiled: ModuleType) -> None:
    """Chunks numbered from a guess (nothing quoted) and renumbered: errors, their first
    rows, unique and primary-key repeats within and across chunks, foreign-key rows."""
    from civicgen.scan.parallel import scan_csv_parallel

    fields = [
        f("id", "integer", constraints={"unique": True}),
        f("code", constraints={"pattern": "c[0-9]+"}),
        f("ref"),
        f("x", "number", constraints={"minimum": 0}),
    ]
    rows = [f"{i % 4500},c{i % 3000},r{i % 11},{(i % 13) - 1}" for i in range(6000)]
    rows[4000] += ",extra"
    rows[5000] = "zz,bad,,1"
    rows[5500] = ""
    data = ("id,code,ref,x\n" + "\n".join(rows) + "\n").encode()
    plan = plan_of(fields, {"primaryKey": ["code"]}, key_sets=[["ref"]])
    single = compiled.scan_csv(data, plan)
    assert normal(single) == normal(reference.scan_csv(data, plan))
    assert {"unique-error", "primary-key", "extra-cell", "type-error"} <= {
        code for _, _, code in codes(single)
    }
    for chunk_size in (9_000, 40_000):
        assert_same_scan(scan_csv_parallel(data, plan, workers=2, chunk_size=chunk_size), single)


def test_selected_kernel(request: pytest.FixtureRequest) -> None:
    import civicgen.scan

    expected = (
        "civicgen.scan.reference"
        if compiled_kernel_skip_reason(request.config)
        else "civicgen.scan._kernel"
    )
    if request.config.getoption("--no-c-extensions"):
        pytest.skip("the selection follows the environment, not the option")
    assert civicgen.scan.kernel.__name__ == expected


# --- odd values are report entries, never exceptions -----------------------------------

ODD = {
    "nan-with-bounds": (
        [{"name": "n", "type": "number", "constraints": {"minimum": 0}}],
        "n\nNaN\n-1\nInfinity\n-NaN\n",
        [(2, 1, "constraint-error"), (3, 1, "constraint-error"), (5, 1, "constraint-error")],
    ),
    "signalling-nan": (
        [{"name": "n", "type": "number", "constraints": {"unique": True}}],
        "n\nsNaN\n1\n",
        [(2, 1, "type-error")],
    ),
    "non-ascii-year": ([{"name": "y", "type": "year"}], "y\n²²²²\n2025\n", [(2, 1, "type-error")]),
    "boolean-bound": (
        [{"name": "n", "type": "number", "constraints": {"maximum": True}}],
        "n\n0\n",
        [],
    ),
    "unique-array": (
        [{"name": "a", "type": "array", "constraints": {"unique": True}}],
        'a\n"[1, 2]"\n"[1,2]"\n',
        [(3, 1, "unique-error")],
    ),
}


@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_values_are_reported_not_raised(kernel: ModuleType, case: str) -> None:
    fields, data, expected = ODD[case]
    plan = plan_of(fields, key_sets=[])
    assert codes(scan_both(kernel, data.encode(), plan)) == expected


def test_no_quote_char(kernel: ModuleType) -> None:
    plan = plan_of([{"name": "a"}, {"name": "b"}], resource_extra={"dialect": {"quoteChar": ""}})
    result = scan_both(kernel, b'a,b\n"x,y"\n', plan)
    assert codes(result) == []


def test_infinite_values_stay_out_of_the_sketch(kernel: ModuleType) -> None:
    plan = plan_of(
        [{"name": "n", "type": "number"}], key_sets=[], aggregates=(GroupBy((), (0,), True),)
    )
    [group] = scan_both(kernel, b"n\nInfinity\n1\n2\n", plan).aggregates[0].values()
    assert group[0] == 3 and sum(group[1][0][5].values()) == 2


# --- scanning a file by path (memory-mapped) equals scanning its bytes ------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_scan_file_equals_scan_csv(kernel: ModuleType, case: str, tmp_path: Path) -> None:
    fields, data, schema_extra = CASES[case]
    path = tmp_path / "data.csv"
    path.write_bytes(data.encode())
    plan = plan_of(fields, schema_extra)
    assert normal(kernel.scan_file(path, plan)) == normal(reference.scan_csv(data.encode(), plan))


@pytest.mark.parametrize("example", [readings, budget])
def test_scan_file_keys_and_encoding(kernel: ModuleType, example: Any, tmp_path: Path) -> None:
    data, plan = example()
    path = tmp_path / "data.csv"
    for variant in (data, twice(data), twice(data) + b"\n\xff\n", b"", b"\xef\xbb\xbf" + data):
        path.write_bytes(variant)
        assert normal(kernel.scan_file(path, plan)) == normal(reference.scan_csv(variant, plan))


@pytest.mark.parametrize("example", [readings, budget])
def test_scan_file_parallel_equals_single(
    compiled: ModuleType, example: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civicgen.scan import parallel

    monkeypatch.setattr(parallel, "MIN_CHUNK", 4_000)
    data, plan = example()
    path = tmp_path / "data.csv"
    for variant in (data, twice(data)):
        path.write_bytes(variant)
        single = compiled.scan_csv(variant, plan)
        assert_same_scan(parallel.scan_file_parallel(path, plan, workers=2), single)


# --- the schema frictionless would infer, for a resource with none ----------------------


def test_inference_never_reads_a_record_cut_short(monkeypatch: pytest.MonkeyPatch) -> None:
    from civicgen.scan import infer
    from civicgen.scan.plan import Dialect

    data = b"a,b\n2020-01-01,1\n2020-01-02,2\n"
    assert infer.infer_schema(data, Dialect())["fields"] == [
        {"name": "a", "type": "date"},
        {"name": "b", "type": "integer"},
    ]
    monkeypatch.setattr(infer, "SAMPLE_BYTES", len(data) - 8)  # "2020-01-02,2" cut to "20"
    assert [f["type"] for f in infer.infer_schema(data, Dialect())["fields"]] == ["date", "integer"]


def test_inference_names_like_frictionless() -> None:
    from civicgen.scan.infer import infer_schema
    from civicgen.scan.plan import Dialect

    fields = infer_schema(b"a,a,,a\n1,x,,\n", Dialect())["fields"]
    assert [f["name"] for f in fields] == ["a", "a2", "field3", "a3"]
    assert [f["type"] for f in fields] == ["integer", "string", "any", "any"]
    headless = infer_schema(b"1,x\n2,y\n", Dialect(header_rows=()))["fields"]
    assert headless == [{"name": "field1", "type": "integer"}, {"name": "field2", "type": "string"}]
