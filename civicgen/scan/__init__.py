"""The scan stage: one streaming pass per table. The kernel is chosen in engine.py."""

from __future__ import annotations

from . import reference
from .engine import kernel, select_kernel
from .plan import TablePlan, compile_plan
from .reference import RawError, ScanResult

__all__ = [
    "RawError",
    "ScanResult",
    "TablePlan",
    "compile_plan",
    "kernel",
    "reference",
    "select_kernel",
]
