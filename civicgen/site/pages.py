"""Turn validated packages and records into page Markdown and download files."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from ..model import Package, Record, Resource
from ..registry import profile_or_generic, registered
from ..scan.plan import Dialect
from ..scan.reference import csv_rows, decode
from ..stats.publish import stats_files
from ..stats.tables import DerivedTable
from ..validation import TableScan, Validation
from .inputs import SiteInputs
from .maps import station_map
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


def publishable(descriptor: dict[str, Any]) -> dict[str, Any]:
    """The descriptor as published: keys into other packages move to the resource's civicgen
    property, since Data Package v1 foreign keys stay inside one package."""
    published = json.loads(json.dumps(descriptor))
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
        text = json.dumps(publishable(package.descriptor), indent=2, ensure_ascii=False) + "\n"
        outputs.append(Output(f"{package_uri(package)}/datapackage.json", text.encode()))
    for key, scanned in validation.tables.items():
        path = published_path(scanned.package, scanned.resource)
        outputs.append(Output(path, published[key].data))
    return outputs


def page(
    env: Environment, uri: str, templates: list[str], edit_path: str | None, **context: Any
) -> Output:
    return Output(uri, render(env, templates, **context), edit_path)


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
    """The first record collection of a package with this profile (it may have no records)."""
    return next(
        (
            scanned
            for scanned in validation.tables.values()
            if scanned.package.profile == profile and scanned.resource.records is not None
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


def proposal_pages(env: Environment, inputs: SiteInputs) -> list[Output]:
    scanned = collection_of(inputs.validation, "proposals")
    if scanned is None:
        return []
    records = sorted(scanned.records, key=lambda r: (-(r.values.get("votes") or 0), r.path))
    stats = package_stats(inputs, "proposals")
    labels = funding_labels(stats)
    summary = stats.get("summary")
    currency = summary.unit_of("estimated_cost") if summary else ""
    context = {"stats": stats, "currency": currency}
    outputs = [
        page(env, "proposals/index.md", ["proposals.html"], None, records=records, **context)
    ]
    return outputs + [
        record_page(env, "proposals", "proposal", r, labels=labels, currency=currency)
        for r in records
    ]


def tool_pages(env: Environment, inputs: SiteInputs) -> list[Output]:
    scanned = collection_of(inputs.validation, "catalog")
    if scanned is None:
        return []
    records = sorted(scanned.records, key=lambda r: str(r.values.get("name", "")).lower())
    stats = package_stats(inputs, "catalog")
    osi = {row["id"]: row["osi_approved"] for row in stats["licences"].records()} if stats else {}
    outputs = [page(env, "tools/index.md", ["tools.html"], None, records=records, stats=stats)]
    return outputs + [
        record_page(env, "tools", "tool", r, osi_approved=osi.get(r.values["id"])) for r in records
    ]


def render_site(env: Environment, inputs: SiteInputs, preview_limit: int = 10) -> list[Output]:
    """Every generated page and download of the portal, from what was gathered."""
    return [
        *dataset_pages(env, inputs, preview_limit),
        *profile_pages(env, inputs),
        *downloads(inputs.validation, inputs.published),
        *stats_downloads(inputs.validation, inputs.derived),
    ]


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
