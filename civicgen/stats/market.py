"""The tool catalog as a marketplace: statistics of the collections that describe each tool.

A catalog package may have, beside its tools, collections named deployments, providers,
improvements, reviews and privacy, each with a `tool` field that is a foreign key into the
tools. Their derived tables answer what a city asks another: where is it used, who supports
it where and in which language, how do reviewers rate it (always with the count and the
distribution, never a bare average) and how does it fare on the privacy checklist.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from ..model import Record
from .tables import Column, DerivedTable, rounded

CRITERIA = ("deployment", "accessibility", "documentation", "community")  # review fields, 1-5
SCORES = (1, 2, 3, 4, 5)
CHECKLIST = ("data_minimisation", "self_hosting", "data_export", "no_trackers")
MET = "met"
COLLECTIONS = ("deployments", "providers", "improvements", "reviews", "privacy")


def tool_of(record: Record) -> str:
    return str(record.values.get("tool") or "")


def texts(value: Any) -> list[str]:
    """A list field's items (a single value as a list of one), as text."""
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if v not in (None, "")]


def is_illustrative(record: Record) -> bool:
    return record.values.get("illustrative") is True


def score(value: Any) -> int | None:
    """A rating as a whole number from 1 to 5, or None (left out, or not valid data)."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCORES:
        return None
    return value


def is_active(record: Record) -> bool:
    """A deployment that has not ended (no `until` year)."""
    return record.values.get("until") in (None, "")


# --- reviews --------------------------------------------------------------------------------


def ratings_table(records: list[Record]) -> DerivedTable:
    """Per tool and criterion: how many reviews rated it, their mean and how many gave each
    score (how many of them are illustrative, too)."""
    table = DerivedTable(
        "ratings",
        "Ratings by tool and criterion",
        "How many reviews rated each tool on each criterion, their mean, and how many gave "
        "each score from 1 to 5 (the distribution); illustrative: how many of those reviews "
        "are illustrative examples.",
        [
            Column("tool"),
            Column("criterion"),
            Column("reviews", "integer"),
            Column("mean", "number"),
            *[Column(f"rated_{s}", "integer") for s in SCORES],
            Column("illustrative", "integer"),
        ],
    )
    scores: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
    shown: Counter[tuple[str, str]] = Counter()
    for record in records:
        for criterion in CRITERIA:
            value = score(record.values.get(criterion))
            if value is not None:
                scores[(tool_of(record), criterion)][value] += 1
                shown[(tool_of(record), criterion)] += is_illustrative(record)
    for (tool, criterion), counts in sorted(
        scores.items(), key=lambda i: (i[0][0], order(i[0][1]))
    ):
        n = sum(counts.values())
        mean = rounded(sum(s * c for s, c in counts.items()) / n, 2)
        table.rows.append(
            [tool, criterion, n, mean, *[counts[s] for s in SCORES], shown[(tool, criterion)]]
        )
    return table


def order(criterion: str) -> int:
    return CRITERIA.index(criterion) if criterion in CRITERIA else len(CRITERIA)


# --- the privacy checklist -----------------------------------------------------------------


def privacy_table(records: list[Record]) -> DerivedTable:
    """Per tool: the answer to each question of the checklist and how many are met."""
    table = DerivedTable(
        "privacy_checklist",
        "Privacy checklist by tool",
        "Each assessed tool's answer (met, partly, not-met or unknown) to each question of the "
        "privacy checklist, and how many of the questions it meets.",
        [
            Column("tool"),
            *[Column(name) for name in CHECKLIST],
            Column("met", "integer"),
            Column("questions", "integer"),
            Column("illustrative", "boolean"),
        ],
    )
    for record in sorted(records, key=tool_of):
        answers = [str(record.values.get(name) or "unknown") for name in CHECKLIST]
        met = answers.count(MET)
        table.rows.append([tool_of(record), *answers, met, len(CHECKLIST), is_illustrative(record)])
    return table


# --- where it runs and who supports it ------------------------------------------------------


def deployments_table(records: list[Record]) -> DerivedTable:
    table = DerivedTable(
        "deployments_by_country",
        "Deployments by tool and country",
        "How many deployments of each tool each country has, and how many of them are still "
        "running (no end year).",
        [Column("tool"), Column("country"), Column("deployments", "integer"),
         Column("active", "integer")],
    )  # fmt: skip
    counts: Counter[tuple[str, str]] = Counter()
    active: Counter[tuple[str, str]] = Counter()
    for record in records:
        key = (tool_of(record), str(record.values.get("country") or ""))
        counts[key] += 1
        active[key] += is_active(record)
    table.rows += [[*key, n, active[key]] for key, n in sorted(counts.items())]
    return table


def support_table(records: list[Record]) -> DerivedTable:
    table = DerivedTable(
        "support",
        "Support providers by tool, country and language",
        "How many providers offer installation, hosting, development, training or support "
        "for each tool in each country (dimension country) and in each language (dimension "
        "language).",
        [Column("tool"), Column("dimension"), Column("value"), Column("providers", "integer")],
    )
    for dimension, field in (("country", "countries"), ("language", "languages")):
        counts = Counter(
            (tool_of(r), value) for r in records for value in set(texts(r.values.get(field)))
        )
        table.rows += [[tool, dimension, value, n] for (tool, value), n in sorted(counts.items())]
    return table


def improvements_table(records: list[Record]) -> DerivedTable:
    table = DerivedTable(
        "improvements",
        "Funded improvements by tool",
        "How many funded improvements each tool has, and for how many the amount is public.",
        [Column("tool"), Column("improvements", "integer"), Column("amount_public", "integer")],
    )
    counts = Counter(tool_of(r) for r in records)
    public = Counter(tool_of(r) for r in records if r.values.get("amount") not in (None, ""))
    table.rows += [[tool, n, public[tool]] for tool, n in sorted(counts.items())]
    return table


DERIVERS: dict[str, Callable[[list[Record]], DerivedTable]] = {
    "deployments": deployments_table,
    "providers": support_table,
    "improvements": improvements_table,
    "reviews": ratings_table,
    "privacy": privacy_table,
}


def market_tables(resource: str, records: Iterable[Record]) -> list[DerivedTable] | None:
    """The derived tables of one of the catalog's collections (None: not one of them)."""
    derive = DERIVERS.get(resource)
    return None if derive is None else [derive(list(records))]
