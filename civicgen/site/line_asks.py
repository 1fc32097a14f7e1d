"""The Ask link of each budget line a node's page lists, put together in Python.

The wording stays the template's: it is translated once a page, with `{line}` and `{year}`
left in the title and label, the text before and after a line's facts rendered by macros.
Only each line's facts (its year, codes, labels and amounts) are joined here: as a Jinja
macro a line, the 21,000 links of the example's two languages cost its build 2.4 s of CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from ..forge.issue_link import new_issue_url, tidy
from .budget_explorer import LineRow
from .formats import money


@dataclass(frozen=True)
class AskLink:
    """Where a line's link leads ("" : no forge) and what a screen reader says of it."""

    href: str
    label: str


@dataclass(frozen=True)
class LineAsks:
    """A page's wording for its lines' Ask links (plain text, as the forge receives it)."""

    repository: str
    forge: str | None
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
        line = " · ".join(str(item["code"]) for item in row.codes)
        title = self.title.replace("{line}", line).replace("{year}", row.year)
        body = tidy(self.head + self.facts(row) + self.tail)
        href = new_issue_url(self.repository, self.forge, " ".join(title.split()), body)
        return AskLink(href, self.label.replace("{line}", line).replace("{year}", row.year))

    def facts(self, row: LineRow) -> str:
        """The line's year, codes with labels, and amounts, one per list item."""
        items = [f"- {self.year}: {row.year}"]
        for name, item in zip(self.fields, row.codes, strict=False):
            items.append(f"- {name}: {code_text(item)}")
        for phase, name in self.phases:
            if row.phases.get(phase) is not None:
                items.append(f"- {name}: {money(row.phases[phase], self.currency, self.language)}")
        return "\n".join(items) + "\n"


def code_text(item: dict[str, Any]) -> str:
    """A code and its label, the code alone when the label is missing or repeats it."""
    code, label = str(item["code"]), item.get("label")
    return f"{code} {label}" if label and label != code else code


def line_asks_in(language: str | None) -> Callable[..., LineAsks]:
    """For templates, numbers in language: a page's `line_asks(...)`, its wording rendered
    by the template (`phase_name` is the macro naming a phase)."""

    def line_asks(
        repository: Any, forge: Any, title: Any, label: Any, head: Any, tail: Any, year: Any,
        fields: list[Any], phases: list[str], phase_name: Callable[[str], Any], currency: Any,
    ) -> LineAsks:  # fmt: skip
        return LineAsks(
            str(repository or ""), str(forge or "") or None, plain(title), plain(label),
            plain(head), plain(tail), plain(year), [str(f) for f in fields],
            [(p, plain(phase_name(p))) for p in phases], str(currency or ""), language,
        )  # fmt: skip

    return line_asks


def plain(value: Any) -> str:
    """Rendered text with its HTML escapes undone (the forge's form takes plain text)."""
    return str(value.unescape() if isinstance(value, Markup) else value)
