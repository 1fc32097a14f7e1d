"""Derived statistics, checked against independent DuckDB queries over the same files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import replace_in

from civicgen import Settings, validate
from civicgen.cli import main
from civicgen.scan import reference
from civicgen.scan.plan import GroupBy, compile_plan
from civicgen.stats.partials import add, merge_groups, new_measure, quantile
from civicgen.stats.profiles import derive_all

BUDGET = "datasets/madrid-budget/data/gastos-2014-2015.csv"
READINGS = "datasets/air-quality/data/readings.csv"


@pytest.fixture
def derived(portal: Path) -> dict[str, dict[str, object]]:
    validation = validate([str(portal)])
    assert validation.report.valid
    return {name: {t.name: t for t in tables} for name, tables in derive_all(validation).items()}


def sql(query: str, *params: object) -> list[tuple]:
    return duckdb.connect().execute(query, list(params)).fetchall()


def read_budget(portal: Path) -> str:
    return f"read_csv('{portal / BUDGET}', all_varchar=true, header=true)"


def test_budget_totals_equal_duckdb(portal: Path, derived) -> None:
    expected = sql(
        f'SELECT "AÑO"::INT, SUM("IMPORTE"::BIGINT) FROM {read_budget(portal)} GROUP BY 1 ORDER BY 1'
    )
    totals = derived["madrid-budget"]["totals"]
    assert [(r["year"], r["amount"]) for r in totals.records()] == [
        (y, float(a)) for y, a in expected
    ]
    assert expected == [(2014, 4699310629), (2015, 4650554218)]
    assert totals.records()[1]["per_inhabitant"] == round(4650554218 / 3141991, 2)
    assert totals.records()[1]["change_pct"] == round((4650554218 - 4699310629) / 4699310629, 4)


@pytest.mark.parametrize(
    "level,expression",
    [
        ("CAPITULO", '"CAPITULO"'),
        ("PROGRAMA:1", 'left("PROGRAMA", 1)'),
        ("ECONOMICO:2", 'left("ECONOMICO", 2)'),
        ("SECCION", '"SECCION"'),
    ],
)
def test_classification_rollups_equal_duckdb(
    portal: Path, derived, level: str, expression: str
) -> None:
    expected = sql(
        "SELECT y, code, amount, amount / SUM(amount) OVER (PARTITION BY y) FROM ("
        f'SELECT "AÑO"::INT AS y, {expression} AS code, SUM("IMPORTE"::BIGINT) AS amount '
        f"FROM {read_budget(portal)} GROUP BY 1, 2) ORDER BY 1, 2"
    )
    rows = derived["madrid-budget"]["classifications"].where(level=level)
    assert [(r["year"], r["code"], r["amount"]) for r in rows] == [
        (y, c, float(a)) for y, c, a, _ in expected
    ]
    assert [r["share"] for r in rows] == [round(s, 4) for *_, s in expected]


def test_year_over_year_change_per_node(derived) -> None:
    rows = {
        (r["year"], r["code"]): r
        for r in derived["madrid-budget"]["classifications"].where(level="CAPITULO")
    }
    chapter_one = rows[(2015, "1")]
    assert chapter_one["change"] == chapter_one["amount"] - rows[(2014, "1")]["amount"]
    assert chapter_one["label"] == "GASTOS DE PERSONAL"


def test_fiscal_data_package_mapping_alone_gives_the_same_totals(portal: Path, derived) -> None:
    descriptor = portal / "datasets/madrid-budget/datapackage.json"
    data = json.loads(descriptor.read_text())
    del data["civicgen"]["budget"]
    descriptor.write_text(json.dumps(data))
    validation = validate([str(portal / "datasets/madrid-budget")])
    tables = {t.name: t for t in derive_all(validation)["madrid-budget"]}
    assert tables["totals"].rows[0][:4] == derived["madrid-budget"]["totals"].rows[0][:4]
    assert {r["level"] for r in tables["classifications"].records()} == {
        "CENTRO",
        "SECCION",
        "PROGRAMA",
        "CAPITULO",
        "ECONOMICO",
    }


def test_execution_rate_when_executed_phase_exists(tmp_path: Path) -> None:
    folder = tmp_path / "budget"
    folder.mkdir()
    (folder / "lines.csv").write_text(
        "year,phase,area,chapter,amount\n"
        "2024,approved,1,A,100\n2024,executed,1,A,130\n"
        "2024,approved,1,B,100\n2024,executed,1,B,20\n"
        "2024,approved,2,A,50\n2024,executed,2,A,45\n"
    )
    fields = [{"name": n, "type": "string"} for n in ("phase", "area", "chapter")]
    fields = [{"name": "year", "type": "year"}, *fields, {"name": "amount", "type": "number"}]
    budget = {
        "amount": "amount",
        "year": "year",
        "phaseField": "phase",
        "currency": "EUR",
        "classifications": {"functional": ["area"], "economic": ["chapter"]},
    }
    (folder / "datapackage.json").write_text(
        json.dumps(
            {
                "name": "town",
                "civicgen": {"profile": "budget", "budget": budget},
                "resources": [{"name": "lines", "path": "lines.csv", "schema": {"fields": fields}}],
            }
        )
    )
    tables = {t.name: t for t in derive_all(validate([str(folder)]))["town"]}
    rates = {
        (r["classification"], r["code"]): (r["rate"], r["flag"])
        for r in tables["execution"].records()
    }
    assert rates == {
        ("total", ""): (0.78, ""),
        ("functional", "1"): (0.75, ""),
        ("functional", "2"): (0.9, ""),
        ("economic", "A"): (1.1667, "above"),
        ("economic", "B"): (0.2, "far below"),
        ("line", "1/A"): (1.3, "above"),
        ("line", "1/B"): (0.2, "far below"),
        ("line", "2/A"): (0.9, ""),
    }


def test_sensor_daily_means_and_exceedances_equal_duckdb(portal: Path, derived) -> None:
    expected = sql(
        f"SELECT station, left(timestamp, 10) AS day, avg(pm25::DOUBLE), count(pm25) "
        f"FROM read_csv('{portal / READINGS}', all_varchar=true) "
        f"WHERE pm25 <> '' GROUP BY 1, 2 ORDER BY 1, 2"
    )
    daily = [r for r in derived["air-quality"]["daily"].records() if r["quantity"] == "pm25"]
    assert [(r["station"], r["day"], r["readings"]) for r in daily] == [
        (s, d, n) for s, d, _, n in expected
    ]
    assert all(abs(r["mean"] - m) < 1e-3 for r, (_, _, m, _) in zip(daily, expected, strict=True))
    above = {(s, sum(1 for s2, _, m, _ in expected if s2 == s and m > 15)) for s, *_ in expected}
    exceedances = derived["air-quality"]["exceedances"].where(quantity="pm25")
    assert {(r["station"], r["days_above"]) for r in exceedances} == above
    assert all(r["threshold"] == 15.0 for r in exceedances)


def test_sensor_coverage_counts_gaps(portal: Path, derived) -> None:
    [(rows,)] = sql(
        f"SELECT count(*) FROM read_csv('{portal / READINGS}', all_varchar=true) WHERE station = 'sck-retiro'"
    )
    [coverage] = derived["air-quality"]["coverage"].where(station="sck-retiro")
    assert coverage["readings"] == rows and coverage["expected"] == 28 * 24
    assert coverage["gap_hours"] == 28 * 24 - rows
    assert coverage["coverage"] == round(rows / (28 * 24), 4)


def test_quantile_sketch_is_within_one_percent() -> None:
    import random

    values = [random.Random(7).lognormvariate(2, 0.8) for _ in range(5000)]
    state = new_measure(quantiles=True)
    for value in values:
        add(state, value)
    exact = sorted(values)[int(0.95 * (len(values) - 1))]
    assert abs(quantile(state, 0.95) - exact) / exact < 0.02


def test_chunks_merge_to_the_whole(portal: Path) -> None:
    """Mergeable partials: two halves scanned apart and merged equal one scan of the whole."""
    descriptor = json.loads((portal / "datasets/air-quality/datapackage.json").read_text())
    plan = compile_plan(
        descriptor["resources"][1],
        None,
        (GroupBy(((0, "value", 0), (1, "day", 0)), (2, 3, 4, 5, 6, 7), True),),
    )
    lines = (portal / READINGS).read_bytes().splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    whole = reference.scan_csv(b"".join(lines), plan).aggregates[0]
    first = reference.scan_csv(header + b"".join(body[:2000]), plan).aggregates[0]
    second = reference.scan_csv(header + b"".join(body[2000:]), plan).aggregates[0]
    merged = merge_groups(first, second)
    assert merged.keys() == whole.keys()
    for key, group in whole.items():
        assert merged[key][0] == group[0]
        for a, b in zip(merged[key][1], group[1], strict=True):
            assert a[0] == b[0] and a[2:] == b[2:] and abs(a[1] - b[1]) < 1e-6


def test_proposal_funding_chain_reads_the_budget(portal: Path, derived) -> None:
    [(approved,)] = sql(
        f'SELECT SUM("IMPORTE"::BIGINT) FROM {read_budget(portal)} WHERE "PROGRAMA" = \'17102\' AND "AÑO" = \'2015\''
    )
    [row] = derived["proposals"]["funding"].where(id="pb-2015-001")
    assert (row["budget_program"], row["program_label"], row["program_approved"]) == (
        "17102",
        "ZONAS VERDES",
        approved,
    )
    assert row["program_executed"] is None  # the example budget publishes approved amounts only
    statuses = {
        r["value"]: r["proposals"]
        for r in derived["proposals"]["summary"].where(dimension="status")
    }
    assert sum(statuses.values()) == len(list((portal / "datasets/proposals/records").glob("*.md")))
    funded = {r["value"]: r for r in derived["proposals"]["summary"].where(dimension="funded")}
    funding = derived["proposals"]["funding"].records()
    assert funded["yes"]["proposals"] == len(funding)
    assert funded["yes"]["estimated_cost"] == sum(r["estimated_cost"] for r in funding)


def test_catalog_counts_and_osi_flags(portal: Path, derived) -> None:
    (portal / "tools-catalog/commons-clause-tool.yaml").write_text(
        (portal / "tools-catalog/ckan.yaml").read_text().replace("AGPL-3.0-or-later", "BUSL-1.1")
    )
    tables = {t.name: t for t in derive_all(validate([str(portal)]))["tools-catalog"]}
    flags = {r["id"]: r["osi_approved"] for r in tables["licences"].records()}
    assert flags["ckan"] is True and flags["commons-clause-tool"] is False
    licences = {r["value"]: r["tools"] for r in tables["counts"].where(dimension="licence")}
    assert licences["BUSL-1.1"] == 1 and sum(licences.values()) == len(flags)


def test_generic_column_profile(derived) -> None:
    [code, label] = derived["madrid-budget"]["columns-programas"].records()
    assert (code["count"], code["distinct"], code["missing"]) == (146, 146, 0)
    [station_id, *_rest] = derived["air-quality"]["columns-stations"].records()
    assert station_id["distinct"] == 6


def test_profile_of_a_column_of_many_values(kernel) -> None:
    """Past DISTINCT_LIMIT values a column is profiled as a whole; memory stays bounded."""
    from civicgen.stats import generic

    fields = [
        {"name": "id", "type": "integer"},
        {"name": "x", "type": "number"},
        {"name": "kind", "type": "string"},
    ]
    rows = [f"{i},{'' if i == 7 else i / 2},k{i % 3}" for i in range(1, 1501)]
    data = ("id,x,kind\n" + "\n".join(rows) + "\n").encode()
    resource = {"name": "t", "path": "t.csv", "schema": {"fields": fields}}
    plan = compile_plan(resource, aggregates=generic.group_bys(fields))
    result = kernel.scan_csv(data, plan)
    ids, xs, kinds = generic.profile_table("t", fields, result.aggregates, ("",)).records()
    assert (ids["count"], ids["missing"], ids["distinct"]) == (1500, 0, None)
    assert ids["top_values"] == "more than 1,000 distinct values"
    assert (xs["count"], xs["missing"], xs["min"], xs["max"]) == (1499, 1, 0.5, 750.0)
    assert xs["mean"] == round((sum(range(1, 1501)) - 7) / 2 / 1499, 4)
    assert (kinds["count"], kinds["distinct"], kinds["top_values"]) == (
        1500,
        3,
        "k0 (500); k1 (500); k2 (500)",
    )


def test_unknown_column_type_is_a_profile_error(portal: Path) -> None:
    replace_in(
        portal / "datasets/madrid-budget/datapackage.json",
        '"columnType": "value"',
        '"columnType": "valu"',
    )
    [error] = validate([str(portal)]).report.errors
    assert error.code == "profile-error" and 'did you mean "value"?' in error.message


def test_cache_rescans_only_the_changed_file(portal: Path) -> None:
    cold = validate([str(portal)]).cache
    assert (cold.hits, cold.misses) == (0, 4)  # four CSV tables; collections are not cached
    warm = validate([str(portal)]).cache
    assert (warm.hits, warm.misses) == (4, 0)
    replace_in(portal / "datasets/air-quality/data/stations.csv", "Matadero", "Matadero Madrid")
    after_edit = validate([str(portal)])
    assert (after_edit.cache.hits, after_edit.cache.misses) == (3, 1)
    assert after_edit.report.valid
    uncached = validate([str(portal)], Settings(cache_dir=None))
    assert uncached.cache is None
    assert (
        derive_all(uncached)["air-quality"][0].rows == derive_all(after_edit)["air-quality"][0].rows
    )


def test_cached_errors_are_reported_again(portal: Path) -> None:
    replace_in(portal / "datasets/air-quality/data/stations.csv", "40.4234", "north")
    first = validate([str(portal)]).report.flatten(["path", "row", "code"])
    second = validate([str(portal)])
    assert second.cache.hits == 4 and second.report.flatten(["path", "row", "code"]) == first != []


def test_a_foreign_key_that_fails_on_a_cached_table_names_every_row(portal: Path) -> None:
    """The cache keeps each key's first row only; a broken reference rescans for the rest."""
    validate([str(portal)])  # every table cached
    replace_in(portal / "datasets/air-quality/data/stations.csv", "sck-retiro,", "sck-park,")
    warm = validate([str(portal)])
    assert warm.cache.hits == 3  # the readings came from the cache
    uncached = validate([str(portal)], Settings(cache_dir=None)).report
    keys = ["path", "row", "code", "message"]
    rows = [e.row for e in uncached.errors if e.code == "foreign-key"]
    assert len(rows) > 100 and len(set(rows)) == len(rows)
    assert warm.report.flatten(keys) == uncached.flatten(keys)


def test_text_findings_are_read_from_the_cache(portal: Path) -> None:
    replace_in(portal / "datasets/air-quality/data/stations.csv", "Matadero", "Mata\u202edero")
    cold = validate([str(portal)])
    warm = validate([str(portal)])
    assert (cold.cache.finding_hits, warm.cache.finding_misses) == (
        0,
        0,
    ) and warm.cache.finding_hits
    keys = ["path", "row", "field", "code", "message"]
    assert warm.report.flatten(keys) == cold.report.flatten(keys)
    assert any(e.code == "bidi-control" for e in warm.report.errors)


def test_stats_command_formats(portal: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(portal)
    runner = CliRunner()
    as_json = json.loads(runner.invoke(main, ["stats", "madrid-budget", "--format", "json"]).output)
    assert [t["name"] for t in as_json["tables"]] == [
        "totals",
        "classifications",
        "label_conflicts",
        "columns-programas",
    ]
    as_csv = runner.invoke(
        main, ["stats", "datasets/air-quality", "--table", "coverage", "--format", "csv"]
    )
    assert as_csv.exit_code == 0 and as_csv.output.startswith("station,first_hour,last_hour,")
    as_md = runner.invoke(main, ["stats", "proposals", "--table", "summary"])
    assert "| status | completed | 5 |" in as_md.output
    assert runner.invoke(main, ["stats", "air-quality", "--format", "csv"]).exit_code == 2
    assert runner.invoke(main, ["stats", "nowhere"]).exit_code == 2


def test_out_of_order_and_duplicate_timestamps(portal: Path) -> None:
    readings = portal / READINGS
    lines = readings.read_text().splitlines(keepends=True)
    retiro = [i for i, line in enumerate(lines) if line.startswith("sck-retiro,")]
    first, second = retiro[10], retiro[11]
    lines[first], lines[second] = lines[second], lines[first]  # one reading listed too late
    readings.write_text("".join(lines))
    validation = validate([str(portal)])
    assert validation.report.valid  # out of order is a statistic, not an error
    coverage = {t.name: t for t in derive_all(validation)["air-quality"]}["coverage"]
    [retiro_row] = coverage.where(station="sck-retiro")
    assert (retiro_row["duplicates"], retiro_row["out_of_order"]) == (0, 1)
    assert all(r["out_of_order"] == 0 for r in coverage.records() if r["station"] != "sck-retiro")
    readings.write_text("".join(lines) + lines[retiro[3]])  # an early reading again, at the end
    assert retiro_counts(portal) == (0, 2)  # listed after later ones: out of order
    repeated = [*lines[: retiro[3] + 1], lines[retiro[3]], *lines[retiro[3] + 1 :]]
    readings.write_text("".join(repeated))  # the same reading twice in a row
    assert retiro_counts(portal) == (1, 1)


def retiro_counts(portal: Path) -> tuple[int, int]:
    """(duplicates, out of order) of sck-retiro; the repeated reading is a primary-key error."""
    validation = validate([str(portal)])
    assert validation.report.flatten(["code"]) == [["primary-key"]]
    coverage = {t.name: t for t in derive_all(validation)["air-quality"]}["coverage"]
    [row] = coverage.where(station="sck-retiro")
    return row["duplicates"], row["out_of_order"]


def test_reading_order_counts_times_with_a_fraction_of_a_second(portal: Path) -> None:
    """`civicgen import smartcitizen` writes microseconds when a reading has them: such
    times are counted like whole seconds, not left out."""
    readings = portal / READINGS
    lines = readings.read_text().splitlines(keepends=True)
    retiro = [i for i, line in enumerate(lines) if line.startswith("sck-retiro,")]
    for i in retiro:
        lines[i] = lines[i].replace(":00Z,", ":00.250000Z,", 1)
    lines[retiro[10]], lines[retiro[11]] = lines[retiro[11]], lines[retiro[10]]
    readings.write_text("".join(lines))
    validation = validate([str(portal)])
    coverage = {t.name: t for t in derive_all(validation)["air-quality"]}["coverage"]
    [row] = coverage.where(station="sck-retiro")
    assert (row["duplicates"], row["out_of_order"]) == (0, 1)
