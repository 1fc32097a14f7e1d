"""Importers: Smart Citizen Kit CSV, pabulib .pb and publiccode.yml / DPG entries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import frictionless
import pytest
import yaml

from civicgen import CivicgenException, validate
from civicgen.accepted import surely_accepted
from civicgen.descriptor import without_profiles
from civicgen.errors import CivicError
from civicgen.importers import ImportProblem, pabulib, publiccode, smartcitizen

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "importers"
DPG = Path(__file__).parent / "fixtures" / "dpga-entries"
DPG_ENTRIES = sorted(p for p in DPG.glob("*.json") if p.name != "nominee-schema.json")
needs_samples = pytest.mark.skipif(not DPG_ENTRIES, reason="shared DPG samples not present")


def positions(errors: list[CivicError]) -> list[tuple[object, ...]]:
    """(file name, code, 1-based line, 1-based column, field, warning) for each error."""
    return [
        (
            Path(e.path).name,
            e.code,
            None if e.line is None else e.line + 1,
            None if e.column is None else e.column + 1,
            e.field_name,
            e.warning,
        )
        for e in errors
    ]


def problems(call, *args, **kwargs) -> list[tuple[object, ...]]:
    with pytest.raises(ImportProblem) as caught:
        call(*args, **kwargs)
    return positions(caught.value.errors)


def assert_valid_package(folder: Path, with_frictionless: bool = True) -> None:
    """Valid to civicgen and to frictionless, and of the shape that is validated without
    importing frictionless (accepted.py)."""
    report = validate([str(folder)]).report
    assert [e.message for e in report.errors if not e.warning] == []
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert surely_accepted(without_profiles(descriptor))
    if with_frictionless:
        checked = frictionless.validate(folder / "datapackage.json")
        assert checked.valid, checked.flatten(["rowNumber", "fieldName", "type", "note"])


# --- Smart Citizen Kit ----------------------------------------------------------------------


def test_sd_card_export_becomes_a_valid_sensor_package(tmp_path: Path) -> None:
    out = tmp_path / "gracia-air"
    result = smartcitizen.import_files([FIXTURES / "25-10-01.CSV"], out, station="sck-gracia")
    assert (out / "data/readings.csv").read_text(encoding="utf-8") == (
        "station,timestamp,temperature,humidity,battery,light,noise,pressure,eco2,tvoc,"
        "pm1,pm25,pm10\n"
        "sck-gracia,2025-10-01T00:00:05Z,18.42,71.30,-1,0,38.12,101.21,412,7,3,5,7\n"
        "sck-gracia,2025-10-01T00:01:05Z,18.40,71.42,-1,0,37.95,101.21,409,6,3,4,6\n"
        "sck-gracia,2025-10-01T00:02:05Z,18.39,,-1,0,41.30,101.22,,,2,4,6\n"
        "sck-gracia,2025-10-01T00:03:05Z,18.37,71.60,-1,0,,101.22,415,8,3,5,7\n"
        "sck-gracia,2025-10-01T00:04:05Z,18.35,71.66,-1,0,36.88,101.23,418,9,,,\n"
    )
    assert (out / "data/stations.csv").read_text(encoding="utf-8") == (
        "id,name,latitude,longitude\nsck-gracia,sck-gracia,,\n"
    )
    assert positions(result.errors) == [("25-10-01.CSV", "primary-key", 8, None, "", True)]
    assert result.errors[0].note == (
        "same station and time as line 7 (sck-gracia, 2025-10-01T00:02:05Z); the first was "
        "kept and this line was left out; the lines are identical, so no reading was lost"
    )
    assert sorted(p.relative_to(out).as_posix() for p in result.written) == [
        "data/readings.csv",
        "data/stations.csv",
        "datapackage.json",
    ]
    descriptor = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["name"] == "gracia-air"
    assert descriptor["civicgen"] == {
        "profile": "sensor",
        "sensor": {
            "station": "station",
            "timestamp": "timestamp",
            "timezone": "UTC",
            "stations": "stations",
            "quantities": [
                "temperature",
                "humidity",
                "light",
                "noise",
                "pressure",
                "eco2",
                "tvoc",
                "pm1",
                "pm25",
                "pm10",
            ],
            "intervalMinutes": 1,
        },
    }
    fields = descriptor["resources"][1]["schema"]["fields"]
    assert {f["name"]: f.get("unit") for f in fields[2:]} == {
        "temperature": "°C",
        "humidity": "%",
        "battery": "%",
        "light": "lux",
        "noise": "dBA",
        "pressure": "kPa",
        "eco2": "ppm",
        "tvoc": "ppb",
        "pm1": "µg/m³",
        "pm25": "µg/m³",
        "pm10": "µg/m³",
    }
    assert fields[11]["description"] == "PM2.5 particles in µg/m³; SD-card key PM_25, sensor id 87."
    assert_valid_package(out)


def test_platform_download_names_the_station_after_the_file(tmp_path: Path) -> None:
    out = tmp_path / "sol"
    result = smartcitizen.import_files([FIXTURES / "Plaça del Sol.csv"], out)
    assert result.errors == []
    assert (out / "data/readings.csv").read_text(encoding="utf-8") == (
        "station,timestamp,temperature,humidity,noise,pressure,light,battery,pm1,pm25,pm10,"
        "nitrogen_dioxide\n"
        "placa-del-sol,2025-10-01T00:00:00Z,19.1,66.5,52.3,101.19,3.2,88,4,6,9,21.5\n"
        "placa-del-sol,2025-10-01T01:00:00Z,18.6,68.0,49.8,101.20,2.9,87,5,7,10,19.0\n"
        "placa-del-sol,2025-10-01T02:00:00Z,18.2,,47.1,101.21,2.9,86,,,,17.4\n"
        "placa-del-sol,2025-10-01T03:00:00Z,17.9,70.2,45.6,101.21,3.0,85,6,8,12,16.8\n"
    )
    descriptor = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    fields = descriptor["resources"][1]["schema"]["fields"]
    assert [(f["name"], f.get("unit"), f["title"]) for f in fields[2:]] == [
        ("temperature", "°C", "Air temperature"),
        ("humidity", "%", "Relative humidity"),
        ("noise", "dBA", "Noise level"),
        ("pressure", "kPa", "Barometric pressure"),
        ("light", "lux", "Ambient light"),
        ("battery", "%", "Battery level"),
        ("pm1", "µg/m³", "PM1 particles"),
        ("pm25", "µg/m³", "PM2.5 particles"),
        ("pm10", "µg/m³", "PM10 particles"),
        ("nitrogen_dioxide", "ppb", "Nitrogen Dioxide"),
    ]
    assert fields[-1]["description"] == ("Nitrogen Dioxide in ppb; sensor Alphasense NO2-B43F.")
    assert descriptor["civicgen"]["sensor"]["intervalMinutes"] == 60
    assert_valid_package(out)


def test_files_of_one_kit_are_joined_and_every_duplicate_reported(tmp_path: Path) -> None:
    files = [FIXTURES / "25-10-01.CSV", FIXTURES / "25-10-01-01.CSV"]
    result = smartcitizen.import_files(files, tmp_path / "out", station="sck-gracia")
    assert positions(result.errors) == [
        ("25-10-01.CSV", "primary-key", 8, None, "", True),
        ("25-10-01-01.CSV", "primary-key", 5, None, "", False),
    ]
    assert result.errors[1].note == (
        "same station and time as tests/…/25-10-01.CSV, line 10 (sck-gracia, "
        "2025-10-01T00:04:05Z); the first was kept and this line was left out, but the values "
        "differ (pm1 2 here, null kept, pm10 6 here, null kept, pm25 4 here, null kept); "
        "check which is right"
    ).replace("tests/…/25-10-01.CSV", (FIXTURES / "25-10-01.CSV").as_posix())
    lines = (tmp_path / "out/data/readings.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[1] for line in lines[1:]] == [
        f"2025-10-01T00:0{minute}:05Z" for minute in range(6)
    ]
    assert_valid_package(tmp_path / "out")


def test_times_without_zone_take_the_timezone_given(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = smartcitizen.import_files(
        [FIXTURES / "local-times.csv"], out, timezone="Europe/Madrid"
    )
    assert (out / "data/readings.csv").read_text(encoding="utf-8") == (
        "station,timestamp,pm25\n"
        "local-times,2025-10-25T23:30:00Z,8\n"
        "local-times,2025-10-26T00:30:00Z,9\n"
        "local-times,2025-10-26T02:30:00Z,7\n"
    )
    assert positions(result.errors) == [("local-times.csv", "civic-error", 3, None, "", True)]
    assert "ambiguous or does not exist in Europe/Madrid" in result.errors[0].note
    descriptor = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["resources"][1]["schema"]["fields"][1]["description"] == (
        "When the kit took the reading, ISO 8601 in UTC. "
        "Times without a zone were read as Europe/Madrid."
    )
    assert_valid_package(out)


def test_a_file_named_like_a_date_gets_a_station_warning(tmp_path: Path) -> None:
    result = smartcitizen.import_files([FIXTURES / "25-10-01.CSV"], tmp_path / "out")
    assert positions(result.errors)[0] == ("25-10-01.CSV", "civic-error", None, None, "", True)
    assert "25-10-01,2025-10-01T00:00:05Z" in (tmp_path / "out/data/readings.csv").read_text()


def test_malformed_readings_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    found = problems(smartcitizen.import_files, [FIXTURES / "25-10-02-bad.CSV"], out)
    assert found == [
        ("25-10-02-bad.CSV", "type-error", 6, 28, "HUM", False),
        ("25-10-02-bad.CSV", "missing-cell", 7, 33, "", False),
        ("25-10-02-bad.CSV", "type-error", 8, 1, "", False),
    ]
    assert not out.exists()


def test_sd_card_file_without_its_four_header_lines(tmp_path: Path) -> None:
    found = problems(
        smartcitizen.import_files, [FIXTURES / "25-10-03-no-units.CSV"], tmp_path / "out"
    )
    assert found == [("25-10-03-no-units.CSV", "format-error", 2, None, "", False)]


def test_a_file_that_is_no_export(tmp_path: Path) -> None:
    found = problems(smartcitizen.import_files, [FIXTURES / "bad-rows.pb"], tmp_path / "out")
    assert found == [("bad-rows.pb", "format-error", 1, 1, "", False)]


def test_output_folder_must_be_empty_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(CivicgenException, match="is not empty"):
        smartcitizen.import_files([FIXTURES / "local-times.csv"], out)
    smartcitizen.import_files([FIXTURES / "local-times.csv"], out, overwrite=True)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert (out / "data/readings.csv").is_file()


def test_unknown_time_zone(tmp_path: Path) -> None:
    with pytest.raises(CivicgenException, match="is not a time zone"):
        smartcitizen.import_files([FIXTURES / "local-times.csv"], tmp_path, timezone="Mars/Base")


# --- pabulib ----------------------------------------------------------------------------------


def test_pabulib_file_becomes_a_valid_proposals_collection(tmp_path: Path) -> None:
    out = tmp_path / "gracia"
    result = pabulib.import_file(FIXTURES / "spain_barcelona_2024_gracia.pb", out)
    assert sorted(p.relative_to(out).as_posix() for p in result.written) == [
        "datapackage.json",
        "records/pb-1.md",
        "records/pb-2.md",
        "records/pb-3.md",
        "records/pb-4.md",
    ]
    assert (out / "records/pb-2.md").read_text(encoding="utf-8") == (
        "---\n"
        "title: Bike parking; secure racks at Fontana metro\n"
        "district: Gràcia\n"
        "category: mobility\n"
        "estimated_cost: 95000\n"
        "votes: 3\n"
        "status: selected\n"
        "year: 2024\n"
        "---\n"
        "Imported from pabulib file spain_barcelona_2024_gracia.pb (instance 2024, unit "
        "Barcelona, subunit Gràcia).\n"
        "\n"
        "District participatory budget of Gràcia (example file for civicgen tests)\n"
        "\n"
        "Project 2 of the file. Target groups: cyclists.\n"
    )
    fronts = {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8").split("---\n")[1])
        for p in sorted((out / "records").glob("*.md"))
    }
    assert {k: (f["votes"], f["status"], f["category"]) for k, f in fronts.items()} == {
        "pb-1": (4, "selected", "environment"),
        "pb-2": (3, "selected", "mobility"),
        "pb-3": (2, "not-selected", "sport"),
        "pb-4": (1, "not-selected", "mobility"),
    }
    assert fronts["pb-4"]["title"] == "Project 4: Bus"
    assert positions(result.errors) == [
        ("spain_barcelona_2024_gracia.pb", "civic-error", 25, None, "", True)
    ]
    descriptor = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in descriptor["resources"][0]["schema"]["fields"]}
    assert descriptor["civicgen"] == {"profile": "proposals"}
    assert descriptor["resources"][0]["civicgen"] == {
        "records": {"pattern": "records/*.md", "key": "id", "body": "description"}
    }
    assert list(fields) == [
        "id",
        "title",
        "district",
        "category",
        "estimated_cost",
        "votes",
        "status",
        "year",
        "budget_program",
        "progress",
        "submitted",
        "description",
    ]
    assert fields["district"]["constraints"]["enum"] == ["Gràcia"]
    assert fields["category"]["constraints"] == {
        "required": True,
        "enum": ["environment", "mobility", "sport"],
    }
    assert fields["estimated_cost"]["unit"] == "EUR"
    assert_valid_package(out, with_frictionless=False)


def test_pabulib_votes_column_and_decidim_layout(tmp_path: Path) -> None:
    out = tmp_path / "sant-andreu"
    result = pabulib.import_file(FIXTURES / "decidim-export.pb", out)
    assert result.errors == []
    assert (out / "records/pb-17.md").read_text(encoding="utf-8").split("---\n")[1] == (
        "title: Renovation of the Trinitat Vella library reading room\n"
        "district: Pressupostos participatius - Sant Andreu\n"
        "estimated_cost: 250000\n"
        "votes: 2\n"
        "status: selected\n"
        "year: 2023\n"
    )
    descriptor = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    category = descriptor["resources"][0]["schema"]["fields"][3]
    assert category == {"name": "category", "type": "string", "title": "Category"}
    assert_valid_package(out, with_frictionless=False)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("missing-projects.pb", [("missing-projects.pb", "format-error", 6, None, "", False)]),
        ("missing-cost.pb", [("missing-cost.pb", "missing-label", 7, None, "cost", False)]),
        (
            "bad-rows.pb",
            [
                ("bad-rows.pb", "type-error", 9, 3, "cost", False),
                ("bad-rows.pb", "missing-cell", 10, 36, "", False),
                ("bad-rows.pb", "extra-cell", 11, 38, "", False),
                ("bad-rows.pb", "foreign-key", 14, 3, "vote", False),
            ],
        ),
    ],
)
def test_malformed_pabulib_files(tmp_path: Path, name: str, expected: list[tuple]) -> None:
    assert problems(pabulib.import_file, FIXTURES / name, tmp_path / "out") == expected
    assert not (tmp_path / "out").exists()


def test_pabulib_messages_say_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ImportProblem) as caught:
        pabulib.import_file(FIXTURES / "bad-rows.pb", tmp_path / "out")
    path = (FIXTURES / "bad-rows.pb").as_posix()
    assert str(caught.value).splitlines()[0] == (
        f'{path}, line 9, field "cost": "95.000,50" is not a cost; write it in digits with '
        "no separators"
    )


def test_pabulib_html_entities_are_decoded(tmp_path: Path) -> None:
    """Amsterdam's files write & as &amp; (unquoted, so its ";" must not split the cell)."""
    out = tmp_path / "out"
    result = pabulib.import_file(FIXTURES / "amsterdam-entities.pb", out)
    assert result.errors == []
    fronts = [
        yaml.safe_load(p.read_text(encoding="utf-8").split("---\n")[1])
        for p in sorted((out / "records").glob("*.md"))
    ]
    assert [(f["title"], f["district"], f["category"]) for f in fronts] == [
        ("Bomen & bankjes in het Oosterpark", "Centrum & Oost", "Groen & duurzaamheid"),
        ("Caf\u00e9 voor ouderen \u2013 De Pijp", "Centrum & Oost", "Zorg & welzijn"),
    ]
    body = (out / "records/pb-2.md").read_text(encoding="utf-8")
    assert "Categories: Zorg & welzijn, Cultuur." in body
    assert "&amp;" not in body
    descriptor = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in descriptor["resources"][0]["schema"]["fields"]}
    assert fields["category"]["constraints"]["enum"] == ["Groen & duurzaamheid", "Zorg & welzijn"]
    assert_valid_package(out, with_frictionless=False)


def test_pabulib_overwrite_reports_records_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "records").mkdir(parents=True)
    (out / "records/pb-99.md").write_text("---\ntitle: Old\n---\nOld\n", encoding="utf-8")
    result = pabulib.import_file(FIXTURES / "decidim-export.pb", out, overwrite=True)
    assert positions(result.errors) == [("decidim-export.pb", "civic-error", None, None, "", True)]
    assert result.errors[0].note.startswith("records/pb-99.md is not in this pabulib file")


# --- publiccode.yml and Digital Public Goods entries -------------------------------------------

ANSWERS = publiccode.Answers(hosting="self-hosted", status="stable")


def asked(call, *args, **kwargs) -> list[tuple[object, ...]]:
    """The questions an import asks (ImportQuestion, exit 2), as positions."""
    with pytest.raises(publiccode.ImportQuestion) as caught:
        call(*args, **kwargs)
    return positions(caught.value.errors)


@needs_samples
@pytest.mark.parametrize("entry", DPG_ENTRIES, ids=lambda p: p.stem)
def test_every_dpg_entry_is_a_valid_catalog_record(tmp_path: Path, entry: Path) -> None:
    """With hosting and status answered, an entry imports; or it asks for a category only."""
    try:
        result = publiccode.import_file(entry, tmp_path, answers=ANSWERS)
    except publiccode.ImportQuestion as question:
        assert [e.field_name for e in question.errors] == ["sectors"]
        assert "--category" in str(question)
        answers = publiccode.Answers(("open-data",), "self-hosted", "stable")
        result = publiccode.import_file(entry, tmp_path, answers=answers)
    assert [p.name for p in result.written] == [f"{entry.stem}.yaml"]
    shutil.copy(ROOT / "tools-catalog/datapackage.json", tmp_path)
    report = validate([str(tmp_path)]).report
    assert [e.message for e in report.errors] == []
    assert report.rows == 1


@needs_samples
def test_dpg_entry_asks_for_what_it_does_not_state(tmp_path: Path) -> None:
    """No keyword guessing, no default category, status or hosting: the entry asks."""
    found = asked(publiccode.import_file, DPG / "ushahidi.json", tmp_path / "out")
    assert found == [
        ("ushahidi.json", "catalog-question", None, None, "development_status", False),
        ("ushahidi.json", "catalog-question", None, None, "hosting", False),
        ("ushahidi.json", "catalog-question", 36, 3, "sectors", False),
    ]
    assert not (tmp_path / "out").exists()


@needs_samples
def test_dpg_entry_output(tmp_path: Path) -> None:
    answers = publiccode.Answers(("data-collection", "mapping"), "self-hosted-or-saas", "stable")
    result = publiccode.import_file(DPG / "ushahidi.json", tmp_path, answers=answers)
    assert (tmp_path / "ushahidi.yaml").read_text(encoding="utf-8") == (
        "# Source: ushahidi.json (Digital Public Goods registry entry), imported by civicgen; "
        "check every field\n"
        "name: Ushahidi\n"
        "description: The Ushahidi Platform helps communities turn information into action with "
        "an intuitive\n"
        "  and accessible crowdsourcing and mapping tool.\n"
        "homepage: https://www.ushahidi.com/\n"
        "repository: https://github.com/ushahidi/platform/\n"
        "licence: AGPL-3.0\n"
        "categories: [data-collection, mapping]\n"
        "languages: []\n"
        "hosting: self-hosted-or-saas\n"
        "development_status: stable\n"
    )
    assert positions(result.errors) == [
        ("ushahidi.json", "record-error", 6, 18, "description", True),
        ("ushahidi.json", "record-error", 10, 15, "license.0.spdx", True),
    ]
    assert [e.note for e in result.errors] == [
        "the description was cut to its first sentences (133 characters); check it reads well",
        "AGPL-3.0 is a deprecated SPDX id; check the repository's licence and use "
        "AGPL-3.0-only or AGPL-3.0-or-later",
    ]


def test_publiccode_yml_output(tmp_path: Path) -> None:
    answers = publiccode.Answers(hosting="self-hosted")
    result = publiccode.import_file(FIXTURES / "publiccode.yml", tmp_path, answers=answers)
    assert positions(result.errors) == [
        ("publiccode.yml", "publiccode-error", 40, 3, "legal.repoOwner", True)
    ]
    assert (tmp_path / "segnalazioni.yaml").read_text(encoding="utf-8") == (
        "# Source: publiccode.yml (publiccode.yml), imported by civicgen; check every field\n"
        "name: Segnalazioni\n"
        "description: Residents report problems with streets, parks and street lights to the "
        "city.\n"
        "homepage: https://segnalazioni.comune.example.it\n"
        "repository: https://github.com/comune-example/segnalazioni\n"
        "licence: EUPL-1.2\n"
        "categories: [issue-reporting, mapping]\n"
        "languages: []\n"
        "hosting: self-hosted\n"
        "development_status: stable\n"
        "deployed_by: [Comune di Example]\n"
    )
    shutil.copy(ROOT / "tools-catalog/datapackage.json", tmp_path)
    assert validate([str(tmp_path)]).report.errors == []


def test_publiccode_yml_asks_for_hosting(tmp_path: Path) -> None:
    assert asked(publiccode.import_file, FIXTURES / "publiccode.yml", tmp_path / "out") == [
        ("publiccode.yml", "catalog-question", None, None, "hosting", False)
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "publiccode-invalid.yml",
            [
                ("publiccode-invalid.yml", "publiccode-error", 1, 1, "url", False),
                ("publiccode-invalid.yml", "publiccode-error", 1, 1, "platforms", False),
                ("publiccode-invalid.yml", "publiccode-error", 1, 1, "softwareType", False),
                ("publiccode-invalid.yml", "publiccode-error", 1, 1, "maintenance", False),
                ("publiccode-invalid.yml", "publiccode-error", 1, 1, "localisation", False),
                ("publiccode-invalid.yml", "publiccode-error", 6, 1, "developmentStatus", False),
                (
                    "publiccode-invalid.yml",
                    "publiccode-error",
                    9,
                    5,
                    "description.en.longDescription",
                    False,
                ),
                (
                    "publiccode-invalid.yml",
                    "publiccode-error",
                    9,
                    5,
                    "description.en.features",
                    False,
                ),
                ("publiccode-invalid.yml", "publiccode-error", 11, 3, "legal.license", False),
            ],
        ),
        ("publiccode-broken.yml", [("publiccode-broken.yml", "format-error", 5, 1, "", False)]),
        ("dpg-broken.json", [("dpg-broken.json", "format-error", 4, 3, "", False)]),
        (
            "dpg-missing-name.json",
            [
                ("dpg-missing-name.json", "record-error", 1, 1, "name", False),
                ("dpg-missing-name.json", "record-error", 5, 3, "license.0.spdx", False),
            ],
        ),
    ],
)
def test_invalid_catalog_sources(tmp_path: Path, name: str, expected: list[tuple]) -> None:
    found = problems(publiccode.import_file, FIXTURES / name, tmp_path / "out", answers=ANSWERS)
    assert found == expected
    assert not (tmp_path / "out").exists()


def test_not_yaml_at_all(tmp_path: Path) -> None:
    found = problems(publiccode.import_file, FIXTURES / "local-times.csv", tmp_path / "out")
    assert found == [("local-times.csv", "format-error", 1, 1, "", False)]


def test_import_problem_lists_messages(tmp_path: Path) -> None:
    with pytest.raises(ImportProblem) as caught:
        publiccode.import_file(FIXTURES / "publiccode-invalid.yml", tmp_path / "out")
    path = (FIXTURES / "publiccode-invalid.yml").as_posix()
    lines = str(caught.value).splitlines()
    assert lines[5] == (
        f'{path}, line 6, column 1, field "developmentStatus": "production" is not a '
        "development status; use one of beta, concept, development, obsolete, stable"
    )
    assert lines[8] == (
        f'{path}, line 11, column 3, field "legal.license": "EUPL 1.2" is not an SPDX licence; '
        "use an id like AGPL-3.0-or-later or MIT"
    )


def test_unknown_category_answer_is_a_usage_error(tmp_path: Path) -> None:
    answers = publiccode.Answers(("kitchen",), "self-hosted")
    with pytest.raises(CivicgenException, match="--category kitchen is not a catalog category"):
        publiccode.import_file(FIXTURES / "publiccode.yml", tmp_path / "out", answers=answers)
