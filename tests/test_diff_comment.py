"""The pull-request comment of `civicgen diff`, on real git repositories: verdict and a
summary that counts every change first, sections folded, never over the cap, and citizen
text inert (no mention, image, link or HTML survives)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import CHROMIUM, ROOT, commit_all, run_cli

from civicgen.diff_report import MARKDOWN_CAP, to_markdown
from civicgen.pipeline import diff

browser_only = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (CI installs it)",
)
BUDGET = "datasets/madrid-budget/data/gastos-2014-2015.csv"
PROPOSAL = "datasets/proposals/records/pb-2015-001.md"


def edit_amounts(portal: Path, rows: int, amount: str) -> None:
    """The amount of the first `rows` budget lines set to `amount`."""
    lines = (portal / BUDGET).read_text(encoding="utf-8").splitlines(keepends=True)
    for i in range(1, rows + 1):
        lines[i] = lines[i].rsplit(",", 1)[0] + f",{amount}\n"
    (portal / BUDGET).write_text("".join(lines), encoding="utf-8")


def test_three_thousand_invalid_cells_stay_under_the_cap(portal: Path) -> None:
    edit_amounts(portal, 3000, "12,5x")
    commit_all(portal, "3,000 broken amounts", when=1_700_000_100)
    code, markdown = run_cli(portal, "diff", "HEAD~1", "HEAD")
    assert code == 1
    assert len(markdown.encode()) < MARKDOWN_CAP  # bytes, as the comment workflow counts
    head = markdown[: markdown.index("<details")]
    assert "❌ The data is not valid" in head
    assert "1 table(s): 0 row(s) added, 0 removed, 3,000 changed" in head  # every change counted
    errors = int(
        re.search(r"<details open><summary>❌ ([\d,]+) error", markdown).group(1).replace(",", "")
    )  # type: ignore[union-attr]
    hidden = int(re.search(r"…and ([\d,]+) more line\(s\)", markdown).group(1).replace(",", ""))  # type: ignore[union-attr]
    shown = sum(line.startswith("| datasets/madrid-budget/") for line in markdown.splitlines())
    assert shown > 100 and shown + hidden >= errors >= 1000  # the report's own limit: 1,000
    assert "`diff.html`" in markdown and "civicgen diff --format html" in markdown  # the rest


def test_every_section_is_folded_and_the_cap_holds_when_small(
    portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(portal)
    base = commit_all(portal, "Example city")
    edit_amounts(portal, 40, "1")
    text = (portal / PROPOSAL).read_text(encoding="utf-8")
    (portal / PROPOSAL).write_text(text.replace("status: completed", "status: in-progress"))
    head = commit_all(portal, "Forty amounts and a status", when=1_700_000_100)
    changes = diff(base, head)
    full = to_markdown(changes)
    assert full.count("<details>") == full.count("</details>") == 3  # the figures, 2 tables
    assert "2 table(s): 0 row(s) added, 0 removed, 41 changed" in full
    small = to_markdown(changes, cap=3_000)
    assert len(small.encode()) <= 3_000
    assert "2 table(s): 0 row(s) added, 0 removed, 41 changed" in small  # the summary stays
    assert re.search(r"…and \d+ more section\(s\) not shown here", small)
    assert small.count("<details") == small.count("</details>")


def test_citizen_text_in_the_comment_is_inert(portal: Path) -> None:
    hostile = "@civicgen/maintainers ![x](https://evil.example/p.png) [win](https://evil.example) <script>alert(1)</script> | #1"
    text = (portal / PROPOSAL).read_text(encoding="utf-8")
    title = re.search(r"(?m)^title: (.*)$", text).group(1)  # type: ignore[union-attr]
    (portal / PROPOSAL).write_text(text.replace(title, f"'{hostile}'"), encoding="utf-8")
    commit_all(portal, "A hostile title", when=1_700_000_100)
    code, markdown = run_cli(portal, "diff", "HEAD~1", "HEAD")
    assert code == 0, markdown
    assert "@&#8203;civicgen/maintainers" in markdown  # mentions nobody
    for live in ("@civicgen", "![x](", "[win](", "<script", "https://evil"):
        assert live not in markdown, live
    assert "&lt;script&gt;" in markdown and "\\| \\#1" in markdown


@pytest.mark.parametrize("cap", [1_500, 10_000, MARKDOWN_CAP])
def test_the_cap_is_a_hard_limit(portal: Path, cap: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(portal)
    base = commit_all(portal, "Example city")
    edit_amounts(portal, 2000, "7")
    head = commit_all(portal, "Two thousand amounts", when=1_700_000_100)
    markdown = to_markdown(diff(base, head), limit=5000, cap=cap)
    assert len(markdown.encode()) <= cap
    assert "1 table(s): 0 row(s) added, 0 removed, 2,000 changed" in markdown


# --- the JSON report against its shipped JSON Schema -----------------------------------------

SCHEMA = json.loads((ROOT / "civicgen/data/diff-report.schema.json").read_text(encoding="utf-8"))


def check_against_schema(payload: dict[str, object]) -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(SCHEMA)
    problems = [e.message for e in Draft202012Validator(SCHEMA).iter_errors(payload)]
    assert problems == []


def test_every_kind_of_change_matches_the_json_schema(portal: Path) -> None:
    edit_amounts(portal, 3, "1")
    text = (portal / PROPOSAL).read_text(encoding="utf-8")
    (portal / PROPOSAL).write_text(text.replace("status: completed", "status: in-progress"))
    (portal / "tools-catalog/ocax.yaml").unlink()
    shutil.rmtree(portal / "datasets/air-quality")
    descriptor = portal / "datasets/proposals/datapackage.json"
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    data["title"] = "Proposals"
    descriptor.write_text(json.dumps(data), encoding="utf-8")
    (portal / "mkdocs.yml").write_text((portal / "mkdocs.yml").read_text() + "\n# edited\n")
    commit_all(portal, "Many kinds of change", when=1_700_000_100)
    code, output = run_cli(portal, "diff", "HEAD~1", "HEAD", "--format", "json")
    payload = json.loads(output)
    assert code == 0 and payload["tables"] and payload["stats"] and payload["packages"]
    assert payload["maintainer_review"]["needed"]
    check_against_schema(payload)


def test_an_invalid_head_matches_the_json_schema(portal: Path) -> None:
    edit_amounts(portal, 2, "12,5x")
    commit_all(portal, "Two broken amounts", when=1_700_000_100)
    code, output = run_cli(portal, "diff", "HEAD~1", "HEAD", "--format", "json")
    payload = json.loads(output)
    assert code == 1 and payload["errors"] and payload["stats"] == []
    check_against_schema(payload)


def test_the_schema_refuses_what_the_contract_does_not_allow() -> None:
    from jsonschema import Draft202012Validator

    good = {"maintainer_review": {"needed": False, "message": "", "paths": []}, "base": "a",
            "head": "b", "valid": True, "packages": [], "stats": [], "errors": [],
            "tables": [{"package": "p", "resource": "r", "path": "x.csv", "key_fields": ["id"],
                        "schema": [], "rows": [{"key": ["1"], "kind": "changed",
                                                "cells": [["amount", "1", "2"]]}]}]}  # fmt: skip
    validator = Draft202012Validator(SCHEMA)
    assert validator.is_valid(good)
    good["tables"][0]["rows"][0]["kind"] = "moved"  # type: ignore[index]
    assert not validator.is_valid(good)
    assert not validator.is_valid({**good, "surprise": 1})


# --- the HTML page a maintainer opens from the CI artifact ------------------------------------

HOSTILE = '<img src=x onerror="alert(1)"> @civicgen [x](https://evil.example)'


def html_report(portal: Path) -> str:
    """The HTML report of a pull request that adds, removes and changes rows, one of them
    with a hostile cell."""
    lines = (portal / BUDGET).read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].rsplit(",", 1)[0] + ",7\n"  # a changed amount
    del lines[2]  # a removed line
    cells = lines[3].split(",")
    hostile = HOSTILE.replace('"', "'")
    lines.append(",".join([*cells[:9], "12999", hostile, *cells[11:]]))  # an added line
    (portal / BUDGET).write_text("".join(lines), encoding="utf-8")
    commit_all(portal, "Three kinds of row change", when=1_700_000_100)
    code, html = run_cli(portal, "diff", "HEAD~1", "HEAD", "--format", "html")
    assert code == 0, html
    return html


def test_the_html_report_is_self_contained_and_inert(portal: Path) -> None:
    html = html_report(portal)
    assert html.startswith("<!doctype html>") and "default-src 'none'" in html
    for fetch in ("src=", "href=", "<script", "<link", "url("):
        assert fetch not in html.replace("&lt;img src=x", ""), fetch
    assert "&lt;img src=x onerror=&#39;alert(1)&#39;&gt;" in html
    assert html.count('<tr class="added">') == 1 and html.count('<tr class="removed">') == 1
    assert '<td class="changed"><del>102739</del> → <ins>7</ins></td>' in html


@browser_only
@pytest.mark.browser
def test_the_html_report_in_a_browser(browser, portal: Path) -> None:  # type: ignore[no-untyped-def]
    html = html_report(portal)
    page = browser.new_page(viewport={"width": 375, "height": 800})
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_content(html)
    assert asked == [] and dialogs == []  # nothing fetched, nothing ran
    assert page.get_by_role("heading", level=1).inner_text().startswith("civicgen diff")
    added = page.locator("tr.added td").first
    assert added.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(215, 240, 217)"
    assert page.locator("td.changed ins", has_text="7").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # tables scroll inside
    page.close()


def test_shares_move_by_points_and_never_top_the_figures(portal: Path) -> None:
    edit_amounts(portal, 1, "2000000")  # one line of 102,739 becomes 2,000,000
    commit_all(portal, "One larger line", when=1_700_000_100)
    payload = json.loads(run_cli(portal, "diff", "HEAD~1", "HEAD", "--format", "json")[1])
    shares = [s for s in payload["stats"] if s["figure"] == "share"]
    amounts = [s for s in payload["stats"] if s["figure"] == "amount" and s["old"]]
    assert shares and amounts
    for s in shares:
        assert s["relative"] is None
        assert s["points"] == pytest.approx((s["new"] - s["old"]) * 100)
    assert all(a["points"] is None and a["relative"] for a in amounts)
    check_against_schema(payload)
    markdown = run_cli(portal, "diff", "HEAD~1", "HEAD", "--limit", "50")[1]
    rows = [line for line in markdown.splitlines() if line.startswith("| madrid-budget |")]
    share_rows = [i for i, line in enumerate(rows) if "| share |" in line]
    assert share_rows and all(
        line.rstrip().endswith("pp |") for line in (rows[i] for i in share_rows)
    )
    classifications = [i for i, line in enumerate(rows) if "| classifications |" in line]
    first_share = min(share_rows)
    assert all(i < first_share for i in classifications if "| share |" not in rows[i])


def test_a_part_of_a_whole_is_known_by_its_column_not_its_name() -> None:
    """A profile's own ratio (a city's "uptake") moves by points because its table says it is
    one; a column merely named like a ratio elsewhere ("share" of votes, a count) does not."""
    from civicgen.diff import stat_changes
    from civicgen.stats.tables import Column, DerivedTable

    def table(uptake: float, share: int) -> DerivedTable:
        columns = [Column("district"), Column("uptake", "number", ratio=True),
                   Column("share", "integer")]  # fmt: skip
        return DerivedTable("t", "T", "", columns, [["north", uptake, share]])

    moved = {c.figure: c for c in stat_changes({"p": [table(0.25, 10)]}, {"p": [table(0.26, 12)]})}
    assert moved["uptake"].is_ratio and moved["uptake"].points == pytest.approx(1.0)
    assert moved["uptake"].relative is None
    assert not moved["share"].is_ratio and moved["share"].relative == pytest.approx(0.2)


def test_a_call_out_of_many_long_paths_stays_under_the_cap(
    portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(portal)
    base = commit_all(portal, "Example city")
    for i in range(60):
        (portal / f"{'x' * 150}-{i}.py").write_text("print(1)\n")
    head = commit_all(portal, "Sixty scripts with long names", when=1_700_000_100)
    markdown = to_markdown(diff(base, head), cap=4_000)
    assert len(markdown.encode()) <= 4_000
    assert markdown.startswith("### ⚠️") and "more line(s) of this list" in markdown
    assert "## civicgen diff" in markdown  # the verdict and summary still follow
