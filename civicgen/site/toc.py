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
from html.parser import HTMLParser
from typing import Any

LEVELS = {"h2": 2, "h3": 3}
MIN_ENTRIES = 3  # a page with fewer anchored headings is short enough to read through


class Headings(HTMLParser):
    """The anchored h2 and h3 headings of a page, in order, as (level, id, text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, str]] = []
        self.open: tuple[int, str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        anchor = dict(attrs).get("id")
        if tag in LEVELS and anchor:
            self.open, self.text = (LEVELS[tag], anchor), []

    def handle_data(self, data: str) -> None:
        if self.open is not None:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.open is not None and LEVELS.get(tag) == self.open[0]:
            title = " ".join("".join(self.text).split()).removesuffix("¶").strip()
            self.found.append((*self.open, title))
            self.open = None


def headings(page_html: str) -> list[tuple[int, str, str]]:
    """(level, id, text) of each anchored h2 and h3 of the page."""
    parser = Headings()
    parser.feed(page_html)
    parser.close()
    return parser.found


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
