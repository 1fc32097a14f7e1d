"""catalog import against the reference parser's own v0 test files (publiccode-parser-go).

Every invalid file is refused with a located error at the key the Go test expects (and its
line and column, where the Go test gives them), except the few that only the network or a
registry civicgen does not carry could refuse; every valid file is accepted, or asks for a
catalog field its source does not state. See tests/fixtures/publiccode-testdata/README.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import run_cli

from civicgen import validate
from civicgen.importers import ImportProblem, publiccode
from civicgen.importers.publiccode_check import check_text

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = Path(__file__).parent / "fixtures" / "publiccode-testdata"
EXPECTED = yaml.safe_load((TESTDATA / "expected-errors.yml").read_text(encoding="utf-8"))
INVALID = sorted(
    f"{folder}/{name}"
    for folder, files in EXPECTED.items()
    for name in files
    if (TESTDATA / "v0" / folder / name).is_file()
)
VALID = sorted(p.name for p in (TESTDATA / "v0/valid").glob("*.yml"))
ANSWERS = publiccode.Answers(("participation",), "self-hosted")

# What the Go test expects and only the network tells (civicgen never fetches).
OFFLINE_UNDECIDABLE = {
    "invalid/logo_missing_url.yml": "the logo is an https address that does not exist: "
    "only an HTTP request tells (network)",
}
# Errors the Go decoder adds after giving up on the mapping around a wrong value: they say
# nothing about the file (its maintenance.type and availableLanguages are there).
GO_CASCADES = {
    ("invalid/maintenance_contractors_invalid_type.yml", "maintenance.type"),
    *(
        (f"invalid/no-network/localisation_localisationReady_yaml11_{word}.yml", key)
        for word in ("yes", "no", "on", "off")
        for key in ("localisation.availableLanguages",)
    ),
}
# The stored file is another version than the one the Go expectation was written for.
OTHER_VERSION = {
    "invalid/it_wrong_case.yml": "the stored version keeps legal.repoOwner: one line more",
    "invalid/description_en_gb_invalid_bcp47.yml": "the stored version opens with 3 comment lines",
}
# Where civicgen points elsewhere than the Go parser, and why.
OTHER_COLUMN = {
    # a YAML syntax error: PyYAML points at the badly indented key, Go at the line
    ("invalid/invalid_yaml.yml", ""): "PyYAML marks the key that breaks the indentation",
    # a missing key of an empty mapping: civicgen points at where the mapping's value
    # would start, Go two columns in
    ("invalid/maintenance_type_missing.yml", "maintenance.type"): "maintenance is empty",
}


def related(ours: str, theirs: str) -> bool:
    """The same key, or one inside the other (civicgen names the enclosing key at times)."""
    return any(
        a == b or b.startswith((f"{a}.", f"{a}[")) for a, b in ((ours, theirs), (theirs, ours))
    )


def refused(path: Path, tmp_path: Path) -> list[tuple[str, int | None, int | None]]:
    """(key, 1-based line, 1-based column) of each error; the import must refuse the file."""
    out = tmp_path / "out"
    with pytest.raises(ImportProblem) as caught:
        publiccode.import_file(path, out, answers=ANSWERS)
    assert not isinstance(caught.value, publiccode.ImportQuestion), str(caught.value)
    assert not out.exists()
    return [
        (
            e.field_name,
            None if e.line is None else e.line + 1,
            None if e.column is None else e.column + 1,
        )
        for e in caught.value.errors
        if not e.warning
    ]


def test_collected_counts() -> None:
    """131 invalid files (122 + 9 no-network; logo_missing_file.yml is not in the index)."""
    assert len(INVALID) == 131
    assert len([f for f in INVALID if f not in OFFLINE_UNDECIDABLE]) == 130
    assert len(OFFLINE_UNDECIDABLE) == 1
    assert len(VALID) == 5


@pytest.mark.parametrize("name", sorted(set(INVALID) - set(OFFLINE_UNDECIDABLE)))
def test_invalid_file_is_refused_where_the_reference_says(name: str, tmp_path: Path) -> None:
    folder, file = name.rsplit("/", 1)
    found = refused(TESTDATA / "v0" / name, tmp_path)
    for key, line, column, message in EXPECTED[folder][file]:
        if (name, key) in GO_CASCADES:
            continue
        assert any(related(ours, key) for ours, _, _ in found), (key, found)
        exact = [(ln, col) for ours, ln, col in found if ours == key]
        if not exact or line == 0 or name in OTHER_VERSION:
            continue
        assert line in [ln for ln, _ in exact], (key, line, found)
        if message != "wrong type for this field" and (name, key) not in OTHER_COLUMN:
            assert (line, column) in exact, (key, line, column, found)


@pytest.mark.parametrize("name", sorted(OFFLINE_UNDECIDABLE))
def test_offline_undecidable_files_are_otherwise_valid(name: str) -> None:
    """Nothing else is wrong with them: only the network could refuse them."""
    path = TESTDATA / "v0" / name
    check, _ = check_text(path.read_text(encoding="utf-8"), path.name, path.parent)
    assert check.errors == []


def test_known_differences_are_real() -> None:
    """Every exception above names a collected file and a key its expectation has."""
    for name in [*OFFLINE_UNDECIDABLE, *OTHER_VERSION]:
        assert name in INVALID
    for name, key in [*GO_CASCADES, *OTHER_COLUMN]:
        folder, file = name.rsplit("/", 1)
        assert key in [expected[0] for expected in EXPECTED[folder][file]]


def errors_of(text: str) -> list[tuple[str, str]]:
    """(key, message) of each error the check finds in a publiccode.yml text."""
    check, _ = check_text(text, "publiccode.yml", TESTDATA / "v0/valid")
    return [(e.field_name, e.message) for e in check.errors]


def with_value(key: str, value: str) -> str:
    """valid.minimal.yml with one more top-level key, its value on the next line."""
    text = (TESTDATA / "v0/valid/valid.minimal.yml").read_text(encoding="utf-8")
    return f"{text.rstrip()}\n{key}\n{value}\n"


@pytest.mark.parametrize("code", ["c_h501", "C_H501", "PCM", "pcm", "istsc_AGIC82200R"])
def test_ipa_codes_in_the_registry_pass_in_any_case(code: str) -> None:
    """The reference parser matches iPA codes in any case; the registry has both kinds."""
    assert errors_of(with_value("organisation:", f"  uri: urn:x-italian-pa:{code}")) == []


@pytest.mark.parametrize("code", ["no_such_pa", "NO_SUCH_PA", "c_h5019"])
def test_ipa_codes_not_in_the_registry_are_refused(code: str) -> None:
    [(key, message)] = errors_of(with_value("organisation:", f"  uri: urn:x-italian-pa:{code}"))
    assert key == "organisation.uri"
    assert message == (
        f'publiccode.yml, line 52, column 3, field "organisation.uri": "{code}" is no Italian '
        "public administration in the iPA registry; copy the code from indicepa.gov.it"
    )


def test_the_registry_is_the_whole_list() -> None:
    """civicgen/data/ipa_codes.txt: every code of the reference parser's copy, each once."""
    from civicgen.importers.publiccode_vocab import ipa_codes

    lines = (ROOT / "civicgen/data/ipa_codes.txt").read_text(encoding="ascii").splitlines()
    assert len(lines) == 23476 and lines == sorted(set(lines))
    assert len(ipa_codes()) == len({line.lower() for line in lines})


@pytest.mark.parametrize(
    "value", ["alias:gdpr", "alias:pagopa", "https://eur-lex.europa.eu/eli/reg/2016/679/oj"]
)
def test_supports_takes_an_alias_of_the_standard_or_an_address(value: str) -> None:
    assert errors_of(with_value("supports:", f"  - id: {value!r}")) == []


@pytest.mark.parametrize(
    ("value", "start"),
    [
        ("alias:GDPR", '"alias:GDPR" is no alias of the standard; use one of alias:anpr, '),
        ("gdpr", '"gdpr" is neither an alias (like alias:gdpr) nor an address (URI)'),
    ],
)
def test_supports_refuses_what_is_neither(value: str, start: str) -> None:
    [(key, message)] = errors_of(with_value("supports:", f"  - id: {value}"))
    assert key == "supports[0].id"
    assert message.startswith(f'publiccode.yml, line 52, column 5, field "supports[0].id": {start}')


@pytest.mark.parametrize("name", VALID)
def test_valid_file_is_accepted_or_asks(name: str, tmp_path: Path) -> None:
    """Without answers a valid file only asks (never an error); with them it imports."""
    path = TESTDATA / "v0/valid" / name
    with pytest.raises(publiccode.ImportQuestion) as caught:
        publiccode.import_file(path, tmp_path / "asked")
    assert {e.code for e in caught.value.errors} == {"catalog-question"}
    assert "hosting" in [e.field_name for e in caught.value.errors]
    result = publiccode.import_file(path, tmp_path, answers=ANSWERS)
    assert [p.name for p in result.written] == ["medusa.yaml"]
    shutil.copy(ROOT / "tools-catalog/datapackage.json", tmp_path)
    assert [e.message for e in validate([str(tmp_path)]).report.errors] == []


def test_valid_files_that_ask_for_a_category() -> None:
    """Four of the five state no category the catalog knows (cloud-management, other…)."""
    asking = []
    for name in VALID:
        path = TESTDATA / "v0/valid" / name
        try:
            publiccode.import_file(path, Path("/nonexistent-civicgen-out"))
        except publiccode.ImportQuestion as question:
            if "categories" in [e.field_name for e in question.errors]:
                asking.append(name)
    assert asking == [
        "categories_empty.yml",
        "categories_missing.yml",
        "categories_other.yml",
        "valid.minimal.yml",
    ]


def test_cli_refuses_with_line_and_column(tmp_path: Path) -> None:
    source = TESTDATA / "v0/invalid/developmentStatus_invalid.yml"
    code, output = run_cli(tmp_path, "catalog", "import", str(source), "--out", "out")
    assert code == 1
    assert (
        f'{source.as_posix()}, line 16, column 1, field "developmentStatus": "foobar" is ' in output
    )
    assert not (tmp_path / "out").exists()


def test_cli_asks_for_category_and_hosting(tmp_path: Path) -> None:
    source = TESTDATA / "v0/valid/valid.minimal.yml"
    code, output = run_cli(tmp_path, "catalog", "import", str(source), "--out", "out")
    assert code == 2
    assert "give --hosting (self-hosted, self-hosted-or-saas, saas)" in output
    assert "choose with --category" in output
    assert not (tmp_path / "out").exists()
    code, output = run_cli(
        tmp_path,
        "catalog",
        "import",
        str(source),
        "--out",
        "out",
        "--category",
        "collaboration",
        "--hosting",
        "saas",
    )
    assert (code, output) == (0, "wrote 1 file\n")
    written = yaml.safe_load((tmp_path / "out/medusa.yaml").read_text(encoding="utf-8"))
    assert (written["categories"], written["hosting"]) == (["collaboration"], "saas")
