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


def start(root: Path, glob: str) -> subprocess.Popen[bytes]:
    """One Pagefind run, started in the background (see finish)."""
    try:
        return subprocess.Popen(
            command(root, glob), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=root
        )
    except OSError as exc:
        raise BuildFault(f"search: Pagefind did not run ({exc})") from exc


def finish(process: subprocess.Popen[bytes]) -> None:
    """Wait for a Pagefind run; a missing or failing Pagefind is a build fault (exit 2)."""
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        stop(process)
        raise BuildFault(f"search: Pagefind did not run ({exc})") from exc
    if process.returncode != 0:
        reason = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()
        hint = (
            "; install it with pip install 'pagefind[extended]'" if b"No module" in stderr else ""
        )
        raise BuildFault(f"search: Pagefind failed ({(reason or ['no output'])[-1]}){hint}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill a run not yet waited for."""
    if process.returncode is None:
        process.kill()
        process.communicate()


class Indexing:
    """Pagefind runs in the background, one per language root, while the build goes on; wait()
    before the site is sealed. Leaving the block stops any run still going (a failed build)."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Indexing:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in self.running:
            stop(process)

    def start(self, root: Path, others: set[str]) -> None:
        """Index root's pages, less the folders named in others (other languages' roots)."""
        self.running.append(start(root, page_glob(root, others)))

    def wait(self) -> None:
        for process in self.running:
            finish(process)


def index_site(site_dir: Path) -> None:
    """Index every language root of the finished site into its own pagefind/ bundle."""
    roots = language_roots(site_dir)
    names = {root.name for root in roots[1:]}
    with Indexing() as indexing:
        for root in roots:
            indexing.start(root, names if root == site_dir else set())
        indexing.wait()


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
