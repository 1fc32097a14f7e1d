"""Budgets of any city, in any layout: phases as columns (FDP v0.3 measures), a direction
column, decimal commas, ';' and latin-1, no primary key; labels independent of row order;
the budget page titled from the package, in its currency. Figures are checked against
independent sums made here with Python's csv module."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pygit2
import pytest
from conftest import commit_all, run_cli

from civicgen import validate
from civicgen.build import build_site
from civicgen.pipeline import diff
from civicgen.stats.profiles import derive_all

FIXTURES = Path(__file__).parent / "fixtures"
SECOND_CITY = FIXTURES / "second-city"
PACKAGE = "datasets/orcamento-despesas"
TABLE = f"{PACKAGE}/data/despesas-2023-2024.csv"
MADRID = "datasets/madrid-budget/data/gastos-2014-2015.csv"
PHASES = {
    "Vl_Orcado_Ano": "approved",
    "Vl_Orcado_Atualizado": "adjusted",
    "Vl_Liquidado": "executed",
}


# --- helpers ---------------------------------------------------------------------------------


def second_city(target: Path) -> Path:
    """The second city's minimal portal, copied to target and committed to its own repository."""
    shutil.copytree(SECOND_CITY, target)
    pygit2.init_repository(str(target))
    commit_all(target, "Second city")
    return target


def derived_of(folder: Path) -> dict[str, dict[str, Any]]:
    validation = validate([str(folder)])
    assert validation.report.valid, validation.report.flatten(["path", "row", "code", "note"])
    return {n: {t.name: t for t in tables} for n, tables in derive_all(validation).items()}


def brazilian(text: str) -> Decimal:
    """'1.234.567,89' → Decimal('1234567.89'), independently of civicgen."""
    return Decimal(text.replace(".", "").replace(",", "."))


def read_second_city(folder: Path) -> list[dict[str, str]]:
    text = (folder / TABLE).read_bytes().decode("latin-1")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def cents(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def budget_section(html: str) -> str:
    """The budget statistics part of a dataset page (headings to downloads)."""
    start = html.index('<h2 id="where-the-money-')
    return html[start : html.index('<h2 id="downloads"')]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def write_package(folder: Path, descriptor: dict[str, Any], rows: list[str], name: str) -> Path:
    """A one-table package: descriptor and a CSV (rows joined with newlines) in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False))
    return folder


# --- 3, 5, 7: the second city: phases as columns, ';', latin-1, decimal commas, BRL ----------


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return second_city(tmp_path_factory.mktemp("second") / "city")


@pytest.fixture(scope="module")
def city_stats(city: Path) -> dict[str, Any]:
    return derived_of(city / PACKAGE)["orcamento-despesas"]


@pytest.fixture(scope="module")
def city_site(city: Path) -> Path:
    return build_site(city / "mkdocs.yml")


def independent_sums(folder: Path, fields: tuple[str, ...]) -> dict[tuple[str, ...], Decimal]:
    """(year, phase, *codes) → the sum of the measure columns, per phase."""
    sums: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    for row in read_second_city(folder):
        for column, phase in PHASES.items():
            sums[(row["Cd_Exercicio"], phase, *(row[f] for f in fields))] += brazilian(row[column])
    return sums


def test_second_city_validates_and_prints_its_statistics(city: Path) -> None:
    code, output = run_cli(city, "validate")
    assert code == 0 and "98 row(s): valid" in output
    code, output = run_cli(city, "stats", "orcamento-despesas", "--table", "totals")
    assert code == 0 and "| 2024 | executed | expenditure |" in output


def test_totals_per_phase_equal_an_independent_sum(city: Path, city_stats: dict[str, Any]) -> None:
    expected = independent_sums(city, ())
    totals = city_stats["totals"].records()
    assert {(str(r["year"]), r["phase"]): cents(r["amount"]) for r in totals} == {
        key: cents(value) for key, value in expected.items()
    }
    assert {r["direction"] for r in totals} == {"expenditure"} and len(totals) == 6


@pytest.mark.parametrize("field", ["Cd_Orgao", "Cd_Funcao", "Cd_SubFuncao", "Cd_Despesa"])
def test_classifications_per_phase_equal_an_independent_sum(
    city: Path, city_stats: dict[str, Any], field: str
) -> None:
    expected = independent_sums(city, (field,))
    totals = independent_sums(city, ())
    rows = city_stats["classifications"].where(level=field)
    assert {(str(r["year"]), r["phase"], r["code"]): cents(r["amount"]) for r in rows} == {
        key: cents(value) for key, value in expected.items()
    }
    for r in rows:
        share = (
            expected[(str(r["year"]), r["phase"], r["code"])] / totals[(str(r["year"]), r["phase"])]
        )
        assert r["share"] == round(float(share), 4)


def test_execution_rate_is_executed_over_adjusted(city: Path, city_stats: dict[str, Any]) -> None:
    sums = independent_sums(city, ())
    execution = city_stats["execution"]
    for year in ("2023", "2024"):
        [row] = execution.where(classification="total", year=int(year))
        assert row["rate"] == round(float(sums[(year, "executed")] / sums[(year, "adjusted")]), 4)
        assert cents(row["approved"]) == cents(sums[(year, "approved")])
    by_function = independent_sums(city, ("Cd_Funcao",))
    [health] = execution.where(classification="funcional", code="10", year=2024)
    expected = by_function[("2024", "executed", "10")] / by_function[("2024", "adjusted", "10")]
    assert (health["label"], health["rate"]) == ("Saúde", round(float(expected), 4))


def test_execution_rate_falls_back_to_approved(tmp_path: Path) -> None:
    descriptor = json.loads((SECOND_CITY / PACKAGE / "datapackage.json").read_text())
    del descriptor["mapping"]["measures"]["atualizado"]
    folder = tmp_path / "pkg"
    shutil.copytree(SECOND_CITY / PACKAGE, folder)
    (folder / "datapackage.json").write_text(json.dumps(descriptor))
    rows = read_second_city(SECOND_CITY)
    executed = sum(brazilian(r["Vl_Liquidado"]) for r in rows if r["Cd_Exercicio"] == "2023")
    approved = sum(brazilian(r["Vl_Orcado_Ano"]) for r in rows if r["Cd_Exercicio"] == "2023")
    [row] = derived_of(folder)["orcamento-despesas"]["execution"].where(
        classification="total", year=2023
    )
    assert row["adjusted"] is None and row["rate"] == round(float(executed / approved), 4)


def test_second_city_page_shows_its_breakdowns_in_its_currency(city_site: Path) -> None:
    html = (city_site / "datasets/orcamento-despesas/index.html").read_text(encoding="utf-8")
    section = text_of(budget_section(html))
    for title in ("Institucional", "Funcional", "Economica"):
        assert f"<h3>{title}</h3>" in budget_section(html)
    for caption in ("Órgão, 2023", "Função, 2024", "Natureza da despesa, 2024"):
        assert caption in section
    assert "Finer levels (Subfunção)" in section
    assert "Approved (BRL)" in section and "Executed (BRL)" in section
    assert "Execution rate" in section and "Secretaria Municipal de Educação" in section
    for trace in ("EUR", "Madrid", "PROGRAMA", "CAPITULO", "CENTRO", "€"):
        assert trace not in html, trace


def test_second_city_preview_reads_latin1_and_semicolons(city_site: Path) -> None:
    html = (city_site / "datasets/orcamento-despesas/index.html").read_text(encoding="utf-8")
    assert "<td>Secretaria Municipal de Educação</td>" in html
    download = city_site / "datasets/orcamento-despesas/data/despesas-2023-2024.csv"
    assert download.read_bytes() == (SECOND_CITY / TABLE).read_bytes()


# --- 1: the Madrid example keeps its three breakdowns; no currency → plain numbers ----------


def test_madrid_page_shows_its_three_breakdowns(example_site: Path) -> None:
    site = example_site / "en"  # the English pages (Spanish at the root)
    html = (site / "datasets/madrid-budget/index.html").read_text()
    section = budget_section(html)
    assert [h for h in re.findall(r"<h3>(.*?)</h3>", section)] == [
        "Administrative",
        "Functional",
        "Economic",
    ]
    text = text_of(section)
    for caption in ("Centre, 2014", "Program, first character, 2015", "Chapter, 2015"):
        assert caption in text
    assert "Preferential public goods (health, education, culture, sport)" in text
    assert "Approved (EUR)" in text and "Per inhabitant (EUR)" in text
    assert (
        "Finer levels (Program, first 2 characters; Program, first 3 characters; Program)" in text
    )
    assert "6 code(s) appear with different labels" in text


def test_no_currency_declared_gives_plain_numbers(portal: Path) -> None:
    descriptor = portal / "datasets/madrid-budget/datapackage.json"
    data = json.loads(descriptor.read_text())
    del data["civicgen"]["budget"]["currency"]
    del data["mapping"]["measures"]["amount"]["currency"]
    descriptor.write_text(json.dumps(data, ensure_ascii=False))
    commit_all(portal, "No currency")
    site = build_site(portal / "mkdocs.yml")
    html = (site / "en/datasets/madrid-budget/index.html").read_text()  # English at /en/
    section = text_of(budget_section(html))
    assert "EUR" not in section and "Approved " in section
    assert "4,699,310,629 " in section  # the 2014 total, a plain number


# --- 2: labels independent of row order; conflicts reported ---------------------------------


def resorted(portal: Path, order: str) -> None:
    """The example budget's rows in another order (the header stays first)."""
    path = portal / MADRID
    header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if order == "reverse":
        rows.reverse()
    else:
        random.Random(order).shuffle(rows)
    path.write_text(header + "".join(rows), encoding="utf-8")


def budget_tables(folder: Path) -> dict[str, list[list[Any]]]:
    return {name: t.rows for name, t in derived_of(folder)["madrid-budget"].items()}


@pytest.mark.parametrize("order", ["reverse", "shuffle-1", "shuffle-2"])
def test_resorting_the_budget_changes_no_statistic(portal: Path, order: str) -> None:
    before = budget_tables(portal / "datasets/madrid-budget")
    resorted(portal, order)
    assert budget_tables(portal / "datasets/madrid-budget") == before


def test_resorting_the_budget_gives_an_empty_diff(
    portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(portal)
    base = commit_all(portal, "Example city")
    resorted(portal, "reverse")
    head = commit_all(portal, "The same lines, newest first", when=1_700_086_400)
    changes = diff(base, head)
    assert changes.stats == [] and all(t.rows == [] for t in changes.tables)


def test_label_conflicts_list_every_code_with_several_labels(portal: Path) -> None:
    expected: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with (portal / MADRID).open(encoding="utf-8", newline="") as source:
        for row in csv.DictReader(source):
            for field in ("CENTRO", "SECCION", "PROGRAMA", "CAPITULO", "ECONOMICO"):
                expected[(field, row[field])][row[f"DESCRIPCION {field}"]].add(row["AÑO"])
    conflicts = {k: v for k, v in expected.items() if len(v) > 1}
    table = derived_of(portal / "datasets/madrid-budget")["madrid-budget"]["label_conflicts"]
    assert [(r["field"], r["code"], r["label"], r["years"]) for r in table.records()] == [
        (field, code, label, ", ".join(sorted(years)))
        for (field, code), labels in sorted(conflicts.items())
        for label, years in sorted(labels.items())
    ]
    published = {(r["field"], r["code"]): r["label"] for r in table.records() if r["published"]}
    assert published[("PROGRAMA", "33301")] == "MUSEOS"  # the 2015 label, not 2014's
    nodes = derived_of(portal / "datasets/madrid-budget")["madrid-budget"]["classifications"]
    assert {r["label"] for r in nodes.where(level="PROGRAMA", code="33301")} == {"MUSEOS"}


def test_a_tie_in_the_latest_year_takes_the_smallest_label(tmp_path: Path) -> None:
    descriptor = {
        "name": "tie",
        "civicgen": {"profile": "budget", "budget": {
            "amount": "amount", "year": "year", "classifications": {"functional": ["area"]},
            "labels": {"area": "name"}}},
        "resources": [{"name": "lines", "path": "lines.csv", "schema": {"fields": [
            {"name": "year", "type": "year"}, {"name": "area", "type": "string"},
            {"name": "name", "type": "string"}, {"name": "amount", "type": "number"}]}}],
    }  # fmt: skip
    rows = ["2023,1,Old,1", "2024,1,Zeta,1", "2024,1,Alpha,2", "2023,1,Old,4"]
    for lines in (rows, rows[::-1]):
        folder = write_package(tmp_path / str(len(list(tmp_path.iterdir()))), descriptor,
                               ["year,area,name,amount", *lines], "lines.csv")  # fmt: skip
        tables = derived_of(folder)["tie"]
        assert {r["label"] for r in tables["classifications"].records()} == {"Alpha"}
        assert [(r["label"], r["years"], r["published"]) for r in
                tables["label_conflicts"].records()] == [
            ("Alpha", "2024", True), ("Old", "2023", False), ("Zeta", "2024", False)
        ]  # fmt: skip


# --- 4: revenue and expenditure in one table are kept apart ---------------------------------

DIRECTED = [
    "year,direction,area,amount",
    "2023,expenditure,1,60", "2023,expenditure,2,40", "2023,revenue,1,90", "2023,revenue,3,30",
    "2024,expenditure,1,80", "2024,expenditure,2,20", "2024,revenue,1,100", "2024,revenue,3,50",
]  # fmt: skip
DIRECTED_FIELDS = [
    {"name": "year", "type": "year"},
    {"name": "direction", "type": "string"},
    {"name": "area", "type": "string", "title": "Area"},
    {"name": "amount", "type": "number"},
]


def directed_package(folder: Path, layout: str) -> Path:
    """DIRECTED, its direction column said by civicgen.budget or by an FDP dimension."""
    resource = {"name": "lines", "path": "lines.csv", "schema": {"fields": DIRECTED_FIELDS}}
    descriptor: dict[str, Any] = {"name": "both", "civicgen": {"profile": "budget"}}
    if layout == "civicgen":
        descriptor["civicgen"]["budget"] = {
            "amount": "amount", "year": "year", "directionField": "direction",
            "currency": "USD", "classifications": {"functional": ["area"]},
        }  # fmt: skip
    else:
        descriptor["mapping"] = {
            "measures": {"amount": {"source": "amount", "currency": "USD"}},
            "dimensions": {
                "date": {"attributes": {"year": {"source": "year"}}, "primaryKey": "year"},
                "direction": {"attributes": {"d": {"source": "direction"}}, "primaryKey": "d"},
                "functional": {"attributes": {"a": {"source": "area"}}, "primaryKey": "a"},
            },
        }
    descriptor["resources"] = [resource]
    return write_package(folder, descriptor, DIRECTED, "lines.csv")


def independent_directed() -> dict[tuple[str, str, str], int]:
    sums: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in csv.DictReader(io.StringIO("\n".join(DIRECTED))):
        sums[(row["year"], row["direction"], row["area"])] += int(row["amount"])
        sums[(row["year"], row["direction"], "")] += int(row["amount"])
    return sums


@pytest.mark.parametrize("layout", ["civicgen", "fdp"])
def test_directions_are_kept_apart(tmp_path: Path, layout: str) -> None:
    tables = derived_of(directed_package(tmp_path / "both", layout))["both"]
    sums = independent_directed()
    totals = {(str(r["year"]), r["direction"]): r for r in tables["totals"].records()}
    assert {k: r["amount"] for k, r in totals.items()} == {
        (y, d): sums[(y, d, "")] for y in ("2023", "2024") for d in ("expenditure", "revenue")
    }
    assert totals[("2024", "revenue")]["change_pct"] == round((150 - 120) / 120, 4)
    for r in tables["classifications"].records():
        year, direction = str(r["year"]), r["direction"]
        assert r["amount"] == sums[(year, direction, r["code"])]
        assert r["share"] == round(
            sums[(year, direction, r["code"])] / sums[(year, direction, "")], 4
        )
    [area_one] = tables["classifications"].where(code="1", year=2024, direction="revenue")
    assert area_one["change"] == 10 and area_one["share"] == round(100 / 150, 4)


def test_measures_of_each_direction_side_by_side(tmp_path: Path) -> None:
    """An FDP mapping with a revenue column and an expenditure column."""
    descriptor = {
        "name": "sides",
        "civicgen": {"profile": "budget"},
        "resources": [{"name": "lines", "path": "lines.csv", "schema": {"fields": [
            {"name": "year", "type": "year"}, {"name": "area", "type": "string"},
            {"name": "income", "type": "number"}, {"name": "spending", "type": "number"}]}}],
        "mapping": {
            "measures": {
                "income": {"source": "income", "currency": "MXN", "direction": "revenue"},
                "spending": {"source": "spending", "currency": "MXN", "direction": "expenditure"},
            },
            "dimensions": {
                "date": {"attributes": {"year": {"source": "year"}}, "primaryKey": "year"},
                "functional": {"attributes": {"a": {"source": "area"}}, "primaryKey": "a"},
            },
        },
    }  # fmt: skip
    rows = ["year,area,income,spending", "2024,1,10,7", "2024,2,30,", "2024,1,5,3"]
    tables = derived_of(write_package(tmp_path / "sides", descriptor, rows, "lines.csv"))["sides"]
    assert [(r["direction"], r["amount"]) for r in tables["totals"].records()] == [
        ("expenditure", 10.0),
        ("revenue", 45.0),
    ]
    spending = {
        r["code"]: r["share"] for r in tables["classifications"].where(direction="expenditure")
    }
    assert spending == {"1": 1.0}  # area 2 spent nothing: an empty cell is no figure


def test_page_has_a_section_per_direction(tmp_path: Path) -> None:
    portal = tmp_path / "city"
    shutil.copytree(SECOND_CITY, portal, ignore=shutil.ignore_patterns("datasets"))
    directed_package(portal / "datasets/both", "fdp")
    pygit2.init_repository(str(portal))
    commit_all(portal, "Both directions")
    html = (build_site(portal / "mkdocs.yml") / "datasets/both/index.html").read_text()
    section = budget_section(html)
    assert '<h2 id="where-the-money-goes">Where the money goes</h2>' in section
    assert '<h2 id="where-the-money-comes-from">Where the money comes from</h2>' in section
    revenue = text_of(section[section.index("where-the-money-comes-from") :])
    assert (
        "Total revenue by year" in revenue
        and "150" in revenue
        and "Total expenditure" not in revenue
    )


# --- 6: no primary key, exact duplicate lines ------------------------------------------------


def test_duplicate_lines_without_a_primary_key_all_count(tmp_path: Path) -> None:
    folder = directed_package(tmp_path / "dup", "civicgen")
    lines = (folder / "lines.csv").read_text().splitlines()
    (folder / "lines.csv").write_text("\n".join([*lines, lines[1], lines[1]]) + "\n")
    tables = derived_of(folder)["both"]
    [spent] = tables["totals"].where(year=2023, direction="expenditure")
    assert spent["amount"] == 100 + 2 * 60


# --- hostile cases: one change each to the second city --------------------------------------

DESCRIPTOR = f"{PACKAGE}/datapackage.json"


def edit_descriptor(folder: Path, change: Any) -> None:
    path = folder / DESCRIPTOR
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def set_cell(folder: Path, row: int, field: int, value: bytes) -> None:
    """Replace one cell of the latin-1 ';' table (row and field 1-based, header is row 1)."""
    path = folder / TABLE
    lines = path.read_bytes().split(b"\r\n")
    cells = lines[row - 1].split(b";")
    cells[field - 1] = value
    lines[row - 1] = b";".join(cells)
    path.write_bytes(b"\r\n".join(lines))


def refused(folder: Path) -> list[tuple[Any, ...]]:
    """Validate (exit 1) and build (refused, no site): the errors as (row, field, code).

    `civicgen build` exits 2 on invalid data today (cli.py), where validate exits 1."""
    commit_all(folder, "A hostile change", when=1_700_086_400)
    code, output = run_cli(folder, "build")
    assert code != 0 and "nothing was published" in output and not (folder / "site").exists()
    code, output = run_cli(folder, "validate", "--format", "json")
    assert code == 1
    return [(e["row"], e["field_number"], e["code"]) for e in json.loads(output)["errors"]]


def built_page(folder: Path, package: str = "orcamento-despesas") -> str:
    commit_all(folder, "A hostile change", when=1_700_086_400)
    return (build_site(folder / "mkdocs.yml") / f"datasets/{package}/index.html").read_text()


def test_hostile_latin1_export_declared_utf8(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    edit_descriptor(folder, lambda d: d["resources"][0].pop("encoding"))
    assert refused(folder) == [(2, None, "encoding-error")]


def test_hostile_semicolon_export_without_its_dialect(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    edit_descriptor(folder, lambda d: d["resources"][0].pop("dialect"))
    assert refused(folder)[0] == (1, 1, "incorrect-label")


def test_hostile_broken_decimal_comma_amount(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    set_cell(folder, 5, 13, b"12,34,56")
    assert refused(folder) == [(5, 13, "type-error")]
    _, output = run_cli(folder, "validate")
    assert 'write digits with "," as decimal separator and "." between thousands' in output


def test_hostile_amounts_without_decimal_char_declared(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    edit_descriptor(folder, lambda d: d["resources"][0]["schema"]["fields"][12].pop("decimalChar"))
    errors = refused(folder)
    assert {code for *_, code in errors} == {"type-error"} and errors[0] == (2, 13, "type-error")


def test_hostile_nan_amount_gives_no_figure_rather_than_nan(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    set_cell(folder, 2, 13, b"NaN")  # Table Schema reads it as a number: the data is valid
    code, output = run_cli(folder, "stats", "orcamento-despesas", "--format", "json")
    strict = json.loads(output, parse_constant=lambda c: pytest.fail(f"{c} in the statistics"))
    totals = next(t for t in strict["tables"] if t["name"] == "totals")["rows"]
    assert code == 0 and {(r["year"], r["phase"]) for r in totals} == {
        (2023, "approved"), (2023, "adjusted"), (2024, "approved"), (2024, "adjusted"),
        (2024, "executed"),
    }  # fmt: skip
    section = text_of(budget_section(built_page(folder)))
    assert "nan" not in section.lower() and "Execution rate" in section


def test_hostile_markup_in_a_dimension_title(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    title = '<script>alert("budget")</script>Funções'
    edit_descriptor(folder, lambda d: d["mapping"]["dimensions"]["funcional"].update(title=title))
    html = built_page(folder)
    assert "<script>alert" not in html
    assert "<h3>&lt;script&gt;alert(&#34;budget&#34;)&lt;/script&gt;Funções</h3>" in html


def test_hostile_markup_in_a_currency(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    currency = "<img src=x onerror=alert(1)>"
    edit_descriptor(
        folder,
        lambda d: d["mapping"]["measures"]["orcado"].update(currency=currency),
    )
    html = built_page(folder)
    assert "<img src=x" not in html and "Approved (&lt;img src=x onerror=alert(1)&gt;)" in html


def test_hostile_markup_in_a_direction_value(tmp_path: Path) -> None:
    portal = tmp_path / "city"
    shutil.copytree(SECOND_CITY, portal, ignore=shutil.ignore_patterns("datasets"))
    folder = directed_package(portal / "datasets/both", "fdp")
    lines = (folder / "lines.csv").read_text().replace("revenue", '"<b onclick=x()>in</b>"')
    (folder / "lines.csv").write_text(lines)
    pygit2.init_repository(str(portal))
    html = built_page(portal, "both")
    assert "<b onclick" not in html
    assert '<h2 id="budget-b-onclick-x-in-b">&lt;b onclick=x()&gt;in&lt;/b&gt;</h2>' in html


def test_hostile_formula_in_a_latin1_label_is_neutralised_in_downloads(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    formula = '=HYPERLINK("http://example.org","Saúde")'
    set_cell(folder, 99, 3, formula.encode("latin-1"))  # the last row: a 2024 label, published
    commit_all(folder, "A hostile label")
    site = build_site(folder / "mkdocs.yml")
    stats = (site / "datasets/orcamento-despesas/stats/classifications.csv").read_text("utf-8")
    assert "'=HYPERLINK" in stats and "\n=HYPERLINK" not in stats and ",=HYPERLINK" not in stats
    data = (site / "datasets/orcamento-despesas/data/despesas-2023-2024.csv").read_bytes()
    assert "'=HYPERLINK".encode("latin-1") in data and b";=HYPERLINK" not in data


def test_hostile_parent_cycle_in_the_mapping(tmp_path: Path) -> None:
    """Two attributes that are each other's parent: read in declared order, no hang."""
    folder = second_city(tmp_path / "city")

    def cycle(d: dict[str, Any]) -> None:
        attributes = d["mapping"]["dimensions"]["funcional"]["attributes"]
        attributes["funcao"]["parent"] = "subfuncao"

    edit_descriptor(folder, cycle)
    tables = derived_of(folder / PACKAGE)["orcamento-despesas"]
    levels = {r["level"] for r in tables["classifications"].where(classification="funcional")}
    assert levels == {"Cd_Funcao", "Cd_SubFuncao"}


def test_hostile_label_for_an_unknown_attribute(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    edit_descriptor(
        folder,
        lambda d: d["mapping"]["dimensions"]["economica"]["attributes"]["natureza_nome"].update(
            labelfor="nowhere"
        ),
    )
    tables = derived_of(folder / PACKAGE)["orcamento-despesas"]
    rows = tables["classifications"].where(level="Cd_Despesa")
    assert rows and {r["label"] for r in rows} == {""}


def profile_errors(folder: Path) -> list[str]:
    """The profile-error messages of a refused package (validate and build both refuse)."""
    commit_all(folder, "A hostile change", when=1_700_086_400)
    code, output = run_cli(folder, "build")
    assert code != 0 and "nothing was published" in output and not (folder / "site").exists()
    code, output = run_cli(folder, "validate", "--format", "json")
    errors = json.loads(output)["errors"]
    assert code == 1 and {e["code"] for e in errors} == {"profile-error"}
    return [e["message"] for e in errors]


def test_hostile_measure_on_a_field_no_table_has(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    edit_descriptor(
        folder, lambda d: d["mapping"]["measures"]["liquidado"].update(source="Vl_Liquidad0")
    )
    [message] = profile_errors(folder)
    assert '"mapping.measures.liquidado.source" is "Vl_Liquidad0", which is not a field' in message


def test_hostile_phase_that_is_not_an_fdp_keyword(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    edit_descriptor(
        folder, lambda d: d["mapping"]["measures"]["liquidado"].update(phase="liquidado")
    )
    [message] = profile_errors(folder)
    assert '"mapping.measures.liquidado.phase" is "liquidado"; use one of proposed,' in message


def test_hostile_mapping_without_a_fiscal_year(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city")
    edit_descriptor(folder, lambda d: d["mapping"]["dimensions"].pop("date"))
    [message] = profile_errors(folder)
    assert 'has no "date" dimension with a "year" attribute' in message


def test_frictionless_agrees_the_second_city_is_valid() -> None:
    from frictionless import Package

    from civicgen.descriptor import without_profiles

    descriptor = json.loads((SECOND_CITY / DESCRIPTOR).read_text(encoding="utf-8"))
    package = Package(without_profiles(descriptor), basepath=str(SECOND_CITY / PACKAGE))
    report = package.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldNumber", "type"])
    assert report.tasks[0].stats["rows"] == 98


def test_both_kernels_sum_decimal_comma_measures_in_one_pass(kernel: Any) -> None:
    """The export re-encoded as UTF-8 (which the compiled kernel scans itself): the three
    measures summed by one GroupBy equal the independent sums, on both kernels."""
    from civicgen.scan.plan import compile_plan
    from civicgen.stats.budget import budget_config, group_bys

    descriptor = json.loads((SECOND_CITY / DESCRIPTOR).read_text(encoding="utf-8"))
    resource = {**descriptor["resources"][0], "encoding": "utf-8"}
    config = budget_config(descriptor)
    assert config is not None
    names = [f["name"] for f in resource["schema"]["fields"]]
    plan = compile_plan(resource, None, group_bys(config, names))
    data = (SECOND_CITY / TABLE).read_bytes().decode("latin-1").encode("utf-8")
    result = kernel.scan_csv(data, plan)
    assert result.errors == [] and result.rows == 98
    expected = independent_sums(SECOND_CITY, ())
    for (year,), group in result.aggregates[0].items():
        for measure, state in zip(config.measures, group[1], strict=True):
            assert cents(state[1]) == cents(expected[(year, measure.phase)])
