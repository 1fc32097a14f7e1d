"""Every page carries a Content-Security-Policy: checked in the HTML, then in a real Chromium."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CHROMIUM

from civicgen import csp
from civicgen.build import build_site

POLICY = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')
INJECTED = "<script>window.__pwned = true</script>"


pytestmark = pytest.mark.one_language  # nothing here depends on the languages


def policy_of(page: str) -> dict[str, list[str]]:
    """The page's policy as directive → sources (quotes decoded)."""
    found = POLICY.search(page)
    assert found, "no Content-Security-Policy meta tag"
    content = found.group(1).replace("&quot;", '"').replace("&amp;", "&")
    directives = (d.split() for d in content.split(";") if d.strip())
    return {name: sources for name, *sources in directives}


@pytest.fixture(scope="module")
def site(example_site: Path) -> Path:
    return example_site  # the example city, built once (conftest)


# --- the policy in the HTML ----------------------------------------------------------------


def test_every_page_carries_a_policy_before_any_script(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 40
    for path in pages:
        page = path.read_text(encoding="utf-8")
        meta = page.index('http-equiv="Content-Security-Policy"')
        assert meta < page.index("<script"), path
        assert page.encode().index(b'<meta charset="utf-8">') < 1024, path  # encoding sniffed


def test_the_policy_allows_the_theme_scripts_by_hash_and_nothing_inline(site: Path) -> None:
    for path in sorted(site.rglob("*.html")):
        page = path.read_text(encoding="utf-8")
        policy = policy_of(page)
        scripts = policy["script-src"]
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, path
        assert "'unsafe-eval'" not in " ".join(sum(policy.values(), [])), path
        for script in csp.inline_scripts(page):
            assert csp.digest(script) in scripts, (path, script[:60])
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"] and policy["img-src"] == ["'self'", "data:"]


def test_inline_styles_are_allowed_by_hash_not_unsafe_inline(site: Path) -> None:
    page = (site / "datasets/madrid-budget/index.html").read_text(encoding="utf-8")
    styles = policy_of(page)["style-src"]
    assert "'unsafe-inline'" not in styles and "'unsafe-hashes'" in styles
    assert csp.digest("width: 34.6%") in styles  # a bar of the budget chart
    assert policy_of((site / "index.html").read_text())["style-src"] == ["'self'"]


def test_policy_goes_after_the_charset_and_before_the_first_script() -> None:
    page = '<!doctype html><html><HEAD><meta charset="utf-8"><SCRIPT type="x">a</SCRIPT></HEAD>'
    out = csp.with_policy(page)
    assert out.index("<meta charset") < out.index("Content-Security") < out.index("<SCRIPT")
    assert csp.digest("a") in out


def test_a_script_before_the_charset_still_comes_after_the_policy() -> None:
    out = csp.with_policy("<html><head><script>b</script><meta charset=utf-8></head>")
    assert out.index("Content-Security") < out.index("<script>")


def test_a_page_without_head_gets_the_policy_first() -> None:
    out = csp.with_policy("<p>hi</p><script>c</script>")
    assert out.lstrip().startswith('<meta http-equiv="Content-Security-Policy"')


def test_external_scripts_are_not_hashed_and_quotes_do_not_confuse_the_parser() -> None:
    page = '<head><script src="a.js"></script><script data-x="a>b">go()</script></head>'
    assert csp.inline_scripts(page) == ["go()"]


# --- hostile pages -------------------------------------------------------------------------


def test_hostile_script_in_markdown_gets_no_hash(portal: Path) -> None:
    about = portal / "content/about.md"
    about.write_text(about.read_text() + f"\n\n{INJECTED}\n", encoding="utf-8")
    site = build_site(portal / "mkdocs.yml")
    page = (site / "about/index.html").read_text(encoding="utf-8")
    assert INJECTED in page  # raw HTML in a maintainer's page is kept, but it cannot run:
    assert csp.digest("window.__pwned = true") not in policy_of(page)["script-src"]


def test_hostile_static_html_page_gets_a_policy_without_its_scripts(portal: Path) -> None:
    (portal / "content/static.html").write_text(
        f"<!doctype html><html><head><title>x</title>{INJECTED}</head><body></body></html>"
    )
    page = (build_site(portal / "mkdocs.yml") / "static.html").read_text()
    assert page.index("Content-Security-Policy") < page.index("<script>")
    assert policy_of(page)["script-src"] == ["'self'"]


def test_hostile_policy_in_markdown_cannot_loosen_the_page(portal: Path) -> None:
    about = portal / "content/about.md"
    loose = '<meta http-equiv="Content-Security-Policy" content="script-src \'unsafe-inline\'">'
    about.write_text(about.read_text() + f"\n\n{loose}\n{INJECTED}\n", encoding="utf-8")
    page = (build_site(portal / "mkdocs.yml") / "about/index.html").read_text()
    assert page.index("default-src 'self'") < page.index("'unsafe-inline'")  # ours comes first


# --- in a real browser ---------------------------------------------------------------------

browser_test = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (CI installs it)",
)
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


RECEIVED: list[str] = []  # what the other origin was asked for


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class CountingHandler(QuietHandler):
    def do_GET(self) -> None:
        RECEIVED.append(self.path)
        super().do_GET()

    def do_POST(self) -> None:
        RECEIVED.append(self.path)
        self.send_response(204)
        self.end_headers()


def serve(
    folder: Path, handler: type = QuietHandler
) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def inject(page: Path, target: Path, payload: str) -> None:
    """A copy of page with payload put in after the build, right after the policy."""
    html = page.read_text(encoding="utf-8")
    at = html.index(">", html.index("Content-Security-Policy")) + 1
    target.write_text(html[:at] + payload + html[at:], encoding="utf-8")


ELSEWHERE = {  # markup that would reach another host, and the directive that stops it
    "image": '<img src="{elsewhere}pixel.png" alt="">',
    "frame": '<iframe src="{elsewhere}frame.html"></iframe>',
    "stylesheet": '<link rel="stylesheet" href="{elsewhere}look.css">',
    "object": '<object data="{elsewhere}plugin.swf"></object>',
    "base": '<base href="{elsewhere}">',
    "form": '<form action="{elsewhere}steal" method="post"><button id="go">Go</button></form>',
}
BLOCKED_BY = {
    "image": "img-src",
    "frame": "frame-src",
    "stylesheet": "style-src-elem",
    "object": "object-src",
    "base": "base-uri",
    "form": "form-action",
}


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another origin (another port), serving a script that would set window.__pwned."""
    folder = tmp_path_factory.mktemp("elsewhere")
    (folder / "pwn.js").write_text("window.__pwned = true\n")
    server, url = serve(folder, CountingHandler)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def served(site: Path, elsewhere: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("served") / "site"
    shutil.copytree(site, folder)
    index = folder / "index.html"
    inject(index, folder / "hostile-inline.html", INJECTED)
    inject(
        index, folder / "hostile-handler.html", '<img src="data:," onerror="window.__pwned=true">'
    )
    inject(index, folder / "hostile-remote.html", f'<script src="{elsewhere}pwn.js"></script>')
    for name, payload in ELSEWHERE.items():
        inject(index, folder / f"hostile-{name}.html", payload.format(elsewhere=elsewhere))
    server, url = serve(folder)
    yield url
    server.shutdown()


@pytest.fixture
def tab(browser, served: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(WATCH)
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def violations(tab) -> list[str]:  # type: ignore[no-untyped-def]
    return list(tab.evaluate("window.__violations"))


@browser_test
def test_pages_load_with_no_violation_and_no_console_error(tab, served: str) -> None:  # type: ignore[no-untyped-def]
    for path in (
        "",
        "datasets/",
        "datasets/madrid-budget/",
        "datasets/air-quality/",
        "proposals/",
        "proposals/pb-2015-001/",
        "tools/decidim/",
        "404.html",
    ):
        tab.goto(served + path, wait_until="networkidle")
        assert tab.evaluate("document.body.dataset.mdColorScheme") == "default", path  # palette
        assert violations(tab) == [], path
    assert tab.problems == []


@browser_test
def test_charts_render_under_the_policy(tab, served: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(served + "datasets/madrid-budget/", wait_until="networkidle")
    widths = tab.eval_on_selector_all(
        ".civicgen-bar", "bars => bars.map(b => b.getBoundingClientRect().width)"
    )
    assert widths and max(widths) > 20  # the style attributes applied: the bars have widths
    assert len(set(widths)) > 5
    tab.goto(served + "datasets/air-quality/", wait_until="networkidle")
    assert tab.locator("svg circle").count() >= 6 and tab.locator("svg").first.is_visible()
    assert violations(tab) == [] and tab.problems == []


@browser_test
def test_search_works_under_the_policy(tab, served: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    tab.goto(served + "search/", wait_until="networkidle")
    box = tab.locator(".pagefind-ui__search-input")
    result = tab.locator(".pagefind-ui__result-link").first
    for _ in range(3):  # Pagefind loads its index in a web worker
        box.fill("")
        box.press_sequentially("Decidim", delay=50)
        try:
            result.wait_for(timeout=5000)
            break
        except PlaywrightTimeout:
            continue
    assert "Decidim" in result.inner_text()
    result.click()
    tab.wait_for_load_state("networkidle")
    assert violations(tab) == [] and tab.problems == []


@browser_test
def test_hostile_inline_script_injected_after_the_build_is_blocked(tab, served: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(served + "hostile-inline.html", wait_until="networkidle")
    assert tab.evaluate("window.__pwned === undefined")
    assert violations(tab) == ["script-src-elem inline"]
    assert tab.locator("h1").first.is_visible()  # the theme's own scripts still ran


@browser_test
def test_hostile_event_handler_is_blocked(tab, served: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(served + "hostile-handler.html", wait_until="networkidle")
    assert tab.evaluate("window.__pwned === undefined")
    assert violations(tab) == ["script-src-attr inline"]


@browser_test
def test_hostile_script_written_in_markdown_does_not_run(browser, portal: Path) -> None:  # type: ignore[no-untyped-def]
    about = portal / "content/about.md"
    about.write_text(about.read_text() + f"\n\n{INJECTED}\n", encoding="utf-8")
    server, url = serve(build_site(portal / "mkdocs.yml"))
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(WATCH)
    try:
        page.goto(url + "about/", wait_until="networkidle")
        assert page.evaluate("window.__pwned === undefined")
        assert violations(page) == ["script-src-elem inline"]
    finally:
        context.close()
        server.shutdown()


@browser_test
@pytest.mark.parametrize("name", sorted(ELSEWHERE))
def test_hostile_markup_reaching_another_host_is_blocked(tab, served: str, name: str) -> None:  # type: ignore[no-untyped-def]
    RECEIVED.clear()
    tab.goto(served + f"hostile-{name}.html", wait_until="networkidle")
    if name == "form":
        tab.locator("#go").click(no_wait_after=True)
        tab.wait_for_timeout(500)
    assert RECEIVED == []  # the browser never asked the other host
    assert {v.split()[0] for v in violations(tab)} == {BLOCKED_BY[name]}
    assert tab.evaluate("document.baseURI").startswith(served)


@browser_test
def test_hostile_script_from_another_host_is_never_fetched(
    tab, served: str, elsewhere: str
) -> None:  # type: ignore[no-untyped-def]
    RECEIVED.clear()
    tab.goto(served + "hostile-remote.html", wait_until="networkidle")
    assert RECEIVED == []  # the browser never asked the other host
    assert tab.evaluate("window.__pwned === undefined")
    assert violations(tab) == [f"script-src-elem {elsewhere}pwn.js"]


def test_the_preview_server_gets_no_policy() -> None:
    """`civicgen serve` injects an inline live-reload script, which a policy would block."""
    from civicgen.plugin import CivicgenPlugin

    plugin = CivicgenPlugin()
    plugin.load_config({})
    page = "<head><script>x()</script></head>"
    plugin.on_startup(command="build", dirty=False)
    assert "Content-Security-Policy" in plugin.on_post_template(
        page, template_name="404.html", config=None
    )  # type: ignore[arg-type]
    plugin.on_startup(command="serve", dirty=False)
    assert plugin.on_post_template(page, template_name="404.html", config=None) == page  # type: ignore[arg-type]
