"""The built portal in a real headless Chromium: it renders, searches, and calls no other host."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CHROMIUM, serving

pytestmark = pytest.mark.browser
if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (CI installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def served(example_site: Path) -> Iterator[str]:
    with serving(example_site) as url:
        yield url


@pytest.fixture
def page(browser, served: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.elsewhere = []
    tab.on(
        "request",
        lambda r: (
            None if r.url.startswith((served, "data:", "blob:")) else tab.elsewhere.append(r.url)
        ),
    )
    yield tab
    context.close()


def test_pages_render_and_call_no_other_host(page, served: str) -> None:  # type: ignore[no-untyped-def]
    for path in (
        "",
        "datasets/",
        "datasets/madrid-budget/",
        "proposals/",
        "proposals/pb-2015-001/",
        "tools/",
        "tools/decidim/",
        "datasets/air-quality/",
    ):
        response = page.goto(served + path, wait_until="networkidle")
        assert response.status == 200, path
        assert page.locator("h1").first.is_visible()
    assert page.elsewhere == []


def test_budget_page_shows_schema_and_preview(page, served: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served + "datasets/madrid-budget/")
    assert page.locator("h1").first.inner_text().startswith("Madrid municipal budget")
    assert page.get_by_role("table", name="Campos de Expenditure budget lines").is_visible()
    first_row = (
        page.get_by_role("table", name="Primeras filas de Expenditure budget lines")
        .locator("tbody tr")
        .first
    )
    assert "SUELDOS DEL GRUPO A1" in first_row.inner_text()


def test_search_finds_a_tool(page, served: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(served + "search/", wait_until="networkidle")
    box = page.locator(".pagefind-ui__search-input")
    result = page.locator(".pagefind-ui__result-link").first
    # Pagefind loads its index in a web worker; type again if the first query was early.
    for _ in range(3):
        box.fill("")
        box.press_sequentially("Decidim", delay=50)
        try:
            result.wait_for(timeout=5000)
            break
        except PlaywrightTimeout:
            continue
    assert "Decidim" in result.inner_text()


def test_proposals_table_on_a_phone(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    tab.goto(served + "proposals/")
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # the wide table scrolls inside its own region, not the page
    assert tab.locator("#proposal-list").is_visible()  # a list of cards, not a wide table
    context.close()


# --- the city's languages: Spanish at the root, English at /en/ -------------------------------


def test_spanish_page_in_spanish_with_spanish_numbers(page, served: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served + "datasets/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").first.inner_text() == "Conjuntos de datos"
    budget = page.locator(".civicgen-cards li", has_text="Madrid municipal budget")
    assert re.search(r"\b\d{1,3}(\.\d{3})+ filas\b", budget.inner_text())  # 10.468 filas
    page.goto(served + "en/datasets/")
    assert page.locator("html").get_attribute("lang") == "en"
    budget = page.locator(".civicgen-cards li", has_text="Madrid municipal budget")
    assert re.search(r"\b\d{1,3}(,\d{3})+ rows\b", budget.inner_text())  # 10,468 rows


def switch_to(page, lang: str) -> None:  # type: ignore[no-untyped-def]
    """Open the header's language menu and choose lang, as a person does with a mouse."""
    page.locator(".md-header__option .md-select").hover()
    page.locator(f'.md-select__list a[hreflang="{lang}"]').click()
    page.wait_for_load_state("load")


def test_language_switch_stays_on_the_same_page(page, served: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served + "datasets/madrid-budget/", wait_until="networkidle")
    switch_to(page, "en")
    page.wait_for_url(served + "en/datasets/madrid-budget/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Downloads").is_visible()
    switch_to(page, "es")
    page.wait_for_url(served + "datasets/madrid-budget/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Descargas").is_visible()
    assert page.elsewhere == []


def test_language_switch_on_a_content_page(page, served: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served + "en/contributing/", wait_until="networkidle")
    link = page.locator('.md-select__list a[hreflang="es"]')
    assert (
        link.get_attribute("href") == "../../contributing/" and link.get_attribute("lang") == "es"
    )
    switch_to(page, "es")
    page.wait_for_url(served + "contributing/")
    assert page.locator("h1").first.inner_text().startswith("Cómo participar")
