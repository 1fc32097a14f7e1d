"""Any city: a portal made with `civicgen new --currency USD`, its data in another folder,
and a budget in another layout (phases as columns, `;`, latin-1, decimal commas, a
standard FDP v0.3 mapping) validates, builds and shows its own figures, with no trace of
the example city."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, commit_all, replace_in, run_cli

FIXTURE = ROOT / "tests/fixtures/second-city/datasets/orcamento-despesas"
BUDGET_CSV = "data/despesas-2023-2024.csv"
MADRID_TRACES = ("Madrid", "EUR", "€", "PROGRAMA", "CAPITULO", "CENTRO", "AÑO")


@pytest.fixture(scope="module")
def springfield(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new USD city whose data lives in open-data/, with a second budget in another layout."""
    city = tmp_path_factory.mktemp("any") / "springfield"
    code, output = run_cli(
        city.parent, "new", str(city), "--city", "Springfield", "--lang", "en", "--currency", "USD"
    )
    assert code == 0, output
    (city / "datasets").rename(city / "open-data")
    replace_in(city / "mkdocs.yml", "datasets_dir: datasets", "datasets_dir: open-data")
    replace_in(city / "mkdocs.yml", "  - datasets\n", "  - open-data\n")
    export = city / "open-data" / "orcamento-despesas"
    shutil.copytree(FIXTURE, export)
    descriptor = export / "datapackage.json"
    descriptor.write_text(descriptor.read_text("utf-8").replace('"BRL"', '"USD"'), "utf-8")
    shutil.copy(ROOT / "tools-catalog/decidim.yaml", city / "tools-catalog/decidim.yaml")
    commit_all(city, "Our budget, as the finance office exports it")
    return city


def test_the_city_validates_where_its_configuration_says(springfield: Path) -> None:
    code, output = run_cli(springfield, "validate")
    assert code == 0, output
    assert "open-data/orcamento-despesas" not in output


def test_errors_are_found_where_they_are(springfield: Path, tmp_path: Path) -> None:
    city = tmp_path / "copy"
    shutil.copytree(springfield, city)
    table = city / "open-data/orcamento-despesas" / BUDGET_CSV
    lines = table.read_bytes().split(b"\n")
    cells = lines[4].split(b";")
    cells[-1] = b"12,3,4"  # not a number with a decimal comma
    lines[4] = b";".join(cells)
    table.write_bytes(b"\n".join(lines))
    code, output = run_cli(city, "validate", "--format", "json")
    assert code == 1
    [error] = json.loads(output)["errors"]
    assert (error["code"], error["path"], error["row"]) == (
        "type-error",
        f"open-data/orcamento-despesas/{BUDGET_CSV}",
        5,
    )
    code, output = run_cli(city, "build")
    assert code == 1 and "nothing was published" in output
    assert not (city / "site").exists()


def test_the_portal_shows_its_breakdowns_in_its_currency(springfield: Path) -> None:
    code, output = run_cli(springfield, "build")
    assert code == 0, output
    site = springfield / "site"
    page = (site / "datasets/orcamento-despesas/index.html").read_text("utf-8")
    stats = json.loads(run_cli(springfield, "stats", "orcamento-despesas", "--format", "json")[1])
    nodes = next(t for t in stats["tables"] if t["name"] == "classifications")
    classifications = {row["classification"] for row in nodes["rows"]}
    assert len(classifications) >= 3
    for row in nodes["rows"][:5]:
        assert row["code"] in page
    assert "USD" in page
    for name in ("datasets/orcamento-despesas/index.html", "proposals/index.html", "index.html"):
        text = (site / name).read_text("utf-8")
        assert [t for t in MADRID_TRACES if t in text] == [], name
    assert "$10,000" in (site / "proposals/index.html").read_text("utf-8")  # USD, in English


def test_every_page_type_shows_its_figures(springfield: Path) -> None:
    site = springfield / "site"
    if not site.exists():
        assert run_cli(springfield, "build")[0] == 0
    pages = {
        "datasets/index.html": ["orcamento-despesas", "budget", "proposals", "tools-catalog"],
        "proposals/index.html": ["1 proposals", "$10,000"],
        "proposals/example-proposal/index.html": ["$10,000"],
        "tools/index.html": ["1 tools", "Decidim"],
        "tools/decidim/index.html": ["Decidim", "AGPL-3.0"],
        "datasets/budget/index.html": ["USD", "Example:"],
    }
    for name, figures in pages.items():
        text = (site / name).read_text("utf-8")
        assert [f for f in figures if f not in text] == [], name
