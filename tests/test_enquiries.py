"""Questions to the council about the budget (issue 12, part 2): the enquiries collection
validated, the "Ask about this" link of each forge, and the questions on the built pages.

The example city is built once (conftest's example_site); a second city, in another layout,
language and currency, gets an enquiries package of its own and is built once per forge.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pygit2
import pytest
from conftest import commit_all, replace_in
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgen import validate
from civicgen.build import build_site
from civicgen.forge.issue_link import MAX_URL, encoded, forge_of, new_issue_url
from civicgen.site.budget_explorer import LineRow
from civicgen.site.env import make_env
from civicgen.site.i18n import Catalogue

FIXTURES = Path(__file__).parent / "fixtures"
RECORDS = "datasets/enquiries/records"
KEYS = ["path", "field", "code"]
STREET_CLEANING = "budget/madrid-budget/functional/163/index.html"


# --- helpers ---------------------------------------------------------------------------------


def query_of(url: str) -> tuple[str, dict[str, list[str]]]:
    """(path, fields) of an address, each value decoded once (strictly: a broken escape fails)."""
    parts = urlsplit(url)
    fields = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True, errors="strict")
    return parts.path, fields


def ask_href(page: str) -> str:
    """The "Ask about this" address of a built page (its attribute unescaped)."""
    found = re.findall(r'<p class="civicgen-ask"><a class="md-button" href="([^"]+)"', page)
    assert len(found) == 1, f"{len(found)} ask links"
    return html.unescape(found[0])


def text_of(page: str) -> str:
    """The words of some HTML: inline tags dropped, others a space."""
    inline = re.sub(r"</?(a|span|code|strong|em|time)\b[^>]*>", "", page)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)))


def card(page: str, enquiry: str) -> str:
    """The HTML of one enquiry on a page."""
    start = page.index(f'<article class="civicgen-enquiry" id="enquiry-{enquiry}"')
    return page[start : page.index("</article>", start)]


def write_record(portal: Path, name: str, text: str) -> str:
    path = f"{RECORDS}/{name}.yaml"
    (portal / path).write_text(text, encoding="utf-8")
    return path


# --- the issue link of each forge ------------------------------------------------------------

FORGES = [  # repository, forge option, expected forge, path of the form, title key, body key
    ("https://github.com/city/portal", None, "github", "/city/portal/issues/new", "title", "body"),
    ("https://gitlab.com/city/portal/", None, "gitlab", "/city/portal/-/issues/new",
     "issue[title]", "issue[description]"),
    ("https://codeberg.org/city/portal.git", None, "forgejo", "/city/portal/issues/new",
     "title", "body"),
    ("https://git.city.example/data/portal", "gitlab", "gitlab", "/data/portal/-/issues/new",
     "issue[title]", "issue[description]"),
    ("https://git.city.example/data/portal", "forgejo", "forgejo", "/data/portal/issues/new",
     "title", "body"),
    ("https://gitlab.city.example/group/sub/portal", None, "gitlab",
     "/group/sub/portal/-/issues/new", "issue[title]", "issue[description]"),
]  # fmt: skip


@pytest.mark.parametrize(("repository", "option", "forge", "path", "title_key", "body_key"), FORGES)
def test_each_forge_gets_its_own_prefilled_form(
    repository: str, option: str | None, forge: str, path: str, title_key: str, body_key: str
) -> None:
    body = "Budget line: 23106 INCLUSIÓN SOCIAL\n- Approved: 69.502.506 €\n\n## My question\n"
    url = new_issue_url(repository, option, "Question about 23106 (2015)", body)
    assert forge_of(repository, option) == forge
    found_path, fields = query_of(url)
    assert url.startswith(urlsplit(repository).scheme + "://" + urlsplit(repository).netloc)
    assert found_path == path
    assert fields == {title_key: ["Question about 23106 (2015)"], body_key: [body]}


@settings(max_examples=300, deadline=None)
@given(
    st.text()
    | st.lists(st.sampled_from(["\n", "\r", "a", "é", " ", "&", "%", "\n\n"])).map("".join)
)
def test_text_is_encoded_a_line_at_a_time_as_a_whole(text: str) -> None:
    assert encoded(text) == quote(text, safe="")


HOSTILE = 'Z&body=evil#top "><script>alert(1)</script> 100% +1 %41\r\n&title=x'


def test_hostile_text_stays_inside_its_field() -> None:
    url = new_issue_url("https://github.com/city/portal", None, HOSTILE, HOSTILE * 3)
    assert not set(url) & set(" \"'<>#\r\n")  # nothing that ends the address or the attribute
    assert url.count("&") == 1 and url.count("?") == 1
    _, fields = query_of(url)
    assert fields == {"title": [HOSTILE], "body": [HOSTILE * 3]}


@pytest.mark.parametrize(
    ("repository", "option"),
    [
        ("", None),  # not configured
        ("https://git.example.org/city/portal", None),  # a host that does not say its forge
        ("https://github.com", None),  # no repository in the address
        ("javascript:alert(1)//github.com/a/b", None),
        ("ftp://github.com/city/portal", None),
        ("https://github.com/city/portal?x=1", None),
        ("https://git.example.org/city/portal", "bitbucket"),
    ],
)
def test_no_forge_known_means_no_link(repository: str, option: str | None) -> None:
    assert new_issue_url(repository, option, "Question", "Text") == ""


def test_a_long_text_is_cut_at_a_line_and_the_address_stays_bounded() -> None:
    lines = [f"- Línea {n}: año 2015, importe {n * 1000} €, niño & señal" for n in range(2000)]
    body = "\n".join(lines)
    url = new_issue_url("https://gitlab.com/city/portal", None, "Título " * 100, body)
    assert len(url) <= MAX_URL
    _, fields = query_of(url)
    title, text = fields["issue[title]"][0], fields["issue[description]"][0]
    assert len(title) <= 200 and title.endswith("\n…")
    kept = text.removesuffix("\n…").split("\n")
    assert text.endswith("\n…") and 10 < len(kept) < len(lines)
    assert kept == lines[: len(kept)]  # whole lines, in order, nothing half cut
    assert len(new_issue_url("https://gitlab.com/c/p", None, "t", body, limit=1000)) <= 1000


def render_ask(repository: str, forge: str, label: str) -> str:
    """The "Ask about this" link of a node page whose labels come from hostile data."""
    env = make_env(None, Catalogue("en"))
    env.globals.update(repository_url=repository, forge=forge, site_url="https://data.city/")
    template = env.from_string(
        '{% import "_enquiries.html" as q %}'
        "{{ q.ask_node(package, 'Functional', crumbs, node, sections, 'EUR', canonical) }}"
    )
    node = {"code": "163", "label": label, "includes": [], "name": label}
    return template.render(
        package={"title": f"Budget {label}"},
        crumbs=[{"label": ""}, {"label": "b"}, {"label": label, "code": "1"}],
        node=node,
        sections=[
            {
                "direction": "expenditure",
                "latest": "2015",
                "phases": ["approved"],
                "total": {"phases": {"approved": 205201724}},
            }
        ],  # fmt: skip
        canonical="https://data.city/budget/madrid-budget/functional/163/",
    )


@pytest.mark.parametrize(("repository", "forge"), [(r, o or "") for r, o, *_ in FORGES[:3]])
def test_labels_from_data_are_inert_in_the_page_and_in_the_link(
    repository: str, forge: str
) -> None:
    out = render_ask(repository, forge, HOSTILE)
    assert "<script" not in out and out.count('"') == 10  # nothing ends an attribute early
    _, fields = query_of(ask_href(out))
    title, body = (values[0] for values in fields.values())
    assert title == " ".join(f"Question about 163 {HOSTILE} (2015)".split())  # one line
    label = HOSTILE.replace("\r\n", "\n")  # the label as text, line ends made plain
    assert f"- Budget: Budget {label}" in body
    assert f"- Functional classification: 1 {label} › 163 {label}" in body
    assert "- Approved: €205,201,724" in body
    assert "- Page: https://data.city/budget/madrid-budget/functional/163/" in body


@pytest.mark.parametrize(("repository", "forge"), [(r, o or "") for r, o, *_ in FORGES[:3]])
def test_a_budget_lines_hostile_codes_and_labels_are_inert(repository: str, forge: str) -> None:
    """A line's own Ask link: its codes and labels from hostile data stay text in the page
    (the accessible name included) and each stays inside its field of the link."""
    env = make_env(None, Catalogue("en"))
    env.globals.update(repository_url=repository, forge=forge)
    template = env.from_string(
        '{% import "_enquiries.html" as q %}{% import "_budget.html" as b %}'
        "{% set ask = line_asks(repository_url, forge, q.line_title, q.line_label,"
        " q.line_head(package), q.line_tail(canonical),"
        " 'Year', ['Program'], ['approved'], b.phase_name, 'EUR') %}"
        '{% set a = ask.link(row) %}<a href="{{ a.href }}" rel="noopener nofollow" aria-label="{{ a.label }}">'
    )
    row = LineRow(key=(), year="2015", direction="expenditure", phases={"approved": 1000},
                  codes=[{"code": HOSTILE, "label": HOSTILE}], csv="")  # fmt: skip
    out = template.render(package={"title": "Budget"}, row=row, canonical="https://data.city/x/")
    assert "<script" not in out and out.count('"') == 6  # href, rel, aria-label
    [(href, name)] = line_asks(out)
    assert name == f"Ask about budget line {HOSTILE} (2015)"
    _, fields = query_of(href)
    title, body = (values[0] for values in fields.values())
    assert title == " ".join(f"Question about budget line {HOSTILE} (2015)".split())
    label = HOSTILE.replace("\r\n", "\n")
    assert f"- Program: {label}\n- Approved: €1,000\n" in body  # a label like its code: once
    assert "- Page: https://data.city/x/#lines" in body


def test_a_code_that_reads_like_a_placeholder_stays_as_it_is() -> None:
    """The wording's {line} and {year} are filled in one pass: a code "{year}" is not the year."""
    from civicgen.site.line_asks import LineAsks

    asks = LineAsks("https://github.com/city/portal", "", "About {line} ({year})",
                    "Ask about {line} ({year})", "", "", "Year", ["Program"], [], "EUR", "en")  # fmt: skip
    row = LineRow(key=(), year="{line}", direction="expenditure", phases={},
                  codes=[{"code": "{year}", "label": ""}], csv="")  # fmt: skip
    link = asks.link(row)
    assert link.label == "Ask about {year} ({line})"
    title, body = (values[0] for values in query_of(link.href)[1].values())
    assert title == "About {year} ({line})" and body == "- Year: {line}\n- Program: {year}"


def test_no_repository_configured_gives_no_link() -> None:
    assert "civicgen-ask" not in render_ask("", "", "LIMPIEZA VIARIA")
    assert "civicgen-ask" not in render_ask("https://git.example.org/c/p", "", "LIMPIEZA")


# --- the collection, validated ---------------------------------------------------------------


def test_example_enquiries_are_valid(portal: Path) -> None:
    report = validate([str(portal / "datasets/enquiries")]).report
    assert report.flatten(KEYS) == []


def test_an_unknown_budget_line_is_a_foreign_key_error(portal: Path) -> None:
    path = f"{RECORDS}/enq-2015-001.yaml"
    replace_in(portal / path, 'program: "16301"', 'program: "99999"')
    report = validate([str(portal / "datasets/enquiries")]).report
    assert report.flatten(KEYS) == [[path, "program", "foreign-key"]]
    assert report.errors[0].message == (
        f'{path}, line 17, field "program": "99999, 2015" does not exist in '
        "madrid-budget/gastos (program, year); use a value that appears there, or add it there "
        "first"
    )


def test_a_section_in_a_year_without_it_is_a_foreign_key_error(portal: Path) -> None:
    path = f"{RECORDS}/enq-2015-003.yaml"
    replace_in(portal / path, 'section: "210"', 'section: "299"')
    report = validate([str(portal / "datasets/enquiries")]).report
    assert report.flatten(KEYS) == [[path, "section", "foreign-key"]]
    assert '"299, 2015" does not exist in madrid-budget/gastos (section, year)' in (
        report.errors[0].message
    )


def test_answered_before_asked_is_a_row_constraint_error(portal: Path) -> None:
    path = f"{RECORDS}/enq-2015-002.yaml"
    replace_in(portal / path, "answered: 2015-04-20", "answered: 2015-02-28")
    report = validate([str(portal / "datasets/enquiries")]).report
    assert report.flatten(KEYS) == [[path, "answered", "row-constraint"]]
    assert report.errors[0].message == (
        f'{path}, line 10, field "answered": answered on 2015-02-28, before the question was '
        "asked (2015-03-03); write the date the council answered, on or after the date it "
        "was asked"
    )


def test_an_answer_without_its_date_is_a_warning_and_stays_open(portal: Path) -> None:
    path = f"{RECORDS}/enq-2015-002.yaml"
    replace_in(portal / path, "answered: 2015-04-20\n", "")
    report = validate([str(portal / "datasets/enquiries")]).report
    assert report.valid and report.flatten(KEYS) == [[path, "answer", "row-constraint"]]
    assert report.errors[0].warning
    assert report.errors[0].message == (
        f'{path}, line 6, field "answer": the question has an "answer" but no "answered", so '
        'it is shown as open; add the "answered" or remove the "answer"'
    )


def test_a_question_is_required(portal: Path) -> None:
    path = write_record(portal, "enq-2015-099", 'asked: 2015-06-02\nyear: 2015\nprogram: "16301"\n')
    report = validate([str(portal / "datasets/enquiries")]).report
    assert report.flatten(KEYS) == [[path, "question", "constraint-error"]]
    assert report.errors[0].message == (
        f'{path}, field "question": this field is required but is empty; fill it in'
    )


def test_a_document_must_be_a_web_address(portal: Path) -> None:
    path = f"{RECORDS}/enq-2014-001.yaml"
    replace_in(portal / path, "  - https://www.example.org/madrid/green", "  - file:///etc/green")
    report = validate([str(portal / "datasets/enquiries")]).report
    assert report.flatten(KEYS) == [[path, "documents", "constraint-error"]]
    assert "is not a web address" in report.errors[0].message


def test_an_enquiries_package_needs_a_question_field(portal: Path) -> None:
    descriptor = portal / "datasets/enquiries/datapackage.json"
    replace_in(descriptor, '"name": "question"', '"name": "query"')
    report = validate([str(portal / "datasets/enquiries")]).report
    assert report.flatten(KEYS) == [["datasets/enquiries/datapackage.json", "", "profile-error"]]
    assert 'the enquiries of resource "enquiries" need the fields question' in (
        report.errors[0].message
    )


def test_an_install_older_than_the_code_says_to_reinstall(
    portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """civicgen updated without reinstalling: its entry points lack the enquiries profile."""
    from civicgen import registry

    installed = {k: v for k, v in registry.registered().items() if k != "enquiries"}
    monkeypatch.setattr(registry, "registered", lambda: installed)
    monkeypatch.setattr("civicgen.descriptor.registered", lambda: installed)
    monkeypatch.setattr("civicgen.descriptor.profile_named", installed.get)
    report = validate([str(portal / "datasets/enquiries")]).report
    assert any(
        'is "enquiries", a profile of this civicgen that its installation does not list yet; '
        "reinstall civicgen (pip install -e .)" in e.message
        for e in report.errors
    )


# --- the example city's pages ----------------------------------------------------------------


def test_a_budget_line_page_shows_the_questions_about_it(example_site: Path) -> None:
    page = (example_site / "en" / STREET_CLEANING).read_text(encoding="utf-8")
    answered = card(page, "enq-2015-001")
    assert 'href="./#functional-16301">Program 16301 · LIMPIEZA VIARIA</a>, 2015' in answered
    words = text_of(answered)
    assert "Answered · asked on February 10, 2015 by Neighbours' association" in words
    assert "answered on March 12, 2015, after 30 days" in words
    assert "Department: MEDIO AMBIENTE Y MOVILIDAD (015)" in words
    assert "How much of it pays for the cleaning contracts" in words
    assert "Almost all of the program pays for the street-cleaning contracts" in words
    assert 'href="https://www.example.org/madrid/street-cleaning/contracts-2015.pdf"' in answered
    assert "1 question to the council is about these lines: 1 answered, 0 open." in text_of(page)
    assert "Median time to an answer: 30 days." in text_of(page)


def test_a_question_is_shown_on_every_node_that_holds_all_its_lines(example_site: Path) -> None:
    """Program 34201 in section 210: the functional nodes 3, 34, 342 and the centre 001
    hold every line of it; no economic chapter does (its lines are of several)."""
    budget = example_site / "en/budget/madrid-budget"
    shown = {
        p.parent.relative_to(budget).as_posix()
        for p in budget.glob("*/*/index.html")
        if 'id="enquiry-enq-2015-003"' in p.read_text(encoding="utf-8")
    }
    assert shown == {"functional/3", "functional/34", "functional/342", "administrative/001"}
    page = (budget / "functional/342/index.html").read_text(encoding="utf-8")
    words = text_of(card(page, "enq-2015-003"))
    assert (
        "About Program 34201 · INSTALACIONES DEPORTIVAS; Section 210 · DISTRITO DE LATINA, 2015"
        in words
    )
    assert "Open · asked on May 18, 2015 by Sports club" in words and "Not answered yet." in words


def test_the_spanish_page_asks_in_spanish_with_spanish_figures(example_site: Path) -> None:
    page = (example_site / STREET_CLEANING).read_text(encoding="utf-8")
    assert ">Preguntar sobre esto</a>" in page
    path, fields = query_of(ask_href(page))
    assert path == "/civicgen/portal/issues/new"  # mkdocs.yml: forge: forgejo
    assert fields["title"] == ["Pregunta sobre 163 – LIMPIEZA VIARIA (2015)"]
    body = fields["body"][0]
    assert body.startswith("Tengo una pregunta sobre esta partida del presupuesto.\n\n")
    assert "- Presupuesto: Madrid municipal budget 2014-2015: approved expenditure\n" in body
    assert (
        "- Clasificación Funcional: 1 Basic public services › 16 › 163 (incluye LIMPIEZA VIARIA)\n"
        in body
    )
    assert "- Año: 2015\n- Aprobado: 205.201.724\xa0€\n" in body
    assert "205.201.724\xa0€" in page  # the amount as the page shows it
    assert "- Página: https://civicgen.example.org/budget/madrid-budget/functional/163/\n" in body
    assert "## Mi pregunta\n" in body and "## Quién pregunta\n" in body
    words = text_of(card(page, "enq-2015-001"))
    assert "Respondida · preguntada el 10 de febrero de 2015" in words
    assert "respondida el 12 de marzo de 2015, al cabo de 30 días" in words


def line_asks(page: str) -> list[tuple[str, str]]:
    """(address, accessible name) of each budget line's own "Ask" link on a built page."""
    found = re.findall(r'<a href="([^"]+)" rel="noopener nofollow" aria-label="([^"]+)">', page)
    return [(html.unescape(href), html.unescape(name)) for href, name in found]


def test_every_budget_line_listed_has_its_own_prefilled_question(example_site: Path) -> None:
    """Each row of "the budget lines it sums" asks about that line: its codes and labels, its
    year and amounts, and a link back to the list."""
    page = (example_site / STREET_CLEANING).read_text(encoding="utf-8")
    rows = page[page.index('<h2 id="lines">') :].count("<tr><td>")
    asks = line_asks(page)
    assert rows > 1 and len(asks) == rows
    assert len({href for href, _ in asks}) == rows  # one question per line, none repeated
    href, name = asks[0]
    path, fields = query_of(href)
    assert path == "/civicgen/portal/issues/new"
    [title], [body] = fields["title"], fields["body"]
    assert name.replace("Preguntar sobre", "Pregunta sobre") == title
    assert body.startswith("Tengo una pregunta sobre esta partida del presupuesto.\n\n")
    assert title == "Pregunta sobre la línea del presupuesto 001 · 015 · 16301 · 2 · 22700 (2015)"
    assert (
        "- Año: 2015\n- Centre: 001 AYUNTAMIENTO DE MADRID\n"
        "- Section: 015 MEDIO AMBIENTE Y MOVILIDAD\n- Program: 16301 LIMPIEZA VIARIA\n"
        "- Chapter: 2 GASTOS EN BIENES CORRIENTES Y SERVICIOS\n"
        "- Economic item: 22700 LIMPIEZA Y ASEO\n- Aprobado: 180.794.871\xa0€\n"
    ) in body  # the data's own field titles and labels, the amount as the page shows it
    assert (
        "- Página: https://civicgen.example.org/budget/madrid-budget/functional/163/#lines\n"
        in body
    )
    assert "## Mi pregunta\n" in body


def test_the_english_link_points_back_to_the_english_page(example_site: Path) -> None:
    page = (example_site / "en" / STREET_CLEANING).read_text(encoding="utf-8")
    _, fields = query_of(ask_href(page))
    body = fields["body"][0]
    assert "- Page: https://civicgen.example.org/en/budget/madrid-budget/functional/163/" in body
    assert "- Year: 2015\n- Approved: €205,201,724\n" in body


def test_the_budget_home_and_index_lead_to_the_questions(example_site: Path) -> None:
    home = (example_site / "en/budget/madrid-budget/index.html").read_text(encoding="utf-8")
    _, fields = query_of(ask_href(home))
    assert fields["title"] == ["Question about the budget (2015)"]
    assert "- Approved: €4,650,554,218\n" in fields["body"][0]
    assert "5 questions to the council are about this budget: 3 answered, 2 open." in text_of(home)
    index = (example_site / "en/budget/index.html").read_text(encoding="utf-8")
    assert '<a href="../enquiries/">Questions to the council about the budget' in index


def test_the_questions_page_lists_them_by_status_and_department(example_site: Path) -> None:
    page = (example_site / "en/enquiries/index.html").read_text(encoding="utf-8")
    words = text_of(page)
    assert "Open questions (2)" in words and "Answered questions (3)" in words
    assert "Median time to an answer 37 days" in words  # 30, 37 and 48 days
    opened = page[page.index('id="open"') : page.index('id="answered"')]
    assert re.findall(r'<article[^>]* id="enquiry-([\w-]+)"', opened) == [
        "enq-2015-004",
        "enq-2015-003",
    ]
    table = page[page.index("<caption>Questions by department") : page.index("</table>")]
    rows = [text_of(r).strip() for r in re.findall(r"<tr>(.*?)</tr>", table, re.S)][1:]
    assert rows == [
        "AYUNTAMIENTO DE MADRID (001) 1 0 1",
        "MEDIO AMBIENTE Y MOVILIDAD (015) 2 2 0 33.5 days",
        "LAS ARTES, DEPORTES Y TURISMO (065) 1 1 0 48 days",
        "DISTRITO DE LATINA (210) 1 0 1",
    ]
    spanish = text_of((example_site / "enquiries/index.html").read_text(encoding="utf-8"))
    assert "Tiempo mediano de respuesta 37 días" in spanish
    assert "MEDIO AMBIENTE Y MOVILIDAD (015) 2 2 0 33,5 días" in spanish


def test_the_collection_and_its_statistics_are_published(example_site: Path) -> None:
    folder = example_site / "datasets/enquiries"
    rows = (folder / "enquiries.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "id,question,asked_by,asked,answer,answered,documents,year,program,section"
    assert len(rows) == 6
    summary = (folder / "stats/summary.csv").read_text(encoding="utf-8").splitlines()
    assert summary == [
        "status,enquiries,median_days_to_answer,longest_days_to_answer",
        "open,2,,",
        "answered,3,37,48",
        "all,5,37,48",
    ]
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    moved = descriptor["resources"][0]["civicgen"]["foreignKeys"]  # cross-package keys
    assert [fk["reference"]["fields"] for fk in moved] == [["PROGRAMA", "AÑO"], ["SECCION", "AÑO"]]


# --- a second city, once per forge: the engine knows no city ---------------------------------

SECOND_ENQUIRIES = {
    "name": "perguntas",
    "title": "Perguntas sobre o orçamento",
    "licenses": [{"name": "CC0-1.0"}],
    "civicgen": {"profile": "enquiries"},
    "resources": [
        {
            "name": "perguntas",
            "path": "perguntas.csv",
            "civicgen": {"records": {"pattern": "records/*.yaml", "key": "id"}},
            "schema": {
                "fields": [
                    {"name": "id", "type": "string"},
                    {"name": "question", "type": "string", "constraints": {"required": True}},
                    {"name": "asked", "type": "date", "constraints": {"required": True}},
                    {"name": "answer", "type": "string"},
                    {"name": "answered", "type": "date"},
                    {"name": "exercicio", "type": "year"},
                    {"name": "subfuncao", "type": "string"},
                ],
                "foreignKeys": [
                    {
                        "fields": ["subfuncao", "exercicio"],
                        "reference": {
                            "package": "orcamento-despesas",
                            "resource": "despesas",
                            "fields": ["Cd_SubFuncao", "Cd_Exercicio"],
                        },
                    }
                ],
            },
        }
    ],
}
SECOND_RECORD = """question: Quantas escolas novas o Ensino Fundamental paga em 2024?
asked: 2024-02-01
answer: Duas escolas, na zona norte.
answered: 2024-03-15
exercicio: 2024
subfuncao: "361"
"""
EDUCATION = "budget/orcamento-despesas/funcional/12/index.html"


def second_city(folder: Path, repository: str, forge: str) -> Path:
    """The second city with a question about its budget, its mkdocs.yml naming the forge."""
    shutil.copytree(FIXTURES / "second-city", folder)
    package = folder / "datasets/perguntas"
    (package / "records").mkdir(parents=True)
    (package / "datapackage.json").write_text(json.dumps(SECOND_ENQUIRIES), encoding="utf-8")
    (package / "records/escolas.yaml").write_text(SECOND_RECORD, encoding="utf-8")
    options = f"      repository_url: {repository}\n" if repository else ""
    options += f"      forge: {forge}\n" if forge else ""
    replace_in(folder / "mkdocs.yml", "      datasets_dir: datasets\n",
               f"      datasets_dir: datasets\n{options}")  # fmt: skip
    replace_in(
        folder / "mkdocs.yml", "site_name:", "site_url: https://dados.cidade.example/\nsite_name:"
    )
    pygit2.init_repository(str(folder))
    commit_all(folder, "Second city with a question")
    return folder


@pytest.mark.parametrize(
    ("repository", "forge", "form"),
    [
        ("https://github.com/cidade/portal", "", "/issues/new?title="),
        ("https://git.cidade.example/dados/portal", "gitlab", "/-/issues/new?issue%5Btitle%5D="),
        ("https://codeberg.org/cidade/portal", "", "/issues/new?title="),
    ],
)  # fmt: skip
def test_a_second_city_asks_on_its_own_forge_with_its_own_figures(
    tmp_path: Path, repository: str, forge: str, form: str
) -> None:
    folder = second_city(tmp_path / "city", repository, forge)
    site = build_site(folder / "mkdocs.yml")
    page = (site / EDUCATION).read_text(encoding="utf-8")
    href = ask_href(page)
    assert href.startswith(repository + form)
    _, fields = query_of(href)
    title, body = (values[0] for values in fields.values())
    assert title.startswith("Question about 12 ") and title.endswith(" (2024)")
    figures = re.findall(r"^- (Approved|Modified|Executed): (.+)$", body, re.M)
    assert [name for name, _ in figures] == ["Approved", "Modified", "Executed"]
    for _, amount in figures:
        assert amount.startswith("R$") and amount in html.unescape(page)  # as the page shows it
    assert "- Page: https://dados.cidade.example/budget/orcamento-despesas/funcional/12/" in body
    lines = line_asks(page)  # each listed line asks on the same forge, in its own columns
    assert lines and all(href.startswith(repository + form) for href, _ in lines)
    _, fields = query_of(lines[0][0])
    line_title, line_body = (values[0] for values in fields.values())
    assert line_title.startswith("Question about budget line ") and "(2024)" in line_title
    line_figures = re.findall(r"^- (Approved|Modified|Executed): (R\$.+)$", line_body, re.M)
    assert line_figures and all(amount in html.unescape(page) for _, amount in line_figures)
    answered = text_of(card(page, "escolas"))
    assert "About Subfunção 361 · Ensino Fundamental, 2024" in answered
    assert (
        "Answered · asked on 1 de fevereiro de 2024 · answered on 15 de março de 2024, after "
        "43 days · Department: Secretaria Municipal de Educação (16)"
    ) in answered  # the department: the administrative classification (FDP mapping)
    assert "Duas escolas, na zona norte." in answered


def test_a_second_city_without_a_repository_has_no_link(tmp_path: Path) -> None:
    folder = second_city(tmp_path / "city", "", "")
    site = build_site(folder / "mkdocs.yml")
    page = (site / EDUCATION).read_text(encoding="utf-8")
    assert "civicgen-ask" not in page and "/issues/new" not in page
    assert 'id="enquiry-escolas"' in page
    index = (site / "enquiries/index.html").read_text(encoding="utf-8")
    assert "Questions by department" in index
