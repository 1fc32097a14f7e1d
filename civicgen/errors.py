"""Validation errors: one class per stable code, positions first, then the problem, then the fix.

Codes reuse frictionless's where they fit, so a report reads the same in both tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

CELL_PREVIEW = 80


@dataclass(frozen=True)
class CivicError:
    """A problem found in the data: where it is, what is wrong and how to fix it."""

    code: ClassVar[str] = "civic-error"
    title: ClassVar[str] = "Error"
    description: ClassVar[str] = "Something in the repository needs fixing."
    tags: ClassVar[tuple[str, ...]] = ()

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
    tags = ("#file",)


class SchemeError(FileError):
    code = "scheme-error"
    title = "Remote file"
    description = "A resource points to a URL; civicgen never fetches from the network."


class UnsafePathError(FileError):
    code = "unsafe-path"
    title = "Unsafe path"
    description = "A path points outside the repository or through a link."


class EncodingError(FileError):
    code = "encoding-error"
    title = "Encoding error"
    description = "The file is not in the declared text encoding (UTF-8 by default)."


class FormatError(FileError):
    code = "format-error"
    title = "Format error"
    description = "The file is not well-formed CSV, YAML, JSON or front matter."


class DescriptorError(CivicError):
    code = "descriptor-error"
    title = "Descriptor error"
    description = "datapackage.json does not follow the Data Package specification."
    tags = ("#descriptor",)


class PackageError(DescriptorError):
    code = "package-error"
    title = "Package error"
    description = "The package descriptor breaks the Data Package specification."


class ResourceError(DescriptorError):
    code = "resource-error"
    title = "Resource error"
    description = "A resource of the descriptor is malformed."


class SchemaError(DescriptorError):
    code = "schema-error"
    title = "Schema error"
    description = "A Table Schema is malformed (for example a primary key naming no field)."


class FieldError(DescriptorError):
    code = "field-error"
    title = "Field error"
    description = "A field of a Table Schema is malformed (unknown type, unsupported constraint)."


class ProfileError(DescriptorError):
    code = "profile-error"
    title = "Profile error"
    description = "The package's civicgen profile is missing something it needs."


class RecordError(CivicError):
    code = "record-error"
    title = "Record error"
    description = "A one-file-per-record entry has a problem."
    tags = ("#record",)


class RecordMissingKeyError(RecordError):
    code = "record-missing-key"
    title = "Record name"
    description = "A record's file name is not a valid identifier."


class UnknownLicenceError(RecordError):
    code = "unknown-licence"
    title = "Unknown licence"
    description = "A licence is not a valid SPDX identifier or expression."


class TableError(CivicError):
    code = "table-error"
    title = "Table error"
    description = "A table as a whole has a problem."
    tags = ("#table",)


class LabelError(TableError):
    code = "label-error"
    title = "Label error"
    description = "A header label has a problem."
    tags = ("#table", "#header", "#label")


class BlankLabelError(LabelError):
    code = "blank-label"
    title = "Blank label"
    description = "A column has no header label."


class DuplicateLabelError(LabelError):
    code = "duplicate-label"
    title = "Duplicate label"
    description = "Two columns have the same header label."


class IncorrectLabelError(LabelError):
    code = "incorrect-label"
    title = "Incorrect label"
    description = "A header label does not match the schema's field name at that position."


class MissingLabelError(LabelError):
    code = "missing-label"
    title = "Missing label"
    description = "The schema has more fields than the header has labels."


class ExtraLabelError(LabelError):
    code = "extra-label"
    title = "Extra label"
    description = "The header has more labels than the schema has fields."


class RowError(TableError):
    code = "row-error"
    title = "Row error"
    description = "A row has a problem."
    tags = ("#table", "#row")


class BlankRowError(RowError):
    code = "blank-row"
    title = "Blank row"
    description = "A row is completely empty."


class PrimaryKeyError(RowError):
    code = "primary-key"
    title = "Primary key error"
    description = "Two rows share the same primary key, or a key cell is empty."


class ForeignKeyError(RowError):
    code = "foreign-key"
    title = "Foreign key error"
    description = "A value refers to a row that does not exist in the referenced table."


class CellError(RowError):
    code = "cell-error"
    title = "Cell error"
    description = "A cell has a problem."
    tags = ("#table", "#row", "#cell")


class ExtraCellError(CellError):
    code = "extra-cell"
    title = "Extra cell"
    description = "A row has more cells than the header, or a record has a key not in the schema."


class MissingCellError(CellError):
    code = "missing-cell"
    title = "Missing cell"
    description = "A row has fewer cells than the header."


class TypeError_(CellError):
    code = "type-error"
    title = "Type error"
    description = "A value does not match its field's type and format."


class ConstraintError(CellError):
    code = "constraint-error"
    title = "Constraint error"
    description = "A value breaks one of its field's constraints (required, minimum, enum…)."


class UniqueError(CellError):
    code = "unique-error"
    title = "Unique error"
    description = "A value of a field marked unique appears twice."


# --- text that cannot mislead, personal data (issue 8) ----------------------------------


class TextError(CivicError):
    code = "text-error"
    title = "Misleading text"
    description = "A name, label or text cell holds characters that can mislead a reader."
    tags = ("#text",)


class BidiControlError(TextError):
    code = "bidi-control"
    title = "Bidirectional control"
    description = (
        "A name, label or cell holds an invisible character that reorders the text "
        "(U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C); retype the text without it."
    )


class InvisibleCharacterError(TextError):
    code = "invisible-character"
    title = "Invisible character"
    description = (
        "A name, label or cell holds a zero-width, soft-hyphen, format or control character "
        "that a reader cannot see; delete it."
    )


class NulByteError(TextError):
    code = "nul-byte"
    title = "NUL character"
    description = "A cell, name or label holds the NUL character (U+0000); delete it."


class LoneSurrogateError(TextError):
    code = "lone-surrogate"
    title = "Lone surrogate"
    description = (
        'Text holds half of a UTF-16 pair (U+D800–U+DFFF, e.g. a "\\ud800" escape), '
        "which is no character at all; write the character itself."
    )


class MixedScriptError(TextError):
    code = "mixed-script"
    title = "Look-alike letters"
    description = (
        "A word mixes Latin letters with Cyrillic or Greek letters that look the same "
        "(e.g. a Cyrillic а in a Latin word); retype the word in one alphabet."
    )


class FormulaCellError(TextError):
    code = "formula-cell"
    title = "Spreadsheet formula"
    description = (
        "A text cell starts with =, +, -, @, a tab or a carriage return, so a spreadsheet would "
        "run it as a formula; the published CSV writes it with a leading apostrophe (warning)."
    )


class PersonalDataError(TextError):
    code = "personal-data"
    title = "Personal data"
    description = (
        "A text cell holds an e-mail address, a phone number or a national id number (DNI/NIE) "
        "in a field not declared to hold personal data; remove it, or a maintainer declares "
        'the field with "civicgen": {"personal": "public-by-consent"}.'
    )


def all_error_classes() -> list[type[CivicError]]:
    """Every error class, in a stable order (for the generated catalog)."""
    found: list[type[CivicError]] = []
    pending: list[type[CivicError]] = [CivicError]
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


ERRORS: dict[str, type[CivicError]] = {cls.code: cls for cls in all_error_classes()}


def catalog_markdown() -> str:
    """docs/reference/errors.md: every error code, generated from the classes above."""
    lines = [
        "# Error codes",
        "",
        "Generated from `civicgen/errors.py` by "
        "`python -m civicgen.errors > docs/reference/errors.md`; do not edit by hand.",
        "",
        "Codes never change once released. Where frictionless has the same error, "
        "civicgen uses its code.",
        "",
        "| code | title | what it means |",
        "|---|---|---|",
    ]
    for cls in all_error_classes():
        lines.append(f"| `{cls.code}` | {cls.title} | {cls.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(catalog_markdown(), end="")
