"""One configuration: every command reads the civicgen options in mkdocs.yml, by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest
from conftest import commit_all, run_cli

from civicgen.config import Settings, read_settings
from civicgen.exceptions import CivicgenException

TOWN = {
    "name": "town",
    "title": "A town's trees",
    "licenses": [{"name": "CC0-1.0"}],
    "resources": [
        {
            "name": "trees",
            "path": "trees.csv",
            "format": "csv",
            "schema": {
                "fields": [
                    {"name": "id", "type": "integer"},
                    {"name": "height", "type": "number"},
                ],
                "primaryKey": ["id"],
            },
        }
    ],
}


def small_city(root: Path, datasets_dir: str, rows: str = "1,4.5\n2,7\n", **options: str) -> Path:
    """A git repository with one package under datasets_dir and a mkdocs.yml naming it."""
    folder = root / datasets_dir / "town"
    folder.mkdir(parents=True)
    (folder / "datapackage.json").write_text(json.dumps(TOWN), encoding="utf-8")
    (folder / "trees.csv").write_text("id,height\n" + rows, encoding="utf-8")
    lines = [f"      {k}: {v}" for k, v in {"datasets_dir": datasets_dir, **options}.items()]
    (root / "mkdocs.yml").write_text(
        "site_name: Town\nplugins:\n  - civicgen:\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    pygit2.init_repository(str(root))
    commit_all(root, "A small city")
    return root


def test_validate_reads_datasets_dir_from_mkdocs_yml(tmp_path: Path) -> None:
    city = small_city(tmp_path / "c", "data", rows="1,4.5\n1,tall\n")
    code, output = run_cli(city, "validate", "--format", "json")
    assert code == 1, output
    found = {(e["code"], e["path"]) for e in json.loads(output)["errors"]}
    assert found == {("primary-key", "data/town/trees.csv"), ("type-error", "data/town/trees.csv")}


def test_a_package_folder_inside_the_city_reads_the_city_configuration(tmp_path: Path) -> None:
    city = small_city(tmp_path / "c", "data", limit_errors="1", rows="a,1\nb,2\nc,3\n")
    code, output = run_cli(city / "data" / "town", "validate", ".", "--format", "json")
    assert code == 1
    assert len(json.loads(output)["errors"]) == 1  # limit_errors: 1, from the city's mkdocs.yml


def test_the_command_line_overrides_the_configuration(tmp_path: Path) -> None:
    city = small_city(tmp_path / "c", "data", limit_errors="1", rows="a,1\nb,2\nc,3\n")
    code, output = run_cli(city, "validate", "--limit-errors", "3", "--format", "json")
    assert code == 1
    assert len(json.loads(output)["errors"]) == 3


def test_config_file_option_on_validate_stats_and_diff(tmp_path: Path) -> None:
    city = small_city(tmp_path / "c", "data")
    (city / "mkdocs.yml").rename(city / "portal.yml")
    commit_all(city, "rename the configuration")
    code, output = run_cli(city, "validate")
    assert code == 2 and "no data package" in output and "datasets_dir" in output
    code, output = run_cli(city, "validate", "-f", "portal.yml")
    assert code == 0, output
    code, output = run_cli(
        city,
        "stats",
        "town",
        "--config-file",
        "portal.yml",
        "--format",
        "csv",
        "--table",
        "columns-trees",
    )
    assert code == 0, output
    assert "height" in output
    (city / "data" / "town" / "trees.csv").write_text("id,height\n1,4.5\n2,8\n", encoding="utf-8")
    code, output = run_cli(city, "diff", "HEAD", "-f", "portal.yml", "--format", "json")
    assert code == 0, output
    [table] = json.loads(output)["tables"]
    assert [(r["key"], r["cells"]) for r in table["rows"]] == [(["2"], [["height", "7", "8"]])]


def test_nothing_found_names_the_configuration_file(tmp_path: Path) -> None:
    city = small_city(tmp_path / "c", "data")
    (city / "mkdocs.yml").write_text(
        "site_name: Town\nplugins:\n  - civicgen:\n      datasets_dir: elsewhere\n",
        encoding="utf-8",
    )
    code, output = run_cli(city, "validate")
    assert code == 2
    assert "elsewhere/*/datapackage.json" in output and "mkdocs.yml" in output


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("      dataset_dir: data\n", 'unknown option "dataset_dir"'),
        ("      limit_errors: many\n", '"limit_errors": must be a whole number'),
        ("      preview_rows: true\n", '"preview_rows": must be a whole number'),
        ("      engine: spark\n", '"engine": must be one of local, dask'),
        ("      languages: [es, 3]\n", '"languages": must be a list of language codes'),
        ("      limits: {rows: 5}\n", 'unknown limit "rows"'),
    ],
)
def test_hostile_config_options_are_refused_by_name(
    tmp_path: Path, options: str, expected: str
) -> None:
    city = small_city(tmp_path / "c", "data")
    (city / "mkdocs.yml").write_text(
        "site_name: Town\nplugins:\n  - civicgen:\n" + options, encoding="utf-8"
    )
    code, output = run_cli(city, "validate")
    assert code == 2
    assert expected in output and "Traceback" not in output


def test_mkdocs_refuses_an_option_in_the_words_of_the_commands(tmp_path: Path) -> None:
    """`mkdocs build` checks the plugin's options against the same table as `validate`."""
    city = small_city(tmp_path / "c", "data")
    (city / "mkdocs.yml").write_text(
        "site_name: Town\nplugins:\n  - civicgen:\n      engine: spark\n", encoding="utf-8"
    )
    (city / "docs").mkdir()
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-d", "out"],
        cwd=city, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert built.returncode == 1, built.stderr
    assert "Plugin 'civicgen' option 'engine': must be one of local, dask" in built.stderr
    assert not (city / "out").exists()


def test_hostile_config_with_a_python_tag_is_refused_before_reading(tmp_path: Path) -> None:
    city = small_city(tmp_path / "c", "data")
    marker = tmp_path / "ran"
    (city / "mkdocs.yml").write_text(
        f"site_name: !!python/object/apply:os.system ['touch {marker}']\nplugins:\n  - civicgen\n",
        encoding="utf-8",
    )
    code, output = run_cli(city, "validate")
    assert code == 2 and "would run code" in output
    assert not marker.exists()


def test_missing_config_file_is_a_usage_error(tmp_path: Path) -> None:
    city = small_city(tmp_path / "c", "data")
    code, output = run_cli(city, "validate", "-f", "nowhere.yml")
    assert code == 2 and "nowhere.yml" in output


def test_options_map_by_name_in_any_order(tmp_path: Path) -> None:
    city = small_city(tmp_path / "c", "data", tools_dir="catalog", limit_errors="7")
    settings = read_settings(str(city / "mkdocs.yml"))
    assert (settings.datasets_dir, settings.tools_dir, settings.limit_errors) == (
        "data",
        "catalog",
        7,
    )
    assert settings.config_file == str((city / "mkdocs.yml").resolve())


def test_plugins_as_a_mapping_and_inherit_are_read(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text(
        "plugins:\n  civicgen:\n    datasets_dir: shared\n", encoding="utf-8"
    )
    (tmp_path / "mkdocs.yml").write_text("INHERIT: base.yml\nsite_name: x\n", encoding="utf-8")
    assert read_settings(str(tmp_path / "mkdocs.yml")).datasets_dir == "shared"


def test_no_configuration_means_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert read_settings(None, tmp_path) == Settings()


def test_a_configuration_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(CivicgenException, match="mapping"):
        read_settings(str(tmp_path / "mkdocs.yml"))


def test_hostile_serve_refuses_a_configuration_that_would_run_code(tmp_path: Path) -> None:
    city = small_city(tmp_path / "c", "data")
    marker = tmp_path / "ran"
    (city / "mkdocs.yml").write_text(
        f"site_name: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8"
    )
    code, output = run_cli(city, "serve")
    assert code == 2 and "would run code" in output
    assert not marker.exists()


@pytest.mark.parametrize("command", ["validate", "build"])
def test_hostile_inherit_outside_the_portal_is_never_read(tmp_path: Path, command: str) -> None:
    city = small_city(tmp_path / "c", "data")
    outside = tmp_path / "secret.yml"
    outside.write_text("plugins:\n  - civicgen:\n      datasets_dir: secret-folder\n", "utf-8")
    (city / "mkdocs.yml").write_text("INHERIT: ../secret.yml\nsite_name: Town\n", "utf-8")
    code, output = run_cli(city, command)
    assert code == 2 and "outside the portal's folder" in output
    assert "secret-folder" not in output
