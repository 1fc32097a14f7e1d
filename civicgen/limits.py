"""How much of anything a pull request may make civicgen read: every parser is bounded.

The defaults fit a city's real data many times over; a city raises one in mkdocs.yml
(`plugins: - civicgen: limits: {records: 200000}`). A breach is a clear error with the
file and position, found without holding the oversized thing in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .exceptions import CivicgenException

KIB = 1 << 10
MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """The largest input of each kind civicgen accepts (bytes, counts or nesting levels)."""

    descriptor_bytes: int = 2 * MIB  # a datapackage.json
    record_bytes: int = 1 * MIB  # one YAML or Markdown record file
    file_bytes: int = 2048 * MIB  # one data file (CSV)
    nesting: int = 64  # depth of JSON or YAML nesting
    yaml_aliases: int = 0  # YAML aliases (*name) in a record; records need none
    records: int = 100_000  # record files in one collection
    cell_bytes: int = 1 * MIB  # one CSV cell (a detailed district polygon fits)
    row_bytes: int = 8 * MIB  # one CSV row, all its cells
    row_cells: int = 16_384  # cells of one CSV row (a spreadsheet's most columns)
    catalogue_bytes: int = 2 * MIB  # one translation catalogue (.po file)
    catalogue_entries: int = 20_000  # messages in one translation catalogue
    groups: int = 500_000  # groups of one table's statistics (station-hours, budget lines…)

    @classmethod
    def from_options(cls, options: dict[str, Any] | None) -> Limits:
        """Limits from the `limits` option: known names only, positive whole numbers."""
        known = {f.name for f in fields(cls)}
        values = dict(options or {})
        for name, value in values.items():
            if name not in known:
                raise CivicgenException(
                    f'unknown limit "{name}" in the civicgen options; '
                    f"known limits: {', '.join(sorted(known))}"
                )
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise CivicgenException(
                    f'the limit "{name}" must be a whole number of zero or more, not {value!r}'
                )
        return cls(**values)


def size_note(kind: str, size: int, limit: int, option: str) -> str:
    """The sentence for an input over its limit."""
    return (
        f"this {kind} is {readable(size)}, more than the {readable(limit)} civicgen reads; "
        f"make it smaller, or raise the limit `{option}` in mkdocs.yml if it is really needed"
    )


def readable(size: int) -> str:
    """1536 -> '1.5 KiB'."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
