"""Search with Pagefind: built offline, byte-stable, per language, tables left out, in Chromium."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CHROMIUM, commit_all, make_portal, run_cli, watched_tab

from civicgen import csp
from civicgen.build import build_site
from civicgen.exceptions import BuildFault
from civicgen.search import index_site, language_roots

browser_test = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (CI installs it)",
)
TABLE_ONLY = "Zyxquorble"  # a word that appears in a table cell and nowhere else


@pytest.fixture(scope="module")
def site(example_site: Path) -> Path:
    return example_site  # the example city, built once (conftest)


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_the_index_replaces_mkdocs_search(site: Path) -> None:
    for root, language in ((site, "es"), (site / "en", "en")):  # Spanish at the root
        entry = json.loads((root / "pagefind/pagefind-entry.json").read_text())
        assert set(entry["languages"]) == {language}
        assert entry["languages"][language]["page_count"] > 40
    assert not (site / "search/search_index.json").exists()
    assert (site / "search/index.html").is_file() and (site / "pagefind/pagefind-ui.js").is_file()


def test_two_runs_write_the_same_bytes(site: Path, tmp_path: Path) -> None:
    again = tmp_path / "site"
    shutil.copytree(site, again)
    shutil.rmtree(again / "pagefind")
    index_site(again)
    assert files_of(again / "pagefind") == files_of(site / "pagefind")


def test_only_the_page_content_is_marked_for_the_index(site: Path) -> None:
    page = (site / "datasets/madrid-budget/index.html").read_text()
    body = page[page.index("data-pagefind-body") :]
    assert "<table" in body  # the preview is inside the content…
    assert page.index('class="md-header') < page.index("data-pagefind-body")  # …the header is not
    assert "data-pagefind-body" not in (site / "404.html").read_text()


def test_only_the_search_page_may_compile_webassembly(site: Path) -> None:
    def script_src(path: str) -> str:
        html = (site / path).read_text()
        return " ".join(csp_directives(html)["script-src"])

    assert "'wasm-unsafe-eval'" in script_src("search/index.html")
    assert "'wasm-unsafe-eval'" not in script_src("index.html")
    assert "'unsafe-eval'" not in script_src("search/index.html").replace("'wasm-unsafe-eval'", "")


def csp_directives(page: str) -> dict[str, list[str]]:
    start = page.index(csp.MARKER)
    content = page[start:].split('content="', 1)[1].split('"', 1)[0].replace("&#x27;", "'")
    return {d.split()[0]: d.split()[1:] for d in content.split("; ")}


def fake_site(root: Path, lang: str, title: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    page = (
        f'<!doctype html><html lang="{lang}"><head><title>{title}</title></head>'
        f"<body><div data-pagefind-body><h1>{title}</h1><p>{title} text</p></div></body></html>"
    )
    (root / "index.html").write_text(page)
    (root / "search").mkdir()
    (root / "search/index.html").write_text(page.replace("data-pagefind-body", "x"))


def test_each_language_root_gets_its_own_bundle(tmp_path: Path) -> None:
    fake_site(tmp_path, "es", "Presupuesto")
    fake_site(tmp_path / "en", "en", "Budget")
    fake_site(tmp_path / "datasets", "es", "Conjunto")  # a page, not a language root
    shutil.rmtree(tmp_path / "datasets/search")
    assert language_roots(tmp_path) == [tmp_path, tmp_path / "en"]
    index_site(tmp_path)
    root = json.loads((tmp_path / "pagefind/pagefind-entry.json").read_text())
    english = json.loads((tmp_path / "en/pagefind/pagefind-entry.json").read_text())
    assert {k: v["page_count"] for k, v in root["languages"].items()} == {"es": 2}
    assert {k: v["page_count"] for k, v in english["languages"].items()} == {"en": 1}


def test_hostile_pagefind_missing_stops_the_build(
    portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(portal / "no-such-pagefind"))
    with pytest.raises(BuildFault, match="search: Pagefind failed"):
        build_site(portal / "mkdocs.yml")
    assert not (portal / "site").exists()  # nothing half-built was published
    status, output = run_cli(portal, "build")
    assert status == 2 and "search: Pagefind failed" in output and "Traceback" not in output
    assert not (portal / "site").exists()


# --- in Chromium ---------------------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def plant_in_a_column_only_tables_show(portal: Path) -> None:
    """A `note` column on the stations, TABLE_ONLY in one row: only the preview shows it."""
    descriptor_path = portal / "datasets/air-quality/datapackage.json"
    descriptor = json.loads(descriptor_path.read_text())
    stations = next(r for r in descriptor["resources"] if r["name"] == "stations")
    stations["schema"]["fields"].append({"name": "note", "type": "string"})
    descriptor_path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False))
    table = portal / "datasets/air-quality/data/stations.csv"
    lines = table.read_text().splitlines()
    notes = ["note", TABLE_ONLY] + [""] * (len(lines) - 2)
    table.write_text("".join(f"{line},{note}\n" for line, note in zip(lines, notes, strict=True)))


@pytest.fixture(scope="module")
def spanish(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example city (Spanish at the root, html lang="es"), with a word only a table cell
    holds, and published under a sub-folder, as on a real host."""
    portal = make_portal(tmp_path_factory.mktemp("es") / "city")
    plant_in_a_column_only_tables_show(portal)
    commit_all(portal, "Spanish", when=1_700_000_100)
    host = tmp_path_factory.mktemp("host")
    build_site(portal / "mkdocs.yml", host / "portal")
    server, url = serve(host)
    yield url + "portal/"
    server.shutdown()


@pytest.fixture(scope="module")
def english(site: Path) -> Iterator[str]:
    server, url = serve(site)
    yield url + "en/"
    server.shutdown()


def search(tab, base: str, word: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Type the word slowly, as a person does, and read the result titles."""
    tab.goto(base + "search/", wait_until="networkidle")
    box = tab.get_by_role("searchbox").or_(tab.locator(".pagefind-ui__search-input")).first
    box.press_sequentially(word, delay=80)
    message = tab.locator(".pagefind-ui__message")
    message.filter(has_text=word).wait_for(timeout=15_000)
    tab.wait_for_function(
        "() => !document.querySelector('.pagefind-ui__message').textContent.includes('…')"
        " && !document.querySelector('.pagefind-ui__message').textContent.includes('...')",
        timeout=15_000,
    )
    tab.wait_for_timeout(300)
    return tab.locator(".pagefind-ui__result-link").all_inner_texts()


@pytest.fixture
def tab(browser):  # type: ignore[no-untyped-def]
    with watched_tab(browser, 375, 800) as page:
        yield page


@browser_test
def test_search_finds_a_dataset_a_tool_and_a_proposal(tab, english: str) -> None:  # type: ignore[no-untyped-def]
    assert "Air quality and noise sensors (synthetic example)" in search(tab, english, "sensors")
    assert "Decidim" in search(tab, english, "Decidim")
    assert "Decidim" in search(tab, english, "deliberations")  # stemmed: "deliberation"
    assert any("Pradolongo" in title for title in search(tab, english, "Pradolongo"))
    assert any("Alcalá" in title for title in search(tab, english, "Alcala"))  # accents folded
    snippet = tab.locator(".pagefind-ui__result-excerpt").first.inner_text()
    assert "Alcalá" in snippet and "|" not in snippet
    assert tab.problems == []


@browser_test
def test_spanish_search_folds_accents_and_stems(tab, spanish: str) -> None:  # type: ignore[no-untyped-def]
    assert tab.goto(spanish + "search/").ok
    assert tab.locator("html").get_attribute("lang") == "es"
    found = search(tab, spanish, "Alcala")
    assert any("Alcalá" in title for title in found)
    assert any("Alcalá" in title for title in search(tab, spanish, "alcalá"))
    assert any("Alcalá" in title for title in search(tab, spanish, "calles"))  # stem of calle
    result = tab.locator(".pagefind-ui__result-link", has_text="Alcalá").first
    link = result.get_attribute("href") or ""
    assert link.startswith("/portal/")  # results link under the folder the site is served from
    result.click()
    tab.wait_for_load_state()
    assert "Alcalá" in tab.locator("h1").first.inner_text()
    assert tab.problems == []


@browser_test
def test_hostile_table_cell_is_not_found(tab, spanish: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(spanish + "datasets/air-quality/", wait_until="networkidle")
    assert tab.locator("table td", has_text=TABLE_ONLY).count() >= 1  # it is on the page…
    assert search(tab, spanish, TABLE_ONLY) == []  # …but only in a table, so never found
    assert tab.problems == []
