"""Questions to the council about the budget, where the budget explorer shows their lines.

What an enquiry is about comes from its collection's foreign keys into a budget package:
each key whose referenced fields are the budget's year and code fields (for example
year + program into the budget lines table) says which lines it asks about. An enquiry
is shown on the page of every classification node that holds all of those lines, and on
the questions page (enquiries/index.md), by status and by department: the node of the
administrative classification (else the budget's first) that holds all of its lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import quote

from jinja2 import Environment

from ..enquiries import DONE, OPEN, Enquiry, enquiries_of, median_days
from ..model import Resource
from ..stats.budget import line_fields
from ..validation import TableScan
from .budget_explorer import Explorer, Node, anchor, explorers, parent_uri
from .budget_view import explorer_home
from .inputs import SiteInputs
from .pages import Output, page, site_url

INDEX = "enquiries/index.md"
SHOWN = 10  # enquiries listed on a budget page (the questions page lists them all)
DEPARTMENT = "administrative"  # FDP's classification of who spends


@dataclass(frozen=True)
class BudgetKey:
    """A foreign key of the enquiries into a budget: own field -> the budget's field."""

    package: str
    fields: dict[str, str]


@dataclass
class Subject:
    """One budget field an enquiry names: its title, code and label, and where it is shown."""

    title: str
    code: str
    label: str
    uri: str | None


@dataclass
class View:
    """An enquiry as a page shows it, with what it is about in one budget."""

    enquiry: Enquiry
    package: str  # the enquiries package
    budget: str = ""  # the budget package it is about ("" : none found)
    year: str = ""
    subjects: list[Subject] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    nodes: set[tuple[str, int, str]] = field(default_factory=set)  # every node holding all
    department: Node | None = None
    department_uri: str | None = None

    @property
    def anchor(self) -> str:
        return "enquiry-" + "-".join(re.findall(r"[A-Za-z0-9_]+", self.enquiry.id))


# --- what each enquiry is about ------------------------------------------------------------


def budget_keys(inputs: SiteInputs, resource: Resource) -> list[BudgetKey]:
    """The resource's foreign keys into a budget package's year and code fields."""
    found = []
    for fk in resource.schema.get("foreignKeys") or []:
        reference = fk.get("reference") or {}
        target = inputs.packages.get(str(reference.get("package") or ""))
        config = getattr(target, "options", None)
        if target is None or target.profile != "budget" or config is None:
            continue
        own, theirs = names(fk.get("fields")), names(reference.get("fields"))
        known = {config.year, *line_fields(config)}
        pairs = dict(zip(own, theirs, strict=False))
        if len(own) == len(theirs) and set(theirs) <= known and set(theirs) - {config.year}:
            found.append(BudgetKey(target.name, pairs))
    return found


def names(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def wanted(view: View, keys: list[BudgetKey], explorer: Explorer) -> dict[str, str]:
    """The budget field -> value pairs the enquiry gives for this budget (its year too)."""
    found: dict[str, str] = {}
    for key in keys:
        if key.package != explorer.package.name:
            continue
        for own, theirs in key.fields.items():
            value = view.enquiry.values.get(own)
            if value not in (None, ""):
                found[theirs] = str(value)
    return found


def locate(view: View, explorer: Explorer, given: dict[str, str]) -> None:
    """The lines the enquiry names, the nodes holding them all, its department and subjects."""
    year = given.pop(explorer.config.year, "")
    codes = {explorer.fields.index(f): v for f, v in given.items() if f in explorer.fields}
    view.budget, view.year = explorer.package.name, year
    view.lines = [
        n
        for n, line in enumerate(explorer.lines)
        if all(line.codes[i] == v for i, v in codes.items())
        and (not year or any(p[0] == year for p in line.amounts))
    ]
    view.nodes = holding(explorer, view.lines)
    view.subjects = [subject(explorer, f, v) for f, v in given.items()]
    view.department = department(explorer, view.nodes)
    if view.department is not None:
        view.department_uri = shown_at(explorer, view.department)


def shown_at(explorer: Explorer, node: Node) -> str:
    """Where the explorer shows a node: its page, else its row on its parent's page."""
    return node.uri or f"{parent_uri(explorer, node)}#{anchor(node)}"


def holding(explorer: Explorer, lines: list[int]) -> set[tuple[str, int, str]]:
    """(classification, depth, code) of every node that holds all the lines."""
    found = set()
    for name, levels in explorer.levels.items() if lines else ():
        for depth, level in enumerate(levels):
            codes = {explorer.code_at(explorer.lines[n], level) for n in lines}
            if len(codes) == 1:
                found.add((name, depth, codes.pop()))
    return found


def subject(explorer: Explorer, name: str, code: str) -> Subject:
    """A field the enquiry names, linked to its node (the level of the whole field)."""
    node = next(
        (
            explorer.nodes[(classification, depth)].get(code)
            for classification, levels in explorer.levels.items()
            for depth, level in enumerate(levels)
            if level.field == name and not level.prefix
        ),
        None,
    )
    return Subject(
        explorer.config.titles.get(name) or name,
        code,
        explorer.labels.get(name, {}).get(code, ""),
        shown_at(explorer, node) if node is not None else None,
    )


def department_classification(explorer: Explorer) -> str:
    """The classification of who spends: the one named or typed administrative in the
    package (an FDP mapping's classificationType, a field's columnType), else the first."""
    if DEPARTMENT in explorer.levels:
        return DEPARTMENT
    dimensions = (explorer.package.descriptor.get("mapping") or {}).get("dimensions") or {}
    for name, dimension in dimensions.items() if isinstance(dimensions, dict) else ():
        typed = isinstance(dimension, dict) and dimension.get("classificationType") == DEPARTMENT
        if typed and name in explorer.levels:
            return str(name)
    for name, levels in explorer.levels.items():
        fields = [f for r in explorer.package.resources for f in r.fields
                  if f.get("name") in {lv.field for lv in levels}]  # fmt: skip
        if any(str(f.get("columnType", "")).startswith(DEPARTMENT) for f in fields):
            return name
    return next(iter(explorer.levels), "")


def department(explorer: Explorer, nodes: set[tuple[str, int, str]]) -> Node | None:
    """The finest node of the department classification holding all the lines."""
    name = department_classification(explorer)
    depths = [(d, code) for c, d, code in nodes if c == name]
    if not depths:
        return None
    depth, code = max(depths)
    return explorer.nodes[(name, depth)][code]


def collections(inputs: SiteInputs) -> list[TableScan]:
    """Every enquiries collection of the portal."""
    return [
        s
        for _, s in sorted(inputs.validation.tables.items())
        if s.package.profile == "enquiries" and s.is_collection
    ]


def views(inputs: SiteInputs) -> list[View]:
    """Every enquiry of the portal, located in the budget it is about (computed once a build)."""
    return inputs.once("enquiry views", partial(located_views, inputs))


def located_views(inputs: SiteInputs) -> list[View]:
    found = []
    budgets = explorers(inputs)
    for scanned in collections(inputs):
        keys = budget_keys(inputs, scanned.resource)
        for enquiry in enquiries_of(scanned.records):
            view = View(enquiry, scanned.package.name)
            for explorer in budgets:
                given = wanted(view, keys, explorer)
                if given:
                    locate(view, explorer, given)
                    break
            found.append(view)
    return found


def about_node(inputs: SiteInputs, explorer: Explorer, node: Node) -> list[View]:
    """The enquiries about lines that node holds, newest first."""
    key = (node.classification, node.depth, node.code)
    return [v for v in views(inputs) if v.budget == explorer.package.name and key in v.nodes]


def about_budget(inputs: SiteInputs, explorer: Explorer) -> list[View]:
    return [v for v in views(inputs) if v.budget == explorer.package.name]


# --- the pages -----------------------------------------------------------------------------


def canonical(env: Environment, uri: str) -> str:
    """The page's public address (site_url + its path); "" without an http(s) site_url."""
    base = str(env.globals.get("site_url") or "")
    if not base.lower().startswith(("https://", "http://")):
        return ""
    path = site_url(uri, bool(env.globals.get("directory_urls", True)))
    return base.rstrip("/") + "/" + quote(path)


def figures(found: list[View]) -> dict[str, Any]:
    """How many are open and answered, and the median days to an answer."""
    return {
        "total": len(found),
        "open": sum(v.enquiry.status == OPEN for v in found),
        "answered": sum(v.enquiry.status == DONE for v in found),
        "median_days": median_days([v.enquiry for v in found]),
    }


def index_uri(inputs: SiteInputs) -> str:
    """The questions page, when the portal has an enquiries collection ("" otherwise)."""
    return INDEX if collections(inputs) else ""


def budget_context(
    env: Environment, inputs: SiteInputs, found: list[View], uri: str
) -> dict[str, Any]:
    """What a budget page adds: its enquiries (the newest SHOWN), their figures, its address."""
    return {
        "enquiries": found[:SHOWN],
        "enquiry_figures": figures(found),
        "enquiries_index": index_uri(inputs),
        "canonical": canonical(env, uri),
    }


def by_department(found: list[View]) -> list[dict[str, Any]]:
    """Enquiries grouped by department (those with none last), each group's figures."""
    groups: dict[tuple[int, str, str], list[View]] = {}
    for view in found:
        node = view.department
        key = (0, node.code, node.classification) if node else (1, "", "")
        groups.setdefault(key, []).append(view)
    return [
        {"node": views_[0].department, "uri": views_[0].department_uri, "views": views_,
         **figures(views_)}
        for _, views_ in sorted(groups.items())
    ]  # fmt: skip


def enquiry_pages(env: Environment, inputs: SiteInputs) -> list[Output]:
    """enquiries/index.md: every question, by status and by department."""
    if not index_uri(inputs):
        return []
    found = views(inputs)
    packages = [s.package for s in collections(inputs)]
    return [
        page(
            env, INDEX, ["enquiries.html"], None,
            views=found,
            open=[v for v in found if v.enquiry.status == OPEN],
            answered=[v for v in found if v.enquiry.status == DONE],
            departments=by_department(found),
            figures=figures(found),
            packages=packages,
            budgets=[{"package": e.package, "uri": explorer_home(e.package)}
                     for e in explorers(inputs)],
            canonical=canonical(env, INDEX),
        )
    ]  # fmt: skip
