"""The tool catalog as a marketplace of digital commons, on the portal.

Per tool: its deployments on a map and in a list, its support providers by country, the
improvements someone paid for, its ratings (mean, count and distribution per criterion), its
reviews and its privacy checklist; for the list of tools, what the filters "deployed in my
country", "support in my language" and "privacy checklist" read; and the comparison page.
Everything comes from the catalog's validated collections and their derived tables
(stats/market.py): this module reads no file and names no place.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..model import Record
from ..stats.market import CHECKLIST, COLLECTIONS, CRITERIA, SCORES, is_active, texts
from ..validation import TableScan
from .formats import country, language
from .maps import WORLD_FILE, deployment_map

COMPARE_MAX = 4  # tools side by side on the comparison page


@dataclass(frozen=True)
class Market:
    """The catalog's collections by tool, and their derived tables' rows by tool."""

    records: dict[str, dict[str, list[Record]]] = field(default_factory=dict)  # name -> tool ->
    folders: dict[str, str] = field(default_factory=dict)  # name -> folder of its record files
    ratings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # tool -> rows
    checklist: dict[str, dict[str, Any]] = field(default_factory=dict)  # tool -> its row

    def of(self, collection: str, tool: str) -> list[Record]:
        return self.records.get(collection, {}).get(tool, [])

    @property
    def present(self) -> bool:
        """Whether the catalog has any of the collections (possibly with no record yet)."""
        return bool(self.folders)


def gather_market(tables: list[TableScan], derived: dict[str, Any]) -> Market:
    """The catalog package's collections (tables: its scanned tables), grouped by tool."""
    records: dict[str, dict[str, list[Record]]] = {}
    folders: dict[str, str] = {}
    for scanned in tables:
        name, spec = scanned.resource.name, scanned.resource.records
        if name not in COLLECTIONS or spec is None:
            continue
        folder = posixpath.dirname(posixpath.join(scanned.package.folder, spec.pattern))
        folders[name] = folder + "/"
        grouped: dict[str, list[Record]] = defaultdict(list)
        for record in sorted(scanned.records, key=lambda r: r.path):
            grouped[str(record.values.get("tool") or "")].append(record)
        records[name] = dict(grouped)
    ratings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in derived["ratings"].records() if "ratings" in derived else []:
        ratings[row["tool"]].append(row)
    checklist = {
        row["tool"]: row
        for row in (
            derived["privacy_checklist"].records() if "privacy_checklist" in derived else []
        )
    }
    return Market(records, folders, dict(ratings), checklist)


def host(url: Any) -> str:
    """The host a link leads to, without www. (the text of a source's link)."""
    name = urlsplit(str(url or "")).hostname or ""
    return name.removeprefix("www.")


def deployments(market: Market, tool: str) -> list[dict[str, Any]]:
    """A tool's deployments, numbered as on its map: running ones first, newest first."""
    found = sorted(
        market.of("deployments", tool),
        key=lambda r: (not is_active(r), -(r.values.get("since") or 0), r.path),
    )
    return [
        {**r.values, "number": n, "source_host": host(r.values.get("source"))}
        for n, r in enumerate(found, start=1)
    ]


def providers_by_country(market: Market, tool: str) -> list[dict[str, Any]]:
    """One row per country and provider, by the country's name in the page's language."""
    rows = [
        {**r.values, "country": code, "source_host": host(r.values.get("source"))}
        for r in market.of("providers", tool)
        for code in texts(r.values.get("countries"))
    ]
    return sorted(rows, key=lambda r: (country(r["country"]).lower(), str(r["name"]).lower()))


def improvements(market: Market, tool: str) -> list[dict[str, Any]]:
    found = sorted(
        market.of("improvements", tool), key=lambda r: (-(r.values.get("year") or 0), r.path)
    )
    return [{**r.values, "source_host": host(r.values.get("source"))} for r in found]


def reviews(market: Market, tool: str) -> list[Record]:
    """Newest first."""
    return sorted(market.of("reviews", tool), key=lambda r: str(r.values.get("date")), reverse=True)


def ratings(market: Market, tool: str) -> list[dict[str, Any]]:
    """Per criterion: reviews, mean, the count of each score and each score's share."""
    rows = []
    for row in market.ratings.get(tool, []):
        counts = [row[f"rated_{s}"] for s in SCORES]
        shares = [count / row["reviews"] if row["reviews"] else 0 for count in counts]
        rows.append({**row, "counts": counts, "shares": shares})
    return rows


def privacy(market: Market, tool: str) -> dict[str, Any] | None:
    found = market.of("privacy", tool)
    if not found:
        return None
    values = found[0].values
    return {
        **values,
        "answers": [
            {"criterion": c, "answer": values.get(c) or "unknown", "note": values.get(f"{c}_note")}
            for c in CHECKLIST
        ],
        "met": sum(values.get(c) == "met" for c in CHECKLIST),
        "questions": len(CHECKLIST),
        "source_host": host(values.get("source")),
    }


def tool_market(market: Market, tool: str) -> dict[str, Any]:
    """Everything a tool's page shows of the marketplace."""
    shown = deployments(market, tool)
    return {
        "deployments": shown,
        "map": deployment_map(shown),
        "providers": providers_by_country(market, tool),
        "provider_count": len(market.of("providers", tool)),
        "improvements": improvements(market, tool),
        "ratings": ratings(market, tool),
        "reviews": reviews(market, tool),
        "privacy": privacy(market, tool),
    }


# --- the list's filters and the comparison ----------------------------------------------------


def filter_values(market: Market, tool: str) -> dict[str, Any]:
    """What a tool's item in the list holds for each filter: the countries where it runs
    (ended deployments left out), the languages of its support, and every privacy level it
    reaches ("3" for 3 questions met reads as "at least 1, 2 and 3"); met: how many questions
    of the privacy checklist it meets (None: not assessed)."""
    assessed = market.checklist.get(tool)
    met = int(assessed["met"] or 0) if assessed else 0
    return {
        "met": met if assessed else None,
        "country": sorted({str(r.values.get("country")) for r in market.of("deployments", tool)
                           if is_active(r) and r.values.get("country")}),
        "support": sorted({code for r in market.of("providers", tool)
                           for code in texts(r.values.get("languages"))}),
        "privacy": [str(n) for n in range(1, met + 1)] if tool in market.checklist else [],
    }  # fmt: skip


def filter_options(market: Market, tools: list[str]) -> dict[str, list[str]]:
    """The choices of each filter: the codes found, by their names in the page's language;
    privacy levels from the most demanding down."""
    values = [filter_values(market, t) for t in tools]
    countries = {c for v in values for c in v["country"]}
    languages = {c for v in values for c in v["support"]}
    levels = max((len(v["privacy"]) for v in values), default=0)
    return {
        "country": sorted(countries, key=lambda c: country(c).lower()),
        "support": sorted(languages, key=lambda c: language(c).lower()),
        "privacy": [str(n) for n in range(levels, 0, -1)],
    }


def compare_facts(market: Market, tool: str) -> dict[str, Any]:
    """A tool's key figures for the comparison table."""
    running = [r for r in market.of("deployments", tool) if is_active(r)]
    return {
        "deployments": len(running),
        "countries": sorted({str(r.values.get("country")) for r in running}, key=country),
        "providers": len(market.of("providers", tool)),
        "support": filter_values(market, tool)["support"],
        "improvements": len(market.of("improvements", tool)),
        "ratings": {row["criterion"]: row for row in market.ratings.get(tool, [])},
        "privacy": market.checklist.get(tool),
    }


def market_context(market: Market, tools: list[str]) -> dict[str, Any]:
    """What the catalog's list, category and comparison pages need of the marketplace."""
    return {
        "market_present": market.present,
        "market_folders": market.folders,
        "filter_values": {t: filter_values(market, t) for t in tools},
        "market_options": filter_options(market, tools),
        "criteria": CRITERIA,
        "checklist": CHECKLIST,
        "scores": SCORES,
        "compare_max": COMPARE_MAX,
        "world_file": WORLD_FILE,
    }
