"""The one exception: the run cannot continue (unreadable repository, bad configuration).

Bad data is never an exception; it is an entry in the Report.
"""

from __future__ import annotations


class CivicgenException(Exception):
    """civicgen cannot go on; the message says why and what to do."""


class UnsafePath(CivicgenException):
    """A path would leave the repository (absolute, "..", a URL or a link outside)."""
