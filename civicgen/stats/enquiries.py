"""Statistics of the questions to the council: how many are open and answered, and how long
an answer takes (the median days, and the longest)."""

from __future__ import annotations

from ..enquiries import DONE, OPEN, Enquiry, median_days
from .tables import Column, DerivedTable


def status_summary(enquiries: list[Enquiry]) -> DerivedTable:
    """One row per status (open, answered) and one for all: enquiries, median and longest
    days to an answer."""
    table = DerivedTable(
        "summary",
        "Questions by status",
        "How many questions are open and answered, and the median and longest days from a "
        "question to its answer.",
        [
            Column("status"),
            Column("enquiries", "integer"),
            Column("median_days_to_answer", "number"),
            Column("longest_days_to_answer", "integer"),
        ],
    )
    for status in (OPEN, DONE, "all"):
        chosen = [e for e in enquiries if status in ("all", e.status)]
        days = [e.days for e in chosen if e.days is not None]
        table.rows.append([status, len(chosen), median_days(chosen), max(days, default=None)])
    return table
