"""Questions to the council in a real headless Chromium: a budget line page of the example
city carries an "Ask about this" link whose address holds the line's title and text, and
shows the question answered about it; on a second city built for each forge, following the
link reaches that forge's new-issue form (a forge on 127.0.0.1) with the fields filled in."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_enquiries import EDUCATION, STREET_CLEANING, query_of, second_city
from test_portal_browser import (
    AXE_START,
    PHONE,
    STRUCTURE,
    WCAG,
    axe_source,
    needs_chromium,
    serving,
)

from civicgen.build import build_site

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def phone(browser):  # type: ignore[no-untyped-def]
    """A phone-sized tab with axe-core loaded into every page."""
    needs_chromium()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(script=axe_source())
    yield context.new_page()
    context.close()


def violations(tab) -> list[str]:  # type: ignore[no-untyped-def]
    tab.evaluate(AXE_START, [WCAG, STRUCTURE])
    found = tab.evaluate("() => window.civicgenAxe")
    return [f"{v['id']}: {n['target']}" for v in found for n in v["nodes"]]


def test_a_budget_line_page_asks_and_shows_its_answer(phone, example_site: Path) -> None:  # type: ignore[no-untyped-def]
    with serving(example_site) as served:
        phone.goto(served + "en/" + STREET_CLEANING.removesuffix("index.html"))
        link = phone.get_by_role("link", name="Ask about this", exact=True)
        assert link.is_visible()
        path, fields = query_of(str(link.get_attribute("href")))
        assert path == "/civicgen/portal/issues/new"
        assert fields["title"] == ["Question about 163 – LIMPIEZA VIARIA (2015)"]
        body = fields["body"][0]
        assert "- Functional classification: 1 Basic public services › 16 › 163" in body
        assert "- Year: 2015\n- Approved: €205,201,724\n" in body
        assert body.count("https://civicgen.example.org/en/budget/madrid-budget/functional/163/")
        answered = phone.locator("#enquiry-enq-2015-001")
        assert answered.is_visible()
        text = answered.inner_text()
        assert "Answered" in text and "after 30 days" in text
        assert "Almost all of the program pays for the street-cleaning contracts" in text
        assert violations(phone) == []
        width = phone.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1]


@pytest.mark.parametrize("page", ["enquiries/", "en/enquiries/"])
def test_the_questions_page_passes_axe_on_a_phone(phone, example_site: Path, page: str) -> None:  # type: ignore[no-untyped-def]
    with serving(example_site) as served:
        phone.goto(served + page)
        assert phone.locator("#enquiry-enq-2015-001").is_visible()
        assert violations(phone) == []
        width = phone.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1]


# --- following the link, on each forge --------------------------------------------------------


class ForgeForm(http.server.BaseHTTPRequestHandler):
    """A forge's new-issue form: notes every address asked for and shows a page."""

    asked: list[str]

    def do_GET(self) -> None:
        self.asked.append(self.path)
        page = b"<!doctype html><title>New issue</title><h1>New issue</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def forge_on_localhost() -> Iterator[tuple[str, list[str]]]:
    asked: list[str] = []
    handler = type("Form", (ForgeForm,), {"asked": asked})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("forge", "form", "title_key", "body_key"),
    [
        ("github", "/city/portal/issues/new", "title", "body"),
        ("gitlab", "/city/portal/-/issues/new", "issue[title]", "issue[description]"),
        ("forgejo", "/city/portal/issues/new", "title", "body"),
    ],
)
def test_following_the_link_opens_the_forges_filled_form(  # type: ignore[no-untyped-def]
    browser, tmp_path: Path, forge: str, form: str, title_key: str, body_key: str
) -> None:
    needs_chromium()
    with forge_on_localhost() as (address, asked):
        folder = second_city(tmp_path / "city", f"{address}/city/portal", forge)
        site = build_site(folder / "mkdocs.yml")
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        tab = context.new_page()
        with serving(site) as served:
            tab.goto(served + EDUCATION.removesuffix("index.html"))
            assert tab.locator("#enquiry-escolas").inner_text().count("Duas escolas")
            tab.get_by_role("link", name="Ask about this", exact=True).click()
            tab.wait_for_url(f"{address}/**")
            assert tab.locator("h1").inner_text() == "New issue"
        context.close()
    path, fields = query_of(asked[0])
    assert path == form and set(fields) == {title_key, body_key}
    assert fields[title_key] == ["Question about 12 Educação (2024)"]
    body = fields[body_key][0]
    assert "- Approved: R$\xa01.458.442.577\n- Modified: R$\xa01.565.699.189\n" in body
    assert "- Page: https://dados.cidade.example/budget/orcamento-despesas/funcional/12/" in body
