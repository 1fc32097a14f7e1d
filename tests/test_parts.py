"""A table in several files (a resource whose path is a list): validated, aggregated,
published and compared as one table, each error placed in its own file and row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import frictionless
import pytest
from click.testing import CliRunner
from conftest import commit_all

from civicgen.cli import main
from civicgen.pipeline import Settings, diff, validate
from civicgen.stats.profiles import derive_all
from civicgen.stats.publish import csv_bytes

HEADER = "station,timestamp,temperature,humidity,noise,pm25"


def readings(rows: int, stations: int = 10) -> list[str]:
    """Data lines: several stations, a reading a minute each, in time order."""
    lines = []
    for n in range(rows):
        station, minute = n % stations, n // stations
        stamp = f"2025-01-{1 + minute // 1440:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:00Z"
        values = f"{(n * 7) % 40 - 5}.{n % 10},{(n * 3) % 90}.5,{30 + n % 50}.0,{(n * 11) % 80}.1"
        lines.append(f"sck-{station:04d},{stamp},{values}")
    return lines


def descriptor(path: Any) -> dict[str, Any]:
    schema = {
        "fields": [
            {"name": "station", "type": "string", "constraints": {"required": True}},
            {"name": "timestamp", "type": "datetime", "constraints": {"required": True}},
            {"name": "temperature", "type": "number", "constraints": {"minimum": -30}},
            {"name": "humidity", "type": "number", "constraints": {"maximum": 100}},
            {"name": "noise", "type": "number"},
            {"name": "pm25", "type": "number"},
        ],
        "primaryKey": ["station", "timestamp"],
    }
    return {
        "name": "sensors",
        "resources": [{"name": "readings", "path": path, "schema": schema}],
        "civicgen": {"profile": "sensor", "sensor": {
            "station": "station", "timestamp": "timestamp", "intervalMinutes": 1,
            "quantities": ["temperature", "humidity", "noise", "pm25"]}},
    }  # fmt: skip


def one_file(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True)
    (folder / "datapackage.json").write_text(json.dumps(descriptor("readings.csv")))
    (folder / "readings.csv").write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return folder


def in_files(folder: Path, pieces: list[bytes]) -> Path:
    """A package whose readings are the given files' bytes, in order."""
    (folder / "data").mkdir(parents=True)
    paths = [f"data/part-{n}.csv" for n in range(len(pieces))]
    for path, data in zip(paths, pieces, strict=True):
        (folder / path).write_bytes(data)
    (folder / "datapackage.json").write_text(json.dumps(descriptor(paths)))
    return folder


def split(lines: list[str], cuts: list[int]) -> list[bytes]:
    """The lines in files cut at the given line numbers, each with the header; written the
    ways files come: one with Windows line ends, one with a byte-order mark, the last
    without a final line break."""
    bounds = [0, *cuts, len(lines)]
    pieces = [
        "\n".join([HEADER, *lines[a:b]]) + "\n" for a, b in zip(bounds, bounds[1:], strict=False)
    ]
    data = [piece.encode() for piece in pieces]
    data[1] = pieces[1].replace("\n", "\r\n").encode()
    data[2] = b"\xef\xbb\xbf" + data[2]
    data[-1] = data[-1].rstrip(b"\n")
    return data


def plant(lines: list[str]) -> None:
    """A word for a number, the first key again in a later file, a humidity over 100."""
    cells = lines[150].split(",")
    lines[150] = ",".join([*cells[:2], "warm", *cells[3:]])
    first = lines[0].split(",")
    cells = lines[4_000].split(",")
    lines[4_000] = ",".join([first[0], first[1], *cells[2:]])
    cells = lines[5_500].split(",")
    lines[5_500] = ",".join([*cells[:3], "150", *cells[4:]])


CUTS = [1_000, 2_500, 3_000, 4_500]


def frictionless_rows(package: Path) -> dict[int, str]:
    report = frictionless.validate(str(package / "datapackage.json"))
    return {e.row_number: e.type for task in report.tasks for e in task.errors}


def test_a_table_in_files_is_the_table_in_one_file(tmp_path: Path) -> None:
    """The same rows in one file and in five: the same scan, the same statistics; each
    error in its own file and row, where frictionless (which numbers the joined rows)
    sees it."""
    lines = readings(6_000)
    plant(lines)
    single = validate([str(one_file(tmp_path / "one", lines))], Settings(cache_dir=None))
    package = in_files(tmp_path / "five", split(lines, CUTS))
    joined = validate([str(package)], Settings(cache_dir=None))
    [ours], [theirs] = single.tables.values(), joined.tables.values()
    assert theirs.result.errors == ours.result.errors
    for name in ("rows", "labels", "aggregates", "sequences", "key_sets"):
        assert getattr(theirs.result, name) == getattr(ours.result, name), name
    assert [csv_bytes(t) for t in derive_all(joined)["sensors"]] == [
        csv_bytes(t) for t in derive_all(single)["sensors"]
    ]
    placed = {(e.path.rsplit("/", 1)[1], e.row): e.code for e in joined.report.errors}
    assert placed == {
        ("part-0.csv", 152): "type-error",
        ("part-3.csv", 1_002): "primary-key",
        ("part-4.csv", 1_002): "constraint-error",
    }
    assert frictionless_rows(package) == {152: "type-error", 4_002: "primary-key",
                                          5_502: "constraint-error"}  # fmt: skip
    assert {e.row: e.code for e in single.report.errors} == frictionless_rows(package)
    duplicate = next(e for e in joined.report.errors if e.code == "primary-key")
    assert "the same key as row 2 of " in duplicate.message
    assert duplicate.message.split("row 2 of ")[1].startswith("data/part-0.csv;")


def test_quoted_line_breaks_keep_each_file_s_rows(tmp_path: Path) -> None:
    """A cell with line breaks inside quotes is one row: rows after it stay where they are."""
    lines = readings(300, stations=3)
    lines[10] = lines[10].replace("sck-0001", '"sck-\n0001"')
    lines[250] = lines[250].replace("sck-0001", '"sck-\r\n0001"')
    cells = lines[280].split(",")
    lines[280] = ",".join([*cells[:2], "cold", *cells[3:]])
    package = in_files(tmp_path / "quoted", split(lines, [100, 150, 200, 240]))
    found = validate([str(package)], Settings(cache_dir=None)).report.errors
    assert [(e.path.rsplit("/", 1)[1], e.row, e.code) for e in found] == [
        ("part-4.csv", 42, "type-error")  # the 41st row of the last file
    ]
    assert frictionless_rows(package) == {282: "type-error"}  # 281 rows before it in all


def test_every_file_repeats_the_same_header(tmp_path: Path) -> None:
    lines = readings(400)
    pieces = split(lines, [100, 200, 300, 350])
    pieces[3] = pieces[3].replace(b"humidity,noise", b"noise,humidity", 1)
    package = in_files(tmp_path / "swapped", pieces)
    result = CliRunner().invoke(main, ["validate", str(package)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "data/part-3.csv, row 1" in result.output
    assert "differs from the header of" in result.output and "same header" in result.output


@pytest.mark.parametrize(
    ("paths", "said"),
    [
        (["data/part-0.csv", "../../../etc/passwd"], "not safe"),
        (["data/part-0.csv", "https://example.org/more.csv"], "never downloads"),
        (["data/part-0.csv", "data/part-0.csv"], "twice"),
        (["data/part-0.csv", "data/missing.csv"], "not in the repository"),
        (["data/part-0.csv", 7], "objects and lists"),
    ],
    ids=["outside", "url", "twice", "missing", "not-a-name"],
)
def test_a_hostile_list_of_files_is_a_clear_error(
    tmp_path: Path, paths: list[Any], said: str
) -> None:
    package = in_files(tmp_path / "hostile", split(readings(100), [20, 40, 60, 80]))
    (package / "datapackage.json").write_text(json.dumps(descriptor(paths)))
    result = CliRunner().invoke(main, ["validate", str(package)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and said in result.output


def test_a_joined_table_may_not_be_published_over_another_resource(tmp_path: Path) -> None:
    """The joined readings are published as readings.csv: a second resource at that path
    (its own file, other rows) is refused, naming both resources, not overwritten."""
    package = in_files(tmp_path / "clash", split(readings(100), [20, 40, 60, 80]))
    (package / "readings.csv").write_text("id\n1\n")
    descriptor_ = descriptor([f"data/part-{n}.csv" for n in range(5)])
    descriptor_["resources"].append({"name": "notes", "path": "readings.csv"})
    (package / "datapackage.json").write_text(json.dumps(descriptor_))
    result = CliRunner().invoke(main, ["validate", str(package)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert 'resource "readings" is published joined as' in result.output
    assert 'of resource "notes" too; rename one' in " ".join(result.output.split())


def station_files(portal: Path) -> list[str]:
    """The example's readings split into one file per station (each with the header)."""
    folder = portal / "datasets/air-quality"
    header, *rows = (folder / "data/readings.csv").read_text().splitlines(keepends=True)
    by_station: dict[str, list[str]] = {}
    for row in rows:
        by_station.setdefault(row.split(",")[0], []).append(row)
    (folder / "data/readings").mkdir()
    paths = []
    for station, found in by_station.items():
        paths.append(f"data/readings/{station}.csv")
        (folder / paths[-1]).write_text(header + "".join(found))
    (folder / "data/readings.csv").unlink()
    package = json.loads((folder / "datapackage.json").read_text())
    for resource in package["resources"]:
        if resource["name"] == "readings":
            resource["path"] = paths
    (folder / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False))
    return paths


def test_a_station_a_file_builds_and_diffs_as_the_one_file(
    portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example's sensor readings as one file per station: the same statistics, the
    joined table published once (its descriptor names it), a foreign-key error and a
    changed cell placed in their own file."""
    monkeypatch.chdir(portal)
    original = (portal / "datasets/air-quality/data/readings.csv").read_bytes()
    before = validate([str(portal / "datasets/air-quality")], Settings(cache_dir=None))
    paths = station_files(portal)
    base = commit_all(portal, "One file per station")
    after = validate([str(portal / "datasets/air-quality")], Settings(cache_dir=None))
    assert after.report.valid
    assert [csv_bytes(t) for t in derive_all(after)["air-quality"]] == [
        csv_bytes(t) for t in derive_all(before)["air-quality"]
    ]
    result = CliRunner().invoke(main, ["build", "--site-dir", str(portal / "site")])
    assert result.exit_code == 0, result.output
    published = portal / "site/datasets/air-quality"
    assert (published / "readings.csv").read_bytes() == original
    resources = json.loads((published / "datapackage.json").read_text())["resources"]
    assert [r["path"] for r in resources] == ["data/stations.csv", "readings.csv"]
    assert not (published / "data/readings").exists()

    third = portal / "datasets/air-quality" / paths[2]
    text = third.read_text()
    line = text.splitlines()[3]
    cells = line.split(",")
    third.write_text(text.replace(line, ",".join([*cells[:2], "99.9", *cells[3:]])))
    head = commit_all(portal, "A corrected reading", when=1_700_086_400)
    changes = diff(base, head)
    [table] = [t for t in changes.tables if t.resource == "readings"]
    [changed] = table.rows
    assert (changed.kind, changed.key) == ("changed", (cells[0], cells[1]))
    assert changed.cells == [("temperature", cells[2], "99.9")]
    assert table.path.endswith(f"({len(paths)} files)")

    text = third.read_text()
    third.write_text(text.replace(cells[0] + ",", "sck-nowhere,", 1))
    result = CliRunner().invoke(main, ["validate", "datasets/air-quality"])
    assert result.exit_code == 1
    assert f"{paths[2]}, row 2" in result.output and "sck-nowhere" in result.output


def test_a_cached_text_finding_names_the_file_it_is_in_now(tmp_path: Path) -> None:
    """The text checks' cache holds the joined bytes' findings: files renamed, the same
    bytes, the finding names the new file."""
    lines = readings(200)
    lines[150] = lines[150].replace("sck-", "sck-\u202e", 1)
    package = in_files(tmp_path / "text", split(lines, [50, 100, 120, 180]))
    settings = Settings(cache_dir=tmp_path / "cache")
    [first] = [e for e in validate([str(package)], settings).report.errors]
    assert first.path.endswith("data/part-3.csv") and first.row == 32
    (package / "data/part-3.csv").rename(package / "data/renamed.csv")
    paths = [f"data/part-{n}.csv" for n in range(5)]
    paths[3] = "data/renamed.csv"
    (package / "datapackage.json").write_text(json.dumps(descriptor(paths)))
    [again] = [e for e in validate([str(package)], settings).report.errors]
    assert again.path.endswith("data/renamed.csv") and again.row == 32
    assert again.code == first.code
