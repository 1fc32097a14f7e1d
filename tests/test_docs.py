"""Documentation that mirrors the code stays true."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from civicgen.catalog import fault_classes, full_catalog
from civicgen.cli import main
from civicgen.config import OPTIONS
from civicgen.errors import ERRORS

ROOT = Path(__file__).resolve().parent.parent


def test_error_catalog_is_up_to_date() -> None:
    assert (ROOT / "docs/reference/errors.md").read_text() == full_catalog()
    assert len(ERRORS) == len(set(ERRORS))


def test_every_error_code_has_its_own_example_and_fix() -> None:
    from civicgen.errors import all_error_classes

    for cls in all_error_classes()[1:]:
        assert "example" in vars(cls) and "fix" in vars(cls), cls.code
        assert cls.example.startswith(("datasets/", "tools-catalog/", ".")), cls.code
    for cls in fault_classes():
        assert {"code", "title", "example", "fix"} <= set(vars(cls)), cls.__name__


def test_every_cli_command_and_option_is_documented() -> None:
    readme = (ROOT / "README.md").read_text() + (ROOT / "docs/cli.md").read_text()
    for name, command in main.commands.items():
        assert f"civicgen {name}" in readme, name
        for option in command.params:
            for flag in getattr(option, "opts", []):
                if flag.startswith("--") and flag != "--help":
                    assert flag in readme, f"{name} {flag}"
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0


def test_every_plugin_option_is_documented() -> None:
    docs = (ROOT / "docs/configuration.md").read_text()
    for name in OPTIONS:
        assert f"`{name}`" in docs, name


def test_json_report_contract_is_documented() -> None:
    docs = (ROOT / "docs/cli.md").read_text()
    for key in (
        '"valid"',
        '"errors"',
        '"code"',
        '"path"',
        '"row"',
        '"field"',
        '"message"',
        '"stats"',
        '"packages"',
        '"tables"',
        '"rows"',
    ):
        assert key in docs, key
