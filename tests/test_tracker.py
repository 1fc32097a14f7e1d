"""The proposals tracker and the tool catalog: status timelines from a real git history,
filters in a real Chromium (and the full list without JavaScript), links to the budget."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CHROMIUM, ROOT, commit_all

from civicgen.history import field_history
from civicgen.pipeline import validate
from civicgen.site.env import make_env
from civicgen.site.inputs import gather
from civicgen.site.pages import Linker, licence_parts, status_steps
from civicgen.site.portal import render_site

RECORD = "datasets/proposals/records/pb-2015-001.md"
NEW = "datasets/proposals/records/pb-2099-001.md"
STAGES = ["submitted", "accepted", "funded", "completed"]


def set_status(portal: Path, status: str, path: str = RECORD) -> None:
    file = portal / path
    text = re.sub(r"(?m)^status: .*$", f"status: {status}", file.read_text())
    file.write_text(text)


def add_stages(portal: Path) -> None:
    """The proposals schema's status enum gains the stages of the test's path."""
    descriptor = portal / "datasets/proposals/datapackage.json"
    data = json.loads(descriptor.read_text())
    status = next(f for f in data["resources"][0]["schema"]["fields"] if f["name"] == "status")
    status["constraints"]["enum"] += ["accepted", "funded"]
    descriptor.write_text(json.dumps(data, indent=2))


@pytest.fixture
def moved(portal: Path) -> tuple[Path, list[str]]:
    """A new proposal goes submitted → accepted → funded → completed over three commits after
    the one that adds it, with a commit between that changes its text but not its status."""
    add_stages(portal)
    (portal / NEW).write_text((portal / RECORD).read_text())
    set_status(portal, "submitted", NEW)
    commits = [commit_all(portal, "Proposal submitted", when=1_700_050_000)]
    set_status(portal, "accepted", NEW)
    commits.append(commit_all(portal, "Accepted by the district", when=1_700_100_000))
    file = portal / NEW
    file.write_text(file.read_text() + "\nA neighbour's note.\n")
    commit_all(portal, "A note, no new status", when=1_700_150_000)
    set_status(portal, "funded", NEW)
    commits.append(commit_all(portal, "Funded", when=1_700_200_000))
    set_status(portal, "completed", NEW)
    commits.append(commit_all(portal, "Built", when=1_700_300_000))
    return portal, commits


def test_status_timeline_from_git(moved: tuple[Path, list[str]]) -> None:
    portal, commits = moved
    history = field_history(portal, "datasets/proposals", "records/*.md")
    timeline = history[NEW]
    assert [c.value for c in timeline] == STAGES
    assert [c.commit for c in timeline] == commits
    assert [c.date for c in timeline] == ["2023-11-15", "2023-11-16", "2023-11-17", "2023-11-18"]
    assert timeline[1].summary == "Accepted by the district"
    other = history["datasets/proposals/records/pb-2015-002.md"]
    assert [c.value for c in other] == ["in-progress"]  # committed once, never changed


def test_status_timeline_is_gathered_once_and_shown_in_order(
    moved: tuple[Path, list[str]],
) -> None:
    portal, commits = moved
    inputs = gather(validate([str(portal)]))
    assert [c.value for c in inputs.statuses["proposals"][NEW]] == STAGES
    page = next(o for o in render_site(make_env(), inputs) if o.uri == "proposals/pb-2099-001.md")
    timeline = str(page.content).split('<ol class="civicgen-timeline">')[1].split("</ol>")[0]
    shown = re.findall(r'civicgen-status-([a-z-]+)">', timeline)
    assert shown == STAGES
    assert f"change {commits[2][:7]}" in timeline


def test_status_history_walks_at_most_the_commits_asked(moved: tuple[Path, list[str]]) -> None:
    portal, commits = moved
    latest = field_history(portal, "datasets/proposals", "records/*.md", walk=2)
    assert [c.value for c in latest[NEW]] == ["funded", "completed"]
    assert RECORD not in latest  # not changed in the two commits read
    kept = field_history(portal, "datasets/proposals", "records/*.md", per_record=2)
    assert [c.commit for c in kept[NEW]] == commits[2:]


def test_hostile_record_unreadable_at_one_commit_is_skipped(portal: Path) -> None:
    """A commit where the record is not YAML (a broken push) neither stops the history nor
    counts as a status."""
    set_status(portal, "selected")
    commit_all(portal, "Selected", when=1_700_100_000)
    (portal / RECORD).write_text("---\ntitle: [unclosed\nstatus: completed\n---\nBody\n")
    commit_all(portal, "Broken", when=1_700_200_000)
    (portal / RECORD).write_text((ROOT / RECORD).read_text())  # status: completed
    commit_all(portal, "Fixed", when=1_700_300_000)
    timeline = field_history(portal, "datasets/proposals", "records/*.md")[RECORD]
    assert [(c.value, c.summary) for c in timeline][-2:] == [
        ("selected", "Selected"),
        ("completed", "Fixed"),
    ]


def test_hostile_huge_record_in_history_is_not_read(portal: Path) -> None:
    (portal / RECORD).write_text("---\nstatus: submitted\n---\n" + "x" * (2 << 20))
    commit_all(portal, "A 2 MB record", when=1_700_100_000)
    timeline = field_history(portal, "datasets/proposals", "records/*.md")[RECORD]
    assert [c.summary for c in timeline] == ["Example city"]  # the huge version is skipped


def test_hostile_commit_message_and_title_are_escaped(portal: Path) -> None:
    file = portal / RECORD
    text = re.sub(r"(?m)^title: .*$", 'title: "<script>alert(1)</script> shade"', file.read_text())
    file.write_text(text)
    set_status(portal, "in-progress")
    commit_all(portal, '<img src=x onerror="alert(2)"> moved on', when=1_700_100_000)
    outputs = render_site(make_env(), gather(validate([str(portal)])))
    pages = {o.uri: str(o.content) for o in outputs}
    for uri in ("proposals/pb-2015-001.md", "proposals/index.md", "index.md"):
        assert "<script>alert" not in pages[uri] and "<img src=x" not in pages[uri], uri
    assert "&lt;script&gt;alert(1)&lt;/script&gt; shade" in pages["proposals/index.md"]
    assert "&lt;img src=x onerror=" in pages["proposals/pb-2015-001.md"]


def test_status_steps_follow_the_enum_and_show_where_a_proposal_stopped() -> None:
    enum = ["submitted", "feasible", "unfeasible", "selected", "not-selected", "completed"]
    assert status_steps(enum, "selected") == [
        {"value": "submitted", "state": "done"},
        {"value": "feasible", "state": "done"},
        {"value": "selected", "state": "current"},
        {"value": "completed", "state": "next"},
    ]
    assert [(s["value"], s["state"]) for s in status_steps(enum, "not-selected")] == [
        ("submitted", "done"),
        ("feasible", "done"),
        ("selected", "done"),
        ("not-selected", "current"),
        ("completed", "skipped"),
    ]


def test_links_between_pages_are_relative_as_mkdocs_publishes_them() -> None:
    proposal = Linker("proposals/pb-1.md")
    assert proposal("budget/b/functional/17101/index.md") == "../../budget/b/functional/17101/"
    assert proposal("proposals/index.md") == "../"
    assert Linker("index.md")("tools/category/mapping.md") == "tools/category/mapping/"
    assert (
        proposal("budget/b/functional/171/index.md#n-17102")
        == "../../budget/b/functional/171/#n-17102"
    )
    flat = Linker("proposals/pb-1.md", directory_urls=False)
    assert flat("budget/b/f/1/index.md") == "../budget/b/f/1/index.html"


def test_licences_are_split_into_explained_parts() -> None:
    parts = licence_parts("(MIT OR Apache-2.0) AND AGPL-3.0-or-later")
    assert [p.get("id") or p["operator"] for p in parts] == [
        "MIT", "OR", "Apache-2.0", "AND", "AGPL-3.0-or-later",
    ]  # fmt: skip
    assert parts[-1]["base"] == "AGPL-3.0" and parts[-1]["later"] is True
    assert parts[0]["url"] == "https://spdx.org/licenses/MIT.html"
    assert licence_parts('x"><script>')[0]["url"] == ""  # not an SPDX id: no link made


def test_tool_pages_explain_licences_and_link_categories(portal: Path) -> None:
    pages = {
        o.uri: str(o.content) for o in render_site(make_env(), gather(validate([str(portal)])))
    }
    decidim = pages["tools/decidim.md"]
    assert "if you run a changed version for others over a network" in decidim
    assert "Later versions of the licence may be chosen too." in decidim
    assert 'href="../category/participatory-budgeting/"' in decidim
    category = pages["tools/category/participatory-budgeting.md"]
    assert "Decidim" in category and "Consul Democracy" in category and "CKAN" not in category


def test_hostile_unknown_licence_says_so_and_links_the_spdx_list(portal: Path) -> None:
    tool = portal / "tools-catalog/decidim.yaml"
    tool.write_text(tool.read_text().replace("AGPL-3.0-or-later", "Made-Up-1.0"))
    pages = {
        o.uri: str(o.content) for o in render_site(make_env(), gather(validate([str(portal)])))
    }
    assert "civicgen has no plain-language summary of this licence." in pages["tools/decidim.md"]
    assert 'href="https://spdx.org/licenses/Made-Up-1.0.html"' in pages["tools/decidim.md"]


# --- in a real Chromium -----------------------------------------------------------------------

browser_only = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (CI installs it)",
)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def built(example_site: Path) -> Path:
    return example_site  # the example city, built once (conftest)


@pytest.fixture(scope="module")
def served(built: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(built))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/en/"  # the English pages
    server.shutdown()


def example_statuses() -> list[str]:
    return [
        re.search(r"(?m)^status: (.*)$", p.read_text()).group(1)  # type: ignore[union-attr]
        for p in sorted((ROOT / "datasets/proposals/records").glob("*.md"))
    ]


@browser_only
@pytest.mark.browser
def test_choosing_a_status_leaves_only_those_proposals(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    statuses = example_statuses()
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(served + "proposals/")
    items = page.locator("#proposal-list > li")
    assert items.count() == len(statuses)
    page.get_by_label("Status", exact=True).select_option("completed")
    visible = [t for t in items.all() if t.is_visible()]
    assert len(visible) == statuses.count("completed") > 0
    assert all("Completed" in item.inner_text() for item in visible)
    count = page.locator("[data-filter-count='proposal-list']")
    assert count.get_attribute("aria-live") == "polite"
    assert (
        count.inner_text() == f"Showing {statuses.count('completed')} of {len(statuses)} proposals."
    )
    page.get_by_label("District", exact=True).select_option("Usera")
    shown = [t.inner_text() for t in items.all() if t.is_visible()]
    assert shown and all("Usera" in text and "Completed" in text for text in shown)
    page.get_by_role("button", name="Show all").click()
    page.wait_for_function("document.querySelectorAll('#proposal-list > li[hidden]').length === 0")
    assert count.inner_text() == f"Showing {len(statuses)} of {len(statuses)} proposals."
    context.close()


@browser_only
@pytest.mark.browser
def test_without_javascript_every_proposal_and_tool_is_listed(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(served + "proposals/")
    assert page.locator("#proposal-list > li:visible").count() == len(example_statuses())
    assert not page.locator("form.civicgen-filter").is_visible()  # no control that cannot work
    page.goto(served + "tools/")
    tools = len(list((ROOT / "tools-catalog").glob("*.yaml")))
    assert page.locator("#tool-list > li:visible").count() == tools
    context.close()


@browser_only
@pytest.mark.browser
def test_tool_filters_answer_which_tools_do_participatory_budgeting(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(served + "tools/")
    page.get_by_label("Category", exact=True).select_option("participatory-budgeting")
    names = [
        t.locator("h3").inner_text()
        for t in page.locator("#tool-list > li").all()
        if t.is_visible()
    ]
    assert sorted(names) == ["Consul Democracy", "Decidim"]
    page.get_by_label("Licence", exact=True).select_option("AGPL-3.0-only")
    names = [
        t.locator("h3").inner_text()
        for t in page.locator("#tool-list > li").all()
        if t.is_visible()
    ]
    assert names == ["Consul Democracy"]
    assert page.locator("[data-filter-count='tool-list']").inner_text().startswith("Showing 1 of ")
    context.close()


# the theme's teal links and mkdocs-material's table wrapper are the a11y engineer's part
# (theme/ and _macros.html); these pages' own markup is checked with the palette fixed.
THEME_FIX = ".md-typeset a { color: #00695c !important; }"
PAGES = ("", "proposals/", "proposals/pb-2015-002/", "proposals/pb-2014-002/", "tools/",
         "tools/decidim/", "tools/category/participatory-budgeting/")  # fmt: skip


@browser_only
@pytest.mark.browser
def test_tracker_catalog_and_home_have_no_axe_violations_at_375px(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = browser.new_context(viewport={"width": 375, "height": 800}, bypass_csp=True)
    page = context.new_page()
    found = {}
    for path in PAGES:
        page.goto(served + path)
        wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not wide, f"{path} scrolls sideways at 375 px"
        page.add_style_tag(content=THEME_FIX)
        result = axe.run(
            page,
            context={"include": [[".civicgen"]], "exclude": [[".md-typeset__scrollwrap"]]},
            options={
                "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
            },
        )
        found[path] = [
            (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result.response["violations"]
        ]
    context.close()
    assert found == {path: [] for path in PAGES}


def test_funding_link_reaches_the_budget_explorer(built: Path) -> None:
    built = built / "en"  # the English pages (Spanish at the root)
    html = (built / "proposals/pb-2015-001/index.html").read_text()
    href = re.search(r'<a href="([^"#]+)(#[^"]*)?">budget line 17102', html)
    assert href is not None
    target = (built / "proposals/pb-2015-001" / href.group(1) / "index.html").resolve()
    if not (built / "budget/madrid-budget/index.html").is_file():
        assert (
            target.relative_to(built.resolve()).as_posix()
            == "budget/madrid-budget/functional/17102/index.html"
        )  # the contract's node page
        pytest.skip("no budget explorer is generated on this branch (the budget engineer's part)")
    assert target.is_file(), "the explorer has no page for the budget line a proposal names"
    page = target.read_text()
    assert "17102" in page
    if href.group(2):  # a row of its parent's page
        assert f'id="{href.group(2)[1:]}"' in page
