"""Hostile pull requests against what civicgen reads: paths, caches, references, git itself.

Each case is one change a stranger could propose to the example city, and asserts the
exact error code and that nothing was read, fetched, published or leaked.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pygit2
import pytest
from conftest import commit_all, replace_in, run_cli

from civicgen.build import build_site
from civicgen.cache import ScanCache, cache_key
from civicgen.errors import FormulaCellError, PersonalDataError
from civicgen.exceptions import CivicgenException
from civicgen.pipeline import Settings, validate
from civicgen.scan import kernel
from civicgen.scan.plan import compile_plan

SECRET = "ghp_SECRETTOKEN0123456789"
AIR = "datasets/air-quality"
READINGS = f"{AIR}/data/readings.csv"


def codes(portal: Path, settings: Settings | None = None) -> list[list[object]]:
    return validate([str(portal)], settings).report.flatten(["path", "code"])


def set_readings_path(portal: Path, path: str) -> None:
    replace_in(portal / AIR / "datapackage.json", '"data/readings.csv"', json.dumps(path))


def refused_build(portal: Path, caplog: pytest.LogCaptureFixture) -> str:
    """Build the portal, expect a refusal, and return what it said; no site may appear."""
    with pytest.raises(CivicgenException) as refusal:
        build_site(portal / "mkdocs.yml")
    assert not (portal / "site").exists()
    return f"{refusal.value}\n{caplog.text}"


# --- paths -------------------------------------------------------------------------------


def plant_git_secret(portal: Path) -> None:
    config = portal / ".git/config"
    config.write_text(config.read_text() + f'[credential]\n\thelper = "store {SECRET}"\n')


@pytest.mark.parametrize(
    "path",
    [
        "../../.git/config",
        "../../.GIT/config",
        "../../.git/./config",
        "../../datasets/../.git/config",
    ],
)
def test_hostile_resource_path_into_git_is_refused(portal: Path, path: str) -> None:
    plant_git_secret(portal)
    set_readings_path(portal, path)
    report = validate([str(portal)]).report
    assert report.flatten(["path", "code"]) == [[f"{AIR}/datapackage.json", "git-path"]]
    assert SECRET not in report.to_text() + report.to_json()


def test_hostile_git_secret_is_never_published(portal: Path, caplog) -> None:
    plant_git_secret(portal)
    set_readings_path(portal, "../../.git/config")
    said = refused_build(portal, caplog)
    assert "not valid" in said and SECRET not in said


def test_hostile_record_pattern_into_git_is_refused(portal: Path) -> None:
    replace_in(portal / "datasets/proposals/datapackage.json", '"records/*.md"', '"../../.git/*"')
    flat = codes(portal)
    assert flat == [["datasets/proposals/datapackage.json", "git-path"]]


@pytest.mark.parametrize(
    "path", ["data/read\u0000ings.csv", "data/read\nings.csv", "data/\x1b[31m.csv"]
)
def test_hostile_control_characters_in_a_path(portal: Path, path: str) -> None:
    set_readings_path(portal, path)
    report = validate([str(portal)]).report
    assert report.flatten(["code"]) == [["unsafe-path"]]
    assert "\x00" not in report.to_text() and "\x1b" not in report.to_text()


@pytest.mark.parametrize("path", ["~/.ssh/id_rsa", "/etc/passwd", "C:/Windows/win.ini"])
def test_hostile_paths_outside_the_repository(portal: Path, path: str) -> None:
    set_readings_path(portal, path)
    assert [code for _, code in codes(portal)] in (["unsafe-path"], ["resource-error"])


def test_hostile_link_inside_the_repository_is_not_followed(portal: Path) -> None:
    readings = portal / READINGS
    readings.unlink()
    readings.symlink_to(portal / "datasets/madrid-budget/data/programas.csv")
    assert codes(portal) == [[READINGS, "link-path"]]


def test_hostile_linked_folder_is_not_followed(portal: Path) -> None:
    data = portal / AIR / "data"
    (portal / "elsewhere").mkdir()
    data.rename(portal / "elsewhere/data")
    data.symlink_to(portal / "elsewhere/data")
    assert [c for _, c in codes(portal)] == ["link-path", "link-path"]


def test_hostile_submodule_in_the_work_tree(portal: Path) -> None:
    data = portal / AIR / "data"
    pygit2.init_repository(str(data))  # the folder becomes another repository
    assert [c for _, c in codes(portal)] == ["submodule-path", "submodule-path"]


def test_hostile_submodule_in_a_revision(portal: Path) -> None:
    repository = pygit2.Repository(str(portal))
    tree = repository.head.peel(pygit2.Commit).tree
    air = repository[tree["datasets"].id][AIR.split("/")[1]]
    builder = repository.TreeBuilder(repository[air.id])
    builder.insert("data", repository.head.target, pygit2.GIT_FILEMODE_COMMIT)  # a gitlink
    new_air = builder.write()
    datasets = repository.TreeBuilder(repository[tree["datasets"].id])
    datasets.insert("air-quality", new_air, pygit2.GIT_FILEMODE_TREE)
    root = repository.TreeBuilder(tree)
    root.insert("datasets", datasets.write(), pygit2.GIT_FILEMODE_TREE)
    author = pygit2.Signature("Stranger", "s@example.org", 1_700_000_100, 0)
    repository.create_commit(
        "refs/heads/hostile", author, author, "submodule", root.write(), [repository.head.target]
    )
    report = validate([str(portal)], rev="hostile").report
    assert [c for (c,) in report.flatten(["code"])] == ["submodule-path", "submodule-path"]


def test_hostile_lfs_pointer_is_refused(portal: Path) -> None:
    (portal / READINGS).write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 12\n"
    )
    assert codes(portal) == [[READINGS, "lfs-pointer"]]


# --- the scan cache ------------------------------------------------------------------------


def forge_cache_entry(folder: Path, portal: Path) -> str:
    """A cache entry that says the readings are valid with a forged row count."""
    validation = validate([str(portal)], Settings(cache_dir=None))
    scanned = validation.tables[("air-quality", "readings")]
    data = (portal / READINGS).read_bytes()
    key = cache_key(data, scanned.plan, kernel.__name__)
    forged = scanned.result._replace(rows=999_999, errors=[])
    ScanCache(folder).put(key, forged)
    return key


def break_readings(portal: Path) -> None:
    replace_in(portal / READINGS, "\nsck-", "\nnot-a-station-id,not-a-time,x,x,x,x,x,x\nsck-", 1)


def test_hostile_committed_cache_is_ignored_and_reported(portal: Path, caplog) -> None:
    break_readings(portal)
    forge_cache_entry(portal / ".civicgen-cache", portal)
    commit_all(portal, "a cache that says all is well")
    report = validate([str(portal)]).report
    assert ["untrusted-cache"] in report.flatten(["code"])
    assert not report.valid and report.rows < 999_999
    assert "not valid" in refused_build(portal, caplog)


def test_hostile_cache_dir_option_into_the_repository(portal: Path) -> None:
    break_readings(portal)
    forge_cache_entry(portal / "my-cache", portal)
    report = validate([str(portal)], Settings(cache_dir="my-cache")).report
    assert ["my-cache", "untrusted-cache"] in report.flatten(["path", "code"])
    assert not report.valid


def test_hostile_cache_entry_under_another_key_is_not_used(portal: Path, tmp_path: Path) -> None:
    folder = tmp_path / "outside"
    key = forge_cache_entry(folder, portal)
    break_readings(portal)  # the bytes change, so the key changes
    data = (portal / READINGS).read_bytes()
    validation = validate([str(portal)], Settings(cache_dir=None))
    new_key = cache_key(data, validation.tables[("air-quality", "readings")].plan, kernel.__name__)
    cache = ScanCache(folder)
    cache.path_of(new_key).write_bytes(cache.path_of(key).read_bytes())  # type: ignore[union-attr]
    report = validate([str(portal)], Settings(cache_dir=str(folder))).report
    assert not report.valid and report.rows < 999_999


def test_cache_lives_outside_the_repository(portal: Path) -> None:
    validate([str(portal)])
    assert not (portal / ".civicgen-cache").exists()
    cache = validate([str(portal)]).cache
    assert cache is not None and cache.hits == 4 and portal not in cache.folder.parents


def test_scan_result_round_trips_through_the_cache(tmp_path: Path) -> None:
    """Everything comes back as scanned but the rows of each key: its first row, once per row
    that holds it (counts and first rows, never a list of rows in the file)."""
    schema = {"fields": [{"name": "code"}, {"name": "n", "type": "integer"}]}
    plan = compile_plan({"name": "t", "schema": schema}, key_sets=[["code"]])
    rows = [f"{'pq'[i % 2]},{i if i != 7 else 'x'}" for i in range(2000)]
    result = kernel.scan_csv(("code,n\n" + "\n".join(rows) + "\n").encode(), plan)
    cache = ScanCache(tmp_path)
    cache.put("k", result)
    back = cache.get("k")
    assert back is not None and cache.get("other") is None
    assert back._replace(key_rows=[]) == result._replace(key_rows=[]) and back.errors
    assert back.key_rows == [{("p",): [2] * 1000, ("q",): [3] * 1000}]
    assert result.key_rows[0][("q",)][:2] == [3, 5]  # the scan itself keeps every row
    written = gzip.decompress(cache.path_of("k").read_bytes())  # type: ignore[union-attr]
    assert len(written) < 500  # not a number per row


def test_an_entry_that_counts_more_rows_than_its_table_is_not_used(tmp_path: Path) -> None:
    """A damaged entry cannot make civicgen build a list of 10^12 rows: it is a miss."""
    cache = ScanCache(tmp_path)
    entry = cache.path_of("k")
    assert entry is not None

    def write(count: int) -> None:
        keys = [[[{"$tuple": ["p"]}, 2, count]]]
        entry.write_bytes(gzip.compress(json.dumps({"key": "k", "result": [
            [], 2, ["code"], [], keys, [], []]}).encode()))  # fmt: skip

    write(2)
    assert cache.get("k") is not None  # the entry as written is read
    write(10**12)
    assert cache.get("k") is None and (cache.hits, cache.misses) == (1, 1)
    entry.write_bytes(b"not gzip at all")  # nor is a damaged file
    assert cache.get("k") is None


def test_text_findings_round_trip_through_the_cache(tmp_path: Path) -> None:
    errors = [
        PersonalDataError(note="an e-mail", path="d/t.csv", resource="t", row=4, field_name="a"),
        FormulaCellError(note="=1", path="d/t.csv", row=9, field_number=2, warning=True),
    ]
    cache = ScanCache(tmp_path)
    cache.put_errors("e", errors)
    back = cache.get_errors("e")
    assert back == errors and [type(e) for e in back or []] == [type(e) for e in errors]
    assert [e.warning for e in back or []] == [False, True]  # compare=False: checked apart


# --- remote references: nothing is fetched ----------------------------------------------------


def edit_descriptor(portal: Path, change) -> None:
    path = portal / AIR / "datapackage.json"
    descriptor = json.loads(path.read_text())
    change(descriptor)
    path.write_text(json.dumps(descriptor, indent=2))


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(profile="http://127.0.0.9:1/profile.json"),
        lambda d: d.update({"$schema": "https://attacker.example/schema.json"}),
        lambda d: d["resources"][1].update(profile="https://attacker.example/p.json"),
        lambda d: d["resources"][1].update(schema="https://attacker.example/schema.json"),
        lambda d: d["resources"][1].update(schema="schema.json"),
        lambda d: d["resources"][1].update(dialect="https://attacker.example/dialect.json"),
        lambda d: d["resources"][1]["schema"].update({"$schema": "https://attacker.example/t"}),
    ],
    ids=["profile", "$schema", "resource-profile", "schema-url", "schema-path", "dialect", "ts"],
)
def test_hostile_remote_references_are_refused(portal: Path, change) -> None:
    edit_descriptor(portal, change)
    report = validate([str(portal)]).report  # pytest-socket fails the test on any connection
    assert [c for (c,) in report.flatten(["code"])] == ["remote-reference"]


def test_standard_profiles_are_accepted(portal: Path) -> None:
    edit_descriptor(portal, lambda d: d.update(profile="tabular-data-package"))
    assert codes(portal) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["resources"][1].update(path="data/readings.csv.gz"),
        lambda d: d["resources"][1].update(compression="gz"),
        lambda d: d["resources"][1].update(path="data/readings.zip", compression="zip"),
    ],
    ids=["gz-path", "compression", "zip"],
)
def test_hostile_compressed_resources_are_refused(portal: Path, change) -> None:
    edit_descriptor(portal, change)
    assert [c for (c,) in validate([str(portal)]).report.flatten(["code"])] == ["compression-error"]


# --- parsers within limits ----------------------------------------------------------------

PROPOSAL = "datasets/proposals/records/pb-2015-001.md"
# a tool that no deployment, provider or review names: a tool file that cannot be read also
# leaves the records about it pointing at a tool the catalog does not have (foreign-key)
TOOL = "tools-catalog/ocax.yaml"


def test_hostile_duplicate_key_in_a_descriptor(portal: Path) -> None:
    path = portal / AIR / "datapackage.json"
    text = path.read_text()
    path.write_text(text.replace('"name": "air-quality"', '"name": "air-quality", "name": "x"', 1))
    assert codes(portal) == [[f"{AIR}/datapackage.json", "duplicate-key"]]


def test_hostile_duplicate_key_in_a_record(portal: Path) -> None:
    replace_in(
        portal / TOOL, "licence: AGPL-3.0-or-later", "licence: MIT\nlicence: AGPL-3.0-or-later"
    )
    [[path, code, line]] = validate([str(portal)]).report.flatten(["path", "code", "line"])
    assert (path, code, line) == (TOOL, "duplicate-key", 9)


def test_hostile_yaml_alias_bomb(portal: Path) -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
        for i in range(9)
    )
    (portal / "tools-catalog/bomb.yaml").write_text(bomb)
    assert codes(portal) == [["tools-catalog/bomb.yaml", "yaml-alias"]]


def test_hostile_deep_json_nesting(portal: Path) -> None:
    edit_descriptor(portal, lambda d: d.update(deep="DEEP"))
    path = portal / AIR / "datapackage.json"
    path.write_text(path.read_text().replace('"DEEP"', "[" * 100_000 + "]" * 100_000))
    assert codes(portal) == [[f"{AIR}/datapackage.json", "nesting-too-deep"]]


def test_hostile_deep_yaml_nesting(portal: Path) -> None:
    (portal / "tools-catalog/deep.yaml").write_text(
        "name: x\nextra: " + "[" * 50_000 + "]" * 50_000
    )
    assert codes(portal) == [["tools-catalog/deep.yaml", "nesting-too-deep"]]


@pytest.mark.parametrize("value", ["2014-22-11", "2015-02-30", "99999-01-01"])
def test_hostile_impossible_date_in_a_record(portal: Path, value: str) -> None:
    replace_in(portal / PROPOSAL, "submitted: 2015-02-14", f"submitted: {value}")
    assert [c for _, c in codes(portal)] in (["format-error"], ["type-error"])


def test_hostile_json_nan(portal: Path) -> None:
    edit_descriptor(portal, lambda d: d.update(weight="NAN"))
    path = portal / AIR / "datapackage.json"
    path.write_text(path.read_text().replace('"NAN"', "NaN"))
    assert codes(portal) == [[f"{AIR}/datapackage.json", "format-error"]]


def test_hostile_lone_surrogate_in_a_descriptor(portal: Path) -> None:
    edit_descriptor(portal, lambda d: d.update(title="SURROGATE"))
    path = portal / AIR / "datapackage.json"
    path.write_text(path.read_text().replace("SURROGATE", "Air \\ud800 quality"))
    assert codes(portal) == [[f"{AIR}/datapackage.json", "lone-surrogate"]]


def test_hostile_lone_surrogate_in_a_record(portal: Path) -> None:
    replace_in(portal / TOOL, "licence: AGPL-3.0-or-later", 'licence: "AGPL\\uDC00"')
    assert [TOOL, "lone-surrogate"] in codes(portal)


def test_hostile_huge_descriptor(portal: Path, caplog) -> None:
    edit_descriptor(portal, lambda d: d.update(description="x" * (3 << 20)))
    assert codes(portal) == [[f"{AIR}/datapackage.json", "too-large"]]
    assert "x" * 100 not in refused_build(portal, caplog)


def test_hostile_huge_record(portal: Path) -> None:
    (portal / PROPOSAL).write_text((portal / PROPOSAL).read_text() + "y" * (2 << 20))
    assert codes(portal) == [[PROPOSAL, "too-large"]]


def test_hostile_too_many_records(portal: Path) -> None:
    from civicgen.limits import Limits

    settings = Settings(limits=Limits(records=5))
    flat = codes(portal, settings)
    assert ["datasets/proposals/datapackage.json", "too-large"] in flat
    assert ["tools-catalog/datapackage.json", "too-large"] in flat


def test_hostile_data_file_over_the_limit(portal: Path) -> None:
    from civicgen.limits import Limits

    flat = codes(portal, Settings(limits=Limits(file_bytes=1000)))
    assert [READINGS, "too-large"] in flat
    assert {code for _, code in flat} <= {"too-large", "foreign-key"}


@pytest.mark.parametrize("value", [[], "budget", 3, True])
def test_hostile_civicgen_property_of_the_wrong_type(portal: Path, value: object) -> None:
    edit_descriptor(portal, lambda d: d.update(civicgen=value))
    assert [c for _, c in codes(portal)] == ["descriptor-error"]


@pytest.mark.parametrize(
    "records", [[], "records/*.md", {"pattern": 3}, {"pattern": "*.md", "key": ["id"]}]
)
def test_hostile_records_option_of_the_wrong_type(portal: Path, records: object) -> None:
    path = portal / "datasets/proposals/datapackage.json"
    descriptor = json.loads(path.read_text())
    descriptor["resources"][0]["civicgen"]["records"] = records
    path.write_text(json.dumps(descriptor))
    assert [c for _, c in codes(portal)] == ["descriptor-error"]


# --- the command line: exit codes, never a traceback ----------------------------------------


def test_hostile_unknown_limit_is_a_usage_error(portal: Path, caplog) -> None:
    replace_in(
        portal / "mkdocs.yml", "preview_rows: 10", "preview_rows: 10\n      limits: {rows: 5}"
    )
    assert 'unknown limit "rows"' in refused_build(portal, caplog)


def test_validate_of_a_refused_path_exits_1(portal: Path) -> None:
    plant_git_secret(portal)
    set_readings_path(portal, "../../.git/config")
    status, output = run_cli(portal, "validate")
    assert status == 1 and "git-path" not in output and ".git" in output and SECRET not in output


# --- every profile option of the wrong shape: an error, never a traceback ---------------------


def option_paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path below value (the first three items of each list)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += option_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += option_paths(item, (*prefix, index))
    return found


@pytest.mark.parametrize("package", ["madrid-budget", "air-quality"])
def test_hostile_profile_options_of_every_wrong_shape(portal: Path, package: str) -> None:
    from civicgen.stats.profiles import derive_all

    path = portal / "datasets" / package / "datapackage.json"
    original = json.loads(path.read_text())
    tried = 0
    for where in option_paths(original["civicgen"], ("civicgen",)):
        for wrong in ([{}], "x", {"a": []}, -1):
            descriptor = json.loads(json.dumps(original))
            target = descriptor
            for key in where[:-1]:
                target = target[key]
            target[where[-1]] = wrong
            path.write_text(json.dumps(descriptor))
            validation = validate([str(path.parent)], Settings(cache_dir=None))
            if validation.report.valid:
                derive_all(validation)  # a shape the statistics accept must not break them
            tried += 1
    assert tried > 40


def test_hostile_long_cell_is_shortened_in_the_preview(portal: Path, tmp_path: Path) -> None:
    long_name = "Matadero" + "x" * 500_000  # under the cell limit, far over what a page shows
    replace_in(portal / f"{AIR}/data/stations.csv", "Matadero", long_name)
    site = build_site(portal / "mkdocs.yml", tmp_path / "site")
    page = (site / "datasets/air-quality/index.html").read_text()
    assert "x" * 1000 not in page and "Matadero" + "x" * 100 in page
    from civicgen.search import indexed_pages

    index = json.dumps(indexed_pages(site), ensure_ascii=False)
    assert "x" * 1000 not in index
    assert long_name in (site / "datasets/air-quality/data/stations.csv").read_text()


def test_a_folder_with_no_data_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing here\n")
    status, output = run_cli(tmp_path, "validate")
    assert status == 2
    assert "datasets/*/datapackage.json" in output and "datasets_dir" in output
