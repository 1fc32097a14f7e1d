"""Every page of the built portal, as a person on a phone gets it, in a real headless Chromium.

The example portal is built once; every HTML page found in the site folder, in every
language, is opened at 375 px and must show no console error, ask no host but 127.0.0.1,
pass axe-core's WCAG 2.0/2.1 A and AA rules (and a few structural ones: one h1, headings in
order, landmarks) and not scroll sideways. The colour-contrast rule, two thirds of axe's
time, runs on six pages of each kind spread over it, on more until every class name, inline
style and SVG colour of the kind has been on one, and on every page photographed: colours
come from the theme through those, not from the text of the data. No page may weigh over
500 KB with what it loads. One page of each kind is photographed at 375 and 1280 px into $CIVICGEN_ARTIFACTS/screenshots (a temporary folder
if unset), with audit.txt: seconds and violations per page.

Some pages only: a glob on the page's path in the site, for example
``CIVICGEN_PAGES='proposals/*' python -m pytest tests/test_portal_browser.py``.
Tabs working at once: CIVICGEN_BROWSER_TABS (2).
"""

from __future__ import annotations

import collections
import csv
import fnmatch
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import CHROMIUM, ROOT, serving

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
STRUCTURE = [  # axe "best practices" that our page contract asks for too
    "page-has-heading-one",
    "heading-order",
    "empty-heading",
    "landmark-one-main",
    "landmark-no-duplicate-main",
    "landmark-unique",
    "region",
]
MAX_PAGE_BYTES = 500 * 1024
# axe-core's colour-contrast rule takes two thirds of its time (0.65 of 1.0 s a page); the
# colours come from the theme and the page's template, so it runs on a sample of each kind
CONTRAST_PER_KIND = 6
NOT_PAGES = {"assets", "pagefind", "_pagefind"}  # folders of the theme's and search's files


# --- the site and its pages (no browser needed) ---------------------------------------------


@pytest.fixture(scope="module")
def site(example_site: Path) -> Path:
    """The example portal, built once (conftest's example_site)."""
    return example_site


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the built site as a path under its root ('' is the home page)."""
    wanted = os.environ.get("CIVICGEN_PAGES", "*")
    pages = []
    for file in sorted(site.rglob("*.html")):
        relative = file.relative_to(site).as_posix()
        if NOT_PAGES & set(relative.split("/")[:-1]):
            continue
        path = relative.removesuffix("index.html")
        if fnmatch.fnmatch(path, wanted) or fnmatch.fnmatch(path.rstrip("/"), wanted):
            pages.append(path)
    return pages


def html_file(site: Path, path: str) -> Path:
    """The built file of a page path."""
    return site / path / "index.html" if path.endswith("/") or not path else site / path


LANGUAGE = re.compile(r"[a-z]{2}(-[a-z]{2,4})?")


def page_kind(path: str) -> str:
    """The kind of page: its path with every folder after the section replaced by '*'.

    The section is the first folder, or the first two under a language folder (en/tools).
    """
    parts = path.rstrip("/").split("/") if path else []
    fixed = 2 if parts and LANGUAGE.fullmatch(parts[0]) else 1
    if len(parts) < fixed:
        return "/".join(parts + ["home"])
    return "/".join(parts[:fixed] + ["*"] * (len(parts) - fixed))


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
    """The built file a URL on the site names, or None for data:, fragments and other hosts."""
    parts = urlsplit(url)
    if not url or parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    folder = site if path.startswith("/") else base.parent  # 404.html links from the root
    target = (folder / path.lstrip("/")).resolve()
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
        assert {"", "proposals/", "proposals/pb-2015-001/", "tools/", "datasets/"} <= set(pages)
        found = {str(html_file(site, p).relative_to(site)) for p in pages}
        skipped = [f.relative_to(site) for f in site.rglob("*.html")]
        assert all(NOT_PAGES & set(f.parts) for f in skipped if str(f) not in found)
    assert not any(NOT_PAGES & set(p.split("/")) for p in pages)


def test_kinds_of_page() -> None:
    assert page_kind("") == "home"
    assert page_kind("404.html") == "404.html"
    assert page_kind("proposals/") == "proposals"
    assert page_kind("proposals/pb-2015-001/") == "proposals/*"
    assert page_kind("budget/city-budget/functional/01/") == "budget/*/*/*"
    assert page_kind("en/") == "en/home"
    assert page_kind("en/tools/decidim/") == "en/tools/*"


def test_contrast_sample_spreads_over_a_kind_and_covers_every_look(tmp_path: Path) -> None:
    """Ten pages of a kind alike but one with a badge of its own: the sample is six spread
    over the kind, and the one whose look no other page has."""
    pages = [f"proposals/p{n}/" for n in range(10)]
    for n, path in enumerate(pages):
        (tmp_path / path).mkdir(parents=True)
        badge = '<span class="status rejected">' if n == 3 else '<span class="status">'
        fill = f'<rect fill="#0072B2" style="width: {n}%"/>'
        (tmp_path / path / "index.html").write_text(f"<p>{badge}</p>{fill}", "utf-8")
    sample = contrast_sample(tmp_path, pages)
    assert sample == {pages[n] for n in (0, 2, 4, 5, 7, 9)} | {pages[3]}
    assert looks('<p class="a b" style="width: 12.5%">') == {
        "class:a",
        "class:b",
        "style:width: N%",
    }
    assert contrast_sample(tmp_path, pages, per_kind=1) == {pages[0], pages[3]}


def test_no_page_weighs_over_500_kb(site: Path) -> None:
    heavy = []
    for path in site_pages(site):
        weights = page_weight(site, html_file(site, path))
        total = sum(weights.values())
        if total > MAX_PAGE_BYTES:
            biggest = sorted(weights.items(), key=lambda kv: -kv[1])[:5]
            heavy.append(
                f"/{path}: {total // 1024} KB ({', '.join(f'{k} {v // 1024} KB' for k, v in biggest)})"
            )
    assert not heavy, "pages over 500 KB with what they load:\n" + "\n".join(heavy)


def profile_row(html: str, resource: str, name: str) -> list[str]:
    """The cells of a field's row in a table's column profile on a dataset page."""
    section = html[html.index(f'id="{resource}-profile"') :].split("</table>")[0]
    found = re.search(
        rf'<tr><th scope="row"><code>{re.escape(name)}</code></th>(.*?)</tr>', section
    )
    assert found, f"no profile row for {name} in {resource}"
    return re.findall(r"<td>(.*?)</td>", found.group(1), re.S)


def csv_column(path: Path, name: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row[name] for row in csv.DictReader(handle)]


def test_dataset_page_shows_the_column_profile_in_both_languages(site: Path) -> None:
    """Counts of the built example's pages, against the example's files counted here."""
    readings = csv_column(ROOT / "datasets/air-quality/data/readings.csv", "temperature")
    filled, empty = sum(1 for c in readings if c), sum(1 for c in readings if not c)
    share = f"{100 * empty / len(readings):.1f}"
    assert empty > 0  # the example has gaps in its readings
    for prefix, thousands, decimal, percent in (("", ".", ",", "\xa0%"), ("en/", ",", ".", "%")):
        html = (site / f"{prefix}datasets/air-quality/index.html").read_text("utf-8")
        cells = profile_row(html, "readings", "temperature")
        assert cells[0] == "number"
        assert cells[1].startswith(f"{filled:,}".replace(",", thousands) + " (")
        assert cells[2] == f"{empty} ({share.replace('.', decimal)}{percent})"
    chapters = collections.Counter(
        csv_column(ROOT / "datasets/madrid-budget/data/gastos-2014-2015.csv", "CAPITULO")
    )
    (first, count), *_ = sorted(chapters.items(), key=lambda item: (-item[1], item[0]))
    spanish = (site / "datasets/madrid-budget/index.html").read_text("utf-8")
    english = (site / "en/datasets/madrid-budget/index.html").read_text("utf-8")
    for html, thousands, words in (
        (spanish, ".", "Más frecuentes:"),
        (english, ",", "Most frequent:"),
    ):
        cells = profile_row(html, "gastos", "CAPITULO")
        assert cells[3] == str(len(chapters))
        assert cells[4].startswith(f"{words}<br><q>{first}</q> ({count:,})".replace(",", thousands))
    assert '<h3 id="gastos-profile">Perfil de las columnas</h3>' in spanish
    assert '<h3 id="gastos-profile">Column profile</h3>' in english


def test_page_weight_counts_what_a_page_loads(tmp_path: Path) -> None:
    """The weight check is able to fail: a stylesheet's font and an image count, a link does not."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "s.css").write_text("@font-face{src:url('f.woff2')}", "utf-8")
    (tmp_path / "a" / "f.woff2").write_bytes(b"x" * 300_000)
    (tmp_path / "big.png").write_bytes(b"x" * 300_000)
    (tmp_path / "data.csv").write_bytes(b"x" * 900_000)
    page = tmp_path / "index.html"
    page.write_text(
        '<link rel="stylesheet" href="/a/s.css"><img src="big.png" alt="">'
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
    inner_width: int = 0  # the layout viewport (innerWidth grows with the page on a phone)
    seconds: float = 0.0
    width: int = PHONE["width"]
    contrast: bool = True  # whether axe-core's colour-contrast rule ran

    @property
    def label(self) -> str:
        """The page's path, and the window's width if it is not the phone's."""
        return f"/{self.path}" + ("" if self.width == PHONE["width"] else f" at {self.width} px")


@dataclass
class Audit:
    visits: list[Visit]
    seconds: float
    folder: Path


def needs_chromium() -> None:
    if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (CI installs it)")


def artifacts_folder() -> Path:
    """$CIVICGEN_ARTIFACTS/screenshots, made if missing (a new temporary folder if unset)."""
    folder = os.environ.get("CIVICGEN_ARTIFACTS") or tempfile.mkdtemp(prefix="civicgen-artifacts-")
    path = Path(folder).resolve() / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def axe_source() -> str:
    """axe-core as the axe-playwright-python package ships it (no network)."""
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


AXE_START = """([tags, extra, left_out = []]) => {
  const rules = axe.getRules(tags).map(r => r.ruleId).concat(extra)
    .filter(r => !left_out.includes(r));
  window.civicgenAxe = axe.run(document, {runOnly: {type: 'rule', values: rules},
                                          resultTypes: ['violations']})
    .then(r => r.violations.map(v => ({id: v.id, impact: v.impact,
      nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary || ''}))})));
}"""


def watched_tab(context, served: str):  # type: ignore[no-untyped-def]
    """A tab that notes the console errors and requests to other hosts of its current visit."""
    tab = context.new_page()
    tab.current = Visit("")
    local = (served, "data:", "blob:")
    tab.on("console", lambda m: m.type == "error" and tab.current.console.append(m.text))
    tab.on("pageerror", lambda e: tab.current.console.append(f"uncaught: {e}"))
    tab.on("request", lambda r: r.url.startswith(local) or tab.current.elsewhere.append(r.url))
    return tab


def start(tab, served: str, path: str, contrast: bool = True) -> Visit:  # type: ignore[no-untyped-def]
    """Open a page, measure its width and start axe-core on it (it runs while other tabs load);
    without the colour-contrast rule unless contrast."""
    seen = Visit(path, seconds=time.perf_counter(), width=tab.viewport_size["width"])
    tab.current = seen
    response = tab.goto(served + path, wait_until="load")
    seen.status = response.status if response else 0
    seen.scroll_width, seen.inner_width = tab.evaluate(
        "[document.scrollingElement.scrollWidth, document.documentElement.clientWidth]"
    )
    tab.evaluate(AXE_START, [WCAG, STRUCTURE, [] if contrast else ["color-contrast"]])
    seen.contrast = contrast
    return seen


def finish(tab, seen: Visit, shot: Path | None) -> Visit:  # type: ignore[no-untyped-def]
    """axe-core's answer for the page in this tab; a screenshot of it if asked."""
    seen.violations = tab.evaluate("() => window.civicgenAxe")
    seen.seconds = time.perf_counter() - seen.seconds
    if shot is not None:
        tab.screenshot(path=str(shot), full_page=True)
    return seen


def audit_pages(
    browser,
    served: str,
    pages: list[str],
    tabs: int,
    shots: dict[str, Path],
    viewport: dict[str, int] = PHONE,
    contrast: set[str] | None = None,
):  # type: ignore[no-untyped-def]
    """Every page through a few tabs at once: while one tab's axe runs, another loads. The
    colour-contrast rule runs on the pages in contrast (every page when None)."""

    phone = viewport == PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    context.add_init_script(script=axe_source())
    queue = iter(pages)
    workers = [watched_tab(context, served) for _ in range(max(tabs, 1))]

    def opened(tab, path: str) -> tuple[object, Visit]:  # type: ignore[no-untyped-def]
        return tab, start(tab, served, path, contrast is None or path in contrast)

    running = [opened(tab, path) for tab, path in zip(workers, queue, strict=False)]
    visits = []
    while running:
        tab, seen = running.pop(0)
        visits.append(finish(tab, seen, shots.get(seen.path)))
        path = next(queue, None)
        if path is not None:
            running.append(opened(tab, path))
    context.close()
    return visits


LOOK = re.compile(r'\b(class|style|fill|stroke|color)="([^"]*)"')


def looks(html: str) -> set[str]:
    """What decides a page's colours besides the theme: its class names, inline styles
    (numbers left out) and SVG colours."""
    found = set()
    for attribute, value in LOOK.findall(html):
        words = value.split() if attribute == "class" else [re.sub(r"[\d.]+", "N", value)]
        found |= {f"{attribute}:{word}" for word in words}
    return found


def contrast_sample(site: Path, pages: list[str], per_kind: int = CONTRAST_PER_KIND) -> set[str]:
    """Where the colour-contrast rule runs at 375 px: up to per_kind pages of each kind, spread
    evenly over its pages in path order, and then more of the kind until every class name,
    inline style and SVG colour any page of it has is on a page in the sample."""
    kinds: dict[str, list[str]] = collections.defaultdict(list)
    for path in pages:
        kinds[page_kind(path)].append(path)
    sample = set()
    for same in kinds.values():
        n = min(len(same), per_kind)
        chosen = {same[round(i * (len(same) - 1) / max(n - 1, 1))] for i in range(n)}
        seen = {path: looks(html_file(site, path).read_text("utf-8")) for path in same}
        covered = set().union(*(seen[path] for path in chosen))
        for path in same:
            if not seen[path] <= covered:
                chosen.add(path)
                covered |= seen[path]
        sample |= chosen
    return sample


def one_of_each_kind(pages: list[str]) -> dict[str, str]:
    """The first page of each kind, by kind."""
    first: dict[str, str] = {}
    for path in pages:
        first.setdefault(page_kind(path), path)
    return first


def shot_names(pages: list[str], folder: Path, width: str) -> dict[str, Path]:
    """Where the screenshot of each kind's first page goes, by page path."""
    return {
        path: folder
        / (re.sub(r"[^a-z0-9]+", "-", kind.replace("*", "x").lower()).strip("-") + f"-{width}.png")
        for kind, path in one_of_each_kind(pages).items()
    }


def write_report(audit: Audit) -> None:
    """audit.txt next to the screenshots: wall time, then seconds and violations per page."""
    n = sum(v.width == PHONE["width"] for v in audit.visits)
    lines = [
        f"{n} pages at 375 px in {audit.seconds:.1f} s ({audit.seconds / max(n, 1):.2f} s a page)"
    ]
    lines += [
        f"{v.seconds:6.2f} s  {len(v.violations):3d} rules failing  {v.label}"
        + ("" if v.contrast else "  (colour contrast: not run)")
        for v in audit.visits
    ]
    (audit.folder / "audit.txt").write_text("\n".join(lines) + "\n", "utf-8")


@pytest.fixture(scope="module")
def audit(browser, site: Path) -> Iterator[Audit]:  # type: ignore[no-untyped-def]
    """Every page checked at 375 px; one of each kind photographed, and checked at 1280 px."""
    needs_chromium()
    pages = site_pages(site)
    folder = artifacts_folder()
    tabs = int(os.environ.get("CIVICGEN_BROWSER_TABS", "2"))
    with serving(site) as served:
        begun = time.perf_counter()
        shots = shot_names(pages, folder, "375")
        sample = contrast_sample(site, pages) | set(shots)
        visits = audit_pages(browser, served, pages, tabs, shots, contrast=sample)
        result = Audit(visits, time.perf_counter() - begun, folder)
        desktop = shot_names(pages, folder, "1280")  # one of each kind, checked there too
        result.visits += audit_pages(browser, served, list(desktop), tabs, desktop, DESKTOP)
    write_report(result)
    print(f"\n{(folder / 'audit.txt').read_text('utf-8').splitlines()[0]}; screenshots in {folder}")
    yield result


def listing(lines: list[str], what: str) -> str:
    return f"{len(lines)} {what}:\n" + "\n".join(lines)


def errors(visits: list[Visit]) -> list[str]:
    lines = [f"{v.label}: HTTP {v.status}" for v in visits if v.status != 200]
    return lines + [f"{v.label}: {m}" for v in visits for m in v.console]


def other_hosts(visits: list[Visit]) -> list[str]:
    return [f"{v.label}: {url}" for v in visits for url in v.elsewhere]


def violation_lines(visits: list[Visit]) -> list[str]:
    """One line per page, rule and element: page, rule id, impact, target, why."""
    lines = []
    for v in visits:
        for rule in v.violations:
            for node in rule["nodes"]:
                why = " ".join(node["summary"].split())[:240]
                lines.append(
                    f"{v.label}  {rule['id']} ({rule['impact']})  {node['target']}  — {why}"
                )
    return lines


def too_wide(visits: list[Visit]) -> list[str]:
    return [
        f"{v.label}: {v.scroll_width} px wide in a {v.inner_width} px window"
        for v in visits
        if v.scroll_width > v.inner_width
    ]


@pytest.mark.browser
def test_every_page_loads_without_console_error(audit: Audit) -> None:
    problems = errors(audit.visits)
    assert not problems, listing(problems, "pages with errors")


@pytest.mark.browser
def test_every_page_asks_no_other_host(audit: Audit) -> None:
    problems = other_hosts(audit.visits)
    assert not problems, listing(problems, "requests to another host")


@pytest.mark.browser
def test_every_page_passes_axe_wcag_a_and_aa(audit: Audit) -> None:
    lines = violation_lines(audit.visits)
    assert not lines, listing(lines, "axe-core violations (page, rule, element, why)")


@pytest.mark.browser
def test_no_page_scrolls_sideways_on_a_phone(audit: Audit) -> None:
    wide = too_wide(audit.visits)
    assert not wide, listing(wide, "pages wider than the phone")


@pytest.mark.browser
def test_one_page_of_each_kind_photographed(audit: Audit) -> None:
    kinds = one_of_each_kind([v.path for v in audit.visits])
    for width in ("375", "1280"):
        missing = [
            p
            for p in shot_names(list(kinds.values()), audit.folder, width).values()
            if not p.is_file()
        ]
        assert not missing, missing
    assert (audit.folder / "audit.txt").read_text("utf-8").count("\n") == len(audit.visits) + 1


@pytest.mark.browser
def test_dark_mode_is_not_offered_or_has_contrast(browser, site: Path) -> None:  # type: ignore[no-untyped-def]
    """A phone that prefers dark gets the light theme, or a dark one with enough contrast."""
    needs_chromium()
    context = browser.new_context(viewport=PHONE, color_scheme="dark")
    context.add_init_script(script=axe_source())
    tab = context.new_page()
    with serving(site) as served:
        for path in one_of_each_kind(site_pages(site)).values():
            tab.goto(served + path, wait_until="load")
            if tab.evaluate("document.body.dataset.mdColorScheme") == "default":
                continue
            found = tab.evaluate(
                "async () => (await axe.run(document, {runOnly: ['color-contrast']})).violations.length"
            )
            assert found == 0, f"/{path} in dark mode: {found} contrast violations"
    context.close()


@pytest.mark.browser
def test_a_wide_table_scrolls_from_the_keyboard(browser, site: Path) -> None:  # type: ignore[no-untyped-def]
    """Tab reaches a wide table's region and the arrow keys scroll it; the page stays put."""
    needs_chromium()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    tab = context.new_page()
    with serving(site) as served:
        tab.goto(served + "datasets/madrid-budget/", wait_until="load")
        regions = tab.locator("[role=region][tabindex='0']").filter(has=tab.locator("table"))
        wide = regions.evaluate_all("rs => rs.findIndex(r => r.scrollWidth > r.clientWidth)")
        assert wide >= 0, "no table on the page is wider than a phone"
        region = regions.nth(wide)
        region.focus()
        assert region.evaluate("r => r === document.activeElement")
        for _ in range(5):
            tab.keyboard.press("ArrowRight")
        # the scroll may be animated (smooth scrolling): wait for it to move, up to 5 s
        tab.wait_for_function("r => r.scrollLeft > 0", arg=region.element_handle(), timeout=5000)
        assert tab.evaluate("window.scrollX") == 0
    context.close()


# --- the harness itself finds each problem ---------------------------------------------------

HOSTILE = {
    "good/": "<p>Fine text.</p>",
    "pale/": '<p class="pale">Pale text.</p>',
    "wide/": '<div class="wide">A line wider than a phone.</div>',
    "console/": '<script src="../boom.js"></script>',
    "elsewhere/": '<img src="http://localhost:9/pixel.png" alt="A pixel">',
    "scroller/": '<div class="scroller"><p class="line">One row of a table with many columns, wider than its box.</p></div>',
    "headings/": "<h3>Skipped a level</h3>",
}
HOSTILE_CSS = """.pale { color: #aaa; } .wide { width: 900px; }
.scroller { overflow-x: auto; width: 200px; } .line { white-space: nowrap; }"""


def hostile_page(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><title>A page</title>'
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="../h.css"></head><body><main><h1>A page</h1>{body}</main></body></html>'
    )


@pytest.fixture(scope="module")
def hostile_visits(browser, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Visit]:  # type: ignore[no-untyped-def]
    """A small site with one problem per page, through the same audit as the portal."""
    needs_chromium()
    root = tmp_path_factory.mktemp("hostile")
    (root / "h.css").write_text(HOSTILE_CSS, "utf-8")
    (root / "boom.js").write_text('console.error("boom");', "utf-8")
    for path, body in HOSTILE.items():
        (root / path).mkdir()
        (root / path / "index.html").write_text(hostile_page(body), "utf-8")
    with serving(root) as served:
        visits = audit_pages(browser, served, list(HOSTILE), 2, {})
    return {v.path: v for v in visits}


def rules_failing(visit: Visit) -> set[str]:
    return {rule["id"] for rule in visit.violations}


@pytest.mark.browser
def test_hostile_nothing_wrong_is_found_on_a_good_page(hostile_visits: dict[str, Visit]) -> None:
    good = [hostile_visits["good/"]]
    assert not (errors(good) or other_hosts(good) or violation_lines(good) or too_wide(good))


@pytest.mark.browser
def test_hostile_pale_text_fails_color_contrast(hostile_visits: dict[str, Visit]) -> None:
    assert rules_failing(hostile_visits["pale/"]) == {"color-contrast"}
    line = violation_lines([hostile_visits["pale/"]])[0]
    assert line.startswith("/pale/  color-contrast (serious)  p  — "), line
    assert "insufficient color contrast of 2.32" in line


@pytest.mark.browser
def test_hostile_wide_line_scrolls_the_phone_sideways(hostile_visits: dict[str, Visit]) -> None:
    assert too_wide([hostile_visits["wide/"]]) == ["/wide/: 908 px wide in a 375 px window"]


@pytest.mark.browser
def test_hostile_console_error_is_reported(hostile_visits: dict[str, Visit]) -> None:
    assert errors([hostile_visits["console/"]]) == ["/console/: boom"]


@pytest.mark.browser
def test_hostile_request_to_another_host_is_reported(hostile_visits: dict[str, Visit]) -> None:
    assert other_hosts([hostile_visits["elsewhere/"]]) == [
        "/elsewhere/: http://localhost:9/pixel.png"
    ]


@pytest.mark.browser
def test_hostile_scroll_region_without_keyboard_reach(hostile_visits: dict[str, Visit]) -> None:
    assert rules_failing(hostile_visits["scroller/"]) == {"scrollable-region-focusable"}


@pytest.mark.browser
def test_hostile_heading_level_skipped(hostile_visits: dict[str, Visit]) -> None:
    assert rules_failing(hostile_visits["headings/"]) == {"heading-order"}
