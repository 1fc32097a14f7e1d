"""civicgen new: another city gets a working portal from one command."""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import material
import pygit2
import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT, replace_in

import civicgen
from civicgen import __version__, validate
from civicgen.build import build_site
from civicgen.cli import main
from civicgen.exceptions import CivicgenException
from civicgen.scaffold import new_portal


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
    def new(folder: str, *options: str) -> str:
        result = CliRunner().invoke(main, ["new", str(tmp_path / folder), "--city", "X", *options])
        assert result.exit_code == 2
        return result.output

    (tmp_path / "taken").mkdir()
    (tmp_path / "taken/file.txt").write_text("mine")
    assert "is not empty" in new("taken", "--currency", "USD")
    assert "ISO 4217" in new("a", "--currency", "euro")
    assert "not a language code" in new("b", "--lang", "English", "--currency", "USD")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert (tmp_path / "taken/file.txt").read_text() == "mine"


# --- the city's files and the engine stay apart ---------------------------------------------

CITY_FILES = {
    ".forgejo/workflows/comment.yml",
    ".forgejo/workflows/validate.yml",
    ".github/ISSUE_TEMPLATE/add-a-tool.yml",
    ".github/ISSUE_TEMPLATE/config.yml",
    ".github/ISSUE_TEMPLATE/propose-a-project.yml",
    ".github/ISSUE_TEMPLATE/report-a-data-error.yml",
    ".github/ISSUE_TEMPLATE/review-a-tool.yml",
    ".github/ISSUE_TEMPLATE/tell-us-where-a-tool-is-used.yml",
    ".github/pull_request_template.md",
    ".github/workflows/comment.yml",
    ".github/workflows/deploy.yml",
    ".github/workflows/validate.yml",
    ".gitignore",
    ".gitlab-ci.yml",
    "README.md",
    "content/contributing.md",
    "content/index.md",
    "datasets/budget/data/budget.csv",
    "datasets/budget/datapackage.json",
    "datasets/enquiries/datapackage.json",
    "datasets/enquiries/records/example-question.yaml",
    "datasets/proposals/datapackage.json",
    "datasets/proposals/records/example-proposal.md",
    "mkdocs.yml",
    "requirements.txt",
    "theme/civicgen/README.md",
    "tools-catalog/datapackage.json",
}
ENGINE_SUFFIXES = {".py", ".pyx", ".so", ".html", ".css", ".js", ".j2", ".toml", ".cfg"}
TRACES_OF_MADRID = re.compile(r"Madrid|\bEUR\b|€|\bPROGRAMA|\bCAPITULO|\bCENTRO")


@pytest.fixture(scope="module")
def springfield(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A city made with `civicgen new --city Springfield --lang en --currency USD`."""
    folder = tmp_path_factory.mktemp("new") / "springfield"
    options = ["--city", "Springfield", "--lang", "en", "--currency", "USD"]
    result = CliRunner().invoke(main, ["new", str(folder), *options])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def springfield_site(springfield: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The city built by a real `civicgen build`, outside its repository."""
    return build_site(springfield / "mkdocs.yml", tmp_path_factory.mktemp("site") / "site")


def city_files(folder: Path) -> dict[str, bytes]:
    """Every file of the city's repository but git's own and the built site, by path."""
    files = (p for p in folder.rglob("*") if p.is_file() and not ignored(p.relative_to(folder)))
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


def ignored(path: Path) -> bool:
    """git's own folder, and the site a build writes (which .gitignore keeps out)."""
    return path.parts[0] in (".git", "site")


def engine_files() -> dict[bytes, str]:
    """The installed engine's files but the scaffold's templates, by content."""
    package = Path(civicgen.__file__).parent
    found = (
        p for p in package.rglob("*") if p.is_file() and "new" not in p.relative_to(package).parts
    )
    return {p.read_bytes(): p.name for p in found if "__pycache__" not in p.parts}


def test_new_city_holds_its_own_files_only(springfield: Path) -> None:
    files = city_files(springfield)
    assert set(files) == CITY_FILES
    assert not [path for path in files if Path(path).suffix in ENGINE_SUFFIXES]
    copies = engine_files()
    assert not [path for path, data in files.items() if data in copies]


def test_upgrading_civicgen_is_one_line_of_requirements_txt(springfield: Path) -> None:
    files = city_files(springfield)
    pins = [path for path, data in files.items() if PIN.search(data.decode())]
    assert pins == ["requirements.txt"]
    lines = (springfield / "requirements.txt").read_text().splitlines()
    assert [line for line in lines if not line.startswith("#")] == [f"civicgen=={__version__}"]


PIN = re.compile(r"civicgen\s*[=<>~!]=?\s*[0-9]")


def test_building_writes_nothing_into_the_city(springfield: Path, tmp_path: Path) -> None:
    before = city_files(springfield)
    build_site(springfield / "mkdocs.yml")  # into site/, which .gitignore keeps out
    repository = pygit2.Repository(str(springfield))
    assert repository.status(untracked_files="all", ignored=False) == {}
    assert city_files(springfield) == before and (springfield / "site/index.html").is_file()


def test_hostile_second_new_into_a_city_writes_nothing(springfield: Path) -> None:
    before = city_files(springfield)
    head = pygit2.Repository(str(springfield)).head.target
    options = ["--city", "Shelbyville", "--currency", "CAD"]
    result = CliRunner().invoke(main, ["new", str(springfield), *options])
    assert result.exit_code == 2 and "is not empty" in result.output
    assert city_files(springfield) == before
    assert pygit2.Repository(str(springfield)).head.target == head


def test_hostile_new_onto_a_file_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "portal").write_text("mine")
    with pytest.raises(CivicgenException, match="not empty"):
        new_portal(tmp_path / "portal", "X", "en", "USD")
    assert (tmp_path / "portal").read_text() == "mine"


# --- any city: its language, its currency, no trace of Madrid ---------------------------------


@pytest.mark.parametrize("lang", ["en", "es", "fr", "de", "pt", "pt-BR"])
def test_new_city_in_a_language_the_theme_speaks(tmp_path: Path, lang: str) -> None:
    new_portal(tmp_path / "city", "Ciudad", lang, "USD")
    config = yaml.safe_load((tmp_path / "city/mkdocs.yml").read_text())
    assert config["theme"]["language"] == lang
    page = (build_site(tmp_path / "city/mkdocs.yml") / "index.html").read_text()
    assert f'<html lang="{theme_word(lang, "language")}"' in page
    assert theme_word(lang, "action.skip") in page


def theme_word(lang: str, key: str) -> str:
    """mkdocs-material's own translation of key into lang."""
    partials = Path(material.__file__).parent / "templates/partials/languages"
    text = (partials / f"{lang}.html").read_text(encoding="utf-8")
    [word] = re.findall(rf'"{re.escape(key)}": "([^"]+)"', text)
    return word


def test_new_refuses_a_language_the_theme_cannot_show(tmp_path: Path) -> None:
    options = ["--city", "X", "--lang", "xx", "--currency", "USD"]
    result = CliRunner().invoke(main, ["new", str(tmp_path / "x"), *options])
    assert result.exit_code == 2 and 'no translation for "xx"' in result.output
    assert "pt-BR" in result.output and not (tmp_path / "x").exists()


def test_new_portal_assumes_no_currency(tmp_path: Path) -> None:
    with pytest.raises(CivicgenException, match="--currency"):
        new_portal(tmp_path / "city", "Springfield")
    assert not (tmp_path / "city").exists()


def test_new_city_language_spelt_as_the_theme_spells_it(tmp_path: Path) -> None:
    new_portal(tmp_path / "city", "Cidade", "pt-br", "BRL")
    assert "language: pt-BR\n" in (tmp_path / "city/mkdocs.yml").read_text()


def test_new_city_holds_no_trace_of_madrid(springfield: Path) -> None:
    hits = {
        p for p, data in city_files(springfield).items() if TRACES_OF_MADRID.search(data.decode())
    }
    assert hits == set()
    assert "USD" in (springfield / "datasets/budget/datapackage.json").read_text()


def test_new_city_example_budget_is_illustrative(springfield: Path) -> None:
    with (springfield / "datasets/budget/data/budget.csv").open(newline="") as data:
        rows = list(csv.DictReader(data))
    assert len(rows) > 10 and {row["phase"] for row in rows} == {"approved", "executed"}
    labels = [row[f] for row in rows for f in ("department_name", "program_name", "chapter_name")]
    assert all(label.startswith("Example: ") for label in labels)


def field_names(resource: dict[str, Any]) -> list[tuple[str, str, object]]:
    return [(f["name"], f["type"], f.get("constraints")) for f in resource["schema"]["fields"]]


def test_new_city_has_the_marketplace_and_questions_about_its_budget(
    springfield: Path, springfield_site: Path
) -> None:
    """What the example city has beyond tools, ready for the first one-file pull request:
    the catalog's five collections, and an enquiries package keyed into the new budget."""
    catalog = json.loads((springfield / "tools-catalog/datapackage.json").read_text("utf-8"))
    assert [r["name"] for r in catalog["resources"]] == [
        "tools", "deployments", "providers", "improvements", "reviews", "privacy",
    ]  # fmt: skip
    example = json.loads((ROOT / "tools-catalog/datapackage.json").read_text("utf-8"))
    assert [field_names(r) for r in catalog["resources"]] == [  # a copy that must not drift
        field_names(r) for r in example["resources"]
    ]
    assert [r["schema"].get("foreignKeys") for r in catalog["resources"]] == [
        r["schema"].get("foreignKeys") for r in example["resources"]
    ]
    enquiries = json.loads((springfield / "datasets/enquiries/datapackage.json").read_text())
    keys = enquiries["resources"][0]["schema"]["foreignKeys"]
    assert {(k["reference"]["package"], k["reference"]["resource"]) for k in keys} == {
        ("budget", "lines")
    }
    page = (springfield_site / "enquiries/index.html").read_text("utf-8")
    assert "What does the general administration program pay for, beyond staff?" in page
    nav = (springfield_site / "index.html").read_text("utf-8")
    assert 'href="enquiries/"' in nav and "Questions about the budget" in nav


def test_new_city_site_holds_no_trace_of_madrid(springfield_site: Path) -> None:
    hits = {}
    for page in springfield_site.rglob("*"):
        if page.suffix in (".html", ".json", ".csv", ".md"):
            found = TRACES_OF_MADRID.findall(page.read_text(encoding="utf-8", errors="replace"))
            if found:
                hits[page.relative_to(springfield_site).as_posix()] = sorted(set(found))
    assert hits == {}


def test_new_city_budget_page_shows_its_breakdowns_in_its_currency(springfield_site: Path) -> None:
    """This year's approved totals of one node per classification: sums no CSV row holds."""
    page = (springfield_site / "datasets/budget/index.html").read_text()
    breakdowns = {
        "Example: Public works": "9,200,000",  # administrative
        "Example: Social care": "4,750,000",  # functional
        "Example: Staff": "8,650,000",  # economic
    }
    shown = {node: in_one_table(page, node, total, "USD") for node, total in breakdowns.items()}
    assert shown == dict.fromkeys(breakdowns, True)


def in_one_table(page: str, *texts: str) -> bool:
    """Whether one table of the page holds every one of texts (escaped as HTML)."""
    tables = re.findall(r"<table.*?</table>", page, flags=re.S)
    return any(all(html.escape(text) in table for text in texts) for table in tables)


# --- the configuration: its name, and the data folder it names --------------------------------


def test_new_city_with_another_configuration_file(tmp_path: Path) -> None:
    new_portal(tmp_path / "city", "Springfield", "en", "USD", config_file="portal.yml")
    assert (tmp_path / "city/portal.yml").is_file() and not (tmp_path / "city/mkdocs.yml").exists()
    workflows = [tmp_path / "city" / p for p in CITY_FILES if "workflows/" in p or "gitlab" in p]
    commands = [
        line for w in workflows for line in w.read_text().splitlines() if COMMAND.search(line)
    ]
    assert len(commands) == 15  # 5 in GitHub's validate, 1 in deploy, 3+1 Forgejo, 4+1 GitLab
    assert all("--config-file portal.yml " in line for line in commands), commands
    assert "civicgen build --config-file portal.yml" in (tmp_path / "city/README.md").read_text()
    assert (build_site(tmp_path / "city/portal.yml") / "index.html").is_file()


COMMAND = re.compile(r"^\s*(- |run: |- run: )?civicgen (validate|diff|build|post-report)\b")


@pytest.mark.parametrize(
    "name", ["../portal.yml", "conf/portal.yml", ".gitlab-ci.yml", "portal.txt", ""]
)
def test_hostile_configuration_file_name_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(CivicgenException, match="cannot name the configuration file"):
        new_portal(tmp_path / "city", "Springfield", "en", "USD", config_file=name)
    assert not (tmp_path / "city").exists()


def move_the_data(city: Path, folder: str) -> None:
    """The city keeps its data packages in folder, as its mkdocs.yml says."""
    (city / "datasets").rename(city / folder)
    replace_in(city / "mkdocs.yml", "datasets_dir: datasets", f"datasets_dir: {folder}")
    replace_in(city / "mkdocs.yml", "  - datasets\n", f"  - {folder}\n")


def test_new_city_with_its_data_in_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    city = tmp_path / "springfield"
    new_portal(city, "Springfield", "en", "USD")
    move_the_data(city, "open-data")
    replace_in(city / "open-data/budget/data/budget.csv", ",6000000\n", ",lots\n")
    monkeypatch.chdir(city)
    result = CliRunner().invoke(main, ["validate", "--format", "json"])
    assert result.exit_code == 1, result.output
    [error] = json.loads(result.stdout)["errors"]
    assert error["path"] == "open-data/budget/data/budget.csv" and error["field"] == "amount"
    replace_in(city / "open-data/budget/data/budget.csv", ",lots\n", ",6000000\n")
    assert CliRunner().invoke(main, ["validate"]).exit_code == 0
    assert CliRunner().invoke(main, ["build", "--strict"]).exit_code == 0
    assert "Springfield budget" in (city / "site/datasets/budget/index.html").read_text()


SECOND_CITY_BUDGET = ROOT / "tests/fixtures/second-city/datasets/orcamento-despesas"


def test_new_usd_city_with_a_budget_in_another_layout_in_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    city = tmp_path / "springfield"
    new_portal(city, "Springfield", "en", "USD")
    move_the_data(city, "open-data")
    shutil.rmtree(city / "open-data/budget")
    shutil.rmtree(city / "open-data/enquiries")  # its example question is about the old budget
    replace_in(city / "mkdocs.yml", "      - Questions about the budget: enquiries/index.md\n", "")
    shutil.copytree(SECOND_CITY_BUDGET, city / "open-data/budget")
    replace_in(city / "open-data/budget/datapackage.json", '"BRL"', '"USD"', count=-1)
    data = city / "open-data/budget/data/despesas-2023-2024.csv"
    monkeypatch.chdir(city)
    with broken_cell(data, "277.694.905,62"):
        result = CliRunner().invoke(main, ["validate", "--format", "json"])
    assert result.exit_code == 1, result.output
    [error] = json.loads(result.stdout)["errors"]
    assert error["path"] == "open-data/budget/data/despesas-2023-2024.csv"
    assert (error["row"], error["field"]) == (2, "Vl_Orcado_Ano")
    assert CliRunner().invoke(main, ["build", "--strict"]).exit_code == 0
    page = (city / "site/datasets/orcamento-despesas/index.html").read_text()  # by its name
    total = approved_total(data, year="2023", department="16")
    assert in_one_table(page, "Secretaria Municipal de Educação", f"{total:,.0f}", "USD")
    for page in (city / "site").rglob("*.html"):
        assert not TRACES_OF_MADRID.search(page.read_text()), page


@contextmanager
def broken_cell(data: Path, value: str) -> Iterator[None]:
    """data with value replaced by a word, then restored."""
    before = data.read_bytes()
    data.write_bytes(before.replace(value.encode("latin-1"), b"lots", 1))
    yield
    data.write_bytes(before)


def approved_total(data: Path, year: str, department: str) -> float:
    """An independent sum of the approved amounts (decimal commas, latin-1, ';')."""
    with data.open(encoding="latin-1", newline="") as rows:
        return sum(
            float(row["Vl_Orcado_Ano"].replace(".", "").replace(",", "."))
            for row in csv.DictReader(rows, delimiter=";")
            if row["Cd_Exercicio"] == year and row["Cd_Orgao"] == department
        )


@pytest.mark.parametrize(
    "city",
    [
        "Springfield<script>alert(1)</script>",  # the theme prints site_name as it is
        "Springfield\u202e",  # a right-to-left override turns the text shown around
        "Spring\tfield",
        "   ",
    ],
)
def test_hostile_city_name_refused(tmp_path: Path, city: str) -> None:
    options = ["--city", city, "--currency", "USD"]
    result = CliRunner().invoke(main, ["new", str(tmp_path / "city"), *options])
    assert result.exit_code == 2 and "--city" in result.output
    assert not (tmp_path / "city").exists()


def test_hostile_city_name_with_template_syntax_stays_text(tmp_path: Path) -> None:
    city = "{{ 7*7 }} {% raw %}: # Town & Country's"
    new_portal(tmp_path / "city", city, "en", "USD")
    config = yaml.safe_load((tmp_path / "city/mkdocs.yml").read_text())
    assert config["site_name"] == f"{city} open data"
    site = build_site(tmp_path / "city/mkdocs.yml")
    home, budget = (
        (site / "index.html").read_text(),
        (site / "datasets/budget/index.html").read_text(),
    )
    assert f"<title>{city} open data</title>" in home
    assert "<h1>{{ 7*7 }} {% raw %}: # Town &amp; Country&#39;s budget</h1>" in budget
