"""accepted.py against frictionless itself: whatever civicgen surely accepts, frictionless
finds nothing wrong with; and the descriptors civicgen writes and ships are surely accepted,
so that validating them never imports frictionless.

The generated descriptors start from the repository's own and a small one that uses every
property accepted.py reads, then take one to three random edits: a key set to a value from a
pool of right, wrong and odd values, a value replaced or removed, a list item repeated.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicgen.accepted import TABLE_FORMATS, surely_accepted
from civicgen.descriptor import without_profiles
from civicgen.frictionless_check import frictionless_errors

SHIPPED = sorted(
    path
    for folder in (
        "datasets",
        "tools-catalog",
        "civicgen/templates/new",
        "tests/fixtures/second-city",
    )
    for path in (ROOT / folder).glob("**/datapackage.json")
)
EVERY_PROPERTY = {
    "name": "every-property",
    "title": "Every property accepted.py reads",
    "description": "d",
    "homepage": "https://example.org",
    "image": "logo.png",
    "version": "1.0.0",
    "keywords": ["a", "b"],
    "licenses": [{"name": "CC-BY-4.0", "path": "https://example.org/l", "title": "CC BY"}],
    "sources": [{"title": "City", "path": "https://example.org/s"}],
    "contributors": [{"title": "Ana", "role": "author", "organisation": "City"}],
    "x-city": {"anything": [1, None]},
    "resources": [
        {
            "name": "main",
            "path": "data/main.csv",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "bytes": 120,
            "dialect": {"delimiter": ";", "header": True, "quoteChar": '"'},
            "schema": {
                "fields": [
                    {"name": "id", "type": "integer", "constraints": {"required": True,
                     "unique": True, "minimum": 1}},
                    {"name": "label", "type": "string", "format": "default",
                     "constraints": {"pattern": "[A-Z].*", "maxLength": 40, "enum": ["A", "B"]}},
                    {"name": "amount", "type": "number", "decimalChar": ",", "groupChar": "."},
                    {"name": "open", "type": "boolean", "trueValues": ["yes"]},
                    {"name": "day", "type": "date", "format": "%d/%m/%Y"},
                    {"name": "tags", "type": "array", "arrayItem": {"type": "string"}},
                    {"name": "where", "type": "geopoint"},
                    {"name": "parent"},
                ],
                "primaryKey": "id",
                "foreignKeys": [
                    {"fields": "parent", "reference": {"resource": "", "fields": "id"}},
                    {"fields": ["label"], "reference": {"resource": "codes", "fields": ["code"]}},
                ],
                "missingValues": ["", "NA"],
            },
        },
        {"name": "codes", "path": ["codes/a.csv", "codes/b.csv"],
         "schema": {"fields": [{"name": "code", "type": "string"}], "primaryKey": ["code"]}},
    ],
}  # fmt: skip

KEYS = sorted(
    {"name", "title", "description", "homepage", "image", "version", "created", "keywords",
     "licenses", "sources", "contributors", "resources", "type", "profile", "profiles", "path",
     "data", "url", "format", "mediatype", "encoding", "bytes", "hash", "scheme", "compression",
     "extrapaths", "stats", "layout", "schema", "dialect", "fields", "primaryKey",
     "foreignKeys", "missingValues", "fieldsMatch", "constraints", "required", "unique",
     "minimum", "maximum", "minLength", "maxLength", "pattern", "enum", "exclusiveMinimum",
     "trueValues", "falseValues", "bareNumber", "decimalChar", "groupChar", "arrayItem",
     "itemType", "delimiter", "quoteChar", "doubleQuote", "header", "headerRows", "csv",
     "email", "role", "organisation", "reference", "resource", "example", "rdfType",
     "x-custom", "unit"}
)  # fmt: skip
VALUES: list[Any] = [
    "", "Bad Name", "UPPER", "ok-name", "abc\n", "../x.csv", "/abs.csv", "~x", "a$HOME.csv",
    "%X%", "C:\\x.csv", "file:x.csv", "http://x.org/y.csv", "x.pandas", "pandas", "x.csv",
    "a@b.com", "bad", "2020-01-01T00:00:00Z", "2020-01-01", "integer", "string", "number",
    "date", "boolean", "any", "year", "geojson", "list", "String", "foo", "default", "email",
    "uri", "topojson", "fmt:%Y", "%Y", "id", "label", "code", "table", "file", "P1D", "[", 0, 1,
    -1, 1.0, 1.5, True, False, None, [], ["id"], ["x"], [1], ["a", "b"], [None], {}, {"a": 1},
    {"name": "id"}, {"name": "id", "type": "integer"}, {"resource": "", "fields": ["id"]},
    {"fields": []}, {"fields": [{"name": "id"}]}, {"delimiter": ";"}, [{"name": "x"}],
    [{"name": "id", "type": "string"}], [{"title": "t"}], [{"name": "MIT"}],
    [{"fields": "id", "reference": {"resource": "", "fields": "id"}}],
    [{"name": "r2", "path": "y.csv"}], {"required": True}, {"minimum": 1}, {"enum": ["a"]},
    {"pattern": "x"}, {"minLength": 1}, {"unique": "yes"}, {"exclusiveMinimum": 0},
    "a../b.csv", "x.PANDAS", "x?format=pandas", "x.csv.zip", "x.tsv", "tsv", "csv", "CSV",
    "exact", ["exact"], ["ok.csv", "q../r.csv"],
]  # fmt: skip


def shipped(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def nodes(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every object, list and value of a descriptor, with the keys and indexes leading to it."""
    found = [(at, node)]
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        found += nodes(child, (*at, key))
    return found


@st.composite
def edited_descriptors(draw: st.DrawFn) -> dict[str, Any]:
    descriptor = copy.deepcopy(draw(st.sampled_from([EVERY_PROPERTY, *map(shipped, SHIPPED)])))
    for _ in range(draw(st.integers(1, 3))):
        at, node = draw(st.sampled_from(nodes(descriptor)))
        value = copy.deepcopy(draw(st.sampled_from(VALUES)))
        edit = draw(st.sampled_from(["set key", "replace", "remove", "repeat"]))
        if edit == "set key" and isinstance(node, dict):
            node[draw(st.sampled_from(KEYS))] = value
        elif edit == "repeat" and isinstance(node, list) and node:
            node.append(copy.deepcopy(draw(st.sampled_from(node))))
        elif at:
            parent = descriptor
            for key in at[:-1]:
                parent = parent[key]
            if edit == "remove":
                del parent[at[-1]]
            else:
                parent[at[-1]] = value
    return descriptor


@settings(
    max_examples=700,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(edited_descriptors())
def test_what_civicgen_surely_accepts_frictionless_accepts(descriptor: dict[str, Any]) -> None:
    if surely_accepted(without_profiles(descriptor)):
        assert frictionless_errors(descriptor, "datapackage.json") == [], descriptor


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_descriptors_civicgen_ships_are_surely_accepted(path: Path) -> None:
    descriptor = without_profiles(shipped(path))
    assert surely_accepted(descriptor)
    assert frictionless_errors(descriptor, str(path)) == []


@pytest.mark.parametrize("table_format", sorted(TABLE_FORMATS))
def test_each_table_format_surely_accepted_is_accepted_by_frictionless(table_format: str) -> None:
    descriptor = copy.deepcopy(EVERY_PROPERTY)
    descriptor["resources"][0].update(path=f"data/main.{table_format}", format=table_format)
    assert surely_accepted(descriptor)
    assert frictionless_errors(descriptor, "datapackage.json") == []


def test_every_property_is_surely_accepted_and_frictionless_agrees() -> None:
    assert surely_accepted(EVERY_PROPERTY)
    assert frictionless_errors(EVERY_PROPERTY, "datapackage.json") == []


@pytest.mark.parametrize(
    ("where", "edit"),
    [
        ((), {"name": "Bad Name"}),  # frictionless: does not match the name pattern
        (("resources", 0), {"path": "../main.csv"}),  # not safe
        (("resources", 0, "schema"), {"primaryKey": "missing"}),  # no such field
        (("resources", 0, "schema", "fields", 0), {"type": "String"}),  # no such type
        (("resources", 0, "schema", "fields", 0), {"constraints": {"pattern": "x"}}),  # integer
        (("resources", 0, "schema", "fields", 0), {"example": "one"}),  # not an integer
        ((), {"created": "2020-01-01T00:00:00Z"}),  # right, but left to frictionless
        (("sources", 0), {"email": "a@b.com"}),  # right, but left to frictionless
        # found by review, each refused by frictionless: "../" inside a name, and paths its
        # plugins read as the pandas format (case, query, fragment, compression)
        (("resources", 0), {"path": "a../b.csv"}),
        (("resources", 0), {"path": "x/y../z.csv"}),
        (("resources", 0), {"path": ["ok.csv", "q../r.csv"]}),
        (("resources", 0), {"path": "x.PANDAS", "format": ""}),
        (("resources", 0), {"path": "x.pandas#a"}),
        (("resources", 0), {"path": "t?format=pandas"}),
        (("resources", 0), {"path": "x.pandas.zip"}),
        (("resources", 0, "schema"), {"fieldsMatch": ["exact"]}),  # unhashable: no crash
    ],
)
def test_anything_outside_the_plain_shape_is_left_to_frictionless(
    where: tuple[Any, ...], edit: dict[str, Any]
) -> None:
    descriptor = copy.deepcopy(EVERY_PROPERTY)
    node: Any = descriptor
    for key in where:
        node = node[key]
    node.update(edit)
    assert not surely_accepted(descriptor)
