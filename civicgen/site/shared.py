"""One copy of every download, however many languages the portal speaks.

The default language's build writes the data files, descriptors and derived statistics at
the site's root. Every other language's build (`<site>/<lang>/`) writes its pages only: a
link from one of its pages to a download is rewritten to a relative link to the root's copy
(`en/datasets/x/` links `../../../datasets/x/datapackage.json`), so the site works from any
folder it is published in, and each descriptor keeps its files beside it. The bytes are the
same in every language (nothing in a download is translated), so nothing is lost.
"""

from __future__ import annotations

import html
import posixpath
import re
from urllib.parse import quote, unquote

from .pages import Output, site_url

ASSETS = "assets/"  # the theme's and search's own files: each language's build keeps its own
LINK = re.compile(r"""(\s(?:href|src)\s*=\s*)(["'])([^"'#?]*)""", re.I)
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|/)", re.I)  # a scheme, or a path from the host


def is_page(output: Output) -> bool:
    return output.uri.endswith(".md")


def downloads_of(outputs: list[Output]) -> set[str]:
    """The site paths of the files to download (neither a page nor the theme's assets)."""
    return {o.uri for o in outputs if not is_page(o) and not o.uri.startswith(ASSETS)}


def relinked(page: str, uri: str, language: str, shared: set[str], directory_urls: bool) -> str:
    """The page at uri of the language's build, with its links to shared files leading to
    the root's copy."""
    here = site_url(uri, directory_urls)
    folder = here if here.endswith("/") or not here else posixpath.dirname(here) + "/"
    start = posixpath.join(language, folder)

    def relink(match: re.Match[str]) -> str:
        link = html.unescape(match.group(3))
        if not link or EXTERNAL.match(link):
            return match.group(0)
        target = posixpath.normpath(posixpath.join(folder, unquote(link)))
        if target not in shared:
            return match.group(0)
        shown = html.escape(quote(posixpath.relpath(target, start)))
        return match.group(1) + match.group(2) + shown

    return LINK.sub(relink, page)


def one_copy(outputs: list[Output], language: str, directory_urls: bool = True) -> list[Output]:
    """A non-default language's outputs: its pages, linking the default language's downloads,
    and none of the downloads themselves."""
    shared = downloads_of(outputs)
    return [
        Output(
            o.uri,
            relinked(o.content, o.uri, language, shared, directory_urls),
            o.edit_path,
        )
        if is_page(o) and isinstance(o.content, str)
        else o
        for o in outputs
        if o.uri not in shared
    ]
