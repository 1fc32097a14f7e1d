"""A validation report: errors found, tables and rows seen, and its text, JSON and Markdown forms."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .errors import CivicError
from .textcheck import visible

ATTRIBUTES = {"field": "field_name"}


@dataclass
class Report:
    """What validation found. Bad data ends up here; nothing is raised for it."""

    errors: list[CivicError] = field(default_factory=list)
    packages: int = 0
    tables: int = 0
    rows: int = 0
    limit_errors: int = 1000
    partial: bool = False

    @property
    def valid(self) -> bool:
        return not any(not e.warning for e in self.errors)

    def add(self, error: CivicError) -> None:
        """Keep an error, up to limit_errors; past it the report is marked partial."""
        if len(self.errors) >= self.limit_errors:
            self.partial = True
            return
        self.errors.append(error)

    def extend(self, errors: list[CivicError]) -> None:
        for error in errors:
            self.add(error)

    def sorted_errors(self) -> list[CivicError]:
        return sorted(
            self.errors,
            key=lambda e: (e.path, e.row or 0, e.line or 0, e.field_number or 0, e.code),
        )

    def flatten(self, keys: list[str]) -> list[list[object]]:
        """One list per error with the named attributes, as frictionless's flatten."""
        return [[getattr(e, ATTRIBUTES.get(k, k)) for k in keys] for e in self.sorted_errors()]

    def stats(self) -> dict[str, int]:
        return {
            "packages": self.packages,
            "tables": self.tables,
            "rows": self.rows,
            "errors": len(self.errors),
        }

    def to_dict(self) -> dict[str, object]:
        """The JSON form; text from the repository has its invisible characters as <U+XXXX>."""
        return {
            "valid": self.valid,
            "partial": self.partial,
            "errors": [
                {k: visible(v) if isinstance(v, str) else v for k, v in e.to_dict().items()}
                for e in self.sorted_errors()
            ],
            "stats": self.stats(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def summary(self) -> str:
        s = self.stats()
        verdict = "valid" if self.valid else f"invalid: {s['errors']} error(s)"
        more = " (stopped early: limit_errors reached)" if self.partial else ""
        return f"{s['packages']} package(s), {s['tables']} table(s), {s['rows']} row(s): {verdict}{more}"

    def to_text(self) -> str:
        return "\n".join([visible(e.message) for e in self.sorted_errors()] + [self.summary()])

    def to_markdown(self) -> str:
        head = "### civicgen validate: " + ("✅ valid" if self.valid else "❌ invalid")
        lines = [head, "", self.summary(), ""]
        if self.errors:
            lines += ["| where | code | what to fix |", "|---|---|---|"]
            lines += [
                f"| {md_cell(e.position)} | `{e.code}` | {md_cell(e.note)} |"
                for e in self.sorted_errors()
            ]
        return "\n".join(lines) + "\n"

    def to_annotations(self) -> str:
        """GitHub Actions annotation lines, one per error (warnings as ::warning)."""
        return "\n".join(annotation(e) for e in self.sorted_errors())


MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]~!|#])")
HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
AUTOLINK = re.compile(r"(?i)://|\bwww\.")  # what a forge turns into a link on its own
WORD_JOINER = "\u2060"


def md_cell(text: str) -> str:
    """Text from the repository made inert in one Markdown table cell of a forge comment.

    No markup, HTML, link or table break survives, "@name" mentions nobody (as Renovate
    does, a zero-width space entity follows the @), and no address is turned into a link
    (a word joiner, which nobody sees, breaks "://" and "www.").
    """
    text = visible(text.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    text = re.sub("[&<>]", lambda m: HTML[m.group()], text)
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", unlinked(text)).replace("@", "@&#8203;")


def unlinked(text: str) -> str:
    """text with no address a forge would turn into a link on its own: a word joiner, which
    nobody sees, breaks every "://" and "www."."""
    return AUTOLINK.sub(lambda m: m.group()[:-1] + WORD_JOINER + m.group()[-1], text)


def escape_property(value: str) -> str:
    """A workflow-command property value (file=, title=): % CR LF : and , escaped."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def escape_data(value: str) -> str:
    """A workflow-command message: % CR and LF escaped, so nothing starts a new command."""
    return visible(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotation(error: CivicError) -> str:
    line = error.row if error.row is not None else (error.line + 1 if error.line is not None else 1)
    kind = "warning" if error.warning else "error"
    where = f"file={escape_property(error.path)},line={line},title={escape_property(error.code)}"
    return f"::{kind} {where}::{escape_data(error.message)}"
