"""The budget explorer: a home per budget package, a page per classification node that has
children, and the budget lines each node sums (a bounded table and a CSV of all of them).

Everything is read from the scan's budget lines (one aggregate per combination of the
line's code fields, every measure summed), so a node's children always add up to the node
and its lines CSV to its total. Levels, labels, titles, currency and population come from
the package's options; numbers reach the templates as numbers (the filters print them).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from ..model import Package
from ..stats.budget import (
    BudgetConfig,
    Level,
    label_map,
    level_label,
    line_amounts,
    line_fields,
    previous_year,
    sorted_years,
)
from ..textcheck import neutralise
from .budget_view import (
    classification_title,
    classifications,
    direction_order,
    explorer_home,
    explorer_uri,
    level_of,
    node_slug,
    phase_order,
)
from .charts import rows_chart
from .inputs import SiteInputs

Point = tuple[str, str, str]  # (year, phase, direction)
SHOWN_LINES = 25  # lines listed on a node's page (bounded weight and build time); its CSV has all


@dataclass
class Line:
    codes: tuple[str, ...]  # one per line field
    amounts: dict[Point, float] = field(default_factory=dict)


@dataclass
class Node:
    classification: str
    depth: int
    code: str
    label: str
    lines: list[int]
    uri: str = ""  # its page, when it has children
    includes: list[str] = field(default_factory=list)  # unlabelled: its first labelled parts

    @property
    def name(self) -> str:
        """Its label; unlabelled, its code (the template adds what it includes)."""
        return self.label or self.code


@dataclass
class Explorer:
    """One budget package's lines and classification nodes."""

    package: Package
    config: BudgetConfig
    fields: list[str]
    lines: list[Line]
    labels: dict[str, dict[str, str]]
    levels: dict[str, list[Level]]
    nodes: dict[tuple[str, int], dict[str, Node]]  # (classification, depth) -> code -> node
    # (classification, depth) -> code -> the rows of the lines under it, in page order
    level_rows: dict[tuple[str, int], dict[str, list[LineRow]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @cached_property
    def rows(self) -> list[list[LineRow]]:
        """Each line's rows (one per year and direction), computed once."""
        phases = phases_known(self)
        return [rows_of_line(self, line, phases) for line in self.lines]

    @cached_property
    def ordered_rows(self) -> list[tuple[int, LineRow]]:
        """Every line's rows with the line's number, in the order pages list them (sorted
        once: a stable sort, so a node's rows keep this order among themselves)."""
        numbered = [(number, row) for number, rows in enumerate(self.rows) for row in rows]
        return sorted(numbered, key=lambda item: item[1].key)

    def rows_under(self, node: Node) -> list[LineRow]:
        """The rows of the node's lines in page order: those of every line with the node's
        code at its level (its lines), picked from the rows sorted once for the whole level."""
        key = (node.classification, node.depth)
        if key not in self.level_rows:
            level = self.levels[node.classification][node.depth]
            codes = [self.code_at(line, level) for line in self.lines]
            found: dict[str, list[LineRow]] = {}
            for number, row in self.ordered_rows:
                found.setdefault(codes[number], []).append(row)
            self.level_rows[key] = found
        return self.level_rows[key].get(node.code, [])

    def forget_rows(self) -> None:
        """Drop every line's rows (hundreds of thousands at scale): once each node's page has
        taken its first lines and its CSV, no page reads them."""
        for name in ("rows", "ordered_rows"):
            self.__dict__.pop(name, None)
        self.level_rows.clear()

    @cached_property
    def points(self) -> set[Point]:
        """Every (year, phase, direction) with an amount."""
        return {point for line in self.lines for point in line.amounts}

    def code_at(self, line: Line, level: Level) -> str:
        value = line.codes[self.fields.index(level.field)]
        return value[: level.prefix] if level.prefix else value

    def children_of(self, node: Node) -> dict[str, list[int]]:
        """Child code -> the node's lines under it (no children at the finest level)."""
        levels = self.levels[node.classification]
        if node.depth + 1 >= len(levels):
            return {}
        return group(self, node.lines, levels[node.depth + 1])

    def child_node(self, node: Node, code: str) -> Node:
        return self.nodes[(node.classification, node.depth + 1)][code]


def group(explorer: Explorer, lines: Iterable[int], level: Level) -> dict[str, list[int]]:
    """Line numbers by their code at level, codes in order."""
    at, prefix, every = explorer.fields.index(level.field), level.prefix, explorer.lines
    found: dict[str, list[int]] = {}
    for number in lines:
        value = every[number].codes[at]
        found.setdefault(value[:prefix] if prefix else value, []).append(number)
    return dict(sorted(found.items()))


# --- reading the lines ---------------------------------------------------------------------


def budget_scans(inputs: SiteInputs, name: str, config: BudgetConfig) -> list[Any]:
    """The package's budget tables: those the scan summed budget lines of."""
    return [
        s
        for (package, _), s in sorted(inputs.validation.tables.items())
        if package == name and not s.is_collection and line_amounts(config, s.result.aggregates)
    ]


def read_lines(config: BudgetConfig, scans: list[Any]) -> list[Line]:
    """Every budget line of the package's budget tables, in code order."""
    by_codes: dict[tuple[str, ...], Line] = {}
    for scanned in scans:
        for (year, phase, direction, *codes), amount in line_amounts(
            config, scanned.result.aggregates
        ).items():
            line = by_codes.setdefault(tuple(codes), Line(tuple(codes)))
            point = (year, phase, direction)
            line.amounts[point] = round(line.amounts.get(point, 0.0) + amount, 2)
    return [by_codes[codes] for codes in sorted(by_codes)]


def read_labels(config: BudgetConfig, scans: list[Any]) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    for scanned in scans:
        for code_field, codes in label_map(config, scanned.result.aggregates).items():
            labels.setdefault(code_field, {}).update(codes)
    return labels


def explorer_of(inputs: SiteInputs, package: Package) -> Explorer | None:
    """The package's explorer (None: not a budget, or no budget line was read)."""
    config = package.options
    if not isinstance(config, BudgetConfig):
        return None
    scans = budget_scans(inputs, package.name, config)
    if not scans:
        return None
    lines = read_lines(config, scans)
    if not lines:
        return None
    explorer = Explorer(
        package, config, line_fields(config), lines, read_labels(config, scans),
        classifications(config), {},
    )  # fmt: skip
    add_nodes(explorer)
    return explorer


def add_nodes(explorer: Explorer) -> None:
    """Every node of every classification at every level; a page URI for those with
    children (a code already used by a coarser level of the classification gets its
    level's name in the URI)."""
    package = explorer.package.name
    for name, levels in explorer.levels.items():
        taken: set[str] = set()
        for depth, level in enumerate(levels):
            found = group(explorer, range(len(explorer.lines)), level)
            nodes = {}
            for code, lines in found.items():
                label = level_label(explorer.config, level, code, explorer.labels)
                node = Node(name, depth, code, label, lines)
                if depth + 1 < len(levels):
                    qualified = level.name if node_slug(code) in taken else ""
                    node.uri = explorer_uri(package, name, code, qualified)
                nodes[code] = node
            taken.update(node_slug(code) for code in found)
            explorer.nodes[(name, depth)] = nodes
        add_includes(explorer, name)


INCLUDED = 3  # labels of its parts an unlabelled node is described by


def add_includes(explorer: Explorer, name: str) -> None:
    """Unlabelled nodes (a prefix level with no codeLabels) are described by the labels of
    their parts at the nearest finer level that has labels, in code order."""
    levels = explorer.levels[name]
    for depth in range(len(levels) - 2, -1, -1):
        finer = explorer.nodes[(name, depth + 1)]
        for node in explorer.nodes[(name, depth)].values():
            if node.label:
                continue
            parts = [finer[c] for c in group(explorer, node.lines, levels[depth + 1])]
            labels = [
                p.label or inc for p in parts for inc in ([p.label] if p.label else p.includes)
            ]
            node.includes = list(dict.fromkeys(labels))[: INCLUDED + 1]


# --- figures -------------------------------------------------------------------------------


def summed(explorer: Explorer, lines: Iterable[int]) -> dict[Point, float]:
    total: dict[Point, float] = {}
    for number in lines:
        for point, amount in explorer.lines[number].amounts.items():
            total[point] = total.get(point, 0.0) + amount
    return {point: round(amount, 2) for point, amount in total.items()}


def directions_of(explorer: Explorer) -> list[str]:
    return direction_order({p[2] for p in explorer.points})


def phases_of(explorer: Explorer, direction: str) -> list[str]:
    return phase_order({p[1] for p in explorer.points if p[2] == direction})


def years_of(explorer: Explorer, direction: str) -> list[str]:
    return sorted_years({p[0] for p in explorer.points if p[2] == direction})


def ratio(part: float | None, whole: float | None) -> float | None:
    return None if part is None or not whole else part / whole


def execution(amounts: dict[str, float]) -> float | None:
    planned = amounts.get("adjusted", amounts.get("approved"))
    return ratio(amounts.get("executed"), planned) if "executed" in amounts else None


@dataclass
class Frame:
    """What a direction of a page compares: its phases, years, latest and previous year."""

    direction: str
    phases: list[str]
    years: list[str]
    population: dict[str, int]

    @property
    def main(self) -> str:
        return self.phases[0]

    @property
    def latest(self) -> str:
        return self.years[-1]

    @property
    def previous(self) -> str | None:
        earlier = previous_year(self.latest)
        return earlier if earlier in self.years else None


def figures(frame: Frame, amounts: dict[Point, float]) -> dict[str, Any]:
    """A row's numbers: amount per year (main phase), change, per inhabitant, phases."""
    by_year = {y: amounts.get((y, frame.main, frame.direction)) for y in frame.years}
    latest = by_year[frame.latest]
    before = by_year.get(frame.previous) if frame.previous else None
    change = None if latest is None or before is None else round(latest - before, 2)
    people = frame.population.get(frame.latest)
    phases = {
        p: amounts[(frame.latest, p, frame.direction)]
        for p in frame.phases
        if (frame.latest, p, frame.direction) in amounts
    }
    return {
        "years": by_year,
        "amount": latest,
        "previous": before,
        "change": change,
        "change_pct": ratio(change, before) if before else None,
        "per_inhabitant": ratio(latest, people),
        "phases": phases,
        "rate": execution(phases),
    }


def child_rows(
    explorer: Explorer, frame: Frame, parts: dict[str, list[int]], nodes: dict[str, Node],
    total: float | None, here: str,
) -> list[dict[str, Any]]:  # fmt: skip
    """One row per child with figures, largest first in the latest year (then by code)."""
    rows = []
    for code, lines in parts.items():
        amounts = summed(explorer, lines)
        if not any(p[2] == frame.direction for p in amounts):
            continue
        node = nodes[code]
        row = figures(frame, amounts)
        row.update(
            code=code,
            label=node.name,
            includes=node.includes,
            title=f"{node.name} – {node.includes[0]}" if node.includes else node.name,
            anchor=anchor(node),
            href=relative(here, node.uri) if node.uri else "",
            share=ratio(row["amount"], total),
        )
        rows.append(row)
    return sorted(rows, key=lambda r: (-(r["amount"] or 0.0), r["code"]))


def anchor(node: Node) -> str:
    """The id of a node's row in its parent's table (unique on any page)."""
    return f"{node_slug(node.classification)}-{node_slug(node.code)}"


def relative(here: str, there: str) -> str:
    """A link from one generated page to another, relative to the page's folder URL."""
    import posixpath

    start = posixpath.dirname(here)
    target = posixpath.dirname(there) if there.endswith("index.md") else there
    path = posixpath.relpath(target, start)
    return path + "/" if there.endswith("index.md") else path


# --- what a page shows ---------------------------------------------------------------------


def frame_of(explorer: Explorer, direction: str) -> Frame:
    return Frame(
        direction,
        phases_of(explorer, direction),
        years_of(explorer, direction),
        explorer.config.population,
    )


def section(
    explorer: Explorer, direction: str, amounts: dict[Point, float],
    parts: dict[str, list[int]], nodes: dict[str, Node], here: str,
) -> dict[str, Any] | None:  # fmt: skip
    """One direction of a page: its total, its children and the largest of them."""
    if not any(p[2] == direction for p in amounts):
        return None
    frame = frame_of(explorer, direction)
    total = figures(frame, amounts)
    rows = child_rows(explorer, frame, parts, nodes, total["amount"], here)
    return {
        "direction": direction,
        "phase": frame.main,
        "phases": frame.phases,
        "years": frame.years,
        "latest": frame.latest,
        "previous": frame.previous,
        "total": total,
        "children": rows,
        "largest": rows[0] if rows and (rows[0]["amount"] or 0) > 0 else None,
        "per_inhabitant": bool(frame.population.get(frame.latest)),
    }


@dataclass(frozen=True)
class LineRow:
    """One line in one year and direction: how it sorts, what the page and the CSV show."""

    key: tuple[Any, ...]
    year: str
    direction: str
    phases: dict[str, float]
    codes: list[dict[str, str]]
    csv: str  # the CSV record (its phases in the package's phase order)


def line_rows(explorer: Explorer, lines: list[int]) -> list[LineRow]:
    """The lines' rows, each line's year and direction, newest year first, then largest."""
    return sorted((row for n in lines for row in explorer.rows[n]), key=lambda r: r.key)


def rows_of_line(explorer: Explorer, line: Line, phases: list[str]) -> list[LineRow]:
    cells = line_cells(explorer, line)
    text = csv_cells(explorer, cells)
    rows = []
    for year, direction in sorted({(p[0], p[2]) for p in line.amounts}):
        amounts = {p[1]: a for p, a in line.amounts.items() if p[0] == year and p[2] == direction}
        main = next(iter(phase_order(set(amounts))), "")
        newest = (0, -int(year), "") if year.isdigit() else (1, 0, year)
        key = (direction, newest, -(amounts.get(main) or 0.0), line.codes)
        record = [year, direction, *text, *(csv_amount(amounts.get(p)) for p in phases)]
        rows.append(LineRow(key, year, direction, amounts, cells, csv_line(record)))
    return rows


class Echo:
    """A file whose write hands the text back: a csv writer on it returns each record."""

    def write(self, text: str) -> str:
        return text


CSV_RECORD = csv.writer(Echo(), lineterminator="\n")


def csv_line(cells: list[str]) -> str:
    return str(CSV_RECORD.writerow(cells))


def line_cells(explorer: Explorer, line: Line) -> list[dict[str, str]]:
    return [
        {"code": code, "label": explorer.labels.get(name, {}).get(code, "")}
        for name, code in zip(explorer.fields, line.codes, strict=True)
    ]


def csv_cells(explorer: Explorer, cells: list[dict[str, str]]) -> list[str]:
    """Each field's code, then its label where the options name one; a text a spreadsheet
    would run as a formula gets a leading apostrophe."""
    found = []
    for name, item in zip(explorer.fields, cells, strict=True):
        found.append(neutralise(item["code"]))
        if name in explorer.config.labels:
            found.append(neutralise(item["label"]))
    return found


def csv_header(explorer: Explorer) -> str:
    header = [explorer.config.year, "direction"]
    for name in explorer.fields:
        header += [
            name,
            *([explorer.config.labels[name]] if name in explorer.config.labels else []),
        ]
    return csv_line([neutralise(h) for h in [*header, *phases_known(explorer)]])


def lines_csv(explorer: Explorer, rows: list[LineRow]) -> bytes:
    """Exactly the lines shown (every one): year, direction, each code and label, each phase."""
    return "".join([csv_header(explorer), *(row.csv for row in rows)]).encode("utf-8")


def csv_amount(value: float | None) -> str:
    """An amount as data (not for display): to the cent, no separators; empty when absent."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def field_titles(explorer: Explorer) -> list[str]:
    return [explorer.config.titles.get(name) or name for name in explorer.fields]


def phases_known(explorer: Explorer) -> list[str]:
    """Every phase of the package, in budget order."""
    return phase_order({p[1] for p in explorer.points})


# --- the pages -----------------------------------------------------------------------------


def home_uri(package: str) -> str:
    return explorer_home(package)


def crumbs(explorer: Explorer, node: Node, here: str) -> list[dict[str, str]]:
    """The node's parents, coarsest first (where lines sit under several parents, the one
    with the largest share of them, then the smallest code)."""
    found = [
        {"label": "", "href": relative(here, "budget/index.md")},
        {"label": explorer.package.title, "href": relative(here, home_uri(explorer.package.name))},
    ]
    levels = explorer.levels[node.classification]
    for depth in range(node.depth):
        parts = group(explorer, node.lines, levels[depth])
        code = min(parts, key=lambda c: (-len(parts[c]), c))
        parent = explorer.nodes[(node.classification, depth)][code]
        found.append({"label": parent.name, "code": parent.code,
                      "href": relative(here, parent.uri)})  # fmt: skip
    return found


def node_context(
    explorer: Explorer, node: Node, rows: list[LineRow] | None = None
) -> dict[str, Any]:
    """What a node's page shows: a section per direction, then the lines it sums."""
    parts = explorer.children_of(node)
    amounts = summed(explorer, node.lines)
    nodes = explorer.nodes[(node.classification, node.depth + 1)]
    levels = explorer.levels[node.classification]
    sections = [
        section(explorer, d, amounts, parts, nodes, node.uri) for d in directions_of(explorer)
    ]
    rows = rows if rows is not None else line_rows(explorer, node.lines)
    return {
        "node": node,
        "level": level_of(explorer.config, levels[node.depth]),
        "child_level": level_of(explorer.config, levels[node.depth + 1]),
        "classification": node.classification,
        "classification_title": classification_title(explorer.config, node.classification),
        "crumbs": crumbs(explorer, node, node.uri),
        "sections": [s for s in sections if s],
        "lines": rows[:SHOWN_LINES],
        "line_count": len(rows),
        "lines_csv": "lines.csv",
        "field_titles": field_titles(explorer),
        "line_phases": phases_known(explorer),
        "several_directions": len(directions_of(explorer)) > 1,
    }


def home_context(explorer: Explorer) -> dict[str, Any]:
    """Each classification's coarsest level, per direction, for the package's home."""
    here = home_uri(explorer.package.name)
    everything = list(range(len(explorer.lines)))
    amounts = summed(explorer, everything)
    parts = []
    for name, levels in explorer.levels.items():
        nodes = explorer.nodes[(name, 0)]
        children = group(explorer, everything, levels[0])
        sections = [section(explorer, d, amounts, children, nodes, here)
                    for d in directions_of(explorer)]  # fmt: skip
        parts.append({
            "name": name,
            "title": classification_title(explorer.config, name),
            "levels": [level_of(explorer.config, level) for level in levels],
            "sections": [s for s in sections if s],
        })  # fmt: skip
    totals = [section(explorer, d, amounts, {}, {}, here) for d in directions_of(explorer)]
    return {
        "parts": parts,
        "totals": [t for t in totals if t],
        "dataset": relative(here, f"datasets/{explorer.package.name}/index.md"),
    }


def common(explorer: Explorer) -> dict[str, Any]:
    return {
        "chart": rows_chart,
        "package": explorer.package,
        "currency": explorer.config.currency,
        "population_source": population_source(explorer.package),
    }


def population_source(package: Package) -> str:
    budget = (package.descriptor.get("civicgen") or {}).get("budget") or {}
    return str(budget.get("populationSource") or "") if isinstance(budget, dict) else ""


def explorers(inputs: SiteInputs) -> list[Explorer]:
    """Every budget package's explorer, computed once per build (other pages link to it)."""
    return inputs.once("budget explorers", partial(budget_explorers, inputs))


def budget_explorers(inputs: SiteInputs) -> list[Explorer]:
    found = [
        explorer_of(inputs, package)
        for name, package in sorted(inputs.packages.items())
        if package.profile == "budget"
    ]
    return [e for e in found if e is not None]


def node_link(inputs: SiteInputs, package: str, classification: str, code: str) -> str | None:
    """Where the explorer shows a node: its page (budget/…/index.md), or for a node of the
    finest level, its parent's page and the row's anchor (…/index.md#<id>); None when the
    package has no such node. For other pages to link to (e.g. a proposal's budget line)."""
    explorer = next((e for e in explorers(inputs) if e.package.name == package), None)
    if explorer is None:
        return None
    for depth in range(len(explorer.levels.get(classification, [])) - 1, -1, -1):
        node = explorer.nodes[(classification, depth)].get(code)
        if node is not None and node.uri:
            return node.uri
        if node is not None:
            return parent_uri(explorer, node) + "#" + anchor(node)
    return None


def parent_uri(explorer: Explorer, node: Node) -> str:
    """The page that lists node: its parent's (the one holding most of its lines), or the
    package's home for a node of the coarsest level."""
    if node.depth == 0:
        return home_uri(explorer.package.name)
    parts = group(explorer, node.lines, explorer.levels[node.classification][node.depth - 1])
    code = min(parts, key=lambda c: (-len(parts[c]), c))
    return explorer.nodes[(node.classification, node.depth - 1)][code].uri


def budget_pages(env: Any, inputs: SiteInputs) -> list[Any]:
    """budget/index.md, each budget package's home, its node pages and their lines CSVs."""
    from .enquiries import about_budget, about_node, budget_context, index_uri
    from .pages import Output, page

    found = explorers(inputs)
    homes = [home_context(e) for e in found]
    index = [
        {"package": e.package, "href": relative("budget/index.md", home_uri(e.package.name)),
         "currency": e.config.currency, "totals": home["totals"]}
        for e, home in zip(found, homes, strict=True)
    ]  # fmt: skip
    outputs = [
        page(
            env,
            "budget/index.md",
            ["budget-index.html"],
            None,
            packages=index,
            enquiries_index=index_uri(inputs),
        )
    ]
    for explorer, home in zip(found, homes, strict=True):
        edit = explorer.package.descriptor_path
        uri = home_uri(explorer.package.name)
        asked = budget_context(env, inputs, about_budget(inputs, explorer), uri)
        outputs.append(page(env, uri, ["budget-home.html"], edit,
                            **common(explorer), **home, **asked))  # fmt: skip
        for node in page_nodes(explorer):
            context, table = inputs.once(
                ("budget node", node.uri), partial(node_page, explorer, node)
            )
            asked = budget_context(env, inputs, about_node(inputs, explorer, node), node.uri)
            outputs.append(page(env, node.uri, ["budget-node.html"], edit,
                                **common(explorer), **context, **asked))  # fmt: skip
            csv_uri = node.uri.removesuffix("index.md") + "lines.csv"
            outputs.append(Output(csv_uri, table))
        explorer.forget_rows()
    return outputs


def node_page(explorer: Explorer, node: Node) -> tuple[dict[str, Any], bytes]:
    """What the node's page shows and its lines CSV (the same in every language): the
    figures and the first lines, not every line's row, are kept for the other languages."""
    every = explorer.rows_under(node)
    return node_context(explorer, node, every), lines_csv(explorer, every)


def page_nodes(explorer: Explorer) -> list[Node]:
    return [
        node for key in sorted(explorer.nodes) for node in explorer.nodes[key].values() if node.uri
    ]
