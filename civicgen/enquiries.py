"""Questions to the council about the budget ("enquiries"), one file each: what a record
says, its status and how long the answer took, and the checks its schema cannot state.

An enquiry is open until it has both an answer and the date of that answer; then it is
answered, and its days to answer are that date minus the date it was asked. What it is
about is said by its foreign keys into a budget package (civicgen.site.enquiries reads
them); nothing here knows a city.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import CivicError, ConstraintError, RowConstraintError

if TYPE_CHECKING:  # annotations only: model imports the registry, which loads these
    from .model import Record

QUESTION, ASKED_BY, ASKED = "question", "asked_by", "asked"
ANSWER, ANSWERED, DOCUMENTS = "answer", "answered", "documents"
REQUIRED = ("id", QUESTION, ASKED)  # the fields an enquiries collection must have
OPEN, DONE = "open", "answered"
WEB = ("https://", "http://")


def as_date(value: Any) -> dt.date | None:
    """A record's date (YAML gives a date, a quoted one a string); None if it is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class Enquiry:
    """One question as the portal shows it."""

    id: str
    path: str
    question: str
    asked_by: str
    asked: dt.date | None
    answer: str
    answered: dt.date | None
    documents: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # every field, for the budget keys

    @property
    def status(self) -> str:
        return DONE if self.answer and self.answered else OPEN

    @property
    def days(self) -> int | None:
        """Days from the question to its answer (None while open)."""
        if self.status != DONE or self.asked is None or self.answered is None:
            return None
        return (self.answered - self.asked).days


def enquiry_of(record: Record) -> Enquiry:
    v = record.values
    documents = v.get(DOCUMENTS) or []
    return Enquiry(
        id=text(v.get("id")),
        path=record.path,
        question=text(v.get(QUESTION)),
        asked_by=text(v.get(ASKED_BY)),
        asked=as_date(v.get(ASKED)),
        answer=text(v.get(ANSWER)),
        answered=as_date(v.get(ANSWERED)),
        documents=[text(d) for d in documents] if isinstance(documents, list) else [],
        values=dict(v),
    )


def enquiries_of(records: list[Record]) -> list[Enquiry]:
    """The enquiries, newest question first (then by id)."""
    found = [enquiry_of(r) for r in records]
    return sorted(found, key=lambda e: (-(e.asked or dt.date.min).toordinal(), e.id))


def median_days(enquiries: list[Enquiry]) -> float | None:
    """The median days to an answer of the answered ones (None: none answered)."""
    days = [e.days for e in enquiries if e.days is not None]
    return float(statistics.median(days)) if days else None


# --- what the schema cannot say ------------------------------------------------------------


def record_errors(options: Any, record: Record) -> list[CivicError]:
    """An answer dated before its question; a document that is not a web address; an
    answer without its date, or a date without its answer (a warning: it stays open)."""
    return [*date_order(record), *half_answered(record), *document_errors(record)]


def half_answered(record: Record) -> list[CivicError]:
    answer, answered = text(record.values.get(ANSWER)), record.values.get(ANSWERED)
    if bool(answer) == (answered not in (None, "")):
        return []
    missing, given = (ANSWERED, ANSWER) if answer else (ANSWER, ANSWERED)
    note = (
        f'the question has an "{given}" but no "{missing}", so it is shown as open; '
        f'add the "{missing}" or remove the "{given}"'
    )
    return [
        RowConstraintError(
            note=note, path=record.path, field_name=given, line=record.lines.get(given),
            warning=True,
        )
    ]  # fmt: skip


def date_order(record: Record) -> list[CivicError]:
    asked = as_date(record.values.get(ASKED))
    answered = as_date(record.values.get(ANSWERED))
    if asked is None or answered is None or answered >= asked:
        return []
    note = (
        f"answered on {answered.isoformat()}, before the question was asked "
        f"({asked.isoformat()}); write the date the council answered, on or after the "
        "date it was asked"
    )
    return [
        RowConstraintError(
            note=note,
            path=record.path,
            field_name=ANSWERED,
            line=record.lines.get(ANSWERED),
            cell=answered.isoformat(),
        )
    ]


def document_errors(record: Record) -> list[CivicError]:
    documents = record.values.get(DOCUMENTS)
    if not isinstance(documents, list):
        return []  # absent, or not a list: the scan's type check says so
    return [
        ConstraintError(
            note=f'"{text(d)[:80]}" is not a web address; list each document by its address '
            "starting with https://",
            path=record.path,
            field_name=DOCUMENTS,
            line=record.lines.get(DOCUMENTS),
            cell=text(d),
        )
        for d in documents
        if not text(d).lower().startswith(WEB)
    ]


def package_problems(descriptor: dict[str, Any]) -> list[str]:
    """The profile's check: a collection of records with the fields every enquiry has."""
    for resource in descriptor.get("resources") or []:
        schema = resource.get("schema") if isinstance(resource, dict) else None
        extra = resource.get("civicgen") if isinstance(resource, dict) else None
        if not isinstance(schema, dict) or not isinstance(extra, dict) or "records" not in extra:
            continue
        names = {str(f.get("name")) for f in schema.get("fields") or [] if isinstance(f, dict)}
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            return [
                f'the enquiries of resource "{resource.get("name")}" need the fields '
                f"{', '.join(missing)}; add them to its schema"
            ]
        return []
    return ["an enquiries package needs a resource of one file per enquiry (civicgen.records)"]
