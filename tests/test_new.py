"""civicgen new: another city gets a working portal from one command."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
from click.testing import CliRunner

from civicgen import validate
from civicgen.build import build_site
from civicgen.cli import main


def test_new_city_validates_and_builds(tmp_path: Path) -> None:
    folder = tmp_path / "springfield"
    city = 'Springfield "Illinois"'
    options = ["--city", city, "--lang", "en", "--currency", "USD"]
    result = CliRunner().invoke(main, ["new", str(folder), *options])
    assert result.exit_code == 0, result.output
    budget = json.loads((folder / "datasets/budget/datapackage.json").read_text())
    assert budget["title"] == f"{city} budget"
    assert budget["civicgen"]["budget"]["currency"] == "USD"
    assert "${{ github.token }}" in (folder / ".github/workflows/comment.yml").read_text()
    repository = pygit2.Repository(str(folder))
    assert repository.head.peel(pygit2.Commit).message == f"A portal for {city}"
    assert validate([str(folder)]).report.valid
    site = build_site(folder / "mkdocs.yml")
    assert f"<title>{city} open data</title>" in (site / "index.html").read_text()
    pages = (
        "datasets/budget/index.html",
        "proposals/example-proposal/index.html",
        "tools/index.html",
        "contributing/index.html",
    )
    assert all((site / page).is_file() for page in pages)


def test_new_refuses_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken/file.txt").write_text("mine")
    assert runner.invoke(main, ["new", str(tmp_path / "taken"), "--city", "X"]).exit_code == 2
    assert (
        runner.invoke(
            main, ["new", str(tmp_path / "a"), "--city", "X", "--currency", "euro"]
        ).exit_code
        == 2
    )
    assert (
        runner.invoke(
            main, ["new", str(tmp_path / "b"), "--city", "X", "--lang", "English"]
        ).exit_code
        == 2
    )
    assert not (tmp_path / "a").exists() and (tmp_path / "taken/file.txt").read_text() == "mine"
