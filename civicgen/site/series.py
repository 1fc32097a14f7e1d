"""Time-series charts of sensor readings as SVG geometry, computed at build time.

The functions here return numbers only (positions, paths, ticks); the templates write the
SVG and every word around it, so the text is translated and the bytes are deterministic.
Colours are from the Okabe–Ito palette, readable with colour-vision deficiencies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

WIDTH, HEIGHT = 480, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 34
BLUE, VERMILLION, BLACK = "#0072B2", "#D55E00", "#000000"
HOURLY_DAYS = 31  # the hourly chart shows the latest month of a station's readings
DAILY_DAYS = 366  # the daily chart, table and calendar show the latest year
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Tick:
    position: float
    value: float


@dataclass(frozen=True)
class DateTick:
    position: float
    day: date


@dataclass
class Chart:
    """An SVG chart's geometry in viewBox units (WIDTH × HEIGHT)."""

    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[DateTick] = field(default_factory=list)
    guideline_y: float | None = None
    y_digits: int = 0  # digits after the point that the value ticks need
    bars: list[dict[str, Any]] = field(default_factory=list)
    path: str = ""
    colours: dict[str, str] = field(
        default_factory=lambda: {"below": BLUE, "above": VERMILLION, "guideline": BLACK}
    )


def nice_step(span: float, count: int = 5) -> float:
    """A round step (1, 2 or 5 × a power of ten) giving about count intervals over span."""
    raw = max(span, 1e-9) / count
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def value_range(values: list[float], guideline: float | None) -> tuple[float, float, float]:
    """Axis minimum, maximum and step: from zero (or below) to above the highest value."""
    shown = [*values, *([guideline] if guideline is not None else [])] or [0.0]
    low, high = min(0.0, min(shown)), max(shown)
    step = nice_step(high - low)
    low = math.floor(low / step) * step
    top = math.ceil(high / step) * step
    return low, (top if top > high else top + step), step


def y_scale(chart: Chart, low: float, high: float) -> Any:
    span = (high - low) or 1.0
    return lambda v: round(chart.bottom - (v - low) / span * (chart.bottom - chart.top), 1)


def y_axis(chart: Chart, values: list[float], guideline: float | None) -> Any:
    """Sets the chart's value ticks and guideline; returns the value → y function."""
    low, high, step = value_range(values, guideline)
    to_y = y_scale(chart, low, high)
    count = round((high - low) / step)
    chart.y_ticks = [
        Tick(to_y(low + i * step), round(low + i * step, 10)) for i in range(count + 1)
    ]
    chart.guideline_y = None if guideline is None else to_y(guideline)
    chart.y_digits = max(0, -math.floor(math.log10(step)))
    return to_y


def date_ticks(first: date, days: int, to_x: Any, count: int = 5) -> list[DateTick]:
    """About count evenly spaced days to label the time axis with."""
    step = max(1, math.ceil(days / count))
    return [DateTick(to_x(i), first + timedelta(days=i)) for i in range(0, days, step)]


PARSED_KEYS = 1 << 16  # distinct days or hours remembered (every station has the same ones)


def parse_day(text: str) -> date | None:
    return day_of_key(str(text)[:10])


@lru_cache(maxsize=PARSED_KEYS)
def day_of_key(text: str) -> date | None:
    """'2025-10-01' as a date, remembered (a date is immutable); None when it is not one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_hour(text: str) -> datetime | None:
    """'2025-10-01T07' (an hourly key) as a datetime; None when it is not one."""
    return hour_of_key(str(text))


@lru_cache(maxsize=PARSED_KEYS)
def hour_of_key(text: str) -> datetime | None:
    """parse_hour's work on a text, remembered (a datetime is immutable)."""
    digits = text[:4] + text[5:7] + text[8:10] + text[11:13]
    if len(text) < 13 or text[4] + text[7] + text[10] != "--T" or not digits.isascii():
        return None
    if not digits.isdigit():
        return None
    try:
        return datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]))
    except ValueError:
        return None


def daily_chart(days: list[tuple[date, float]], guideline: float | None) -> Chart | None:
    """One bar per day with data (its mean), vermillion above the guideline, blue otherwise."""
    if not days:
        return None
    chart = Chart()
    first, span = days[0][0], (days[-1][0] - days[0][0]).days + 1
    slot = (chart.right - chart.left) / span
    to_y = y_axis(chart, [v for _, v in days], guideline)
    zero = to_y(max(0.0, chart.y_ticks[0].value))
    for day, value in days:
        x, y = chart.left + (day - first).days * slot, to_y(value)
        above = guideline is not None and value > guideline
        chart.bars.append(
            {
                "x": round(x + slot * 0.1, 1),
                "y": min(y, zero),
                "width": round(max(slot * 0.8, 0.5), 2),
                "height": round(abs(zero - y), 1),
                "above": above,
            }
        )
    chart.x_ticks = date_ticks(first, span, lambda i: round(chart.left + (i + 0.5) * slot, 1))
    return chart


def hourly_chart(hours: list[tuple[datetime, float]], guideline: float | None) -> Chart | None:
    """A line through the hourly means, broken where an hour has no reading."""
    if not hours:
        return None
    chart = Chart()
    first = hours[0][0]
    span = int((hours[-1][0] - first) / HOUR) + 1
    step = (chart.right - chart.left) / max(span - 1, 1)
    to_y = y_axis(chart, [v for _, v in hours], guideline)
    parts, previous = [], None
    for when, value in hours:
        index = int((when - first) / HOUR)
        move = "L" if previous is not None and index == previous + 1 else "M"
        parts.append(f"{move}{chart.left + index * step:.1f} {to_y(value):.1f}")
        previous = index
    chart.path = "".join(parts)
    days = (hours[-1][0].date() - first.date()).days + 1
    start = datetime.combine(first.date(), datetime.min.time())
    offset = (first - start) / timedelta(hours=1)
    chart.x_ticks = [
        DateTick(round(chart.left + (t.position * 24 - offset) * step, 1), t.day)
        for t in date_ticks(first.date(), days, lambda i: i)
        if t.position * 24 >= offset
    ]
    return chart


def calendar(days: dict[date, float], guideline: float | None) -> list[dict[str, Any]]:
    """Month grids (weeks from Monday) from the first to the last day with data; each day
    above or below the guideline, or without data."""
    if not days:
        return []
    first, last = min(days), max(days)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(
            {
                "year": year,
                "month": month,
                "weeks": month_weeks(year, month, days, guideline, (first, last)),
            }
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_weeks(
    year: int,
    month: int,
    days: dict[date, float],
    guideline: float | None,
    span: tuple[date, date],
) -> list[list[dict[str, Any] | None]]:
    """A month's weeks; a day outside the span of the readings is "outside", not missing."""
    day = date(year, month, 1)
    weeks: list[list[dict[str, Any] | None]] = [[None] * day.weekday()]
    while day.month == month:
        value = days.get(day)
        status = "none" if value is None else status_of(value, guideline)
        status = status if span[0] <= day <= span[1] else "outside"
        weeks[-1].append({"day": day.day, "date": day.isoformat(), "status": status, "mean": value})
        day += timedelta(days=1)
        if day.weekday() == 0 and day.month == month:
            weeks.append([])
    weeks[-1] += [None] * (7 - len(weeks[-1]))
    return weeks


def status_of(value: float, guideline: float | None) -> str:
    return "above" if guideline is not None and value > guideline else "below"


@dataclass(frozen=True)
class Gap:
    first: datetime  # the first hour with no reading
    last: datetime  # the last hour with no reading
    hours: int


def gaps(hours: set[datetime], first: datetime, last: datetime) -> list[Gap]:
    """Runs of hours without a reading between first and last, longest first (then oldest);
    the work grows with the hours that have readings, not with the span."""
    hour = timedelta(hours=1)
    found, previous = [], first - hour
    for when in [*sorted(h for h in hours if first <= h <= last), last + hour]:
        missing = int((when - previous) / hour) - 1
        if missing > 0:
            found.append(Gap(previous + hour, when - hour, missing))
        previous = when
    return sorted(found, key=lambda g: (-g.hours, g.first))
