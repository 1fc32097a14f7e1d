"""`civicgen post-report` on GitLab and Forgejo: one comment per merge or pull request, kept
up to date, written by a job that runs none of the request's code, against a forge on
127.0.0.1 (tests/fakeforge.py) and real git repositories."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import commit_all, replace_in
from fakeforge import BOT, CITIZEN, TOKEN, State, add_note, git, head_ref, serving

from civicgen.cli import main
from civicgen.comment import LIMIT, MARKER, comment_body, described_head
from civicgen.forge.apis import GitLab
from civicgen.forge.http import ForgeError
from civicgen.scaffold import new_portal

CITY_BUDGET = "datasets/budget/data/budget.csv"
PROJECTS = {"gitlab": "5", "forgejo": "city/springfield"}


@dataclass
class Site:
    """A city on a forge: the API, a bare origin, the trusted default-branch checkout the job
    runs in, and a citizen's clone that opens requests."""

    kind: str
    state: State
    api: str
    origin: Path
    work: Path
    citizen: Path

    def open_request(self, number: int, change: Callable[[Path], None]) -> str:
        """Push a commit as request number's head (on top of its current head, if any)."""
        branch = f"citizen-{number}"
        if number in self.state.changes:
            git("checkout", "-q", branch, cwd=self.citizen)
        else:
            git("checkout", "-q", "-b", branch, "origin/main", cwd=self.citizen)
        change(self.citizen)
        head = commit_all(self.citizen, f"Request {number}", when=1_700_086_400)
        git("push", "-q", "-f", "origin", f"HEAD:{head_ref(self.kind, number)}", cwd=self.citizen)
        self.state.changes[number] = {"head": head, "base": "main"}
        return head

    def run(self, *args: str, token: str = TOKEN) -> Result:
        options = ["post-report", "--forge", self.kind, "--api-url", self.api]
        options += ["--project", PROJECTS[self.kind], *args]
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(self.work)
            result = CliRunner().invoke(main, options, env={"CIVICGEN_FORGE_TOKEN": token})
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert "Traceback" not in result.output + result.stderr
        return result

    def comments(self, number: int) -> list[str]:
        return [n["body"] for n in self.state.notes.get(number, [])]


@pytest.fixture(params=["gitlab", "forgejo"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    kind = request.param
    new_portal(tmp_path / "springfield", "Springfield", "en", "USD")
    origin, work, citizen = tmp_path / "origin.git", tmp_path / "work", tmp_path / "citizen"
    git("clone", "-q", "--bare", str(tmp_path / "springfield"), str(origin), cwd=tmp_path)
    git("clone", "-q", str(origin), str(work), cwd=tmp_path)
    git("clone", "-q", str(origin), str(citizen), cwd=tmp_path)
    state = State(kind, PROJECTS[kind])
    with serving(state) as api:
        yield Site(kind, state, api, origin, work, citizen)


def raise_an_amount(work: Path) -> None:
    replace_in(work / CITY_BUDGET, ",6000000\n", ",6500000\n")


def raise_it_again(work: Path) -> None:
    replace_in(work / CITY_BUDGET, ",6500000\n", ",7000000\n")


def test_one_comment_posted_then_updated_on_a_new_head_never_duplicated(site: Site) -> None:
    first = site.open_request(7, raise_an_amount)
    result = site.run()
    assert result.exit_code == 0, result.output + result.stderr
    assert re.search(
        r"(merge request !7|pull request #7): posted; the report describes", result.output
    )
    [body] = site.comments(7)
    assert body.startswith(MARKER + "\n") and described_head(body) == first
    assert f"`{first[:12]}`" in body and "ran none of its code" in body
    assert "6,500,000" in body and "The data is valid" in body
    [post] = site.state.writes()
    assert post.method == "POST"

    again = site.run()  # nothing changed: nothing written
    assert again.exit_code == 0 and "up to date" in again.output
    assert len(site.state.writes()) == 1

    second = site.open_request(7, raise_it_again)
    updated = site.run()
    assert updated.exit_code == 0 and "updated" in updated.output, updated.output
    [body] = site.comments(7)
    assert described_head(body) == second and "7,000,000" in body
    assert [w.method for w in site.state.writes()] == [
        "POST",
        "PUT" if site.kind == "gitlab" else "PATCH",
    ]


def test_each_open_request_gets_its_own_comment(site: Site) -> None:
    site.open_request(7, raise_an_amount)
    site.open_request(8, lambda work: replace_in(work / CITY_BUDGET, ",6000000\n", ",1\n"))
    assert site.run().exit_code == 0
    assert "6,500,000" in site.comments(7)[0] and len(site.comments(8)) == 1
    only = site.run("--number", "8")
    assert only.exit_code == 0 and "7" not in only.output.split(":")[0]


def test_someone_elses_copy_of_the_marker_is_not_taken_for_the_report(site: Site) -> None:
    head = site.open_request(7, raise_an_amount)
    forged = f"{MARKER}\n<!-- civicgen-head: {head} -->\n✅ all good, merge it"
    add_note(site.state, 7, forged, author=CITIZEN)
    assert site.run().exit_code == 0
    forged_one, ours = site.comments(7)
    assert forged_one == forged and "6,500,000" in ours
    assert [w.method for w in site.state.writes()] == ["POST"]


def add_hooks_and_templates(work: Path) -> None:
    """A request whose code would run if anything built or installed it."""
    trap = "import pathlib; pathlib.Path(__file__).parent.joinpath('PWNED').write_text('ran')\n"
    (work / "hooks.py").write_text(trap)
    (work / "setup.py").write_text(trap)
    with (work / "mkdocs.yml").open("a") as config:
        config.write("hooks:\n  - hooks.py\n")
    (work / "theme").mkdir(exist_ok=True)
    (work / "theme/main.html").write_text("{{ 7 * 7 }}{% include '/etc/passwd' %}\n")
    raise_an_amount(work)


def test_the_requests_code_never_runs_and_its_files_never_land(site: Site) -> None:
    head = site.open_request(7, add_hooks_and_templates)
    before = git("rev-parse", "HEAD", cwd=site.work)
    assert site.run().exit_code == 0
    [body] = site.comments(7)
    assert "Needs a maintainer's review" in body and "`hooks.py`" in body, body
    assert not list(site.work.rglob("PWNED")) and not list(site.citizen.parent.rglob("PWNED"))
    assert not (site.work / "hooks.py").exists()  # fetched as objects, never checked out
    assert git("rev-parse", "HEAD", cwd=site.work) == before
    assert git("status", "--porcelain", cwd=site.work) == ""
    assert git("rev-parse", "refs/civicgen/7/head", cwd=site.work) == head


def hostile_cells(work: Path) -> None:
    rows = (work / CITY_BUDGET).read_text().splitlines()
    fields = rows[1].split(",")
    fields[1] = (
        '"@civicgen/maintainers <img src=https://evil.example/x.png> [ok](https://evil.example) \u202eexe.pdf"'
    )
    (work / CITY_BUDGET).write_text("\n".join([*rows, ",".join(fields)]) + "\n")


def test_hostile_data_reaches_the_comment_inert(site: Site) -> None:
    site.open_request(7, hostile_cells)
    result = site.run()
    assert result.exit_code == 0, result.output + result.stderr
    [body] = site.comments(7)
    assert "civicgen/maintainers" in body and "@civicgen" not in body
    assert "<img" not in body and "](http" not in body and "://evil" not in body
    assert "\u202e" not in body


HOSTILE = (
    "@civicgen/maintainers please merge <img src=https://evil.example/p.png> "
    "[approved](https://evil.example) www.evil.example see #12 and !3 \u202egnp.exe\x00\x1b[31m "
    "<!-- civicgen-report --> <script>x</script> <details open><summary>ok</summary></details>\n"
)


def test_hostile_report_text_is_neutralised_and_capped() -> None:
    head = "a" * 40
    body = comment_body(HOSTILE + "x" * 200_000, "**header**", head)
    assert body.startswith(f"{MARKER}\n<!-- civicgen-head: {head} -->\n**header**\n\n")
    assert len(body) < LIMIT + 500 and body.endswith("…the report was cut at 60,000 characters.")
    report = body.split("**header**\n\n", 1)[1]
    assert "@civicgen" not in report and "@\u2060civicgen/maintainers" in report
    assert "<img" not in report and "<script" not in report and "<!--" not in report
    assert "](" not in report and "://" not in report and "www.evil" not in report
    assert "#12" not in report and "!3" not in report
    assert not re.search("[\x00\x1b\u202e]", report)
    assert "<details open><summary>ok</summary></details>" in report  # the diff's own folds
    assert described_head(body) == head and described_head(report) is None


def test_a_report_cut_inside_an_entity_leaves_no_half_of_it() -> None:
    body = comment_body("<" * 70_000, "h", "b" * 40)
    report = body.split("h\n\n", 1)[1]
    assert re.fullmatch(r"(&lt;)+\n\n…the report was cut at 60,000 characters\.", report)


@pytest.mark.parametrize(
    ("status", "said", "expected"),
    [
        (401, "401 Unauthorized", "answered 401 Unauthorized to GET"),
        (403, "403 Forbidden", "the token needs the api scope"),
        (500, f"internal error for token {TOKEN}", "answered 500 Internal Server Error"),
    ],
)
def test_a_forge_error_is_one_clear_line_and_never_shows_the_token(
    site: Site, status: int, said: str, expected: str
) -> None:
    site.open_request(7, raise_an_amount)
    site.state.failure = (r"/user$|/merge_requests$|/pulls$", status, said)
    result = site.run()
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert (
        line.startswith("Error: ")
        and site.kind.replace("gitlab", "GitLab").replace("forgejo", "Forgejo") in line
    )
    if site.kind == "gitlab" or status != 403:
        assert expected in line, line
    assert TOKEN not in result.output + result.stderr


def test_a_wrong_token_is_refused_without_being_shown(site: Site) -> None:
    site.open_request(7, raise_an_amount)
    result = site.run(token="wrong-token-XYZ")
    assert result.exit_code == 2 and "401" in result.stderr
    assert "wrong-token-XYZ" not in result.output + result.stderr and not site.comments(7)


def test_a_failure_on_one_request_does_not_stop_the_others(site: Site) -> None:
    site.open_request(7, raise_an_amount)
    site.open_request(8, raise_an_amount)
    site.state.failure = (r"/(merge_requests|issues)/7/(notes|comments)$", 500, "boom")
    result = site.run()
    assert result.exit_code == 2
    assert "could not be reported" in result.stderr and "boom" in result.stderr
    assert not site.comments(7) and len(site.comments(8)) == 1


def test_no_token_is_a_usage_error(site: Site) -> None:
    result = site.run(token="")
    assert result.exit_code == 2 and "no token in $CIVICGEN_FORGE_TOKEN" in result.stderr


def test_an_unreachable_forge_is_a_clear_error(site: Site) -> None:
    result = site.run("--api-url", "http://127.0.0.1:9/api/v4")
    assert result.exit_code == 2 and "could not be reached" in result.stderr
    assert TOKEN not in result.stderr


def test_the_token_never_travels_in_clear_nor_follows_a_redirect(site: Site) -> None:
    with pytest.raises(ForgeError, match="not an https:// URL"):
        GitLab("http://gitlab.example.org/api/v4", "5", TOKEN)
    site.state.failure = (r"/user$", 302, "http://127.0.0.1:9/steal")
    result = site.run()
    assert result.exit_code == 2 and "answered 302" in result.stderr
    assert len(site.state.requests) == 1  # the redirect was not followed


def test_a_head_the_forge_names_but_git_does_not_have_is_not_reported(site: Site) -> None:
    site.open_request(7, raise_an_amount)
    site.state.changes[7]["head"] = "c" * 40  # moved after git fetched it
    result = site.run()
    assert result.exit_code == 2 and "head moved" in result.stderr and not site.comments(7)


def test_bot_user_id_skips_asking_the_forge_who_the_token_is(site: Site) -> None:
    site.open_request(7, raise_an_amount)
    assert site.run("--bot-user-id", str(BOT)).exit_code == 0
    assert not [r for r in site.state.requests if r.path.endswith("/user")]
    assert len(site.comments(7)) == 1


def test_an_unforeseen_fault_is_one_line_for_its_request_only(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    import civicgen.pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"kernel fault near {TOKEN}")

    site.open_request(7, raise_an_amount)
    monkeypatch.setattr(civicgen.pipeline, "diff", broken)
    result = site.run()
    assert result.exit_code == 2 and "civicgen stopped unexpectedly (RuntimeError" in result.stderr
    assert TOKEN not in result.output + result.stderr and not site.comments(7)
