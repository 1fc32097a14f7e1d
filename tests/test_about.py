"""The About page: the repository, the commit and its time, each dataset's licence, verify."""

from __future__ import annotations

from pathlib import Path

from conftest import commit_all, replace_in

from civicgen.build import build_site

REPOSITORY = "https://git.example.org/civicgen/portal"


def about_text(portal: Path) -> str:
    return (build_site(portal / "mkdocs.yml") / "en/about/index.html").read_text()  # English


def test_about_names_the_repository_the_commit_and_when(portal: Path) -> None:
    commit = commit_all(portal, "Published", when=1_750_000_000)  # 2025-06-15 15:06:40 UTC
    page = about_text(portal)
    assert "&lt;repository address&gt;" not in page
    assert f'<a href="{REPOSITORY}/commit/{commit}"><code>{commit[:12]}</code></a>' in page
    assert "2025-06-15 15:06 UTC" in page and f"git checkout {commit}" in page
    assert f"git clone {REPOSITORY}" in page
    assert "civicgen verify" in page and "SHA256SUMS" in page and "civicgen-manifest.json" in page
    assert "This is the transparency portal of an example city" in page  # the prose is kept


def test_about_lists_the_licence_of_each_dataset(example_site: Path) -> None:
    page = (example_site / "en/about/index.html").read_text()  # English
    assert (
        '<a href="../datasets/air-quality/">Air quality and noise sensors (synthetic example)</a>: '
        '<a href="https://creativecommons.org/publicdomain/zero/1.0/">'
        "Creative Commons Zero v1.0 Universal</a>"
    ) in page
    assert page.count("Creative Commons Attribution 4.0</a>") == 3  # proposals, enquiries, tools


def test_hostile_repository_url_that_is_a_script_is_not_linked(portal: Path) -> None:
    replace_in(portal / "mkdocs.yml", REPOSITORY, "javascript:alert(1)")
    commit_all(portal, "Hostile address", when=1_700_000_100)
    page = about_text(portal)
    assert "javascript:" not in page
    assert "Its address is not configured yet" in page


def test_hostile_licence_title_with_markup_stays_text(portal: Path) -> None:
    replace_in(
        portal / "datasets/air-quality/datapackage.json",
        '"title": "Creative Commons Zero v1.0 Universal"',
        '"title": "<img src=x onerror=alert(1)>CC0"',
    )
    commit_all(portal, "Hostile licence title", when=1_700_000_100)
    page = about_text(portal)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;CC0" in page


def test_without_about_md_there_is_no_about_page(portal: Path) -> None:
    (portal / "content/about.md").unlink()
    replace_in(portal / "mkdocs.yml", "  - About: about.md\n", "")
    commit_all(portal, "No About page", when=1_700_000_100)
    assert not (build_site(portal / "mkdocs.yml") / "about").exists()
