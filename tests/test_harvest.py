"""catalog.jsonld (DCAT-AP) and data.json (DCAT-US 1.1) validated by their own published
schema and shapes (tests/fixtures/dcat-*, see SOURCES.md there), and sitemap.xml."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyshacl
import pytest
import rdflib
from conftest import commit_all, replace_in, run_cli
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT4

from civicgen.build import build_site

FIXTURES = Path(__file__).parent / "fixtures"
SITE_URL = "https://civicgen.example.org/"


pytestmark = pytest.mark.one_language  # nothing here depends on the languages


@pytest.fixture(scope="module")
def site(example_site: Path) -> Path:
    return example_site  # the example city, built once (conftest)


def pod_validator() -> Draft4Validator:
    """DCAT-US 1.1 (non-federal) as published, $refs resolved offline."""
    schemas = [
        json.loads((FIXTURES / f"dcat-us/{name}").read_text())
        for name in ("catalog.json", "dataset-non-federal.json")
    ]
    registry = Registry().with_resources(
        (s["id"].rstrip("#"), DRAFT4.create_resource(s)) for s in schemas
    )
    return Draft4Validator(schemas[0], registry=registry, format_checker=FormatChecker())


def shacl_report(graph: rdflib.Graph) -> tuple[bool, str]:
    shapes = rdflib.Graph().parse(FIXTURES / "dcat-ap/dcat-ap-3.0.0-SHACL.jsonld", format="json-ld")
    conforms, _, text = pyshacl.validate(graph, shacl_graph=shapes, inference="none")
    return bool(conforms), str(text)


def catalog_graph(document: dict[str, Any]) -> rdflib.Graph:
    return rdflib.Graph().parse(data=json.dumps(document), format="json-ld")


def test_data_json_is_valid_dcat_us(site: Path) -> None:
    document = json.loads((site / "data.json").read_text())
    errors = [e.message for e in pod_validator().iter_errors(document)]
    assert errors == []
    titles = {d["title"] for d in document["dataset"]}
    assert "Madrid municipal budget 2014-2015: approved expenditure" in titles
    assert "Madrid municipal budget 2014-2015: approved expenditure: statistics" in titles


def test_catalog_conforms_to_the_dcat_ap_shapes(site: Path) -> None:
    conforms, text = shacl_report(catalog_graph(json.loads((site / "catalog.jsonld").read_text())))
    assert conforms, text


def test_hostile_catalogue_without_titles_fails_the_shapes(site: Path) -> None:
    """The shapes really judge the catalogue: a dataset without a title is a violation."""
    document = json.loads((site / "catalog.jsonld").read_text())
    del document["@graph"][0]["dcat:dataset"][0]["dct:title"]
    conforms, text = shacl_report(catalog_graph(document))
    assert not conforms and "MinCountConstraintComponent" in text and "dcterms:title" in text


def test_hostile_data_json_without_identifier_fails_the_schema(site: Path) -> None:
    document = json.loads((site / "data.json").read_text())
    del document["dataset"][0]["identifier"]
    assert any("identifier" in e.message for e in pod_validator().iter_errors(document))


def download_urls(site: Path) -> set[str]:
    pod = json.loads((site / "data.json").read_text())
    urls = {d["downloadURL"] for ds in pod["dataset"] for d in ds["distribution"]}
    graph = rdflib.Graph().parse(site / "catalog.jsonld", format="json-ld")
    urls |= {str(o) for o in graph.objects(None, rdflib.DCAT.downloadURL)}
    return urls


def test_every_download_url_is_a_file_of_the_site(site: Path) -> None:
    urls = download_urls(site)
    assert len(urls) > 20
    for url in urls:
        assert url.startswith(SITE_URL), url
        assert (site / unquote(url[len(SITE_URL) :])).is_file(), url
    published_csv = {p.relative_to(site).as_posix() for p in site.glob("datasets/**/*.csv")}
    assert published_csv == {unquote(u[len(SITE_URL) :]) for u in urls if u.endswith(".csv")}


def test_licences_keywords_and_dates_come_from_the_packages_and_git(portal: Path) -> None:
    replace_in(portal / "datasets/air-quality/datapackage.json", '"noise",', '"ruido",')
    commit_all(portal, "A Spanish keyword", when=1_750_000_000)  # 2025-06-15
    pod = json.loads((build_site(portal / "mkdocs.yml") / "data.json").read_text())
    [air] = [
        d
        for d in pod["dataset"]
        if d["title"] == "Air quality and noise sensors (synthetic example)"
    ]
    assert air["license"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert "ruido" in air["keyword"] and air["issued"] == "2023-11-14"
    assert air["modified"] == "2025-06-15"
    budget = next(d for d in pod["dataset"] if d["title"].startswith("Madrid municipal budget"))
    assert budget["modified"] == "2023-11-14"  # its folder did not change


def test_hostile_no_site_url_leaves_the_catalogues_out(portal: Path) -> None:
    replace_in(portal / "mkdocs.yml", "site_url: https://civicgen.example.org/\n", "")
    commit_all(portal, "No address yet", when=1_700_000_100)
    site = build_site(portal / "mkdocs.yml")
    assert not (site / "data.json").exists() and not (site / "catalog.jsonld").exists()
    assert (site / "index.html").is_file()  # the portal itself is built as before


@pytest.mark.parametrize(
    "hostile", ['https://example.org/"><script>alert(1)</script>/', "javascript:alert(1)//"]
)
def test_hostile_site_url_that_is_no_address_is_refused(portal: Path, hostile: str) -> None:
    replace_in(
        portal / "mkdocs.yml", "site_url: https://civicgen.example.org/", f"site_url: '{hostile}'"
    )
    commit_all(portal, "Odd address", when=1_700_000_100)
    status, output = run_cli(portal, "build")
    assert status == 2 and "site_url" in output and "Traceback" not in output
    assert not (portal / "site").exists()


# --- sitemap.xml ----------------------------------------------------------------------------


def test_sitemap_lists_every_page(site: Path) -> None:
    sitemap = (site / "sitemap.xml").read_text()
    listed = set(re.findall(r"<loc>([^<]+)</loc>", sitemap))
    pages = {
        SITE_URL + p.parent.relative_to(site).as_posix().removeprefix(".") + "/"
        for p in site.rglob("index.html")
        if "pagefind" not in p.parts
    }
    pages = {p.replace(SITE_URL + "/", SITE_URL) for p in pages}
    assert len(pages) > 40 and pages == listed


def test_hostile_licence_path_that_is_a_script_is_left_out(portal: Path) -> None:
    replace_in(
        portal / "datasets/air-quality/datapackage.json",
        '"path": "https://creativecommons.org/publicdomain/zero/1.0/"',
        '"path": "javascript:alert(1)"',
    )
    commit_all(portal, "Hostile licence path", when=1_700_000_100)
    site = build_site(portal / "mkdocs.yml")
    pod = json.loads((site / "data.json").read_text())
    air = next(d for d in pod["dataset"] if d["identifier"].endswith("/air-quality/"))
    assert "license" not in air  # no address at all rather than a script
    assert "javascript:" not in (site / "catalog.jsonld").read_text()
    assert "javascript:" not in (site / "about/index.html").read_text()
    assert pod_validator().is_valid(pod)


def test_hostile_file_name_with_spaces_and_accents_is_a_valid_address(portal: Path) -> None:
    folder = portal / "datasets/air-quality"
    (folder / "data/stations.csv").rename(folder / "data/estaciones año #1.csv")
    replace_in(folder / "datapackage.json", '"data/stations.csv"', '"data/estaciones año #1.csv"')
    commit_all(portal, "A file name with spaces", when=1_700_000_100)
    site = build_site(portal / "mkdocs.yml")
    urls = download_urls(site)
    assert SITE_URL + "datasets/air-quality/data/estaciones%20a%C3%B1o%20%231.csv" in urls
    for url in urls:
        assert (site / unquote(url[len(SITE_URL) :])).is_file(), url
