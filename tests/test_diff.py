"""civicgen diff between two commits of a real git repository made with pygit2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import commit_all, replace_in

from civicgen.cli import main
from civicgen.diff import diff_portals
from civicgen.pipeline import Settings, diff, validate
from civicgen.site.inputs import Derived, shown_statistics
from civicgen.validation import Validation

BUDGET = "datasets/madrid-budget/data/gastos-2014-2015.csv"
FIRST_LINE = "2014,001,AYUNTAMIENTO DE MADRID,002,PRESIDENCIA DEL PLENO,91100,SECRETARÍA GENERAL DEL PLENO,1,GASTOS DE PERSONAL,12000,SUELDOS DEL GRUPO A1,102739\n"


@pytest.fixture
def two_commits(portal: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A base commit (the example city) and a head commit with citizen-style changes."""
    monkeypatch.chdir(portal)
    base = commit_all(portal, "Example city")
    replace_in(portal / BUDGET, FIRST_LINE, FIRST_LINE.replace(",102739\n", ",110000\n"))
    proposal = portal / "datasets/proposals/records/pb-2015-001.md"
    new = portal / "datasets/proposals/records/pb-2015-099.md"
    new.write_text(proposal.read_text().replace("votes: 2431", "votes: 12"))
    replace_in(proposal, "status: completed", "status: in-progress")
    (portal / "tools-catalog/ocax.yaml").unlink()
    descriptor = portal / "datasets/air-quality/datapackage.json"
    package = json.loads(descriptor.read_text())
    package["resources"][0]["schema"]["fields"][1]["constraints"]["maxLength"] = 60
    descriptor.write_text(json.dumps(package, indent=2, ensure_ascii=False))
    head = commit_all(portal, "A citizen's pull request", when=1_700_086_400)
    return base, head


def test_rows_are_keyed_by_primary_key(two_commits: tuple[str, str]) -> None:
    changes = diff(*two_commits)
    assert changes.valid
    tables = {t.resource: t for t in changes.tables}
    assert set(tables) == {"gastos", "proposals", "tools", "stations"}
    [amount] = tables["gastos"].rows
    assert (amount.kind, amount.key, amount.cells) == (
        "changed",
        ("2014", "001", "002", "91100", "12000"),
        [("IMPORTE", "102739", "110000")],
    )
    proposals = {(c.kind, c.key) for c in tables["proposals"].rows}
    assert proposals == {("added", ("pb-2015-099",)), ("changed", ("pb-2015-001",))}
    [status] = [c for c in tables["proposals"].rows if c.kind == "changed"]
    assert status.cells == [("status", "completed", "in-progress")]
    assert [(c.kind, c.key) for c in tables["tools"].rows] == [("removed", ("ocax",))]
    assert tables["tools"].path == "tools-catalog/*.yaml"
    assert tables["stations"].rows == []
    assert tables["stations"].schema == [
        "field \"name\": constraints {'required': True} → {'required': True, 'maxLength': 60}"
    ]


def test_statistics_move(two_commits: tuple[str, str]) -> None:
    changes = diff(*two_commits)
    totals = [c for c in changes.stats if c.table == "totals" and c.figure == "amount"]
    assert [(c.key[0], c.old, c.new) for c in totals] == [
        ("2014", 4699310629.0, 4699310629.0 - 102739 + 110000)
    ]
    assert totals[0].relative == pytest.approx((110000 - 102739) / 4699310629)
    status = {(c.key, c.figure): (c.old, c.new) for c in changes.stats if c.table == "summary"}
    assert (("status", "completed"), "proposals") not in status  # one left, one came: 5 → 5
    assert status[(("status", "in-progress"), "proposals")] == (3, 4)
    catalog = {c.key: (c.old, c.new) for c in changes.stats if c.table == "counts"}
    assert catalog[("category", "budget-transparency")] == (2, 1)


def test_only_changed_packages_are_derived_and_the_figures_are_the_same(
    portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proposal's change derives the proposals (and the budget they read, of a lower
    order), never the sensors; its moves are those of deriving everything."""
    monkeypatch.chdir(portal)
    commit_all(portal, "Example city")
    replace_in(
        portal / "datasets/proposals/records/pb-2015-001.md",
        "status: completed",
        "status: in-progress",
    )
    commit_all(portal, "A status", when=1_700_086_400)
    asked: list[set[str] | None] = []

    def recorded(validation: Validation, only: set[str] | None = None) -> Derived:
        asked.append(only)
        derived = shown_statistics(validation, only)
        derived_packages.append(set(derived))
        return derived

    derived_packages: list[set[str]] = []
    before = validate([str(portal)], Settings(), "HEAD~1", text_checks=False)
    after = validate([str(portal)], Settings(), "HEAD")
    some = diff_portals(before, after, "HEAD~1", "HEAD", recorded)
    everything = diff_portals(before, after, "HEAD~1", "HEAD", lambda v, _: shown_statistics(v))
    assert asked == [{"proposals"}, {"proposals"}]
    assert derived_packages == [{"proposals", "madrid-budget"}] * 2  # the budget it reads
    assert some.stats == everything.stats and some.stats


def test_markdown_comment_and_json(two_commits: tuple[str, str]) -> None:
    base, head = two_commits
    runner = CliRunner()
    markdown = runner.invoke(main, ["diff", base, head])
    assert markdown.exit_code == 0
    assert (
        "| changed | 2014 · 001 · 002 · 91100 · 12000 | IMPORTE | 102739 | 110000 |"
        in markdown.output
    )
    assert (
        "| madrid-budget | totals | 2014 · approved · expenditure | amount | 4,699,310,629 | 4,699,317,890 | +0.00015 % |"
        in markdown.output
    )
    payload = json.loads(runner.invoke(main, ["diff", base, head, "--format", "json"]).output)
    assert payload["valid"] is True and {t["resource"] for t in payload["tables"]} >= {"gastos"}


def test_invalid_head_exits_1_and_lists_errors(
    portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(portal)
    base = commit_all(portal, "Example city")
    replace_in(portal / "tools-catalog/ckan.yaml", "licence: AGPL-3.0-or-later", "licence: NOPE")
    result = CliRunner().invoke(main, ["diff", base])  # against the work tree
    assert result.exit_code == 1
    assert "❌ The data is not valid" in result.output and "unknown-licence" in result.output
    assert "| changed | ckan | licence | AGPL-3.0-or-later | NOPE |" in result.output
    assert "The figures are not compared" in result.output  # no totals of invalid data
    payload = json.loads(CliRunner().invoke(main, ["diff", base, "--format", "json"]).output)
    assert payload["valid"] is False and payload["stats"] == []


def test_unchanged_revisions(portal: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(portal)
    head = commit_all(portal, "Example city")
    changes = diff(head, head)
    assert changes.tables == [] and changes.stats == []
    assert CliRunner().invoke(main, ["diff", "no-such-rev"]).exit_code == 2
