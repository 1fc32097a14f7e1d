"""civicgen: a city's transparency portal as a git repository.

Frictionless data packages are validated and summarised in one pass, then published
as a static MkDocs site. Public API: load, validate, statistics, diff, Report, Settings, __version__.
"""

from __future__ import annotations

from .exceptions import CivicgenException
from .pipeline import Settings, diff, load, statistics, validate
from .report import Report

__version__ = "0.1.0"

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
