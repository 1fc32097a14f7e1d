"""Build the optional Cython kernel; skipped with CIVICGEN_NO_EXTENSIONS=1 or when no compiler works.

Directives live in the .pyx header. The extension is optional: if Cython is missing or
the C compiler fails, the package still installs and civicgen uses scan/reference.py.
"""

import os

from setuptools import setup

KERNEL = "civicgen/scan/_kernel.pyx"


def extensions() -> list:
    if os.environ.get("CIVICGEN_NO_EXTENSIONS") or not os.path.exists(KERNEL):
        return []
    try:
        from Cython.Build import cythonize

        modules = cythonize([KERNEL], language_level=3, quiet=True)
    except Exception as exc:  # no Cython, or it cannot translate: install pure Python
        print(f"civicgen: not building the compiled kernel ({exc}); using the reference")
        return []
    for extension in modules:
        extension.optional = True  # cythonize() drops optional=True; a failed compile falls back
    return modules


setup(ext_modules=extensions())
