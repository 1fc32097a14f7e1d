"""The command line, through click's CliRunner and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import replace_in

from civicgen.cli import main

pytestmark = pytest.mark.one_language  # nothing here depends on the languages


@pytest.fixture
def run(portal: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(portal)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def test_validate_valid_city_exits_0(run) -> None:
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("valid")


def test_validate_json_contract(run, portal: Path) -> None:
    replace_in(portal / "tools-catalog/ckan.yaml", "licence: AGPL-3.0-or-later", "licence: Nope-1")
    result = run("validate", "--format", "json")
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["valid"] is False
    assert set(payload["stats"]) == {"packages", "tables", "rows", "errors"}
    [error] = payload["errors"]
    assert {"code", "path", "row", "field", "message"} <= set(error)
    assert (error["code"], error["path"], error["field"], error["line"]) == (
        "unknown-licence",
        "tools-catalog/ckan.yaml",
        "licence",
        8,
    )


def test_validate_markdown_escapes_cells(run, portal: Path) -> None:
    replace_in(
        portal / "datasets/proposals/records/pb-2015-001.md", "district: Usera", "district: <b>|x"
    )
    result = run("validate", "--format", "markdown")
    assert result.exit_code == 1
    assert "&lt;b&gt;\\|x" in result.output and "<b>" not in result.output


def test_validate_one_package_folder(run, portal: Path) -> None:
    result = run("validate", "datasets/air-quality")
    assert result.exit_code == 0
    assert "1 package(s), 2 table(s), 4020 row(s): valid" in result.output


def test_annotations_for_github(run, portal: Path) -> None:
    replace_in(portal / "datasets/air-quality/data/stations.csv", "40.4234", "north")
    result = run("validate", "--annotations")
    assert result.exit_code == 1
    assert (
        "::error file=datasets/air-quality/data/stations.csv,line=2,title=type-error::"
        in result.output
    )


def test_usage_errors_exit_2(run) -> None:
    assert run("validate", "no/such/folder").exit_code == 2
    assert run("validate", "--format", "yaml").exit_code == 2
    assert run("build", "-f", "missing.yml").exit_code == 2


def test_package_outside_any_repository(tmp_path: Path, run) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "data.csv").write_text("a\n1\nx\n")
    (folder / "datapackage.json").write_text(
        json.dumps(
            {
                "name": "loose",
                "resources": [
                    {
                        "name": "data",
                        "path": "data.csv",
                        "schema": {"fields": [{"name": "a", "type": "integer"}]},
                    }
                ],
            }
        )
    )
    result = run("validate", str(folder))
    assert result.exit_code == 1
    assert 'data.csv, row 3, field "a" (1): "x" is not a whole number' in result.output


def test_build_refuses_invalid_data_and_keeps_the_old_site(run, portal: Path) -> None:
    assert run("build").exit_code == 0
    before = (portal / "site/index.html").read_bytes()
    replace_in(portal / "datasets/air-quality/data/stations.csv", "40.4234", "north")
    result = run("build")
    assert result.exit_code == 1  # invalid data: 1, as validate says
    assert "not valid, so nothing was published" in result.output
    assert (portal / "site/index.html").read_bytes() == before
    assert sorted(p.name for p in portal.iterdir() if p.name.startswith(".site")) == []


def test_console_script_and_module_entry_points(portal: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for command in (["civicgen"], [sys.executable, "-m", "civicgen"]):
        done = subprocess.run(
            [*command, "validate", "--format", "json"],
            cwd=portal,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["stats"]["tables"] == 12


def test_import_commands(run, tmp_path: Path) -> None:
    from conftest import ROOT

    fixtures = ROOT / "tests/fixtures"
    pabulib = run(
        "import",
        "pabulib",
        str(fixtures / "importers/spain_barcelona_2024_gracia.pb"),
        "--out",
        str(tmp_path / "pb"),
    )
    assert pabulib.exit_code == 0 and "wrote 5 files" in pabulib.output
    assert run("validate", str(tmp_path / "pb")).exit_code == 0
    broken = run(
        "import",
        "pabulib",
        str(fixtures / "importers/missing-cost.pb"),
        "--out",
        str(tmp_path / "broken"),
    )
    assert broken.exit_code == 1 and 'line 7, field "cost"' in broken.output
    assert not (tmp_path / "broken").exists() or not any((tmp_path / "broken").iterdir())
    sensor = run(
        "import",
        "smartcitizen",
        str(fixtures / "importers/25-10-01.CSV"),
        "--out",
        str(tmp_path / "sck"),
        "--station",
        "kit-1",
    )
    assert sensor.exit_code == 0 and "line 8: same station and time as line 7" in sensor.output
    assert run("validate", str(tmp_path / "sck")).exit_code == 0
    asked = run(
        "catalog",
        "import",
        str(fixtures / "dpga-entries/x-road.json"),
        "--out",
        str(tmp_path / "q"),
    )
    assert asked.exit_code == 2 and "give --hosting" in asked.output  # asked, never guessed
    assert not (tmp_path / "q").exists()
    tool = run(
        "catalog",
        "import",
        str(fixtures / "dpga-entries/x-road.json"),
        "--out",
        str(tmp_path / "tools"),
        "--hosting",
        "self-hosted",
        "--status",
        "stable",
        "--category",
        "interoperability",
    )
    assert tool.exit_code == 0 and (tmp_path / "tools/x-road.yaml").is_file()
    again = run(
        "catalog",
        "import",
        str(fixtures / "dpga-entries/x-road.json"),
        "--out",
        str(tmp_path / "tools"),
    )
    assert again.exit_code == 2  # the folder is not empty and --overwrite was not given


def test_validate_a_git_revision(run, portal: Path) -> None:
    from conftest import commit_all

    good = commit_all(portal, "Example city")  # nothing changed: HEAD again
    replace_in(portal / "datasets/air-quality/data/stations.csv", "40.4234", "north")
    assert run("validate").exit_code == 1  # the work tree is broken
    assert run("validate", "--rev", "HEAD").exit_code == 0  # the commit is not
    bad = commit_all(portal, "A broken latitude")
    result = run("validate", "--rev", bad, "--format", "json")
    assert result.exit_code == 1
    assert (
        json.loads(result.output)["errors"][0]["path"] == "datasets/air-quality/data/stations.csv"
    )
    assert run("validate", "--rev", good, "datasets/air-quality").exit_code == 0
    assert run("validate", "--rev", "no-such-revision").exit_code == 2
