"""Search: Pagefind indexes the finished site, offline, into chunks the browser fetches.

Pagefind (the `pagefind[extended]` wheel: stemming and diacritics for Spanish, English and
many more) reads each page's `<html lang>` and writes one index per language. Only the text
inside `data-pagefind-body` (the page's own content, see theme/partials/content.html) is
indexed; tables, figures and permalinks are left out, so a table cell never becomes a
snippet. Each language root (the site, and a folder such as `en/` holding a site in another
language) gets its own bundle in `<root>/pagefind/`, so the search page finds it at
`../pagefind/` whatever folder the site is published under.

Two runs over the same site write the same bytes (checked by tests/test_search.py), so
`civicgen verify` can rebuild the portal byte for byte.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

from jinja2 import Environment

from .exceptions import BuildFault
from .site.pages import Output

BUNDLE = "pagefind"
SEARCH_PAGE = "search"
SCRIPT = "assets/javascripts/civicgen-search.js"
# Left out of the index: tables (previews, figures' numbers), charts, heading permalinks.
IGNORED = (
    "table",
    ".civicgen-scroll",
    "svg",
    "figure table",
    ".headerlink",
    "[data-pagefind-ignore]",
)
NOT_PAGES = frozenset({BUNDLE, SEARCH_PAGE, "404.html", "assets"})
TIMEOUT = 600  # seconds; a site of thousands of pages takes a few


def language_roots(site_dir: Path) -> list[Path]:
    """The site, then each folder of it that is a site of its own, in another language (en/…):
    it has its own search page."""
    others = [
        folder
        for folder in sorted(p for p in site_dir.iterdir() if p.is_dir() and not p.is_symlink())
        if folder.name not in NOT_PAGES and (folder / SEARCH_PAGE / "index.html").is_file()
    ]
    return [site_dir, *others]


def page_glob(root: Path, skipped: set[str]) -> str:
    """The HTML files of one language root, less the other roots, the bundle and search page."""
    names = sorted(p.name for p in root.iterdir() if p.name not in NOT_PAGES | skipped)
    parts = [f"{n}/**/*.html" if (root / n).is_dir() else n for n in names if not n.startswith(".")]
    return "{" + ",".join(p for p in parts if p.endswith(".html")) + "}"


def command(root: Path, glob: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pagefind",
        "--site",
        str(root),
        "--output-subdir",
        BUNDLE,
        "--glob",
        glob,
        "--exclude-selectors",
        ", ".join(IGNORED),
        "--silent",
    ]


def run(root: Path, glob: str) -> None:
    """One Pagefind run; a missing or failing Pagefind is a build fault (exit 2)."""
    try:
        done = subprocess.run(
            command(root, glob), capture_output=True, timeout=TIMEOUT, check=False, cwd=root
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildFault(f"search: Pagefind did not run ({exc})") from exc
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        hint = (
            "; install it with pip install 'pagefind[extended]'"
            if b"No module" in done.stderr
            else ""
        )
        raise BuildFault(f"search: Pagefind failed ({(reason or ['no output'])[-1]}){hint}")


def index_site(site_dir: Path) -> None:
    """Index every language root of the finished site into its own pagefind/ bundle."""
    roots = language_roots(site_dir)
    names = {root.name for root in roots[1:]}
    for root in roots:
        run(root, page_glob(root, names if root == site_dir else set()))


def search_files(env: Environment) -> list[Output]:
    """The search page (Pagefind's interface) and the script that starts it."""
    script = resources.files("civicgen").joinpath("assets/search.js").read_bytes()
    return [
        Output(f"{SEARCH_PAGE}/index.md", env.get_template("search.html").render()),
        Output(SCRIPT, script),
    ]


def indexed_pages(root: Path) -> list[dict[str, object]]:
    """What the index holds for each page (url, content…), read back from its fragments."""
    pages = []
    for fragment in sorted((root / BUNDLE / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(fragment.read_bytes()).removeprefix(b"pagefind_dcd")
        pages.append(json.loads(data))
    return pages
