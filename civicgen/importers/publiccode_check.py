"""A strict, offline check of a publiccode.yml file (standard v0), every problem located.

The file is composed with PyYAML's safe loader; every check reads the node tree, so each
problem carries the line and column of the key (a mapping entry) or of the item (a list
entry) it is about, as the reference parser (italia/publiccode-parser-go) reports them.
Scalars are typed as YAML 1.2 reads them: ``yes``/``on`` are text, not booleans.
Nothing is fetched: web addresses are checked for their form only, and files named by a
relative path (logo, screenshots) are looked for beside the publiccode.yml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import FormatError
from . import publiccode_vocab as vocab
from .publiccode_rules import (
    Check,
    Mark,
    Shape,
    a_date,
    any_url,
    at,
    boolean,
    country,
    deprecated,
    email,
    entries,
    file_rule,
    http_url,
    ipa,
    items,
    join,
    kind,
    language,
    licence,
    limited,
    mime,
    one_of,
    required_list,
    support_id,
    text,
    text_or_items,
    uri,
    video,
    wrong_type,
)


def check_text(text: str, path: str, base: Path | None = None) -> tuple[Check, yaml.Node | None]:
    """Compose and check text; the node tree is None when the YAML cannot be read."""
    result = Check(path, base)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        result.errors.append(syntax_error(exc, path))
        return result, None
    if not isinstance(root, yaml.MappingNode):
        note = "the file must hold keys and values (name: …, url: …) at its top level"
        result.errors.append(FormatError(note=note, path=path, line=0, column=0))
        return result, None
    check_root(result, root)
    return result, root


def syntax_error(exc: yaml.YAMLError, path: str) -> FormatError:
    """The YAML error at its mark, in words."""
    mark = getattr(exc, "problem_mark", None)
    note = f"this is not valid YAML ({getattr(exc, 'problem', None) or exc}"
    context = getattr(exc, "context_mark", None)
    if context is not None and mark is not None and context.line != mark.line:
        note += f", {getattr(exc, 'context', '')} that starts on line {context.line + 1}"
    note += "); check quotes, colons and indentation"
    position = {"line": mark.line, "column": mark.column} if mark else {}
    return FormatError(note=note, path=path, **position)


# --- the standard (v0) --------------------------------------------------------------------

DEPRECATED = "is deprecated and will be removed from the standard"
LINK = Shape({"name": text, "uri": uri}, required=("uri",))
DEPENDENCY = Shape(
    {"name": text, "versionMin": text, "versionMax": text, "version": text, "optional": boolean},
    required=("name",),
)
CONTRACTOR = Shape(
    {"name": text, "until": a_date, "email": email, "website": http_url},
    required=("name", "until"),
)
CONTACT = Shape(
    {"name": text, "email": email, "phone": text, "affiliation": text}, required=("name",)
)
LANGUAGE_TEXTS = Shape(
    {
        "localisedName": text,
        "genericName": deprecated(limited(most=35), f"genericName {DEPRECATED}; you can drop it"),
        "shortDescription": limited(most=150),
        "longDescription": limited(most=10000, least=150),
        "documentation": http_url,
        "apiDocumentation": http_url,
        "features": required_list(limited(most=100)),
        "screenshots": items(file_rule(vocab.SCREENSHOT_EXTENSIONS)),
        "videos": items(video),
        "awards": items(text),
    },
    required=("shortDescription", "longDescription", "features"),
)
ITALY = Shape(
    {
        "countryExtensionVersion": one_of(
            vocab.IT_EXTENSION_VERSIONS, "a version of the Italian extension"
        ),
        "conforme": deprecated(
            Shape(
                {
                    k: boolean
                    for k in (
                        "lineeGuidaDesign",
                        "modelloInteroperabilita",
                        "misureMinimeSicurezza",
                        "gdpr",
                    )
                }
            ),
            f"IT.conforme {DEPRECATED}; you can drop it",
        ),
        "riuso": Shape(
            {
                "codiceIPA": deprecated(
                    ipa,
                    "IT.riuso.codiceIPA is deprecated; give organisation.uri: urn:x-italian-pa:<code> instead",
                )
            }
        ),
        "piattaforme": Shape({k: boolean for k in ("spid", "pagopa", "cie", "anpr", "io")}),
    }
)


def checked_first(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    """Checked elsewhere: publiccodeYmlVersion by version_ok, contractors not under contract."""


def descriptions(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    """One entry per language, each keyed by a BCP 47 tag; at least one."""
    if wrong_type(check, key, node, mark, "map"):
        return
    found = entries(check, key, node)
    if not found:
        check.error(key, mark, "description has no language; add one, like en, with its texts")
    for tag, (texts, _where) in found.items():
        problem = vocab.language_problem(tag)
        if problem:
            check.error(key, mark, f'"{tag}" is not a BCP 47 language tag: {problem}')
        LANGUAGE_TEXTS(check, f"{key}[{tag}]" if "-" in tag else join(key, tag), texts, at(texts))


def maintenance(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    """The type decides whether contractors or contacts are required, or refused."""
    found = entries(Check(check.path, None), key, node) if kind(node) == "map" else {}
    type_node = found.get("type", (None, mark))[0]
    chosen = type_node.value if type_node is not None and kind(type_node) == "text" else None
    contractors = items(CONTRACTOR) if chosen in (None, "contract") else checked_first
    shape = Shape(
        {
            "type": one_of(vocab.MAINTENANCE_TYPES, "a maintenance type"),
            "contractors": contractors,
            "contacts": items(CONTACT),
        },
        required=("type",),
    )
    shape(check, key, node, mark)
    if not found:
        return
    needs = {"contract": "contractors", "internal": "contacts", "community": "contacts"}.get(
        chosen or ""
    )
    if needs and (needs not in found or not found[needs][0].value):
        note = f'{needs} is required when type is "{chosen}"; list at least one'
        check.error(join(key, needs), at(node), note)
    if "contractors" in found and chosen and chosen != "contract":
        note = (
            f'contractors are only given when type is "contract"; remove them (type is "{chosen}")'
        )
        check.error(join(key, "contractors"), found["contractors"][1], note)


ROOT = Shape(
    {
        "publiccodeYmlVersion": checked_first,
        "name": text,
        "applicationSuite": text,
        "url": any_url,
        "landingURL": http_url,
        "isBasedOn": text_or_items(any_url),
        "softwareVersion": text,
        "releaseDate": a_date,
        "logo": file_rule(vocab.IMAGE_EXTENSIONS),
        "monochromeLogo": deprecated(
            file_rule(vocab.IMAGE_EXTENSIONS),
            f"monochromeLogo {DEPRECATED}; give the image as logo",
        ),
        "inputTypes": deprecated(items(mime), f"inputTypes {DEPRECATED}; you can drop it"),
        "outputTypes": deprecated(items(mime), f"outputTypes {DEPRECATED}; you can drop it"),
        "platforms": required_list(text),
        "categories": items(one_of(vocab.CATEGORIES, "a publiccode.yml category")),
        "usedBy": items(text),
        "fundedBy": items(LINK),
        "organisation": LINK,
        "roadmap": http_url,
        "developmentStatus": one_of(vocab.DEVELOPMENT_STATUSES, "a development status"),
        "softwareType": one_of(vocab.SOFTWARE_TYPES, "a software type"),
        "intendedAudience": Shape(
            {
                "countries": items(country),
                "unsupportedCountries": items(country),
                "scope": items(one_of(vocab.SCOPES, "a scope of the standard")),
            }
        ),
        "description": descriptions,
        "legal": Shape(
            {
                "license": licence,
                "mainCopyrightOwner": text,
                "repoOwner": deprecated(
                    text, f"legal.repoOwner {DEPRECATED}; give the owner as organisation.name"
                ),
                "authorsFile": deprecated(
                    file_rule((), image=False), f"legal.authorsFile {DEPRECATED}; you can drop it"
                ),
            },
            required=("license",),
        ),
        "maintenance": maintenance,
        "localisation": Shape(
            {"localisationReady": boolean, "availableLanguages": required_list(language)},
            required=("localisationReady", "availableLanguages"),
        ),
        "dependsOn": Shape({k: items(DEPENDENCY) for k in ("open", "proprietary", "hardware")}),
        "IT": ITALY,
        "it": deprecated(ITALY, 'lowercase country sections are deprecated; write "IT"'),
        "supports": items(Shape({"id": support_id}, required=("id",), open_keys=True)),
    },
    required=("name", "url", "platforms", "developmentStatus", "softwareType", "description")
    + ("legal", "maintenance", "localisation"),
)


def check_root(check: Check, root: yaml.MappingNode) -> None:
    """The version first (an unknown one stops the check), then every key."""
    found = entries(Check(check.path, None), "", root)
    if not version_ok(check, found, root):
        return
    ROOT(check, "", root, at(root))
    if "IT" in found and "it" in found:
        check.error("it", found["it"][1], 'the "IT" section is already there; remove "it"')


def version_ok(check: Check, found: dict[str, tuple[yaml.Node, Mark]], root: yaml.Node) -> bool:
    if "publiccodeYmlVersion" not in found:
        note = 'publiccodeYmlVersion is missing; add publiccodeYmlVersion: "0" at the top'
        check.error("publiccodeYmlVersion", at(root), note)
        return True
    node, mark = found["publiccodeYmlVersion"]
    if wrong_type(check, "publiccodeYmlVersion", node, mark, "text"):
        return True
    if node.value not in vocab.VERSIONS:
        note = f'version "{node.value}" of the standard is not supported; civicgen reads '
        check.error(
            "publiccodeYmlVersion", mark, note + 'v0 files: write publiccodeYmlVersion: "0"'
        )
        return False
    return True


def mapped_value(node: yaml.Node) -> Any:
    """The plain Python value of a node checked above (YAML 1.2 types)."""
    if isinstance(node, yaml.MappingNode):
        return {str(k.value): mapped_value(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [mapped_value(v) for v in node.value]
    return {"null": None, "bool": node.value.lower() == "true"}.get(kind(node), node.value)


__all__ = ["Check", "check_text", "mapped_value"]
