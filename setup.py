"""Build the optional Cython kernel; skipped with CIVICGEN_NO_EXTENSIONS=1 or when no compiler works."""

import os

from setuptools import setup

ext_modules = []
if not os.environ.get("CIVICGEN_NO_EXTENSIONS"):
    try:
        from Cython.Build import cythonize
    except ImportError:
        cythonize = None
    if cythonize is not None and os.path.exists("civicgen/scan/_kernel.pyx"):
        ext_modules = cythonize(["civicgen/scan/_kernel.pyx"], language_level=3)
        for extension in ext_modules:
            extension.optional = True  # cythonize() drops optional=True; a failed compile falls back

setup(ext_modules=ext_modules)
