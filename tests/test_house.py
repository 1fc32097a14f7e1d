"""House rules: the kernel is chosen in one module; the scan cache's version follows the code."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, compiled_kernel_skip_reason

from civicgen import __version__, cache
from civicgen.cache import cache_key, engine, engine_version, kernel_sources
from civicgen.scan import engine as scan_engine
from civicgen.scan import reference
from civicgen.scan.plan import compile_plan

PACKAGE = ROOT / "civicgen"
KEY_SCRIPT = """
import json, sys
from civicgen.cache import cache_key, engine
from civicgen.scan import kernel
from civicgen.scan.plan import compile_plan
plan = compile_plan({"name": "t", "path": "t.csv", "schema": {"fields": [{"name": "n", "type": "integer"}]}})
print(json.dumps([engine(), cache_key(b"n\\n1\\n", plan, kernel.__name__), kernel.__name__]))
"""


def run(script: str, path: Path, **env: str) -> list[str]:
    """Run script in a fresh interpreter that imports civicgen from path."""
    environment = {**os.environ, "PYTHONPATH": str(path), **env}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        cwd=path,  # python -c puts the working folder first on the path
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def key_of(package_parent: Path) -> list[str]:
    return run(KEY_SCRIPT, package_parent, CIVICGEN_NO_EXTENSIONS="1")


@pytest.fixture
def copy_of_civicgen(tmp_path: Path) -> Path:
    """A copy of the civicgen package (sources only) in tmp_path; returns tmp_path."""
    shutil.copytree(
        PACKAGE, tmp_path / "civicgen", ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__")
    )
    return tmp_path


# --- the scan cache's version ----------------------------------------------------------


def test_engine_version_names_the_version_and_the_source() -> None:
    sources = kernel_sources()
    assert len(sources) == len(cache.KERNEL_SOURCES) and all(sources)  # all found, none empty
    assert engine() == engine_version(__version__, sources)
    assert engine().startswith(f"{__version__}+")


@pytest.mark.parametrize("changed", range(len(cache.KERNEL_SOURCES)))
def test_engine_version_changes_with_each_kernel_source(changed: int) -> None:
    sources = kernel_sources()
    edited = [s + b"\n# an edit\n" if i == changed else s for i, s in enumerate(sources)]
    assert engine_version(__version__, edited) != engine_version(__version__, sources)


def test_engine_version_changes_with_the_package_version() -> None:
    assert engine_version("0.1.1", kernel_sources()) != engine_version("0.1.0", kernel_sources())


def test_engine_version_does_not_merge_sources() -> None:
    """Bytes moved from one file to the next are another source."""
    assert engine_version("1", [b"ab", b"c"]) != engine_version("1", [b"a", b"bc"])


def test_cache_key_follows_the_installed_kernel_source(copy_of_civicgen: Path) -> None:
    """The key of the same bytes and plan changes when reference.py or _kernel.pyx changes."""
    before = key_of(copy_of_civicgen)
    assert before == key_of(copy_of_civicgen)  # stable
    for name in ("scan/reference.py", "scan/_kernel.pyx"):
        source = copy_of_civicgen / "civicgen" / name
        source.write_text(
            source.read_text(encoding="utf-8") + "\n# one more line\n", encoding="utf-8"
        )
        after = key_of(copy_of_civicgen)
        assert after[0] != before[0] and after[1] != before[1], name
        before = after


def test_cache_key_follows_the_package_version(copy_of_civicgen: Path) -> None:
    before = key_of(copy_of_civicgen)
    init = copy_of_civicgen / "civicgen" / "__init__.py"
    text = init.read_text(encoding="utf-8")
    assert f'__version__ = "{__version__}"' in text
    init.write_text(
        text.replace(f'__version__ = "{__version__}"', '__version__ = "99.0"'), encoding="utf-8"
    )
    after = key_of(copy_of_civicgen)
    assert after[0].startswith("99.0+") and after[1] != before[1]


def test_cache_key_here_uses_this_engine() -> None:
    plan = compile_plan(
        {"name": "t", "path": "t.csv", "schema": {"fields": [{"name": "n", "type": "integer"}]}}
    )
    assert key_of(ROOT) == [
        engine(),
        cache_key(b"n\n1\n", plan, reference.__name__),
        reference.__name__,
    ]


# --- one module chooses the kernel -----------------------------------------------------


def deciders(path: Path) -> set[str]:
    """What in this file looks at the compiled kernel's availability."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value == "CIVICGEN_NO_EXTENSIONS":
            found.add("reads CIVICGEN_NO_EXTENSIONS")
        if isinstance(node, ast.ImportFrom) and any(a.name == "_kernel" for a in node.names):
            found.add("imports _kernel")
        if isinstance(node, ast.Import) and any(a.name.endswith("._kernel") for a in node.names):
            found.add("imports _kernel")
        if isinstance(node, ast.Attribute) and node.attr in (
            "python_implementation",
            "implementation",
        ):
            found.add("checks the interpreter")
    return found


def test_the_kernel_is_chosen_in_engine_alone() -> None:
    found = {
        str(path.relative_to(ROOT)): deciders(path)
        for path in sorted(PACKAGE.rglob("*.py"))
        if deciders(path)
    }
    assert found == {
        "civicgen/scan/engine.py": {
            "reads CIVICGEN_NO_EXTENSIONS",
            "imports _kernel",
            "checks the interpreter",
        }
    }


def test_the_scan_uses_the_kernel_engine_chose(request: pytest.FixtureRequest) -> None:
    import civicgen.scan
    import civicgen.scan.chunks
    import civicgen.scan.merge
    import civicgen.scan.parallel

    assert civicgen.scan.kernel is scan_engine.kernel
    for module in (civicgen.scan.chunks, civicgen.scan.merge, civicgen.scan.parallel):
        assert module._kernel is scan_engine.compiled
    if compiled_kernel_skip_reason(request.config) and scan_engine.compiled is not None:
        pytest.skip("--no-c-extensions: the selection follows the environment, not the option")
    expected = (
        "civicgen.scan.reference" if scan_engine.compiled is None else "civicgen.scan._kernel"
    )
    assert scan_engine.kernel.__name__ == expected


def test_no_extensions_selects_the_reference_everywhere() -> None:
    script = """
import json
from civicgen.scan import engine, kernel, parallel
from civicgen.scan.plan import compile_plan
plan = compile_plan({"name": "t", "path": "t.csv", "schema": {"fields": [{"name": "n", "type": "integer"}]}})
result = parallel.scan_csv_parallel(b"n\\n1\\nx\\n", plan, workers=2, chunk_size=1)
print(json.dumps([kernel.__name__, engine.compiled is None, engine.why_not_compiled(),
                  parallel._kernel is None, result.rows, [e[:3] for e in result.errors]]))
"""
    found = run(script, ROOT, CIVICGEN_NO_EXTENSIONS="1")
    assert found == [
        "civicgen.scan.reference",
        True,
        "CIVICGEN_NO_EXTENSIONS is set",
        True,
        2,
        [[3, 1, "type-error"]],
    ]


# --- lint and types run in CI ----------------------------------------------------------


def ci_commands() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_ci_lints_and_type_checks_before_the_test_command() -> None:
    commands = ci_commands()
    test_command = commands.index("pip install -e '.[test]' && python -m pytest")
    for check in ("ruff check civicgen tests", "ruff format --check civicgen tests", "mypy"):
        assert commands.index(check) < test_command, check
    assert "pip install -e '.[test]' && python -m pytest" in (ROOT / "README.md").read_text()


def test_the_test_extra_installs_mypy_and_the_stubs_it_reads() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extra = {
        re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0].lower()
        for r in project["project"]["optional-dependencies"]["test"]
    }
    assert {"mypy", "ruff", "types-pyyaml", "types-markdown"} <= extra
    mypy = project["tool"]["mypy"]
    assert mypy["files"] == ["civicgen"]
    assert mypy["python_version"] == project["project"]["requires-python"].removeprefix(">=")
    assert (
        mypy["disallow_untyped_defs"] and mypy["check_untyped_defs"] and mypy["warn_unused_ignores"]
    )
