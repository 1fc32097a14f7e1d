"""What a citizen meets on the forge before any code runs: the issue forms (propose a
project, report a data error, add a tool), the pull-request template and the pre-commit
hook, in this repository and in what `civicgen new` scaffolds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_cli

FORMS = (
    "propose-a-project.yml",
    "report-a-data-error.yml",
    "add-a-tool.yml",
    "tell-us-where-a-tool-is-used.yml",
    "review-a-tool.yml",
)
FIELD_TYPES = {"markdown", "input", "textarea", "dropdown", "checkboxes"}


def check_issue_form(path: Path) -> None:
    """The shape GitHub's issue forms require: name, description, a body of known elements,
    each input with a unique id and a label, at least one of them required."""
    form = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(form["name"], str) and form["name"], path
    assert isinstance(form["description"], str) and form["description"], path
    ids = []
    for element in form["body"]:
        assert element["type"] in FIELD_TYPES, (path, element)
        if element["type"] == "markdown":
            assert element["attributes"]["value"].strip()
            continue
        assert re.fullmatch(r"[a-z][a-z0-9_-]*", element["id"]), element
        assert element["attributes"]["label"].strip()
        ids.append(element["id"])
    assert len(ids) == len(set(ids)) and ids, path
    assert any(e.get("validations", {}).get("required") for e in form["body"]), path


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("new") / "town"
    code, output = run_cli(tmp_path_factory.getbasetemp(), "new", str(folder), "--city",
                           "Springfield", "--currency", "USD")  # fmt: skip
    assert code == 0, output
    return folder


@pytest.mark.parametrize("name", FORMS)
def test_the_repository_and_a_new_portal_have_the_issue_forms(scaffold: Path, name: str) -> None:
    for root in (ROOT, scaffold):
        check_issue_form(root / ".github/ISSUE_TEMPLATE" / name)
    assert (scaffold / ".github/pull_request_template.md").is_file()


def test_a_broken_form_is_caught(tmp_path: Path) -> None:
    form = yaml.safe_load((ROOT / ".github/ISSUE_TEMPLATE" / FORMS[2]).read_text("utf-8"))
    form["body"][1]["id"] = form["body"][0]["id"]  # two fields with one id
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(form), encoding="utf-8")
    with pytest.raises(AssertionError):
        check_issue_form(tmp_path / "broken.yml")


def test_the_pre_commit_hook_runs_civicgen_validate_on_data_changes(portal: Path) -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "civicgen-validate" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for changed in ("datasets/madrid-budget/data/gastos-2014-2015.csv",
                    "tools-catalog/decidim.yaml", "mkdocs.yml", "other/datapackage.json"):  # fmt: skip
        assert files.search(changed), changed
    assert not files.search("README.md") and not files.search("civicgen/cli.py")
    program, *arguments = hook["entry"].split()
    assert program == "civicgen"
    assert run_cli(portal, *arguments)[0] == 0  # the entry, on the example city
    (portal / "tools-catalog/ckan.yaml").write_text(
        (portal / "tools-catalog/ckan.yaml").read_text().replace("AGPL-3.0-or-later", "NOPE")
    )
    code, output = run_cli(portal, *arguments)
    assert code == 1 and "tools-catalog/ckan.yaml" in output  # a commit it would stop


@pytest.mark.parametrize(
    ("form", "collection"),
    [("tell-us-where-a-tool-is-used.yml", "deployments"), ("review-a-tool.yml", "reviews")],
)
def test_the_marketplace_forms_ask_for_what_the_collection_holds(
    form: str, collection: str
) -> None:
    """Each question is a field of the record a maintainer writes from the issue (the review's
    consent aside); every required field of the schema is asked for but the record's id
    (from its file name) and a review's date; the ratings offer the scores the schema
    accepts."""
    import json

    from civicgen.stats.market import CRITERIA, SCORES

    descriptor = json.loads((ROOT / "tools-catalog/datapackage.json").read_text("utf-8"))
    schema = next(r for r in descriptor["resources"] if r["name"] == collection)["schema"]
    fields = {f["name"]: f for f in schema["fields"]}
    body = yaml.safe_load((ROOT / ".github/ISSUE_TEMPLATE" / form).read_text("utf-8"))["body"]
    asked = {e["id"] for e in body if e["type"] != "markdown"} - {"consent"}
    assert asked <= set(fields), asked - set(fields)
    required = {n for n, f in fields.items() if (f.get("constraints") or {}).get("required")}
    assert required - {"id", "date"} <= asked  # a review's date is the issue's
    for element in body:
        if element.get("id") in CRITERIA:
            assert element["attributes"]["options"][1:] == [str(s) for s in SCORES]
