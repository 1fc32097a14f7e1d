"""Numbers, money, percentages and dates as the pages print them, in the page's language.

The filters (money, number, percent, signed_percent, date, datetime) format with Babel for a locale:
the one given, else the one being rendered (`formatting(locale)`, set by the plugin around
a language's pages), else none: then a fixed, locale-free form ('1,234,568 EUR', '+4.0 %')
that the command line's text keeps.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
    parse_pattern,
)

CURRENT: ContextVar[str | None] = ContextVar("civicgen_locale", default=None)
CURRENCY = re.compile(r"^[A-Z]{3}$")


@contextmanager
def formatting(locale: str | None) -> Iterator[None]:
    """Format for locale (es, en, pt_BR…) while rendering one language's pages."""
    token = CURRENT.set(locale.replace("-", "_") if locale else None)
    try:
        yield
    finally:
        CURRENT.reset(token)


def active(locale: str | None) -> str | None:
    return locale.replace("-", "_") if locale else CURRENT.get()


@lru_cache(maxsize=64)
def with_digits(pattern: str, digits: int) -> str:
    """A Babel pattern with exactly `digits` digits after the decimal separator."""
    fraction = "." + "0" * digits if digits > 0 else ""
    return re.sub(
        r"[#0,]*0(\.[0#]+)?", lambda m: m.group(0).split(".")[0] + fraction, pattern, count=1
    )


@lru_cache(maxsize=16)
def patterns(locale: str) -> tuple[str, str, str]:
    """The locale's (currency, decimal, percent) patterns, positive part only."""
    data = Locale.parse(locale)
    currency, decimal, share = (
        str(p.pattern).split(";")[0]
        for p in (
            data.currency_formats["standard"],
            data.decimal_formats[None],
            data.percent_formats[None],
        )
    )
    return currency, decimal, share


def decimal_of(value: Any) -> Decimal | None:
    """The value as a finite decimal number (not a float: large amounts keep their units), or
    None."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def money(value: Any, currency: str = "", locale: str | None = None) -> str:
    """4650000000, "EUR" -> '4.650.000.000 €' (es), '€4,650,000,000' (en), '4,650,000,000 EUR'
    (no locale); no currency declared: the number alone; nothing for no value."""
    amount = decimal_of(value)
    if amount is None:
        return "" if value is None else str(value)
    locale = active(locale)
    if locale is None:
        return f"{amount:,.0f} {currency}".rstrip()
    if not CURRENCY.match(currency or ""):
        return number(amount, 0, locale)
    return whole_money(round(amount), currency, locale)


@lru_cache(maxsize=65536)
def whole_money(amount: int, currency: str, locale: str) -> str:
    """Babel's text of a whole amount, remembered: a page's amounts come again in its links'
    texts, and each budget line's on every page that lists it."""
    pattern = with_digits(patterns(locale)[0], 0)
    return format_currency(amount, currency, pattern, locale, currency_digits=False)


def number(value: Any, digits: int = 0, locale: str | None = None) -> str:
    """1234567.891 -> '1.234.568' (es), '1,234,568' (en and no locale); digits on request;
    nothing for no value, a value that is no number as it is."""
    amount = decimal_of(value)
    if amount is None:
        return "" if value is None else str(value)
    locale = active(locale)
    if locale is None:
        return f"{amount:,.{digits}f}"
    pattern = with_digits(patterns(locale)[1], digits)
    layout = grouped_by_three(pattern, locale)
    if layout is None:
        return format_decimal(amount, pattern, locale)
    prefix, suffix, separators = layout
    sign = int(amount.is_signed())
    digits_text = f"{abs(amount):,.{digits}f}".translate(separators)
    return prefix[sign] + digits_text + suffix[sign]


Layout = tuple[tuple[str, str], tuple[str, str], dict[int, str]]


@lru_cache(maxsize=64)
def grouped_by_three(pattern: str, locale: str) -> Layout | None:
    """How a plain decimal pattern (groups of three, a fixed number of decimals) writes a
    number: its (positive, negative) prefixes and suffixes and the locale's separators, so the
    pages' many numbers skip Babel's general formatter (the same text, tested); None for any
    other pattern (Indian grouping, significant digits, exponents…)."""
    parsed: NumberPattern = parse_pattern(pattern)
    fraction = parsed.frac_prec
    plain = (
        parsed.grouping == (3, 3)
        and parsed.int_prec[0] == 1
        and fraction[0] == fraction[1]
        and not parsed.scale
        and not parsed.exp_prec
        and "@" not in pattern
    )
    if not plain:
        return None
    separators = str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})
    return parsed.prefix, parsed.suffix, separators


def percent(value: Any, digits: int = 1, locale: str | None = None) -> str:
    """0.123 -> '12,3 %' (es), '12.3%' (en), '12.3 %' (no locale); nothing for no number."""
    try:
        share = float(value)
    except (TypeError, ValueError):
        return ""
    locale = active(locale)
    if locale is None:
        return f"{share * 100:.{digits}f} %"
    pattern = with_digits(patterns(locale)[2], digits)
    return format_percent(Decimal(repr(share)), pattern, locale)


def signed_percent(value: Any, locale: str | None = None) -> str:
    """0.04 -> '+4,0 %' (es), '+4.0%' (en), '+4.0 %' (no locale); nothing without a base."""
    if value is None:
        return ""
    locale = active(locale)
    if locale is None:
        return f"{float(value) * 100:+.1f} %"
    pattern = with_digits(patterns(locale)[2], 1)
    return format_percent(Decimal(repr(float(value))), f"+{pattern};-{pattern}", locale)


def date(value: Any, style: str = "long", locale: str | None = None) -> str:
    """2015-03-01 -> '1 de marzo de 2015' (es), 'March 1, 2015' (en), '2015-03-01' (no
    locale); text that is no date is shown as it is."""
    day = as_date(value)
    if day is None:
        return "" if value is None else str(value)
    locale = active(locale)
    if locale is None:
        return day.isoformat()
    return day_in(day, style if style in ("short", "medium", "long", "full") else "long", locale)


@lru_cache(maxsize=8192)
def day_in(day: dt.date, style: str, locale: str) -> str:
    """A day as the locale writes it (the same days recur on every station's pages)."""
    return format_date(day, style, locale)


def date_time(value: Any, style: str = "medium", locale: str | None = None) -> str:
    """2025-10-01T07:30:00Z -> '1 oct 2025 07:30 UTC' (es), 'Oct 1, 2025 07:30 UTC' (en),
    '2025-10-01 07:30 UTC' (no locale): the day as `date` says it, then the time on a 24-hour
    clock (seconds when there are) and its offset as written; a date alone is `date`'s."""
    if not isinstance(value, dt.datetime):
        return date(value, style, locale)
    return f"{date(value, style, locale)} {clock(value)}"


def clock(moment: dt.datetime) -> str:
    """07:30, 07:30:15; then UTC, or the offset (+02:00) when the time has one."""
    text = moment.strftime("%H:%M:%S" if moment.second else "%H:%M")
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60
    if not minutes:
        return f"{text} UTC"
    sign = "+" if minutes > 0 else "-"
    return f"{text} {sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def country(code: Any, locale: str | None = None) -> str:
    """An ISO 3166-1 code named in the page's language: ES -> 'España' (es), 'Spain' (en, and
    no locale); a code Babel does not know is shown as it is."""
    text = str(code or "")
    names = Locale.parse(active(locale) or "en").territories
    return str(names.get(text.upper(), text))


def language(code: Any, locale: str | None = None) -> str:
    """An ISO 639-1 code named in the page's language, as that language writes it in a
    sentence: ca -> 'catalán' (es), 'Catalan' (en); a code Babel does not know is shown as
    it is."""
    text = str(code or "")
    return str(Locale.parse(active(locale) or "en").languages.get(text.lower(), text))
