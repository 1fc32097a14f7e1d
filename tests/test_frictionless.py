"""The reference validator against frictionless itself: same verdict, same codes and positions."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
from conftest import replace_in

from civicgen import validate
from civicgen.errors import TextError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import frictionless

# Where civicgen differs from frictionless on purpose (filtered out before comparing):
# frictionless also reports "primary-key" for a blank row (its key cells are all empty);
# civicgen reports the blank row once. Header errors: frictionless gives no row, civicgen row 1.
DELIBERATE = {"blank-row-primary-key"}

# Dialects (test_hypothesis.py draws delimiter, quoteChar, doubleQuote, skipInitialSpace,
# header or headerRows, and LF, CRLF or CR line breaks): read as frictionless reads them,
# but for these differences (also filtered there):
# - an empty file: frictionless cannot infer a table ("source-error"); civicgen has no rows.
# - commentChar, escapeChar and nullSequence are not in civicgen's plan (scan/plan.py
#   Dialect): a comment line is a data row here (reported, not skipped), a backslash does not
#   escape a delimiter (test_comment_and_escape_are_not_read_here).
# - a quote never closed is a format error here (test_unterminated_quote_is_an_error_here_only).
# - a record over the scan's limits (cell-too-large, row-too-large, too-many-cells,
#   test_limits_csv.py) is one error here; frictionless reads it whole.


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
}


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


def frictionless_flat(descriptor: Path) -> list[list[Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = frictionless.validate(str(descriptor))
    flat = report.flatten(["rowNumber", "fieldNumber", "type"])
    blank_rows = {row for row, _, code in flat if code == "blank-row"}
    return sorted(
        (
            [1 if r is None and c.endswith("-label") else r, n, c]
            for r, n, c in flat
            if not (c == "primary-key" and r in blank_rows)
        ),
        key=sort_key,
    )


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
    assert (expected == []) == (case in ("valid", "quoted"))


def test_encoding_error_like_frictionless(tmp_path: Path) -> None:
    data = "a\nbien\nmal\xe9\n".encode("latin-1")
    folder = write_package(tmp_path / "enc", [f("a")], data, {}, {"encoding": "utf-8"})
    assert [c for _, _, c in civicgen_flat(folder / "datapackage.json")] == ["encoding-error"]
    assert "encoding-error" in [c for _, _, c in frictionless_flat(folder / "datapackage.json")]


def test_comment_and_escape_are_not_read_here(tmp_path: Path) -> None:
    """Dialect options civicgen's plan does not read: frictionless skips the comment line and
    unescapes the delimiter; civicgen reads both as plain CSV (and so reports them)."""
    fields = [f("a", "integer"), f("b")]
    data = "a,b\n# a note\n1,x\\,y\n"
    dialect = {"dialect": {"commentChar": "#", "escapeChar": "\\", "doubleQuote": False}}
    folder = write_package(tmp_path / "dialect", fields, data, {}, dialect)
    assert frictionless_flat(folder / "datapackage.json") == []
    assert civicgen_flat(folder / "datapackage.json") == [
        [2, 1, "type-error"],
        [2, 2, "missing-cell"],
        [3, 3, "extra-cell"],
    ]


def test_unterminated_quote_is_an_error_here_only(tmp_path: Path) -> None:
    """Stricter on purpose: frictionless reads an unclosed quote to the end of the file."""
    folder = write_package(tmp_path / "quote", [f("a"), f("b")], 'a,b\n1,"open\n2,3\n', {})
    assert frictionless_flat(folder / "datapackage.json") == []
    assert [c for _, _, c in civicgen_flat(folder / "datapackage.json")] == ["format-error"]


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


def test_published_packages_open_in_frictionless_and_datapackage_py(
    portal: Path, tmp_path: Path
) -> None:
    from civicgen.build import build_site

    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    published = sorted((site / "datasets").glob("*/datapackage.json"))
    derived = sorted((site / "datasets").glob("*/stats/datapackage.json"))
    assert len(published) == 4 and len(derived) == 4
    for descriptor in published + derived:
        assert frictionless_flat(descriptor) == [], descriptor
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import datapackage

            package = datapackage.Package(str(descriptor))
            assert package.valid, package.errors
            assert all(len(resource.read()) > 0 for resource in package.resources)
    shutil.rmtree(site)
