"""One copy of the theme's assets, however many languages the portal speaks.

MkDocs writes the theme's files (stylesheets, scripts, fonts, icons) into every language's
build: `<site>/assets/` and again `<site>/<lang>/assets/`. Once every language is built, a
file of `<lang>/assets/` with the same bytes as the root's is removed, and each page of that
language leads to the root's copy instead: a relative link gets one more `../`
(`en/about/` links `../../assets/x.css`), an address from the host loses the language
(`/en/assets/x.css` in the 404 page becomes `/assets/x.css`). A file the language has of its
own (another language's docs folder can hold one) stays where it is, and so do its links.
An inline script relinked (the theme's settings) keeps its place in the page's policy: its
hash there is replaced by the hash of what it now reads.
"""

from __future__ import annotations

import filecmp
import html
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

from ..csp import digest, inline_scripts
from .shared import EXTERNAL

ASSETS = "assets"
REFERENCE = re.compile(r"""(["'])([^"'\s<>]*\bassets/[^"'\s<>]*)\1""")  # a quoted address
PAGE_SUFFIX = ".html"


def share_theme_assets(site_dir: Path, language: str, root_path: str = "/") -> int:
    """Remove the language's copies of the root's assets and relink its pages to the root's
    (root_path: where the site is published on its host, from site_url); the files removed."""
    removed = remove_copies(site_dir / ASSETS, site_dir / language / ASSETS)
    if removed:
        for page in sorted((site_dir / language).rglob(f"*{PAGE_SUFFIX}")):
            where = page.parent.relative_to(site_dir / language).as_posix()
            text = page.read_text("utf-8")
            relinked = relink(text, "" if where == "." else where, language, removed, root_path)
            if relinked != text:
                page.write_text(relinked, "utf-8")
    return len(removed)


def remove_copies(root: Path, copy: Path) -> set[str]:
    """Each file under copy with the same bytes as root's file at the same path, removed
    (empty folders too); their paths under assets/."""
    if not root.is_dir() or not copy.is_dir():
        return set()
    removed = set()
    for path in sorted(p for p in copy.rglob("*") if p.is_file() and not p.is_symlink()):
        relative = path.relative_to(copy).as_posix()
        original = root / relative
        if original.is_file() and filecmp.cmp(path, original, shallow=False):
            path.unlink()
            removed.add(relative)
    for folder in sorted((p for p in copy.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if not any(copy.iterdir()):
        copy.rmdir()
    return removed


def relink(page: str, folder: str, language: str, removed: set[str], root_path: str) -> str:
    """The page (in folder, under the language's root) with its addresses of removed assets
    leading to the root's copies."""
    host_prefix = f"{root_path.rstrip('/')}/{language}/{ASSETS}/"
    depth = len(folder.split("/")) if folder else 0

    def relinked(match: re.Match[str]) -> str:
        quote_mark, address = match.group(1), match.group(2)
        path = unquote(html.unescape(address)).split("#")[0].split("?")[0]
        if path.startswith(host_prefix):
            if path[len(host_prefix) :] in removed:
                return quote_mark + address.replace(f"/{language}/", "/", 1) + quote_mark
            return match.group(0)
        if EXTERNAL.match(path):  # another host, or a path from the host's root
            return match.group(0)
        target = posixpath.normpath(posixpath.join(folder, path))
        if target.startswith(f"{ASSETS}/") and target[len(ASSETS) + 1 :] in removed:
            return (
                quote_mark
                + "../" * (depth + 1)
                + address[address.index(f"{ASSETS}/") :]
                + quote_mark
            )
        return match.group(0)

    text = REFERENCE.sub(relinked, page)
    return with_hashes_of(page, text) if text != page else page


def with_hashes_of(page: str, relinked: str) -> str:
    """relinked with the page's policy allowing each inline script as relinked: a script the
    policy trusted by its hash (the theme's settings, which name the search worker) is
    trusted as it now reads."""
    for before, after in zip(inline_scripts(page), inline_scripts(relinked), strict=True):
        if before != after:
            relinked = relinked.replace(digest(before), digest(after))
    return relinked
