"""Row order means nothing: re-sorting an example table changes no statistic and no diff line.

Readings keep each station's own time order (a reading listed after a later one of the same
station is counted as out of order, by design: that count describes the file)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import commit_all, run_cli

from civicgen.pipeline import validate
from civicgen.stats.profiles import derive_all

Reorder = Callable[[list[str]], list[str]]


def reversed_rows(rows: list[str]) -> list[str]:
    return rows[::-1]


def shuffled_rows(rows: list[str]) -> list[str]:
    shuffled = list(rows)
    random.Random(9).shuffle(shuffled)
    return shuffled


def stations_interleaved(rows: list[str]) -> list[str]:
    """Stations in reverse order, each station's readings still in time order."""
    return sorted(rows, key=lambda row: row.split(",", 2)[0], reverse=True)


TABLES: list[tuple[str, Reorder]] = [
    ("datasets/madrid-budget/data/gastos-2014-2015.csv", reversed_rows),
    ("datasets/madrid-budget/data/gastos-2014-2015.csv", shuffled_rows),
    ("datasets/madrid-budget/data/programas.csv", shuffled_rows),
    ("datasets/air-quality/data/stations.csv", reversed_rows),
    ("datasets/air-quality/data/readings.csv", stations_interleaved),
]


def resort(path: Path, reorder: Reorder) -> None:
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    assert len(rows) > 1
    path.write_text("\n".join([header, *reorder(rows)]) + "\n", encoding="utf-8")


def statistics(folder: Path) -> dict[str, list[tuple[str, list[list[object]]]]]:
    derived = derive_all(validate([str(folder)]))
    return {name: [(t.name, t.rows) for t in tables] for name, tables in derived.items()}


@pytest.mark.parametrize(("table", "reorder"), TABLES, ids=lambda v: getattr(v, "__name__", v))
def test_resorting_a_table_changes_no_statistic_and_no_diff_line(
    portal: Path, table: str, reorder: Reorder
) -> None:
    before = statistics(portal)
    resort(portal / table, reorder)
    commit_all(portal, "Re-sort " + table)
    assert statistics(portal) == before
    code, output = run_cli(portal, "diff", "HEAD~1", "HEAD", "--format", "json")
    assert code == 0, output
    changes = json.loads(output)
    assert changes["tables"] == [] and changes["stats"] == []
