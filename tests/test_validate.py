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
        "packages": 4,
        "tables": 6,
        "rows": 9958 + 146 + 6 + 4014 + 18 + 22,
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
