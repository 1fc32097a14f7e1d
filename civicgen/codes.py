"""Country and language codes in the tool catalog's marketplace records, checked against the
codes CLDR knows (through Babel, offline).

A schema pattern lets "XX" through as a country and "zz" as a language, and it cannot reach
the items of a list (`countries: [FR, XX]`). A deployment, a provider, an improvement or a
review names where it is and in which languages it serves with ISO codes the portal turns
into names in the reader's language: a code no one knows would be shown as it is, and the
"deployed in my country" and "support in my language" filters would never find it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import CivicError, ConstraintError

if TYPE_CHECKING:  # annotations only: model imports the registry, which loads this
    from .model import Record

COUNTRY_FIELDS = ("country", "countries", "funder_country")  # ISO 3166-1 alpha-2
LANGUAGE_FIELDS = ("languages",)  # ISO 639-1 (or 639-2/3 when there is no two-letter code)
ALPHA2 = re.compile(r"[A-Z]{2}")
LANGUAGE = re.compile(r"[a-z]{2,3}")
NO_CODE = frozenset({"ZZ", "und", "mis", "mul", "zxx"})  # CLDR's "unknown", "none" and such


@functools.cache
def countries() -> frozenset[str]:
    """The two-letter territories CLDR names (regions such as 001 and 150 left out)."""
    return coded(english().territories, ALPHA2)


@functools.cache
def languages() -> frozenset[str]:
    return coded(english().languages, LANGUAGE)


def english() -> Any:
    """CLDR's English names (Babel loads when a record about a tool is checked)."""
    from babel import Locale

    return Locale("en")


def coded(names: Iterable[Any], shape: re.Pattern[str]) -> frozenset[str]:
    return frozenset(str(c) for c in names if shape.fullmatch(str(c)) and c not in NO_CODE)


def code_errors(options: Any, record: Record) -> list[CivicError]:
    """Unknown country and language codes in a record about a tool (one with a `tool`)."""
    if "tool" not in record.values:
        return []  # a tool's own `languages` are programming languages
    return [
        *unknown(record, COUNTRY_FIELDS, countries(), ALPHA2, "country", "FR, ES or DE"),
        *unknown(record, LANGUAGE_FIELDS, languages(), LANGUAGE, "language", "es, en or ca"),
    ]


def unknown(
    record: Record,
    names: tuple[str, ...],
    known: frozenset[str],
    shape: re.Pattern[str],
    kind: str,
    examples: str,
) -> list[CivicError]:
    """Each item of a list that is not a known code; a single value only when it has a code's
    shape (one that has not breaks the schema's pattern, which says so)."""
    errors: list[CivicError] = []
    for name in names:
        value = record.values.get(name)
        listed = isinstance(value, list)
        items: list[Any] = value if isinstance(value, list) else [value]
        for item in items:
            if item in (None, "") or not isinstance(item, str) or item in known:
                continue  # missing, or not text: the schema's checks say so
            if not listed and not shape.fullmatch(item):
                continue
            errors.append(
                ConstraintError(
                    note=(
                        f'"{item[:40]}" is not a {kind} code; write its ISO code as the '
                        f"portal lists it, such as {examples}"
                    ),
                    path=record.path,
                    field_name=name,
                    line=record.lines.get(name),
                    cell=item,
                )
            )
    return errors
