"""CSV records over the scan's limits, and hostile bytes: both kernels, one error each,
constant memory.

The limits (scan/plan.py CsvLimits) are carried in the plan: a data row over a limit is one
error and is skipped, a header row over a limit ends the file's scan. The large cases run
`civicgen validate` in a subprocess whose address space is capped (RLIMIT_AS), to prove
that the compiled kernel does not hold a giant cell or row anywhere.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

import pygit2
import pytest
from conftest import ROOT, commit_all, compiled_kernel_skip_reason, run_cli
from test_frictionless import f
from test_kernel import codes, plan_of, scan_both

from civicgen.limits import Limits
from civicgen.pipeline import Settings, validate
from civicgen.scan import reference
from civicgen.scan.plan import MAX_CELL_BYTES, MAX_CELLS, MAX_ROW_BYTES, CsvLimits, compile_plan
from civicgen.stats.profiles import derive_all
from civicgen.validation import group_limit_note

MiB = 1 << 20


def limited(fields: list[dict[str, Any]], **limits: int) -> Any:
    """plan_of with some limits set."""
    return plan_of(fields)._replace(limits=CsvLimits()._replace(**limits))


def test_defaults_and_compile_parameters() -> None:
    plan = compile_plan({"schema": {"fields": [{"name": "a"}]}})
    assert plan.limits == CsvLimits(1 * MiB, 8 * MiB, 16_384)
    assert tuple(plan.limits) == (MAX_CELL_BYTES, MAX_ROW_BYTES, MAX_CELLS)
    plan = compile_plan(
        {"schema": {"fields": [{"name": "a"}]}}, max_cell_bytes=5, max_row_bytes=7, max_cells=2
    )
    assert plan.limits == CsvLimits(5, 7, 2)
    assert compile_plan({}, max_cells=-1).limits.max_cells == 0  # never below zero


# --- one error per record, the scan goes on --------------------------------------------


def test_cell_too_large_is_one_error_and_the_scan_goes_on(kernel: ModuleType) -> None:
    plan = limited([f("a", "integer"), f("b")], max_cell_bytes=10)
    data = b"a,b\n1,short\n2," + b"x" * 200 + b"\nthree,ok\n"
    result = scan_both(kernel, data, plan)
    assert codes(result) == [(3, 2, "cell-too-large"), (4, 1, "type-error")]
    assert result.errors[0][3] == "x" * 80  # a preview, never the whole cell
    assert "200 bytes, more than the 10 a cell may hold" in result.errors[0][4]
    assert result.rows == 3  # the skipped row is a row of the table


def test_quoted_cell_preview_is_its_value(kernel: ModuleType) -> None:
    plan = limited([f("a"), f("b")], max_cell_bytes=100)
    cell = 'say ""hi"" ' * 40
    data = f'a,b\n1,"{cell}"\n'.encode()
    result = scan_both(kernel, data, plan)
    assert codes(result) == [(2, 2, "cell-too-large")]
    assert result.errors[0][3] == cell.replace('""', '"')[:80]


def test_size_is_utf8_bytes_and_preview_whole_characters(kernel: ModuleType) -> None:
    plan = limited([f("a")], max_cell_bytes=150)
    data = ("a\n" + "é" * 75 + "\n" + "é" * 76 + "\n").encode()
    result = scan_both(kernel, data, plan)
    assert codes(result) == [(3, 1, "cell-too-large")]
    assert result.errors[0][3] == "é" * 76 and "152 bytes" in result.errors[0][4]


def test_row_too_large(kernel: ModuleType) -> None:
    plan = limited([f("a"), f("b"), f("c")], max_cell_bytes=10, max_row_bytes=15)
    data = b"a,b,c\n12345678,12345678,1\n1,2,3\n"
    result = scan_both(kernel, data, plan)
    assert result.errors == [
        (2, 0, "row-too-large", "", reference.limit_detail("row-too-large", 17, 15))
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (b"x" * 20 + b",1", (2, 1, "cell-too-large")),  # the cell crosses 10 before the row 15
        (b"x" * 10 + b"," + b"y" * 20, (2, 0, "row-too-large")),  # the row crosses first
        (b"1,2,3," + b"z" * 20 + b",5", (2, 4, "cell-too-large")),  # before the 5th cell
        (b"1,2,3,4," + b"z" * 20, (2, 0, "too-many-cells")),  # the 5th cell is one too many
    ],
)
def test_first_limit_crossed_in_reading_order(
    kernel: ModuleType, row: bytes, expected: tuple[int, int, str]
) -> None:
    plan = limited([f("a"), f("b")], max_cell_bytes=10, max_row_bytes=15, max_cells=4)
    assert codes(scan_both(kernel, b"a,b\n" + row + b"\n", plan)) == [expected]


def test_too_many_cells_replaces_extra_cells(kernel: ModuleType) -> None:
    plan = limited([f("a"), f("b")], max_cells=100)
    data = b"a,b\n" + b"," * 5000 + b"\n1,2\n"
    result = scan_both(kernel, data, plan)
    assert result.errors == [
        (2, 0, "too-many-cells", "", reference.limit_detail("too-many-cells", 5001, 100))
    ]


def test_header_over_a_limit_ends_the_scan(kernel: ModuleType) -> None:
    plan = limited([f("a"), f("b", "integer")], max_cell_bytes=10)
    data = b"a," + b"b" * 50 + b"\n1,x\n"
    result = scan_both(kernel, data, plan)
    assert codes(result) == [(1, 2, "cell-too-large")]
    assert (result.rows, result.labels) == (0, [])


def test_unclosed_quote_past_the_limit_is_a_format_error(kernel: ModuleType) -> None:
    plan = limited([f("a"), f("b")], max_cell_bytes=10)
    result = scan_both(kernel, b'a,b\n1,2\n3,"' + b"x" * 500, plan)
    assert result.errors == [(3, 0, "format-error", "", "unexpected end of data")]


def test_limit_rows_keep_their_numbers_for_keys(kernel: ModuleType) -> None:
    plan = limited([f("a", "integer")], max_cell_bytes=4)._replace(primary_key=(0,))
    data = b"a\n1\n123456\n2\n1\n"
    result = scan_both(kernel, data, plan)
    assert codes(result) == [(3, 1, "cell-too-large"), (5, 0, "primary-key")]
    assert result.errors[1][4] == "2"


def test_parallel_scan_with_rows_over_limits(request: pytest.FixtureRequest) -> None:
    needs_compiled(request)
    from civicgen.scan import _kernel
    from civicgen.scan.parallel import scan_csv_parallel

    lines = [
        f"{i},{'w' * (300 if i % 97 == 0 else 5)}{',' * (30 if i % 89 == 0 else 0)}"
        for i in range(6000)
    ]
    data = ("a,b\n" + "\n".join(lines) + "\n").encode()
    plan = plan_of([f("a", "integer"), f("b")], {"primaryKey": ["a"]})
    plan = plan._replace(limits=CsvLimits(200, 1000, 20))
    single = _kernel.scan_csv(data, plan)
    assert single.errors == reference.scan_csv(data, plan).errors
    assert {code for _, _, code in codes(single)} == {"cell-too-large", "too-many-cells"}
    for chunk_size in (4_000, 25_000):
        chunked = scan_csv_parallel(data, plan, workers=2, chunk_size=chunk_size)
        assert (chunked.errors, chunked.rows) == (single.errors, single.rows)


def needs_compiled(request: pytest.FixtureRequest) -> None:
    reason = compiled_kernel_skip_reason(request.config)
    if reason:
        pytest.skip(reason)


# --- hostile bytes: NUL, broken UTF-8, line endings, BOMs --------------------------------


def test_hostile_nul_in_cells_comes_through_intact(kernel: ModuleType) -> None:
    plan = plan_of([f("a"), f("b", "integer")])
    data = b'a,b\nx\x00y,1\n"q\x00",2\nz,3\x00\n'
    result = scan_both(kernel, data, plan)
    assert codes(result) == [(4, 2, "type-error")]
    assert result.errors[0][3] == "3\x00"
    assert result.key_sets[0] == {("x\x00y",), ("q\x00",), ("z",)}


@pytest.mark.parametrize(
    ("bad", "cell"),
    [
        (b"\xed\xa0\x80", "ed"),  # CESU-8: a lone surrogate, U+D800
        (b"\xed\xa0\xbd\xed\xb8\x80", "ed"),  # CESU-8 pair for U+1F600
        (b"\xc0\xaf", "c0"),  # overlong "/"
        (b"\xe0\x80\xaf", "e0"),  # overlong, three bytes
        (b"\xf4\x90\x80\x80", "f4"),  # past U+10FFFF
    ],
    ids=["cesu-lone", "cesu-pair", "overlong-2", "overlong-3", "too-high"],
)
def test_hostile_malformed_utf8_is_an_encoding_error(
    kernel: ModuleType, bad: bytes, cell: str
) -> None:
    data = b"a,b\n1,ok\n2,x" + bad + b"y\n3,ok\n"
    result = scan_both(kernel, data, plan_of([f("a", "integer"), f("b")]))
    assert codes(result) == [(3, 0, "encoding-error")]
    assert result.errors[0][3] == cell  # the first bad byte, as Python says


def test_hostile_cr_only_line_endings(kernel: ModuleType) -> None:
    data = b"a,b\r1,x\r2,y\rz,w\r"
    result = scan_both(kernel, data, plan_of([f("a", "integer"), f("b")]))
    assert codes(result) == [(4, 1, "type-error")] and result.rows == 3


def test_hostile_bom_in_the_middle(kernel: ModuleType) -> None:
    data = b"\xef\xbb\xbfa,b\n1,x\n\xef\xbb\xbf2,y\n"
    result = scan_both(kernel, data, plan_of([f("a", "integer"), f("b")]))
    assert codes(result) == [(3, 1, "type-error")]
    assert result.errors[0][3] == "\ufeff2"


def test_hostile_bom_in_a_second_header_row(kernel: ModuleType) -> None:
    plan = plan_of([f("a b"), f("c d")], resource_extra={"dialect": {"headerRows": [1, 2]}})
    result = scan_both(kernel, b"a,c\n\xef\xbb\xbfb,d\nx,y\n", plan)
    assert codes(result) == [(1, 1, "incorrect-label")]


@pytest.mark.parametrize(
    ("dialect", "detail"),
    [
        ({"delimiter": "::"}, 'the delimiter must be one character, not "::"'),
        ({"delimiter": ""}, 'the delimiter must be one character, not ""'),
        ({"delimiter": None}, "the delimiter must be one character, not null"),
        ({"quoteChar": "ab"}, 'quoteChar must be one character or empty, not "ab"'),
        ({"headerRows": ["x"]}, 'headerRows must be a list of row numbers, like [1], not ["x"]'),
        ({"headerRows": [0]}, "headerRows must be a list of row numbers, like [1], not [0]"),
        ({"delimiter": "x" * 10_000}, 'the delimiter must be one character, not "xxxxxxx'),
    ],
)
def test_hostile_dialect_is_one_error(kernel: ModuleType, dialect: Any, detail: str) -> None:
    plan = plan_of([f("a"), f("b")], resource_extra={"dialect": dialect})
    result = scan_both(kernel, b"a,b\n1,2\n", plan)
    assert codes(result) == [(1, 0, "dialect-error")]
    assert result.errors[0][4].startswith(detail) and len(result.errors[0][4]) < 200


def test_hostile_dialect_reference_is_one_error(kernel: ModuleType) -> None:
    plan = plan_of([f("a")], resource_extra={"dialect": "https://example.org/dialect.json"})
    assert codes(scan_both(kernel, b"a\n1\n", plan)) == [(1, 0, "dialect-error")]


# --- hostile packages, validated in a capped subprocess -------------------------------

# the validating process's address space: the interpreter, the file read whole (300 MB at
# most here) and one copy of it (the cache's blob id), never a copy of a giant cell or row
CAP = 800 << 20


def hostile_package(tmp_path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """A repository with one package whose table is written by write()."""
    root = tmp_path / "city"
    folder = root / "datasets" / "hostile"
    (folder / "data").mkdir(parents=True)
    schema = {"fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "integer"}]}
    resource_ = {"name": "t", "path": "data/t.csv", "format": "csv", "schema": schema}
    descriptor = {"name": "hostile", "resources": [resource_]}
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    with open(folder / "data" / "t.csv", "wb") as out:
        write(out)
    pygit2.init_repository(str(root))
    return root


def validate_capped(root: Path) -> tuple[int, dict[str, Any], int]:
    """`civicgen validate --format json` on root, with the address space capped: (exit code,
    report, bytes printed). The compiled kernel only (the reference holds the file's text)."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))

    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(root.parent / "cache")}
    command = [sys.executable, "-m", "civicgen", "validate", "--format", "json", str(root)]
    try:
        done = subprocess.run(
            command, preexec_fn=cap, capture_output=True, env=env, timeout=300, check=False
        )
    finally:
        shutil.rmtree(root)  # hundreds of megabytes: not kept with the test's other files
    assert b"Traceback" not in done.stderr, done.stderr[-2000:]
    return done.returncode, json.loads(done.stdout), len(done.stdout)


def repeat(out: BinaryIO, chunk: bytes, size: int) -> None:
    for _ in range(size // len(chunk)):
        out.write(chunk)


def assert_no_leak(report: dict[str, Any], printed: int, letter: str) -> None:
    """The giant cell is not in the report: at most a preview of it."""
    assert printed < 8_000
    assert letter * 81 not in json.dumps(report)


@pytest.mark.c_extension
def test_hostile_one_line_huge_csv(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    needs_compiled(request)
    root = hostile_package(tmp_path, lambda out: repeat(out, b"z" * MiB, 300 * MiB))
    status, report, printed = validate_capped(root)
    assert status == 1
    assert [(e["row"], e["field"], e["code"]) for e in report["errors"]] == [
        (1, "a", "cell-too-large")
    ]
    assert_no_leak(report, printed, "z")


@pytest.mark.c_extension
def test_hostile_giant_cell(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    needs_compiled(request)

    def write(out: BinaryIO) -> None:
        out.write(b'a,b\nfirst,1\n"')
        repeat(out, b'y""' * 100_000, 200 * MiB)  # doubled quotes: the cell is unescaped
        out.write(b'",2\nlast,x\n')

    status, report, printed = validate_capped(hostile_package(tmp_path, write))
    assert status == 1
    assert [(e["row"], e["field"], e["code"]) for e in report["errors"]] == [
        (3, "a", "cell-too-large"),
        (4, "b", "type-error"),  # the scan went on past the giant cell
    ]
    assert_no_leak(report, printed, "y")


@pytest.mark.c_extension
def test_hostile_giant_row_of_many_cells(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    needs_compiled(request)

    def write(out: BinaryIO) -> None:
        out.write(b"a,b\n1,2\n")
        repeat(out, b"v," * 50_000, 100 * MiB)  # 52 million cells in one row
        out.write(b"\nlast,3\n")

    status, report, printed = validate_capped(hostile_package(tmp_path, write))
    assert status == 1
    assert [(e["row"], e["code"]) for e in report["errors"]] == [(3, "too-many-cells")]
    assert printed < 8_000


@pytest.mark.c_extension
def test_hostile_giant_row_of_large_cells(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    needs_compiled(request)

    def write(out: BinaryIO) -> None:
        out.write(b"a,b\n")
        cell = b'"' + b"r" * (MiB - 10) + b'"'
        out.write(b",".join([cell] * 40) + b"\nlast,3\n")

    status, report, printed = validate_capped(hostile_package(tmp_path, write))
    assert status == 1
    assert [(e["row"], e["code"]) for e in report["errors"]] == [(2, "row-too-large")]
    assert_no_leak(report, printed, "r")


@pytest.mark.c_extension
def test_hostile_unterminated_quote_at_end_of_a_big_file(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    needs_compiled(request)

    def write(out: BinaryIO) -> None:
        out.write(b"a,b\n")
        repeat(out, b"row,1\n" * 10_000, 60 * MiB)
        out.write(b'open,"2\n')
        repeat(out, b"q" * MiB, 200 * MiB)

    status, report, printed = validate_capped(hostile_package(tmp_path, write))
    assert status == 1
    assert [e["code"] for e in report["errors"]] == ["format-error"]
    assert "unexpected end of data" in report["errors"][0]["message"]
    assert printed < 8_000


def test_hostile_validate_api_reports_limits(tmp_path: Path) -> None:
    """In-process, any kernel: the pipeline turns a limit into one explained error."""
    root = hostile_package(tmp_path, lambda out: out.write(b"a,b\n" + b"k" * (2 * MiB) + b",1\n"))
    report = validate([str(root)], Settings(cache_dir=None)).report
    assert [(e.row, e.field_name, e.code) for e in report.errors] == [(2, "a", "cell-too-large")]
    message = report.errors[0].message
    assert "2,097,152 bytes, more than the 1,048,576 a cell may hold" in message
    assert len(message) < 400


def test_hostile_giant_cell_is_never_published(portal: Path) -> None:
    """A 3 MiB cell in the example city's budget: the build stops on one error, and no page,
    download or search index holds the cell."""
    table = portal / "datasets/madrid-budget/data/programas.csv"
    text = table.read_text(encoding="utf-8")
    assert "ENDEUDAMIENTO" in text
    table.write_text(text.replace("ENDEUDAMIENTO", "G" * (3 * MiB), 1), encoding="utf-8")
    commit_all(portal, "A giant cell")
    done = subprocess.run(
        ["mkdocs", "build", "-d", "out"], cwd=portal, capture_output=True, timeout=300, check=False
    )
    assert done.returncode == 1
    assert b'programas.csv, row 2, field "DESCRIPCION PROGRAMA" (2): this cell holds' in done.stderr
    assert b"G" * 81 not in done.stderr + done.stdout and len(done.stderr) < 20_000
    published = [p for p in (portal / "out").rglob("*") if p.is_file()]
    assert not any(b"G" * 81 in p.read_bytes() for p in published)


# --- statistics with more groups than the limit -----------------------------------------------


def sensor_package(root: Path, stations: int, config: str = "") -> Path:
    """A sensor package with one reading at each of `stations` stations (a station and an
    hour, or a station and a day, is a group of its statistics)."""
    root.mkdir(parents=True, exist_ok=True)
    fields = [
        {"name": "station", "type": "string"},
        {"name": "timestamp", "type": "datetime"},
        {"name": "pm25", "type": "number"},
    ]
    descriptor = {
        "name": "sensors",
        "resources": [{"name": "readings", "path": "readings.csv", "schema": {"fields": fields}}],
        "civicgen": {
            "profile": "sensor",
            "sensor": {"station": "station", "timestamp": "timestamp", "quantities": ["pm25"]},
        },
    }
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    rows = "".join(f"s{n:05d},2025-01-01T{n % 24:02d}:00:00Z,{n % 50}.5\n" for n in range(stations))
    (root / "readings.csv").write_text("station,timestamp,pm25\n" + rows, encoding="utf-8")
    if config:
        (root / "mkdocs.yml").write_text(config, encoding="utf-8")
    return root


def test_statistics_past_the_group_limit_are_refused_not_made(tmp_path: Path) -> None:
    """A hostile sensor file with a new station on every row: each station-hour would be a
    row of the statistics. Past the limit the scan's groups collapse (memory stays bounded),
    the table is reported with the columns to check, and no figure is derived from it."""
    root = sensor_package(tmp_path / "p", stations=60)
    validation = validate([str(root)], Settings(cache_dir=None, limits=Limits(groups=50)))
    notes = [(e.code, e.path, e.note) for e in validation.report.errors]
    assert notes == [
        ("too-large", "readings.csv", group_limit_note(50, ['"station"', f'"timestamp" (by {p})']))
        for p in ("hour", "day")
    ]
    assert "raise the limit `groups` in mkdocs.yml" in notes[0][2]
    assert derive_all(validation) == {"sensors": []}


def test_statistics_within_the_group_limit_are_made(tmp_path: Path) -> None:
    root = sensor_package(tmp_path / "p", stations=60)
    validation = validate([str(root)], Settings(cache_dir=None, limits=Limits(groups=60)))
    assert validation.report.errors == []
    daily = next(t for t in derive_all(validation)["sensors"] if t.name == "daily")
    assert len(daily.records()) == 60


def test_the_group_limit_is_read_from_mkdocs_yml(tmp_path: Path) -> None:
    config = "site_name: x\nplugins:\n  - civicgen:\n      limits:\n        groups: 40\n"
    root = sensor_package(tmp_path / "p", stations=45, config=config)
    status, output = run_cli(root, "validate", "--format", "json")
    errors = json.loads(output)["errors"]
    assert status == 1
    assert [e["code"] for e in errors] == ["too-large", "too-large"]
    assert "more than 40 groups" in errors[0]["message"]
    assert "Traceback" not in output


def test_an_aggregation_by_no_key_is_never_past_the_limit(tmp_path: Path) -> None:
    """Its one group is the key (), as a collapsed aggregation's is: only an aggregation by
    some key can go past the limit (a budget with no year, phase or direction columns sums
    all its lines under ())."""
    from dataclasses import replace

    from civicgen.scan.plan import GroupBy
    from civicgen.stats.profiles import over_group_limit

    root = sensor_package(tmp_path / "p", stations=3)
    validation = validate([str(root)], Settings(cache_dir=None))
    scanned = validation.tables[("sensors", "readings")]
    package = validation.packages["sensors"]
    total = GroupBy((), (2,), limit=50)
    by_station = GroupBy(((0, "value", 0),), (2,), limit=50)
    collapsed = {(): [3, []]}
    plan = scanned.plan._replace(aggregates=(total, by_station))
    result = scanned.result._replace(aggregates=[collapsed, collapsed])
    assert over_group_limit(package, replace(scanned, plan=plan, result=result)) == [by_station]
