"""The Jinja2 environment for generated pages: autoescaping, filters, theme overrides first."""

from __future__ import annotations

import html
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import markdown
import nh3
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub",
}  # fmt: skip
SAFE_SCHEMES = ("https://", "http://", "mailto:")


def render_markdown(text: str | None) -> Markup:
    """Untrusted Markdown to sanitised HTML: no scripts, styles, images, frames or odd links."""
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener noreferrer")
    return Markup(clean.replace("<h1>", "<h2>").replace("</h1>", "</h2>"))


def safe_url(value: Any) -> str:
    """A link target from data: kept only if it is http(s) or mailto."""
    text = str(value or "").strip()
    return text if text.lower().startswith(SAFE_SCHEMES) else ""


def money(value: Any, currency: str = "EUR") -> str:
    """1234567.5 -> '1,234,568 EUR'."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.0f} {currency}"


def percent(value: Any, digits: int = 1) -> str:
    try:
        return f"{float(value) * 100:.{digits}f} %"
    except (TypeError, ValueError):
        return ""


def cell(value: Any) -> str:
    """A record value as display text: lists joined, None empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def frontmatter(value: Any) -> Markup:
    """A YAML front-matter string: HTML-escaped (MkDocs themes print titles raw), JSON-quoted."""
    return Markup(json.dumps(html.escape(cell(value).replace("\n", " ")), ensure_ascii=False))


def make_env(theme_dir: Path | None = None) -> Environment:
    """Templates from theme_dir/civicgen first, then civicgen's own ("default:" reaches those)."""
    own = PackageLoader("civicgen", "templates")
    loaders = [FileSystemLoader(str(theme_dir / "civicgen"))] if theme_dir else []
    env = Environment(
        loader=ChoiceLoader([*loaders, PrefixLoader({"default": own}), own]),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(markdown=render_markdown, url=safe_url, money=money, percent=percent,
                       cell=cell, frontmatter=frontmatter)
    from .rows import FILTERS

    env.filters.update(FILTERS)
    return env
