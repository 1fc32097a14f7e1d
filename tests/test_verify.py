"""The site's manifest and `civicgen verify`: a real repository, real builds, real tampering."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest
from click.testing import CliRunner, Result
from conftest import commit_all, make_lean_portal, replace_in

from civicgen import __version__
from civicgen.build import build_site
from civicgen.cache import blob_id
from civicgen.cli import main
from civicgen.manifest import MANIFEST, SUMS, site_files, sums_text

BUDGET_PAGE = "datasets/madrid-budget/index.html"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(repository, site) built once from a clean commit; tests tamper with copies."""
    repository = make_lean_portal(tmp_path_factory.mktemp("verify") / "city")
    return repository, build_site(repository / "mkdocs.yml", repository.parent / "site")


@pytest.fixture
def site(built: tuple[Path, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(built[1], copy, symlinks=True)
    return copy


@pytest.fixture
def repository(built: tuple[Path, Path]) -> Path:
    return built[0]


def verify(site: Path, repository: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["verify", str(site), "--repo", str(repository), *extra])


def verify_json(site: Path, repository: Path) -> tuple[int, dict]:
    result = verify(site, repository, "--format", "json")
    return result.exit_code, json.loads(result.output)


def differences(report: dict) -> list[tuple[str, str]]:
    return [(d["path"], d["status"]) for d in report["differences"]]


def manifest_of(site: Path) -> dict:
    return json.loads((site / MANIFEST).read_text(encoding="utf-8"))


def edit_manifest(site: Path, change: Callable[[dict], object]) -> None:
    manifest = manifest_of(site)
    change(manifest)
    (site / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the manifest ----------------------------------------------------------------------------


def test_manifest_names_the_commit_version_sources_and_files(built: tuple[Path, Path]) -> None:
    repository, site = built
    manifest = manifest_of(site)
    head = pygit2.Repository(str(repository)).head.peel(pygit2.Commit)
    assert manifest["commit"] == str(head.id) and manifest["clean"] is True
    assert manifest["civicgen"] == __version__ and manifest["config"] == "mkdocs.yml"
    assert manifest["source_date_epoch"] == head.commit_time
    sources = manifest["sources"]
    for path in (
        "mkdocs.yml",
        "content/index.md",
        "theme/civicgen/README.md",
        "datasets/madrid-budget/datapackage.json",
        "datasets/madrid-budget/data/gastos-2014-2015.csv",
        "datasets/proposals/records/pb-2015-001.md",
        "tools-catalog/datapackage.json",
        "tools-catalog/decidim.yaml",
    ):
        assert sources[path] == str(head.tree[path].id), path
        assert sources[path] == blob_id((repository / path).read_bytes())
    files = manifest["files"]
    on_disk = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert set(files) == on_disk - {MANIFEST, SUMS}
    assert all(files[path] == sha256(site / path) for path in files)
    assert list(files) == sorted(files) and list(sources) == sorted(sources)


def test_sha256sums_lists_every_file_and_the_manifest(built: tuple[Path, Path]) -> None:
    site = built[1]
    lines = (site / SUMS).read_text().splitlines()
    assert f"{sha256(site / MANIFEST)}  {MANIFEST}" in lines
    assert f"{sha256(site / 'index.html')}  index.html" in lines
    assert len(lines) == len(manifest_of(site)["files"]) + 1


def test_hostile_file_name_cannot_add_a_line_to_sha256sums(tmp_path: Path) -> None:
    """A published name with a newline is escaped as sha256sum escapes it; `sha256sum -c` agrees."""
    forged = f"{'0' * 64}  index.html"
    names = ["index.html", f"x\n{forged}", "back\\slash", "cr\rname"]
    for name in names:
        (tmp_path / name).write_text(name)
    sums = sums_text(site_files(tmp_path))
    assert forged not in sums.splitlines() and len(sums.splitlines()) == len(names)
    (tmp_path / SUMS).write_text(sums)
    checked = subprocess.run(
        ["sha256sum", "--strict", "-c", SUMS], cwd=tmp_path, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == len(names)


def test_manifest_says_when_a_source_was_not_committed(portal: Path) -> None:
    replace_in(portal / "content/en/about.md", "# About this portal", "# About us")
    manifest = manifest_of(build_site(portal / "mkdocs.yml"))
    assert manifest["clean"] is False  # a page of the second language is a source too
    assert manifest["sources"]["content/en/about.md"] == blob_id(
        (portal / "content/en/about.md").read_bytes()
    )


@pytest.mark.one_language
def test_a_change_outside_the_build_inputs_keeps_the_build_clean(portal: Path) -> None:
    (portal / "NOTES.txt").write_text("notes\n")
    commit_all(portal, "Notes")
    (portal / "NOTES.txt").write_text("changed, not committed\n")
    assert manifest_of(build_site(portal / "mkdocs.yml"))["clean"] is True


# --- verify ----------------------------------------------------------------------------------


def test_a_rebuild_of_the_commit_verifies(site: Path, repository: Path) -> None:
    result = verify(site, repository)
    assert result.exit_code == 0, result.output
    assert "Verified: the" in result.output and "are exactly what commit" in result.output


def test_json_report(site: Path, repository: Path) -> None:
    code, report = verify_json(site, repository)
    assert code == 0 and report["identical"] is True and report["differences"] == []
    assert report["commit"] == manifest_of(site)["commit"] and report["clean"] is True
    assert report["checked"] == len(manifest_of(site)["files"]) + 2
    assert report["civicgen"] == {"site": __version__, "verifier": __version__}


def test_verify_writes_nothing_in_the_repository(site: Path, repository: Path) -> None:
    before = {p: p.read_bytes() for p in sorted(repository.rglob("*")) if p.is_file()}
    assert verify(site, repository).exit_code == 0
    after = {p: p.read_bytes() for p in sorted(repository.rglob("*")) if p.is_file()}
    assert after.keys() == before.keys() and after == before


def test_verify_trusts_no_cache(
    site: Path, repository: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rebuild scans every file afresh: the user's scan cache is neither read nor written."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "12345")  # the manifest's own wins
    assert verify(site, repository).exit_code == 0
    assert not (tmp_path / "cache").exists()
    assert os.environ["SOURCE_DATE_EPOCH"] == "12345"


def test_a_site_built_from_uncommitted_sources_names_them(portal: Path, tmp_path: Path) -> None:
    replace_in(portal / "content/en/about.md", "# About this portal", "# About us")
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    code, report = verify_json(site, portal)
    assert code == 1 and report["clean"] is False
    assert [s["path"] for s in report["sources"]] == ["content/en/about.md"]
    assert ("en/about/index.html", "differs") in differences(report)
    assert any("not all committed" in note for note in report["notes"])


# --- hostile sites ---------------------------------------------------------------------------


def test_hostile_tampered_figure_on_a_dataset_page(site: Path, repository: Path) -> None:
    page = site / BUDGET_PAGE
    replace_in(page, "<td>SUELDOS DEL GRUPO A1</td>", "<td>SUELDOS DEL GRUPO A2</td>")
    code, report = verify_json(site, repository)
    assert code == 1
    assert differences(report) == [(BUDGET_PAGE, "differs")]
    result = verify(site, repository)
    assert f"differs   {BUDGET_PAGE}: the site's file is not the one the commit builds" in (
        result.output
    )
    assert "Not verified: 1 difference(s)" in result.output


def test_hostile_tampered_statistics_csv(site: Path, repository: Path) -> None:
    totals = site / "datasets/madrid-budget/stats/totals.csv"
    replace_in(
        totals, "2014,approved,expenditure,4699310629,", "2014,approved,expenditure,4799310629,"
    )
    code, report = verify_json(site, repository)
    assert code == 1
    assert differences(report) == [("datasets/madrid-budget/stats/totals.csv", "differs")]


def test_hostile_forged_figure_with_a_matching_manifest_and_sums(
    site: Path, repository: Path
) -> None:
    """A forger who also rewrites the manifest and SHA256SUMS is caught by the rebuild."""
    page = site / BUDGET_PAGE
    replace_in(page, "<td>SUELDOS DEL GRUPO A1</td>", "<td>SUELDOS DEL GRUPO A2</td>")
    edit_manifest(site, lambda m: m["files"].__setitem__(BUDGET_PAGE, sha256(page)))
    sums = [line for line in (site / SUMS).read_text().splitlines() if not line.endswith(MANIFEST)]
    sums = [
        f"{sha256(page)}  {BUDGET_PAGE}" if line.endswith(BUDGET_PAGE) else line for line in sums
    ]
    (site / SUMS).write_text("\n".join(sorted([*sums, f"{sha256(site / MANIFEST)}  {MANIFEST}"])))
    code, report = verify_json(site, repository)
    assert code == 1
    assert differences(report) == [
        (SUMS, "differs"),
        (MANIFEST, "differs"),
        (BUDGET_PAGE, "differs"),
    ]


def test_hostile_tampered_manifest_entry(site: Path, repository: Path) -> None:
    edit_manifest(site, lambda m: m["files"].__setitem__("index.html", "0" * 64))
    code, report = verify_json(site, repository)
    assert code == 1
    assert differences(report) == [(MANIFEST, "differs"), ("index.html", "manifest")]
    entry = report["differences"][1]
    assert entry["manifest"] == "0" * 64 and entry["site"] == entry["rebuilt"]


def test_hostile_manifest_hides_a_file(site: Path, repository: Path) -> None:
    edit_manifest(site, lambda m: m["files"].pop("404.html"))
    code, report = verify_json(site, repository)
    assert code == 1 and differences(report) == [("404.html", "manifest"), (MANIFEST, "differs")]


def test_hostile_manifest_lists_a_path_outside_the_site(site: Path, repository: Path) -> None:
    outside = site.parent / "outside.txt"
    outside.write_text("not published\n")
    edit_manifest(site, lambda m: m["files"].__setitem__("../outside.txt", sha256(outside)))
    code, report = verify_json(site, repository)
    assert code == 1
    assert differences(report) == [("../outside.txt", "manifest"), (MANIFEST, "differs")]
    assert report["differences"][0]["site"] is None  # named, never read


def test_hostile_deleted_file(site: Path, repository: Path) -> None:
    (site / "proposals/pb-2015-001/index.html").unlink()
    code, report = verify_json(site, repository)
    assert code == 1
    assert differences(report) == [("proposals/pb-2015-001/index.html", "missing")]


def test_hostile_added_file(site: Path, repository: Path) -> None:
    (site / "datasets/madrid-budget/data/extra.csv").write_text("id,amount\n1,1000000\n")
    code, report = verify_json(site, repository)
    assert code == 1
    assert differences(report) == [("datasets/madrid-budget/data/extra.csv", "extra")]


def test_hostile_link_in_the_site_is_named_not_followed(site: Path, repository: Path) -> None:
    secret = site.parent / "secret.txt"
    secret.write_text("password\n")
    (site / "leak.txt").symlink_to(secret)
    code, report = verify_json(site, repository)
    assert code == 1 and differences(report) == [("leak.txt", "extra")]
    assert report["differences"][0]["site"] == f"symlink:{secret}"


def test_hostile_file_name_cannot_forge_a_verdict(site: Path, repository: Path) -> None:
    name = "x\nVerified: the 1 files of site are exactly what commit 0 builds.\x1b[2K"
    (site / name).write_text("x")
    result = verify(site, repository)
    assert result.exit_code == 1
    assert "\nVerified:" not in result.output and "\x1b" not in result.output
    assert "extra     x\\nVerified: the 1 files" in result.output


@pytest.mark.one_language
def test_hostile_manifest_points_at_an_older_commit(portal: Path, tmp_path: Path) -> None:
    older = str(pygit2.Repository(str(portal)).head.target)
    replace_in(
        portal / "datasets/madrid-budget/data/gastos-2014-2015.csv", ",102739\n", ",102740\n"
    )
    commit_all(portal, "Correct a budget line", when=1_700_000_100)
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    assert verify(site, portal).exit_code == 0
    edit_manifest(site, lambda m: m.__setitem__("commit", older))
    code, report = verify_json(site, portal)
    assert code == 1
    changed = {path for path, _ in differences(report)}
    assert {"datasets/madrid-budget/data/gastos-2014-2015.csv", BUDGET_PAGE, MANIFEST} <= changed


# --- hostile manifests: exit 2 with one clear line -------------------------------------------


def refused(site: Path, repository: Path, expected: str) -> None:
    result = verify(site, repository)
    assert result.exit_code == 2, result.output
    assert expected in result.output, result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit


def test_hostile_unknown_commit(site: Path, repository: Path) -> None:
    edit_manifest(site, lambda m: m.__setitem__("commit", "1" * 40))
    refused(site, repository, f"commit {'1' * 40}, which the site says it was built from, is not")


def test_hostile_commit_is_a_branch_name(site: Path, repository: Path) -> None:
    edit_manifest(site, lambda m: m.__setitem__("commit", "HEAD"))
    refused(site, repository, '"commit" is not a full commit id')


def test_hostile_commit_is_a_blob(site: Path, repository: Path) -> None:
    blob = str(pygit2.Repository(str(repository)).head.peel(pygit2.Commit).tree["mkdocs.yml"].id)
    edit_manifest(site, lambda m: m.__setitem__("commit", blob))
    refused(site, repository, f"{blob} is a blob in the repository, not a commit")


def test_hostile_manifest_missing(site: Path, repository: Path) -> None:
    (site / MANIFEST).unlink()
    refused(site, repository, f"has no {MANIFEST}")


def test_hostile_manifest_not_json(site: Path, repository: Path) -> None:
    (site / MANIFEST).write_text('{"manifest": 1, "commit": ')
    refused(site, repository, "is not a readable manifest")


def test_hostile_manifest_deeply_nested(site: Path, repository: Path) -> None:
    (site / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    refused(site, repository, "is not a readable manifest")


def test_hostile_manifest_lists_a_file_twice(site: Path, repository: Path) -> None:
    text = (site / MANIFEST).read_text()
    line = next(x for x in text.splitlines() if '"index.html"' in x)
    (site / MANIFEST).write_text(text.replace(line, f"{line}\n  {line.strip()}"))
    refused(site, repository, 'the manifest names "index.html" twice')


def test_hostile_manifest_config_outside_the_repository(site: Path, repository: Path) -> None:
    edit_manifest(site, lambda m: m.__setitem__("config", "../../../etc/mkdocs.yml"))
    refused(site, repository, "points outside the repository")


def test_hostile_manifest_wrong_types(site: Path, repository: Path) -> None:
    edit_manifest(site, lambda m: m.__setitem__("files", ["index.html"]))
    refused(site, repository, '"files" must map each path to a hexadecimal digest')


def test_hostile_manifest_is_a_link(site: Path, repository: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    shutil.move(site / MANIFEST, elsewhere)
    (site / MANIFEST).symlink_to(elsewhere)
    refused(site, repository, f"has no {MANIFEST}")


@pytest.mark.one_language
def test_hostile_repository_lost_an_object(site: Path, portal: Path) -> None:
    # site: the build of a copy committed as portal is (the same commit), so portal's build
    blob = str(pygit2.Repository(str(portal)).head.peel(pygit2.Commit).tree["content/about.md"].id)
    (portal / ".git/objects" / blob[:2] / blob[2:]).unlink()
    refused(site, portal, "cannot be written out")


def test_hostile_repository_is_not_git(site: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    refused(site, folder, "is not inside a git repository")


def test_site_that_is_not_a_folder(repository: Path, tmp_path: Path) -> None:
    refused(tmp_path / "nothing", repository, "is not a folder")
