"""Random schemas and tables: the compiled kernel, the reference and frictionless agree.

Hypothesis draws a Table Schema (integer, number, string, boolean, date and year fields,
random constraints, maybe a primary key) and a table of valid and corrupted cells, rows
too short or too long, blank rows, quotes and line breaks inside cells. Both kernels
must return the same ScanResult, and the flattened errors must equal frictionless's
(with the deliberate differences documented in test_frictionless.py).
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_frictionless import frictionless_flat, sort_key, write_package
from test_kernel import compiled, normal  # noqa: F401 (a fixture)

from civicgen.scan import cast as casting
from civicgen.scan import checkers, reference
from civicgen.scan.plan import CsvLimits, compile_plan, field_plan

TYPES = ("integer", "number", "string", "boolean", "date", "year")
VALID: dict[str, st.SearchStrategy[str]] = {
    "integer": st.integers(-1000, 1000).map(str),
    "number": st.decimals(-1000, 1000, places=2, allow_nan=False).map(str),
    "string": st.text('abcxyz é,"\n-', min_size=1, max_size=6),
    "boolean": st.sampled_from(["true", "false", "True", "FALSE", "1", "0"]),
    "date": st.dates().map(lambda d: d.strftime("%Y-%m-%d") if d.year >= 1000 else "2000-01-01"),
    "year": st.integers(1000, 2999).map(str),
}
CORRUPT = st.sampled_from(
    [
        "x",
        "1.5",
        "12,5",
        "2025-02-30",
        "20250101",
        "yes",
        "abc",
        "-",
        "1e3",
        "99999",
        "é",
        '"q"',
        "a\nb",
    ]
)
PATTERNS = ("[a-z]+", "[a-c]{1,3}", ".*é.*")


@st.composite
def fields(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 4))
    out = []
    for index in range(count):
        type_ = draw(st.sampled_from(TYPES))
        constraints: dict[str, Any] = {}
        if draw(st.booleans()):
            constraints["required"] = True
        if draw(st.integers(0, 5)) == 0:
            constraints["unique"] = True
        if type_ in ("integer", "number") and draw(st.booleans()):  # year bounds crash frictionless
            low = draw(st.integers(-500, 2500))
            exclusive = False  # frictionless rejects exclusive bounds in some schemas (field-error)
            constraints["exclusiveMinimum" if exclusive else "minimum"] = low
            if draw(st.booleans()):
                constraints["exclusiveMaximum" if exclusive else "maximum"] = low + 500
        if type_ == "string":
            if draw(st.booleans()):
                constraints["minLength"] = draw(st.integers(0, 3))
                constraints["maxLength"] = constraints["minLength"] + draw(st.integers(0, 4))
            if draw(st.integers(0, 3)) == 0:
                constraints["pattern"] = draw(st.sampled_from(PATTERNS))
            if draw(st.integers(0, 4)) == 0:
                constraints["enum"] = ["a", "b", "é"]
        field: dict[str, Any] = {"name": f"f{index}", "type": type_}
        if constraints:
            field["constraints"] = constraints
        out.append(field)
    return out


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[dict[str, Any]], bytes, dict[str, Any]]:
    schema_fields = draw(fields())
    names = [f["name"] for f in schema_fields]
    schema_extra: dict[str, Any] = {}
    if draw(st.booleans()):
        schema_extra["primaryKey"] = draw(
            st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)
        )
    rows: list[list[str]] = [names]
    for _ in range(draw(st.integers(0, 12))):
        shape = draw(st.integers(0, 9))
        if shape == 0:
            # a blank row written as empty cells: frictionless drops trailing empty lines
            rows.append([""] * len(names))
            continue
        cells = [cell(draw, f["type"]) for f in schema_fields]
        if shape == 1:  # frictionless adds "required" to a missing required cell
            cut = draw(st.integers(1, len(cells)))
            dropped = schema_fields[cut:]
            if any(cells[:cut]) and not any(  # a lone '""' row confuses frictionless's header
                f.get("constraints", {}).get("required") for f in dropped
            ):
                cells = cells[:cut]
        elif shape == 2 and any(cells):  # frictionless: empty cells + an extra one = blank row
            cells.append(draw(CORRUPT))
        rows.append(cells)
    return schema_fields, to_csv(rows), schema_extra


def cell(draw: st.DrawFn, type_: str) -> str:
    # an empty or bad key cell too: both report "primary-key" for a row with no key
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return ""
    if kind == 1:
        return draw(CORRUPT)
    if kind == 2:
        return draw(VALID[type_]) if type_ != "integer" else draw(st.sampled_from(["1", "2", "3"]))
    return draw(VALID[type_])


def to_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue().encode()


def scanned_flat(result: Any) -> list[list[Any]]:
    flat = [[row, field or None, code] for row, field, code, _, _ in result.errors]
    return sorted(flat, key=sort_key)


@settings(
    max_examples=80,
    database=None,
    derandomize=True,  # the same examples on every run: CI verdicts do not depend on luck
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(table=tables())
def test_kernels_and_frictionless_agree(kernel: ModuleType, table: Any) -> None:
    schema_fields, data, schema_extra = table
    resource = {
        "name": "data",
        "path": "data.csv",
        "schema": {"fields": schema_fields, **schema_extra},
    }
    plan = compile_plan(resource, key_sets=[[schema_fields[0]["name"]]])
    result = kernel.scan_csv(data, plan)
    assert normal(result) == normal(reference.scan_csv(data, plan))
    with tempfile.TemporaryDirectory() as folder:
        package = write_package(Path(folder) / "case", schema_fields, data, schema_extra)
        expected = frictionless_flat(package / "datapackage.json")
    # frictionless reports each broken constraint of a cell; civicgen the first one, once
    assert scanned_flat(result) == [e for i, e in enumerate(expected) if e not in expected[:i]]


# --- the reference's compiled field checkers are its cast and broken_constraint ---------

MORE_TYPES = ("datetime", "time", "yearmonth", "duration", "geopoint", "object", "any", "nope")
CELLS = st.one_of(
    CORRUPT,
    *VALID.values(),
    st.sampled_from(["NaN", "sNaN", "-0", " 7 ", "1_0", "Infinity", "2025-01-01T10:00:00Z"]),
    st.sampled_from(["2025-01-01 10:00:00+01:00", "10:30", "2025-13", "P1D", "[1, 2]", "{}"]),
    st.sampled_from(["2.5, 40", "٣", "²²²²", "a@b.co", ""]),
    st.text(max_size=5),
)


@st.composite
def any_field(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(fields())[0]
    if draw(st.booleans()):
        field["type"] = draw(st.sampled_from(MORE_TYPES))
    if draw(st.integers(0, 3)) == 0:
        bound = draw(st.sampled_from([1, 2.5, "3", "x", "2025-01-01", True, float("nan")]))
        field.setdefault("constraints", {})[draw(st.sampled_from(["minimum", "maximum"]))] = bound
    if draw(st.integers(0, 5)) == 0:
        field.setdefault("constraints", {})["enum"] = ["1", 2, "b", "NaN"]
    if draw(st.integers(0, 5)) == 0:
        field["bareNumber"] = False
    return field


@settings(max_examples=300, database=None, derandomize=True, deadline=None)
@given(field=any_field(), cells=st.lists(CELLS, max_size=8), memo_size=st.sampled_from([1, 1024]))
def test_field_checker_is_cast_and_constraints(
    field: dict[str, Any], cells: list[str], memo_size: int
) -> None:
    """Each cell twice (the second verdict may come from the memo), as the spec defines it."""
    plan = field_plan(field, ("",))
    required = bool(dict(plan.constraints).get("required"))
    errors: list[Any] = []
    old, checkers.MEMO_SIZE = checkers.MEMO_SIZE, memo_size
    try:
        check = checkers.field_checker(plan, 1, required, errors, None, None)
        got = [repr(check(row, cell)) for row, cell in enumerate(cells + cells, start=2)]
    finally:
        checkers.MEMO_SIZE = old
    expected_errors: list[Any] = []
    expected = []
    for row, cell in enumerate(cells + cells, start=2):
        value = None
        if cell == "":
            if required:
                expected_errors.append((row, 1, "constraint-error", cell, "required"))
        elif (cast := casting.cast(plan, cell)) is casting.NOT_CAST:
            expected_errors.append((row, 1, "type-error", cell, plan.type))
        else:
            value = cast
            broken = casting.broken_constraint(plan, cell, value)
            if broken:
                expected_errors.append((row, 1, "constraint-error", cell, broken))
        expected.append(repr(value))
    assert (got, errors) == (expected, expected_errors)


# --- dialects and messy bytes: the compiled kernel is the reference, byte for byte ------

DELIMITERS = (",", ";", "\t", "|", ":", " ")
QUOTES = ('"', "'", "~")
LINE_ENDS = ("\n", "\r\n", "\r")
NOISE = (
    b'"', b"'", b",", b";", b"\t", b" ", b"\r", b"\n", b"\r\n", b"\x00", b"\xef\xbb\xbf",
    b"\xff", b"\xed\xa0\x80", b"\xc3", b"\xc0\xaf", b'""', b"\xc3\xa9", b"\\",
)  # fmt: skip
HEADERS = {"one": {}, "none": {"header": False}, "two": {"headerRows": [1, 2]}}


@st.composite
def dialects(draw: st.DrawFn, double_quote: bool | None = None) -> dict[str, Any]:
    """A CSV dialect as a descriptor writes it (only the keys civicgen's plan reads)."""
    delimiter = draw(st.sampled_from(DELIMITERS))
    dialect: dict[str, Any] = {
        "delimiter": delimiter,
        "quoteChar": draw(st.sampled_from([q for q in QUOTES if q != delimiter])),
        **HEADERS[draw(st.sampled_from(sorted(HEADERS)))],
    }
    if double_quote is not None or draw(st.booleans()):
        dialect["doubleQuote"] = draw(st.booleans()) if double_quote is None else double_quote
    if draw(st.booleans()):
        dialect["skipInitialSpace"] = draw(st.booleans())
    return dialect


def write_cell(cell: str, dialect: dict[str, Any], quote_all: bool) -> str:
    """A cell in the dialect: quoted when it must be (or always), quotes doubled if allowed."""
    quote, delimiter = dialect["quoteChar"], dialect["delimiter"]
    special = any(c in cell for c in (quote, delimiter, "\r", "\n")) or cell[:1] == " "
    if not (special or quote_all):
        return cell
    inner = cell.replace(quote, quote * 2) if dialect.get("doubleQuote", True) else cell
    return quote + inner + quote


def write_rows(draw: st.DrawFn, rows: list[list[str]], dialect: dict[str, Any]) -> bytes:
    """Rows in the dialect, each ended by a line break drawn from LF, CRLF and CR."""
    quote_all = draw(st.booleans())
    end = draw(st.sampled_from(LINE_ENDS))
    lines = [
        dialect["delimiter"].join(write_cell(c, dialect, quote_all) for c in row) for row in rows
    ]
    return "".join(line + end for line in lines).encode()


@st.composite
def messy(draw: st.DrawFn, data: bytes) -> bytes:
    """data with a few bytes inserted, deleted or repeated: quotes, breaks, NUL, bad UTF-8."""
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.integers(0, 3))
        if action <= 1:
            data = data[:at] + draw(st.sampled_from(NOISE)) + data[at:]
        elif action == 2:
            data = data[:at] + data[at + draw(st.integers(1, 4)) :]
        else:
            data = data[:at] + data[at : at + 8] * draw(st.integers(2, 3)) + data[at:]
    return data


@st.composite
def limits(draw: st.DrawFn) -> CsvLimits:
    """The default limits, or small ones that the drawn tables cross."""
    if draw(st.booleans()):
        return CsvLimits()
    return CsvLimits(draw(st.integers(0, 12)), draw(st.integers(0, 30)), draw(st.integers(0, 6)))


def parsed(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def headed(
    rows: list[list[str]], fields: list[dict[str, Any]], extra: dict[str, Any], dialect: Any
) -> list[list[str]]:
    """The rows with the header the dialect says: none, or two rows whose labels joined by a
    space are the field names (the names are changed in place to match)."""
    if dialect.get("header") is False:
        return rows[1:]
    if "headerRows" not in dialect:
        return rows
    for field in fields:
        field["name"] += " h"
    if "primaryKey" in extra:
        extra["primaryKey"] = [name + " h" for name in extra["primaryKey"]]
    return [rows[0], ["h"] * len(rows[0]), *rows[1:]]


@st.composite
def dialect_cases(draw: st.DrawFn, mess: bool) -> tuple[dict[str, Any], bytes, Any]:
    """(resource, bytes, plan) of a drawn table written in a drawn dialect."""
    schema_fields, data, schema_extra = draw(tables())
    dialect = draw(dialects() if mess else dialects(double_quote=True))
    rows = headed(parsed(data), schema_fields, schema_extra, dialect)
    data = write_rows(draw, rows, dialect)
    if mess:
        data = draw(messy(data))
    schema = {"fields": schema_fields, **schema_extra}
    resource = {"name": "data", "path": "data.csv", "schema": schema, "dialect": dialect}
    plan = compile_plan(resource, key_sets=[[schema_fields[0]["name"]]])
    return resource, data, plan._replace(limits=draw(limits())) if mess else plan


@settings(
    max_examples=400,
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=dialect_cases(mess=True))
def test_compiled_kernel_is_the_reference_on_messy_dialects(
    compiled: ModuleType,  # noqa: F811 (the fixture)
    case: Any,
) -> None:
    _, data, plan = case
    assert normal(compiled.scan_csv(data, plan)) == normal(reference.scan_csv(data, plan))


@settings(
    max_examples=60,
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=dialect_cases(mess=False))
def test_dialects_like_frictionless(kernel: ModuleType, case: Any) -> None:
    """Well-formed tables in any dialect frictionless reads the same way (DIALECT_DIFFERENCES
    in test_frictionless.py lists where it does not)."""
    resource, data, plan = case
    assume(data)  # an empty file: frictionless cannot read it ("source-error"), here no rows
    result = kernel.scan_csv(data, plan)
    with tempfile.TemporaryDirectory() as folder:
        schema = resource["schema"]
        package = write_package(
            Path(folder) / "case", schema["fields"], data,
            {k: v for k, v in schema.items() if k != "fields"}, {"dialect": resource["dialect"]},
        )  # fmt: skip
        expected = frictionless_flat(package / "datapackage.json")
    assert scanned_flat(result) == [e for i, e in enumerate(expected) if e not in expected[:i]]
