"""A generated page's sections on a phone: mkdocs-material shows the table of contents in a
sidebar from 960 px only, and in the navigation drawer only under a page's own entry, which
a dataset, station or budget page does not have; civicgen's fold under the title lists them."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import CHROMIUM, watched_tab

DATASET = "datasets/air-quality/index.html"
FOLD = re.compile(r'<details class="civicgen-phone-toc">(.*?)</details>', re.S)
SIDEBAR = re.compile(r'<nav class="md-nav md-nav--secondary"[^>]*>(.*?)</nav>\s*</div>', re.S)

browser_test = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (CI installs it)",
)


@pytest.mark.parametrize(
    ("root", "label"), [("", "Tabla de contenidos"), ("en/", "Table of contents")]
)
def test_the_fold_lists_what_the_sidebar_lists(example_site: Path, root: str, label: str) -> None:
    page = (example_site / root / DATASET).read_text(encoding="utf-8")
    [fold] = FOLD.findall(page)
    sidebar = SIDEBAR.search(page)
    assert sidebar is not None
    anchors = re.findall(r'href="(#[^"]+)"', fold)
    assert anchors and anchors == re.findall(r'href="(#[^"]+)"', sidebar.group(1))
    assert f"<summary>{label}</summary>" in fold and f'aria-label="{label}"' in fold
    assert page.index("</h1>") < page.index("civicgen-phone-toc")  # under the title


def test_pages_in_the_navigation_have_no_fold(example_site: Path) -> None:
    """The drawer lists their sections already (about is in the navigation)."""
    assert "civicgen-phone-toc" not in (example_site / "about/index.html").read_text("utf-8")


@browser_test
@pytest.mark.browser
@pytest.mark.parametrize(("width", "fold_shown"), [(375, True), (1280, False)])
def test_on_a_phone_the_fold_opens_and_leads_to_a_section(
    browser: object, hosted: str, width: int, fold_shown: bool
) -> None:
    with watched_tab(browser, width, 800) as tab:
        tab.goto(hosted + DATASET)
        fold = tab.locator("details.civicgen-phone-toc")
        assert fold.is_visible() == fold_shown
        sidebar_shown = tab.locator("nav.md-nav--secondary").first.is_visible()
        assert sidebar_shown != fold_shown  # one of the two, never both or neither
        if fold_shown:
            fold.locator("summary").click()
            link = fold.locator("a").last
            target = link.get_attribute("href")
            link.click()
            assert tab.url.endswith(target)
            assert tab.locator(target).is_visible()
        assert tab.problems == []
