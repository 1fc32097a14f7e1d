"""Personal data: flagged before publishing, never quoted; home sensors published protected."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import commit_all, make_portal, own_cache, replace_in
from test_text_trust import PROPOSAL, STATIONS, assert_refused, every_output, found, report_of

from civicgen.build import build_site
from civicgen.privacy import home_stations, personal_findings

AIR = "datasets/air-quality/datapackage.json"
RAW_HOME = ("sck-retiro", "Parque del Retiro", "40.4153", "-3.6845")


pytestmark = pytest.mark.one_language  # nothing here depends on the languages


def append_body(portal: Path, text: str) -> None:
    path = portal / PROPOSAL
    path.write_text(path.read_text() + "\n" + text + "\n")


def single_personal(portal: Path, secret: str) -> str:
    report = report_of(portal)
    errors = found(report, "personal-data")
    assert len(errors) == 1 and not errors[0].warning and not report.valid
    assert secret not in every_output(report)
    return errors[0].note


# --- personal data in text -------------------------------------------------------------------


def test_hostile_dni_in_proposal_body(portal: Path, tmp_path: Path) -> None:
    append_body(portal, "Contact the proposer, DNI 12345678Z, for details.")
    note = single_personal(portal, "12345678Z")
    assert "a national id number (DNI/NIE) (1234****Z)" in note
    assert 'datapackage.json with "civicgen": {"personal": "public-by-consent"}' in note
    message = assert_refused(portal, tmp_path, PROPOSAL, "1234****Z")
    assert "12345678" not in message


def test_hostile_dni_with_dots_and_dash(portal: Path, tmp_path: Path) -> None:
    append_body(portal, "DNI: 12.345.678-Z")
    assert "1234****Z" in single_personal(portal, "12.345.678")
    assert "12.345.678" not in assert_refused(portal, tmp_path, "1234****Z")


def test_hostile_nie_in_proposal_title(portal: Path, tmp_path: Path) -> None:
    replace_in(
        portal / PROPOSAL,
        "title: Shaded playground in Parque de Pradolongo",
        "title: Shaded playground (NIE X1234567L)",
    )
    assert "(X12*****L)" in single_personal(portal, "1234567")
    assert_refused(portal, tmp_path, "X12*****L")


def test_hostile_email_in_tool_description(portal: Path, tmp_path: Path) -> None:
    replace_in(
        portal / "tools-catalog/decidim.yaml",
        "A platform where",
        "Ask ana.garcia@correo-ejemplo.es: a platform where",
    )
    note = single_personal(portal, "ana.garcia@correo-ejemplo.es")
    assert "an e-mail address (a***@c***.es)" in note
    assert_refused(portal, tmp_path, "tools-catalog/decidim.yaml", "a***@c***.es")


def test_hostile_phone_in_csv_cell(portal: Path, tmp_path: Path) -> None:
    replace_in(
        portal / STATIONS, "sck-arganzuela,Matadero", "sck-arganzuela,Matadero (call 612 345 678)"
    )
    report = report_of(portal)
    (error,) = found(report, "personal-data")
    assert (error.path, error.row, error.field_name, error.field_number) == (STATIONS, 4, "name", 2)
    assert "a phone number (*** *** *78)" in error.note
    assert "612 345" not in every_output(report)
    assert_refused(portal, tmp_path, "*** *** *78")


def test_hostile_international_phone_in_proposal_body(portal: Path, tmp_path: Path) -> None:
    append_body(portal, "WhatsApp: +34 699 12 34 56")
    assert "a phone number (+** *** ** ** 56)" in single_personal(portal, "699 12 34")
    assert "699" not in assert_refused(portal, tmp_path, "+** *** ** ** 56")


def test_hostile_phone_repeated_in_many_rows_is_reported_once(portal: Path) -> None:
    text = (portal / STATIONS).read_text()
    for name in ("Matadero", "Barajas pueblo", "Plaza de Castilla"):
        text = text.replace(f",{name},", ",Tel. 612345678,")
    (portal / STATIONS).write_text(text)
    (error,) = found(report_of(portal), "personal-data")
    assert error.row == 4 and "(the same value is in 2 more row(s); fix them all)" in error.note


def test_field_declared_personal_by_consent_is_not_flagged(portal: Path) -> None:
    path = portal / "datasets/proposals/datapackage.json"
    descriptor = json.loads(path.read_text())
    fields = descriptor["resources"][0]["schema"]["fields"]
    fields.insert(-1, {
        "name": "author", "type": "string", "title": "Proposed by",
        "civicgen": {"personal": "public-by-consent"},
    })  # fmt: skip
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False))
    replace_in(
        portal / PROPOSAL,
        "district: Usera",
        "district: Usera\nauthor: Ana García <ana@example.org>",
    )
    report = report_of(portal)
    assert report.valid and found(report, "personal-data") == []
    append_body(portal, "Write to ana@example.org")  # the body is not the declared field
    assert len(found(report_of(portal), "personal-data")) == 1


@pytest.mark.parametrize(
    "text",
    [
        "DNI 12345678A (wrong check letter)",
        "Budget program 17102, economic code 12000, 180.000 EUR, 1.200.000 €",
        "Submitted 2015-02-14T10:00:00Z; executed 612.345.678 EUR in 2015",
        "Coordinates 40.4153, -3.6845; 2,431 votes; 20251001",
        "Reference 2014/001/91100/12000",
    ],
)
def test_no_false_positive_on_budget_codes_dates_and_amounts(text: str) -> None:
    assert personal_findings(text) == []


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("X1234567L", "X12*****L"),
        ("y-1234567-x", "Y12*****X"),
        ("00000000T", "0000****T"),
        ("ana@example.org", "a***@e***.org"),
        ("91 123 45 67", "** *** ** 67"),
        ("+1 (555) 123-4567", "+* (***) ***-**67"),
    ],
)
def test_personal_data_is_found_and_masked(text: str, shown: str) -> None:
    (finding,) = personal_findings(text)
    assert f"({shown})" in finding.note


# --- home sensors ---------------------------------------------------------------------------


def declare_home(portal: Path, salt: str | None = "d8c1e0f27b5a4c39", whole: bool = False) -> None:
    """Mark sck-retiro as hosted at a home (or the whole package), with a salt."""
    path = portal / AIR
    descriptor = json.loads(path.read_text())
    sensor = descriptor["civicgen"]["sensor"]
    if salt is not None:
        sensor["pseudonymSalt"] = salt
    if whole:
        sensor["privacy"] = "home"
    else:
        fields = descriptor["resources"][0]["schema"]["fields"]
        fields.append(
            {"name": "privacy", "type": "string", "constraints": {"enum": ["home", "public"]}}
        )
        lines = (portal / STATIONS).read_text().splitlines()
        marked = [lines[0] + ",privacy"]
        marked += [
            line + (",home" if line.startswith("sck-retiro,") else ",public") for line in lines[1:]
        ]
        (portal / STATIONS).write_text("\n".join(marked) + "\n")
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n")
    commit_all(portal, "A station at a home")


def leaks(site: Path, needles: tuple[str, ...]) -> list[str]:
    """Every (file, text) of the whole site that holds one of the needles."""
    return [
        f"{path.relative_to(site)}: {needle}"
        for path in sorted(site.rglob("*"))
        if path.is_file()
        for needle in needles
        if needle.encode() in path.read_bytes()
    ]


def pseudonym(raw: str, salt: str = "d8c1e0f27b5a4c39") -> str:
    stations = [{"id": raw, "privacy": "home"}]
    homes = home_stations({"civicgen": {"sensor": {"pseudonymSalt": salt}}}, stations)
    assert homes is not None
    return homes.pseudonym(raw)


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the example city with sck-retiro at a home, built once for the tests that
    only read it: (portal, site)."""
    portal = make_portal(tmp_path_factory.mktemp("home") / "city")
    declare_home(portal)
    with own_cache(tmp_path_factory):
        return portal, build_site(portal / "mkdocs.yml", portal.parent / "site")


def test_hostile_home_sensor_coarsened_and_pseudonymised(
    home: tuple[Path, Path], tmp_path: Path
) -> None:
    portal, site = home
    assert report_of(portal).valid
    assert leaks(site, RAW_HOME) == []
    alias = pseudonym("sck-retiro")
    assert alias.startswith("home-") and len(alias) == 17
    stations = (site / "datasets/air-quality/data/stations.csv").read_text()
    assert f"{alias},Home sensor,Retiro,40.42,-3.68,home" in stations
    assert "sck-plaza-espana,Plaza de España,Moncloa-Aravaca,40.4234,-3.7122,public" in stations
    readings = (site / "datasets/air-quality/data/readings.csv").read_text()
    assert readings.count(f"\n{alias},") > 100
    for table in ("hourly", "daily", "coverage", "exceedances"):
        assert alias in (site / f"datasets/air-quality/stats/{table}.csv").read_text(), table
    page = (site / "datasets/air-quality/index.html").read_text()
    assert f"<title>Home sensor ({alias}): 40.42, -3.68</title>" in page
    assert "redondeadas a una cuadrícula de 0.01°" in page  # Spanish at the root
    published = json.loads((site / "datasets/air-quality/datapackage.json").read_text())
    assert "pseudonymSalt" not in published["civicgen"]["sensor"]
    again = build_site(portal / "mkdocs.yml", tmp_path / "again")
    assert digest(site / "datasets/air-quality") == digest(again / "datasets/air-quality")


def test_published_home_package_still_validates_with_frictionless(
    home: tuple[Path, Path],
) -> None:
    from frictionless import Package

    site = home[1]
    report = Package(str(site / "datasets/air-quality/datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_hostile_whole_package_home_hides_every_station(portal: Path, tmp_path: Path) -> None:
    declare_home(portal, whole=True)
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    ids = [line.split(",")[0] for line in (portal / STATIONS).read_text().splitlines()[1:]]
    assert len(ids) == 6 and leaks(site, tuple(ids)) == []
    assert leaks(site, ("40.4234", "-3.7122", "Plaza de Castilla")) == []


def test_hostile_home_without_salt_is_refused(portal: Path, tmp_path: Path) -> None:
    declare_home(portal, salt=None)
    (error,) = found(report_of(portal), "profile-error")
    assert error.path == AIR and "pseudonymSalt" in error.note
    assert_refused(portal, tmp_path, "pseudonymSalt")


def test_hostile_home_grid_not_a_number_is_refused(portal: Path, tmp_path: Path) -> None:
    declare_home(portal)
    replace_in(portal / AIR, '"pseudonymSalt"', '"homeGrid": "0",\n      "pseudonymSalt"')
    (error,) = found(report_of(portal), "profile-error")
    assert "homeGrid" in error.note
    assert_refused(portal, tmp_path, "homeGrid")


def test_pseudonyms_are_keyed_and_stable(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = pseudonym("sck-retiro")
    assert plain == pseudonym("sck-retiro")
    assert plain != pseudonym("sck-retiro", salt="another")
    assert plain != pseudonym("sck-arganzuela")
    monkeypatch.setenv("CIVICGEN_PSEUDONYM_KEY", "deploy-secret")
    assert pseudonym("sck-retiro") not in (plain, "sck-retiro")


def test_coarse_grid() -> None:
    stations = [{"id": "a", "privacy": "home"}]
    homes = home_stations({"civicgen": {"sensor": {"homeGrid": 0.05}}}, stations)
    assert homes is not None and homes.grid == Decimal("0.05")
    assert [homes.coarse(v) for v in ("40.4153", "-3.6845", "x")] == ["40.40", "-3.70", ""]


def test_hostile_email_in_tool_list_field(portal: Path, tmp_path: Path) -> None:
    replace_in(
        portal / "tools-catalog/decidim.yaml",
        "deployed_by: [Barcelona, Helsinki]",
        "deployed_by: [Barcelona, Helsinki, jordi.puig@ajuntament-exemple.cat]",
    )
    report = report_of(portal)
    (error,) = found(report, "personal-data")
    assert (error.path, error.field_name) == ("tools-catalog/decidim.yaml", "deployed_by")
    assert "j***@a***.cat" in error.note and "jordi" not in every_output(report)
    assert_refused(portal, tmp_path, "j***@a***.cat")


def test_hostile_dni_in_budget_csv_label(portal: Path, tmp_path: Path) -> None:
    programs = portal / "datasets/madrid-budget/data/programas.csv"
    replace_in(programs, "17102,ZONAS VERDES", "17102,ZONAS VERDES (resp. 00000000T)")
    report = report_of(portal)
    (error,) = found(report, "personal-data")
    assert (error.field_name, error.field_number) == ("DESCRIPCION PROGRAMA", 2)
    assert "(0000****T)" in error.note
    assert_refused(portal, tmp_path, "0000****T")


@pytest.mark.browser
def test_home_sensor_page_in_a_browser(home: tuple[Path, Path]) -> None:
    """What a person sees in Chromium: the pseudonym, the grid, no raw id, name or place."""
    import functools
    import http.server
    import os
    import threading

    chromium = os.environ.get("CIVICGEN_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    site = home[1]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    alias = pseudonym("sck-retiro")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/datasets/air-quality/")
            text = page.locator("body").inner_text()
            svg_titles = page.locator("figure.civicgen-map g > title").all_text_contents()
            browser.close()
    finally:
        server.shutdown()
    assert f"Home sensor ({alias}): 40.42, -3.68" in svg_titles
    assert "redondeadas a una cuadrícula de 0.01°" in text and alias in text
    assert not any(raw in text or raw in " ".join(svg_titles) for raw in RAW_HOME)
