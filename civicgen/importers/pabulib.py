"""pabulib .pb files (participatory-budgeting outcomes) -> a proposals collection.

A .pb file has three sections, META, PROJECTS and VOTES, each introduced by its name on
a line of its own and written as ``;``-separated rows under a header line (META's
``key;value`` header may be left out). Each project becomes records/pb-<project_id>.md.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import (
    CivicError,
    ConstraintError,
    ExtraCellError,
    ForeignKeyError,
    FormatError,
    MissingCellError,
    MissingLabelError,
    PrimaryKeyError,
    TypeError_,
    preview,
)
from . import (
    ImportProblem,
    ImportResult,
    csv_resource,
    lines_of,
    prepare_output,
    read_text,
    schema_field,
    slugify,
    split_cells,
    write_files,
)

SECTIONS = ("META", "PROJECTS", "VOTES")
REQUIRED = {"META": (), "PROJECTS": ("project_id", "cost"), "VOTES": ("voter_id", "vote")}
NUMBER = re.compile(r"\d+(?:\.\d+)?")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")
YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
SELECTED = {"1": "selected", "0": "not-selected"}
STATUSES = ["submitted", "feasible", "unfeasible", "selected", "not-selected"]
STATUSES += ["in-progress", "completed"]
TITLE_MIN, TITLE_MAX = 5, 120

Cells = list[tuple[int, str]]


@dataclass
class Section:
    """One section: the line of its name, its header and its rows (0-based line, cells)."""

    name: str
    line: int
    header: Cells = field(default_factory=list)
    header_line: int | None = None
    rows: list[tuple[int, Cells]] = field(default_factory=list)

    def columns(self) -> list[str]:
        return [cell.strip() for _, cell in self.header]


@dataclass
class Project:
    project_id: str
    line: int
    values: dict[str, str]


def import_file(path: Path, out: Path, *, overwrite: bool = False) -> ImportResult:
    """Import a pabulib .pb file as a proposals collection (datapackage.json + records/*.md)."""
    prepare_output(out, overwrite)
    shown = path.as_posix()
    sections, errors = split_sections(lines_of(read_text(path)), shown)
    if errors:
        raise ImportProblem(errors)
    meta = read_meta(sections["META"], shown, errors)
    projects = read_projects(sections["PROJECTS"], shown, errors)
    counts = count_votes(sections["VOTES"], projects, shown, errors)
    year = budget_year(meta, sections["META"], shown, errors)
    if errors:
        raise ImportProblem(errors)
    if "votes" in sections["PROJECTS"].columns():
        counts = {p.project_id: int(p.values["votes"]) for p in projects if p.values.get("votes")}
    records, warnings = build_records(projects, counts, meta, year, path, shown)
    files = {f"records/{key}.md": record_text(front, body) for key, front, body in records}
    files["datapackage.json"] = package_json(path, meta, [front for _, front, _ in records])
    warnings += stale_records(out, files, shown)
    return ImportResult(write_files(out, files), warnings)


# --- sections ---------------------------------------------------------------------------


def split_sections(lines: list[str], path: str) -> tuple[dict[str, Section], list[CivicError]]:
    """The three sections with their header and rows; errors for lines outside them."""
    sections: dict[str, Section] = {}
    errors: list[CivicError] = []
    current: Section | None = None
    for number, line in enumerate(lines):
        name = line.strip()
        if not name:
            continue
        if name in SECTIONS:
            current = open_section(name, number, sections, path, errors)
        elif current is None:
            note = 'this line comes before the first section; the file must start with "META"'
            errors.append(FormatError(note=note, path=path, line=number, column=0))
            current = Section("", number)  # swallow the rest of the stray lines
        elif is_header(current, name):
            current.header, current.header_line = split_cells(line, ";"), number
        else:
            current.rows.append((number, cells_of(line)))
    errors.extend(missing_sections(sections, lines, path))
    errors.extend(e for s in sections.values() for e in header_errors(s, path))
    return sections, errors


def cells_of(line: str) -> Cells:
    """The cells of a row, HTML entities decoded (Amsterdam's files write & as &amp;).

    The ";" that ends an entity (&amp; &#233;) does not separate cells: pabulib exports
    leave such cells unquoted."""
    protected = ENTITY.sub(lambda m: m.group(0)[:-1] + "\x00", line)
    return [
        (start, html.unescape(text.replace("\x00", ";")))
        for start, text in split_cells(protected, ";")
    ]


def is_header(section: Section, text: str) -> bool:
    """The first line of a section is its header; META's (key;value) may be left out."""
    if section.header_line is not None:
        return False
    return section.name != "META" or text.lower().replace(" ", "") == "key;value"


def open_section(
    name: str, number: int, sections: dict[str, Section], path: str, errors: list[CivicError]
) -> Section:
    if name in sections:
        note = f"a second {name} section starts here; merge it into the one on line "
        note += f"{sections[name].line + 1}"
        errors.append(FormatError(note=note, path=path, line=number, column=0))
    sections[name] = Section(name, number)
    return sections[name]


def missing_sections(sections: dict[str, Section], lines: list[str], path: str) -> list[CivicError]:
    """Each absent section, placed where it should start (before the next one, or at the end)."""
    errors: list[CivicError] = []
    for index, name in enumerate(SECTIONS):
        if name in sections:
            continue
        later = [sections[n].line for n in SECTIONS[index + 1 :] if n in sections]
        line = later[0] if later else max(len(lines) - 1, 0)
        note = (
            f'the {name} section is missing; add a line "{name}", then its header '
            f"({';'.join(REQUIRED[name]) or 'key;value'}) and its rows"
        )
        errors.append(FormatError(note=note, path=path, line=line))
    return errors


def header_errors(section: Section, path: str) -> list[CivicError]:
    """Missing header line or required column."""
    if section.header_line is None and section.name != "META":
        note = f"the {section.name} section has no header line; add one under its name"
        return [MissingLabelError(note=note, path=path, line=section.line)]
    errors: list[CivicError] = []
    for column in REQUIRED.get(section.name, ()):
        if column not in section.columns():
            note = (
                f'the {section.name} header has no "{column}" column; add it '
                f"(pabulib needs {';'.join(REQUIRED[section.name])})"
            )
            errors.append(
                MissingLabelError(note=note, path=path, line=section.header_line, field_name=column)
            )
    return errors


def rows_of(
    section: Section, path: str, errors: list[CivicError]
) -> list[tuple[int, dict[str, tuple[int, str]]]]:
    """Rows as {column: (column offset, text)}; rows with the wrong number of cells are errors."""
    names = ["key", "value"] if section.name == "META" else section.columns()
    rows = []
    for number, cells in section.rows:
        if len(cells) == len(names):
            rows.append(
                (number, {n: (c[0], c[1].strip()) for n, c in zip(names, cells, strict=True)})
            )
            continue
        found, width = len(cells), len(names)
        note = f"this {section.name} row has {found} cells but the header has {width}; "
        if found > width:
            note += 'remove the extra ";" or put the value in double quotes'
            errors.append(ExtraCellError(note=note, path=path, line=number, column=cells[width][0]))
        else:
            note += "add the missing values"
            column = cells[-1][0] + len(cells[-1][1])
            errors.append(MissingCellError(note=note, path=path, line=number, column=column))
    return rows


# --- reading the rows ---------------------------------------------------------------------


def read_meta(section: Section, path: str, errors: list[CivicError]) -> dict[str, str]:
    return {row["key"][1]: row["value"][1] for _, row in rows_of(section, path, errors)}


def read_projects(section: Section, path: str, errors: list[CivicError]) -> list[Project]:
    """Every project, with cost, votes and selected checked; ids unique once slugified."""
    projects: list[Project] = []
    seen: dict[str, int] = {}
    for number, row in rows_of(section, path, errors):
        errors.extend(project_errors(row, number, path))
        project_id = row.get("project_id", (0, ""))[1]
        key = slugify(f"pb-{project_id}")
        if key in seen:
            note = (
                f'project "{project_id}" has the same id ({key}) as the project on line '
                f"{seen[key] + 1}; give each project its own project_id"
            )
            position: dict[str, Any] = {"line": number, "column": row["project_id"][0]}
            errors.append(
                PrimaryKeyError(note=note, path=path, field_name="project_id", **position)
            )
        seen.setdefault(key, number)
        projects.append(Project(project_id, number, {k: v for k, (_, v) in row.items()}))
    return projects


def project_errors(row: dict[str, tuple[int, str]], number: int, path: str) -> list[CivicError]:
    errors: list[CivicError] = []
    checks: list[tuple[str, Callable[[str], object], str]] = [
        ("project_id", lambda v: bool(v), "the project has no id; give it a project_id"),
        ("cost", NUMBER.fullmatch, "is not a cost; write it in digits with no separators"),
        ("votes", lambda v: v == "" or v.isdigit(), "is not a number of votes; use digits"),
        ("selected", lambda v: v in SELECTED, "is not 1 (selected) or 0 (not selected)"),
    ]
    for name, valid, problem in checks:
        if name not in row or valid(row[name][1]):
            continue
        value = row[name][1]
        note = problem if name == "project_id" else f'"{preview(value)}" {problem}'
        error_class = TypeError_ if name in ("cost", "votes") else ConstraintError
        position: dict[str, Any] = {"line": number, "column": row[name][0], "field_name": name}
        errors.append(error_class(note=note, path=path, cell=value, **position))
    return errors


def count_votes(
    section: Section, projects: list[Project], path: str, errors: list[CivicError]
) -> dict[str, int]:
    """Votes per project from the VOTES rows; each voter counts once per project."""
    known = {p.project_id for p in projects}
    counts = dict.fromkeys(known, 0)
    voters: dict[str, int] = {}
    for number, row in rows_of(section, path, errors):
        voter = row.get("voter_id", (0, ""))[1]
        if voter in voters:
            note = f'voter "{voter}" also voted on line {voters[voter] + 1}; keep one ballot'
            position: dict[str, Any] = {
                "line": number,
                "column": row["voter_id"][0],
                "field_name": "voter_id",
            }
            errors.append(PrimaryKeyError(note=note, path=path, **position))
        voters.setdefault(voter, number)
        offset, ballot = row.get("vote", (0, ""))
        for chosen in {c.strip() for c in ballot.split(",") if c.strip()}:
            if chosen not in known:
                note = f'the vote names project "{chosen}", which is not in PROJECTS; fix the id'
                position = {"line": number, "column": offset, "field_name": "vote"}
                errors.append(ForeignKeyError(note=note, path=path, cell=chosen, **position))
            else:
                counts[chosen] += 1
    return counts


def budget_year(
    meta: dict[str, str], section: Section, path: str, errors: list[CivicError]
) -> int | None:
    """The budget year: META year, else a year-like instance, else the year of the vote dates."""
    for key in ("year", "instance", "date_begin", "date_end"):
        found = YEAR.search(meta.get(key, ""))
        if found and (key != "instance" or meta[key].strip() == found.group(1)):
            return int(found.group(1))
    note = 'META gives no year; add a line like "date_begin;15.03.2024" or "year;2024"'
    errors.append(FormatError(note=note, path=path, line=section.line))
    return None


# --- records and the package --------------------------------------------------------------


def build_records(
    projects: list[Project],
    counts: dict[str, int],
    meta: dict[str, str],
    year: int | None,
    path: Path,
    shown: str,
) -> tuple[list[tuple[str, dict[str, Any], str]], list[CivicError]]:
    """(id, front matter, body) per project, and warnings for titles that had to change."""
    records, warnings = [], []
    district = meta.get("district") or meta.get("subunit") or "Citywide"
    for project in projects:
        values = project.values
        title, changed = title_of(values.get("name", ""), project.project_id)
        if changed:
            note = f'the name was too long or short for a title; it was imported as "{title}"'
            warnings.append(CivicError(note=note, path=shown, line=project.line, warning=True))
        categories = [c.strip() for c in values.get("category", "").split(",") if c.strip()]
        front: dict[str, Any] = {"title": title, "district": values.get("district") or district}
        if categories:
            front["category"] = categories[0]
        front["estimated_cost"] = number(values["cost"])
        if project.project_id in counts:
            front["votes"] = counts[project.project_id]
        front["status"] = SELECTED.get(values.get("selected", ""), "submitted")
        front["year"] = year
        body = body_text(path, meta, project, categories)
        records.append((slugify(f"pb-{project.project_id}"), front, body))
    return records, warnings


def title_of(name: str, project_id: str) -> tuple[str, bool]:
    """A title within 5–120 characters; True when it is not the name as given."""
    name = " ".join(name.split())
    if len(name) > TITLE_MAX:
        return name[: TITLE_MAX - 1].rsplit(" ", 1)[0] + "…", True
    if len(name) < TITLE_MIN:
        return f"Project {project_id}" + (f": {name}" if name else ""), bool(name)
    return name, False


def number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def body_text(path: Path, meta: dict[str, str], project: Project, categories: list[str]) -> str:
    """A short description generated from META and the project row."""
    where = ", ".join(f"{k} {meta[k]}" for k in ("instance", "unit", "subunit") if meta.get(k))
    lines = [f"Imported from pabulib file {path.name}" + (f" ({where})." if where else ".")]
    if meta.get("description"):
        lines += ["", meta["description"]]
    facts = [f"Project {project.project_id} of the file."]
    name = " ".join(project.values.get("name", "").split())
    if len(name) > TITLE_MAX:
        facts.append(f"Full name: {name}.")
    if len(categories) > 1:
        facts.append(f"Categories: {', '.join(categories)}.")
    targets = [t.strip() for t in project.values.get("target", "").split(",") if t.strip()]
    if targets:
        facts.append(f"Target groups: {', '.join(targets)}.")
    return "\n".join([*lines, "", " ".join(facts)]) + "\n"


def record_text(front: dict[str, Any], body: str) -> str:
    dumped = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{dumped}---\n{body}"


def stale_records(out: Path, files: dict[str, str], path: str) -> list[CivicError]:
    """Record files already in out/ that this import does not write: they stay in the collection."""
    folder = out / "records"
    old = sorted(folder.glob("*.md")) if folder.is_dir() else []
    note = "{} is not in this pabulib file but stays in the collection; delete it if it is stale"
    return [
        CivicError(note=note.format(f"records/{p.name}"), path=path, warning=True)
        for p in old
        if f"records/{p.name}" not in files
    ]


def package_json(path: Path, meta: dict[str, str], fronts: list[dict[str, Any]]) -> str:
    where = " ".join(meta[k] for k in ("unit", "subunit", "instance") if meta.get(k))
    descriptor = {
        "name": slugify(path.stem) or "pabulib-proposals",
        "title": f"Participatory budgeting: {where or path.stem}",
        "description": (
            f"Projects of the participatory budget {where or path.stem}, their cost, votes "
            f"and outcome, imported by civicgen from the pabulib file {path.name}. "
            "One file per project in records/."
        ),
        "sources": [{"title": f"pabulib: {path.name}", "path": "https://pabulib.org"}],
        "keywords": ["participatory budgeting", "proposals", "pabulib"],
        "civicgen": {"profile": "proposals"},
        "resources": [proposals_resource(meta, fronts)],
    }
    return json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"


def proposals_resource(meta: dict[str, str], fronts: list[dict[str, Any]]) -> dict[str, Any]:
    note = "One row per project, published from the files in records/."
    schema = {"fields": schema_fields(meta, fronts), "primaryKey": ["id"]}
    resource = csv_resource("proposals", "Proposals", note, "proposals.csv", schema)
    spec = {"pattern": "records/*.md", "key": "id", "body": "description"}
    return {**resource, "civicgen": {"records": spec}}


def schema_fields(meta: dict[str, str], fronts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fields of datasets/proposals, with districts and categories taken from the file."""
    districts = sorted({f["district"] for f in fronts})
    categories = sorted({f["category"] for f in fronts if "category" in f})
    category_enum: dict[str, Any] = {"enum": categories} if categories else {}
    currency = meta.get("currency", "").strip()
    cost = f"Estimated cost ({currency})" if currency else "Estimated cost"
    f = schema_field
    return [
        f("id", "string", "Id", "The file name, without .md.", required=True, unique=True,
          pattern="[a-z0-9][a-z0-9-]*"),
        f("title", "string", "Title", required=True, minLength=TITLE_MIN, maxLength=TITLE_MAX),
        f("district", "string", "District", required=True, enum=districts),
        f("category", "string", "Category", required=all("category" in x for x in fronts),
          **category_enum),
        f("estimated_cost", "number", cost, unit=currency, required=True, minimum=0),
        f("votes", "integer", "Votes", minimum=0),
        f("status", "string", "Status", required=True, enum=STATUSES),
        f("year", "year", "Budget year", required=True),
        f("budget_program", "string", "Budget program", "The budget program that funds it."),
        f("progress", "integer", "Progress (%)", minimum=0, maximum=100),
        f("submitted", "date", "Submitted on"),
        f("description", "string", "Description", "The Markdown text below the front matter.",
          required=True),
    ]  # fmt: skip
