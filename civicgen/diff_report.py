"""A PortalDiff as Markdown (the pull-request comment), text and JSON."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import asdict

from .diff import PortalDiff, StatChange, TableDiff
from .errors import preview
from .registry import registered
from .report import md_cell
from .review import MESSAGE, ReviewNote

SHOWN_PATHS = 50
STATS_WITHHELD = (
    "The figures are not compared: the data at the new revision is not valid, so its "
    "totals would not mean anything. Fix the errors below and the figures will be shown."
)


# --- the call-out for maintainers, first in every format ----------------------------------


def visible(path: str) -> str:
    """A path with control, format (bidi, zero-width) and separator characters shown as
    escapes, so a file name cannot hide or forge lines in the report."""
    return "".join(
        f"\\u{{{ord(c):04x}}}" if unicodedata.category(c)[0] in "CZ" and c != " " else c
        for c in path
    )


def code_span(text: str) -> str:
    """Markdown inline code that no backtick in text can close early."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def review_markdown(notes: list[ReviewNote]) -> list[str]:
    if not notes:
        return []
    lines = [f"### ⚠️ {MESSAGE[0].upper()}{MESSAGE[1:]}", ""]
    lines += ["Check these files before merging; the data diff below does not cover them:", ""]
    for note in notes[:SHOWN_PATHS]:
        lines.append(f"- {code_span(visible(note.path))} ({md_cell(', '.join(note.reasons))})")
    if len(notes) > SHOWN_PATHS:
        lines.append(f"- …and {len(notes) - SHOWN_PATHS} more")
    return [*lines, ""]


def review_text(notes: list[ReviewNote]) -> list[str]:
    if not notes:
        return []
    lines = [f"{MESSAGE.upper().split(':')[0]}:{MESSAGE.split(':', 1)[1]}:"]
    lines += [f"  {visible(n.path)} ({', '.join(n.reasons)})" for n in notes[:SHOWN_PATHS]]
    if len(notes) > SHOWN_PATHS:
        lines.append(f"  …and {len(notes) - SHOWN_PATHS} more")
    return lines


def review_json(notes: list[ReviewNote]) -> dict[str, object]:
    return {
        "needed": bool(notes),
        "message": MESSAGE if notes else "",
        "paths": [{"path": n.path, "reasons": list(n.reasons)} for n in notes],
    }


def number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 or value == int(value) else f"{value:,.4g}"


def percent_change(change: StatChange) -> str:
    """+4.0 % for visible moves; two significant digits for tiny ones (+0.0013 %)."""
    if change.old is None:
        return "new"
    if change.points is not None:
        return f"{change.points:+.2f} pp"
    if change.relative is None:
        return "removed" if change.new is None else ""
    pct = change.relative * 100
    if abs(pct) >= 0.1 or pct == 0:
        return f"{pct:+.1f} %"
    digits = 1 - math.floor(math.log10(abs(pct)))
    return f"{pct:+.{digits}f} %"


def headline_tables() -> set[str]:
    """The derived tables each profile puts first in a review."""
    return {table for profile in registered().values() for table in profile.diff_tables}


def ordered_stats(diff: PortalDiff, limit: int) -> list[StatChange]:
    """Headline tables first; within a table the largest relative moves; `limit` per table."""
    by_table: dict[tuple[str, str], list[StatChange]] = {}
    for change in diff.stats:
        by_table.setdefault((change.package, change.table), []).append(change)
    chosen = []
    headlines = headline_tables()
    for _, changes in sorted(
        by_table.items(), key=lambda item: (item[0][1] not in headlines, item[0])
    ):
        changes.sort(key=lambda c: -abs(c.relative or 0) if c.relative is not None else 0)
        chosen.extend(changes[:limit])
    return chosen


def stats_markdown(diff: PortalDiff, limit: int) -> list[str]:
    if not diff.valid:
        return [STATS_WITHHELD]
    if not diff.stats:
        return ["No derived figure moved."]
    lines = [
        "| dataset | table | row | figure | before | after | change |",
        "|---|---|---|---|---|---|---|",
    ]
    shown = ordered_stats(diff, limit)
    for c in shown:
        row = " · ".join(c.key)
        lines.append(
            f"| {md_cell(c.package)} | {md_cell(c.table)} | {md_cell(row)} | {md_cell(c.figure)} "
            f"| {number(c.old)} "
            f"| {number(c.new)} | {percent_change(c)} |"
        )
    return lines + hidden_stats(diff, len(shown))


def hidden_stats(diff: PortalDiff, shown: int) -> list[str]:
    """Every moved figure is counted, also those not shown."""
    hidden = len(diff.stats) - shown
    return (
        [f"\n…and {hidden:,} more figures moved (all of them in the JSON report)"] if hidden else []
    )


def packages_markdown(diff: PortalDiff, limit: int) -> list[str]:
    """Packages added, removed, or whose descriptor changed (licence, title, sources…)."""
    if not diff.packages:
        return []
    lines = ["### Packages", ""]
    for change in diff.packages:
        lines.append(f"- **{md_cell(change.package)}**: {change.kind}")
        lines += [f"  - {md_cell(preview(note))}" for note in change.notes[:limit]]
        if len(change.notes) > limit:
            lines.append(f"  - …and {len(change.notes) - limit} more")
    return [*lines, ""]


def row_counts(table: TableDiff, separator: str = " · ") -> str:
    """'3 added · 1 removed · 2 changed' (and '· 1 key changed' when a key changed)."""
    kinds = ["added", "removed", "changed"] + (
        ["key changed"] if table.count("key changed") else []
    )
    return separator.join(f"{table.count(kind)} {kind}" for kind in kinds)


def table_markdown(table: TableDiff, limit: int) -> list[str]:
    counts = row_counts(table)
    where = md_cell(f"{table.package}/{table.resource}")
    lines = [f"### `{md_cell(table.path)}` ({where})", ""]
    lines += [f"- schema: {md_cell(note)}" for note in table.schema]
    lines += [
        "",
        f"**{counts}** (rows keyed by {', '.join(table.key_fields) or 'their content'})",
        "",
    ]
    if table.rows:
        lines += ["| change | key | field | before | after |", "|---|---|---|---|---|"]
        shown = 0
        for change in table.rows:
            cells = change.cells or [("", "", "")]
            for name, old, new in cells:
                if shown == limit:
                    break
                lines.append(
                    f"| {change.kind} | {md_cell(' · '.join(change.key))} | {md_cell(name)} "
                    f"| {md_cell(preview(old))} | {md_cell(preview(new))} |"
                )
                shown += 1
        total = sum(max(1, len(c.cells)) for c in table.rows)
        if total > shown:
            lines.append(f"\n…and {total - shown} more cell changes")
    return lines


MARKDOWN_CAP = 60_000  # bytes of UTF-8, so characters too (GitHub refuses over 65,536)
CAP_ROOM = 1_000  # kept free under the cap for the closing "…and N more" lines
FULL_REPORT = (
    "The full report, every row and figure: `diff.html` in this check's `civicgen-report` "
    "artifact (GitHub), or `civicgen diff --format html` (or `json`) between the same "
    "revisions."
)


def summary_line(diff: PortalDiff) -> str:
    """Every change counted in one line, whatever the sections below can show."""
    parts = []
    if diff.packages:
        parts.append(f"{len(diff.packages)} package(s) added, removed or re-described")
    if diff.tables:
        rows = {kind: sum(t.count(kind) for t in diff.tables) for kind in ("added", "removed")}
        changed = sum(t.count("changed") for t in diff.tables)
        rekeyed = sum(t.count("key changed") for t in diff.tables)
        parts.append(
            f"{len(diff.tables)} table(s): {rows['added']:,} row(s) added, "
            f"{rows['removed']:,} removed, {changed:,} changed"
            + (f", {rekeyed:,} with a new key" if rekeyed else "")
        )
    if diff.valid and diff.stats:
        parts.append(f"{len(diff.stats):,} derived figure(s) moved")
    return " · ".join(parts) if parts else "No data changed."


def folded(title: str, lines: list[str], open_: bool = False) -> list[str]:
    """A section a reader opens (<details>); the title is inert text."""
    return [f"<details{' open' if open_ else ''}><summary>{title}</summary>", "", *lines, "",
            "</details>", ""]  # fmt: skip


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def fitted(lines: list[str], budget: int) -> tuple[list[str], int]:
    """The first lines that fit in budget bytes, and how many were left out."""
    used = 0
    for count, line in enumerate(lines):
        used += utf8_size(line) + 1
        if used > budget:
            return lines[:count], len(lines) - count
    return lines, 0


def sections(diff: PortalDiff, limit: int) -> list[tuple[str, list[str], bool]]:
    """(title, Markdown lines, open) of each section, most important first: the errors of an
    invalid head, how the figures move, the packages, then one per changed table."""
    found = []
    if not diff.valid:
        errors = diff.head_validation.report.to_markdown().splitlines()
        found.append((f"❌ {len(diff.head_validation.report.errors):,} error(s)", errors, True))
    found.append(
        (f"How the figures move ({len(diff.stats):,})", stats_markdown(diff, limit), False)
    )
    if diff.packages:
        found.append(
            (f"Packages ({len(diff.packages)})", packages_markdown(diff, limit)[2:], False)
        )
    for table in diff.tables:
        title = f"{md_cell(table.path)}: {row_counts(table)}"
        found.append((title, table_markdown(table, limit), False))
    return found


def to_markdown(diff: PortalDiff, limit: int = 20, cap: int = MARKDOWN_CAP) -> str:
    """The pull-request comment: the call-out for maintainers, the verdict and a summary
    that counts every change, then each section folded; never longer than cap bytes of
    UTF-8 (what does not fit is counted, and the full report named)."""
    report = diff.head_validation.report
    verdict = (
        "✅ The data is valid."
        if diff.valid
        else f"❌ The data is not valid: {len(report.errors)} error(s); see below."
    )
    lines = review_markdown(diff.review)
    if utf8_size("\n".join(lines)) > cap // 2:  # many long paths: the call-out stays, cut
        shown, hidden = fitted(lines, cap // 2)
        lines = [*shown, f"- …and {hidden:,} more line(s) of this list", ""]
    lines += [f"## civicgen diff `{md_cell(diff.base)}` → `{md_cell(diff.head)}`", "", verdict, ""]
    lines += [summary_line(diff), ""]
    budget = cap - utf8_size("\n".join(lines)) - CAP_ROOM
    partly, left_out = 0, 0
    for title, body, open_ in sections(diff, limit):
        block = folded(title, body, open_)
        size = utf8_size("\n".join(block)) + 1
        if size <= budget:
            lines += block
            budget -= size
        elif not (partly or left_out) and budget > 2 * CAP_ROOM:  # the first that overflows
            shown, partly = fitted(body, budget - utf8_size(title) - 100)
            lines += folded(title, [*shown, "", f"…and {partly:,} more line(s)"], open_)
            budget = 0
        else:
            left_out += 1
    if partly or left_out:
        lines += [f"…and {left_out:,} more section(s) not shown here.", "", FULL_REPORT]
    return "\n".join(lines).rstrip() + "\n"


def to_text(diff: PortalDiff, limit: int = 20) -> str:
    lines = review_text(diff.review)
    lines.append(f"{diff.base} → {diff.head}: " + ("valid" if diff.valid else "INVALID"))
    for package in diff.packages:
        lines.append(f"package {package.package}: {package.kind}")
        lines += [f"  {preview(note)}" for note in package.notes[:limit]]
    for table in diff.tables:
        lines.append(
            f"{table.path}: {row_counts(table, ', ')}"
            + (f"; schema: {'; '.join(table.schema)}" if table.schema else "")
        )
        for change in table.rows[:limit]:
            detail = ", ".join(f"{n}: {preview(o)!r} → {preview(v)!r}" for n, o, v in change.cells)
            lines.append(
                f"  {change.kind} {' · '.join(change.key)}{': ' + detail if detail else ''}"
            )
    if not diff.valid:
        lines.append(STATS_WITHHELD)
    shown = ordered_stats(diff, limit)
    for c in shown:
        lines.append(
            f"{c.package}/{c.table} {' · '.join(c.key)} {c.figure}: "
            f"{number(c.old)} → {number(c.new)} {percent_change(c)}".rstrip()
        )
    lines += [line.strip() for line in hidden_stats(diff, len(shown))]
    if not diff.valid:
        lines.append(diff.head_validation.report.to_text())
    return "\n".join(lines) + "\n"


def to_json(diff: PortalDiff) -> str:
    payload = {
        "maintainer_review": review_json(diff.review),
        "base": diff.base,
        "head": diff.head,
        "valid": diff.valid,
        "packages": [asdict(p) for p in diff.packages],
        "tables": [asdict(t) for t in diff.tables],
        "stats": [{**asdict(c), "relative": c.relative, "points": c.points} for c in diff.stats],
        "errors": [e.to_dict() for e in diff.head_validation.report.sorted_errors()],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)
