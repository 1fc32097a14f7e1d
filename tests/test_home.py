"""The home page: headline figures from the derived tables, the city's own introduction kept,
no box for data a city does not have, and nothing from the data that runs as HTML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pygit2
from conftest import ROOT, commit_all

from civicgen.build import build_site
from civicgen.pipeline import validate
from civicgen.site.env import make_env
from civicgen.site.formats import money, number, percent
from civicgen.site.inputs import SiteInputs, gather
from civicgen.site.pages import split_intro
from civicgen.site.portal import render_site


def home_of(portal: Path, intro: str | None = None) -> tuple[str, SiteInputs]:
    inputs = gather(validate([str(portal)]))
    home = next(o for o in render_site(make_env(), inputs, intro=intro) if o.uri == "index.md")
    return str(home.content), inputs


def table(inputs: SiteInputs, package: str, name: str) -> list[dict[str, object]]:
    return next(t for t in inputs.derived[package] if t.name == name).records()


def test_budget_figure_is_the_latest_total_and_its_change(portal: Path) -> None:
    home, inputs = home_of(portal)
    totals = [
        r
        for r in table(inputs, "madrid-budget", "totals")
        if r["phase"] == "approved" and r["direction"] == "expenditure"
    ]
    latest = max(totals, key=lambda r: r["year"])
    previous = max((r for r in totals if r["year"] < latest["year"]), key=lambda r: r["year"])
    assert f"<h3>Budget {latest['year']}</h3>" in home
    assert f'<div class="civicgen-figure-value">{money(latest["amount"], "EUR")}</div>' in home
    change = percent(abs(latest["change_pct"]))
    direction = "less" if latest["change_pct"] < 0 else "more"
    assert f"{change} {direction} than in {previous['year']}." in home
    assert f"That is {money(latest['per_inhabitant'], 'EUR')} per inhabitant." in home
    nodes = [
        r
        for r in table(inputs, "madrid-budget", "classifications")
        if (r["classification"], r["level"], r["year"])
        == ("functional", "PROGRAMA:1", latest["year"])
    ]
    top = max(nodes, key=lambda r: r["amount"])
    assert f"The largest part, {percent(top['share'], 0)}, went to {top['label']}." in home


def test_proposal_and_tool_figures_are_the_summary_tables(portal: Path) -> None:
    home, inputs = home_of(portal)
    summary = table(inputs, "proposals", "summary")
    funded = next(
        r["proposals"] for r in summary if r["dimension"] == "funded" and r["value"] == "yes"
    )
    completed = next(
        r["proposals"] for r in summary if r["dimension"] == "status" and r["value"] == "completed"
    )
    total = sum(r["proposals"] for r in summary if r["dimension"] == "status")
    assert (total, funded, completed) == (18, 11, 5)  # the example's files, counted by hand
    assert f"{funded} funded, {completed} completed" in home
    assert f"Of {total} proposals residents made, {funded} were funded" in home
    tools = len(table(inputs, "tools-catalog", "licences"))
    assert f'<div class="civicgen-figure-value">{tools}</div>' in home


def test_air_figure_is_the_latest_month_of_the_daily_series(portal: Path) -> None:
    home, inputs = home_of(portal)
    daily = table(inputs, "air-quality", "daily")
    month = max(str(r["day"])[:7] for r in daily)
    rows = [r for r in daily if str(r["day"]).startswith(month) and r["quantity"] == "pm25"]
    mean = sum(r["mean"] * r["readings"] for r in rows) / sum(r["readings"] for r in rows)
    assert f"Measured in {month}" in home
    assert f"PM2.5 (fine particles): on average {number(mean, 1)} µg/m³ across 6 stations." in home
    assert "pm25" not in home  # names and units, never the raw code


def test_recent_changes_come_from_git(portal: Path) -> None:
    (portal / "datasets/proposals/records/pb-2015-001.md").write_text(
        (portal / "datasets/proposals/records/pb-2015-001.md").read_text() + "\nMore.\n"
    )
    commit_all(portal, "A resident corrected the playground proposal", when=1_800_000_000)
    home, _ = home_of(portal)
    changes = home.split('<ul class="civicgen-changes">')[1].split("</ul>")[0]
    first = changes.split("</li>")[0]
    assert '<time datetime="2027-01-15">' in first
    assert "A resident corrected the playground proposal" in first
    assert 'href="datasets/proposals/"' in first


def test_the_city_introduction_surrounds_the_figures(portal: Path) -> None:
    intro = "---\ntitle: Our city\n---\n# Our city\n\nWelcome.\n\n## Contact\n\nWrite to us.\n"
    assert split_intro(intro) == (
        "---\ntitle: Our city\n---",
        "# Our city\n\nWelcome.",
        "## Contact\n\nWrite to us.",
    )
    home, _ = home_of(portal, intro)
    assert home.startswith("---\ntitle: Our city\n---\n# Our city\n\nWelcome.\n\n<div")
    assert home.index("In figures") < home.index("## Contact") and "<h1>" not in home
    bare, _ = home_of(portal)
    assert bare.count("<h1>") == 1  # no introduction: a heading of its own


def make_catalog_only_city(target: Path) -> Path:
    """A city that publishes only a tool catalog: no budget, sensors or proposals."""
    target.mkdir()
    for part in ("theme", "tools-catalog"):
        shutil.copytree(ROOT / part, target / part)
    (target / "content").mkdir()
    (target / "content/index.md").write_text("# Tools for our town\n\nWhat we use.\n")
    (target / "mkdocs.yml").write_text(
        "site_name: Our town\ndocs_dir: content\ntheme:\n  name: material\n  custom_dir: theme\n"
        "  font: false\nplugins:\n  - search\n  - civicgen:\n      tools_dir: tools-catalog\n"
    )
    pygit2.init_repository(str(target))
    commit_all(target, "A catalog of tools")
    return target


def test_a_city_with_only_a_catalog_gets_no_empty_boxes(tmp_path: Path) -> None:
    city = make_catalog_only_city(tmp_path / "catalog-city")
    site = build_site(city / "mkdocs.yml")
    html = (site / "index.html").read_text()
    home = html.split('<div class="civicgen civicgen-home">')[1].split("</article>")[0]
    assert "Open-source tools" in home and 'href="tools/"' in home
    for absent in ("Budget", "Measured in", "Participatory budgeting", "Spent so far"):
        assert absent not in home, absent
    assert home.count('<li class="civicgen-figure">') == 1
    assert "Tools for our town</h1>" in html.split('<div class="civicgen civicgen-home">')[0]


def test_a_city_without_sensors_gets_no_air_box(portal: Path) -> None:
    shutil.rmtree(portal / "datasets/air-quality")
    home, _ = home_of(portal)
    assert "Measured in" not in home and "Sensors" not in home
    assert "<h3>Budget 2015</h3>" in home


def test_the_example_home_in_a_real_build(portal: Path) -> None:
    site = build_site(portal / "mkdocs.yml")
    html = (site / "en/index.html").read_text()  # the English home (Spanish is at the root)
    assert html.count("<h1") == 1
    assert "Welcome to the transparency portal" in html  # the city's own words, kept
    assert "In figures" in html and "What changed recently" in html
    assert "€4,650,554,218" in html and "1.0% less than in 2014" in html
    spanish = (site / "index.html").read_text()
    assert spanish.count("<h1") == 1 and "4.650.554.218\xa0€" in spanish
    assert 'href="proposals/"' in html and 'href="tools/"' in html


def test_hostile_titles_and_commit_messages_on_the_home_are_escaped(portal: Path) -> None:
    descriptor = portal / "datasets/air-quality/datapackage.json"
    data = json.loads(descriptor.read_text())
    data["title"] = '<img src=x onerror="alert(1)">Sensors'
    descriptor.write_text(json.dumps(data, indent=2))
    commit_all(portal, "<script>alert(2)</script> new title", when=1_800_000_000)
    home, _ = home_of(portal)
    assert "<img src=x" not in home and "<script>" not in home
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Sensors" in home
    assert "&lt;script&gt;alert(2)&lt;/script&gt; new title" in home


def test_hostile_label_of_a_quantity_is_escaped(portal: Path) -> None:
    descriptor = portal / "datasets/air-quality/datapackage.json"
    data = json.loads(descriptor.read_text())
    readings = next(r for r in data["resources"] if r["name"] == "readings")
    field = next(f for f in readings["schema"]["fields"] if f["name"] == "pm25")
    field["title"] = "PM2.5 <b onmouseover=alert(3)>"
    descriptor.write_text(json.dumps(data, indent=2))
    home, _ = home_of(portal)
    assert "<b onmouseover" not in home  # a known quantity is named in the page's words
    assert "PM2.5 (fine particles): on average" in home
    unknown = {"code": "radon", "title": "Radon <b onmouseover=alert(3)>"}
    named = make_env().from_string('{% import "_air.html" as air %}{{ air.quantity_name(q) }}')
    assert named.render(q=unknown) == "Radon &lt;b onmouseover=alert(3)&gt;"


# --- in Spanish, from civicgen/locale/es/records.po -----------------------------------------

TEMPLATES = (
    "proposals",
    "proposal",
    "tools",
    "tool",
    "tool-category",
    "home",
    "_records",
    "_tools",
)


def records_catalog():  # type: ignore[no-untyped-def]
    from babel.messages.pofile import read_po

    with open(ROOT / "civicgen/locale/es/records.po", "rb") as po:
        return read_po(po)


def template_messages() -> set[object]:
    from babel.messages.extract import extract_from_file
    from jinja2.ext import babel_extract

    options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
    return {
        message
        for name in TEMPLATES
        for _, message, _, _ in extract_from_file(
            babel_extract, ROOT / f"civicgen/templates/{name}.html", options=options
        )
    }


def test_every_string_of_these_pages_has_a_spanish_translation() -> None:
    catalog = records_catalog()
    missing = [
        m
        for m in template_messages()
        if not (catalog.get(m if isinstance(m, str) else m[0]) or None)
    ]
    assert missing == []
    untranslated = [
        m.id
        for m in catalog
        if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]
    assert untranslated == []


def test_pages_render_in_spanish_from_the_catalogue(portal: Path) -> None:
    import io

    from babel.messages.mofile import write_mo
    from babel.support import Translations

    buffer = io.BytesIO()
    write_mo(buffer, records_catalog())
    buffer.seek(0)
    env = make_env()
    env.install_gettext_translations(Translations(buffer), newstyle=True)  # type: ignore[attr-defined]
    pages = {o.uri: str(o.content) for o in render_site(env, gather(validate([str(portal)])))}
    sentence = pages["index.md"].split("El presupuesto de gastos aprobado para 2015, un ")[1]
    assert " menos que en 2014. Son " in sentence.split("</p>")[0]
    assert "De 18 propuestas hechas por los vecinos, se financiaron 11" in pages["index.md"]
    assert "<h1>Propuestas de presupuestos participativos</h1>" in pages["proposals/index.md"]
    assert "Se muestran {shown} de 18 propuestas." in pages["proposals/index.md"]
    assert (
        "si ofreces a otros una versión modificada a través de una red" in pages["tools/decidim.md"]
    )


def test_hostile_template_syntax_in_the_introduction_is_text(portal: Path) -> None:
    """The city's index.md is shown as written: never run as a template."""
    intro = "# Our city\n\n{{ 7 * 7 }} {% for x in range(3) %}x{% endfor %}\n"
    home, _ = home_of(portal, intro)
    head = home.split("<div")[0]
    assert head == "# Our city\n\n{{ 7 * 7 }} {% for x in range(3) %}x{% endfor %}\n\n"


def test_execution_figure_where_the_budget_publishes_it(tmp_path: Path) -> None:
    """A city whose budget has executed amounts (the second-city fixture) gets the box."""
    city = tmp_path / "second-city"
    shutil.copytree(ROOT / "tests/fixtures/second-city", city)
    pygit2.init_repository(str(city))
    commit_all(city, "Another city")
    home, inputs = home_of(city)
    package = next(iter(inputs.derived))
    rows = [
        r
        for r in table(inputs, package, "execution")
        if r["classification"] == "total" and r["executed"] is not None
    ]
    latest = max(rows, key=lambda r: str(r["year"]))
    assert f"<h3>Spent so far, {latest['year']}</h3>" in home
    assert f'<div class="civicgen-figure-value">{percent(latest["rate"])}</div>' in home
    assert "Measured in" not in home and "Participatory budgeting" not in home
