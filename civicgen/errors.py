"""Validation errors: one class per stable code, positions first, then the problem, then the fix.

Codes reuse frictionless's where they fit, so a report reads the same in both tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

CELL_PREVIEW = 80
T = TypeVar("T")


@dataclass(frozen=True)
class CivicError:
    """A problem found in the data: where it is, what is wrong and how to fix it."""

    code: ClassVar[str] = "civic-error"
    title: ClassVar[str] = "Error"
    description: ClassVar[str] = "Something in the repository needs fixing."
    tags: ClassVar[tuple[str, ...]] = ()
    example: ClassVar[str] = "datasets/x/datapackage.json: something needs fixing"
    fix: ClassVar[str] = "Read the message: it names the file and what to change."

    note: str
    path: str = ""
    resource: str = ""
    row: int | None = None
    field_name: str = ""
    field_number: int | None = None
    line: int | None = None  # 0-based, shown 1-based (as pyyaml marks)
    column: int | None = None
    cell: str = ""
    warning: bool = field(default=False, compare=False)

    @property
    def position(self) -> str:
        """Where the error is, as a citizen reads it."""
        parts = [self.path or "(repository)"]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.line is not None:
            parts.append(f"line {self.line + 1}")
        if self.field_name:
            number = f" ({self.field_number})" if self.field_number and self.row else ""
            parts.append(f'field "{self.field_name}"{number}')
        return ", ".join(parts)

    @property
    def message(self) -> str:
        """Position first, then the problem and the fix."""
        return f"{self.position}: {self.note}"

    def to_dict(self) -> dict[str, object]:
        """The JSON contract: code, path, row, field, message (plus positions)."""
        return {
            "code": self.code,
            "path": self.path,
            "row": self.row,
            "field": self.field_name or None,
            "message": self.message,
            "resource": self.resource or None,
            "field_number": self.field_number,
            "line": None if self.line is None else self.line + 1,
            "column": None if self.column is None else self.column + 1,
        }


def preview(cell: str) -> str:
    """A cell shortened for a message."""
    return cell if len(cell) <= CELL_PREVIEW else cell[: CELL_PREVIEW - 1] + "…"


class FileError(CivicError):
    code = "file-error"
    title = "File error"
    description = "A file cannot be read."
    example = "datasets/air-quality/data/readings.csv: this file is not in the repository; add it, or fix the path that names it"
    fix = "Add the file, or correct the `path` in datapackage.json."
    tags = ("#file",)


class SchemeError(FileError):
    code = "scheme-error"
    title = "Remote file"
    description = "A resource points to a URL; civicgen never fetches from the network."
    example = 'datasets/budget/datapackage.json: resource "budget" points to https://example.org/b.csv; civicgen never downloads data while validating or building'
    fix = "Commit the file to the repository and give its relative path."


class UnsafePathError(FileError):
    code = "unsafe-path"
    title = "Unsafe path"
    description = "A path points outside the repository or through a link."
    example = 'datasets/budget/datapackage.json: "../../secrets.csv" points outside the repository'
    fix = "Keep data files inside the package folder and name them by a relative path."


class GitPathError(UnsafePathError):
    code = "git-path"
    title = "Path into .git"
    description = "A path leads into git's own folder, where credentials and history live."
    example = 'datasets/budget/datapackage.json: "../../.git/config" points into .git, the folder where git keeps its own files'
    fix = "Name a data file of the package instead."


class LinkPathError(UnsafePathError):
    code = "link-path"
    title = "Path through a link"
    description = "A path goes through a symbolic link; links are never followed."
    example = 'datasets/budget/data/budget.csv: "data/budget.csv" goes through a symbolic link'
    fix = "Replace the link with the file itself."


class SubmodulePathError(UnsafePathError):
    code = "submodule-path"
    title = "Path into a submodule"
    description = "A path leads into a git submodule, another repository not reviewed here."
    example = "datasets/budget/data/budget.csv: it is inside a git submodule"
    fix = "Copy the files into this repository, so that they are reviewed with it."


class LfsPointerError(UnsafePathError):
    code = "lfs-pointer"
    title = "Git LFS pointer"
    description = "A file is a Git LFS pointer; its content lives elsewhere and is never fetched."
    example = "datasets/budget/data/budget.csv: it is a Git LFS pointer, not the data"
    fix = "Commit the file itself (`git lfs untrack`); git compresses it already."


class RemoteReferenceError(SchemeError):
    code = "remote-reference"
    title = "Remote reference"
    description = (
        "A profile, $schema, schema or dialect names a URL or another file; "
        "civicgen reads descriptors whole and never fetches them."
    )
    example = 'datasets/budget/datapackage.json, field "profile": "profile" must be one of the standard profiles or left out'
    fix = "Write the schema and dialect out in datapackage.json; use a standard profile name."


class TooLargeError(FileError):
    code = "too-large"
    title = "Too large"
    description = (
        "A file or a collection is larger than the configured limit, or a table's statistics "
        "would hold more groups than it."
    )
    example = "datasets/budget/datapackage.json: this file is 3.0 MiB, more than the 2.0 MiB civicgen reads"
    fix = "Make the file smaller (move long text into a page), or raise the limit named in the message in mkdocs.yml."


class NestingError(FileError):
    code = "nesting-too-deep"
    title = "Nested too deep"
    description = "JSON or YAML lists and objects are nested deeper than the configured limit."
    example = "datasets/budget/datapackage.json, line 1: lists and objects are nested more than 64 levels deep here"
    fix = "Flatten the structure; real descriptors and records need a few levels."


class DuplicateKeyError(FileError):
    code = "duplicate-key"
    title = "Duplicate key"
    description = "A JSON object or YAML mapping names the same key twice."
    example = 'tools-catalog/ckan.yaml, line 8: the key "licence" appears twice in the same object'
    fix = "Keep one of the two lines: readers disagree on which one counts."


class YamlAliasError(FileError):
    code = "yaml-alias"
    title = "YAML alias"
    description = "A record uses YAML aliases (*name), which can expand without bound."
    example = (
        "tools-catalog/bomb.yaml, line 2: YAML aliases (*name) are not accepted here (no aliases)"
    )
    fix = "Write the values out in full instead of `&anchor` / `*alias`."


class UntrustedCacheError(FileError):
    code = "untrusted-cache"
    title = "Cache in the repository"
    description = "A scan cache was found inside the repository; it is ignored, never trusted."
    example = ".civicgen-cache: a scan cache (.civicgen-cache) is inside the repository; civicgen never reads it"
    fix = "Delete the folder from the repository; caches live in the user's cache folder."


class CompressionError(FileError):
    code = "compression-error"
    title = "Compressed file"
    description = "A resource is compressed; civicgen reads data files uncompressed, within limits."
    example = 'datasets/budget/datapackage.json: resource "budget" is compressed (budget.csv.gz)'
    fix = "Commit the CSV uncompressed: git already compresses what it stores."


class EncodingError(FileError):
    code = "encoding-error"
    title = "Encoding error"
    description = (
        "The file is not in the declared text encoding (UTF-8 by default). Unlike "
        "frictionless, civicgen does not guess an undeclared encoding: a latin-1 file with "
        'no "encoding" passes frictionless (which detects it) and fails here; declare it.'
    )
    example = "datasets/budget/data/budget.csv, row 7: the bytes are not UTF-8"
    fix = "Save the file as UTF-8 (in a spreadsheet: CSV UTF-8), or declare its encoding."


class FormatError(FileError):
    code = "format-error"
    title = "Format error"
    description = (
        "The file is not well-formed CSV, YAML, JSON or front matter. A quote never closed "
        "is a format error here; frictionless reads on to the end of the file instead."
    )
    example = "tools-catalog/ckan.yaml, line 3: this is not valid YAML (mapping values are not allowed here); check indentation and colons"
    fix = "Fix the syntax at the line given: quotes, colons, commas, brackets."


class DescriptorError(CivicError):
    code = "descriptor-error"
    title = "Descriptor error"
    description = "datapackage.json does not follow the Data Package specification."
    example = 'datasets/budget/datapackage.json, field "civicgen": "civicgen" must be an object; fix it in datapackage.json'
    fix = "Correct datapackage.json as the message says; https://datapackage.org describes every property."
    tags = ("#descriptor",)


class PackageError(DescriptorError):
    code = "package-error"
    title = "Package error"
    description = "The package descriptor breaks the Data Package specification."
    example = 'datasets/budget/datapackage.json: "name" is required; fix datapackage.json'
    fix = "Add or correct the package property named in the message."


class ResourceError(DescriptorError):
    code = "resource-error"
    title = "Resource error"
    description = "A resource of the descriptor is malformed."
    example = 'datasets/budget/datapackage.json: "path" is not safe; fix datapackage.json'
    fix = "Correct the resource named in the message."


class SchemaError(DescriptorError):
    code = "schema-error"
    title = "Schema error"
    description = "A Table Schema is malformed (for example a primary key naming no field)."
    example = (
        'datasets/budget/datapackage.json: primary key "ID" is not a field; fix datapackage.json'
    )
    fix = "Make the schema's keys name fields that exist."


class FieldError(DescriptorError):
    code = "field-error"
    title = "Field error"
    description = "A field of a Table Schema is malformed (unknown type, unsupported constraint)."
    example = 'datasets/budget/datapackage.json: field type "money" is not supported; fix datapackage.json'
    fix = "Use a Table Schema type (string, number, integer, date…)."


class ProfileError(DescriptorError):
    code = "profile-error"
    title = "Profile error"
    description = "The package's civicgen profile is missing something it needs."
    example = "datasets/budget/datapackage.json: the budget profile needs an amount field"
    fix = "Declare what the profile needs in the descriptor's `civicgen` property (docs/configuration.md)."


class RecordError(CivicError):
    code = "record-error"
    title = "Record error"
    description = "A one-file-per-record entry has a problem."
    example = "tools-catalog/decidim.yaml: the record has a problem"
    fix = "Edit the record file named in the message."
    tags = ("#record",)


class RecordMissingKeyError(RecordError):
    code = "record-missing-key"
    title = "Record name"
    description = "A record's file name is not a valid identifier."
    example = 'datasets/proposals/records/Bike Lane.md, field "id": the file name "Bike Lane" cannot be used as id'
    fix = "Rename the file with lowercase letters, digits and hyphens, like bike-lane.md."


class UnknownLicenceError(RecordError):
    code = "unknown-licence"
    title = "Unknown licence"
    description = "A licence is not a valid SPDX identifier or expression."
    example = 'tools-catalog/decidim.yaml, line 9, field "licence": "NOT-A-LICENCE" is not an SPDX licence identifier'
    fix = "Use the id from spdx.org/licenses, like AGPL-3.0-only or MIT."


class PubliccodeError(RecordError):
    code = "publiccode-error"
    title = "publiccode.yml error"
    description = (
        "A publiccode.yml file does not follow the standard (publiccode.yml v0): a required "
        "key is missing, a value has the wrong type or is not one of the standard's values, "
        "or a key is unknown. The message names the key, its line and its column."
    )
    example = './publiccode.yml, line 16, column 1, field "developmentStatus": "foobar" is not a development status; use one of beta, concept, development, obsolete, stable'
    fix = "Correct the key at the line and column given; the standard is at yml.publiccode.tools."

    @property
    def position(self) -> str:
        """Path, line and column, then the key."""
        parts = [self.path or "(repository)"]
        if self.line is not None:
            parts.append(f"line {self.line + 1}")
            if self.column is not None:
                parts.append(f"column {self.column + 1}")
        if self.field_name:
            parts.append(f'field "{self.field_name}"')
        return ", ".join(parts)


class CatalogQuestionError(PubliccodeError):
    code = "catalog-question"
    title = "Catalog field to choose"
    description = (
        "`catalog import` cannot fill a required catalog field from the source file (no "
        "category of the source matches a catalog category, the source does not say how "
        "the tool is hosted…) and asks instead of guessing. Nothing is written."
    )
    example = './publiccode.yml, line 9, column 1, field "categories": no category of this file (cloud-management) is a catalog category; choose with --category, e.g. --category participation'
    fix = "Run the import again with the option the message names (--category, --hosting…)."


class TableError(CivicError):
    code = "table-error"
    title = "Table error"
    description = "A table as a whole has a problem."
    example = "datasets/budget/data/budget.csv: the table has a problem"
    fix = "Edit the CSV file named in the message."
    tags: ClassVar[tuple[str, ...]] = ("#table",)


class LabelError(TableError):
    code = "label-error"
    title = "Label error"
    description = "A header label has a problem."
    example = "datasets/budget/data/budget.csv, row 1: a header label has a problem"
    fix = "Make the first row match the schema's field names."
    tags = ("#table", "#header", "#label")


class BlankLabelError(LabelError):
    code = "blank-label"
    title = "Blank label"
    description = "A column has no header label."
    example = "datasets/budget/data/budget.csv, row 1, field 3: the header has an empty label"
    fix = "Write the field's name in the first row."


class DuplicateLabelError(LabelError):
    code = "duplicate-label"
    title = "Duplicate label"
    description = "Two columns have the same header label."
    example = 'datasets/budget/data/budget.csv, row 1, field "year" (4): "year" appears twice in the header'
    fix = "Rename or remove one of the two columns."


class IncorrectLabelError(LabelError):
    code = "incorrect-label"
    title = "Incorrect label"
    description = (
        "A header label does not match the schema's field name at that position. civicgen "
        'reads the delimiter the dialect declares ("," by default); frictionless guesses an '
        'undeclared one from the file, so a ";"-separated file with no "dialect" passes there '
        "and fails here with this error: declare the delimiter."
    )
    example = (
        'datasets/budget/data/budget.csv, row 1, field "amount" (2): the header says "importe"'
    )
    fix = "Rename the column as in the schema, or fix the schema."


class MissingLabelError(LabelError):
    code = "missing-label"
    title = "Missing label"
    description = "The schema has more fields than the header has labels."
    example = 'datasets/budget/data/budget.csv, row 1: the header has no label for field "year"'
    fix = "Add the missing column, or remove the field from the schema."


class ExtraLabelError(LabelError):
    code = "extra-label"
    title = "Extra label"
    description = "The header has more labels than the schema has fields."
    example = 'datasets/budget/data/budget.csv, row 1: the header has a label "notes" that the schema lacks'
    fix = "Remove the column, or describe it in the schema."


class RowError(TableError):
    code = "row-error"
    title = "Row error"
    description = "A row has a problem."
    example = "datasets/budget/data/budget.csv, row 12: the row has a problem"
    fix = "Edit the row named in the message."
    tags: ClassVar[tuple[str, ...]] = ("#table", "#row")


class BlankRowError(RowError):
    code = "blank-row"
    title = "Blank row"
    description = (
        "A row is completely empty. It is reported once: frictionless also reports a "
        "primary-key error for it (its key cells are all empty)."
    )
    example = "datasets/budget/data/budget.csv, row 40: this row is empty"
    fix = "Delete the empty line."


class PrimaryKeyError(RowError):
    code = "primary-key"
    title = "Primary key error"
    description = (
        "Two rows share the same primary key, or a row has no key (its key cells are all "
        "empty or not of their type), as frictionless reports them. A key with only some "
        "cells empty is compared with the others like any key, and a key field missing from "
        "the header is not checked, as in frictionless."
    )
    example = "datasets/budget/data/budget.csv, row 9: the key 2015, 001 is already used by row 4"
    fix = "Make each row's key unique, or merge the two rows."


class ForeignKeyError(RowError):
    code = "foreign-key"
    title = "Foreign key error"
    description = (
        "A value refers to a row that does not exist in the referenced table. A foreign key "
        "is checked here only when all its cells have a value; frictionless also checks one "
        "with some cells empty (and gives no field number)."
    )
    example = 'datasets/proposals/records/pb-1.md, line 6, field "program": "999" does not exist in madrid-budget/programas'
    fix = "Use a value that appears in the referenced table, or add it there first."


class RowConstraintError(RowError):
    code = "row-constraint"
    title = "Row constraint"
    description = (
        "Two values of one row or record contradict each other, as frictionless's "
        "row-constraint check reports it: for example a question to the council answered "
        "before it was asked."
    )
    example = 'datasets/enquiries/records/enq-2015-001.yaml, line 8, field "answered": answered on 2015-03-01, before the question was asked (2015-04-02)'
    fix = "Correct the date (or the other value) so that the two agree."


class CellError(RowError):
    code = "cell-error"
    title = "Cell error"
    description = "A cell has a problem."
    example = 'datasets/budget/data/budget.csv, row 3, field "amount" (5): the cell has a problem'
    fix = "Edit the cell named in the message."
    tags = ("#table", "#row", "#cell")


class ExtraCellError(CellError):
    code = "extra-cell"
    title = "Extra cell"
    description = "A row has more cells than the header, or a record has a key not in the schema."
    example = "datasets/budget/data/budget.csv, row 2: this row has 13 cells but the header has 12"
    fix = "Quote a cell that holds the delimiter, or remove the extra cell."


class MissingCellError(CellError):
    code = "missing-cell"
    title = "Missing cell"
    description = (
        "A row has fewer cells than the header. It is reported once: frictionless also "
        "reports a constraint-error for a missing cell of a required field."
    )
    example = "datasets/budget/data/budget.csv, row 2: this row has 11 cells but the header has 12"
    fix = "Add the missing cells (empty ones are fine: two commas in a row)."


class TypeError_(CellError):
    code = "type-error"
    title = "Type error"
    description = (
        "A value does not match its field's type and format. A resource with no schema is "
        "checked, as frictionless checks it, against the types inferred from its first 100 "
        'rows. "sNaN" (a signalling NaN) is not a number here; frictionless reads it as one. '
        "A geojson value need only be a JSON object here (frictionless also checks it against "
        "the GeoJSON schema), a wkt string is not parsed, and a duration in the alternative "
        "form P0003-06-04T12:30:05 is not read."
    )
    example = 'datasets/budget/data/budget.csv, row 2, field "IMPORTE" (12): "12,5x" is not a whole number'
    fix = "Write the value as its type asks: digits only, a dot as decimal separator, dates as 2025-01-31."


class ConstraintError(CellError):
    code = "constraint-error"
    title = "Constraint error"
    description = (
        "A value breaks one of its field's constraints (required, minimum, enum…). NaN "
        "breaks every minimum and maximum, as in frictionless. A cell that breaks several "
        "constraints is reported once, for the first (frictionless reports each)."
    )
    example = (
        'datasets/proposals/records/pb-1.md, field "title": this field is required but is empty'
    )
    fix = "Fill in the value, or change it to one the constraint allows."


class UniqueError(CellError):
    code = "unique-error"
    title = "Unique error"
    description = "A value of a field marked unique appears twice."
    example = 'datasets/budget/data/programas.csv, row 8, field "PROGRAMA" (1): "13201" is already in row 3'
    fix = "Keep each value once in this column."


# --- CSV records over the scan's limits (scan/plan.py Limits) ---------------------------


class CellTooLargeError(CellError):
    code = "cell-too-large"
    title = "Cell too large"
    description = (
        "A CSV cell holds more bytes than the limit (1 MiB unless configured), for example a "
        "whole document pasted into one cell or a quote that is never closed; shorten it, or "
        "publish long text as a file of its own. frictionless has no such limit."
    )
    example = 'datasets/air-quality/data/readings.csv, row 3, field "station" (1): this cell holds 2.0 MiB, more than the 1 MiB civicgen reads'
    fix = "Shorten the cell, close a quote left open, or publish long text as a file of its own."


class RowTooLargeError(RowError):
    code = "row-too-large"
    title = "Row too large"
    description = (
        "A CSV row holds more bytes than the limit (8 MiB unless configured), for example a "
        "file with no line breaks; check the line endings, or split the row."
    )
    example = "datasets/air-quality/data/readings.csv, row 2: this row holds more than 8 MiB"
    fix = "Check the line endings (a file with no line breaks is one row), or split the row."


class DialectError(DescriptorError):
    code = "dialect-error"
    title = "Dialect error"
    description = (
        "A resource's CSV dialect cannot be read, for example a delimiter of two characters "
        '("::"); write one character, like ";". commentChar, escapeChar and nullSequence '
        "are not read: frictionless skips a comment line and unescapes a delimiter, civicgen "
        "reads them as plain CSV (and reports what they break). civicgen never guesses a "
        "dialect the descriptor leaves out: frictionless takes as header the first row about "
        "as wide as the others (a title line above the header passes there); here the header "
        'is row 1 unless "headerRows" says otherwise.'
    )
    example = 'datasets/air-quality/datapackage.json: the dialect of resource "readings" cannot be read: a delimiter must be one character'
    fix = 'Write a one-character delimiter and quote character, like ";" and \'"\'.'


class TooManyCellsError(RowError):
    code = "too-many-cells"
    title = "Too many cells"
    description = (
        "A CSV row has more cells than the limit (16,384, a spreadsheet's most columns, "
        "unless configured), for example a wrong delimiter; check the delimiter in the dialect."
    )
    example = "datasets/air-quality/data/readings.csv, row 2: this row has more than 16384 cells"
    fix = "Check the delimiter declared in the dialect; the file may use another one."


# --- text that cannot mislead, personal data (issue 8) ----------------------------------


class TextError(CivicError):
    code = "text-error"
    title = "Misleading text"
    description = "A name, label or text cell holds characters that can mislead a reader."
    example = 'datasets/proposals/records/pb-2015-001.md, line 2, field "title": the text holds a character that can mislead'
    fix = "Retype the text without the character the message names."
    tags = ("#text",)


class BidiControlError(TextError):
    code = "bidi-control"
    title = "Bidirectional control"
    description = (
        "A name, label or cell holds an invisible character that reorders the text "
        "(U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C); retype the text without it."
    )
    example = 'datasets/proposals/records/pb-2015-001.md, line 2, field "title": U+202E (RIGHT-TO-LEFT OVERRIDE) at character 19 reorders the text'
    fix = "Retype the text without it; to quote right-to-left text, just type it."


class InvisibleCharacterError(TextError):
    code = "invisible-character"
    title = "Invisible character"
    description = (
        "A name, label or cell holds a zero-width, soft-hyphen, format or control character "
        "that a reader cannot see; delete it."
    )
    example = 'tools-catalog/decidim.yaml, line 1, field "name": U+200B (ZERO WIDTH SPACE) at character 4 cannot be seen'
    fix = "Delete the character; retyping the word removes it."


class NulByteError(TextError):
    code = "nul-byte"
    title = "NUL character"
    description = "A cell, name or label holds the NUL character (U+0000); delete it."
    example = 'datasets/air-quality/data/stations.csv, row 3, field "name" (2): the cell holds U+0000 (NUL)'
    fix = "Delete the character; re-export the file from the spreadsheet as CSV UTF-8."


class LoneSurrogateError(TextError):
    code = "lone-surrogate"
    title = "Lone surrogate"
    description = (
        'Text holds half of a UTF-16 pair (U+D800–U+DFFF, e.g. a "\\ud800" escape), '
        "which is no character at all; write the character itself."
    )
    example = 'datasets/proposals/records/pb-2015-001.md, line 2, field "title": U+D800 is half of a character'
    fix = "Write the character itself instead of a \\u escape."


class MixedScriptError(TextError):
    code = "mixed-script"
    title = "Look-alike letters"
    description = (
        "A word mixes Latin letters with Cyrillic or Greek letters that look the same "
        "(e.g. a Cyrillic а in a Latin word); retype the word in one alphabet."
    )
    example = 'datasets/madrid-budget/data/programas.csv, row 5, field "DESCRIPCION" (2): "Educаción" mixes Latin with Cyrillic а (U+0430)'
    fix = "Retype the word in one alphabet."


class FormulaCellError(TextError):
    code = "formula-cell"
    title = "Spreadsheet formula"
    description = (
        "A text cell starts with =, +, -, @, a tab or a carriage return, so a spreadsheet would "
        "run it as a formula; the published CSV writes it with a leading apostrophe (warning)."
    )
    example = 'datasets/air-quality/data/stations.csv, row 4, field "name" (2): "=HYPERLINK(…)" starts like a spreadsheet formula; published with a leading apostrophe'
    fix = "Nothing to do if the text is meant; otherwise remove the leading =, +, - or @."


class PersonalDataError(TextError):
    code = "personal-data"
    title = "Personal data"
    description = (
        "A text cell holds an e-mail address, a phone number or a national id number (DNI/NIE) "
        "in a field not declared to hold personal data; remove it, or a maintainer declares "
        'the field with "civicgen": {"personal": "public-by-consent"}.'
    )
    example = 'datasets/proposals/records/pb-2015-001.md, field "description": it holds a national id number (1234****Z)'
    fix = 'Remove the personal data; a maintainer may declare a field "civicgen": {"personal": "public-by-consent"}.'


# --- packages from elsewhere read as frictionless reads them (issue 9) -------------------


class SourceError(TableError):
    code = "source-error"
    title = "Empty file"
    description = (
        "A CSV file has neither a header nor data rows (it is empty, or holds only a line "
        "break), as frictionless reports it; put the table in it, or remove the resource."
    )
    example = "datasets/air-quality/data/readings.csv: the file is empty"
    fix = "Save the table into the file again, or remove the resource from datapackage.json."


def subclasses_of(root: type[T]) -> list[type[T]]:
    """root and every class below it, breadth first: a stable order for the catalogue."""
    found: list[type[T]] = []
    pending: list[type[T]] = [root]
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def all_error_classes() -> list[type[CivicError]]:
    """Every error class, in a stable order (for the generated catalog)."""
    return subclasses_of(CivicError)


ERRORS: dict[str, type[CivicError]] = {cls.code: cls for cls in all_error_classes()}


def catalog_markdown() -> str:
    """docs/reference/errors.md: every error code, generated from the classes above."""
    lines = [
        "# Error codes",
        "",
        "Generated from `civicgen/errors.py` by "
        "`python -m civicgen.catalog > docs/reference/errors.md`; do not edit by hand.",
        "",
        "Codes never change once released. Where frictionless has the same error, "
        "civicgen uses its code.",
        "",
    ]
    for cls in all_error_classes():
        lines += [
            f"## `{cls.code}`: {cls.title}",
            "",
            cls.description,
            "",
            f"Example: `{cls.example}`",
            "",
            f"Fix: {cls.fix}",
            "",
        ]
    return "\n".join(lines)
