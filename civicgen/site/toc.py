"""The table of contents of a generated page, read from its finished HTML.

Generated pages are HTML inside Markdown, which Python-Markdown's `toc` extension does not
read, so MkDocs gives them an empty `page.toc`. The plugin fills it from the page's h2 and
h3 headings that carry an id (the template gave them one: `<h2 id="downloads">`), so the
theme lists them as it does for a hand-written page: mkdocs-material's "Table of contents"
sidebar (a `<nav>` labelled in the page's language, plain links that work without
JavaScript) on wide screens, and under the page's entry in the navigation drawer on phones.
"""

from __future__ import annotations

import html
import re
from typing import Any

MIN_ENTRIES = 3  # a page with fewer anchored headings is short enough to read through


HEADING = re.compile(r"<h([23])(\s[^>]*)>(.*?)</h\1\s*>", re.DOTALL | re.IGNORECASE)
ANCHOR = re.compile(r"""\sid\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)
TAG = re.compile(r"<[^>]*>")


def headings(page_html: str) -> list[tuple[int, str, str]]:
    """(level, id, text) of each anchored h2 and h3 of the page, in order.

    Read with patterns, not a full HTML parser: a generated page is the plugin's own markup,
    and parsing every tag of a long page cost a build more than writing it."""
    found = []
    for level, attributes, inner in HEADING.findall(page_html):
        anchor = ANCHOR.search(attributes)
        if anchor is None:
            continue
        text = html.unescape(TAG.sub("", inner))
        title = " ".join(text.split()).removesuffix("¶").strip()
        found.append((int(level), html.unescape(next(filter(None, anchor.groups()), "")), title))
    return [entry for entry in found if entry[1]]


def toc_tokens(page_html: str) -> list[dict[str, Any]]:
    """The page's h2 headings with their h3 headings as children, in the shape of
    Python-Markdown's toc_tokens (names as escaped HTML); none for a short page."""
    found = headings(page_html)
    if len(found) < MIN_ENTRIES:
        return []
    tokens: list[dict[str, Any]] = []
    for level, anchor, text in found:
        token = {"level": level, "id": anchor, "name": html.escape(text), "children": []}
        if level == 3 and tokens:
            tokens[-1]["children"].append(token)
        else:
            tokens.append(token)
    return tokens
