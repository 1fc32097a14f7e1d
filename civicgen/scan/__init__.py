"""The scan stage: one streaming pass per table. Picks the compiled kernel when it is built.

Like propcache, the pure-Python reference is chosen when CIVICGEN_NO_EXTENSIONS is set,
on interpreters other than CPython, or when the extension was not compiled.
"""

from __future__ import annotations

import os
import platform
from types import ModuleType

from . import reference
from .plan import TablePlan, compile_plan
from .reference import RawError, ScanResult


def select_kernel() -> ModuleType:
    """The compiled kernel if allowed and built, else the reference."""
    if os.environ.get("CIVICGEN_NO_EXTENSIONS") or platform.python_implementation() != "CPython":
        return reference
    try:
        from . import _kernel  # type: ignore[attr-defined]
    except ImportError:
        return reference
    return _kernel


kernel = select_kernel()

__all__ = ["RawError", "ScanResult", "TablePlan", "compile_plan", "kernel", "reference"]
