"""The tool catalog as a marketplace: deployments, support providers, funded improvements,
reviews and the privacy checklist, each a collection of one file per record with a foreign
key into the tools; validated (broken records give their exact error), summed, and shown on
the portal: a map and a table of deployments, providers by country, ratings with their
distribution, the privacy table, the comparison page and the list's filters (in a real
headless Chromium, with axe-core)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml
from conftest import CHROMIUM, ROOT, commit_all

from civicgen.model import Record
from civicgen.pipeline import validate
from civicgen.site.env import make_env
from civicgen.site.inputs import gather
from civicgen.site.maps import deployment_map, world_svg
from civicgen.site.market import Market, filter_values
from civicgen.site.portal import render_site
from civicgen.stats.market import deployments_table, privacy_table, ratings_table, support_table

CATALOG = ROOT / "tools-catalog"
COLLECTIONS = ("deployments", "providers", "improvements", "reviews", "privacy")


def records_of(collection: str) -> list[dict]:
    """The example catalog's records of a collection, read as YAML (front matter for .md)."""
    found = []
    for path in sorted((CATALOG / collection).glob("*.*")):
        text = path.read_text("utf-8")
        values = yaml.safe_load(text.split("---")[1] if path.suffix == ".md" else text)
        found.append({**values, "id": path.stem})
    return found


def errors_of(portal: Path) -> list[list[object]]:
    return validate([str(portal)]).report.flatten(["path", "line", "field_name", "code"])


def messages_of(portal: Path) -> list[str]:
    return [str(e.message) for e in validate([str(portal)]).report.sorted_errors()]


# --- the example catalog's data ----------------------------------------------------------------


def test_the_example_catalog_and_its_collections_are_valid() -> None:
    validation = validate([str(ROOT)])
    assert validation.report.flatten(["path", "code", "note"]) == []
    tables = {name: s for (pkg, name), s in validation.tables.items() if pkg == "tools-catalog"}
    assert set(COLLECTIONS) <= set(tables)
    for name in COLLECTIONS:
        assert tables[name].records, f"{name} has no record"
        keys = tables[name].resource.schema["foreignKeys"]
        assert keys == [{"fields": "tool", "reference": {"resource": "tools", "fields": "id"}}]


def test_every_real_fact_cites_a_public_page_and_examples_are_flagged() -> None:
    """Deployments, providers and improvements are facts about real organisations: each cites
    a source and none is illustrative; every review is illustrative and names no real body."""
    for collection in ("deployments", "providers", "improvements"):
        for record in records_of(collection):
            assert re.match(r"https?://", record["source"]), record["id"]
            assert record.get("illustrative") is not True, record["id"]
    for record in records_of("reviews"):
        assert record["illustrative"] is True and record["reviewer"].startswith("Example ")
    for record in records_of("privacy"):
        assert record["illustrative"] is True


# --- broken records: the exact error -----------------------------------------------------------


@pytest.mark.parametrize(
    ("collection", "name", "text"),
    [
        ("deployments", "x.yaml", "organisation: A\ncountry: ES\npurpose: For testing it.\n"
         "source: https://example.org/a\n"),
        ("providers", "x.yaml", "name: A\nservices: [hosting]\ncountries: [ES]\nlanguages: [es]\n"
         "url: https://example.org\nsource: https://example.org/a\n"),
        ("improvements", "x.yaml", "feature: A feature for testing\nfunder: A\n"
         "code: https://example.org/code\nsource: https://example.org/a\n"),
        ("reviews", "x.md", "---\nreviewer: A\nreviewer_type: city\ndate: 2026-01-01\n---\n"
         "A review text long enough.\n"),
        ("privacy", "x.yaml", "assessor: A\nassessed: 2026-01-01\ndata_minimisation: met\n"
         "self_hosting: met\ndata_export: met\nno_trackers: met\n"),
    ],
)  # fmt: skip
def test_hostile_record_of_an_unknown_tool_names_the_file_the_field_and_the_id(
    portal: Path, collection: str, name: str, text: str
) -> None:
    path = portal / "tools-catalog" / collection / name
    front = text.startswith("---")
    path.write_text(
        ("---\ntool: no-such-tool\n" + text[4:]) if front else "tool: no-such-tool\n" + text
    )
    commit_all(portal, "A record about a tool the catalog does not have")
    relative = f"tools-catalog/{collection}/{name}"
    line = 1 if front else 0  # 0-based: the front matter's first field is the file's line 2
    assert errors_of(portal) == [[relative, line, "tool", "foreign-key"]]
    assert messages_of(portal) == [
        f'{relative}, line {line + 1}, field "tool": "no-such-tool" does not exist in '
        "tools-catalog/tools (tool); use a value that appears there, or add it there first"
    ]


def test_hostile_rating_out_of_range(portal: Path) -> None:
    review = portal / "tools-catalog/reviews/decidim-example-town-council.md"
    review.write_text(review.read_text().replace("deployment: 3", "deployment: 6"))
    path = "tools-catalog/reviews/decidim-example-town-council.md"
    assert errors_of(portal) == [[path, 5, "deployment", "constraint-error"]]
    assert messages_of(portal) == [
        f'{path}, line 6, field "deployment": "6" is above the maximum 5; use a value of at most 5'
    ]


def test_hostile_rating_that_is_not_a_whole_number(portal: Path) -> None:
    review = portal / "tools-catalog/reviews/ckan-example-civic-lab.md"
    review.write_text(review.read_text().replace("community: 4", "community: 4.5"))
    assert errors_of(portal) == [
        ["tools-catalog/reviews/ckan-example-civic-lab.md", 8, "community", "type-error"]
    ]


def test_hostile_missing_required_field(portal: Path) -> None:
    deployment = portal / "tools-catalog/deployments/decidim-helsinki.yaml"
    text = deployment.read_text()
    deployment.write_text(re.sub(r"(?m)^source: .*\n", "", text))
    path = "tools-catalog/deployments/decidim-helsinki.yaml"
    assert errors_of(portal) == [[path, None, "source", "constraint-error"]]
    assert messages_of(portal) == [
        f'{path}, field "source": this field is required but is empty; fill it in'
    ]


def test_hostile_country_that_is_not_an_iso_code(portal: Path) -> None:
    deployment = portal / "tools-catalog/deployments/decidim-barcelona.yaml"
    deployment.write_text(deployment.read_text().replace("country: ES", "country: Spain"))
    path = "tools-catalog/deployments/decidim-barcelona.yaml"
    assert errors_of(portal) == [[path, 2, "country", "constraint-error"]]
    assert (
        '"Spain" does not have the expected form; it must match [A-Z]{2}'
        in (messages_of(portal)[0])
    )


def test_hostile_country_code_no_one_knows(portal: Path) -> None:
    """A pattern lets XX through; the portal would show it as it is and no country filter
    would find it."""
    deployment = portal / "tools-catalog/deployments/decidim-barcelona.yaml"
    deployment.write_text(deployment.read_text().replace("country: ES", "country: XX"))
    path = "tools-catalog/deployments/decidim-barcelona.yaml"
    assert errors_of(portal) == [[path, 2, "country", "constraint-error"]]
    assert messages_of(portal) == [
        f'{path}, line 3, field "country": "XX" is not a country code; write its ISO code as '
        "the portal lists it, such as FR, ES or DE"
    ]


def test_hostile_codes_inside_a_providers_lists(portal: Path) -> None:
    """Items of a list are beyond a schema's pattern: each is checked, and each unknown one
    is named."""
    provider = portal / "tools-catalog/providers/ckan-civity.yaml"
    text = provider.read_text().replace("countries: [NL]", "countries: [NL, Holland]")
    provider.write_text(text.replace("languages: [nl, en]", "languages: [nl, dutch, zz]"))
    path = "tools-catalog/providers/ckan-civity.yaml"
    assert errors_of(portal) == [
        [path, 3, "countries", "constraint-error"],
        [path, 4, "languages", "constraint-error"],
        [path, 4, "languages", "constraint-error"],
    ]
    assert [m.split(": ", 1)[1] for m in messages_of(portal)] == [
        '"Holland" is not a country code; write its ISO code as the portal lists it, such as '
        "FR, ES or DE",
        '"dutch" is not a language code; write its ISO code as the portal lists it, such as '
        "es, en or ca",
        '"zz" is not a language code; write its ISO code as the portal lists it, such as '
        "es, en or ca",
    ]


def test_a_tools_own_languages_are_programming_languages() -> None:
    from civicgen.codes import code_errors

    tool = Record("tools-catalog/ckan.yaml", {"id": "ckan", "languages": ["Python"]})
    assert code_errors(None, tool) == []
    provider = Record(
        "p.yaml", {"tool": "ckan", "languages": ["ca", "eu", "gl"], "countries": ["ES"]}
    )
    assert code_errors(None, provider) == []


def test_hostile_privacy_answer_outside_the_checklist_values(portal: Path) -> None:
    """An unquoted yes is YAML's true: the allowed answers are words that YAML keeps as text."""
    assessment = portal / "tools-catalog/privacy/ckan.yaml"
    assessment.write_text(assessment.read_text().replace("self_hosting: met", "self_hosting: yes"))
    path = "tools-catalog/privacy/ckan.yaml"
    assert errors_of(portal) == [[path, 5, "self_hosting", "constraint-error"]]
    assert messages_of(portal)[0].endswith("use one of: met, partly, not-met, unknown")


def test_hostile_second_privacy_assessment_of_the_same_tool(portal: Path) -> None:
    source = portal / "tools-catalog/privacy/ckan.yaml"
    (portal / "tools-catalog/privacy/ckan-again.yaml").write_text(source.read_text())
    assert [e[2:] for e in errors_of(portal)] == [["tool", "unique-error"]]


def test_hostile_unknown_field_in_a_review(portal: Path) -> None:
    review = portal / "tools-catalog/reviews/ckan-example-civic-lab.md"
    review.write_text(review.read_text().replace("community: 4\n", "community: 4\nstars: 5\n"))
    assert errors_of(portal) == [
        ["tools-catalog/reviews/ckan-example-civic-lab.md", 9, "stars", "extra-cell"]
    ]


# --- statistics --------------------------------------------------------------------------------


def record(n: int, **values: object) -> Record:
    return Record(f"r/{n}.yaml", {"id": str(n), **values})


def test_ratings_give_count_mean_and_distribution_per_criterion() -> None:
    reviews = [
        record(1, tool="a", deployment=2, accessibility=5, illustrative=True),
        record(2, tool="a", deployment=4, accessibility=None),
        record(3, tool="a", deployment=4),
        record(4, tool="b", community=1),
    ]
    rows = ratings_table(reviews).records()
    assert [(r["tool"], r["criterion"]) for r in rows] == [
        ("a", "deployment"), ("a", "accessibility"), ("b", "community"),
    ]  # fmt: skip
    deployment = rows[0]
    assert (deployment["reviews"], deployment["mean"], deployment["illustrative"]) == (3, 3.33, 1)
    assert [deployment[f"rated_{s}"] for s in range(1, 6)] == [0, 1, 0, 2, 0]
    assert (rows[1]["reviews"], rows[1]["rated_5"]) == (1, 1)


def test_privacy_checklist_counts_the_questions_met() -> None:
    answers = {"data_minimisation": "met", "self_hosting": "met", "data_export": "partly"}
    rows = privacy_table([record(1, tool="a", **answers)]).records()
    assert rows == [
        {"tool": "a", "data_minimisation": "met", "self_hosting": "met", "data_export": "partly",
         "no_trackers": "unknown", "met": 2, "questions": 4, "illustrative": False}
    ]  # fmt: skip


def test_deployments_and_support_by_country_and_language() -> None:
    deployments = [
        record(1, tool="a", country="ES", since=2016),
        record(2, tool="a", country="ES", since=2015, until=2020),
        record(3, tool="a", country="FI"),
    ]
    assert deployments_table(deployments).rows == [["a", "ES", 2, 1], ["a", "FI", 1, 1]]
    providers = [record(1, tool="a", countries=["FR", "BE"], languages=["fr", "nl", "fr"])]
    assert support_table(providers).rows == [
        ["a", "country", "BE", 1], ["a", "country", "FR", 1],
        ["a", "language", "fr", 1], ["a", "language", "nl", 1],
    ]  # fmt: skip


def test_filter_values_leave_out_ended_deployments_and_step_privacy_levels() -> None:
    market = Market(
        records={
            "deployments": {"a": [record(1, country="ES"), record(2, country="PT", until=2020)]},
            "providers": {"a": [record(3, languages=["ca", "es"])]},
        },
        checklist={"a": {"tool": "a", "met": 3}, "b": {"tool": "b", "met": 0}},
    )
    assert filter_values(market, "a") == {
        "met": 3, "country": ["ES"], "support": ["ca", "es"], "privacy": ["1", "2", "3"],
    }  # fmt: skip
    assert filter_values(market, "b")["privacy"] == [] and filter_values(market, "b")["met"] == 0
    assert filter_values(market, "c")["met"] is None


def test_deployment_map_frames_the_points_and_merges_a_shared_place() -> None:
    drawn = deployment_map(
        [
            {"number": 1, "latitude": 50.85, "longitude": 4.35},
            {"number": 2, "latitude": 50.85, "longitude": 4.35},
            {"number": 3, "latitude": 60.17, "longitude": 24.94},
            {"number": 4, "latitude": None, "longitude": None},  # no place: in the table only
        ]
    )
    assert drawn is not None
    assert [p["label"] for p in drawn["points"]] == ["1,2", "3"]
    for point in drawn["points"]:
        assert drawn["x"] < point["x"] < drawn["x"] + drawn["width"]
        assert drawn["y"] < point["y"] < drawn["y"] + drawn["height"]
    assert drawn["width"] == 2 * drawn["height"] and drawn["x"] >= 0 and drawn["y"] >= 0
    assert deployment_map([{"number": 1}]) is None


def test_world_base_map_is_a_small_svg_of_every_country() -> None:
    svg = world_svg().decode()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 300">')
    assert svg.count("<path ") == 176 and len(svg) < 100_000
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # it loads nothing


# --- the pages ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """The example portal's generated pages, in English (no locale)."""
    outputs = render_site(make_env(), gather(validate([str(ROOT)])))
    return {o.uri: o.content for o in outputs if isinstance(o.content, str)}


def test_tool_page_shows_deployments_providers_ratings_and_privacy(pages: dict[str, str]) -> None:
    page = pages["tools/decidim.md"]
    deployments = [r for r in records_of("deployments") if r["tool"] == "decidim"]
    table = page.split('aria-label="Deployments"')[1].split("</table>")[0]
    assert table.count("<tr><td>") == len(deployments)
    for d in deployments:
        assert d["organisation"] in table
    assert '<image href="../../assets/civicgen/world.svg"' in page
    assert page.count('<circle cx="') == len(deployments)  # each in its own place
    providers = page.split('aria-label="Support providers"')[1].split("</table>")[0]
    assert re.findall(r"<tr><td>([^<]+)</td>", providers) == [
        "Finland",
        "France",
        "France",
        "Spain",
    ]
    ratings = page.split('aria-label="Ratings"')[1].split("</table>")[0]
    assert '<th scope="row">Ease of deployment</th><td>2.7 of 5</td><td>3</td>' in ratings
    assert ratings.count('class="civicgen-score"') == 4 * 5  # the distribution, never a bare mean
    privacy = page.split('aria-label="Privacy checklist"')[1].split("</table>")[0]
    assert re.findall(r'<th scope="row">([^<]+)</th>', privacy) == [
        "Data minimisation", "Self-hosting", "Export of personal data", "No third-party trackers",
    ]  # fmt: skip
    assert "2 of the 4 questions of the checklist met." in page
    assert page.count("Illustrative example") >= 4  # the reviews and the privacy assessment


def test_tool_page_without_records_invites_the_first_one(pages: dict[str, str]) -> None:
    page = pages["tools/loomio.md"]
    assert "No deployment is recorded yet." in page and "<svg" not in page
    assert "tools-catalog/deployments/loomio-your-city.yaml" in page
    assert "This tool has not been assessed against the privacy checklist yet." in page


def test_compare_page_has_a_column_per_tool(pages: dict[str, str]) -> None:
    page = pages["tools/compare.md"]
    tools = sorted(p.stem for p in CATALOG.glob("*.yaml"))
    assert sorted(re.findall(r'<th scope="col" data-tool="([a-z0-9-]+)">', page)) == tools
    assert page.count('<td data-tool="decidim">') == 8 + 4 + 1  # facts, criteria, privacy
    assert (
        '<form class="civicgen-compare" data-compare-for="compare-table" data-max="4" hidden>'
        in page
    )


def test_tool_list_items_carry_the_filter_values(pages: dict[str, str]) -> None:
    page = pages["tools/index.md"]
    item = re.search(r"<li data-filter-item[^>]*>\s*<h3><a href=\"[^\"]*\">Mastodon<", page)
    assert item is not None
    assert 'data-country=\'["BE", "NL"]\'' in item.group(0)
    assert 'data-privacy=\'["1", "2", "3", "4"]\'' in item.group(0)
    assert '<select id="filter-country" data-filter="country">' in page
    assert '<h2 id="privacy-checklist">' in page


def test_published_collections_and_their_derived_tables() -> None:
    outputs = {o.uri: o.content for o in render_site(make_env(), gather(validate([str(ROOT)])))}
    csv = outputs["datasets/tools-catalog/deployments.csv"]
    assert isinstance(csv, bytes)
    assert csv.decode().splitlines()[0] == (
        "id,tool,organisation,country,place,since,until,purpose,url,latitude,longitude,source,"
        "illustrative"
    )
    descriptor = json.loads(outputs["datasets/tools-catalog/datapackage.json"])
    assert [r["name"] for r in descriptor["resources"]] == ["tools", *COLLECTIONS]
    stats = [uri for uri in outputs if uri.startswith("datasets/tools-catalog/stats/")]
    assert any("ratings" in uri for uri in stats) and any(
        "privacy_checklist" in uri for uri in stats
    )


def test_built_portal_pages_in_both_languages(example_site: Path) -> None:
    english = (example_site / "en/tools/decidim/index.html").read_text("utf-8")
    assert "Who runs Decidim, where, since when and for what" in english
    spanish = (example_site / "tools/decidim/index.html").read_text("utf-8")
    assert "Quién usa Decidim, dónde, desde cuándo y para qué" in spanish
    assert "<td>Barcelona, España</td>" in spanish and "Ejemplo ilustrativo" in spanish
    assert (example_site / "assets/civicgen/world.svg").is_file()
    assert (example_site / "en/tools/compare/index.html").is_file()
    for page in ("tools/decidim", "tools/compare", "tools", "en/tools/compare"):
        assert (example_site / page / "index.html").stat().st_size < 500 * 1024


# --- in a real Chromium ------------------------------------------------------------------------

browser_only = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (CI installs it)"
)


@pytest.fixture(scope="module")
def served(example_site: Path):  # type: ignore[no-untyped-def]
    from test_portal_browser import serving

    with serving(example_site) as url:
        yield url + "en/"


def settle(locator, count: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the locator matches count elements (polled from Python: the page's
    Content-Security-Policy forbids the evaluated strings of page.wait_for_function)."""
    for _ in range(50):
        if locator.count() == count:
            return
        time.sleep(0.05)
    assert locator.count() == count


def visible_names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        t.locator("h3").inner_text()
        for t in page.locator("#tool-list > li").all()
        if t.is_visible()
    ]


def tool_names() -> dict[str, str]:
    return {p.stem: yaml.safe_load(p.read_text())["name"] for p in CATALOG.glob("*.yaml")}


@browser_only
@pytest.mark.browser
def test_tool_page_sections_in_the_browser(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(served + "tools/decidim/")
    for heading in ("Who uses it", "Support providers", "Funded improvements",
                    "Ratings and reviews", "Privacy checklist"):  # fmt: skip
        assert page.get_by_role("heading", name=heading, level=2).is_visible()
    deployments = [r for r in records_of("deployments") if r["tool"] == "decidim"]
    assert page.get_by_role("img", name="Map of where Decidim is used").is_visible()
    loaded = page.evaluate(
        "() => fetch(document.querySelector('figure svg image').href.baseVal ?? "
        "document.querySelector('figure svg image').getAttribute('href')).then(r => r.status)"
    )
    assert loaded == 200
    deployments_table = page.get_by_role("table", name=re.compile("Who runs Decidim"))
    assert deployments_table.locator("tbody tr").count() == len(deployments)
    ratings = page.get_by_role("table", name=re.compile("Ratings of Decidim"))
    assert ratings.locator("tbody tr").count() == 4
    assert ratings.locator("thead th").all_inner_texts()[-5:] == [f"Score {s}" for s in range(1, 6)]
    privacy = page.get_by_role("table", name="Privacy checklist of Decidim")
    assert privacy.locator("tbody tr").count() == 4
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    context.close()


@browser_only
@pytest.mark.browser
def test_comparison_shows_two_to_four_chosen_tools(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(served + "tools/compare/?tools=decidim,ckan")
    columns = page.locator("#compare-table thead th[data-tool]")
    shown = [c.get_attribute("data-tool") for c in columns.all() if c.is_visible()]
    assert sorted(shown) == ["ckan", "decidim"]
    status = page.locator("[data-compare-status='compare-table']")
    assert status.inner_text() == "Comparing 2 tools side by side."
    page.get_by_label("Consul Democracy", exact=True).check()
    page.get_by_label("FixMyStreet", exact=True).check()
    assert sum(c.is_visible() for c in columns.all()) == 4
    assert page.get_by_label("Mastodon", exact=True).is_disabled()  # four at most
    assert "the most at a time" in status.inner_text()
    assert "tools=" in page.url and "fixmystreet" in page.url  # the comparison can be shared
    cells = page.locator("#compare-table tbody tr").first.locator("td")
    assert sum(c.is_visible() for c in cells.all()) == 4
    page.get_by_role("button", name="Clear the choice").click()
    settle(page.locator("#compare-table [data-tool][hidden]"), 0)
    assert columns.count() == len(tool_names())
    context.close()


@browser_only
@pytest.mark.browser
def test_comparison_without_javascript_is_the_whole_table(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(served + "tools/compare/?tools=decidim,ckan")
    assert not page.locator("form.civicgen-compare").is_visible()
    columns = page.locator("#compare-table thead th[data-tool]")
    assert sum(c.is_visible() for c in columns.all()) == len(tool_names())
    context.close()


def expected_tools(check) -> list[str]:  # type: ignore[no-untyped-def]
    names = tool_names()
    return sorted(names[tool] for tool in names if check(tool))


@browser_only
@pytest.mark.browser
def test_each_marketplace_filter_narrows_the_list(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    deployments, providers = records_of("deployments"), records_of("providers")
    privacy = {r["tool"]: sum(r[q] == "met" for q in
               ("data_minimisation", "self_hosting", "data_export", "no_trackers"))
               for r in records_of("privacy")}  # fmt: skip
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(served + "tools/")
    total = len(tool_names())
    assert len(visible_names(page)) == total
    page.get_by_label("Deployed in", exact=True).select_option("FI")
    in_finland = expected_tools(
        lambda t: any(d["tool"] == t and d["country"] == "FI" and not d.get("until")
                      for d in deployments)
    )  # fmt: skip
    assert sorted(visible_names(page)) == in_finland and 0 < len(in_finland) < total
    page.get_by_role("button", name="Show all").click()
    settle(page.locator("#tool-list > li[hidden]"), 0)
    page.get_by_label("Support in the language", exact=True).select_option("fr")
    in_french = expected_tools(lambda t: any(p["tool"] == t and "fr" in p["languages"]
                                             for p in providers))  # fmt: skip
    assert sorted(visible_names(page)) == in_french and 0 < len(in_french) < total
    page.get_by_role("button", name="Show all").click()
    settle(page.locator("#tool-list > li[hidden]"), 0)
    select = page.get_by_label("Privacy checklist", exact=True)
    assert select.locator("option").all_inner_texts()[1] == "All 4 questions met"
    select.select_option("3")
    at_least_three = expected_tools(lambda t: privacy.get(t, 0) >= 3)
    assert sorted(visible_names(page)) == at_least_three and 0 < len(at_least_three) < total
    count = page.locator("[data-filter-count='tool-list']").inner_text()
    assert count == f"Showing {len(at_least_three)} of {total} tools."
    page.get_by_label("Deployed in", exact=True).select_option("BE")  # filters combine
    assert visible_names(page) == expected_tools(
        lambda t: (
            privacy.get(t, 0) >= 3
            and any(
                d["tool"] == t and d["country"] == "BE" and not d.get("until") for d in deployments
            )
        )
    )
    context.close()


MARKET_PAGES = ["tools/", "tools/compare/", "tools/decidim/", "tools/mastodon/", "tools/loomio/"]


@browser_only
@pytest.mark.browser
def test_marketplace_pages_have_no_axe_violations(browser, example_site: Path) -> None:  # type: ignore[no-untyped-def]
    from test_portal_browser import (
        PHONE,
        audit_pages,
        errors,
        other_hosts,
        serving,
        too_wide,
        violation_lines,
    )

    pages = (
        MARKET_PAGES + [f"en/{p}" for p in MARKET_PAGES] + ["en/tools/compare/?tools=decidim,ckan"]
    )
    with serving(example_site) as url:
        visits = audit_pages(browser, url, pages, 2, {}, PHONE)
    assert violation_lines(visits) == []
    assert errors(visits) == [] and other_hosts(visits) == [] and too_wide(visits) == []
