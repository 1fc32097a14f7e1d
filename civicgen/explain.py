"""Turn a kernel's raw error tuples into errors with sentences a citizen can act on."""

from __future__ import annotations

import difflib
import json
from typing import Any

from .errors import ERRORS, CivicError, preview
from .scan.plan import FieldPlan

TYPE_HINTS = {
    "integer": ("a whole number", "write digits only, like 1250, with no spaces, dots or commas"),
    "number": ("a number", "write digits with a dot as decimal separator, like 12.5"),
    "boolean": ("true or false", "write one of: {true_false}"),
    "date": ("a date", "write the date as {date_format}"),
    "time": ("a time", "write the time as HH:MM:SS, like 14:30:00"),
    "datetime": (
        "a date and time",
        "write it as YYYY-MM-DDTHH:MM:SS with a time zone, like 2025-03-31T14:00:00+02:00",
    ),
    "year": ("a year", "write four digits, like 2025"),
    "yearmonth": ("a year and month", "write it as YYYY-MM, like 2025-03"),
    "duration": ("a duration", "write an ISO 8601 duration, like P1DT2H"),
    "geopoint": ("a point", 'write "longitude, latitude", like "-3.70, 40.42"'),
    "geojson": ("a GeoJSON object", "write a JSON object"),
    "object": ("a JSON object", 'write a JSON object, like {{"key": "value"}}'),
    "array": ("a list", 'write a JSON list, like ["a", "b"]'),
    "string": ("valid text for this field", "check the format {string_format}"),
}
STRUCTURE = {
    "blank-row": "this row is empty; delete it",
    "missing-cell": "this row has fewer cells than the header; add the missing value "
    "(leave it empty between two commas if it is unknown)",
    "blank-label": "this column has no name in the header row; write the field name",
    "missing-label": "the header row lacks this field; add its name as a column",
}


def number_hint(field: FieldPlan) -> str:
    """How this number field writes numbers: its decimalChar and groupChar (Table Schema)."""
    if field.decimal_char == "." and not field.group_char:
        return TYPE_HINTS["number"][1]
    example = (
        f"1{field.group_char}234{field.decimal_char}5"
        if field.group_char
        else f"12{field.decimal_char}5"
    )
    grouped = f' and "{field.group_char}" between thousands' if field.group_char else ""
    return f'write digits with "{field.decimal_char}" as decimal separator{grouped}, like {example}'


def type_note(field: FieldPlan, cell: str) -> str:
    what, fix = TYPE_HINTS.get(field.type, ("valid", "check the value"))
    fix = number_hint(field) if field.type == "number" else fix
    date_format = (
        "YYYY-MM-DD, like 2025-03-31"
        if field.format in ("default", "any")
        else (f"{field.format} (Python strptime pattern)")
    )
    fix = fix.format(
        true_false=", ".join(field.true_values + field.false_values),
        date_format=date_format,
        string_format=field.format,
    )
    return f'"{preview(cell)}" is not {what}; {fix}'


def suggestion(cell: str, options: list[str]) -> str:
    close = difflib.get_close_matches(cell, options, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def constraint_note(field: FieldPlan, cell: str, name: str) -> str:
    rule = dict(field.constraints).get(name)
    shown = f'"{preview(cell)}"'
    if name == "required":
        return "this field is required but is empty; fill it in"
    if name == "enum":
        options = [str(o) for o in rule or []]
        listed = ", ".join(options[:12]) + (", …" if len(options) > 12 else "")
        return (
            f"{shown} is not one of the allowed values{suggestion(cell, options)}; "
            f"use one of: {listed}"
        )
    if name in BOUNDS and cell.strip().lstrip("+-").lower() == "nan":
        return (
            f"{shown} (not a number) is in no range, so it breaks the {name} {rule}; "
            "write the number, or leave the cell empty if it is unknown"
        )
    notes = {
        "minimum": f"{shown} is below the minimum {rule}; use a value of at least {rule}",
        "maximum": f"{shown} is above the maximum {rule}; use a value of at most {rule}",
        "exclusiveMinimum": f"{shown} must be greater than {rule}",
        "exclusiveMaximum": f"{shown} must be less than {rule}",
        "minLength": f"{shown} is too short; write at least {rule} characters",
        "maxLength": f"{shown} is too long; write at most {rule} characters",
        "pattern": f"{shown} does not have the expected form; it must match {rule}",
    }
    return notes.get(name, f"{shown} breaks the {name} constraint")


def delimiter_hint(label: str) -> str:
    """A label holding a common delimiter: the file may use it, undeclared (frictionless
    would guess it; civicgen reads the dialect declared, "," by default)."""
    for name, char in (("semicolon", ";"), ("tab", "\t"), ("vertical bar", "|")):
        if char in label:
            shown = json.dumps(char)
            return (
                f"; if the file separates values with a {name}, declare it in datapackage.json: "
                f'"dialect": {{"delimiter": {shown}}}'
            )
    return ""


BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def note_for(code: str, field: FieldPlan | None, cell: str, detail: str) -> str:
    """The problem and its fix, for one raw error."""
    shown = f'"{preview(cell)}"'
    if code == "type-error" and field:
        return type_note(field, cell)
    if code == "constraint-error" and field:
        return constraint_note(field, cell, detail)
    if code == "unique-error":
        return f"{shown} already appears in row {detail}; each value must be unique"
    if code == "extra-cell":
        return (
            f"this row has more cells than the header (extra value {shown}); remove it, "
            'or put quotes around a value that contains a comma, like "12,5"'
        )
    if code == "primary-key" and not detail:
        return "this row has no key (its key cells are empty or not valid); fill them in"
    if code == "primary-key":
        return f"this row has the same key as row {detail}; change the key or remove one row"
    if code in ("duplicate-label", "incorrect-label", "extra-label"):
        expected = f'; the schema expects "{field.name}" here' if field else ""
        hint = delimiter_hint(cell)
        return f"the header {shown} is wrong ({code.replace('-', ' ')}){expected}{hint}"
    if code == "encoding-error":
        return (
            f"the file is not valid {detail} text (bytes {cell}); save it as UTF-8, or declare "
            'its encoding in datapackage.json, like "encoding": "latin-1"'
        )
    if code == "format-error":
        return f"the file is not well-formed ({detail}); check for a quote that is never closed"
    return STRUCTURE.get(code, detail or code)


def explain(
    raw: tuple[int, int, str, str, str],
    fields: tuple[FieldPlan, ...],
    **position: Any,
) -> CivicError:
    """A CivicError for one kernel error tuple, placed with the given position."""
    row, number, code, cell, detail = raw
    field = fields[number - 1] if 0 < number <= len(fields) else None
    error_class = ERRORS.get(code, CivicError)
    name = field.name if field else ""
    position.setdefault("row", row)
    return error_class(
        note=note_for(code, field, cell, detail),
        field_name=position.pop("field_name", name),
        field_number=number or None,
        cell=preview(cell),
        **position,
    )
