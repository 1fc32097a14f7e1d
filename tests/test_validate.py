"""Validation of the example city and of copies broken the way citizens break them."""

from __future__ import annotations

from pathlib import Path

from conftest import replace_in

from civicgen import Settings, validate

KEYS = ["path", "row", "field", "code"]
BUDGET = "datasets/madrid-budget/data/gastos-2014-2015.csv"


def test_example_city_is_valid(portal: Path) -> None:
    report = validate([str(portal)]).report
    assert report.flatten(KEYS) == []
    assert report.stats() == {
        "packages": 5,
        "tables": 12,
        # the enquiries; the catalog's tools, deployments, providers, improvements, reviews, privacy
        "rows": 9958 + 146 + 6 + 4014 + 18 + 22 + 5 + 24 + 11 + 6 + 8 + 7,
        "errors": 0,
    }


def test_three_citizen_mistakes_are_each_named(portal: Path) -> None:
    replace_in(portal / BUDGET, ",102739\n", ",12,5x\n")
    replace_in(
        portal / "datasets/proposals/records/pb-2015-001.md",
        "title: Shaded playground in Parque de Pradolongo\n",
        "",
    )
    replace_in(
        portal / "tools-catalog/decidim.yaml",
        "licence: AGPL-3.0-or-later",
        "licence: NOT-A-LICENCE",
    )
    report = validate([str(portal)]).report
    assert not report.valid
    assert report.flatten(KEYS) == [
        [BUDGET, 2, "", "extra-cell"],
        ["datasets/proposals/records/pb-2015-001.md", None, "title", "constraint-error"],
        ["tools-catalog/decidim.yaml", None, "licence", "unknown-licence"],
    ]
    messages = [e.message for e in report.sorted_errors()]
    assert messages[0] == (
        f"{BUDGET}, row 2: this row has more cells than the header (extra "
        'value "5x"); remove it, or put quotes around a value that contains a '
        'comma, like "12,5"'
    )
    assert messages[1] == (
        'datasets/proposals/records/pb-2015-001.md, field "title": '
        "this field is required but is empty; fill it in"
    )
    assert 'line 9, field "licence": "NOT-A-LICENCE" is not an SPDX licence' in messages[2]


def test_quoted_comma_amount_is_a_type_error(portal: Path) -> None:
    replace_in(portal / BUDGET, ",102739\n", ',"12,5x"\n')
    report = validate([str(portal / "datasets/madrid-budget")]).report
    assert report.flatten(KEYS) == [[BUDGET, 2, "IMPORTE", "type-error"]]
    assert report.errors[0].message == (
        f'{BUDGET}, row 2, field "IMPORTE" (12): "12,5x" is not a whole number; '
        "write digits only, like 1250, with no spaces, dots or commas"
    )


def test_enum_error_suggests_the_closest_value(portal: Path) -> None:
    replace_in(
        portal / "datasets/proposals/records/pb-2015-001.md", "district: Usera", "district: Usra"
    )
    [error] = validate([str(portal)]).report.errors
    assert error.line == 2 and error.code == "constraint-error"
    assert '"Usra" is not one of the allowed values (did you mean "Usera"?)' in error.message


def test_unknown_key_in_a_record_is_reported_with_a_suggestion(portal: Path) -> None:
    replace_in(portal / "tools-catalog/ckan.yaml", "homepage:", "hompage:")
    flat = validate([str(portal)]).report.flatten(["path", "field", "code"])
    assert ["tools-catalog/ckan.yaml", "hompage", "extra-cell"] in flat
    assert ["tools-catalog/ckan.yaml", "homepage", "constraint-error"] in flat


def test_foreign_key_across_packages(portal: Path) -> None:
    replace_in(portal / "datasets/proposals/records/pb-2015-001.md", '"17102"', '"99999"')
    report = validate([str(portal / "datasets/proposals")]).report
    assert report.flatten(["path", "field", "code"]) == [
        ["datasets/proposals/records/pb-2015-001.md", "budget_program", "foreign-key"]
    ]
    assert "madrid-budget/programas" in report.errors[0].message


def test_foreign_key_inside_a_package(portal: Path) -> None:
    readings = portal / "datasets/air-quality/data/readings.csv"
    replace_in(readings, "\nsck-retiro,", "\nsck-retir0,")
    report = validate([str(portal / "datasets/air-quality/datapackage.json")]).report
    assert report.flatten(["row", "field", "code"]) == [[671, "station", "foreign-key"]]


def test_broken_yaml_points_at_line_and_column(portal: Path) -> None:
    (portal / "tools-catalog/broken.yaml").write_text("name: Broken\ndescription: [oops\n")
    [error] = validate([str(portal)]).report.errors
    assert (error.code, error.path, error.line) == ("format-error", "tools-catalog/broken.yaml", 2)


def test_bad_file_name_is_a_record_key_error(portal: Path) -> None:
    (portal / "tools-catalog/ckan.yaml").rename(portal / "tools-catalog/CKAN Copy.yaml")
    codes = validate([str(portal)]).report.flatten(["code"])
    assert ["record-missing-key"] in codes


def test_remote_paths_are_never_fetched(portal: Path) -> None:
    descriptor = portal / "datasets/air-quality/datapackage.json"
    replace_in(descriptor, '"data/stations.csv"', '"https://example.org/stations.csv"')
    flat = validate([str(portal)]).report.flatten(["path", "code"])
    assert flat == [["datasets/air-quality/datapackage.json", "scheme-error"]]


def test_paths_out_of_the_repository_are_refused(portal: Path) -> None:
    descriptor = portal / "datasets/air-quality/datapackage.json"
    replace_in(descriptor, '"data/readings.csv"', '"../../../../etc/passwd"')
    flat = validate([str(portal)]).report.flatten(["path", "code"])
    assert flat == [["datasets/air-quality/datapackage.json", "unsafe-path"]]


def test_links_out_of_the_repository_are_not_followed(portal: Path) -> None:
    readings = portal / "datasets/air-quality/data/readings.csv"
    readings.unlink()
    readings.symlink_to("/etc/passwd")
    flat = validate([str(portal)]).report.flatten(["path", "code"])
    assert flat == [["datasets/air-quality/data/readings.csv", "link-path"]]


def test_descriptor_errors_come_from_frictionless(portal: Path) -> None:
    replace_in(
        portal / "datasets/air-quality/datapackage.json", '"type": "datetime"', '"type": "moment"'
    )
    flat = validate([str(portal)]).report.flatten(["path", "code"])
    assert ["datasets/air-quality/datapackage.json", "field-error"] in flat


def test_limit_errors_marks_the_report_partial(portal: Path) -> None:
    from civicgen import Settings

    replace_in(portal / BUDGET, "\n2014,", "\n20x4,", count=50)
    report = validate([str(portal)], Settings(limit_errors=10)).report
    assert len(report.errors) == 10 and report.partial and not report.valid


def test_large_files_are_scanned_on_every_core(portal: Path, monkeypatch) -> None:
    """With large-file thresholds lowered, the pipeline's chunked scan reports what one pass does."""
    from civicgen import validation
    from civicgen.scan import parallel

    replace_in(portal / BUDGET, ",102739\n", ",12,5x\n")
    replace_in(portal / BUDGET, "\n2015,", "\n2015,x", 3)
    readings = portal / "datasets/air-quality/data/readings.csv"
    replace_in(readings, "\nsck-retiro,", "\nsck-retir0,", 5)
    one_pass = validate([str(portal)]).report.flatten(KEYS + ["message"])
    assert len(one_pass) > 8
    monkeypatch.setattr(validation, "PARALLEL_FROM", 0)
    monkeypatch.setattr(parallel, "MIN_CHUNK", 32 << 10)
    assert (portal / BUDGET).stat().st_size > 4 * parallel.MIN_CHUNK  # several chunks
    chunked = validate([str(portal)], Settings(cache_dir=None)).report.flatten(KEYS + ["message"])
    assert chunked == one_pass


# --- hostile: packages from elsewhere, read as frictionless reads them (issue 9) ----------

AIR = "datasets/air-quality"
READINGS = f"{AIR}/data/readings.csv"
STATIONS = f"{AIR}/data/stations.csv"
FIRST_READING = "sck-plaza-espana,2025-10-01T00:00:00Z,10.6,75.8,50.0,2.2,3.7,7.2"


def refused(portal: Path) -> list[list[object]]:
    """The errors validation reports, after checking that the build publishes nothing."""
    import pytest

    from civicgen.build import build_site
    from civicgen.exceptions import CivicgenException

    with pytest.raises(CivicgenException):
        build_site(portal / "mkdocs.yml")
    assert not (portal / "site").exists()
    return validate([str(portal)]).report.flatten(KEYS)


def drop_schema(portal: Path, resource: str) -> None:
    """The resource as many published packages give it: with no schema at all."""
    import json

    descriptor = portal / AIR / "datapackage.json"
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    for found in package["resources"]:
        if found["name"] == resource:
            del found["schema"]
    descriptor.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")


def test_hostile_nan_reading_breaks_its_minimum(portal: Path) -> None:
    replace_in(portal / READINGS, FIRST_READING, FIRST_READING.replace(",3.7,", ",NaN,"))
    assert refused(portal) == [[READINGS, 2, "pm25", "constraint-error"]]
    [error] = validate([str(portal)]).report.errors
    assert (
        '"NaN" (not a number) is in no range' in error.message
        and "write the number" in error.message
    )


def test_hostile_infinite_humidity_breaks_its_maximum(portal: Path) -> None:
    replace_in(portal / READINGS, FIRST_READING, FIRST_READING.replace(",75.8,", ",Infinity,"))
    assert refused(portal) == [[READINGS, 2, "humidity", "constraint-error"]]


def test_hostile_unreadable_timestamps_share_a_key(portal: Path) -> None:
    """Two readings of one station whose timestamps do not read: the key (station, none)
    repeats, as frictionless finds it."""
    replace_in(portal / READINGS, ",2025-10-01T00:00:00Z,", ",yesterday,")
    replace_in(portal / READINGS, ",2025-10-01T01:00:00Z,", ",today,")
    assert refused(portal) == [
        [READINGS, 2, "timestamp", "type-error"],
        [READINGS, 3, "", "primary-key"],
        [READINGS, 3, "timestamp", "type-error"],
    ]


def test_hostile_reading_with_no_key(portal: Path) -> None:
    replace_in(portal / READINGS, FIRST_READING, ",," + FIRST_READING.split(",", 2)[2])
    flat = refused(portal)
    assert flat == [
        [READINGS, 2, "", "primary-key"],
        [READINGS, 2, "station", "constraint-error"],
        [READINGS, 2, "timestamp", "constraint-error"],
    ]
    messages = [e.message for e in validate([str(portal)]).report.sorted_errors()]
    assert "this row has no key" in messages[0]


def test_hostile_schema_left_out_is_not_every_label_wrong(portal: Path) -> None:
    """A resource with no schema: its header is not reported label by label, and the
    foreign key into it is checked against the fields inferred from its header."""
    drop_schema(portal, "stations")
    assert validate([str(portal)]).report.flatten(KEYS) == []
    replace_in(portal / READINGS, "\nsck-retiro,", "\nsck-retir0,")
    assert refused(portal) == [[READINGS, 671, "station", "foreign-key"]]


def test_hostile_schema_left_out_and_a_row_cut_short(portal: Path) -> None:
    drop_schema(portal, "readings")
    replace_in(portal / READINGS, FIRST_READING, FIRST_READING.rsplit(",", 2)[0])
    assert refused(portal) == [
        [READINGS, 2, "pm25", "missing-cell"],
        [READINGS, 2, "pm10", "missing-cell"],
    ]


def test_hostile_schema_left_out_and_a_word_among_numbers(portal: Path) -> None:
    """Past the rows the type is inferred from, a cell that is not a number."""
    drop_schema(portal, "readings")
    lines = (portal / READINGS).read_text(encoding="utf-8").split("\n")
    replace_in(portal / READINGS, lines[500], lines[500].rsplit(",", 1)[0] + ",n/a")
    assert refused(portal) == [[READINGS, 501, "pm10", "type-error"]]
    [error] = validate([str(portal)]).report.errors
    assert "no schema" in error.message and '"schema"' in error.message


def test_hostile_semicolons_with_no_dialect(portal: Path) -> None:
    text = (portal / STATIONS).read_text(encoding="utf-8")
    (portal / STATIONS).write_text(text.replace(",", ";"), encoding="utf-8")
    report = validate([str(portal)]).report
    first = next(e for e in report.sorted_errors() if e.path == STATIONS)
    assert (first.path, first.row, first.code) == (STATIONS, 1, "incorrect-label")
    assert '"dialect": {"delimiter": ";"}' in first.message
    assert {"incorrect-label", "missing-label"} <= {code for *_, code in refused(portal)}


def test_hostile_latin1_file_with_no_encoding(portal: Path) -> None:
    text = (portal / STATIONS).read_text(encoding="utf-8")
    (portal / STATIONS).write_bytes(text.encode("latin-1"))
    assert [STATIONS, 2, "", "encoding-error"] in refused(portal)
    error = next(e for e in validate([str(portal)]).report.errors if e.code == "encoding-error")
    assert '"encoding": "latin-1"' in error.message


def test_hostile_emptied_file(portal: Path) -> None:
    (portal / STATIONS).write_bytes(b"")
    flat = refused(portal)
    assert [STATIONS, None, "", "source-error"] in flat


def test_hostile_empty_line_above_the_header(portal: Path) -> None:
    """An empty first line is no header (as in frictionless): the labels become a data row."""
    text = (portal / STATIONS).read_text(encoding="utf-8")
    (portal / STATIONS).write_text("\n" + text, encoding="utf-8")
    assert refused(portal) == [
        [STATIONS, 2, "latitude", "type-error"],
        [STATIONS, 2, "longitude", "type-error"],
    ]


def test_hostile_extra_label_and_short_rows(portal: Path) -> None:
    """A label the schema lacks: every row is one cell short of the header."""
    replace_in(portal / STATIONS, "latitude,longitude\n", "latitude,longitude,notes\n")
    flat = refused(portal)
    assert flat[0] == [STATIONS, 1, "", "extra-label"]
    assert flat[1:] == [[STATIONS, row, "", "missing-cell"] for row in range(2, len(flat) + 1)]
