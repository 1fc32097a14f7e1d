"""The portal in the city's languages: catalogues (civicgen's and the city's), numbers in the
locale, one site with a folder per language, and a city's untrusted .po shown only as text."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from conftest import ROOT, commit_all, replace_in, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

import civicgen.plugin
from civicgen.build import build_site
from civicgen.exceptions import BuildFault
from civicgen.scaffold import new_portal
from civicgen.site.env import make_env
from civicgen.site.formats import (
    decimal_of,
    money,
    number,
    patterns,
    percent,
    signed_percent,
    with_digits,
)
from civicgen.site.i18n import Catalogue, load_catalogue

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
NBSP = "\xa0"


def city(tmp_path: Path, lang: str = "es") -> Path:
    """A portal made with `civicgen new` (small and quick to build), committed."""
    folder = tmp_path / "city"
    new_portal(folder, "Villa", lang, "EUR")
    return folder


def add_catalogue(folder: Path, lang: str, name: str, entries: str) -> Path:
    path = folder / "locale" / lang / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + entries, encoding="utf-8")
    commit_all(folder, f"{lang} translations")
    return path


def languages(folder: Path, codes: str) -> None:
    text = (folder / "mkdocs.yml").read_text(encoding="utf-8")
    text = re.sub(r"languages: \[[^\]]*\]", f"languages: [{codes}]", text)
    (folder / "mkdocs.yml").write_text(text, encoding="utf-8")
    commit_all(folder, "languages")


def page(site: Path, path: str) -> str:
    return (site / path).read_text(encoding="utf-8")


def refused(folder: Path, error: str = "translation-catalogue") -> str:
    """civicgen build in folder: the fault error (its code, through the API), exit 2, and no
    site (nor staging folder) left behind."""
    with pytest.raises(BuildFault) as caught:
        build_site(folder / "mkdocs.yml")
    assert caught.value.code == error
    code, output = run_cli(folder, "build")
    assert code == 2, output
    assert not (folder / "site").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".site.")]
    assert "Traceback" not in output
    return output


# --- numbers, money and dates in the locale ---------------------------------------------------


def test_money_in_spanish_and_english() -> None:
    assert money(4_650_000_000, "EUR", "es") == f"4.650.000.000{NBSP}€"
    assert money(4_650_000_000, "EUR", "en") == "€4,650,000,000"
    assert money(4_650_000_000, "EUR") == "4,650,000,000 EUR"  # no locale: the CLI's text


def test_numbers_and_percentages_in_spanish_and_english() -> None:
    assert number(1234567.891, 2, "es") == "1.234.567,89"
    assert number(1234567.891, 2, "en") == "1,234,567.89"
    assert percent(0.123, 1, "es") == f"12,3{NBSP}%"
    assert percent(0.123, 1, "en") == "12.3%"
    assert signed_percent(-0.0103, "es") == f"-1,0{NBSP}%"
    assert signed_percent(0.04, "en") == "+4.0%"
    assert signed_percent(0.04) == "+4.0 %"


@settings(max_examples=400, deadline=None)
@given(
    value=st.decimals(
        allow_nan=False, allow_infinity=False, places=6, max_value=10**15, min_value=-(10**15)
    )
    | st.floats(-1e15, 1e15)
    | st.integers(-(10**15), 10**15),
    digits=st.integers(0, 3),
    locale=st.sampled_from(["es", "en", "fr", "pt_BR", "ar_EG", "sv", "hi", "en_IN"]),
)
def test_numbers_read_as_babel_writes_them(value: object, digits: int, locale: str) -> None:
    """The pages' quick path for plain patterns writes what Babel's formatter writes (Indian
    grouping goes to Babel itself)."""
    pattern = with_digits(patterns(locale)[1], digits)
    assert number(value, digits, locale) == format_decimal(decimal_of(value), pattern, locale)


def test_an_apostrophe_between_thousands_is_kept() -> None:
    """Swiss German groups thousands with an apostrophe, which Babel's formatter drops as a
    quote ('1000000'); the pages write it."""
    assert number(1234567, 0, "de_CH") == "1'234'567"


def test_date_filter_in_spanish_and_english() -> None:
    env = make_env(None, load_catalogue("es"))
    assert env.from_string("{{ '2015-03-01' | date }}").render() == "1 de marzo de 2015"
    english = make_env(None, Catalogue("en"))
    assert english.from_string("{{ '2015-03-01' | date }}").render() == "March 1, 2015"


# --- catalogues -------------------------------------------------------------------------------


def test_template_strings_in_spanish_with_placeholders_escaped() -> None:
    env = make_env(None, load_catalogue("es"))
    text = env.from_string(
        '{{ _("Fields of %(title)s", title="<b>x</b>") }} · '
        '{{ ngettext("%(num)s row", "%(num)s rows", 3, num=3000 | number) }}'
    ).render()
    assert text == "Campos de &lt;b&gt;x&lt;/b&gt; · 3.000 filas"


def test_translation_with_markup_is_text() -> None:
    catalogue = Catalogue("es", singular={"Datasets": "<script>alert(1)</script>"})
    env = make_env(None, catalogue)
    text = env.from_string('<h1>{{ _("Datasets") }}</h1>{% trans %}Datasets{% endtrans %}').render()
    assert text == "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" + (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    )


def template_messages() -> set[str]:
    """Every _()/ngettext msgid in civicgen's templates (the singular of a plural)."""
    found = extract_from_dir(
        str(ROOT / "civicgen/templates"),
        method_map=[("**.html", "jinja2.ext:babel_extract")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    return {msg[0] if isinstance(msg, tuple) else msg for _, _, msg, _, _ in found}


def test_every_template_string_has_a_spanish_translation() -> None:
    catalogue = load_catalogue("es")
    messages = template_messages()
    assert "Fields of %(title)s" in messages  # the extraction sees the templates
    missing = sorted(m for m in messages if m not in catalogue.singular | catalogue.plural)
    assert missing == [], f"{len(missing)} string(s) without Spanish: {missing[:10]}"


def test_civicgen_spanish_catalogues_read_cleanly() -> None:
    for path in sorted((ROOT / "civicgen/locale/es").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, abort_invalid=True)
        assert len(catalog) > 0, path


# --- one build, several languages -------------------------------------------------------------


def test_city_adds_a_third_language_without_code(tmp_path: Path) -> None:
    folder = city(tmp_path, "en")
    add_catalogue(
        folder,
        "ca",
        "portal.po",
        'msgid "Datasets"\nmsgstr "Conjunts de dades"\n\n'
        'msgid "Home"\nmsgstr "Inici"\n\n'
        'msgid "%(num)s row"\nmsgid_plural "%(num)s rows"\n'
        'msgstr[0] "%(num)s fila"\nmsgstr[1] "%(num)s files"\n',
    )
    (folder / "content/en").mkdir()
    for name in ("index.md", "contributing.md"):
        (folder / "content/en" / name).write_bytes((folder / "content" / name).read_bytes())
    replace_in(folder / "content/index.md", "Welcome to", "Benvinguts al portal. Welcome to")
    languages(folder, "ca, en")
    site = build_site(folder / "mkdocs.yml")
    catalan = page(site, "datasets/index.html")
    assert '<html lang="ca"' in catalan and "<h1>Conjunts de dades</h1>" in catalan
    assert re.search(r"\d+ files", catalan)
    assert "Inici" in page(site, "index.html") and "Benvinguts" in page(site, "index.html")
    english = page(site, "en/datasets/index.html")
    assert '<html lang="en"' in english and "<h1>Datasets</h1>" in english
    assert "Benvinguts" not in page(site, "en/index.html")
    budget = page(site, "en/datasets/budget/index.html")
    assert '<a href="../../../datasets/budget/" hreflang="ca" lang="ca"' in budget
    assert (
        '<link rel="alternate"' not in budget
    )  # the theme's script would fetch <href>/sitemap.xml
    assert (site / "SHA256SUMS").is_file() and not (site / "en/SHA256SUMS").exists()
    assert "locale/ca/portal.po" in page(site, "civicgen-manifest.json")


def test_city_catalogue_wins_over_civicgen(tmp_path: Path) -> None:
    folder = city(tmp_path)
    add_catalogue(folder, "es", "site.po", 'msgid "Datasets"\nmsgstr "Datos publicados"\n')
    site = build_site(folder / "mkdocs.yml")
    assert "<h1>Datos publicados</h1>" in page(site, "datasets/index.html")


def test_the_data_is_read_once_for_every_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = city(tmp_path)
    (folder / "content/en").mkdir()
    languages(folder, "es, en")
    calls: list[object] = []
    real_validate, real_gather = civicgen.plugin.validate, civicgen.plugin.gather
    monkeypatch.setattr(
        civicgen.plugin, "validate", lambda *a: calls.append(a) or real_validate(*a)
    )
    monkeypatch.setattr(civicgen.plugin, "gather", lambda *a: calls.append(a) or real_gather(*a))
    site = build_site(folder / "mkdocs.yml")
    assert len(calls) == 2  # one validation, one gathering, for two languages
    assert (site / "en/datasets/budget/index.html").is_file()


# --- a city's catalogue is untrusted ------------------------------------------------------------


def test_hostile_catalogue_markup_is_shown_as_text(tmp_path: Path) -> None:
    folder = city(tmp_path)
    add_catalogue(
        folder,
        "es",
        "evil.po",
        'msgid "Datasets"\nmsgstr "<script>alert(1)</script>Datos"\n\n'
        'msgid "Home"\nmsgstr "<img src=x onerror=alert(2)>"\n',
    )
    site = build_site(folder / "mkdocs.yml")
    datasets = page(site, "datasets/index.html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Datos" in datasets
    assert "<script>alert(1)" not in datasets
    assert "&lt;img src=x onerror=alert(2)&gt;" in datasets  # the nav title too
    assert "<img src=x" not in datasets


def test_hostile_catalogue_syntax_error_stops_the_build(tmp_path: Path) -> None:
    folder = city(tmp_path)
    add_catalogue(folder, "es", "broken.po", 'msgid "Datasets"\nmsgstr "Datos\nmsgid "x"\n')
    output = refused(folder)
    assert "locale/es/broken.po, line " in output
    assert "msgstr" in output and "double quotes" in output


def test_hostile_catalogue_placeholder_not_in_english(tmp_path: Path) -> None:
    folder = city(tmp_path)
    add_catalogue(folder, "es", "x.po", 'msgid "Datasets"\nmsgstr "Datos %(secret)s"\n')
    output = refused(folder)
    assert "locale/es/x.po, line 5" in output and '"%(secret)s"' in output


def test_hostile_catalogue_bare_percent_sign(tmp_path: Path) -> None:
    folder = city(tmp_path)
    add_catalogue(folder, "es", "x.po", 'msgid "Datasets"\nmsgstr "100% datos"\n')
    output = refused(folder)
    assert "locale/es/x.po, line 5" in output and "write %% for a percent sign" in output


def test_hostile_catalogue_too_large(tmp_path: Path) -> None:
    folder = city(tmp_path)
    add_catalogue(folder, "es", "big.po", "# padding\n" * 250_000)
    output = refused(folder)
    assert "locale/es/big.po" in output and "catalogue_bytes" in output


def test_hostile_catalogue_too_many_entries(tmp_path: Path) -> None:
    folder = city(tmp_path)
    replace_in(
        folder / "mkdocs.yml",
        "      languages:",
        "      limits: {catalogue_entries: 3}\n      languages:",
    )
    entries = "".join(f'msgid "m{i}"\nmsgstr "t{i}"\n\n' for i in range(5))
    add_catalogue(folder, "es", "many.po", entries)
    output = refused(folder)
    assert "locale/es/many.po" in output and "catalogue_entries" in output


def test_hostile_catalogue_folder_is_a_link_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside/es"
    outside.mkdir(parents=True)
    (outside / "x.po").write_text(HEADER + 'msgid "Datasets"\nmsgstr "fuera"\n', encoding="utf-8")
    folder = city(tmp_path)
    os.symlink(tmp_path / "outside", folder / "locale")
    commit_all(folder, "a link")
    output = refused(folder)
    assert "inside the repository" in output


def test_hostile_locale_dir_leaves_the_repository(tmp_path: Path) -> None:
    folder = city(tmp_path)
    (tmp_path / "elsewhere/es").mkdir(parents=True)
    replace_in(
        folder / "mkdocs.yml",
        "      languages:",
        "      locale_dir: ../elsewhere\n      languages:",
    )
    commit_all(folder, "elsewhere")
    assert "inside the repository" in refused(folder)


def test_hostile_unknown_language(tmp_path: Path) -> None:
    folder = city(tmp_path)
    languages(folder, "es, zz")
    output = refused(folder, "unknown-language")
    assert '"zz"' in output and "languages" in output


def test_hostile_uncommitted_translation_makes_the_build_unclean(tmp_path: Path) -> None:
    folder = city(tmp_path)
    path = add_catalogue(folder, "es", "site.po", 'msgid "Datasets"\nmsgstr "Datos"\n')
    path.write_text(HEADER + 'msgid "Datasets"\nmsgstr "Datos cambiados"\n', encoding="utf-8")
    site = build_site(folder / "mkdocs.yml")
    manifest = page(site, "civicgen-manifest.json")
    assert '"clean": false' in manifest and '"locale/es/site.po"' in manifest


# --- what civicgen itself writes on the example portal's pages, in each language -------------

STATUS_ES = {
    "submitted": "Presentada",
    "feasible": "Viable",
    "unfeasible": "No viable",
    "selected": "Seleccionada",
    "not-selected": "No seleccionada",
    "in-progress": "En ejecución",
    "completed": "Terminada",
}


class Elements(HTMLParser):
    """The text of every element of the given tags (nested markup flattened)."""

    def __init__(self, tags: set[str]) -> None:
        super().__init__()
        self.tags, self.open, self.found = tags, [], []  # type: ignore[var-annotated]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.tags:
            self.open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1][0] == tag:
            name, text = self.open.pop()
            self.found.append((name, " ".join("".join(text).split())))

    def handle_data(self, data: str) -> None:
        for _, text in self.open:
            text.append(data)


def elements(html: str, *tags: str) -> list[tuple[str, str]]:
    parser = Elements(set(tags))
    parser.feed(html)
    return parser.found


def table_rows(html: str, caption: str) -> list[list[str]]:
    """The body rows (cell texts) of the table with this caption."""
    start = html.index(f"<caption>{caption}")
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    return [
        [" ".join(re.sub(r"<[^>]+>", "", c).split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_spanish_budget_section_names_its_tables_in_spanish(example_site: Path) -> None:
    spanish = page(example_site, "datasets/madrid-budget/index.html")
    english = page(example_site, "en/datasets/madrid-budget/index.html")
    assert "<caption>Gasto total por año<br>" in spanish
    assert "<caption>Total expenditure by year<br>" in english
    for words in ("Total expenditure", "by year", "Share of the year", "Where the money goes"):
        assert words not in spanish, words
    assert '<h2 id="where-the-money-goes">Adónde va el dinero</h2>' in spanish
    assert [
        t for _, t in elements(spanish, "h3") if t in ("Administrativa", "Funcional", "Económica")
    ] == [
        "Administrativa",
        "Funcional",
        "Económica",
    ]
    headers = [t for _, t in elements(spanish, "th")]
    assert {"Fase", "Importe (EUR)", "Por habitante (EUR)", "Aprobado (EUR)", "Nombre"} <= set(
        headers
    )
    assert [row[1] for row in table_rows(spanish, "Gasto total por año")] == ["Aprobado"] * 2
    assert [row[1] for row in table_rows(english, "Total expenditure by year")] == ["Approved"] * 2
    assert "<caption>Centre, 2015<br><span" in english and "Share (approved)" in english


def test_proposal_statuses_read_as_labels_not_codes(example_site: Path) -> None:
    statuses = sorted(
        re.search(r"(?m)^status: (.*)$", p.read_text()).group(1)  # type: ignore[union-attr]
        for p in (ROOT / "datasets/proposals/records").glob("*.md")
    )
    spanish = page(example_site, "proposals/index.html")
    by_status = table_rows(spanish, "Propuestas por estado")
    assert [row[0] for row in by_status] == [STATUS_ES[s] for s in sorted(set(statuses))]
    assert sum(int(row[1]) for row in by_status) == len(statuses)
    assert [
        row[0]
        for row in table_rows(
            spanish, "Financiadas (seleccionadas o más adelante) frente a no financiadas"
        )
    ] == ["no", "sí"]
    funding = table_rows(spanish, "Del voto al presupuesto")
    funded = [s for s in statuses if s in ("selected", "in-progress", "completed")]
    assert sorted(row[1] for row in funding) == sorted(STATUS_ES[s] for s in funded)
    assert {row[7] for row in funding} == {"no publicado"}  # the example budget has no execution
    for code in STATUS_ES:
        assert f"<td>{code}</td>" not in spanish, code
    english = page(example_site, "en/proposals/index.html")
    assert [row[0] for row in table_rows(english, "Proposals by status")][0] == "Completed"
    assert "<td>not published</td>" in english


def test_profiles_quantities_and_categories_read_as_labels(example_site: Path) -> None:
    budget = page(example_site, "datasets/madrid-budget/index.html")
    assert "<dt>Perfil</dt><dd>Presupuesto</dd>" in budget
    assert "<dt>Profile</dt><dd>Budget</dd>" in page(
        example_site, "en/datasets/madrid-budget/index.html"
    )
    sensors = page(example_site, "datasets/air-quality/index.html")
    assert "<dt>Perfil</dt><dd>Lecturas de sensores</dd>" in sensors
    caption = "Días cuya media supera la guía"
    quantities = {row[1] for row in table_rows(sensors, caption)}
    assert quantities == {"Ruido", "PM2,5 (partículas finas)", "PM10 (partículas gruesas)"}
    assert {row[2] for row in table_rows(sensors, caption)} == {"55,0", "15,0", "45,0"}
    tools = page(example_site, "tools/index.html")
    categories = [row[0] for row in table_rows(tools, "Herramientas por categoría")]
    assert "Transparencia presupuestaria" in categories
    assert not [c for c in categories if re.fullmatch(r"[a-z-]+", c)], categories


def data_strings() -> set[str]:
    """Every text of the example city's data: descriptors, tables, records, tool files."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.add(" ".join(value.split()))
        elif isinstance(value, dict):
            found.update(str(k) for k in value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted([*(ROOT / "datasets").rglob("*"), *(ROOT / "tools-catalog").glob("*")]):
        if path.suffix == ".json":
            walk(json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix == ".csv":
            rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
            found.update(" ".join(cell.split()) for row in rows for cell in row)
        elif path.suffix in (".yaml", ".md"):
            text = path.read_text(encoding="utf-8")
            walk(yaml.safe_load(text.split("---")[1] if path.suffix == ".md" else text))
    return found


def made_of_data(text: str, data: set[str]) -> bool:
    """Data alone: a title from the data, or data, numbers and punctuation joined."""
    parts = re.split(r"\s*[,:;·›()]\s*", text)
    return text in data or all(p in data or not re.search(r"[A-Za-z]", p) for p in parts)


def test_no_heading_or_caption_is_left_in_english_on_the_spanish_pages(
    example_site: Path,
) -> None:
    """Every <caption>, <h1>, <h2> and <h3> of a Spanish page that reads the same on the English
    page is made of the data's own words (package, table and station names, labels)."""
    data, checked, untranslated = data_strings(), 0, []
    for path in sorted(example_site.rglob("*.html")):
        name = path.relative_to(example_site).as_posix()
        twin = example_site / "en" / name
        if name.startswith("en/") or name == "404.html" or not twin.is_file():
            continue  # 404.html: mkdocs-material's own page
        english = set(elements(twin.read_text(encoding="utf-8"), "caption", "h1", "h2", "h3"))
        for item in elements(path.read_text(encoding="utf-8"), "caption", "h1", "h2", "h3"):
            checked += 1
            same = item in english and re.search(r"[A-Za-z]{2}", item[1])
            if same and not made_of_data(item[1], data):
                untranslated.append((name, *item))
    assert checked > 1000  # every page, not an empty site
    assert untranslated == []
