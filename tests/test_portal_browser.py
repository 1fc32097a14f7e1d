"""Every page of the built portal, as a person on a phone gets it, in a real headless Chromium.

The example portal is built once; every HTML page found in the site folder is opened at
375 px and must show no console error, ask no host but 127.0.0.1, pass axe-core's WCAG
2.0/2.1 A and AA rules and scroll no sideways. One page of each kind is photographed at
375 and 1280 px into $CIVICGEN_ARTIFACTS (a temporary folder if unset).

Run it on some pages only with a glob on the site path, for example
``CIVICGEN_PAGES='proposals/*' python -m pytest tests/test_portal_browser.py``.
"""

from __future__ import annotations

import fnmatch
import functools
import http.server
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import CHROMIUM, ROOT

from civicgen.build import build_site

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MAX_PAGE_BYTES = 500 * 1024
NOT_PAGES = ("assets/", "search/", "pagefind/", "_pagefind/")  # the theme's and search's own


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


# --- the site and its pages (no browser needed) ---------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example portal, built once for this module."""
    return build_site(ROOT / "mkdocs.yml", tmp_path_factory.mktemp("portal") / "site")


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the built site as a path under its root ('' is the home page)."""
    wanted = os.environ.get("CIVICGEN_PAGES", "*")
    pages = []
    for file in sorted(site.rglob("*.html")):
        relative = file.relative_to(site).as_posix()
        if relative.startswith(NOT_PAGES):
            continue
        path = relative.removesuffix("index.html")
        if fnmatch.fnmatch(path, wanted) or fnmatch.fnmatch(path.rstrip("/"), wanted):
            pages.append(path)
    return pages


def html_file(site: Path, path: str) -> Path:
    """The built file of a page path."""
    return site / path / "index.html" if path.endswith("/") or not path else site / path


def page_kind(path: str) -> str:
    """The kind of page: its path with every folder after the first replaced by '*'."""
    parts = path.rstrip("/").split("/") if path else []
    if not parts:
        return "home"
    return "/".join(parts[:1] + ["*"] * (len(parts) - 1))


class References(HTMLParser):
    """The files a page loads itself: stylesheets, scripts, images and icons (not links)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and {"stylesheet", "icon", "preload"} & set(a.get("rel", "").split()):
            self.urls.append(a.get("href", ""))
        elif tag in ("script", "img", "source", "video", "audio", "iframe", "embed"):
            self.urls.append(a.get("src", ""))
            self.urls += [c.split()[0] for c in a.get("srcset", "").split(",") if c.strip()]
        elif tag == "object":
            self.urls.append(a.get("data", ""))


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


def local_file(base: Path, url: str, site: Path) -> Path | None:
    """The built file a relative URL names, or None for data:, fragments and other hosts."""
    parts = urlsplit(url)
    if not url or parts.scheme or parts.netloc or not parts.path:
        return None
    target = (base.parent / unquote(parts.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_relative_to(site.resolve()) else None


def page_weight(site: Path, html_file: Path) -> dict[str, int]:
    """Bytes of a page and of every file it loads (and its stylesheets load), by file."""
    parser = References()
    parser.feed(html_file.read_text("utf-8"))
    weights = {html_file.relative_to(site).as_posix(): html_file.stat().st_size}
    for url in parser.urls:
        target = local_file(html_file, url, site)
        if target is None or not target.is_file():
            continue
        weights[target.relative_to(site.resolve()).as_posix()] = target.stat().st_size
        if target.suffix == ".css":
            for inner in CSS_URL.findall(target.read_text("utf-8")):
                found = local_file(target, inner, site)
                if found is not None and found.is_file():
                    weights[found.relative_to(site.resolve()).as_posix()] = found.stat().st_size
    return weights


def test_site_pages_found(site: Path) -> None:
    """The walk finds the generated pages, so the checks below look at every one of them."""
    pages = site_pages(site)
    if "CIVICGEN_PAGES" not in os.environ:
        assert {"", "proposals/", "tools/", "datasets/"} <= set(pages)
        assert any(p.startswith("proposals/") and p != "proposals/" for p in pages)
    assert not any(p.startswith(NOT_PAGES) for p in pages)


def test_no_page_weighs_over_500_kb(site: Path) -> None:
    heavy = []
    for path in site_pages(site):
        weights = page_weight(site, html_file(site, path))
        total = sum(weights.values())
        if total > MAX_PAGE_BYTES:
            biggest = sorted(weights.items(), key=lambda kv: -kv[1])[:5]
            heavy.append(f"/{path}: {total // 1024} KB ({', '.join(f'{k} {v // 1024} KB' for k, v in biggest)})")
    assert not heavy, "pages over 500 KB with what they load:\n" + "\n".join(heavy)


def test_page_weight_counts_what_a_page_loads(tmp_path: Path) -> None:
    """The weight check is able to fail: a stylesheet's font and an image count, a link does not."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "s.css").write_text("@font-face{src:url('f.woff2')}", "utf-8")
    (tmp_path / "a" / "f.woff2").write_bytes(b"x" * 300_000)
    (tmp_path / "big.png").write_bytes(b"x" * 300_000)
    (tmp_path / "data.csv").write_bytes(b"x" * 900_000)
    page = tmp_path / "index.html"
    page.write_text(
        '<link rel="stylesheet" href="a/s.css"><img src="big.png" alt="">'
        '<a href="data.csv">download</a><img src="https://elsewhere.example/x.png" alt="">',
        "utf-8",
    )
    weights = page_weight(tmp_path, page)
    assert set(weights) == {"index.html", "a/s.css", "a/f.woff2", "big.png"}
    assert sum(weights.values()) > MAX_PAGE_BYTES


# --- every page in Chromium at 375 px --------------------------------------------------------


@dataclass
class Visit:
    """What one page showed a phone."""

    path: str
    status: int = 0
    console: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)
    scroll_width: int = 0
    inner_width: int = 0


@dataclass
class Audit:
    visits: list[Visit]
    seconds: float
    screenshots: Path


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def artifacts_folder() -> Path:
    folder = os.environ.get("CIVICGEN_ARTIFACTS") or tempfile.mkdtemp(prefix="civicgen-artifacts-")
    path = Path(folder) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


AXE_RUN = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary || ''}))}));
}"""


def visit(tab, served: str, path: str, axe: str) -> Visit:  # type: ignore[no-untyped-def]
    seen = Visit(path)
    tab.current = seen
    response = tab.goto(served + path, wait_until="load")
    seen.status = response.status if response else 0
    tab.evaluate(axe)
    seen.violations = tab.evaluate(AXE_RUN, WCAG)
    seen.scroll_width, seen.inner_width = tab.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    return seen


def phone_tab(browser, served: str):  # type: ignore[no-untyped-def]
    """A phone-sized tab that notes console errors and requests to other hosts."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.current = Visit("")
    local = (served, "data:", "blob:")
    tab.on("console", lambda m: m.type == "error" and tab.current.console.append(m.text))
    tab.on("pageerror", lambda e: tab.current.console.append(f"uncaught: {e}"))
    tab.on("request", lambda r: r.url.startswith(local) or tab.current.elsewhere.append(r.url))
    return context, tab


def photograph(browser, served: str, pages: list[str], folder: Path) -> None:  # type: ignore[no-untyped-def]
    """One page of each kind at 375 and 1280 px, whole length."""
    first = {}
    for path in pages:
        first.setdefault(page_kind(path), path)
    for name, viewport in (("375", PHONE), ("1280", DESKTOP)):
        context = browser.new_context(viewport=viewport)
        tab = context.new_page()
        for kind, path in first.items():
            tab.goto(served + path, wait_until="load")
            slug = re.sub(r"[^a-z0-9]+", "-", kind.replace("*", "x").lower()).strip("-")
            tab.screenshot(path=str(folder / f"{slug}-{name}.png"), full_page=True)
        context.close()


@pytest.fixture(scope="module")
def audit(browser, site: Path, served: str) -> Audit:  # type: ignore[no-untyped-def]
    """Every page opened once at 375 px and checked; then one of each kind photographed."""
    if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (CI installs it)")
    pages = site_pages(site)
    axe = axe_source()
    context, tab = phone_tab(browser, served)
    start = time.perf_counter()
    visits = [visit(tab, served, path, axe) for path in pages]
    seconds = time.perf_counter() - start
    context.close()
    folder = artifacts_folder()
    photograph(browser, served, pages, folder)
    print(f"\n{len(visits)} pages in {seconds:.1f} s ({seconds / max(len(visits), 1):.2f} s a page)")
    return Audit(visits, seconds, folder)


def listing(lines: list[str], what: str) -> str:
    return f"{len(lines)} {what}:\n" + "\n".join(lines)


@pytest.mark.browser
def test_every_page_loads_without_console_error(audit: Audit) -> None:
    problems = [f"/{v.path}: HTTP {v.status}" for v in audit.visits if v.status != 200]
    problems += [f"/{v.path}: {m}" for v in audit.visits for m in v.console]
    assert not problems, listing(problems, "pages with errors")


@pytest.mark.browser
def test_every_page_asks_no_other_host(audit: Audit) -> None:
    problems = [f"/{v.path}: {url}" for v in audit.visits for url in v.elsewhere]
    assert not problems, listing(problems, "requests to another host")


def violation_lines(visits: list[Visit]) -> list[str]:
    """One line per page, rule and element: page, rule id, impact, target, why."""
    lines = []
    for v in visits:
        for rule in v.violations:
            for node in rule["nodes"]:
                why = " ".join(node["summary"].split())[:200]
                lines.append(f"/{v.path}  {rule['id']} ({rule['impact']})  {node['target']}  — {why}")
    return lines


@pytest.mark.browser
def test_every_page_passes_axe_wcag_a_and_aa(audit: Audit) -> None:
    lines = violation_lines(audit.visits)
    assert not lines, listing(lines, "axe-core WCAG 2.0/2.1 A and AA violations")


@pytest.mark.browser
def test_no_page_scrolls_sideways_on_a_phone(audit: Audit) -> None:
    wide = [
        f"/{v.path}: {v.scroll_width} px wide in a {v.inner_width} px window"
        for v in audit.visits
        if v.scroll_width > v.inner_width
    ]
    assert not wide, listing(wide, "pages wider than the phone")


@pytest.mark.browser
def test_one_screenshot_per_kind_of_page(audit: Audit) -> None:
    kinds = {page_kind(v.path) for v in audit.visits}
    shots = sorted(p.name for p in audit.screenshots.glob("*.png"))
    assert len(shots) >= 2 * len(kinds), shots
