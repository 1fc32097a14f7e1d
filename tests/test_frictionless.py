"""The reference validator against frictionless itself: same verdict, same codes and positions."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import ROOT, replace_in

from civicgen import validate
from civicgen.errors import ERRORS, TextError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import frictionless

# Where civicgen differs from frictionless on purpose: the table DIFFERENCES below (each
# case is run by both tools, and the catalogue entry of its code says it). Three of them are
# filtered out of frictionless' report before the other comparisons (COMPARABLE).
# Header errors: frictionless gives no row, civicgen row 1 (the same place, written out).
# Dialects (test_hypothesis.py draws delimiter, quoteChar, doubleQuote, skipInitialSpace,
# header or headerRows, and LF, CRLF or CR line breaks) are read as frictionless reads them.


def f(name: str, type_: str = "string", **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


CASES: dict[str, tuple[list[dict[str, Any]], str, dict[str, Any]]] = {
    "valid": ([f("id", "integer"), f("name")], "id,name\n1,a\n2,b\n", {}),
    "integer": ([f("n", "integer")], "n\n1\n1.5\nx\n-3\n 4 \n", {}),
    "number": ([f("n", "number")], "n\n1.5\n1,5\nNaN\n1e3\nabc\n-0.5\n", {}),
    "number-options": (
        [f("n", "number", decimalChar=",", groupChar=".")],
        "n\n1.234,5\n2,5\n1.5\n",
        {},
    ),
    "bare-number": ([f("n", "number", bareNumber=False)], "n\n€ 12.5\n12.5 %\nabc\n", {}),
    "boolean": ([f("b", "boolean")], "b\ntrue\nFalse\n1\nyes\n", {}),
    "boolean-values": (
        [f("b", "boolean", trueValues=["sí"], falseValues=["no"])],
        "b\nsí\nno\ntrue\n",
        {},
    ),
    "date": ([f("d", "date")], "d\n2025-01-31\n2025-02-30\n31/01/2025\n", {}),
    "date-format": ([f("d", "date", format="%d/%m/%Y")], "d\n31/01/2025\n2025-01-31\n", {}),
    "time": ([f("t", "time")], "t\n14:30:00\n25:00:00\nnoon\n", {}),
    "datetime": (
        [f("t", "datetime")],
        "t\n2025-01-31T10:00:00Z\n2025-01-31T10:00:00+01:00\n2025-01-31\n2025-13-01T00:00:00\n",
        {},
    ),
    "year": ([f("y", "year")], "y\n2025\n25\nabcd\n", {}),
    "yearmonth": ([f("m", "yearmonth")], "m\n2025-01\n2025-13\n2025\n", {}),
    "geopoint": ([f("p", "geopoint")], 'p\n"-3.7, 40.4"\n"200, 10"\nnowhere\n', {}),
    "object": ([f("o", "object")], 'o\n"{""a"": 1}"\n"[1]"\nx\n', {}),
    "array": ([f("a", "array")], 'a\n"[1, 2]"\n"{}"\nx\n', {}),
    "email": ([f("e", format="email")], "e\na@b.org\nnot-an-email\n", {}),
    "uuid": ([f("u", format="uuid")], "u\n12345678-1234-5678-1234-567812345678\nnope\n", {}),
    "required": ([f("a", constraints={"required": True}), f("b")], "a,b\n,x\ny,\n", {}),
    "unique": ([f("a", "integer", constraints={"unique": True})], "a\n1\n2\n1\n01\n", {}),
    "lengths": ([f("a", constraints={"minLength": 2, "maxLength": 3})], "a\nab\na\nabcd\n", {}),
    "bounds": (
        [f("n", "integer", constraints={"minimum": 0, "maximum": 10})],
        "n\n0\n-1\n11\n10\n",
        {},
    ),
    "exclusive": ([f("n", "number", constraints={"exclusiveMinimum": 0})], "n\n0\n0.1\n", {}),
    "date-bounds": (
        [f("d", "date", constraints={"minimum": "2025-01-01"})],
        "d\n2024-12-31\n2025-01-01\n",
        {},
    ),
    "pattern": ([f("c", constraints={"pattern": "[0-9]{3}"})], "c\n001\n01\n0011\nabc\n", {}),
    "enum": ([f("s", constraints={"enum": ["a", "b"]})], "s\na\nc\nB\n", {}),
    "enum-integer": ([f("n", "integer", constraints={"enum": [1, 2]})], "n\n1\n01\n3\n", {}),
    "primary-key": (
        [f("a", "integer"), f("b")],
        "a,b\n1,x\n1,y\n1,x\n",
        {"primaryKey": ["a", "b"]},
    ),
    "missing-values": (
        [f("n", "integer", constraints={"required": True})],
        "n\nNA\n-\n5\n",
        {"missingValues": ["", "NA"]},
    ),
    "missing-cell": ([f("a"), f("b"), f("c")], "a,b,c\n1,2\n1\n", {}),
    "extra-cell": ([f("a"), f("b")], "a,b\n1,2,3\n1,2,3,4\n", {}),
    "blank-row": ([f("a"), f("b")], "a,b\n1,2\n,\n\n3,4\n", {}),
    "duplicate-label": ([f("a"), f("b")], "a,a\n1,2\n", {}),
    "blank-label": ([f("a"), f("b")], "a,\n1,2\n", {}),
    "incorrect-label": ([f("a"), f("b")], "a,c\n1,2\n", {}),
    "extra-label": ([f("a")], "a,b\n1,2\n", {}),
    "missing-label": ([f("a"), f("b")], "a\n1\n", {}),
    "quoted": ([f("a"), f("b")], 'a,b\n"x, y","line\nbreak"\n"he said ""hi""",z\n', {}),
    "nan-minimum": (
        [f("n", "number", constraints={"minimum": 0})],
        "n\nNaN\n-1\n5\nInfinity\n-Infinity\n-NaN\n",
        {},
    ),
    "nan-maximum": ([f("n", "number", constraints={"maximum": 10})], "n\nnan\nInf\n5\n", {}),
    "primary-key-uncastable": (
        [f("a", "integer"), f("b")],
        "a,b\nx,1\ny,2\n1,3\n,4\n1,5\n",
        {"primaryKey": ["a"]},
    ),
    "primary-key-partly-empty": (
        [f("a", "integer"), f("b")],
        "a,b\nx,k\n,k\n,\n1,\n1\n",
        {"primaryKey": ["a", "b"]},
    ),
    "primary-key-without-label": ([f("a"), f("b")], "a\n1\n1\n", {"primaryKey": ["b"]}),
    "extra-label-short-row": ([f("a")], "a,b\n1\n1,2,3\n", {}),
    "empty-header-line": ([f("a", "integer")], "\n1\nx\n", {}),
    "empty-file": ([f("a")], "", {}),
    "time-forms": (
        [f("t", "time")],
        "t\n10:30\n10:30:00\n10:30:00Z\n10:30:00+01:00\n10:30:00.5\n1030:00\n",
        {},
    ),
    "duration-forms": ([f("d", "duration")], "d\nPT\nP1DT\nP1,5D\n-P1D\nP\nP1X\n", {}),
    "binary": ([f("b", format="binary")], "b\naGVsbG8=\nnot base64!\naGVsbG8\n", {}),
}
VALID = {"valid", "quoted"}


def write_package(
    folder: Path,
    fields: list[dict[str, Any]],
    data: str | bytes,
    schema_extra: dict[str, Any],
    resource_extra: dict[str, Any] | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.csv").write_bytes(data if isinstance(data, bytes) else data.encode())
    resource = {
        "name": "data",
        "path": "data.csv",
        "schema": {"fields": fields, **schema_extra},
        **(resource_extra or {}),
    }
    (folder / "datapackage.json").write_text(json.dumps({"name": "case", "resources": [resource]}))
    return folder


def frictionless_raw(descriptor: Path) -> list[list[Any]]:
    """frictionless' report as [row, field number, code], header errors in row 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = frictionless.validate(str(descriptor))
    flat = report.flatten(["rowNumber", "fieldNumber", "type"])
    return sorted(
        ([1 if r is None and c.endswith("-label") else r, n, c] for r, n, c in flat),
        key=sort_key,
    )


def frictionless_flat(descriptor: Path) -> list[list[Any]]:
    """frictionless' report less what civicgen reports otherwise on purpose (COMPARABLE)."""
    return comparable(frictionless_raw(descriptor))


def comparable(flat: list[list[Any]]) -> list[list[Any]]:
    """Without the errors of the differences in COMPARABLE: a blank row's primary-key, a
    missing cell's required constraint-error, a cell's second broken constraint."""
    blank_rows = {row for row, _, code in flat if code == "blank-row"}
    missing = {(row, n) for row, n, code in flat if code == "missing-cell"}
    kept: list[list[Any]] = []
    for row, n, code in flat:
        if code == "primary-key" and row in blank_rows:
            continue  # blank-row-primary-key
        if code == "constraint-error" and ((row, n) in missing or [row, n, code] in kept):
            continue  # missing-cell-required, one-constraint-error-per-cell
        kept.append([row, n, code])
    return kept


def civicgen_flat(descriptor: Path) -> list[list[Any]]:
    """civicgen's errors of the kinds frictionless knows (text and personal-data checks are
    civicgen's own: an e-mail column is personal data to civicgen)."""
    report = validate([str(descriptor)]).report
    known = [e for e in report.errors if not isinstance(e, TextError)]
    return sorted(([e.row, e.field_number, e.code] for e in known), key=sort_key)


def sort_key(item: list[Any]) -> tuple[int, int, str]:
    return (item[0] or 0, item[1] or 0, item[2])


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_errors_as_frictionless(case: str, tmp_path: Path) -> None:
    fields, data, schema_extra = CASES[case]
    folder = write_package(tmp_path / case, fields, data, schema_extra)
    expected = frictionless_flat(folder / "datapackage.json")
    assert civicgen_flat(folder / "datapackage.json") == expected
    assert (expected == []) == (case in VALID)


def test_encoding_error_like_frictionless(tmp_path: Path) -> None:
    data = "a\nbien\nmal\xe9\n".encode("latin-1")
    folder = write_package(tmp_path / "enc", [f("a")], data, {}, {"encoding": "utf-8"})
    assert [c for _, _, c in civicgen_flat(folder / "datapackage.json")] == ["encoding-error"]
    assert "encoding-error" in [c for _, _, c in frictionless_flat(folder / "datapackage.json")]


def test_delimiter_dialect(tmp_path: Path) -> None:
    folder = write_package(
        tmp_path / "semi",
        [f("a", "integer"), f("b")],
        "a;b\n1;x\ny;z\n",
        {},
        {"dialect": {"delimiter": ";"}},
    )
    flat = civicgen_flat(folder / "datapackage.json")
    assert flat == frictionless_flat(folder / "datapackage.json") == [[3, 1, "type-error"]]


@pytest.mark.parametrize("package", ["madrid-budget", "air-quality"])
def test_example_tables_agree(package: str, portal: Path) -> None:
    descriptor = portal / "datasets" / package / "datapackage.json"
    assert civicgen_flat(descriptor) == frictionless_flat(descriptor) == []


def test_broken_budget_agrees(portal: Path) -> None:
    budget = portal / "datasets/madrid-budget/data/gastos-2014-2015.csv"
    replace_in(budget, ",102739\n", ',"12,5x"\n')
    replace_in(budget, "\n2015,", "\n2016,")
    replace_in(budget, ",SUELDOS DEL GRUPO A2,", ",SUELDOS DEL GRUPO A2,,")
    descriptor = portal / "datasets/madrid-budget/datapackage.json"
    flat = civicgen_flat(descriptor)
    assert flat == frictionless_flat(descriptor)
    assert [c for _, _, c in flat] == [
        "type-error",
        "constraint-error",
        "extra-cell",
        "constraint-error",
    ]


def test_published_packages_open_in_frictionless_and_datapackage_py(example_site: Path) -> None:
    site = example_site  # the example city, built once (conftest); read, never changed
    published = sorted((site / "datasets").glob("*/datapackage.json"))
    derived = sorted((site / "datasets").glob("*/stats/datapackage.json"))
    assert len(published) == 5 and len(derived) == 5
    for descriptor in published + derived:
        assert frictionless_flat(descriptor) == [], descriptor
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import datapackage

            package = datapackage.Package(str(descriptor))
            assert package.valid, package.errors
            assert all(len(resource.read()) > 0 for resource in package.resources)


# --- differences kept on purpose: each case run by both tools, and said in the catalogue ---


class Difference(NamedTuple):
    """A case where civicgen reports otherwise than frictionless, on purpose.

    code: the error code whose catalogue entry (its class's description) says so, in the
    words of `said`. package: the files and resources of the case. frictionless and
    civicgen: what each reports, as [row, field number, code] (header errors in row 1)."""

    code: str
    said: str
    package: tuple[dict[str, str | bytes], list[dict[str, Any]]]
    frictionless: list[list[Any]]
    civicgen: list[list[Any]]


def table(
    fields: list[dict[str, Any]],
    data: str | bytes,
    schema_extra: dict[str, Any] | None = None,
    **resource_extra: Any,
) -> tuple[dict[str, str | bytes], list[dict[str, Any]]]:
    """One CSV resource "data" with a schema."""
    schema = {"fields": fields, **(schema_extra or {})}
    return {"data.csv": data}, [
        {"name": "data", "path": "data.csv", "schema": schema, **resource_extra}
    ]


LINKED = (
    {"a.csv": "k1,k2\n1,x\n2,y\n", "b.csv": "r1,r2\n1,x\n,x\n3,\n9,z\n"},
    [
        {"name": "a", "path": "a.csv", "schema": {"fields": [f("k1", "integer"), f("k2")]}},
        {
            "name": "b",
            "path": "b.csv",
            "schema": {
                "fields": [f("r1", "integer"), f("r2")],
                "foreignKeys": [
                    {"fields": ["r1", "r2"], "reference": {"resource": "a", "fields": ["k1", "k2"]}}
                ],
            },
        },
    ],
)

DIFFERENCES: dict[str, Difference] = {
    "blank-row-primary-key": Difference(
        "blank-row",
        "also reports a primary-key error for it",
        table([f("a", "integer"), f("b")], "a,b\n1,x\n,\n2,y\n", {"primaryKey": ["a"]}),
        [[3, None, "blank-row"], [3, None, "primary-key"]],
        [[3, None, "blank-row"]],
    ),
    "missing-cell-required": Difference(
        "missing-cell",
        "also reports a constraint-error for a missing cell of a required field",
        table([f("a"), f("b", constraints={"required": True})], "a,b\n1\n"),
        [[2, 2, "constraint-error"], [2, 2, "missing-cell"]],
        [[2, 2, "missing-cell"]],
    ),
    "one-constraint-error-per-cell": Difference(
        "constraint-error",
        "reported once, for the first (frictionless reports each)",
        table([f("n", "number", constraints={"minimum": 0, "maximum": 10})], "n\nNaN\n"),
        [[2, 1, "constraint-error"], [2, 1, "constraint-error"]],
        [[2, 1, "constraint-error"]],
    ),
    "undeclared-delimiter": Difference(
        "incorrect-label",
        "frictionless guesses an undeclared one from the file",
        table([f("a", "integer"), f("b", "integer")], "a;b\n1;2\n"),
        [],
        [[1, 1, "incorrect-label"], [1, 2, "missing-label"], [2, 1, "type-error"]],
    ),
    "undeclared-encoding": Difference(
        "encoding-error",
        "civicgen does not guess an undeclared encoding",
        table([f("a")], "a\ncafé\n".encode("latin-1")),
        [],
        [[2, None, "encoding-error"]],
    ),
    "signalling-nan": Difference(
        "type-error",
        '"sNaN" (a signalling NaN) is not a number here',
        table([f("n", "number")], "n\nsNaN\n1\n"),
        [],
        [[2, 1, "type-error"]],
    ),
    "geojson-schema": Difference(
        "type-error",
        "A geojson value need only be a JSON object here",
        table([f("g", "geojson")], 'g\n"{""type"": ""Point"", ""coordinates"": [1, 2]}"\n"{}"\n'),
        [[3, 1, "type-error"]],
        [],
    ),
    "comment-and-escape": Difference(
        "dialect-error",
        "commentChar, escapeChar and nullSequence are not read",
        table(
            [f("a", "integer"), f("b")],
            "a,b\n# a note\n1,x\\,y\n",
            dialect={"commentChar": "#", "escapeChar": "\\", "doubleQuote": False},
        ),
        [],
        [[2, 1, "type-error"], [2, 2, "missing-cell"], [3, 3, "extra-cell"]],
    ),
    "undeclared-header-row": Difference(
        "dialect-error",
        "civicgen never guesses a dialect the descriptor leaves out",
        table([f(c) for c in "abcde"], "Budget 2024\na,b,c,d,e\n1,2,3,4,5\n6,7,8,9,10\n"),
        [],
        [[1, 1, "incorrect-label"]] + [[1, n, "missing-label"] for n in range(2, 6)],
    ),
    "unterminated-quote": Difference(
        "format-error",
        "A quote never closed is a format error here",
        table([f("a"), f("b")], 'a,b\n1,"open\n2,3\n'),
        [],
        [[2, None, "format-error"]],
    ),
    "cell-over-limit": Difference(
        "cell-too-large",
        "frictionless has no such limit",
        table([f("a"), f("b")], "a,b\n" + "x" * (1 << 20 | 1) + ",1\n"),
        [],
        [[2, 1, "cell-too-large"]],
    ),
    "foreign-key-partly-empty": Difference(
        "foreign-key",
        "frictionless also checks one with some cells empty",
        LINKED,
        [[3, None, "foreign-key"], [4, None, "foreign-key"], [5, None, "foreign-key"]],
        [[5, 1, "foreign-key"]],
    ),
}
COMPARABLE = ("blank-row-primary-key", "missing-cell-required", "one-constraint-error-per-cell")


def write_case(folder: Path, package: tuple[dict[str, str | bytes], list[dict[str, Any]]]) -> Path:
    files, resources = package
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    descriptor = folder / "datapackage.json"
    descriptor.write_text(json.dumps({"name": "case", "resources": resources}))
    return descriptor


@pytest.mark.parametrize("name", sorted(DIFFERENCES))
def test_deliberate_difference(name: str, tmp_path: Path) -> None:
    """Each difference is exactly as the table says, in both tools."""
    difference = DIFFERENCES[name]
    descriptor = write_case(tmp_path / name, difference.package)
    assert frictionless_raw(descriptor) == difference.frictionless
    assert civicgen_flat(descriptor) == difference.civicgen
    filtered = comparable(difference.frictionless) == difference.civicgen
    assert filtered == (name in COMPARABLE)


@pytest.mark.parametrize("name", sorted(DIFFERENCES))
def test_deliberate_difference_is_in_the_catalogue(name: str) -> None:
    difference = DIFFERENCES[name]
    description = ERRORS[difference.code].description
    assert difference.said in description and "frictionless" in description


# --- a resource with no schema: checked against the schema frictionless infers ----------

INTS = "".join(f"{i},x\n" for i in range(120))
NO_SCHEMA = {
    "structure": "a,b\n1,2\n,\n3\n4,5,6\n\n7,8\n",
    "type-after-the-sample": "a,b\n" + INTS + "oops,y\n",
    "type-in-the-sample": "a,b\n" + INTS[:300] + "oops,y\n" + INTS[300:],
    "odd-cell-first": "a,b\noops,y\n" + INTS[:200],
    "dates": "d\n" + "".join(f"2020-01-{i + 1:02d}\n" for i in range(20)) + "2020-02-30\n",
    "labels": "a,a,,c\n1,2,3,4\n",
    "mostly-empty": "a,b\n,1\n,2\n,\nx,3\n",
    "numbers": "n,m\n1.5,1\nNaN,2\n2,\n-0,3.5\n1e3,x\n",
    "kinds": (
        'y,ym,t,dt,g,o\n2020,2020-01,10:00:00,2020-01-01T10:00:00Z,"1, 2",{}\n'
        '2021,2020-13,25:00:00,2020-01-01,"x",[]\n'
    ),
    "booleans": "b\ntrue\nfalse\nTRUE\nyes\n",
    "header-only": "a,b\n",
    "empty": "",
}


def write_schemaless(folder: Path, data: str | bytes, **resource: Any) -> Path:
    """A package whose one resource has no schema."""
    files = {"data.csv": data}
    return write_case(folder, (files, [{"name": "data", "path": "data.csv", **resource}]))


@pytest.mark.parametrize("case", sorted(NO_SCHEMA))
def test_no_schema_same_errors_as_frictionless(case: str, tmp_path: Path) -> None:
    descriptor = write_schemaless(tmp_path / case, NO_SCHEMA[case])
    assert civicgen_flat(descriptor) == frictionless_flat(descriptor)


def test_no_schema_type_error_says_the_type_was_inferred(tmp_path: Path) -> None:
    descriptor = write_schemaless(tmp_path / "late", NO_SCHEMA["type-after-the-sample"])
    [error] = validate([str(descriptor)]).report.errors
    assert (error.code, error.row, error.field_name) == ("type-error", 122, "a")
    assert "no schema" in error.message and "first rows" in error.message


def mutations(text: str) -> dict[str, str]:
    """Real rows with one structural or typed change each, after the inference's sample."""
    lines = text.split("\n")
    late = lines[150].split(",")
    late[-1] = "n/a"
    return {
        "as-is": text,
        "blank-rows": "\n".join(lines[:50] + ["", ","] + lines[50:]),
        "short-row": "\n".join(lines[:40] + [lines[40].rsplit(",", 1)[0]] + lines[41:]),
        "extra-cell": "\n".join(lines[:60] + [lines[60] + ",extra"] + lines[61:]),
        "late-value": "\n".join(lines[:150] + [",".join(late)] + lines[151:]),
    }


@pytest.mark.parametrize("change", ["as-is", "blank-rows", "short-row", "extra-cell", "late-value"])
def test_example_readings_without_schema_agree(change: str, tmp_path: Path) -> None:
    """The example city's sensor readings (real data), their schema left out."""
    text = (ROOT / "datasets/air-quality/data/readings.csv").read_text(encoding="utf-8")
    descriptor = write_schemaless(tmp_path / change, mutations(text)[change])
    expected = frictionless_flat(descriptor)
    assert civicgen_flat(descriptor) == expected
    assert (expected == []) == (change == "as-is")


@pytest.mark.parametrize(
    "path",
    ["datasets/madrid-budget/data/gastos-2014-2015.csv", "datasets/air-quality/data/stations.csv"],
)
def test_example_tables_without_schema_agree(path: str, tmp_path: Path) -> None:
    descriptor = write_schemaless(tmp_path / "case", (ROOT / path).read_bytes())
    assert civicgen_flat(descriptor) == frictionless_flat(descriptor) == []


@pytest.mark.parametrize(
    ("labels", "header"),
    [(["a x", "a y"], "a,a\nx,y\n"), (["a", "b"], "a,b\na,b\n"), (["a", "b c"], "a,b\n,c\n")],
)
def test_header_rows_joined_like_frictionless(
    labels: list[str], header: str, tmp_path: Path
) -> None:
    """Several header rows: a cell repeating the one above it is not added again."""
    fields = [f(label) for label in labels]
    package = table(fields, header + "1,2\n", dialect={"headerRows": [1, 2]})
    descriptor = write_case(tmp_path / "case", package)
    assert civicgen_flat(descriptor) == frictionless_flat(descriptor)
