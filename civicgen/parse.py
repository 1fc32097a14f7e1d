"""JSON and YAML from a pull request, parsed within limits.

Nothing here recurses on the input's nesting before the nesting was measured; duplicate
keys are refused (a reviewer reads the first value, a parser keeps the last); YAML
aliases are counted before anything is built from them; lone surrogates, which are not
characters, are left to the text checks (textcheck.py), which name the field that holds
them. Each problem is a `ParseProblem` with a 0-based line and column.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from .limits import Limits

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
OPENERS, CLOSERS = frozenset("[{"), frozenset("]}")
SURROGATE_NOTE = (
    "a text holds {code}, half of a surrogate pair, which is not a character; "
    "remove the escape or write the character itself"
)
NESTING_MARKS = "[{-:?"  # each level of YAML nesting needs one of these
JSON_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # strings are skipped whole


class ParseProblem(ValueError):
    """Why a document cannot be read, and where (0-based line and column, when known)."""

    def __init__(
        self,
        note: str,
        line: int | None = None,
        column: int | None = None,
        code: str = "format-error",
    ) -> None:
        super().__init__(note)
        self.note, self.line, self.column, self.code = note, line, column, code


# --- JSON --------------------------------------------------------------------------------


def load_json(text: str, limits: Limits) -> Any:
    """A JSON document with no duplicate keys, no NaN, nested at most limits.nesting deep."""
    check_json_nesting(text, limits.nesting)
    try:
        value = json.loads(text, object_pairs_hook=unique_object, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        note = f"this is not valid JSON ({exc.msg}); check commas, quotes and brackets"
        raise ParseProblem(note, exc.lineno - 1, exc.colno - 1) from None
    return value


def check_json_nesting(text: str, limit: int) -> None:
    """Refuse arrays and objects nested deeper than limit, in one pass over the text."""
    depth = 0
    for match in JSON_STRUCTURE.finditer(text):
        char = match.group()
        if char in OPENERS:
            depth += 1
            if depth > limit:
                raise ParseProblem(
                    nesting_note(limit), *line_column(text, match.start()), "nesting-too-deep"
                )
        elif char in CLOSERS:
            depth -= 1


def unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys each appear once."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ParseProblem(duplicate_note(key), code="duplicate-key")
        result[key] = value
    return result


def no_constant(name: str) -> Any:
    raise ParseProblem(f"{name} is not a JSON number; write a number, or leave the value out")


# --- YAML --------------------------------------------------------------------------------


def load_yaml(text: str, limits: Limits) -> tuple[Any, dict[str, int]]:
    """A YAML document and the 0-based line of each top-level key."""
    try:
        return load_yaml_with(Loader, text, limits)
    except ParseProblem as problem:
        if problem.code != "lone-surrogate" or Loader is yaml.SafeLoader:
            raise
    # libyaml refuses "\ud800" outright; PyYAML reads it, and the text checks then name
    # the field that holds it (lone-surrogate)
    return load_yaml_with(yaml.SafeLoader, text, limits)


def load_yaml_with(loader_class: Any, text: str, limits: Limits) -> tuple[Any, dict[str, int]]:
    check_yaml_events(text, limits, loader_class)
    try:
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
            check_unique_keys(node)
            value = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise yaml_problem(exc) from None
    except ParseProblem:
        raise
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2014-22-11
        note = f"a value cannot be read ({exc}); write dates as 2025-01-31 or quote the value"
        raise ParseProblem(note) from None
    lines = (
        {str(key.value): key.start_mark.line for key, _ in node.value}
        if isinstance(node, yaml.MappingNode)
        else {}
    )
    return value, lines


def check_yaml_events(text: str, limits: Limits, loader_class: Any = Loader) -> None:
    """Measure nesting and count aliases from the event stream, before any node is built."""
    if "*" not in text and sum(text.count(c) for c in NESTING_MARKS) < limits.nesting:
        return  # no alias, and too few marks to open that many levels: nothing to measure
    depth, aliases = 0, 0
    try:
        for event in yaml.parse(text, Loader=loader_class):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limits.nesting:
                    raise ParseProblem(
                        nesting_note(limits.nesting), *mark_of(event), "nesting-too-deep"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > limits.yaml_aliases:
                    raise ParseProblem(
                        alias_note(limits.yaml_aliases), *mark_of(event), "yaml-alias"
                    )
    except yaml.YAMLError as exc:
        raise yaml_problem(exc) from None


def check_unique_keys(root: yaml.Node | None) -> None:
    """Refuse a mapping that names the same key twice (checked without recursion)."""
    pending = [root] if root is not None else []
    seen_nodes: set[int] = set()
    while pending:
        node = pending.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                text = str(key.value) if isinstance(key, yaml.ScalarNode) else repr(id(key))
                if text in keys:
                    raise ParseProblem(duplicate_note(text), *mark_of(key), "duplicate-key")
                keys.add(text)
                pending.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


def yaml_problem(exc: yaml.YAMLError) -> ParseProblem:
    line, column = mark_of(exc, "problem_mark")
    problem = str(getattr(exc, "problem", None) or exc)
    if "invalid Unicode character escape" in problem:  # libyaml's words for "\ud800"
        note = SURROGATE_NOTE.format(code="a \\u escape")
        return ParseProblem(note, line, column, "lone-surrogate")
    if "maximum nesting depth" in problem:  # newer libyaml stops deep nesting while scanning
        return ParseProblem(nesting_note(None), line, column, "nesting-too-deep")
    note = f"this is not valid YAML ({problem}); check indentation and colons"
    return ParseProblem(note, line, column)


def mark_of(item: Any, attribute: str = "start_mark") -> tuple[int | None, int | None]:
    """(line, column), 0-based, of a node's or event's mark (or an error's problem_mark)."""
    mark = getattr(item, attribute, None)
    return (mark.line, mark.column) if mark is not None else (None, None)


# --- shared ------------------------------------------------------------------------------


def line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index)
    return line, index - (text.rfind("\n", 0, index) + 1)


def nesting_note(limit: int | None) -> str:
    levels = f"more than {limit} levels" if limit is not None else "too many levels"
    return (
        f"lists and objects are nested {levels} deep here; "
        "flatten the structure (real descriptors and records need a few levels)"
    )


def duplicate_note(key: str) -> str:
    return (
        f'the key "{key}" appears twice in the same object; keep one of them '
        "(readers disagree on which one counts)"
    )


def alias_note(limit: int) -> str:
    allowed = "no aliases" if limit == 0 else f"at most {limit} aliases"
    return f"YAML aliases (*name) are not accepted here ({allowed}); write the values out in full"
