"""Finding one's way in the portal: tables of contents on long generated pages, the header's
search box, and one copy of every download for all the languages."""

from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urljoin

import pytest
from conftest import CHROMIUM, watched_tab

from civicgen import csp
from civicgen.site.pages import Output
from civicgen.site.shared import one_copy
from civicgen.site.theme_assets import share_theme_assets
from civicgen.site.toc import toc_tokens

browser_test = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (CI installs it)",
)
LANGUAGES = {"": "es", "en/": "en"}  # the example city's language roots
ANCHORED = re.compile(r'<h([23])\b[^>]*\bid="([^"]+)"')
SIDEBAR = re.compile(
    r'<nav class="md-nav md-nav--secondary" aria-label="([^"]+)">(.*?)</nav>\s*</div>', re.S
)


# --- the table of contents ------------------------------------------------------------------


def test_toc_nests_h3_under_h2_and_escapes_names() -> None:
    page = (
        '<h1>T</h1><h2 id="a">A &amp; &lt;b&gt;</h2><h3 id="a-1">One</h3><h3>no id</h3>'
        '<h2 id="b">B</h2><h2>no id</h2>'
    )
    assert toc_tokens(page) == [
        {
            "level": 2,
            "id": "a",
            "name": "A &amp; &lt;b&gt;",
            "children": [{"level": 3, "id": "a-1", "name": "One", "children": []}],
        },
        {"level": 2, "id": "b", "name": "B", "children": []},
    ]


def test_a_short_page_gets_no_toc() -> None:
    assert toc_tokens('<h2 id="a">A</h2><h2 id="b">B</h2>') == []


def sidebar_links(page: str) -> tuple[str, list[str]]:
    """The label of the page's table of contents and the anchors it links, in order."""
    found = SIDEBAR.search(page)
    assert found, "no table of contents"
    return found.group(1), re.findall(r'class="md-nav__link"|href="#([^"]+)"', found.group(2))


@pytest.mark.parametrize("root", LANGUAGES)
def test_dataset_pages_list_their_sections(example_site: Path, root: str) -> None:
    pages = sorted((example_site / root / "datasets").glob("*/index.html"))
    assert len(pages) >= 4
    for path in pages:
        page = path.read_text(encoding="utf-8")
        label, links = sidebar_links(page)
        anchors = [a for a in links if a]
        content = page.split("data-pagefind-body", 1)[1]
        assert anchors == [m.group(2) for m in ANCHORED.finditer(content)], path
        assert {"downloads"} <= set(anchors), path
        for anchor in anchors:  # each link leads to a heading of the page
            assert f'id="{anchor}"' in content, (path, anchor)
        assert label == {"es": "Tabla de contenidos", "en": "Table of contents"}[LANGUAGES[root]]


def test_station_pages_list_their_sections(example_site: Path) -> None:
    pages = [p for p in (example_site / "air").rglob("index.html") if len(p.parts) > 3]
    long = [p for p in pages if len(ANCHORED.findall(p.read_text(encoding="utf-8"))) >= 3]
    assert long
    for path in long:
        assert len([a for a in sidebar_links(path.read_text(encoding="utf-8"))[1] if a]) >= 3


# --- one copy of every download -------------------------------------------------------------


def test_other_languages_link_the_roots_downloads() -> None:
    outputs = [
        Output("datasets/x/index.md", '<a href="datapackage.json">d</a> <a href="../y/">y</a>'),
        Output("air/x/s/pm25/index.md", '<a href="../../../../datasets/x/stats/a%20b.csv">a</a>'),
        Output("datasets/x/datapackage.json", b"{}"),
        Output("datasets/x/stats/a b.csv", b"1"),
        Output("assets/javascripts/civicgen-search.js", b""),
    ]
    english = {o.uri: o.content for o in one_copy(outputs, "en")}
    assert english == {
        "datasets/x/index.md": '<a href="../../../datasets/x/datapackage.json">d</a> '
        '<a href="../y/">y</a>',
        "air/x/s/pm25/index.md": '<a href="../../../../../datasets/x/stats/a%20b.csv">a</a>',
        "assets/javascripts/civicgen-search.js": b"",
    }
    plain = {o.uri: o.content for o in one_copy(outputs, "en", directory_urls=False)}
    assert plain["datasets/x/index.md"].startswith('<a href="../../../datasets/x/datapackage.json"')


def test_no_download_is_stored_twice(example_site: Path) -> None:
    """Every file of en/ with an identical twin at the root is an error, the theme's assets
    too, except pages and each language's own search index."""
    twins = [
        path.relative_to(example_site).as_posix()
        for path in sorted((example_site / "en").rglob("*"))
        if path.is_file()
        and path.suffix != ".html"
        and path.relative_to(example_site / "en").parts[0] != "pagefind"
        and (example_site / path.relative_to(example_site / "en")).is_file()
        and (example_site / path.relative_to(example_site / "en")).read_bytes() == path.read_bytes()
    ]
    assert twins == []
    assert not (example_site / "en/datasets/madrid-budget/datapackage.json").exists()
    assert (example_site / "datasets/madrid-budget/datapackage.json").is_file()


def download_links(page: Path) -> list[str]:
    links = re.findall(r'href="([^"#?]+)"', page.read_text(encoding="utf-8"))
    return [unquote(link) for link in links if link.endswith((".csv", ".json"))]


def test_english_dataset_pages_download_from_the_root(example_site: Path, hosted: str) -> None:
    pages = sorted((example_site / "en/datasets").glob("*/index.html"))
    fetched = 0
    for path in pages:
        base = urljoin(hosted, path.parent.relative_to(example_site).as_posix() + "/")
        for link in download_links(path):
            url = urljoin(base, link)
            assert "/en/" not in url, url  # the root's copy
            with urllib.request.urlopen(url, timeout=30) as answer:
                assert answer.status == 200, url
            fetched += 1
    assert fetched >= 10


def test_every_english_link_to_a_file_resolves(example_site: Path) -> None:
    broken = [
        (page.relative_to(example_site).as_posix(), link)
        for page in sorted((example_site / "en").rglob("*.html"))
        for link in download_links(page)
        if not re.match(r"^[a-z]+:|^/", link) and not (page.parent / link).resolve().is_file()
    ]
    assert broken == []


QUOTED_ASSET = re.compile(r"""["']([^"'\s<>]*\bassets/[^"'\s<>#?]*)""")


def test_every_english_address_of_a_theme_asset_resolves(example_site: Path) -> None:
    """Stylesheets, scripts, icons and the search worker's address in the theme's settings:
    each leads to a file, the root's copy (en/ keeps none of its own)."""
    addresses, broken = 0, []
    for page in sorted((example_site / "en").rglob("*.html")):
        for address in QUOTED_ASSET.findall(page.read_text(encoding="utf-8")):
            target = (
                example_site / address[1:] if address.startswith("/") else page.parent / address
            )
            addresses += 1
            if not target.resolve().is_file() or "en/assets" in target.resolve().as_posix():
                broken.append((page.relative_to(example_site).as_posix(), address))
    assert addresses > 1000 and broken == []
    assert not (example_site / "en/assets").exists()


def test_a_languages_own_asset_stays_with_its_links(tmp_path: Path) -> None:
    """Only files with the root's bytes go; a language's own file and the links to it stay,
    and so does a page's own assets/ folder further down."""
    files = {
        "assets/a.css": "a", "assets/b.css": "root's b",
        "en/assets/a.css": "a", "en/assets/b.css": "english b", "en/assets/c.css": "c",
        "en/index.html": '<link href="assets/a.css"><link href="assets/b.css"><script>'
        '{"search": "assets/a.css"}</script><img src="assets/c.css">',
        "en/x/y/index.html": '<link href="../../assets/a.css"><img src="assets/a.css">',
        "en/404.html": '<link href="/portal/en/assets/a.css"><link href="/portal/en/assets/b.css">',
    }  # fmt: skip
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert share_theme_assets(tmp_path, "en", "/portal/") == 1
    read = {name: (tmp_path / name).read_text(encoding="utf-8") for name in files if
            (tmp_path / name).exists()}  # fmt: skip
    assert "en/assets/a.css" not in read and read["en/assets/b.css"] == "english b"
    assert read["en/index.html"] == (
        '<link href="../assets/a.css"><link href="assets/b.css"><script>'
        '{"search": "../assets/a.css"}</script><img src="assets/c.css">'
    )
    settings = '<script type="application/json">{"search": "../../assets/a.css"}</script>'
    policy = f'<meta content="script-src {csp.digest(settings[32:-9])}">'
    (tmp_path / "en/x/y/index.html").write_text(policy + settings, encoding="utf-8")
    (tmp_path / "en/assets/a.css").write_text("a", encoding="utf-8")
    share_theme_assets(tmp_path, "en", "/portal/")  # the theme's settings keep their trust
    relinked = settings.replace("../../assets", "../../../assets")
    assert (tmp_path / "en/x/y/index.html").read_text(encoding="utf-8") == (
        f'<meta content="script-src {csp.digest(relinked[32:-9])}">' + relinked
    )
    assert (
        read["en/x/y/index.html"] == '<link href="../../../assets/a.css"><img src="assets/a.css">'
    )
    assert read["en/404.html"] == (
        '<link href="/portal/assets/a.css"><link href="/portal/en/assets/b.css">'
    )


# --- the header's search box ----------------------------------------------------------------


HEADER_FORM = re.compile(r'<form class="md-header__option civicgen-header-search"[^>]*>')


@pytest.mark.parametrize("root", LANGUAGES)
def test_header_search_goes_to_the_languages_search_page(example_site: Path, root: str) -> None:
    for page in ("", "datasets/", "datasets/madrid-budget/", "proposals/"):
        path = example_site / root / page / "index.html"
        text = path.read_text(encoding="utf-8")
        form = HEADER_FORM.search(text)
        assert form, path
        action = re.search(r'action="([^"]+)"', form.group(0)).group(1)  # type: ignore[union-attr]
        target = (path.parent / action / "index.html").resolve()
        assert target == (example_site / root / "search/index.html").resolve(), path
        assert 'method="get"' in form.group(0) and 'role="search"' in form.group(0)
        assert 'name="q"' in text.split(form.group(0), 1)[1].split("</form>", 1)[0]
        assert "form-action 'self'" in text


@pytest.fixture
def tab(browser):  # type: ignore[no-untyped-def]
    with watched_tab(browser, 1280, 900) as page:
        yield page


@browser_test
@pytest.mark.browser
@pytest.mark.parametrize(
    ("root", "word", "expected"), [("en/", "budget", "budget"), ("", "presupuesto", "presupuesto")]
)
def test_typing_in_the_header_finds_pages(
    tab, hosted: str, root: str, word: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    tab.goto(hosted + root + "datasets/madrid-budget/", wait_until="networkidle")
    box = tab.locator("#civicgen-header-q")
    box.press_sequentially(word, delay=40)
    box.press("Enter")
    tab.wait_for_url(f"**/{root}search/?q={word}", timeout=15_000)
    assert tab.locator("html").get_attribute("lang") == LANGUAGES[root]
    tab.locator(".pagefind-ui__result-link").first.wait_for(timeout=20_000)
    results = tab.locator(".pagefind-ui__result").all_inner_texts()
    assert any(expected in r.lower() for r in results), results
    assert tab.locator(".pagefind-ui__search-input").input_value() == word
    assert tab.problems == []


@browser_test
@pytest.mark.browser
def test_header_search_on_a_phone_opens_the_search_page(browser, hosted: str) -> None:  # type: ignore[no-untyped-def]
    phone = browser.new_context(viewport={"width": 375, "height": 812})
    page = phone.new_page()
    page.goto(hosted + "en/datasets/madrid-budget/", wait_until="networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    phone.close()
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=False)
    page = context.new_page()
    page.goto(hosted + "en/datasets/", wait_until="load")
    page.get_by_role("search", name="Search").get_by_role("button", name="Search").click()
    page.wait_for_url("**/en/search/?q=", timeout=15_000)
    assert page.locator("#civicgen-search-fallback").is_visible()  # no script: the fallback text
    context.close()
