"""A descriptor checked by frictionless itself, the reference validator: what verdicts.py
asks when accepted.py cannot vouch for a descriptor (here, or in the process beside)."""

from __future__ import annotations

from typing import Any

from .descriptor import without_profiles
from .errors import ERRORS, CivicError, DescriptorError


def frictionless_errors(descriptor: dict[str, Any], path: str) -> list[CivicError]:
    """Descriptor errors found by frictionless itself (no data is read, nothing is fetched)."""
    from frictionless import Package as FrictionlessPackage

    try:
        report = FrictionlessPackage.validate_descriptor(without_profiles(descriptor))
    except Exception as exc:  # frictionless fails on some shapes it does not expect
        note = (
            f"frictionless cannot read this descriptor ({type(exc).__name__}); check that "
            "resources, schemas and fields are objects and lists as the specification says"
        )
        return [DescriptorError(note=note, path=path)]
    return [
        ERRORS.get(code, DescriptorError)(note=f"{note}; fix datapackage.json", path=path)
        for code, note in report.flatten(["type", "note"])
    ]
