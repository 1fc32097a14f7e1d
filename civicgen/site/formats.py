"""Numbers as the pages print them (amounts and percentages); used by filters and rows."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def money(value: Any, currency: str = "") -> str:
    """1234567.5, "EUR" -> '1,234,568 EUR' (no currency declared: the number alone)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.0f} {currency}".rstrip()


def number(value: Any, digits: int = 0) -> str:
    """1234567.891 -> '1,234,568' (digits after the point on request)."""
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


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
