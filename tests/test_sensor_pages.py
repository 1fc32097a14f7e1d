"""The air-quality pages, from real builds of the example city and of changed copies of it:
the days above the guideline match an independent count from readings.csv, coverage and
gaps are right on planted gaps, home stations never show, hostile names stay text, builds
are deterministic."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import ROOT, commit_all
from test_privacy import RAW_HOME, declare_home, pseudonym
from test_text_trust import assert_refused, found, report_of

from civicgen.build import build_site
from civicgen.exceptions import BuildFault
from civicgen.repo import open_source
from civicgen.site.air import segment
from civicgen.site.maps import BaseLayerError, read_base_layer
from civicgen.site.series import gaps, parse_hour

AIR = "datasets/air-quality/datapackage.json"
READINGS = "datasets/air-quality/data/readings.csv"
STATIONS = "datasets/air-quality/data/stations.csv"
PAGES = "en/air/air-quality"  # the English pages (Spanish is at the root)
GUIDELINES = {"pm25": 15.0, "pm10": 45.0, "noise": 55.0}


@pytest.fixture(scope="module")
def example(example_site: Path) -> tuple[Path, Path]:
    """The example city and its site, built once (conftest): (portal, site)."""
    return ROOT, example_site


def article(page: Path) -> str:
    """The page's own content (no theme navigation), as HTML."""
    text = page.read_text()
    return text[text.index("<article") : text.index("</article>")]


def visible_text(fragment: str) -> str:
    """The text a reader sees, tags and attributes removed."""
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def days_listed(page: Path) -> set[str]:
    """The days in the list under "Days above the guideline"."""
    content = article(page)
    start = content.index('id="days-above"')
    section = content[start : content.index("<h3", start)]
    return {iso_day(day) for day in re.findall(r"<li>(\w+ \d+, \d{4}):", section)}


def iso_day(english: str) -> str:
    """'October 7, 2025' (a date as the English pages print it) -> '2025-10-07'."""
    return datetime.strptime(english, "%B %d, %Y").date().isoformat()


def reference_days_above(portal: Path, quantity: str, limit: float) -> dict[str, set[str]]:
    """Per station, the days whose mean of the quantity is above the limit, counted here
    in plain Python from readings.csv (UTC days from the timestamps' text)."""
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    with open(portal / READINGS, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row[quantity].strip():
                sums[(row["station"], row["timestamp"][:10])].append(float(row[quantity]))
    found: dict[str, set[str]] = defaultdict(set)
    for (station, day), values in sums.items():
        found[station]
        if round(sum(values) / len(values), 3) > limit:
            found[station].add(day)
    return found


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def edit_csv(portal: Path, path: str, change: object) -> None:
    rows = list(csv.reader((portal / path).open(newline="", encoding="utf-8")))
    rows = change(rows)  # type: ignore[operator]
    with open(portal / path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def edit_descriptor(portal: Path, change: object) -> None:
    descriptor = json.loads((portal / AIR).read_text())
    change(descriptor)  # type: ignore[operator]
    (portal / AIR).write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n")


# --- the example ------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["pm25", "pm10", "noise"])
def test_days_above_match_an_independent_count(example: tuple[Path, Path], quantity: str) -> None:
    portal, site = example
    expected = reference_days_above(portal, quantity, GUIDELINES[quantity])
    assert len(expected) == 6 and any(expected.values())
    for station, days in expected.items():
        page = site / PAGES / station / quantity / "index.html"
        assert days_listed(page) == days, station
        calendar = article(page)[article(page).index('id="calendar"') :]
        marked = re.findall(r'<td class="civicgen-above">(\d+) ▲', calendar)
        assert sorted(int(d) for d in marked) == sorted(int(d[-2:]) for d in days)


def test_every_station_and_quantity_has_a_light_page(example: tuple[Path, Path]) -> None:
    _, site = example
    pages = sorted((site / "air").rglob("index.html"))
    assert len(pages) == 2 + 6 * 6  # the section, the package home, 6 stations × 6 quantities
    assert max(p.stat().st_size for p in pages) < 500_000
    home = article(site / PAGES / "index.html")
    for station in ("sck-retiro", "sck-barajas"):
        assert f'href="{station}/pm25/"' in home


def test_names_and_units_never_raw_codes(example: tuple[Path, Path]) -> None:
    _, site = example
    for page in (site / PAGES / "index.html", site / PAGES / "sck-retiro/pm25/index.html"):
        text = visible_text(article(page))
        assert "PM2.5 (fine particles)" in text
        assert "µg/m³" in text
        assert not re.search(r"\bpm25\b|\bsck-", text), page
    text = visible_text(article(site / PAGES / "index.html"))
    assert "Parque del Retiro" in text and "40.4153" in text and "-3.6845" in text


def test_charts_are_labelled_images_with_their_numbers(example: tuple[Path, Path]) -> None:
    _, site = example
    content = article(site / PAGES / "sck-retiro/pm25/index.html")
    svgs = re.findall(r'<svg viewBox="0 0 480[^>]*>', content)
    assert len(svgs) == 2
    assert content.count('aria-hidden="true"') >= 3  # the legend's swatches
    for svg in svgs:
        assert 'role="img"' in svg
        for label in re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split():  # type: ignore[union-attr]
            assert f'id="{label}"' in content
    assert "#D55E00" in content and "#0072B2" in content  # Okabe–Ito
    assert 'stroke-dasharray="7 4"' in content  # the guideline
    assert len(re.findall(r'<th scope="row">October \d+, 2025</th>', content)) >= 28  # daily
    hourly = content[content.index('aria-label="Hourly means"') :]
    last = re.findall(
        r'<tr><th scope="row">(October \d+, 2025)</th>((?:<td>[^<]*</td>)+)</tr>', hourly
    )
    assert len(last) == 28 and last[-1][0] == "October 28, 2025"  # a row per day of the month
    assert all(cells.count("<td>") == 24 for _, cells in last)  # a cell per hour


def test_home_map_has_the_district_boundaries_and_a_table(example: tuple[Path, Path]) -> None:
    """The example ships Madrid's 21 districts as its map's base layer, named and credited."""
    portal, site = example
    content = article(site / PAGES / "index.html")
    noise = reference_days_above(portal, "noise", GUIDELINES["noise"])
    most = max(len(days) for days in noise.values())
    text = " ".join(visible_text(content).split())
    above = sum(1 for days in noise.values() if days)
    assert "Noise : 55.0 dBA, WHO guideline" in text
    assert (
        f"at least one day at {above} of 6 stations. The most days above at one station: {most} days"
        in text
    )
    assert 'aria-labelledby="air-map-title air-map-desc"' in content
    assert content.count('fill="#f0f0f0"') == 21  # one shape a district
    assert "<title>Moncloa-Aravaca</title>" in content and "<title>Vicálvaro</title>" in content
    assert 'stroke-dasharray="6 4"' not in content  # no hull computed over real boundaries
    assert "Background: Ayuntamiento de Madrid – Geoportal, datos.madrid.es" in text
    assert re.search(r">\d+ km</text>", content)  # the scale bar
    assert content.count('<th scope="row">') >= 12  # locations and days-above tables


def test_without_a_base_layer_the_map_computes_one(portal: Path, tmp_path: Path) -> None:
    def drop(descriptor: dict) -> None:  # type: ignore[type-arg]
        del descriptor["civicgen"]["sensor"]["baseLayer"]

    edit_descriptor(portal, drop)
    commit_all(portal, "No base layer")
    content = article(build_site(portal / "mkdocs.yml", tmp_path / "site") / PAGES / "index.html")
    assert 'stroke-dasharray="6 4"' in content  # the stations' hull
    assert 'fill="#f0f0f0"' not in content
    assert "drawn from the stations themselves" in content


def test_coverage_of_the_example_matches_the_readings(example: tuple[Path, Path]) -> None:
    portal, site = example
    present = {
        row["timestamp"][:13]
        for row in csv.DictReader((portal / READINGS).open(encoding="utf-8"))
        if row["station"] == "sck-retiro" and row["pm25"].strip()
    }
    text = visible_text(article(site / PAGES / "sck-retiro/pm25/index.html"))
    assert f"{len(present)} of 672 hours have a reading" in text


# --- planted gaps -------------------------------------------------------------------------------


def test_coverage_and_longest_gaps_on_planted_gaps(portal: Path, tmp_path: Path) -> None:
    """sck-barajas loses 5 whole hours on 10 October, and its PM2.5 10 more hours on the 12th."""
    whole = {f"2025-10-10T{h:02d}:00:00Z" for h in range(3, 8)}
    blank = {f"2025-10-12T{h:02d}:00:00Z" for h in range(0, 10)}

    def plant(rows: list[list[str]]) -> list[list[str]]:
        head, body = rows[0], rows[1:]
        pm25 = head.index("pm25")
        kept = [r for r in body if not (r[0] == "sck-barajas" and r[1] in whole)]
        return [head] + [
            [*r[:pm25], "", *r[pm25 + 1 :]] if r[0] == "sck-barajas" and r[1] in blank else r
            for r in kept
        ]

    edit_csv(portal, READINGS, plant)
    commit_all(portal, "Planted gaps")
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    rows = [r for r in csv.DictReader((portal / READINGS).open()) if r["station"] == "sck-barajas"]
    with_pm25 = len({r["timestamp"] for r in rows if r["pm25"].strip()})
    pm25 = visible_text(article(site / PAGES / "sck-barajas/pm25/index.html"))
    share = f"{with_pm25 / 672 * 100:.1f}%"
    assert f"{with_pm25} of 672 hours have a reading ({share}); {672 - with_pm25} hours" in pm25
    gaps_table = pm25[pm25.index("The longest gap") :]
    first = re.search(r"(\S+ \S+)\s+(\S+ \S+)\s+(\d+)", gaps_table[gaps_table.index("Hours") :])
    assert first and first.groups() == ("2025-10-12 00:00", "2025-10-12 09:00", "10")
    assert "2025-10-10 03:00 2025-10-10 07:00 5" in " ".join(gaps_table.split())
    temperature = visible_text(article(site / PAGES / "sck-barajas/temperature/index.html"))
    with_temperature = len({r["timestamp"] for r in rows if r["temperature"].strip()})
    assert f"{with_temperature} of 672 hours have a reading" in temperature
    assert "2025-10-12 00:00" not in temperature.split("Coverage and gaps")[1]


def test_gaps_are_runs_of_missing_hours_longest_first() -> None:
    hour = parse_hour
    present = {hour(f"2025-01-01T{h:02d}") for h in (0, 1, 4, 5, 9)}
    found = gaps(present, hour("2025-01-01T00"), hour("2025-01-01T11"))  # type: ignore[arg-type]
    assert [(g.first.hour, g.last.hour, g.hours) for g in found] == [
        (6, 8, 3),
        (2, 3, 2),
        (10, 11, 2),
    ]


# --- home stations, hostile names and ids ---------------------------------------------------------


def test_hostile_home_station_never_on_the_air_pages(portal: Path, tmp_path: Path) -> None:
    declare_home(portal)
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    found = [
        f"{p.relative_to(site)}: {needle}"
        for air in (site / "air", site / "en" / "air")
        for p in sorted(air.rglob("*"))
        if p.is_file()
        for needle in RAW_HOME
        if needle.encode() in p.read_bytes()
    ]
    assert found == []
    alias = pseudonym("sck-retiro")
    page = site / PAGES / alias / "pm25/index.html"
    text = visible_text(article(page))
    assert "Home sensor 2" in text and "40.42, -3.68" in text
    assert "Home sensor 2" in visible_text(article(site / PAGES / "index.html"))


def test_hostile_station_name_is_shown_as_text(portal: Path, tmp_path: Path) -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'

    def rename(rows: list[list[str]]) -> list[list[str]]:
        return [[r[0], hostile if r[0] == "sck-retiro" else r[1], *r[2:]] for r in rows]

    edit_csv(portal, STATIONS, rename)
    commit_all(portal, "A hostile station name")
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    for page in (site / PAGES / "index.html", site / PAGES / "sck-retiro/pm25/index.html"):
        content = page.read_text()
        assert "<script>alert(1)" not in content and "<img src=x" not in content
        assert hostile in visible_text(article(page))


def test_hostile_quantity_label_and_unit_are_shown_as_text(portal: Path, tmp_path: Path) -> None:
    """A quantity civicgen has no name for is shown by its schema title, as text."""
    title, unit = '<b onmouseover="alert(1)">Pollen</b>', "grains/m³<i>"

    def rename_column(rows: list[list[str]]) -> list[list[str]]:
        return [["pollen" if c == "pm1" else c for c in rows[0]], *rows[1:]]

    def describe(descriptor: dict) -> None:  # type: ignore[type-arg]
        sensor = descriptor["civicgen"]["sensor"]
        sensor["quantities"] = ["pollen" if q == "pm1" else q for q in sensor["quantities"]]
        for field in descriptor["resources"][1]["schema"]["fields"]:
            if field["name"] == "pm1":
                field.update(name="pollen", title=title, unit=unit)

    edit_csv(portal, READINGS, rename_column)
    edit_descriptor(portal, describe)
    commit_all(portal, "A quantity with a hostile title")
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    page = site / PAGES / "sck-retiro/pollen/index.html"
    assert "<b onmouseover" not in page.read_text() and "<i>" not in article(page)
    text = visible_text(article(page))
    assert title in text and unit in text


@pytest.mark.parametrize("hostile", ["../../etc", "a/b", "..", "CON", "é", "x" * 80, "", " a"])
def test_hostile_station_id_cannot_leave_its_folder(hostile: str) -> None:
    shown = segment(hostile)
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", shown) and len(shown) <= 60
    assert segment(hostile + "!") != shown  # two ids never share a folder


# --- base layer ---------------------------------------------------------------------------------


SQUARE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "District <one>"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-3.75, 40.37], [-3.55, 40.37], [-3.55, 40.49], [-3.75, 40.37]]],
            },
        }
    ],
}


def use_base_layer(portal: Path, name: str, content: bytes | None) -> None:
    if content is not None:
        (portal / "datasets/air-quality" / name).write_bytes(content)

    def point(descriptor: dict) -> None:  # type: ignore[type-arg]
        descriptor["civicgen"]["sensor"]["baseLayer"] = name
        descriptor["civicgen"]["sensor"]["baseLayerSource"] = "Test boundaries <CC0>"

    edit_descriptor(portal, point)
    commit_all(portal, "A base layer")


def test_base_layer_from_the_package_is_drawn(portal: Path, tmp_path: Path) -> None:
    use_base_layer(portal, "districts.geojson", json.dumps(SQUARE).encode())
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    content = article(site / PAGES / "index.html")
    assert content.count('fill="#f0f0f0"') == 1
    assert 'stroke-dasharray="6 4"' not in content  # no computed hull over real boundaries
    assert "Background: Test boundaries &lt;CC0&gt;." in content


@pytest.mark.parametrize(
    "name",
    ["../../../../../etc/passwd.geojson", "/etc/districts.geojson", "https://x.org/a.geojson",
     "layers/../../other/districts.geojson", "districts.kml", "a\x00.geojson"],
)  # fmt: skip
def test_hostile_base_layer_path_is_refused_by_validate(
    portal: Path, tmp_path: Path, name: str
) -> None:
    use_base_layer(portal, name, None)
    (error,) = found(report_of(portal), "profile-error")
    assert error.path == AIR and "civicgen.sensor.baseLayer" in error.note
    assert_refused(portal, tmp_path, "baseLayer")


def test_hostile_base_layer_missing_file_stops_the_build(portal: Path, tmp_path: Path) -> None:
    use_base_layer(portal, "no-such-file.geojson", None)
    with pytest.raises(BuildFault, match="no-such-file.geojson.*cannot be read"):
        build_site(portal / "mkdocs.yml", tmp_path / "site")
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a GeoJSON FeatureCollection"),
        (json.dumps({"type": "FeatureCollection", "features": [{"geometry": {"type": "Point"}}]}).encode(), "geometry"),
        (json.dumps({**SQUARE, "features": [{**SQUARE["features"][0], "geometry": {"type": "Polygon", "coordinates": [[[200, 40]]]}}]}).encode(), "longitude and latitude"),
        (json.dumps({**SQUARE, "features": SQUARE["features"] * 501}).encode(), "features"),
        (b" " * 2_000_001, "larger than"),
    ],
)  # fmt: skip
def test_hostile_base_layer_is_refused(portal: Path, content: bytes, why: str) -> None:
    (portal / "datasets/air-quality/layer.geojson").write_bytes(content)
    with pytest.raises(BaseLayerError, match=why):
        read_base_layer(open_source(portal), "datasets/air-quality", "layer.geojson")


def test_hostile_base_layer_through_a_link_is_refused(portal: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.geojson"
    outside.write_text(json.dumps(SQUARE))
    (portal / "datasets/air-quality/layer.geojson").symlink_to(outside)
    with pytest.raises(BaseLayerError, match="cannot be read"):
        read_base_layer(open_source(portal), "datasets/air-quality", "layer.geojson")


# --- determinism --------------------------------------------------------------------------------


def test_two_builds_give_the_same_bytes(example: tuple[Path, Path], tmp_path: Path) -> None:
    portal, site = example
    again = build_site(portal / "mkdocs.yml", tmp_path / "again")
    assert digest(site / "air") == digest(again / "air")


# --- translation ----------------------------------------------------------------------------------

TEMPLATES = (
    "_air.html",
    "air-index.html",
    "air-home.html",
    "air-station.html",
    "stats-sensor.html",
)


def spanish_env() -> object:
    """civicgen's page environment with the Spanish catalogue of the sensor pages."""
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    from civicgen.site.env import make_env

    catalog = read_po((ROOT / "civicgen/locale/es/sensors.po").open("rb"))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    env = make_env()
    env.install_gettext_translations(Translations(compiled), newstyle=True)  # type: ignore[attr-defined]
    return env


def test_every_sensor_page_string_has_a_spanish_translation() -> None:
    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import read_po
    from jinja2.ext import babel_extract

    catalog = read_po((ROOT / "civicgen/locale/es/sensors.po").open("rb"))
    options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
    for name in TEMPLATES:
        path = ROOT / "civicgen/templates" / name
        for _, message, _, _ in extract_from_file(babel_extract, str(path), options=options):
            entry = catalog.get(message if isinstance(message, str) else message[0])
            assert entry is not None and all(
                entry.string if isinstance(entry.string, tuple) else [entry.string]
            ), message


def test_sensor_pages_render_in_spanish(example: tuple[Path, Path]) -> None:
    from civicgen.pipeline import validate
    from civicgen.site.air import air_pages
    from civicgen.site.inputs import gather

    portal, _ = example
    outputs = {
        o.uri: str(o.content) for o in air_pages(spanish_env(), gather(validate([str(portal)])))
    }
    page = outputs["air/air-quality/sck-retiro/pm25/index.md"]
    assert "PM2,5 (partículas finas) en Parque del Retiro" in page
    assert "Días por encima de la guía" in page and "octubre 2025" in page
    assert "Tabla de ubicaciones" in outputs["air/air-quality/index.md"]


# --- in a real browser ------------------------------------------------------------------------------

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def served(example: tuple[Path, Path]) -> Iterator[str]:
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(example[1]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.mark.browser
@pytest.mark.parametrize(
    "path",
    ["air/", f"{PAGES}/", f"{PAGES}/sck-retiro/pm25/", f"{PAGES}/sck-barajas/temperature/"],
)
def test_air_pages_pass_axe_at_375_px(browser, served: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """No WCAG 2.1 A/AA violation in the section's content, nothing wider than a phone."""
    pytest.importorskip("axe_playwright_python")
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 375, "height": 800})
    tab = context.new_page()
    elsewhere: list[str] = []
    tab.on("request", lambda r: None if r.url.startswith(served) else elsewhere.append(r.url))
    tab.goto(served + path)
    options = {"runOnly": {"type": "tag", "values": WCAG}}
    results = Axe().run(tab, context={"include": [[".civicgen-air"]]}, options=options)
    violations = [
        (v["id"], [n["target"] for n in v["nodes"]]) for v in results.response["violations"]
    ]
    assert violations == []
    assert tab.evaluate("document.documentElement.scrollWidth") <= 375
    assert tab.locator("svg[role=img]").count() >= (1 if path.count("/") > 3 else 0)
    context.close()
    assert elsewhere == []


def test_long_series_pages_stay_bounded(portal: Path, tmp_path: Path) -> None:
    """800 days of hourly readings: the page shows the latest year of days and the latest
    month of hours, says so, and stays far under 500 KB."""
    from datetime import timedelta

    start = datetime(2023, 1, 1)
    lines = ["station,timestamp,temperature,humidity,noise,pm1,pm25,pm10"]
    for hour in range(800 * 24):
        when = (start + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:00:00Z")
        pm25 = 30 if (hour // 24) % 50 == 0 else 5  # one day in fifty above the guideline
        lines.append(f"sck-retiro,{when},15.0,50.0,45.0,3.0,{pm25},10.0")
    (portal / READINGS).write_text("\n".join(lines) + "\n")
    commit_all(portal, "A long series")
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    page = site / PAGES / "sck-retiro/pm25/index.html"
    assert page.stat().st_size < 500_000
    content = article(page)
    assert len(re.findall(r'<th scope="row">\w+ \d+, 20', content)) <= 366 + 31
    assert "over all the readings, 16 of 800 days were above" in visible_text(content)
    assert len(days_listed(page)) == len([d for d in range(434, 800) if d % 50 == 0])
    assert "2025-03-10 23:00" in content and "2025-02-07 23:00" not in content
