"""Numbers as the pages print them (amounts and percentages); used by filters and rows."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def decimal_of(value: Any) -> Decimal | None:
    """The value as a decimal number (not a float: large amounts keep their units), or None."""
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def number(value: Any, digits: int = 0) -> str:
    """1234567.891 -> '1,234,568' (digits after the point on request); nothing for no value,
    a value that is no number as it is."""
    amount = decimal_of(value)
    if amount is None:
        return "" if value is None else str(value)
    return f"{amount:,.{digits}f}"


def money(value: Any, currency: str = "") -> str:
    """1234567.5, "EUR" -> '1,234,568 EUR' (no currency declared: the number alone)."""
    amount = decimal_of(value)
    if amount is None:
        return number(value)
    return f"{amount:,.0f} {currency}".rstrip()


def percent(value: Any, digits: int = 1) -> str:
    try:
        return f"{float(value) * 100:.{digits}f} %"
    except (TypeError, ValueError):
        return ""


def signed_percent(value: Any) -> str:
    """0.04 -> '+4.0 %' (a change); nothing when there is no base."""
    if value is None:
        return ""
    return f"{float(value) * 100:+.1f} %"
