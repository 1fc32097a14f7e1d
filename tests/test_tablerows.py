"""One row reader after the scan: the diff reads a table through its own dialect and encoding."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
from conftest import commit_all, run_cli

STREETS = {
    "name": "streets",
    "title": "Streets",
    "licenses": [{"name": "CC0-1.0"}],
    "resources": [
        {
            "name": "streets",
            "path": "streets.csv",
            "format": "csv",
            "encoding": "latin-1",
            "dialect": {"delimiter": ";", "quoteChar": "'"},
            "schema": {
                "fields": [
                    {"name": "code", "type": "string"},
                    {"name": "name", "type": "string"},
                    {"name": "length", "type": "number", "decimalChar": ","},
                ],
                "primaryKey": ["code"],
            },
        }
    ],
}
ROWS = "code;name;length\nA1;'Calle de Alcalá; tramo 1';10,5\nB2;Gran Vía;1316\n"


def test_the_diff_reads_rows_with_the_table_dialect_and_encoding(tmp_path: Path) -> None:
    root = tmp_path / "city"
    folder = root / "datasets" / "streets"
    folder.mkdir(parents=True)
    (folder / "datapackage.json").write_text(json.dumps(STREETS), encoding="utf-8")
    (folder / "streets.csv").write_bytes(ROWS.encode("latin-1"))
    pygit2.init_repository(str(root))
    commit_all(root, "Streets")
    assert run_cli(root, "validate")[0] == 0
    edited = ROWS.replace("tramo 1';10,5", "tramo 2';10,5")
    (folder / "streets.csv").write_bytes(edited.encode("latin-1"))
    code, output = run_cli(root, "diff", "HEAD", "--format", "json")
    assert code == 0, output
    [table] = [t for t in json.loads(output)["tables"] if t["rows"]]
    [change] = table["rows"]
    assert change["key"] == ["A1"]
    assert change["cells"] == [["name", "Calle de Alcalá; tramo 1", "Calle de Alcalá; tramo 2"]]
