"""The scan on a Dask cluster: a LocalCluster of two worker processes on 127.0.0.1 gives the
report and every derived table the local scan gives, field by field, on the example city and
on generated sensor data with errors planted in several partitions; a worker killed mid-scan
ends in the same result (Dask runs its task again), a task that fails for good in a clear
error and no report."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, commit_all
from test_parts import descriptor as sensor_descriptor

from civicgen import validate
from civicgen.config import Settings
from civicgen.exceptions import CivicgenException
from civicgen.scan.cluster import current, scanning_on
from civicgen.scan.engine import compiled
from civicgen.stats.profiles import derive_all
from civicgen.stats.publish import csv_bytes

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")
pytestmark = pytest.mark.skipif(compiled is None, reason="the partitions run the compiled kernel")

SMALL = 32 << 10  # bytes a partition: the example's readings make 8, its budget lines 50
ROWS = 24_000  # generated readings: about 1.2 MB, 38 partitions


@contextmanager
def local_cluster(retries: int = 1) -> Iterator[Any]:
    """Two worker processes on 127.0.0.1 (nannies restart one that dies); a task is run
    again this many times after its worker died, then fails for good."""
    import dask

    failures = {"distributed.scheduler.allowed-failures": retries}
    with dask.config.set(failures), distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as running:  # fmt: skip
        yield running


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with local_cluster() as running:
        yield running


@pytest.fixture(autouse=True)
def scanned_on_cluster(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files scan_on_cluster was called for (it still runs)."""
    from civicgen.scan import partitions

    seen: list[str] = []
    real = partitions.scan_on_cluster

    def recorded(cluster: Any, path: Any, data: Any, plan: Any) -> Any:
        seen.append(Path(path).name)
        return real(cluster, path, data, plan)

    monkeypatch.setattr(partitions, "scan_on_cluster", recorded)
    return seen


def on_cluster(cluster: Any, paths: list[str], partition: int = SMALL) -> Any:
    with scanning_on("dask", cluster.scheduler_address, partition) as used:
        assert used is not None and current() is used
        return validate(paths, Settings(cache_dir=None))


def same_results(local: Any, dask: Any) -> None:
    """The reports, every table's scan and every derived table: equal, field by field."""
    assert json.loads(dask.report.to_json()) == json.loads(local.report.to_json())
    assert dask.tables.keys() == local.tables.keys()
    for key, scanned in local.tables.items():
        theirs = dask.tables[key].result
        for name in scanned.result._fields:
            if name != "aggregates":
                assert getattr(theirs, name) == getattr(scanned.result, name), (key, name)
        assert same_groups(theirs.aggregates, scanned.result.aggregates), key
    ours, theirs = derive_all(local), derive_all(dask)
    assert theirs.keys() == ours.keys()
    for package, tables in ours.items():
        assert [csv_bytes(t) for t in theirs[package]] == [csv_bytes(t) for t in tables], package


def same_groups(ours: list[dict[Any, Any]], theirs: list[dict[Any, Any]]) -> bool:
    """The same groups with the same counts, minima and maxima; float sums equal but for the
    last bits (added in another order, as a scan on several local cores adds them)."""
    if [list(o) for o in ours] != [list(t) for t in theirs]:
        return False
    return all(
        close(a, b) for o, t in zip(ours, theirs, strict=True) for k in o for a, b in
        zip(flat(o[k]), flat(t[k]), strict=True)
    )  # fmt: skip


def flat(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in flat(item)]
    return [value]


def close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return bool(a == b)


def test_the_example_city_scanned_on_the_cluster_is_the_local_scan(
    portal: Path, cluster: Any, scanned_on_cluster: list[str]
) -> None:
    local = validate([str(portal)], Settings(cache_dir=None))
    dask = on_cluster(cluster, [str(portal)])
    same_results(local, dask)
    assert local.report.valid and dask.report.rows == local.report.rows > 10_000
    assert {"readings.csv", "gastos-2014-2015.csv"} <= set(scanned_on_cluster)


# --- generated sensor data, errors in several partitions -------------------------------------


def readings(rows: int) -> list[str]:
    """Ten stations, a reading a minute each, in time order."""
    lines = ["station,timestamp,temperature,humidity,noise,pm25"]
    for n in range(rows):
        station, minute = n % 10, n // 10
        stamp = f"2025-01-{1 + minute // 1440:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:00Z"
        values = f"{(n * 7) % 40 - 5}.{n % 10},{(n * 3) % 90}.5,{30 + n % 50}.0,{(n * 11) % 80}.1"
        lines.append(f"sck-{station:04d},{stamp},{values}")
    return lines


def sensor_package(folder: Path, lines: list[str]) -> Path:
    descriptor = sensor_descriptor("readings.csv")
    folder.mkdir(parents=True)
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (folder / "readings.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def planted(lines: list[str]) -> dict[int, str]:
    """Errors in four partitions, by data row: a word for a number, the first row's key
    again much later, a humidity over 100, a station's reading back in time."""
    rows = {152: "type-error", 9_002: "primary-key", 14_002: "constraint-error"}  # rows as
    # frictionless counts them: the header is row 1, lines[n] is row n + 1
    first = lines[1].split(",")
    cells = lines[151].split(",")
    lines[151] = ",".join([*cells[:2], "warm", *cells[3:]])
    cells = lines[9_001].split(",")
    lines[9_001] = ",".join([first[0], first[1], *cells[2:]])
    cells = lines[14_001].split(",")
    lines[14_001] = ",".join([*cells[:3], "150", *cells[4:]])
    cells, earlier = lines[21_001].split(","), lines[20_001].split(",")
    lines[21_001] = ",".join([cells[0], earlier[1].replace(":00Z", ":30Z"), *cells[2:]])
    return rows


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "a-quoted-cell"])
def test_planted_errors_are_found_where_they_are(
    tmp_path: Path, cluster: Any, quoted: bool, scanned_on_cluster: list[str]
) -> None:
    """Errors in several partitions keep their true rows, the duplicate key names its first
    row in another partition, and every statistic matches; a quoted cell (a line feed may
    be inside one) makes the partitions be cut again where records start."""
    lines = readings(ROWS)
    rows = planted(lines)
    if quoted:
        lines[5_001] = lines[5_001].replace("sck-", '"sck-', 1).replace(",2025", '",2025', 1)
    package = sensor_package(tmp_path / "sensors", lines)
    assert (package / "readings.csv").stat().st_size > 30 * SMALL
    local = validate([str(package)], Settings(cache_dir=None))
    dask = on_cluster(cluster, [str(package)])
    assert scanned_on_cluster == ["readings.csv"]
    same_results(local, dask)
    found = {e.row: e.code for e in dask.report.errors}
    assert found == rows
    duplicate = next(e for e in dask.report.errors if e.code == "primary-key")
    assert "the same key as row 2;" in duplicate.message  # its first row, 9,000 rows before
    assert [t.name for t in derive_all(dask)["sensors"]] == [
        "coverage",
        "exceedances",
        "daily",
        "hourly",
    ]


def in_files(package: Path, count: int) -> list[str]:
    """The package's readings split into count files, each with the header."""
    header, *rows = (package / "readings.csv").read_text().splitlines(keepends=True)
    (package / "readings.csv").unlink()
    size = -(-len(rows) // count)
    paths = [f"readings/{n:02d}.csv" for n in range(count)]
    (package / "readings").mkdir()
    for n, path in enumerate(paths):
        (package / path).write_text(header + "".join(rows[n * size : (n + 1) * size]))
    descriptor = json.loads((package / "datapackage.json").read_text())
    descriptor["resources"][0]["path"] = paths
    (package / "datapackage.json").write_text(json.dumps(descriptor))
    return paths


def test_a_table_in_several_files_is_scanned_a_file_at_a_time(
    tmp_path: Path, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One table in six files: each file is read by a worker (a large one in several
    partitions, one with a quoted cell whole); the result is the local scan's, and each
    planted error is placed in its own file and row."""
    from civicgen.scan import partitions

    seen: list[int] = []
    real = partitions.scan_files_on_cluster

    def recorded(cluster: Any, pieces: Any, data: Any, plan: Any) -> Any:
        seen.append(len(pieces))
        return real(cluster, pieces, data, plan)

    monkeypatch.setattr(partitions, "scan_files_on_cluster", recorded)
    lines = readings(ROWS)
    planted(lines)
    lines[5_001] = lines[5_001].replace("sck-", '"sck-', 1).replace(",2025", '",2025', 1)
    package = sensor_package(tmp_path / "sensors", lines)
    paths = in_files(package, 6)
    local = validate([str(package)], Settings(cache_dir=None))
    dask = on_cluster(cluster, [str(package)])
    assert seen == [6]
    same_results(local, dask)
    placed = {(e.path.rsplit("/", 1)[1], e.row): e.code for e in dask.report.errors}
    assert placed == {
        ("00.csv", 152): "type-error",
        ("02.csv", 1_002): "primary-key",
        ("03.csv", 2_002): "constraint-error",
    }
    duplicate = next(e for e in dask.report.errors if e.code == "primary-key")
    assert f"the same key as row 2 of {paths[0]};" in duplicate.message


# --- faults ------------------------------------------------------------------------------------


class KillOnce(distributed.WorkerPlugin):  # type: ignore[misc]
    """Kill the worker's own process as it starts a partition's scan, once for the whole
    cluster: the worker that creates the mark file."""

    def __init__(self, mark: str) -> None:
        self.mark = mark

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing" or not str(key).startswith("scan_partition"):
            return
        try:
            os.close(os.open(self.mark, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def killing(mark: Path, retries: int) -> Iterator[Any]:
    """A cluster of its own, one of whose workers dies as it starts scanning a partition."""
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    with local_cluster(retries) as running, distributed.Client(running) as client:
        client.register_plugin(KillOnce(str(mark)), name="civicgen-killer")
        yield running


def test_a_worker_killed_mid_scan_changes_nothing(tmp_path: Path) -> None:
    package = sensor_package(tmp_path / "sensors", readings(ROWS))
    local = validate([str(package)], Settings(cache_dir=None))
    mark = tmp_path / "killed"
    with killing(mark, retries=1) as running:
        dask = on_cluster(running, [str(package)])
    assert mark.exists()  # a worker did die while scanning a partition
    same_results(local, dask)


def test_a_partition_dask_gives_up_on_is_a_clear_error(tmp_path: Path) -> None:
    """No retry allowed: the partition whose worker died fails for good, and so does the scan."""
    package = sensor_package(tmp_path / "sensors", readings(ROWS))
    mark = tmp_path / "killed"
    with killing(mark, retries=0) as running, pytest.raises(CivicgenException) as raised:
        on_cluster(running, [str(package)])
    assert mark.exists()
    message = str(raised.value)
    assert "readings.csv" in message and "no report is given" in message


def test_a_file_makes_at_most_so_many_partitions() -> None:
    """A tiny partition size (mkdocs.yml comes by pull request) does not make a task a row."""
    from civicgen.scan.partitions import MAX_PARTITIONS, partition_size

    assert partition_size(10 << 20, 64 << 20) == 64 << 20
    assert partition_size(10 << 20, SMALL) == SMALL  # 320 partitions: as asked
    big = 1 << 40
    assert partition_size(big, 1) == big // MAX_PARTITIONS
    assert -(-big // partition_size(big, 1)) == MAX_PARTITIONS


def test_a_worker_that_finds_another_file_is_a_clear_error(tmp_path: Path, cluster: Any) -> None:
    from civicgen.scan.cluster import Cluster
    from civicgen.scan.partitions import scan_on_cluster
    from civicgen.scan.plan import compile_plan

    package = sensor_package(tmp_path / "sensors", readings(ROWS))
    data = (package / "readings.csv").read_bytes()
    (package / "readings.csv").write_bytes(data[:-100])  # what the workers see is shorter
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    plan = compile_plan(descriptor["resources"][0])
    with distributed.Client(cluster) as client, pytest.raises(CivicgenException) as raised:
        scan_on_cluster(Cluster(client, SMALL), package / "readings.csv", data, plan)
    assert "another file" in str(raised.value) and "shared folder" in str(raised.value)


# --- the command line ------------------------------------------------------------------------


def test_validate_and_stats_take_the_engine_on_the_command_line(
    portal: Path,
    cluster: Any,
    scanned_on_cluster: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from civicgen.cli import main

    commit_all(portal, "as it is")
    runner = CliRunner()
    budget = str(portal / "datasets/madrid-budget")
    for number, command in enumerate(
        (["validate", str(portal), "--format", "json"], ["stats", budget, "--format", "json"])
    ):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / f"cache-{number}"))  # nothing cached
        dask = runner.invoke(
            main, [*command, "--scheduler", cluster.scheduler_address, "--partition-mb", "0.05"]
        )
        assert scanned_on_cluster.count("gastos-2014-2015.csv") == number + 1
        local = runner.invoke(main, [*command, "--engine", "local"])
        assert local.exit_code == dask.exit_code == 0, dask.output
        assert dask.output == local.output
    wrong = runner.invoke(main, ["validate", str(portal), "--engine", "local", "--scheduler", "x"])
    assert wrong.exit_code == 2 and "--engine dask" in wrong.output


def test_the_example_portal_built_on_the_cluster_is_the_same_bytes(
    example_site: Path, cluster: Any, tmp_path: Path, scanned_on_cluster: list[str]
) -> None:
    from civicgen.build import build_site

    with scanning_on("dask", cluster.scheduler_address, SMALL):
        site = build_site(ROOT / "mkdocs.yml", tmp_path / "site")
    ours = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    theirs = sorted(
        p.relative_to(example_site).as_posix() for p in example_site.rglob("*") if p.is_file()
    )
    assert "gastos-2014-2015.csv" in scanned_on_cluster
    assert ours == theirs and len(ours) > 500
    assert [n for n in ours if (site / n).read_bytes() != (example_site / n).read_bytes()] == []


def test_the_local_engine_never_imports_dask(portal: Path) -> None:
    """The default install's path: validate and stats without the dask engine load no Dask."""
    code = (
        "import sys; from click.testing import CliRunner; from civicgen.cli import main; "
        f"r = CliRunner().invoke(main, ['validate', {str(portal)!r}]); "
        "print(r.exit_code, sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.split("\n")[0] == "0 []", done.stdout + done.stderr


def test_the_engine_option_in_mkdocs_yml_starts_a_cluster_here(
    portal: Path, scanned_on_cluster: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`engine: dask` in the plugin's options: a cluster on this machine, started and
    stopped by the command, and the same report as the local engine."""
    from click.testing import CliRunner

    from civicgen.cli import main

    config = portal / "mkdocs.yml"
    command = ["validate", str(portal), "--format", "json", "-f", str(config)]
    text = config.read_text(encoding="utf-8")
    assert "  - civicgen:\n" in text
    config.write_text(
        text.replace(
            "  - civicgen:\n", "  - civicgen:\n      engine: dask\n      partition_mb: 0.05\n", 1
        ),
        encoding="utf-8",
    )
    dask = CliRunner().invoke(main, command)  # first: the cache is empty, every file is scanned
    scanned = list(scanned_on_cluster)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another-cache"))
    local = CliRunner().invoke(main, [*command, "--engine", "local"])  # the command line wins
    assert scanned_on_cluster == scanned
    assert local.exit_code == dask.exit_code == 0, dask.output
    assert dask.output == local.output and "gastos-2014-2015.csv" in scanned
    assert current() is None  # stopped with the command
