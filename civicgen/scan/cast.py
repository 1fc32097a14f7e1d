"""What a cell means: casting by type and format, constraints, and group keys.

The definitions both kernels follow (reference.Scanner through checkers.py, the compiled
kernel where it defers to Python); tests/test_hypothesis.py checks them cell by cell.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from .plan import FieldPlan

# (row, field_number or 0, code, cell, detail)
RawError = tuple[int, int, str, str, str]

NOT_CAST = object()

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$")
DURATION = re.compile(  # isodate's, which frictionless reads durations with
    r"^[+-]?P(?!\b)([0-9]+([,.][0-9]+)?Y)?([0-9]+([,.][0-9]+)?M)?([0-9]+([,.][0-9]+)?W)?"
    r"([0-9]+([,.][0-9]+)?D)?(T([0-9]+([,.][0-9]+)?H)?([0-9]+([,.][0-9]+)?M)?"
    r"([0-9]+([,.][0-9]+)?S)?)?$"
)
CHECKED_FORMATS = ("email", "uri", "uuid", "binary")  # string formats whose cells are read
NON_BARE = re.compile(r"((^[^-\d]*)|(\D*$))")


def cast_number(field: FieldPlan, cell: str) -> Any:
    text = cell.strip()
    if not field.bare_number:
        text = NON_BARE.sub("", text)
    if field.group_char:
        text = text.replace(field.group_char, "")
    if field.decimal_char != ".":
        if "." in text:
            return NOT_CAST
        text = text.replace(field.decimal_char, ".")
    return decimal_of(text)


def decimal_of(text: str) -> Any:
    """The Decimal of a number's text; a signalling NaN cannot be compared or hashed."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return NOT_CAST
    return NOT_CAST if value.is_snan() else value


def cast_integer(field: FieldPlan, cell: str) -> Any:
    text = cell.strip()
    if not field.bare_number:
        text = NON_BARE.sub("", text)
    try:
        return int(text)
    except ValueError:
        return NOT_CAST


def cast_boolean(field: FieldPlan, cell: str) -> Any:
    if cell in field.true_values:
        return True
    if cell in field.false_values:
        return False
    return NOT_CAST


def cast_string(field: FieldPlan, cell: str) -> Any:
    if field.format == "email" and not EMAIL.match(cell):
        return NOT_CAST
    if field.format == "uri" and not URI.match(cell):
        return NOT_CAST
    if field.format == "uuid":
        try:
            uuid.UUID(cell)
        except ValueError:
            return NOT_CAST
    if field.format == "binary":
        try:
            base64.b64decode(cell)  # as frictionless: other characters are skipped
        except ValueError:
            return NOT_CAST
    return cell


def strptime(cell: str, pattern: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(cell, pattern)
    except ValueError:
        return None


def cast_date(field: FieldPlan, cell: str) -> Any:
    parsed = strptime(cell, "%Y-%m-%d" if field.format in ("default", "any") else field.format)
    return NOT_CAST if parsed is None else parsed.date()


def cast_time(field: FieldPlan, cell: str) -> Any:
    if field.format not in ("default", "any"):
        parsed = strptime(cell, field.format)
        return NOT_CAST if parsed is None else parsed.time()
    if field.format == "default" and (len(cell) < 8 or cell[5] != ":"):
        return NOT_CAST  # the default format has seconds, as frictionless reads it
    try:
        return dt.time.fromisoformat(cell)
    except ValueError:
        return NOT_CAST


def cast_datetime(field: FieldPlan, cell: str) -> Any:
    if field.format not in ("default", "any"):
        parsed = strptime(cell, field.format)
        return NOT_CAST if parsed is None else parsed
    return iso_datetime(cell)


def iso_datetime(cell: str) -> Any:
    """A datetime in the default format: ISO 8601 with at least seconds."""
    if len(cell) < 19 or cell[16] != ":":
        return NOT_CAST
    try:
        return dt.datetime.fromisoformat(cell)
    except ValueError:
        return NOT_CAST


def cast_year(field: FieldPlan, cell: str) -> Any:
    if len(cell) != 4 or not (cell.isascii() and cell.isdigit()):
        return NOT_CAST
    return int(cell)


def cast_yearmonth(field: FieldPlan, cell: str) -> Any:
    year, _, month = cell.partition("-")
    if len(year) != 4 or not year.isdigit() or not month.isdigit() or not 1 <= int(month) <= 12:
        return NOT_CAST
    return (int(year), int(month))


def cast_duration(field: FieldPlan, cell: str) -> Any:
    return cell if DURATION.match(cell) else NOT_CAST


def cast_geopoint(field: FieldPlan, cell: str) -> Any:
    try:
        if field.format == "array":
            lon, lat = json.loads(cell)
        elif field.format == "object":
            point = json.loads(cell)
            lon, lat = point["lon"], point["lat"]
        else:
            lon, lat = (Decimal(part.strip()) for part in cell.split(","))
        lon, lat = Decimal(str(lon)), Decimal(str(lat))
    except (ValueError, TypeError, KeyError, InvalidOperation):
        return NOT_CAST
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else NOT_CAST


def cast_json(kind: type) -> Any:
    def cast(field: FieldPlan, cell: str) -> Any:
        try:
            value = json.loads(cell)
        except ValueError:
            return NOT_CAST
        return value if isinstance(value, kind) else NOT_CAST

    return cast


CASTERS = {
    "string": cast_string,
    "number": cast_number,
    "integer": cast_integer,
    "boolean": cast_boolean,
    "date": cast_date,
    "time": cast_time,
    "datetime": cast_datetime,
    "year": cast_year,
    "yearmonth": cast_yearmonth,
    "duration": cast_duration,
    "geopoint": cast_geopoint,
    "geojson": cast_json(dict),
    "object": cast_json(dict),
    "array": cast_json(list),
    "any": lambda field, cell: cell,
}


def cast(field: FieldPlan, cell: str) -> Any:
    """The typed value of a cell, or NOT_CAST."""
    return CASTERS.get(field.type, CASTERS["any"])(field, cell)


# --- constraints -----------------------------------------------------------------------


def bound(field: FieldPlan, value: Any) -> Any:
    """A constraint bound in the field's own type (bounds may be written as strings)."""
    if isinstance(value, str):
        return cast(field, value)
    if field.type == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def broken_constraint(field: FieldPlan, cell: str, value: Any) -> str | None:
    """The name of the first constraint the value breaks, if any."""
    for name, rule in field.constraints:
        if name in ("required", "unique"):
            continue
        if name in ("minLength", "maxLength"):
            length = len(value) if isinstance(value, (str, list, dict)) else None
            if length is not None and (length < rule if name == "minLength" else length > rule):
                return name
        elif name == "pattern":
            if not re.fullmatch(str(rule), cell):
                return name
        elif name == "enum":
            if value not in [bound(field, option) for option in rule]:
                return name
        elif breaks_bound(name, value, bound(field, rule)):
            return name
    return None


def breaks_bound(name: str, value: Any, limit: Any) -> bool:
    """Whether a value breaks a bound. NaN breaks every bound (it is in no range), as in
    frictionless; infinities compare as numbers."""
    try:
        if name == "minimum":
            return bool(value < limit)
        if name == "maximum":
            return bool(value > limit)
        if name == "exclusiveMinimum":
            return bool(value <= limit)
        if name == "exclusiveMaximum":
            return bool(value >= limit)
    except InvalidOperation:  # a Decimal NaN does not compare: the value's breaks the bound
        return value != value
    except TypeError:
        return False  # incomparable (a bound of another type): no verdict
    return False


# --- CSV -------------------------------------------------------------------------------


def group_key(cell: str, transform: str, argument: int) -> str:
    """A group key from a cell's text: the whole value, a code prefix, a day or an hour."""
    if transform == "prefix":
        return cell[:argument]
    if transform == "day":
        return cell[:10]
    if transform == "hour":
        return cell[:13]
    return cell
