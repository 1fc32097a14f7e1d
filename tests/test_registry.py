"""Profiles as a registry: a third party's profile registers like civicgen's own.

The public-contracts profile below lives in its own installed distribution (a module and
a dist-info folder with an entry point, as pip writes them); no core module knows it.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
from conftest import ROOT, commit_all, run_cli

from civicgen.registry import registered

CONTRACTS_MODULE = '''
"""Public contracts: the amount awarded per supplier (a profile civicgen does not ship)."""
from civicgen.registry import Profile
from civicgen.scan.plan import GroupBy
from civicgen.stats.tables import Column, DerivedTable


def read_options(descriptor):
    return (descriptor.get("civicgen") or {}).get("contracts")


def aggregates(options, resource):
    names = [f["name"] for f in resource.fields]
    if not options or options["supplier"] not in names or options["amount"] not in names:
        return None
    return (GroupBy(((names.index(options["supplier"]), "value", 0),), (names.index(options["amount"]),)),)


def derive(options, scanned, derived):
    table = DerivedTable("by_supplier", "Awarded by supplier", "Sum of the awards per supplier.",
                         [Column("supplier"), Column("awarded", "number", unit=options.get("currency", ""))])
    for key, group in sorted(scanned.result.aggregates[0].items()):
        table.rows.append([key[0], group[1][0][1]])
    return [table]


def check(options, fields):
    return [f'"civicgen.contracts" names a field no table has: {name}'
            for name in (options["supplier"], options["amount"]) if name not in fields]


PROFILE = Profile(
    name="contracts",
    description="Public contracts awarded, by supplier.",
    option_shape={"supplier": str, "amount": str, "currency": str},
    required=("supplier", "amount"),
    check=check,
    read_options=read_options,
    aggregates=aggregates,
    derive=derive,
    template="stats-contracts.html",
    templates_package="civicgen_contracts",
    diff_tables=("by_supplier",),
    scaffold="awards",
)
'''

CONTRACTS_TEMPLATE = """<h2 id="awarded">Awarded by supplier</h2>
<ul class="contracts">{% for row in stats.by_supplier.records() %}<li>{{ row.supplier }}: {{ row.awarded | money(stats.by_supplier.unit_of("awarded")) }}</li>{% endfor %}</ul>
"""

AWARDS = {
    "name": "awards",
    "title": "Contracts awarded",
    "licenses": [{"name": "CC0-1.0"}],
    "civicgen": {
        "profile": "contracts",
        "contracts": {"supplier": "supplier", "amount": "amount", "currency": "CAD"},
    },
    "resources": [
        {
            "name": "awards",
            "path": "awards.csv",
            "format": "csv",
            "schema": {
                "fields": [
                    {"name": "id", "type": "string"},
                    {"name": "supplier", "type": "string"},
                    {"name": "amount", "type": "number"},
                ],
                "primaryKey": ["id"],
            },
        }
    ],
}


ROWS = "c1,Acme,100.5\nc2,Birch Ltd,20\nc3,Acme,50\n"


def install_contracts(site: Path) -> None:
    """Write the distribution as pip would install it: package, templates, dist-info."""
    package = site / "civicgen_contracts"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(CONTRACTS_MODULE), encoding="utf-8")
    (package / "templates" / "stats-contracts.html").write_text(CONTRACTS_TEMPLATE, "utf-8")
    example = package / "templates" / "new" / "datasets" / "awards"
    example.mkdir(parents=True)
    (example / "datapackage.json").write_text(json.dumps(AWARDS), encoding="utf-8")
    (example / "awards.csv").write_text("id,supplier,amount\n" + ROWS, encoding="utf-8")
    info = site / "civicgen_contracts-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: civicgen-contracts\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[civicgen.profiles]\ncontracts = civicgen_contracts:PROFILE\n", encoding="utf-8"
    )


@pytest.fixture
def contracts_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    site = tmp_path / "site-packages"
    install_contracts(site)
    monkeypatch.syspath_prepend(str(site))
    registered.cache_clear()
    yield
    registered.cache_clear()


def contracts_city(root: Path, rows: str, options: dict[str, str] | None = None) -> Path:
    folder = root / "datasets" / "awards"
    folder.mkdir(parents=True)
    descriptor = json.loads(json.dumps(AWARDS))
    if options is not None:
        descriptor["civicgen"]["contracts"] = options
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (folder / "awards.csv").write_text("id,supplier,amount\n" + rows, encoding="utf-8")
    (root / "content").mkdir()
    (root / "content" / "index.md").write_text("# Awards\n", encoding="utf-8")
    (root / "mkdocs.yml").write_text(
        "site_name: Awards\ndocs_dir: content\ntheme:\n  name: material\n  font: false\n"
        "plugins:\n  - civicgen\n",
        encoding="utf-8",
    )
    pygit2.init_repository(str(root))
    commit_all(root, "Awards")
    return root


def test_core_profiles_register_through_the_entry_point_group() -> None:
    from importlib.metadata import entry_points

    declared = {p.name: p.value for p in entry_points(group="civicgen.profiles")}
    assert {"budget", "sensor", "proposals", "catalog", "generic"} <= set(declared)
    assert set(registered()) >= set(declared) - {"contracts"}


def test_entry_points_are_read_as_importlib_metadata_reads_them(contracts_installed: None) -> None:
    """civicgen reads entry_points.txt itself (importing importlib.metadata costs a small run
    a sixth of its time): every group of every installed distribution, the third party's
    too, is what importlib.metadata gives."""
    from importlib.metadata import distributions
    from importlib.metadata import entry_points as metadata_entry_points

    from civicgen.registry import entry_points

    groups = {point.group for dist in distributions() for point in dist.entry_points}
    assert {"civicgen.profiles", "console_scripts"} <= groups
    for group in groups:
        expected = sorted((p.name, p.value) for p in metadata_entry_points(group=group))
        assert sorted(entry_points(group)) == expected, group
    assert ("contracts", "civicgen_contracts:PROFILE") in entry_points("civicgen.profiles")


def test_a_third_party_profile_validates_derives_and_builds(
    tmp_path: Path, contracts_installed: None
) -> None:
    city = contracts_city(tmp_path / "city", ROWS)
    code, output = run_cli(city, "validate")
    assert code == 0, output
    code, output = run_cli(city, "stats", "awards", "--format", "json")
    assert code == 0, output
    [table] = json.loads(output)["tables"]
    assert table["name"] == "by_supplier"
    assert {r["supplier"]: r["awarded"] for r in table["rows"]} == {"Acme": 150.5, "Birch Ltd": 20}
    code, output = run_cli(city, "build")
    assert code == 0, output
    page = (city / "site" / "datasets" / "awards" / "index.html").read_text(encoding="utf-8")
    assert "<li>Acme: CA$150</li>" in page or "<li>Acme: CA$151</li>" in page  # en (Babel)
    assert "<li>Birch Ltd: CA$20</li>" in page


def test_a_third_party_profile_checks_its_options(
    tmp_path: Path, contracts_installed: None
) -> None:
    city = contracts_city(tmp_path / "city", ROWS, {"supplier": "vendor", "amount": "amount"})
    code, output = run_cli(city, "validate", "--format", "json")
    assert code == 1
    [error] = json.loads(output)["errors"]
    assert error["code"] == "profile-error"
    assert "vendor" in error["message"]


def test_hostile_unknown_profile_is_a_profile_error_naming_the_known_ones(tmp_path: Path) -> None:
    city = contracts_city(tmp_path / "city", ROWS)  # the contracts profile is not installed
    code, output = run_cli(city, "validate", "--format", "json")
    assert code == 1
    [error] = json.loads(output)["errors"]
    assert error["code"] == "profile-error"
    for name in ("budget", "sensor", "proposals", "catalog", "generic"):
        assert name in error["message"]


def test_hostile_misspelt_profile_suggests_the_close_one(portal: Path) -> None:
    descriptor = portal / "datasets" / "madrid-budget" / "datapackage.json"
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    data.setdefault("civicgen", {})["profile"] = "budgte"
    descriptor.write_text(json.dumps(data), encoding="utf-8")
    code, output = run_cli(portal, "validate", "datasets/madrid-budget")
    assert code == 1
    assert 'did you mean "budget"' in output


def test_civicgen_new_scaffolds_what_each_profile_declares(
    tmp_path: Path, contracts_installed: None
) -> None:
    city = tmp_path / "town"
    code, output = run_cli(tmp_path, "new", str(city), "--city", "Town", "--currency", "CAD")
    assert code == 0, output
    assert (city / "datasets/awards/awards.csv").read_text(encoding="utf-8").endswith(ROWS)
    assert (city / "datasets/budget/datapackage.json").is_file()  # civicgen's own, the same way
    code, output = run_cli(city, "stats", "awards", "--format", "csv", "--table", "by_supplier")
    assert code == 0, output
    assert "Acme,150.5" in output


def test_shipped_names_are_civicgens_own_profiles_and_entry_points() -> None:
    """SHIPPED (the names behind "reinstall civicgen") is civicgen.profiles and pyproject.toml."""
    import tomllib

    from civicgen import profiles
    from civicgen.registry import SHIPPED, Profile

    defined = {p.name for p in vars(profiles).values() if isinstance(p, Profile)}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = set(pyproject["project"]["entry-points"]["civicgen.profiles"])
    assert SHIPPED == defined == declared
