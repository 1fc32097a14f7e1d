"""benchmarks/build.py: the scaled repository is valid and holds exactly k× the example's records;
the plain MkDocs project holds the same pages; peak memory counts the whole process tree.
No timing is asserted here: performance is measured, never asserted."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pygit2
import pytest
import yaml
from conftest import ROOT


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "benchmarks/build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as source:
        return list(csv.reader(source))[1:]


def package(portal: Path, profile: str) -> tuple[Path, dict]:
    return next((f, d) for f, d in bench.descriptors(portal) if bench.profile_of(d) == profile)


def counted(portal: Path) -> dict[str, int]:
    """The records in a portal, counted from its files (not from what the generator says)."""
    proposals, proposals_package = package(portal, "proposals")
    tools, tools_package = package(portal, "catalog")
    budget, budget_package = package(portal, "budget")
    sensors, sensor_package = package(portal, "sensor")
    shape = bench.budget_shape(budget_package)
    lines = shape.lines["path"]
    programmes = bench.resource_path(budget, budget_package, shape.reference[0])
    stations = bench.resource_path(sensors, sensor_package, "stations")
    readings = next(r["path"] for r in sensor_package["resources"] if r["name"] != "stations")
    return {
        "proposals": len(bench.record_files(proposals, proposals_package["resources"][0])),
        "tools": len(bench.record_files(tools, tools_package["resources"][0])),
        "budget_lines": len(rows(budget / lines)),
        "programmes": len(rows(programmes)),
        "stations": len(rows(stations)),
        "readings": len(rows(sensors / readings)),
    }


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    return counted(bench.copy_portal(tmp_path_factory.mktemp("example") / "city"))


@pytest.fixture(scope="module", params=[2, 3])
def scaled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """(k, portal, what the generator says it wrote): 2× and 3× (3× adds new economic codes)."""
    portal = tmp_path_factory.mktemp(f"x{request.param}") / "city"
    return request.param, portal, bench.scale_portal(portal, request.param)


def test_scaled_repository_holds_k_times_the_records(scaled: tuple, example: dict) -> None:
    k, portal, counts = scaled
    expected = {name: k * number for name, number in example.items()}
    expected["programmes"] = example["programmes"] * (1 + k // 2)  # new ones on odd copies only
    assert counted(portal) == expected
    assert bench.asdict(counts) == expected


def test_scaled_repository_is_valid_and_committed(scaled: tuple, tmp_path: Path) -> None:
    _, portal, _ = scaled
    bench.check_valid(portal, bench.civicgen_env(tmp_path / "cache"))  # `civicgen validate`
    repo = pygit2.Repository(str(portal))
    assert repo.status() == {}
    assert not repo.head.peel().parents


def test_copies_get_distinct_titles_and_budget_keys(scaled: tuple) -> None:
    _, portal, _ = scaled
    folder, descriptor = package(portal, "proposals")
    files = bench.record_files(folder, descriptor["resources"][0])
    titles = [yaml.safe_load(p.read_text().split("---")[1])["title"] for p in files]
    assert len(set(titles)) == len(titles)
    budget, budget_package = package(portal, "budget")
    lines = budget_package["resources"][0]
    header, rows_ = bench.read_rows(budget / lines["path"])
    key = [header.index(name) for name in lines["schema"]["primaryKey"]]
    assert len({tuple(line[i] for i in key) for line in rows_}) == len(rows_)


def test_scaled_copies_keep_every_code_in_its_top_level() -> None:
    codes = bench.CodeAllocator({"91100", "91101", "23100"})
    new = [codes.new("91100") for _ in range(3)] + [codes.new("23100")]
    assert new == ["90000", "90001", "90002", "20000"]
    assert codes.new("91100") == "90003"


def test_renamed_keeps_quotes_and_length() -> None:
    text = 'title: "Benches: in the park"\nvotes: 3\n'
    assert (
        bench.renamed(text, "title", 4, 120) == 'title: "Benches: in the park (copy 4)"\nvotes: 3\n'
    )
    long = bench.renamed("name: " + "x" * 80 + "\n", "name", 12, 80)
    assert len(long.strip()) == len("name: ") + 80 and long.strip().endswith("(copy 12)")


def nav_pages(nav: list) -> list[str]:
    """The pages a nav points to, whatever their (translated) titles."""
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_plain_project_has_the_same_pages_without_the_plugin(tmp_path: Path) -> None:
    portal = tmp_path / "city"
    bench.scale_portal(portal, 1)
    env = bench.civicgen_env(tmp_path / "cache")
    plain = bench.plain_project(portal, tmp_path / "work", env)
    assert not (portal / ".bench-dump.yml").exists()
    original = yaml.safe_load((portal / "mkdocs.yml").read_text())
    for path in sorted(plain.glob("mkdocs-*.yml")):
        config = yaml.safe_load(path.read_text())
        assert "civicgen" not in json.dumps(config["plugins"])
        assert nav_pages(config["nav"]) == nav_pages(original["nav"])
        assert config["markdown_extensions"] == original["markdown_extensions"]
    subprocess.run(bench.civicgen("build"), cwd=portal, env=env, check=True, capture_output=True)
    subprocess.run(bench.plain_command(plain), cwd=plain, check=True, capture_output=True)
    built = {p.relative_to(portal / "site") for p in (portal / "site").rglob("*.html")}
    plain_built = {p.relative_to(plain / "site") for p in (plain / "site").rglob("*.html")}
    assert len(built) > 40
    assert built == plain_built


def test_peak_memory_counts_the_whole_process_tree(tmp_path: Path) -> None:
    child = "import time; block = bytearray(200 << 20); block[::4096] = b'x' * len(block[::4096]); time.sleep(1)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    run = bench.measured([sys.executable, "-c", parent], tmp_path, {})
    assert run.peak_mib > 200


def test_a_failing_build_stops_the_benchmark(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="failed"):
        bench.measured([sys.executable, "-c", "raise SystemExit(3)"], tmp_path, {})
