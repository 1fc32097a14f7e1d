"""Derived tables: what a profile computes, ready to print or publish as a data package."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    title: str = ""
    unit: str = ""
    ratio: bool = False  # a part of a whole, 0 to 1 (a share): a diff moves it by points

    def descriptor(self) -> dict[str, Any]:
        described: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.title:
            described["title"] = self.title
        if self.unit:
            described["unit"] = self.unit
        return described


@dataclass
class DerivedTable:
    """One table of derived statistics (e.g. budget totals by year)."""

    name: str
    title: str
    description: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]

    def unit_of(self, name: str) -> str:
        return next((c.unit for c in self.columns if c.name == name), "")

    def where(self, **equal: Any) -> list[dict[str, Any]]:
        return [r for r in self.records() if all(r.get(k) == v for k, v in equal.items())]


SIGNIFICANT = 15  # digits of a sum or mean that are data, not floating-point noise


def rounded(value: float | None, digits: int = 4) -> float | None:
    """Round a derived figure so that it is the same in any row order and on any platform.

    A float sum carries noise in its last bits that depends on the order of the rows; the
    figure is first cut to 15 significant digits (the noise goes, the data stays), then
    rounded half away from zero: 40.42649999999999 and 40.42650000000001 both give 40.4265.
    """
    if value is None or not math.isfinite(value):
        return value
    clean = Decimal(f"{value:.{SIGNIFICANT}g}")
    if clean.adjusted() >= SIGNIFICANT:  # no digit after the point is data
        return float(clean)
    return float(clean.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def change(current: float | None, previous: float | None) -> tuple[float | None, float | None]:
    """Absolute and relative change; relative is None when there is no base."""
    if current is None or previous is None:
        return None, None
    relative = (current - previous) / previous if previous else None
    return rounded(current - previous, 2), rounded(relative)
