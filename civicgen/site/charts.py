"""Charts as SVG, drawn at build time: same figures, same bytes; no script, no network.

A bar chart is one row per item, largest first: its label on one line, a bar below it and
the figure at the bar's end. The SVG has role="img", a <title> and a <desc>; the page
shows the same numbers as a table beside it. Colours are from the Okabe–Ito palette
(readable with colour-vision deficiencies) and the text is near-black on white.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

WIDTH = 480  # the viewBox width; the chart scales down to the column on a phone
ROW = 44  # height of one item: its label line and its bar
BAR = 16
TEXT = "#1a1a1a"
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00")  # Okabe–Ito
MAX_LABEL = 58  # characters of a label drawn in the chart; the table has it whole
MAX_BARS = 40  # bars drawn; the table beside the chart lists every item


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the figure as the page prints it (formatted by the template's filters)


def shortened(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def chart_id(title: str, bars: Sequence[Bar]) -> str:
    """A stable id for the chart's title and description (same chart, same id)."""
    seed = "\x1f".join([title, *(f"{b.label}\x1e{b.value}" for b in bars)])
    return "chart-" + hashlib.sha256(seed.encode()).hexdigest()[:10]


def bar_width(value: float, largest: float, room: float) -> float:
    if largest <= 0 or value <= 0:
        return 0.0
    return max(1.0, round(room * value / largest, 1))


def bar_row(bar: Bar, y: int, largest: float, colour: str) -> str:
    """One item: the label, then its bar and figure."""
    room = WIDTH * 0.62
    width = bar_width(bar.value, largest, room)
    return (
        f'<text x="0" y="{y + 14}" font-size="14" fill="{TEXT}">{escape(shortened(bar.label))}</text>'
        f'<rect x="0" y="{y + 20}" width="{width}" height="{BAR}" fill="{colour}"/>'
        f'<text x="{width + 6:.1f}" y="{y + 33}" font-size="13" fill="{TEXT}">{escape(bar.text)}</text>'
    )


def bar_chart(title: str, description: str, bars: Sequence[Bar], colour: int = 0) -> Markup:
    """Sorted horizontal bars (largest first, then by label): deterministic SVG markup."""
    shown = sorted(bars, key=lambda b: (-b.value, b.label))[:MAX_BARS]
    ident = chart_id(title, shown)
    height = max(ROW, ROW * len(shown))
    largest = max((b.value for b in shown), default=0.0)
    fill = PALETTE[colour % len(PALETTE)]
    rows = "".join(bar_row(b, i * ROW, largest, fill) for i, b in enumerate(shown))
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="civicgen-bars" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'style="max-width:100%;height:auto" '
        f'aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>{rows}</svg>'
    )


def rows_chart(
    title: str, description: str, rows: Sequence[Any], texts: Sequence[str], colour: int = 0
) -> Markup:
    """A bar chart of table rows (title or label, and amount keys) with their figures as printed by the
    template (e.g. rows | map(attribute="amount") | map("money", currency)); rows with no
    amount are left out of the chart (the table shows them)."""
    bars = [
        Bar(str(row.get("title") or row["label"]), float(row["amount"]), str(text))
        for row, text in zip(rows, texts, strict=True)
        if row.get("amount") is not None
    ]
    return bar_chart(str(title), str(description), bars, colour)
