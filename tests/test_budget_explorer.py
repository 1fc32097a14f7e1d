"""The budget explorer, built for real: the example city and a second city (another layout,
other levels, another currency). Figures are read back from the built HTML and the lines
CSVs, and checked against sums made here with Python's csv module."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pygit2
import pytest
from conftest import ROOT, commit_all, serving

from civicgen.build import build_site
from civicgen.site.budget_explorer import SHOWN_LINES
from civicgen.site.budget_view import explorer_uri

FIXTURES = Path(__file__).parent / "fixtures"
SECOND_CITY = FIXTURES / "second-city"
SECOND = "orcamento-despesas"
SECOND_TABLE = f"datasets/{SECOND}/data/despesas-2023-2024.csv"
MADRID_TABLE = "datasets/madrid-budget/data/gastos-2014-2015.csv"
PHASES = {"Vl_Orcado_Ano": "approved", "Vl_Orcado_Atualizado": "adjusted",
          "Vl_Liquidado": "executed"}  # fmt: skip


# --- helpers ---------------------------------------------------------------------------------


def second_city(target: Path) -> Path:
    shutil.copytree(SECOND_CITY, target)
    pygit2.init_repository(str(target))
    commit_all(target, "Second city")
    return target


def madrid_rows(portal: Path) -> list[dict[str, str]]:
    with (portal / MADRID_TABLE).open(encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


def second_rows(folder: Path) -> list[dict[str, str]]:
    text = (folder / SECOND_TABLE).read_bytes().decode("latin-1")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def brazilian(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def whole(text: str) -> int:
    """A whole amount as printed ('1,234 EUR', '€1,234', '1.234 €', '-5 EUR') → 1234."""
    digits = re.sub(r"[^\d-]", "", text)
    return int(digits) if digits.strip("-") else 0


def cells(row_html: str) -> list[str]:
    found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row_html, re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in found]


def table_after(html: str, caption_start: str) -> str:
    """The first table whose caption starts with caption_start."""
    at = html.index(f"<caption>{caption_start}")
    return html[at : html.index("</table>", at)]


def body_rows(table: str) -> list[list[str]]:
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return [cells(r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def foot_row(table: str) -> list[str]:
    return cells(table[table.index("<tfoot>") : table.index("</tfoot>")])


def headers(table: str) -> list[str]:
    return cells(table[table.index("<thead>") : table.index("</thead>")])


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def page(site: Path, uri: str) -> str:
    return (site / uri.removesuffix("index.md") / "index.html").read_text(encoding="utf-8")


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


# --- the example city ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def madrid(example_site: Path) -> tuple[Path, Path]:
    """The example city, built once (conftest): (portal, its English pages; Spanish is at
    the root)."""
    return ROOT, example_site / "en"


def test_a_page_for_every_node_that_has_children(madrid: tuple[Path, Path]) -> None:
    portal, site = madrid
    rows = madrid_rows(portal)
    expected = {("administrative", r["CENTRO"]) for r in rows}
    expected |= {("functional", r["PROGRAMA"][:n]) for r in rows for n in (1, 2, 3)}
    expected |= {("economic", r["CAPITULO"]) for r in rows}
    expected |= {("economic", r["ECONOMICO"][:n]) for r in rows for n in (2, 3)}
    built = {
        (p.parent.parent.name, p.parent.name)
        for p in (site / "budget/madrid-budget").glob("*/*/index.html")
    }
    assert built == expected and len(built) == 236
    for classification, code in sorted(expected)[:5]:
        assert (site / explorer_uri("madrid-budget", classification, code)).with_suffix(
            ".html"
        ).exists() or page(site, explorer_uri("madrid-budget", classification, code))


def test_a_node_page_children_sum_to_the_node(madrid: tuple[Path, Path]) -> None:
    portal, site = madrid
    html = page(site, explorer_uri("madrid-budget", "functional", "2"))
    table = table_after(html, "Program, first 2 characters in Social protection")
    assert headers(table)[2:4] == ["2014", "2015"]
    children, total = body_rows(table), foot_row(table)
    independent = defaultdict(int)
    for r in madrid_rows(portal):
        if r["PROGRAMA"].startswith("2"):
            independent[r["AÑO"]] += int(r["IMPORTE"])
    for column, year in ((2, "2014"), (3, "2015")):
        assert sum(whole(c[column]) for c in children) == whole(total[column])
        assert whole(total[column]) == independent[year]
    assert [c[0] for c in children] == ["23", "22", "24"]  # largest first in 2015


def test_how_much_each_programme_got_in_2015_and_the_change_from_2014(
    madrid: tuple[Path, Path],
) -> None:
    """The question of the issue, answered from the pages: every programme, on the page of
    its group, with its 2014 and 2015 approved amounts and the change."""
    portal, site = madrid
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in madrid_rows(portal):
        sums[r["PROGRAMA"]][r["AÑO"]] += int(r["IMPORTE"])
    for programme, years in sums.items():
        html = page(site, explorer_uri("madrid-budget", "functional", programme[:3]))
        table = table_after(html, "Program in")
        [row] = [c for c in body_rows(table) if c[0] == programme]
        assert (whole(row[2]), whole(row[3])) == (years.get("2014", 0), years.get("2015", 0))
        if years.get("2014") and years.get("2015"):
            assert whole(row[4]) == years["2015"] - years["2014"]


def test_the_summary_says_the_year_and_the_change(madrid: tuple[Path, Path]) -> None:
    portal, site = madrid
    totals = defaultdict(int)
    for r in madrid_rows(portal):
        totals[r["AÑO"]] += int(r["IMPORTE"])
    change = (totals["2015"] - totals["2014"]) / totals["2014"]
    assert round(change * 100, 1) == -1.0
    home = text_of(page(site, "budget/madrid-budget/index.md"))
    sentence = re.search(r"For 2015, €([\d,]+) of spending was approved, (.*?) than in (\d+)", home)
    assert sentence is not None
    assert whole(sentence.group(1)) == totals["2015"] and sentence.group(3) == "2014"
    assert sentence.group(2) == f"1.0% (€{totals['2014'] - totals['2015']:,}) less"
    area = text_of(page(site, explorer_uri("madrid-budget", "functional", "2")))
    assert "the largest share went to 23 – DIREC.Y GEST.ADMTVA FAMILIA" in area  # unlabelled
    assert "(86.0%)" in area


def test_the_lines_csv_of_a_node_sums_to_its_total(madrid: tuple[Path, Path]) -> None:
    portal, site = madrid
    uri = explorer_uri("madrid-budget", "economic", "1")
    lines = read_csv(site.parent / uri.replace("index.md", "lines.csv"))  # one copy, at the root
    expected = [r for r in madrid_rows(portal) if r["CAPITULO"] == "1"]
    assert len(lines) == len(expected)
    html = page(site, uri)
    assert f"{len(expected):,} budget lines" in text_of(html)
    assert len(body_rows(table_after(html, "Budget lines in"))) == SHOWN_LINES
    for year in ("2014", "2015"):
        csv_sum = sum(int(r["approved"]) for r in lines if r["AÑO"] == year)
        assert csv_sum == sum(int(r["IMPORTE"]) for r in expected if r["AÑO"] == year)
    assert set(lines[0]) == {"AÑO", "direction", "CENTRO", "DESCRIPCION CENTRO", "SECCION",
                             "DESCRIPCION SECCION", "PROGRAMA", "DESCRIPCION PROGRAMA",
                             "CAPITULO", "DESCRIPCION CAPITULO", "ECONOMICO",
                             "DESCRIPCION ECONOMICO", "approved"}  # fmt: skip


def test_the_budget_index_and_navigation(madrid: tuple[Path, Path]) -> None:
    _, site = madrid
    index = page(site, "budget/index.md")
    assert '<a href="madrid-budget/">Madrid municipal budget 2014-2015' in index
    home = page(site, "budget/madrid-budget/index.md")
    assert home.count("<h1") == 1
    assert (
        '<a href="functional/2/" style="text-decoration:underline">Social protection and promotion</a>'
        in home
    )
    assert 'role="img"' in home and "<title id=" in home and "<desc id=" in home


# --- the second city: other levels, another currency, three phases ---------------------------


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    city = second_city(tmp_path_factory.mktemp("second") / "city")
    return city, build_site(city / "mkdocs.yml")


def test_second_city_gets_its_own_pages_with_no_trace_of_the_example(
    second: tuple[Path, Path],
) -> None:
    city, site = second
    functions = {r["Cd_Funcao"] for r in second_rows(city)}
    built = {p.parent.name for p in (site / f"budget/{SECOND}").glob("*/*/index.html")}
    assert built == functions  # the finest levels (órgão, subfunção, natureza) have no page
    assert (site / f"budget/{SECOND}/funcional").is_dir()
    for path in (site / "budget").rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        for trace in ("Madrid", "EUR", "€", "PROGRAMA", "CAPITULO", "CENTRO"):
            assert trace not in html, (trace, path)
    health = page(site, explorer_uri(SECOND, "funcional", "10"))
    assert "Saúde" in health and "R$" in health and "Subfunção in Saúde, 2024" in health
    phases = table_after(health, "Subfunção in Saúde, 2024: approved, modified, executed")
    assert headers(phases)[2:] == ["Approved", "Modified", "Executed", "Execution rate"]


def test_second_city_lines_csv_sums_to_the_node_in_every_phase(second: tuple[Path, Path]) -> None:
    city, site = second
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    count = 0
    for row in second_rows(city):
        if row["Cd_Funcao"] == "10":
            count += 1
            for column, phase in PHASES.items():
                expected[(row["Cd_Exercicio"], phase)] += brazilian(row[column])
    lines = read_csv(site / f"budget/{SECOND}/funcional/10/lines.csv")
    assert len(lines) == count
    found: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        for phase in PHASES.values():
            found[(line["Cd_Exercicio"], phase)] += Decimal(line[phase])
    assert found == expected
    html = page(site, explorer_uri(SECOND, "funcional", "10"))
    table = table_after(html, "Subfunção in Saúde, 2024: approved amount by year")
    total = foot_row(table)
    assert abs(whole(total[3]) - expected[("2024", "approved")]) <= 1  # printed to the unit


def test_builds_are_byte_for_byte_the_same(tmp_path: Path) -> None:
    city = second_city(tmp_path / "city")
    first = build_site(city / "mkdocs.yml", site_dir=tmp_path / "one")
    again = build_site(city / "mkdocs.yml", site_dir=tmp_path / "two")
    files = sorted(p.relative_to(first) for p in (first / "budget").rglob("*") if p.is_file())
    assert len(files) > 10
    for name in files:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name


def test_revenue_beside_expenditure(tmp_path: Path) -> None:
    portal = tmp_path / "city"
    shutil.copytree(SECOND_CITY, portal, ignore=shutil.ignore_patterns("datasets"))
    folder = portal / "datasets/both"
    folder.mkdir(parents=True)
    (folder / "lines.csv").write_text(
        "year,direction,area,amount\n2023,expenditure,1,60\n2023,expenditure,2,40\n"
        "2023,revenue,1,90\n2024,expenditure,1,80\n2024,revenue,1,100\n2024,revenue,3,50\n"
    )
    descriptor = {
        "name": "both", "title": "Both ways",
        "civicgen": {"profile": "budget", "budget": {
            "amount": "amount", "year": "year", "directionField": "direction", "currency": "USD",
            "classifications": {"functional": ["area"]}, "levels": {"area": [1]}}},
        "resources": [{"name": "lines", "path": "lines.csv", "schema": {"fields": [
            {"name": "year", "type": "year"}, {"name": "direction", "type": "string"},
            {"name": "area", "type": "string"}, {"name": "amount", "type": "number"}]}}],
    }  # fmt: skip
    (folder / "datapackage.json").write_text(json.dumps(descriptor))
    pygit2.init_repository(str(portal))
    commit_all(portal, "Both directions")
    site = build_site(portal / "mkdocs.yml")
    home = page(site, "budget/both/index.md")
    table = table_after(home, "Expenditure and revenue by year")
    usd = "US$\xa0{}".format  # as Brazilian Portuguese writes dollars (the city's pt-BR)
    assert body_rows(table) == [["2023", usd(100), usd(90)], ["2024", usd(80), usd(150)]]
    assert "Where the money comes from" in home and "of revenue was budgeted" in home


def test_explorer_uri_follows_the_contract() -> None:
    assert explorer_uri("city-budget", "functional", "231") == (
        "budget/city-budget/functional/231/index.md"
    )
    unsafe = explorer_uri("city-budget", "functional", "../../etc")
    assert unsafe.startswith("budget/city-budget/functional/etc-") and ".." not in unsafe
    assert unsafe != explorer_uri("city-budget", "functional", "etc")


# --- hostile data: one change each to the second city ----------------------------------------


def with_label(folder: Path, function: str, label: str) -> None:
    """Every row of function gets this label (latin-1, ';' as in the export)."""
    path = folder / SECOND_TABLE
    lines = path.read_bytes().decode("latin-1").split("\r\n")
    for number, line in enumerate(lines[1:], start=1):
        cells_ = line.split(";")
        if len(cells_) > 4 and cells_[3] == function:
            cells_[4] = label
            lines[number] = ";".join(cells_)
    path.write_bytes("\r\n".join(lines).encode("latin-1"))
    commit_all(folder, "A hostile label", when=1_700_086_400)


def budget_html(site: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted((site / "budget").rglob("*.html")))


def test_hostile_script_label_is_shown_as_text(tmp_path: Path) -> None:
    city = second_city(tmp_path / "city")
    with_label(city, "10", "<script>alert(1)</script>")
    site = build_site(city / "mkdocs.yml")
    html = budget_html(site)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    health = page(site, explorer_uri(SECOND, "funcional", "10"))
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in health


def test_hostile_markdown_link_label_is_no_link(tmp_path: Path) -> None:
    city = second_city(tmp_path / "city")
    with_label(city, "10", "Saúde](javascript:alert(1))")
    site = build_site(city / "mkdocs.yml")
    html = budget_html(site)
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript""", html, re.I)
    health = page(site, explorer_uri(SECOND, "funcional", "10"))
    assert "<h1>Saúde](javascript:alert(1))</h1>" in health


def test_hostile_formula_label_is_text_in_the_lines_csv(tmp_path: Path) -> None:
    city = second_city(tmp_path / "city")
    with_label(city, "10", '=HYPERLINK("http://evil.example","Saúde")')
    site = build_site(city / "mkdocs.yml")
    lines = read_csv(site / f"budget/{SECOND}/funcional/10/lines.csv")
    assert {r["Ds_Funcao"] for r in lines} == {'\'=HYPERLINK("http://evil.example","Saúde")'}


def test_hostile_code_cannot_leave_the_budget_folder(tmp_path: Path) -> None:
    portal = tmp_path / "city"
    shutil.copytree(SECOND_CITY, portal, ignore=shutil.ignore_patterns("datasets"))
    folder = portal / "datasets/paths"
    folder.mkdir(parents=True)
    (folder / "lines.csv").write_text(
        "year,area,item,amount\n2024,../../../x,1,5\n2024,../../../x,2,7\n2024,a b,3,1\n"
    )
    descriptor = {
        "name": "paths", "title": "Paths",
        "civicgen": {"profile": "budget", "budget": {
            "amount": "amount", "year": "year",
            "classifications": {"functional": ["area", "item"]}}},
        "resources": [{"name": "lines", "path": "lines.csv", "schema": {"fields": [
            {"name": "year", "type": "year"}, {"name": "area", "type": "string"},
            {"name": "item", "type": "string"}, {"name": "amount", "type": "number"}]}}],
    }  # fmt: skip
    (folder / "datapackage.json").write_text(json.dumps(descriptor))
    pygit2.init_repository(str(portal))
    commit_all(portal, "Codes that look like paths")
    site = build_site(portal / "mkdocs.yml")
    pages = sorted(p.parent.name for p in (site / "budget/paths/functional").glob("*/index.html"))
    assert len(pages) == 2 and all(".." not in p and "/" not in p for p in pages)
    assert not (site / "x").exists() and not (tmp_path / "x").exists()
    home = page(site, "budget/paths/index.md")
    assert "../../../x" in text_of(home)
    sums = {
        sum(int(r["approved"]) for r in read_csv(site / f"budget/paths/functional/{p}/lines.csv"))
        for p in pages
    }
    assert sums == {12, 1}


# --- every sentence of the explorer has its Spanish translation --------------------------------

TEMPLATES = Path(__file__).resolve().parent.parent / "civicgen/templates"
EXPLORER_TEMPLATES = (
    "_budget.html", "budget-node.html", "budget-home.html", "budget-index.html", "stats-budget.html"
)  # fmt: skip


def template_msgids() -> set[str]:
    from jinja2.ext import babel_extract

    found: set[str] = set()
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    for name in EXPLORER_TEMPLATES:
        with (TEMPLATES / name).open("rb") as source:
            for _, _, message, _ in babel_extract(source, ("_", "ngettext"), [], options):
                found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_explorer_string_has_a_spanish_translation() -> None:
    from babel.messages.pofile import read_po

    path = TEMPLATES.parent / "locale/es/budget.po"
    with path.open("rb") as source:
        catalog = read_po(source)
    translated = {(m.id if isinstance(m.id, str) else m.id[0]): m.string for m in catalog if m.id}
    wanted = template_msgids()
    assert len(wanted) > 40 and wanted <= set(translated)
    for msgid in wanted:
        strings = (
            translated[msgid] if isinstance(translated[msgid], tuple) else (translated[msgid],)
        )
        holes = sorted(re.findall(r"%\(\w+\)[sd]", msgid))
        for string in strings:
            assert string and sorted(re.findall(r"%\(\w+\)[sd]", string)) == holes, msgid


# --- in a real browser, on a phone ----------------------------------------------------------

THEME_RULES = ("color-contrast", "scrollable-region-focusable")  # theme/ (teal, table wrapper)


@pytest.fixture(scope="module")
def served(madrid: tuple[Path, Path]):  # type: ignore[no-untyped-def]
    """The English pages' address, the whole site served (they share its theme's assets)."""
    with serving(madrid[1].parent) as url:
        yield url + "en/"


@pytest.mark.browser
def test_a_person_on_a_phone_finds_a_programme_and_its_change(  # type: ignore[no-untyped-def]
    browser, served: str, madrid: tuple[Path, Path]
) -> None:
    """From the Budget page to a programme's 2015 amount and change, at 375 px: every page
    on the way has no sideways scroll and no axe violation of its own (WCAG 2.0/2.1 A, AA)."""
    pytest.importorskip("axe_playwright_python")
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 375, "height": 800})
    tab = context.new_page()
    tab.goto(served + "budget/")
    tab.get_by_role("link", name="Madrid municipal budget 2014-2015").first.click()
    tab.get_by_role(
        "link", name="Preferential public goods (health, education, culture, sport)"
    ).click()
    tab.get_by_role("link", name="33", exact=True).click()
    tab.get_by_role("link", name="333", exact=True).click()
    sums: dict[str, int] = defaultdict(int)
    for r in madrid_rows(madrid[0]):
        if r["PROGRAMA"] == "33301":
            sums[r["AÑO"]] += int(r["IMPORTE"])
    row = (
        tab.get_by_role("table", name="Program in 333").get_by_role("row").filter(has_text="MUSEOS")
    )
    text = row.inner_text()
    change = sums["2015"] - sums["2014"]
    assert f"€{sums['2015']:,}" in text and f"{'-' if change < 0 else ''}€{abs(change):,}" in text
    visited = tab.url
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "rules": {rule: {"enabled": False} for rule in THEME_RULES}}  # fmt: skip
    axe = Axe()
    for path in ("budget/", "budget/madrid-budget/", visited.removeprefix(served)):
        tab.goto(served + path)
        violations = axe.run(tab, options=options).response["violations"]
        assert violations == [], (path, [v["id"] for v in violations])
        assert tab.evaluate("document.documentElement.scrollWidth <= innerWidth"), path
    context.close()


def test_other_pages_can_link_to_any_node(madrid: tuple[Path, Path]) -> None:
    """node_link: a node's page, or its parent's page and the row of a finest-level node."""
    from civicgen import validate
    from civicgen.site.budget_explorer import node_link
    from civicgen.site.inputs import gather

    portal, site = madrid
    inputs = gather(validate([str(portal / "datasets/madrid-budget")]))
    group = "budget/madrid-budget/functional/333/index.md"
    assert node_link(inputs, "madrid-budget", "functional", "333") == group
    assert node_link(inputs, "madrid-budget", "functional", "33301") == group + "#functional-33301"
    assert node_link(inputs, "madrid-budget", "functional", "99999") is None
    assert node_link(inputs, "madrid-budget", "nowhere", "1") is None
    assert '<tr id="functional-33301">' in page(site, group)
    dataset = (site / "datasets/madrid-budget/index.html").read_text(encoding="utf-8")
    assert '<a href="../../budget/madrid-budget/">Explore this budget' in dataset
