"""The Ask link of each budget line a node's page lists, put together in Python.

The wording stays the template's: it is translated once a page, with `{line}` and `{year}`
left in the title and label, the text before and after a line's facts rendered by macros.
Only each line's facts (its year, codes, labels and amounts) are joined here: as a Jinja
macro a line, the 21,000 links of the example's two languages cost its build 2.4 s of CPU.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..forge.issue_link import filled_url
from .budget_explorer import LineRow
from .formats import money

PLACE = re.compile(r"\{(line|year)\}")


@dataclass(frozen=True)
class AskLink:
    """Where a line's link leads ("" : no forge) and what a screen reader says of it."""

    href: str
    label: str


@dataclass(frozen=True)
class LineAsks:
    """A page's wording for its lines' Ask links (plain text, as the forge receives it)."""

    repository: str
    forge: str  # "": known from the repository's host
    title: str  # "{line}" and "{year}" stand for the line's codes and year
    label: str  # the same
    head: str  # the text before a line's facts
    tail: str  # the text after them
    year: str  # what the year is called
    fields: list[str]  # the titles of the line's code fields
    phases: list[tuple[str, str]]  # each phase and its name
    currency: str
    language: str | None

    def link(self, row: LineRow) -> AskLink:
        named = {"line": " · ".join(str(item["code"]) for item in row.codes), "year": row.year}
        title = filled_in(self.title, named)
        body = self.head + self.facts(row) + self.tail
        href = filled_url(self.repository, self.forge, title, body)
        return AskLink(href, filled_in(self.label, named))

    def facts(self, row: LineRow) -> str:
        """The line's year, codes with labels, and amounts, one per list item."""
        items = [f"- {self.year}: {row.year}"]
        for name, item in zip(self.fields, row.codes, strict=False):
            items.append(f"- {name}: {code_text(item)}")
        for phase, name in self.phases:
            if row.phases.get(phase) is not None:
                items.append(f"- {name}: {money(row.phases[phase], self.currency, self.language)}")
        return "\n".join(items) + "\n"


def filled_in(wording: str, named: dict[str, str]) -> str:
    """wording with each {line} and {year} replaced in one pass: a code that reads "{year}"
    stays as it is."""
    return PLACE.sub(lambda found: named[found.group(1)], wording)


def code_text(item: dict[str, Any]) -> str:
    """A code and its label, the code alone when the label is missing or repeats it."""
    code, label = str(item["code"]), item.get("label")
    return f"{code} {label}" if label and label != code else code
