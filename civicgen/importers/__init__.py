"""Importers: turn files from other tools into civicgen data packages and catalog entries.

Each importer reads only the file(s) it is given, writes only inside the output folder,
never touches the network, and either raises ImportProblem (nothing is written) or
returns an ImportResult whose errors are problems that stopped nothing (duplicates…).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CivicError, EncodingError, FileError
from ..exceptions import CivicgenException

SHOWN_ERRORS = 20


class ImportProblem(CivicgenException):
    """The input cannot be imported; errors say where and what to fix. Nothing was written."""

    def __init__(self, errors: list[CivicError]) -> None:
        self.errors = sorted(errors, key=where)
        lines = [e.message for e in self.errors[:SHOWN_ERRORS]]
        if len(self.errors) > SHOWN_ERRORS:
            lines.append(f"…and {len(self.errors) - SHOWN_ERRORS} more")
        super().__init__("\n".join(lines))


@dataclass
class ImportResult:
    """What an import wrote, and the problems it reported without stopping."""

    written: list[Path] = field(default_factory=list)
    errors: list[CivicError] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the files, then one line per problem to review."""
        count = len(self.written)
        head = f"wrote {count} file{'' if count == 1 else 's'}"
        if not self.errors:
            return head
        noun = "problem" if len(self.errors) == 1 else "problems"
        lines = [f"{head}; {len(self.errors)} {noun} to review:"]
        return "\n".join(lines + [f"  {e.message}" for e in self.errors])


def where(error: CivicError) -> tuple[str, int, int]:
    """Sort key: file, then line, then column."""
    return (error.path, -1 if error.line is None else error.line, error.column or 0)


def problem(error: CivicError) -> ImportProblem:
    """An ImportProblem for one error."""
    return ImportProblem([error])


def slugify(text: str, sep: str = "-") -> str:
    """Lowercase ASCII letters and digits joined by sep: "Plaza de España" -> "plaza-de-espana"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", sep, ascii_text.lower()).strip(sep)


def read_text(path: Path) -> str:
    """The file as UTF-8 text (a BOM is allowed), or ImportProblem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        note = f"cannot read the file ({exc.strerror or exc}); check the path"
        raise problem(FileError(note=note, path=path.as_posix())) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n")
        note = "the file is not UTF-8 text; save it as UTF-8 and import it again"
        raise problem(EncodingError(note=note, path=path.as_posix(), line=line)) from exc


def lines_of(text: str) -> list[str]:
    """Physical lines, whatever the line ending; no empty last line for a final newline."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def split_cells(line: str, sep: str) -> list[tuple[int, str]]:
    """The cells of one delimited line with their 0-based column; double quotes may wrap a cell."""
    cells: list[tuple[int, str]] = []
    start, value, quoted, i = 0, [], False, 0
    while i < len(line):
        char = line[i]
        if quoted and char == '"':
            if line[i + 1 : i + 2] == '"':
                value.append('"')
                i += 1
            else:
                quoted = False
        elif char == '"' and not value and i == start:
            quoted = True
        elif char == sep and not quoted:
            cells.append((start, "".join(value)))
            start, value = i + 1, []
        else:
            value.append(char)
        i += 1
    cells.append((start, "".join(value)))
    return cells


def prepare_output(out: Path, overwrite: bool) -> None:
    """Refuse a non-empty output folder unless overwrite; the folder is created on write."""
    if out.exists() and not out.is_dir():
        raise CivicgenException(f"{out} exists and is not a folder; choose another output folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise CivicgenException(
            f"{out} is not empty; choose an empty or new folder, or pass overwrite=True "
            "to write over the files the import produces"
        )


def write_files(out: Path, files: dict[str, str]) -> list[Path]:
    """Write each relative path -> text inside out (UTF-8, LF); return the paths written."""
    root = out.resolve()
    written = []
    for relative, text in files.items():
        target = (root / relative).resolve()
        if root not in target.parents:
            raise CivicgenException(f"{relative} would be written outside {out}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
        written.append(out / relative)
    return written


def schema_field(
    name: str, kind: str, title: str, description: str = "", unit: str = "", **constraints: Any
) -> dict[str, Any]:
    """A Table Schema field; constraints given as False are left out."""
    result: dict[str, Any] = {"name": name, "type": kind, "title": title}
    if description:
        result["description"] = description
    if unit:
        result["unit"] = unit
    kept = {k: v for k, v in constraints.items() if v is not False}
    if kept:
        result["constraints"] = kept
    return result


def csv_resource(
    name: str, title: str, description: str, path: str, schema: dict[str, Any]
) -> dict[str, Any]:
    """A UTF-8 CSV resource of a data package descriptor."""
    return {
        "name": name,
        "title": title,
        "description": description,
        "path": path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": schema,
    }


__all__ = ["ImportProblem", "ImportResult", "slugify"]
