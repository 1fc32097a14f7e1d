"""The diff reports descriptor changes: licence, title, sources, profile options, resources,
and packages added or deleted (with the figures they had)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

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
    import pygit2

    root = tmp_path / "town"
    folder = root / "datasets" / "spending"
    folder.mkdir(parents=True)
    descriptor = {
        "name": "spending",
        "licenses": [{"name": "CC0-1.0"}],
        "resources": [
            {
                "name": "lines",
                "path": "lines.csv",
                "schema": {"fields": [{"name": "item"}, {"name": "amount", "type": "number"}]},
            }
        ],
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (folder / "lines.csv").write_text("item,amount\npens,10\npens,10\nink,5\n", encoding="utf-8")
    pygit2.init_repository(str(root))
    commit_all(root, "Spending, with a line exported twice")
    (folder / "lines.csv").write_text("item,amount\npens,10\nink,5\n", encoding="utf-8")
    commit_all(root, "Remove the repeated line")
    [table] = diff_json(root)["tables"]
    assert [(r["kind"], r["key"]) for r in table["rows"]] == [("removed", ["pens", "10", "copy 2"])]
