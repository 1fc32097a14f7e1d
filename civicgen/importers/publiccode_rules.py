"""The building blocks of the publiccode.yml check: located problems, YAML 1.2 typing of
nodes, value rules (text, dates, addresses, codes, files) and mapping/list shapes.

A rule is called as rule(check, key, node, mark): key names the value like the reference
parser does (maintenance.contacts[0].email), mark is where a problem is shown: the key of a
mapping entry, the item of a list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from ..errors import CivicError, PubliccodeError
from . import publiccode_vocab as vocab

Mark = tuple[int, int]
Rule = Callable[["Check", str, yaml.Node, Mark], None]
NULL = re.compile(r"~|null|Null|NULL|")
BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
NUMBER = re.compile(r"[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+")


@dataclass
class Check:
    """The problems found in one file; path is shown, base is the folder of the file."""

    path: str
    base: Path | None
    errors: list[CivicError] = field(default_factory=list)
    warnings: list[CivicError] = field(default_factory=list)

    def error(self, key: str, mark: Mark, note: str, cls: type = PubliccodeError) -> None:
        self.errors.append(
            cls(note=note, path=self.path, field_name=key, line=mark[0], column=mark[1])
        )

    def warn(self, key: str, mark: Mark, note: str) -> None:
        problem = PubliccodeError(
            note=note, path=self.path, field_name=key, line=mark[0], column=mark[1], warning=True
        )
        self.warnings.append(problem)


# --- node helpers -------------------------------------------------------------------------


def at(node: yaml.Node) -> Mark:
    return (node.start_mark.line, node.start_mark.column)


def kind(node: yaml.Node) -> str:
    """map, list, null, bool, number or text, as YAML 1.2's core schema reads the node."""
    if isinstance(node, yaml.MappingNode):
        return "map"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    if getattr(node, "style", None) or node.tag not in (
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
    ):
        return "text"
    if NULL.fullmatch(node.value):
        return "null"
    if BOOL.fullmatch(node.value):
        return "bool"
    return "number" if NUMBER.fullmatch(node.value) else "text"


def entries(check: Check, key: str, node: yaml.Node) -> dict[str, tuple[yaml.Node, Mark]]:
    """Key -> (value node, mark of the key); a key written twice is an error."""
    found: dict[str, tuple[yaml.Node, Mark]] = {}
    for key_node, value in node.value:
        name = str(key_node.value)
        where = join(key, name)
        if name in found:
            note = f'"{name}" is written twice; keep one of the two'
            check.error(where, at(key_node), note)
        found[name] = (value, at(key_node))
    return found


def join(key: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{key}[{name}]"
    return f"{key}.{name}" if key else name


A = "a text"
TYPE_NAMES = {"map": "keys and values", "list": "a list", "bool": "true or false", "text": A}
WRITTEN = {"map": "keys and values", "list": "a list", "null": "empty", "bool": "true or false"}
WRITTEN.update({"number": "a number", "text": "a text"})


def wrong_type(check: Check, key: str, node: yaml.Node, mark: Mark, want: str) -> bool:
    """Report and return True when node is not of kind want (text accepts numbers)."""
    got = kind(node)
    if got == want or (want == "text" and got in ("number", "bool")):
        return False
    name = key.rsplit(".", 1)[-1]
    check.error(
        key, mark, f"{name} must be {TYPE_NAMES[want]}, not {WRITTEN[got]}; {fix_for(want)}"
    )
    return True


def fix_for(want: str) -> str:
    return {
        "map": "write its keys indented below it",
        "list": "write one item a line, each after a dash (- )",
        "bool": "write true or false (yes, no, on and off are not accepted)",
        "text": "write the value on the same line, in quotes if needed",
    }[want]


# --- value rules --------------------------------------------------------------------------


def text(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    wrong_type(check, key, node, mark, "text")


def boolean(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    wrong_type(check, key, node, mark, "bool")


def limited(most: int = 0, least: int = 0) -> Rule:
    """Text of at most / at least so many characters (as a reader counts them)."""

    def rule(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
        if wrong_type(check, key, node, mark, "text"):
            return
        name, length = key.rsplit(".", 1)[-1], vocab.graphemes(node.value)
        if most and length > most:
            check.error(key, mark, f"{name} has {length} characters, more than {most}; shorten it")
        if least and length < least:
            check.error(key, mark, f"{name} has {length} characters, fewer than {least}; say more")

    return rule


def one_of(values: tuple[str, ...] | frozenset[str], what: str) -> Rule:
    def rule(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
        if wrong_type(check, key, node, mark, "text"):
            return
        if node.value not in values:
            shown = ", ".join(sorted(values)) if len(values) <= 12 else f"the {what} list"
            check.error(key, mark, f'"{node.value}" is not {what}; use one of {shown}')

    return rule


def matching(pattern: re.Pattern[str], what: str, fix: str) -> Rule:
    def rule(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
        if not wrong_type(check, key, node, mark, "text") and not pattern.fullmatch(node.value):
            check.error(key, mark, f'"{node.value}" is not {what}; {fix}')

    return rule


http_url = matching(vocab.HTTP_URL, "a web address", "write it in full, starting https://")
any_url = matching(vocab.ANY_URL, "an address", "write it in full, like https://example.org/code")
email = matching(vocab.EMAIL, "an email address", "write it like name@example.org")
mime = matching(vocab.MIME, "a MIME type", "write it like text/csv or application/json")


def a_date(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    if wrong_type(check, key, node, mark, "text"):
        return
    try:
        ok = bool(vocab.DATE.fullmatch(node.value)) and bool(date.fromisoformat(node.value))
    except ValueError:
        ok = False
    if not ok:
        check.error(
            key, mark, f'"{node.value}" is not a date; write it as YYYY-MM-DD, like 2024-05-31'
        )


def uri(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    if wrong_type(check, key, node, mark, "text"):
        return
    value = node.value
    if not vocab.URI.fullmatch(value):
        note = f'"{value}" is not an address (URI); write it like https://example.org or urn:…'
        check.error(key, mark, note)
    elif value.startswith(vocab.ITALIAN_PA):
        ipa_code(check, key, value[len(vocab.ITALIAN_PA) :], mark)


def ipa_code(check: Check, key: str, code: str, mark: Mark) -> None:
    if not vocab.IPA_CODE.fullmatch(code):
        note = f'"{code}" is not an iPA code (letters, digits and _, like c_h501)'
        check.error(key, mark, note + "; copy it from indicepa.gov.it")
    elif code.lower() not in vocab.ipa_codes():
        note = f'"{code}" is no Italian public administration in the iPA registry'
        check.error(key, mark, note + "; copy the code from indicepa.gov.it")


def support_id(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    """What a tool supports: one of the standard's aliases (alias:gdpr) or an address."""
    if wrong_type(check, key, node, mark, "text"):
        return
    value = node.value
    if value.startswith(vocab.ALIAS):
        if value[len(vocab.ALIAS) :] not in vocab.SUPPORT_ALIASES:
            known = ", ".join(vocab.ALIAS + name for name in sorted(vocab.SUPPORT_ALIASES))
            check.error(key, mark, f'"{value}" is no alias of the standard; use one of {known}')
    elif not vocab.URI.fullmatch(value):
        note = f'"{value}" is neither an alias (like alias:gdpr) nor an address (URI)'
        check.error(key, mark, note + "; write the law's or platform's address, like https://…")


def ipa(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    if not wrong_type(check, key, node, mark, "text"):
        ipa_code(check, key, node.value, mark)


def language(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    if wrong_type(check, key, node, mark, "text"):
        return
    problem = vocab.language_problem(node.value)
    if problem:
        check.error(key, mark, f'"{node.value}" is not a BCP 47 language tag: {problem}')


def country(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    if wrong_type(check, key, node, mark, "text"):
        return
    problem = vocab.country_problem(node.value)
    if problem:
        check.error(key, mark, problem)
    elif node.value.islower():
        check.warn(
            key, mark, f'lowercase country codes are deprecated; write "{node.value.upper()}"'
        )


def licence(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    if wrong_type(check, key, node, mark, "text"):
        return
    try:
        canonicalize_license_expression(node.value)
    except InvalidLicenseExpression:
        note = f'"{node.value}" is not an SPDX licence; use an id like AGPL-3.0-or-later or MIT'
        check.error(key, mark, note)


def video(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
    if wrong_type(check, key, node, mark, "text"):
        return
    if not vocab.HTTP_URL.fullmatch(node.value):
        check.error(
            key, mark, f'"{node.value}" is not a web address; write it in full, starting https://'
        )
        return
    host = re.sub(r"^https?://([^/:?#]+).*$", r"\1", node.value, flags=re.I).lower()
    if host not in vocab.VIDEO_HOSTS:
        note = f"{host} is not a video service that can be embedded (oEmbed); link the video "
        check.error(key, mark, note + "on a service such as YouTube, Vimeo or Dailymotion")


def file_rule(extensions: tuple[str, ...], image: bool = True) -> Rule:
    """A relative path beside the file, or an http(s) address (checked for its form only)."""

    def rule(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
        if wrong_type(check, key, node, mark, "text"):
            return
        problem = file_problem(check.base, node.value, extensions if image else ())
        if problem:
            check.error(key, mark, problem)

    return rule


def file_problem(base: Path | None, value: str, extensions: tuple[str, ...]) -> str:
    if value.lower().startswith("file:"):
        return f'"{value}" is a file:// address; give a path relative to publiccode.yml or an https address'
    if value.startswith("/"):
        return f'"{value}" is an absolute path; give a path relative to publiccode.yml or an https address'
    if extensions and not value.lower().endswith(extensions):
        return (
            f'"{value}" is not an image civicgen accepts here; use a {", ".join(extensions)} file'
        )
    if re.match(r"[a-z][a-z0-9+.-]*:", value, re.I):
        ok = vocab.HTTP_URL.fullmatch(value)
        return "" if ok else f'"{value}" is not a web address; write it in full, starting https://'
    return local_file_problem(base, value) if base is not None else ""


def local_file_problem(base: Path, value: str) -> str:
    target = (base / value).resolve()
    if base.resolve() not in target.parents:
        return f'"{value}" points outside the folder of publiccode.yml; keep the file beside it'
    if not target.is_file():
        return f'"{value}" is not beside publiccode.yml; add the file, or give its https address'
    if target.suffix.lower() == ".png" and target.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        return f'"{value}" is not a PNG image; save the image as PNG again'
    return ""


def deprecated(rule: Rule, note: str) -> Rule:
    def wrapped(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
        check.warn(key, mark, note)
        rule(check, key, node, mark)

    return wrapped


# --- structures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A mapping: its known keys with their rules, and which keys are required."""

    keys: dict[str, Rule]
    required: tuple[str, ...] = ()
    open_keys: bool = False  # keys not listed are accepted (the standard leaves them free)

    def __call__(self, check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
        if wrong_type(check, key, node, mark, "map"):
            return
        found = entries(check, key, node)
        for name in self.required:
            if name not in found or kind(found[name][0]) == "null":
                where = found[name][1] if name in found else at(node)
                check.error(
                    join(key, name),
                    where,
                    f"{name} is missing; add it under {key or 'the top level'}",
                )
        for name, (value, where) in found.items():
            rule = self.keys.get(name)
            if rule is not None and not (name in self.required and kind(value) == "null"):
                rule(check, join(key, name), value, where)
            elif rule is None and not self.open_keys:
                check.error(join(key, name), where, unknown_key(name, self.keys))


def unknown_key(name: str, known: dict[str, Rule]) -> str:
    close = [k for k in known if k.lower() == name.lower()]
    hint = f'; did you mean "{close[0]}"?' if close else "; remove it or check its spelling"
    return f'"{name}" is not a publiccode.yml key here{hint}'


def items(rule: Rule, nonempty: bool = False) -> Rule:
    """A list whose every item follows rule."""

    def check_list(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
        if wrong_type(check, key, node, mark, "list"):
            return
        if nonempty and not node.value:
            check.error(key, mark, f"{key.rsplit('.', 1)[-1]} is empty; give at least one item")
        for index, child in enumerate(node.value):
            rule(check, join(key, index), child, at(child))

    return check_list


def text_or_items(rule: Rule) -> Rule:
    """A single value or a list of values (isBasedOn)."""

    def either(check: Check, key: str, node: yaml.Node, mark: Mark) -> None:
        (items(rule) if kind(node) == "list" else rule)(check, key, node, mark)

    return either


def required_list(rule: Rule) -> Rule:
    return items(rule, nonempty=True)
