"""Real MkDocs builds of the example city through the plugin."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import commit_all, make_portal, own_cache, replace_in, run_cli

from civicgen import forked
from civicgen.build import build_site
from civicgen.exceptions import BuildFault


def tree_digest(site: Path) -> dict[str, str]:
    return {
        p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the example city built once for the tests that only read it: (portal, site)."""
    portal = make_portal(tmp_path_factory.mktemp("built") / "city")
    with own_cache(tmp_path_factory):
        return portal, build_site(portal / "mkdocs.yml")


@pytest.fixture
def site(built: tuple[Path, Path]) -> Path:
    return built[1]


def test_a_page_for_every_dataset_proposal_and_tool(built: tuple[Path, Path]) -> None:
    portal, site = built
    datasets = [p.parent.name for p in (portal / "datasets").glob("*/datapackage.json")]
    proposals = [p.stem for p in (portal / "datasets/proposals/records").glob("*.md")]
    tools = [p.stem for p in (portal / "tools-catalog").glob("*.yaml")]
    assert len(proposals) >= 12 and len(tools) >= 15
    for path in (
        [f"datasets/{d}/index.html" for d in [*datasets, "tools-catalog"]]
        + [f"proposals/{p}/index.html" for p in proposals]
        + [f"tools/{t}/index.html" for t in tools]
    ):
        assert (site / path).is_file(), path


def test_dataset_page_has_schema_preview_and_downloads(site: Path) -> None:
    html = (site / "datasets/madrid-budget/index.html").read_text()
    assert "<caption>Campos de Expenditure budget lines</caption>" in html  # Spanish at the root
    english = (site / "en/datasets/madrid-budget/index.html").read_text()
    assert "<caption>Fields of Expenditure budget lines</caption>" in english
    assert "<td>SUELDOS DEL GRUPO A1</td>" in html  # the preview's first row
    assert 'href="data/gastos-2014-2015.csv"' in html and 'href="datapackage.json"' in html
    assert "Ayuntamiento de Madrid" in html  # attribution
    data = site / "datasets/madrid-budget/data/gastos-2014-2015.csv"
    assert (
        data.read_bytes()
        == (site.parent / "datasets/madrid-budget/data/gastos-2014-2015.csv").read_bytes()
    )


def test_proposal_page_links_its_budget_program(site: Path) -> None:
    html = (site / "en/proposals/pb-2015-001/index.html").read_text()  # English at /en/
    assert "budget line 17102 · ZONAS VERDES" in html
    assert "<strong>Parque de Pradolongo</strong>" in html  # the Markdown body, rendered


def test_generated_files_are_searchable(site: Path) -> None:
    from civicgen.search import indexed_pages

    locations = {page["url"] for page in indexed_pages(site)}
    assert {"/datasets/madrid-budget/", "/tools/decidim/", "/proposals/pb-2015-001/"} <= locations


def test_untrusted_text_is_sanitised(portal: Path) -> None:
    record = portal / "datasets/proposals/records/pb-2015-001.md"
    replace_in(
        record,
        "title: Shaded playground in Parque de Pradolongo",
        'title: "Shade <script>alert(1)</script> now"',
    )
    text = record.read_text()
    record.write_text(
        text + '\n<script>alert(2)</script><img src="https://evil.example/x.png">'
        '[click](javascript:alert(3)) <a href="https://ok.example" onclick="x()">ok</a>\n'
    )
    site = build_site(portal / "mkdocs.yml")
    html = (site / "proposals/pb-2015-001/index.html").read_text()
    assert "<script>alert" not in html and "alert(2)" not in html.replace("&lt;", "")
    assert "evil.example" not in html and "javascript:" not in html and "onclick" not in html
    assert "Shade &lt;script&gt;alert(1)&lt;/script&gt; now" in html
    assert '<a href="https://ok.example" rel="nofollow noopener noreferrer">ok</a>' in html
    listing = (site / "proposals/index.html").read_text()
    assert "<script>alert(1)" not in listing


def test_no_reference_to_another_host(site: Path) -> None:
    """Pages load nothing from elsewhere: no remote scripts, styles, fonts or images."""
    remote = re.compile(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(?:https?:)?//', re.I)
    canonical = re.compile(r'<link rel="canonical" href="https://civicgen\.example\.org/[^"]*">')
    for page in site.rglob("*.html"):
        assert not remote.search(canonical.sub("", page.read_text())), page  # names, loads nothing
    assert not list(site.rglob("*.woff2")) or all("fonts.g" not in p.name for p in site.rglob("*"))


def test_rebuild_is_byte_identical(portal: Path, tmp_path: Path, wait_for_clock: None) -> None:
    first = tree_digest(build_site(portal / "mkdocs.yml", tmp_path / "one"))
    for path in (portal / "content").rglob("*.md"):
        path.touch()
    second = tree_digest(build_site(portal / "mkdocs.yml", tmp_path / "two"))
    assert first == second
    manifest = (tmp_path / "two/SHA256SUMS").read_text().splitlines()
    assert f"{first['index.html']}  index.html" in manifest


def test_dates_come_from_git(portal: Path, tmp_path: Path) -> None:
    replace_in(
        portal / "mkdocs.yml", "https://civicgen.example.org/", "https://portal.example.org/"
    )
    commit_all(portal, "A later change", when=1_800_000_000)
    sitemap = (build_site(portal / "mkdocs.yml", tmp_path / "s") / "sitemap.xml").read_text()
    assert "<lastmod>2027-01-15</lastmod>" in sitemap


def test_plain_mkdocs_build_uses_the_plugin(portal: Path) -> None:
    done = subprocess.run(
        ["mkdocs", "build", "-q", "-d", "out"],
        cwd=portal,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (portal / "out/datasets/air-quality/index.html").is_file()


def test_plain_mkdocs_build_fails_on_invalid_data(portal: Path) -> None:
    replace_in(
        portal / "tools-catalog/ckan.yaml", "licence: AGPL-3.0-or-later", "licence: NOT-A-LICENCE"
    )
    done = subprocess.run(
        ["mkdocs", "build", "-d", "out"], cwd=portal, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1
    assert 'tools-catalog/ckan.yaml, line 8, field "licence": "NOT-A-LICENCE"' in done.stderr


def test_sensor_page_has_an_offline_station_map(site: Path) -> None:
    html = (site / "en/datasets/air-quality/index.html").read_text()
    start = html.index('<svg viewBox="0 0 640 400"')
    svg = html[start : html.index("</svg>", start)]
    assert '<title id="station-map-title">Where the stations are</title>' in svg
    assert svg.count("<circle") == 6 and "Parque del Retiro" in svg
    assert "href" not in svg  # nothing to fetch


def test_dataset_history_comes_from_git(portal: Path, tmp_path: Path) -> None:
    replace_in(
        portal / "datasets/madrid-budget/data/gastos-2014-2015.csv", ",102739\n", ",102740\n"
    )
    commit_all(
        portal, "Fix a budget line <b>(#12)</b>\n\nThe amount had a typo.", when=1_800_000_000
    )
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    budget = (site / "datasets/madrid-budget/index.html").read_text()
    assert (
        '<td><time datetime="2027-01-15">15 ene 2027</time></td><td>Fix a budget line '
        "&lt;b&gt;(#12)&lt;/b&gt;</td><td>Citizen</td>"
        '<td><a href="https://git.example.org/civicgen/portal/pull/12">#12</a></td>'
        "<td>data/gastos-2014-2015.csv</td>" in budget
    )
    assert '<td><time datetime="2023-11-14">14 nov 2023</time></td><td>Example city</td>' in budget
    english = (site / "en/datasets/madrid-budget/index.html").read_text()
    assert '<td><time datetime="2027-01-15">Jan 15, 2027</time></td>' in english
    stations = (site / "datasets/air-quality/index.html").read_text()
    assert "Fix a budget line" not in stations and "<td>Example city</td>" in stations


def test_history_links_to_the_forge_when_configured(portal: Path, tmp_path: Path) -> None:
    replace_in(
        portal / "mkdocs.yml",
        "repository_url: https://git.example.org/civicgen/portal",
        "repository_url: https://git.example.org/city/portal",
    )
    commit_all(portal, "Configure the forge (#3)")
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    html = (site / "datasets/proposals/index.html").read_text()
    assert '<a href="https://git.example.org/city/portal/commit/' in html


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[list[object]]:
    """The jobs each process civicgen.forked started was given (a spy on the real fork). A
    process per job, whatever threads other tests left in this pytest worker."""
    if sys.platform != "linux":
        pytest.skip("civicgen forks on Linux only: the languages build one after another")
    monkeypatch.setattr(forked, "spare_cores", lambda wanted: wanted)
    started: list[list[object]] = []
    fork = forked.fork

    def spied(jobs: list[object], run: Any) -> Any:
        started.append(jobs)
        return fork(jobs, run)

    monkeypatch.setattr(forked, "fork", spied)
    return started


def test_languages_side_by_side_are_the_bytes_of_one_after_another(
    portal: Path, tmp_path: Path, forks: list[list[object]]
) -> None:
    side_by_side = tree_digest(build_site(portal / "mkdocs.yml", tmp_path / "side"))
    assert [[job.language for job in jobs] for jobs in forks] == [["en"]]  # type: ignore[attr-defined]
    code, output = run_cli(portal, "build", "--jobs", "1", "--site-dir", str(tmp_path / "turn"))
    assert code == 0, output
    assert len(forks) == 1  # --jobs 1: no process forked for this second build
    in_turn = tree_digest(tmp_path / "turn")
    assert side_by_side == in_turn
    assert "en/index.html" in in_turn and "en/pagefind/pagefind-entry.json" in in_turn


def test_jobs_below_one_is_a_usage_error(portal: Path) -> None:
    code, output = run_cli(portal, "build", "--jobs", "0")
    assert code == 2 and "Invalid value for '--jobs': 0 is not in the range x>=1" in output
    assert not (portal / "site").exists()


def test_a_language_failing_beside_the_default_fails_the_build(
    portal: Path, tmp_path: Path, forks: list[list[object]]
) -> None:
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    before = tree_digest(site)
    (portal / "content/en/index.md").write_bytes(b"\xff\xfe not UTF-8 \x80")
    with pytest.raises(BuildFault, match="Error reading page .index.md.*save the file as UTF-8"):
        build_site(portal / "mkdocs.yml", tmp_path / "site")
    assert len(forks) == 2
    assert tree_digest(site) == before  # the site published before is untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftovers
