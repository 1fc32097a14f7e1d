"""docs/reference/errors.md: every code civicgen reports, generated from its classes.

Data errors (exit 1) come from civicgen.errors; faults that stop a command (exit 2)
from the build and the manifest. `python -m civicgen.catalog > docs/reference/errors.md`.
"""

from __future__ import annotations

from typing import Any

from .build import BuildFault
from .errors import catalog_markdown, subclasses_of
from .manifest import ManifestError


def fault_classes() -> list[type[Any]]:
    """Every fault with a code, in a stable order."""
    return [*subclasses_of(BuildFault), ManifestError]


def faults_markdown() -> str:
    lines = [
        "# Faults that stop a command (exit 2)",
        "",
        "The run cannot go on; nothing is published and the previous site is kept.",
        "",
    ]
    for cls in fault_classes():
        description = (cls.__doc__ or "").strip().splitlines()[0]
        lines += [f"## `{cls.code}`: {cls.title}", "", description, ""]
        lines += [f"Example: `{cls.example}`", "", f"Fix: {cls.fix}", ""]
    return "\n".join(lines)


def full_catalog() -> str:
    return catalog_markdown() + "\n" + faults_markdown()


if __name__ == "__main__":
    print(full_catalog(), end="")
