"""Turn validated packages and records into page Markdown and download files."""

from __future__ import annotations

import importlib
import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from ..model import Package, Record, Resource
from ..registry import profile_or_generic, registered
from ..scan.plan import Dialect
from ..scan.reference import csv_rows, decode
from ..stats.market import COLLECTIONS
from ..stats.publish import stats_files
from ..stats.tables import DerivedTable
from ..validation import TableScan, Validation
from . import budget_view
from .home import home_figures
from .inputs import SiteInputs
from .maps import WORLD_FILE, station_map, world_svg
from .market import compare_facts, gather_market, market_context, tool_market
from .published import Published

Derived = dict[str, list[DerivedTable]]


@dataclass(frozen=True)
class Output:
    """One generated file of the site: a page (Markdown) or a download (bytes)."""

    uri: str
    content: str | bytes
    edit_path: str | None = None


def render(env: Environment, names: list[str], **context: Any) -> str:
    """The most specific template first (e.g. dataset-<name>.html, then dataset.html)."""
    return env.select_template(names).render(**context)


def package_uri(package: Package) -> str:
    return f"datasets/{package.name}"


def published_path(package: Package, resource: Resource) -> str:
    """Where a resource's file lands in the site, beside the package's descriptor."""
    relative = posixpath.relpath(resource.path, package.folder or ".")
    return f"{package_uri(package)}/{relative}"


PREVIEW_CELL = 200  # characters of a cell shown in a preview; the download has them all


def shortened(cell: str) -> str:
    return cell if len(cell) <= PREVIEW_CELL else cell[: PREVIEW_CELL - 1] + "…"


def preview_rows(scanned: TableScan, published: Published, limit: int) -> list[list[str]]:
    """The first rows of a table as published (formulas neutralised, home stations protected)."""
    dialect = scanned.plan.dialect
    if scanned.is_collection:
        dialect = Dialect()
    text, problem = decode(published.data, dialect.encoding)
    rows: list[list[str]] = []
    if problem:
        return rows
    width = len(scanned.plan.fields)
    for number, row in csv_rows(text, dialect):
        if number not in dialect.header_rows and (len(row) == width or not scanned.is_collection):
            rows.append([shortened(cell) for cell in row])
        if len(rows) >= limit:
            break
    return rows


def publishable(package: Package) -> dict[str, Any]:
    """The descriptor as published: keys into other packages move to the resource's civicgen
    property, since Data Package v1 foreign keys stay inside one package; a table in several
    files is published joined, as one file."""
    published = json.loads(json.dumps(package.descriptor))
    joined = {r.name: r for r in package.resources if r.parts}
    for resource in published.get("resources") or []:
        if isinstance(resource, dict) and resource.get("name") in joined:
            resource["path"] = posixpath.relpath(
                joined[resource["name"]].path, package.folder or "."
            )
    sensor = (published.get("civicgen") or {}).get("sensor")
    if isinstance(sensor, dict):
        sensor.pop("pseudonymSalt", None)  # the key of the pseudonyms stays in the repository
    for resource in published.get("resources") or []:
        schema = resource.get("schema") or {}
        outside = [
            fk
            for fk in schema.get("foreignKeys") or []
            if (fk.get("reference") or {}).get("package")
        ]
        if outside:
            schema["foreignKeys"] = [fk for fk in schema["foreignKeys"] if fk not in outside]
            resource.setdefault("civicgen", {})["foreignKeys"] = outside
            if not schema["foreignKeys"]:
                del schema["foreignKeys"]
    return published


def stats_downloads(validation: Validation, derived: Derived) -> list[Output]:
    """Each package's derived tables, published as a data package under stats/."""
    packages = validation.packages
    return [
        Output(f"{package_uri(packages[name])}/stats/{file}", content)
        for name, tables in derived.items()
        if tables
        for file, content in stats_files(packages[name], tables).items()
    ]


def downloads(validation: Validation, published: dict[tuple[str, str], Published]) -> list[Output]:
    """Every package's descriptor and data files, collections written out as CSV."""
    outputs = []
    for package in validation.packages.values():
        text = json.dumps(publishable(package), indent=2, ensure_ascii=False) + "\n"
        outputs.append(Output(f"{package_uri(package)}/datapackage.json", text.encode()))
    for key, scanned in validation.tables.items():
        path = published_path(scanned.package, scanned.resource)
        outputs.append(Output(path, published[key].data))
    return outputs


def page(
    env: Environment, uri: str, templates: list[str], edit_path: str | None, **context: Any
) -> Output:
    linker = Linker(uri, bool(env.globals.get("directory_urls", True)))
    return Output(uri, render(env, templates, link=linker, **context), edit_path)


def site_url(uri: str, directory_urls: bool = True) -> str:
    """Where MkDocs publishes a page file: a/b.md at a/b/ (a/b.html without directory URLs),
    a/index.md at a/."""
    stem = posixpath.splitext(uri)[0]
    if posixpath.basename(stem) == "index":
        folder = posixpath.dirname(stem)
        return (f"{folder}/" if folder else "") if directory_urls else f"{stem}.html"
    return f"{stem}/" if directory_urls else f"{stem}.html"


@dataclass(frozen=True)
class Linker:
    """Links from one generated page to another, as MkDocs will publish both: a relative
    URL, since links in a page's HTML are not rewritten by MkDocs as Markdown links are."""

    uri: str
    directory_urls: bool = True

    def __call__(self, target: str) -> str:
        target, hash_, fragment = target.partition("#")
        return self.relative(target) + hash_ + fragment

    def file(self, target: str) -> str:
        """A relative URL to a file of the site that is not a page (an image, a download)."""
        here = site_url(self.uri, self.directory_urls)
        base = here if here.endswith("/") or not here else posixpath.dirname(here)
        return posixpath.relpath(target, base or ".")

    def relative(self, target: str) -> str:
        here = site_url(self.uri, self.directory_urls)
        there = site_url(target, self.directory_urls)
        base = here if here.endswith("/") or not here else posixpath.dirname(here)
        relative = posixpath.relpath(there or ".", base or ".")
        slash = there.endswith("/") or not there
        return relative + "/" if slash and relative != "." else ("./" if slash else relative)


def dataset_pages(env: Environment, inputs: SiteInputs, limit: int) -> list[Output]:
    packages: dict[str, list[TableScan]] = {}
    for scanned in inputs.validation.tables.values():
        packages.setdefault(scanned.package.name, []).append(scanned)
    outputs = [
        page(
            env,
            "datasets/index.md",
            ["datasets.html"],
            None,
            packages=[tables[0].package for tables in packages.values()],
            tables=packages,
        )
    ]
    for name, tables in packages.items():
        package = tables[0].package
        shown = {t.resource.name: inputs.published[(name, t.resource.name)] for t in tables}
        previews = {t.resource.name: preview_rows(t, shown[t.resource.name], limit) for t in tables}
        outputs.append(
            page(
                env,
                f"datasets/{name}/index.md",
                [f"dataset-{name}.html", "dataset.html"],
                package.descriptor_path,
                package=package,
                tables=tables,
                stats={t.name: t for t in inputs.derived.get(name, [])},
                stats_template=profile_or_generic(package.profile).template,
                history=inputs.histories.get(name, []),
                station_map=station_map(inputs.stations.get(name, [])),
                previews=previews,
                profiles={
                    t.resource.name: inputs.profiles.get((name, t.resource.name)) for t in tables
                },
                neutralised={r: p.neutralised for r, p in shown.items() if p.neutralised},
                home_grid=home_grid_of(inputs, name),
                files={
                    t.resource.name: posixpath.relpath(
                        published_path(package, t.resource), package_uri(package)
                    )
                    for t in tables
                },
            )
        )
    return outputs


def collection_of(validation: Validation, profile: str) -> TableScan | None:
    """The first record collection of a package with this profile (it may have no records),
    leaving out the tool catalog's collections about its tools (deployments, reviews…)."""
    return next(
        (
            scanned
            for scanned in validation.tables.values()
            if scanned.package.profile == profile
            and scanned.resource.records is not None
            and scanned.resource.name not in COLLECTIONS
        ),
        None,
    )


def funding_labels(stats: dict[str, Any]) -> dict[str, str]:
    """The label of each budget line a proposal is funded from, as the statistics found it."""
    funding = stats.get("funding")
    rows = funding.records() if funding else []
    return {str(r["budget_program"]): str(r["program_label"] or "") for r in rows}


def record_page(
    env: Environment, section: str, kind: str, record: Record, **context: Any
) -> Output:
    """One record's page, e.g. proposals/<id>.md from proposal-<id>.html or proposal.html."""
    key = record.values["id"]
    templates = [f"{kind}-{key}.html", f"{kind}.html"]
    return page(env, f"{section}/{key}.md", templates, record.path, record=record, **context)


# --- the proposals tracker -----------------------------------------------------------------

STOP = re.compile(r"^(not|un|non|rejected|withdrawn|cancel|discarded|declined|refused)", re.I)


def enum_of(resource: Resource, name: str) -> list[str]:
    """The values a field's enum constraint allows, in the schema's order."""
    for field in resource.fields:
        if field.get("name") == name:
            allowed = (field.get("constraints") or {}).get("enum") or []
            return [str(v) for v in allowed] if isinstance(allowed, list) else []
    return []


def status_steps(stages: list[str], status: str) -> list[dict[str, str]]:
    """The path a record's status goes along (the enum's order, without the outcomes that end
    it, like not-selected or unfeasible), each step done, current or to come; a record that
    ended early shows where it stopped."""
    stopped = bool(STOP.match(status)) and status in stages
    cut = stages.index(status) if status in stages else -1
    path = [s for s in stages if not STOP.match(s)]
    if stopped:
        path = [s for s in stages[:cut] if not STOP.match(s)] + [status]
    here = path.index(status) if status in path else -1
    return [
        {"value": s, "state": "current" if i == here else "done" if i < here else "next"}
        for i, s in enumerate(path)
    ] + ([{"value": s, "state": "skipped"} for s in stages[cut + 1 :] if not STOP.match(s)]
         if stopped else [])  # fmt: skip


def explorer_uri(package: str, classification: str, code: str) -> str:
    """The budget explorer's node page: budget_view.explorer_uri where the budget explorer
    provides it, else the same contract written here."""
    provided = getattr(budget_view, "explorer_uri", None)
    if callable(provided):
        return str(provided(package, classification, code))
    return f"budget/{package}/{classification}/{code}/index.md"


def budget_link(inputs: SiteInputs, package: str, classification: str, code: str) -> str | None:
    """Where the budget explorer shows a budget line: budget_explorer.node_link where the
    explorer provides it (a finest-level line is a row of its parent's page; None: no such
    line), else the node page of the contract."""
    try:
        explorer = importlib.import_module(".budget_explorer", __package__)
    except ImportError:
        return explorer_uri(package, classification, code)
    node_link = getattr(explorer, "node_link", None)
    if not callable(node_link):
        return explorer_uri(package, classification, code)
    found = node_link(inputs, package, classification, code)
    return str(found) if found else None


def funding_key(inputs: SiteInputs, resource: Resource) -> tuple[str, str, str] | None:
    """(field, budget package, classification) of the collection's key into a budget."""
    for fk in resource.schema.get("foreignKeys") or []:
        reference = fk.get("reference") or {}
        target = inputs.packages.get(str(reference.get("package")))
        options = getattr(target, "options", None)
        fields, names = fk.get("fields"), reference.get("fields")
        own = fields if isinstance(fields, str) else (fields or [""])[0]
        into = names if isinstance(names, str) else (names or [""])[0]
        levels = getattr(options, "levels", ()) or ()
        found = next((lv.classification for lv in levels if lv.field == into), None)
        if target is not None and found:
            return str(own), target.name, found
    return None


def funding_of(inputs: SiteInputs, scanned: TableScan, stats: dict[str, Any]) -> dict[str, Any]:
    """Per record id: the budget line it is funded from, its explorer link and figures."""
    key = funding_key(inputs, scanned.resource)
    rows = {str(r["id"]): r for r in stats["funding"].records()} if "funding" in stats else {}
    found: dict[str, Any] = {}
    for record in scanned.records:
        code = record.values.get(key[0]) if key else None
        if key and code not in (None, ""):
            row = rows.get(str(record.values["id"])) or {}
            found[str(record.values["id"])] = {
                "code": str(code),
                "uri": budget_link(inputs, key[1], key[2], str(code)),
                "label": row.get("program_label") or "",
                "approved": row.get("program_approved"),
                "executed": row.get("program_executed"),
            }
    return found


def filter_options(records: list[Record], name: str, order: list[str] | None = None) -> list[str]:
    """The values of a field the records have (a list field's items too), for a filter."""
    seen: set[str] = set()
    for record in records:
        value = record.values.get(name)
        seen.update(str(v) for v in (value if isinstance(value, list) else [value]) if v)
    known = [v for v in order or [] if v in seen]
    return known + sorted(seen - set(known), key=str.lower)


def proposal_pages(env: Environment, inputs: SiteInputs) -> list[Output]:
    scanned = collection_of(inputs.validation, "proposals")
    if scanned is None:
        return []
    records = sorted(scanned.records, key=lambda r: (-(r.values.get("votes") or 0), r.path))
    stats = package_stats(inputs, "proposals")
    summary = stats.get("summary")
    stages = enum_of(scanned.resource, "status")
    context = {
        "stats": stats,
        "currency": summary.unit_of("estimated_cost") if summary else "",
        "labels": funding_labels(stats),
        "stages": stages,
        "path": [s for s in stages if not STOP.match(s)],
        "stops": [s for s in stages if STOP.match(s)],
        "package": scanned.package,
        "funding": funding_of(inputs, scanned, stats),
        "steps": {
            str(r.values["id"]): status_steps(stages, str(r.values.get("status"))) for r in records
        },
    }
    options = {
        "status": filter_options(records, "status", stages),
        "district": filter_options(records, "district", enum_of(scanned.resource, "district")),
        "category": filter_options(records, "category", enum_of(scanned.resource, "category")),
    }
    timelines = inputs.statuses.get(scanned.package.name, {})
    outputs = [
        page(
            env,
            "proposals/index.md",
            ["proposals.html"],
            None,
            records=records,
            options=options,
            **context,
        )
    ]
    return outputs + [
        record_page(env, "proposals", "proposal", r, timeline=timelines.get(r.path, []), **context)
        for r in records
    ]


# --- the tool catalog ------------------------------------------------------------------------

SPDX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")
SPDX_OPERATORS = ("AND", "OR", "WITH")


def licence_parts(expression: str) -> list[dict[str, Any]]:
    """An SPDX expression's licences: the id, its family (without -only/-or-later/+), whether
    later versions are allowed, and the address of its text on the SPDX list (a valid id)."""
    parts: list[dict[str, Any]] = []
    for token in expression.replace("(", " ").replace(")", " ").split():
        if token.upper() in SPDX_OPERATORS:
            parts.append({"operator": token.upper()})
            continue
        later = token.endswith(("-or-later", "+"))
        base = re.sub(r"(-only|-or-later|\+)$", "", token)
        valid = bool(SPDX_ID.match(token))
        parts.append({
            "id": token, "base": base, "later": later,
            "url": f"https://spdx.org/licenses/{token.rstrip('+')}.html" if valid else "",
        })  # fmt: skip
    return parts


def slug(value: str) -> str:
    """A category's file name: lowercase letters, digits and hyphens."""
    text = "".join(c if c.isalnum() else "-" for c in value.lower())
    return "-".join(part for part in text.split("-") if part) or "category"


def category_slugs(categories: list[str]) -> dict[str, str]:
    """A distinct file name per category (a number added where two would clash)."""
    slugs: dict[str, str] = {}
    for category in categories:
        name, n = slug(category), 1
        while name in slugs.values():
            n += 1
            name = f"{slug(category)}-{n}"
        slugs[category] = name
    return slugs


def tool_pages(env: Environment, inputs: SiteInputs) -> list[Output]:
    scanned = collection_of(inputs.validation, "catalog")
    if scanned is None:
        return []
    records = sorted(scanned.records, key=lambda r: str(r.values.get("name", "")).lower())
    stats = package_stats(inputs, "catalog")
    tables = [t for t in inputs.validation.tables.values() if t.package is scanned.package]
    market = gather_market(tables, stats)
    ids = [str(r.values["id"]) for r in records]
    rows = stats["licences"].records() if "licences" in stats else []
    osi = {row["id"]: row["osi_approved"] for row in rows}
    options = {
        "categories": filter_options(records, "categories"),
        "licence": filter_options(records, "licence"),
        "languages": filter_options(records, "languages"),
        "development_status": filter_options(
            records, "development_status", enum_of(scanned.resource, "development_status")
        ),
    }
    context = {
        "stats": stats,
        "options": options,
        "slugs": category_slugs(options["categories"]),
        "licences": {v: licence_parts(v) for v in options["licence"]},
        "licence_osi": {row["licence"]: row["osi_approved"] for row in rows},
        "category_counts": {
            c: sum(c in (r.values.get("categories") or []) for r in records)
            for c in options["categories"]
        },
        **market_context(market, ids),
    }
    outputs = [page(env, "tools/index.md", ["tools.html"], None, records=records, **context)]
    if market.present:
        facts = {tool: compare_facts(market, tool) for tool in ids}
        outputs += [
            page(env, "tools/compare.md", ["tools-compare.html"], None, records=records,
                 facts=facts, **context),
            Output(WORLD_FILE, world_svg()),
        ]  # fmt: skip
    outputs += [
        page(
            env, f"tools/category/{context['slugs'][category]}.md", ["tool-category.html"], None,
            category=category,
            records=[r for r in records if category in (r.values.get("categories") or [])],
            **context,
        )
        for category in options["categories"]
    ]  # fmt: skip
    return outputs + [
        record_page(
            env, "tools", "tool", r, osi_approved=osi.get(r.values["id"]),
            market=tool_market(market, str(r.values["id"])), **context,
        )
        for r in records
    ]  # fmt: skip


# --- the home page ---------------------------------------------------------------------------

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n.*?\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
SECOND_HEADING = re.compile(r"^## ", re.M)


def split_intro(text: str) -> tuple[str, str, str]:
    """The city's home page Markdown as (front matter, text before its first second-level
    heading, the rest): the figures go between the two."""
    found = FRONT_MATTER.match(text)
    front = found.group(0) if found else ""
    body = text[len(front) :]
    heading = SECOND_HEADING.search(body)
    cut = heading.start() if heading else len(body)
    return front.strip(), body[:cut].strip(), body[cut:].strip()


def sections(inputs: SiteInputs, known: set[str]) -> list[dict[str, str]]:
    """The way into each section the portal has: budget and air-quality explorers where
    generated (else the dataset's page), proposals, tools, and every dataset."""
    found = []
    for name, package in sorted(inputs.packages.items()):
        home = {"budget": f"budget/{name}/index.md", "sensor": f"air/{name}/index.md"}
        if package.profile in home:
            uri = home[package.profile]
            target = uri if uri in known else f"datasets/{name}/index.md"
            found.append(
                {"kind": package.profile, "uri": target, "title": package.title, "key": name}
            )
    for kind, uri in (("proposals", "proposals/index.md"), ("catalog", "tools/index.md")):
        if uri in known:
            found.append({"kind": kind, "uri": uri, "title": "", "key": kind})
    return [*found, {"kind": "datasets", "uri": "datasets/index.md", "title": "", "key": ""}]


def home_page(
    env: Environment, inputs: SiteInputs, known: set[str], intro: str | None = None
) -> Output:
    """index.md: the city's own introduction, the headline figures, what changed recently
    and the way into each section (a box only for the data the city has)."""
    front, head, rest = split_intro(intro or "")
    links = sections(inputs, known)
    return page(
        env,
        "index.md",
        ["home.html"],
        None,
        front=Markup(front),
        head=Markup(head),
        rest=Markup(rest),
        figures=home_figures(inputs),
        sections=links,
        section_of={s["key"]: s["uri"] for s in links},
    )


def profile_pages(env: Environment, inputs: SiteInputs) -> list[Output]:
    """The pages of each profile that has its own (proposals, tools, a city's own)."""
    used = {package.profile for package in inputs.packages.values()}
    return [
        output
        for name, profile in sorted(registered().items())
        if profile.pages is not None and name in used
        for output in profile.pages(env, inputs)
    ]


def home_grid_of(inputs: SiteInputs, name: str) -> str | None:
    """The grid home stations are shown on, when the package has any."""
    homes = inputs.homes.get(name)
    return str(homes.grid) if homes else None


def package_stats(inputs: SiteInputs, profile: str) -> dict[str, Any]:
    """The derived tables of the first package with this profile, by table name."""
    for name, package in inputs.packages.items():
        if package.profile == profile:
            return {t.name: t for t in inputs.derived.get(name, [])}
    return {}
