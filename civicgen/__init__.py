"""civicgen: a city's transparency portal as a git repository.

Frictionless data packages are validated and summarised in one pass, then published
as a static MkDocs site. Public API: load, validate, statistics, diff, Report, Settings,
CivicgenException, __version__. The names load on first use, so that importing the scan
kernel alone (civicgen.scan) does not bring in git, MkDocs or frictionless.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .exceptions import CivicgenException
    from .pipeline import Settings, diff, load, statistics, validate
    from .report import Report

__version__ = "0.1.0"

EXPORTS = {
    "CivicgenException": "exceptions",
    "Report": "report",
    "Settings": "pipeline",
    "diff": "pipeline",
    "load": "pipeline",
    "statistics": "pipeline",
    "validate": "pipeline",
}

__all__ = [
    "CivicgenException",
    "Report",
    "Settings",
    "__version__",
    "diff",
    "load",
    "statistics",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name not in EXPORTS:
        raise AttributeError(f"module 'civicgen' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{EXPORTS[name]}", __name__), name)
