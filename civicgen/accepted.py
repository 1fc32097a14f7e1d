"""Descriptors that frictionless surely accepts, known without importing it.

Importing frictionless (pydantic, jsonschema) and making its first check takes longer than
the rest of a small validation. Most descriptors keep to a plain shape whose verdict is
known: names in the Data Package pattern, text where the specifications say text, fields of
the Table Schema types with the constraints each type takes, primary and foreign keys that
name the schema's own fields, plain relative paths to CSV files. `surely_accepted` recognises
that shape, as frictionless 5 reads it; any other descriptor, and any descriptor with
something wrong, is checked by frictionless, and its errors are the ones reported
(verdicts.py).

It errs one way only: "not surely" costs a frictionless check, never a wrong verdict.
tests/test_accepted.py holds it to frictionless on generated descriptors and on the hostile
ones a review found: whatever it accepts, frictionless finds nothing wrong with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

NAME = re.compile(r"[-a-z0-9._/]+")  # a package's or a resource's name (Data Package v1)


def is_text(value: Any) -> bool:
    return isinstance(value, str)


def is_flag(value: Any) -> bool:
    return isinstance(value, bool)


def is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_name(value: Any) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def is_texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def is_list(value: Any) -> bool:
    return isinstance(value, list)


def anything(value: Any) -> bool:
    return True


def no_email(value: Any) -> bool:
    """frictionless checks an address with a validator of its own: left to it."""
    return value == ""


def fits(node: Any, checks: Mapping[str, Check], read: frozenset[str]) -> bool:
    """node is an object whose keys frictionless reads are all among checks, and pass them
    (a key frictionless does not read is the author's own, and never an error)."""
    if not isinstance(node, dict) or not all(isinstance(key, str) for key in node):
        return False
    return all(
        checks[key](value) if key in checks else key not in read for key, value in node.items()
    )


def each(checks: Mapping[str, Check], read: frozenset[str]) -> Check:
    """A list of objects that each fit."""
    return lambda value: isinstance(value, list) and all(fits(item, checks, read) for item in value)


# --- licenses, sources and contributors ----------------------------------------------------

LICENSE = {"name": is_text, "path": is_text, "title": is_text}
SOURCE = {"title": is_text, "path": is_text, "email": no_email}
CONTRIBUTOR = {"title": is_text, "path": is_text, "role": is_text, "organisation": is_text,
               "email": no_email}  # fmt: skip


are_licenses = each(LICENSE, frozenset(LICENSE))
is_sources = each(SOURCE, frozenset(SOURCE))
is_contributors = each(CONTRIBUTOR, frozenset(CONTRIBUTOR))


def is_licenses(value: Any) -> bool:
    """Each license has a name or a path."""
    return are_licenses(value) and all(item.get("name") or item.get("path") for item in value)


# --- fields ----------------------------------------------------------------------------------

BOUNDED = ("required", "minimum", "maximum", "enum")
SIZED = ("required", "minLength", "maxLength", "enum")
TYPE_CONSTRAINTS = {
    "string": ("required", "minLength", "maxLength", "pattern", "enum"),
    **dict.fromkeys(
        ("number", "integer", "date", "datetime", "time", "year", "yearmonth"), BOUNDED
    ),
    **dict.fromkeys(("array", "object"), SIZED),
    **dict.fromkeys(("boolean", "geopoint", "geojson", "duration", "any"), ("required", "enum")),
}  # the Table Schema types (frictionless's own "list" is left to it)
CONSTRAINT = {  # a bound is only read against the data, never checked in the descriptor
    "required": is_flag, "unique": is_flag, "pattern": is_text, "enum": is_list,
    "minLength": is_whole, "maxLength": is_whole, "minimum": anything, "maximum": anything,
}  # fmt: skip
FORMATS = {
    "string": frozenset({"default", "email", "uri", "binary", "uuid"}),
    "geojson": frozenset({"default", "topojson"}),
}  # other types take any format text
TYPE_OPTIONS: dict[str, dict[str, Check]] = {
    "boolean": {"trueValues": is_texts, "falseValues": is_texts},
    "integer": {"bareNumber": is_flag},
    "number": {**dict.fromkeys(("bareNumber", "floatNumber"), is_flag),
               **dict.fromkeys(("decimalChar", "groupChar"), is_text)},
    "array": {"arrayItem": lambda value: isinstance(value, dict)},
}  # fmt: skip
FIELD_READ = frozenset(  # and its type's options
    {"name", "type", "title", "description", "format", "missingValues", "constraints",
     "rdfType", "example", "required"}
)  # fmt: skip


def is_field(field: Any) -> bool:
    """A field of a Table Schema type, with the constraints and options that type takes, and
    no example (frictionless reads an example as a value of the type)."""
    kind = field.get("type", "string") if isinstance(field, dict) else None
    if not isinstance(kind, str) or kind not in TYPE_CONSTRAINTS or "name" not in field:
        return False
    allowed = FORMATS.get(kind)
    checks: dict[str, Check] = {
        "name": is_text, "type": is_text, "title": is_text, "description": is_text,
        "rdfType": is_text, "missingValues": is_texts,
        "format": lambda value: is_text(value) and (allowed is None or value in allowed),
        "constraints": lambda value: is_constraints(value, kind),
        "example": lambda value: not value,
        **TYPE_OPTIONS.get(kind, {}),
    }  # fmt: skip
    return fits(field, checks, FIELD_READ | frozenset(TYPE_OPTIONS.get(kind, {})))


def is_constraints(value: Any, kind: str) -> bool:
    """Only the constraints the type takes (frictionless refuses any other key here)."""
    allowed = {*TYPE_CONSTRAINTS[kind], "unique"}
    return (
        isinstance(value, dict)
        and set(value) <= allowed
        and all(CONSTRAINT[key](item) for key, item in value.items())
    )


# --- schemas ---------------------------------------------------------------------------------

SCHEMA_READ = frozenset(
    {"name", "type", "title", "description", "fields", "fieldsMatch", "missingValues",
     "primaryKey", "foreignKeys"}
)  # fmt: skip
FIELDS_MATCH = frozenset({"exact", "equal", "subset", "superset", "partial"})


def key_names(value: Any) -> list[str] | None:
    """A key's field names (a name, or a list of names); None for any other shape."""
    if isinstance(value, str) and value:
        return [value]
    return value if is_texts(value) else None


def is_schema(schema: Any) -> bool:
    """Fields with distinct names; primary and foreign keys that name them."""
    fields = schema.get("fields") if isinstance(schema, dict) else None
    if not isinstance(fields, list) or not all(is_field(field) for field in fields):
        return False
    names = [field["name"] for field in fields]
    if len(set(names)) != len(names):
        return False
    checks: dict[str, Check] = {
        "name": is_name, "title": is_text, "description": is_text, "fields": is_list,
        "fieldsMatch": lambda value: is_text(value) and value in FIELDS_MATCH, "missingValues": is_texts,
        "primaryKey": lambda value: names_among(key_names(value), names),
        "foreignKeys": lambda value: isinstance(value, list)
        and all(is_foreign_key(key, names) for key in value),
    }  # fmt: skip
    return fits(schema, checks, SCHEMA_READ)


def is_foreign_key(key: Any, names: list[str]) -> bool:
    """Its fields are the schema's, as many as the fields it refers to."""
    if not isinstance(key, dict) or not isinstance(key.get("reference"), dict):
        return False
    reference = key["reference"]
    own, theirs = key_names(key.get("fields")), key_names(reference.get("fields"))
    return (
        names_among(own, names)
        and theirs is not None
        and len(own or ()) == len(theirs)
        and is_text(reference.get("resource"))
    )


def names_among(chosen: list[str] | None, names: list[str]) -> bool:
    return chosen is not None and all(name in names for name in chosen)


# --- dialects --------------------------------------------------------------------------------

DIALECT = {
    **dict.fromkeys(("header", "headerCase", "skipBlankRows", "doubleQuote", "skipInitialSpace"),
                    is_flag),
    **dict.fromkeys(("delimiter", "lineTerminator", "quoteChar", "escapeChar", "nullSequence",
                     "headerJoin", "commentChar", "title", "description"), is_text),
    "headerRows": is_list, "commentRows": is_list, "name": is_name,
}  # fmt: skip
DIALECT_READ = frozenset({*DIALECT, "type", "csv", "$schema"})


def is_dialect(dialect: Any) -> bool:
    """CSV options of the right types; no object value (frictionless reads one as a control)."""
    return fits(dialect, DIALECT, DIALECT_READ) and not any(
        isinstance(value, dict) for value in dialect.values()
    )


# --- resources and packages ------------------------------------------------------------------


# A relative path of plain folder names to a CSV or TSV file: nothing frictionless reads as an
# address, a query, a way up ("../" anywhere), a compression or another format (its plugins
# detect one from the path, and some of them need packages that are not installed).
SAFE_PATH = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*/)*"
                       r"[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.(?:csv|tsv)")  # fmt: skip
TABLE_FORMATS = frozenset({"csv", "tsv"})


def is_safe_path(path: Any) -> bool:
    """A plain relative path to a CSV or TSV file (SAFE_PATH)."""
    return isinstance(path, str) and SAFE_PATH.fullmatch(path) is not None


def is_paths(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(is_safe_path(path) for path in value)
    return is_safe_path(value)


RESOURCE = {
    "name": is_name, "path": is_paths, "title": is_text, "description": is_text,
    "homepage": is_text, "format": lambda value: is_text(value) and value in TABLE_FORMATS,
    "mediatype": is_text, "encoding": is_text, "bytes": is_whole, "licenses": is_licenses,
    "sources": is_sources, "schema": is_schema, "dialect": is_dialect,
}  # fmt: skip
RESOURCE_READ = frozenset(
    {*RESOURCE, "type", "profile", "data", "scheme", "compression", "extrapaths", "innerpath",
     "hash", "fields", "rows", "contributors", "missingValues", "url", "profiles", "stats",
     "hashing", "layout"}
)  # fmt: skip
PACKAGE = {
    "name": is_name, "title": is_text, "description": is_text, "homepage": is_text,
    "image": is_text, "version": is_text, "keywords": is_texts, "licenses": is_licenses,
    "sources": is_sources, "contributors": is_contributors, "resources": is_list,
}  # fmt: skip
PACKAGE_READ = frozenset(
    {*PACKAGE, "type", "profile", "created", "fields", "missingValues", "profiles",
     "$frictionless"}
)  # fmt: skip


def is_resource(resource: Any) -> bool:
    return (
        isinstance(resource, dict)
        and "name" in resource
        and "path" in resource
        and fits(resource, RESOURCE, RESOURCE_READ)
    )


def surely_accepted(descriptor: Any) -> bool:
    """Whether frictionless surely finds nothing wrong with this descriptor (its profiles
    left out, as verdicts.py gives it). False means: ask frictionless, which is also the
    answer if a shape nobody foresaw trips a check here."""
    try:
        return is_plain_package(descriptor)
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError):
        return False


def is_plain_package(descriptor: Any) -> bool:
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list) or not all(is_resource(r) for r in resources):
        return False
    names = [resource["name"] for resource in resources]
    return len(set(names)) == len(names) and fits(descriptor, PACKAGE, PACKAGE_READ)
