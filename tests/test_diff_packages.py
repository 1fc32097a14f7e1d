"""The diff reports descriptor changes (licence, title, sources, profile options, resources,
packages added or deleted with the figures they had), renames, changed keys, and reads only
the changed lines of a large table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import commit_all, run_cli


def edit_descriptor(path: Path, **changes: object) -> None:
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor.update(changes)
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False), encoding="utf-8")


def diff_json(portal: Path) -> dict[str, object]:
    code, output = run_cli(portal, "diff", "HEAD~1", "HEAD", "--format", "json")
    assert code == 0, output
    return json.loads(output)


def test_a_licence_and_title_change_is_reported(portal: Path) -> None:
    descriptor = portal / "datasets/proposals/datapackage.json"
    edit_descriptor(descriptor, licenses=[{"name": "CC0-1.0"}], title="Proposals")
    commit_all(portal, "Relicense the proposals")
    changes = diff_json(portal)
    assert changes["tables"] == [] and changes["stats"] == []
    [package] = changes["packages"]
    assert (package["package"], package["kind"]) == ("proposals", "changed")
    assert package["notes"][0] == "licenses: CC-BY-4.0 → CC0-1.0"
    assert package["notes"][1] == "title: Participatory budgeting proposals (examples) → Proposals"
    code, markdown = run_cli(portal, "diff", "HEAD~1", "HEAD")
    assert "<summary>Packages (1)</summary>" in markdown and "No data changed." not in markdown
    assert "CC0-1.0" in markdown


def test_a_profile_option_change_is_reported(portal: Path) -> None:
    descriptor = portal / "datasets/air-quality/datapackage.json"
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    data["civicgen"]["sensor"]["thresholds"] = {"pm25": 5}
    descriptor.write_text(json.dumps(data, indent=2), encoding="utf-8")
    commit_all(portal, "Stricter PM2.5 guideline")
    [package] = diff_json(portal)["packages"]
    [note] = package["notes"]
    assert note == 'civicgen.sensor.thresholds added: {"pm25": 5}'


def test_a_deleted_package_says_what_its_figures_were(portal: Path) -> None:
    shutil.rmtree(portal / "datasets/air-quality")
    commit_all(portal, "Remove the sensors")
    changes = diff_json(portal)
    assert {"package": "air-quality", "kind": "removed", "notes": []} in changes["packages"]
    removed = [s for s in changes["stats"] if s["package"] == "air-quality"]
    assert removed and all(s["new"] is None and s["old"] is not None for s in removed)
    assert {s["table"] for s in removed} >= {"coverage", "daily", "hourly"}
    code, markdown = run_cli(portal, "diff", "HEAD~1", "HEAD", "--limit", "5")
    shown = sum(line.startswith("| air-quality |") for line in markdown.splitlines())
    hidden = len(changes["stats"]) - shown
    assert shown and f"…and {hidden:,} more figures moved" in markdown


def test_a_new_package_is_reported_as_added(portal: Path) -> None:
    shutil.copytree(portal / "datasets/proposals", portal / "datasets/proposals-2026")
    edit_descriptor(portal / "datasets/proposals-2026/datapackage.json", name="proposals-2026")
    commit_all(portal, "A second round of proposals")
    changes = diff_json(portal)
    assert {"package": "proposals-2026", "kind": "added", "notes": []} in changes["packages"]


def test_hostile_markup_in_a_changed_title_stays_text(portal: Path) -> None:
    descriptor = portal / "datasets/proposals/datapackage.json"
    edit_descriptor(descriptor, title="<img src=x> | y")
    commit_all(portal, "A title with markup")
    code, markdown = run_cli(portal, "diff", "HEAD~1", "HEAD")
    assert code == 0
    line = next(x for x in markdown.splitlines() if "title:" in x)
    assert "<img" not in line and "&lt;img src=x&gt; \\| y" in line


def test_a_removed_duplicate_line_of_a_keyless_table_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "town"
    town(root, "item,amount", "pens,10\npens,10\nink,5\n", key=[])
    commit_all(root, "Spending, with a line exported twice")
    town(root, "item,amount", "pens,10\nink,5\n", key=[])
    commit_all(root, "Remove the repeated line")
    [table] = diff_json(root)["tables"]
    assert [(r["kind"], r["key"]) for r in table["rows"]] == [("removed", ["pens", "10", "copy 2"])]


def town(root: Path, header: str, rows: str, key: list[str] | None = None) -> None:
    """A one-table town: lines.csv keyed by id (or key; [] for none), with the fields of
    header (amounts numbers)."""
    import pygit2

    key = ["id"] if key is None else key
    folder = root / "datasets" / "spending"
    folder.mkdir(parents=True, exist_ok=True)
    fields = [
        {"name": n, "type": "number" if n.startswith("am") else "string"} for n in header.split(",")
    ]
    descriptor = {
        "name": "spending",
        "licenses": [{"name": "CC0-1.0"}],
        "resources": [
            {
                "name": "lines",
                "path": "lines.csv",
                "schema": {"fields": fields, **({"primaryKey": key} if key else {})},
            }
        ],
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (folder / "lines.csv").write_text(f"{header}\n{rows}", encoding="utf-8")
    if not (root / ".git").exists():
        pygit2.init_repository(str(root))


ROWS = "".join(f"{i},item {i},{i * 10}\n" for i in range(1, 2001))


def test_a_renamed_field_is_one_line_not_every_row(tmp_path: Path) -> None:
    root = tmp_path / "town"
    town(root, "id,item,amt", ROWS)
    commit_all(root, "Spending")
    town(root, "id,item,amount", ROWS.replace("7,item 7,70\n", "7,item 7,75\n"))
    commit_all(root, "Rename amt to amount, and correct one line", when=1_700_000_100)
    [table] = diff_json(root)["tables"]
    assert table["schema"] == ['field "amt" renamed to "amount"']
    assert [(r["kind"], r["key"], r["cells"]) for r in table["rows"]] == [
        ("changed", ["7"], [["amount", "70", "75"]])
    ]
    code, markdown = run_cli(root, "diff", "HEAD~1", "HEAD")
    assert code == 0 and "1 table(s): 0 row(s) added, 0 removed, 1 changed" in markdown


def test_a_field_replaced_by_other_values_is_no_rename(tmp_path: Path) -> None:
    root = tmp_path / "town"
    town(root, "id,item,amt", ROWS)
    commit_all(root, "Spending")
    town(root, "id,item,amount", ROWS.replace("0\n", "1\n"))
    commit_all(root, "Another column", when=1_700_000_100)
    [table] = diff_json(root)["tables"]
    assert sorted(table["schema"]) == ['field "amount" added (number)', 'field "amt" removed']
    assert len(table["rows"]) == 2000


def test_a_changed_key_is_one_row_with_a_new_key(tmp_path: Path) -> None:
    root = tmp_path / "town"
    town(root, "id,item,amt", ROWS)
    commit_all(root, "Spending")
    town(
        root,
        "id,item,amt",
        ROWS.replace("7,item 7,70\n", "7b,item 7,70\n").replace("9,item 9,90\n", ""),
    )
    commit_all(root, "Line 7 gets its right id; line 9 goes", when=1_700_000_100)
    [table] = diff_json(root)["tables"]
    assert [(r["kind"], r["key"], r["cells"]) for r in table["rows"]] == [
        ("key changed", ["7b"], [["id", "7", "7b"]]),
        ("removed", ["9"], [["id", "9", ""], ["item", "item 9", ""], ["amt", "90", ""]]),
    ]
    code, markdown = run_cli(root, "diff", "HEAD~1", "HEAD")
    assert "0 added · 1 removed · 0 changed · 1 key changed" in markdown
    assert "0 row(s) added, 1 removed, 0 changed, 1 with a new key" in markdown


CHANGES = [
    lambda rows: rows.replace("7,item 7,70\n", "7,item 7,71\n"),  # a cell
    lambda rows: rows.replace("9,item 9,90\n", "") + "2001,item 2001,1\n",  # a row out, in
    lambda rows: "".join(reversed(rows.splitlines(keepends=True))),  # re-sorted
    lambda rows: rows.replace("5,item 5,50\n", '5,"item 5",50\n'),  # re-quoted, same cells
    lambda rows: rows.replace("\n", "\r\n"),  # line endings
    lambda rows: rows.replace("3,item 3,30\n", '3,"item\n3",30\n'),  # a line break in a cell
    lambda rows: rows.replace("8,item 8,80\n", "8b,item 8,80\n"),  # a key
]


@pytest.mark.parametrize(
    "change", CHANGES, ids=["cell", "rows", "resorted", "requoted", "crlf", "multiline", "key"]
)
def test_reading_changed_lines_only_gives_the_full_comparison(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: object
) -> None:
    """The diff reads only the lines that differ when a line is a row: the same answer as
    parsing both revisions whole, whatever the change."""
    import civicgen.diff as diff_module
    from civicgen.pipeline import diff

    root = tmp_path / "town"
    town(root, "id,item,amount", ROWS)
    base = commit_all(root, "Spending")
    town(root, "id,item,amount", change(ROWS))  # type: ignore[operator]
    head = commit_all(root, "A change", when=1_700_000_100)
    monkeypatch.chdir(root)
    taken = []
    original = diff_module.differing_rows
    monkeypatch.setattr(
        diff_module, "differing_rows", lambda *args: taken.append(original(*args)) or taken[-1]
    )
    fast = [(t.rows, t.schema) for t in diff(base, head).tables]
    assert (taken[0] is not None) == (change is not CHANGES[5]), "a line is a row but for one"
    monkeypatch.setattr(diff_module, "differing_rows", lambda *args: None)
    assert fast == [(t.rows, t.schema) for t in diff(base, head).tables]
