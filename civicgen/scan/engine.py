"""The one place that chooses the scan kernel: the compiled one when it is built, else the reference.

Like propcache, the pure-Python reference is chosen when CIVICGEN_NO_EXTENSIONS is set,
on interpreters other than CPython, or when the extension was not compiled; type checkers
see the reference as `kernel` and the stub (`_kernel.pyi`) as `compiled`. Every other
module imports `kernel` (the scan) or `compiled` (None without the compiled kernel: the
chunked scan runs only on it) from here.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING

from . import reference


def why_not_compiled() -> str | None:
    """Why the compiled kernel is not used here, or None when it is."""
    if os.environ.get("CIVICGEN_NO_EXTENSIONS"):
        return "CIVICGEN_NO_EXTENSIONS is set"
    if sys.implementation.name != "cpython":
        return f"{sys.implementation.name} runs the reference"
    try:
        from . import _kernel  # noqa: F401
    except ImportError as exc:
        return f"civicgen.scan._kernel is not built ({exc})"
    return None


def select_compiled() -> ModuleType | None:
    """The compiled kernel if allowed and built, else None."""
    if why_not_compiled() is not None:
        return None
    from . import _kernel

    return _kernel


def select_kernel() -> ModuleType:
    """The compiled kernel if allowed and built, else the reference."""
    return select_compiled() or reference


if TYPE_CHECKING:
    from . import _kernel as compiled
    from . import reference as kernel
else:
    compiled = select_compiled()
    kernel = compiled or reference

__all__ = ["compiled", "kernel", "select_compiled", "select_kernel", "why_not_compiled"]
