"""A Content-Security-Policy for every page, as a <meta> tag at the top of <head>.

Only the theme's own inline scripts run: each is allowed by its SHA-256 hash, computed
from the page's final HTML. A script that reached the page's body (from Markdown, or put
there after the build) has no hash, so the browser refuses it. Inline styles are allowed
by hash too ('unsafe-hashes' lets a hash match a style attribute, such as a chart's bar).

A page that loads Pagefind (the search page) may also compile WebAssembly
('wasm-unsafe-eval': WebAssembly only, never JavaScript's eval). Pagefind searches in a web
worker, which a <meta> policy does not reach; when the worker cannot start, it searches on
the page itself, and its WebAssembly needs this. Every other page keeps script-src 'self'.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import Counter

ATTRIBUTES = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
SCRIPT = re.compile(rf"<script\b({ATTRIBUTES})>(.*?)</script\s*>", re.I | re.S)
STYLE_ELEMENT = re.compile(rf"<style\b{ATTRIBUTES}>(.*?)</style\s*>", re.I | re.S)
STYLE_ATTRIBUTE = re.compile(r"""<[a-z][^<>]*?\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
SRC = re.compile(r"""\ssrc\s*=""", re.I)
CHARSET = re.compile(r"<meta\s+charset\s*=[^>]*>", re.I)
HEAD = re.compile(r"<head\b[^>]*>", re.I)
DOCTYPE = re.compile(r"\A\s*<!doctype[^>]*>", re.I)
MARKER = 'http-equiv="Content-Security-Policy"'
PAGEFIND = re.compile(
    r"""<script\b[^>]*\ssrc\s*=\s*["']?[^"'>]*pagefind/pagefind[-\w]*\.js""", re.I
)
WASM = "'wasm-unsafe-eval'"

FIXED = (
    "default-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",  # the header's search box goes to the portal's own search page
)


def digest(text: str) -> str:
    """A CSP hash source for this exact text."""
    value = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{value}'"


def inline_scripts(page: str) -> list[str]:
    """The text of every <script> element without a src attribute, in order."""
    return [m.group(2) for m in SCRIPT.finditer(page) if not SRC.search(m.group(1))]


def inline_styles(page: str) -> list[str]:
    """The text of every <style> element and the value of every style attribute."""
    elements = [m.group(1) for m in STYLE_ELEMENT.finditer(page)]
    attributes = [
        html.unescape(a if a is not None else b) for a, b in STYLE_ATTRIBUTE.findall(page)
    ]
    return elements + attributes


def trusted_scripts(page: str, body: str = "") -> list[str]:
    """The page's inline scripts less those of its body (Markdown text never runs a script)."""
    theme = Counter(inline_scripts(page))
    theme.subtract(Counter(inline_scripts(body)))
    return sorted(text for text, count in theme.items() if count > 0)


def policy(scripts: list[str], styles: list[str], wasm: bool = False) -> str:
    """The policy: scripts and styles from the site itself, plus these inline ones by hash."""
    script_src = " ".join(
        ["'self'", *([WASM] if wasm else []), *sorted({digest(s) for s in scripts})]
    )
    style_hashes = sorted({digest(s) for s in styles})
    style_src = " ".join(["'self'", *(["'unsafe-hashes'", *style_hashes] if style_hashes else [])])
    return "; ".join([FIXED[0], f"script-src {script_src}", f"style-src {style_src}", *FIXED[1:]])


def meta_tag(content: str) -> str:
    text = html.escape(content, quote=False).replace('"', "&quot;")
    return f'<meta {MARKER} content="{text}">'


def insertion_point(page: str) -> int:
    """Right after <meta charset> (kept in the first 1024 bytes), else after <head>; always
    ahead of the first <script>."""
    first_script = page.lower().find("<script")
    limit = len(page) if first_script < 0 else first_script
    for pattern in (CHARSET, HEAD, DOCTYPE):
        found = pattern.search(page)
        if found and found.end() <= limit:
            return found.end()
    return 0


def with_policy(page: str, body: str = "") -> str:
    """The page with its policy in a <meta> tag placed before anything that could run.

    A policy already in the page (say, in a page's own Markdown) can only add limits: the
    browser enforces every policy it is given.
    """
    wasm = PAGEFIND.search(page) is not None
    tag = meta_tag(policy(trusted_scripts(page, body), inline_styles(page), wasm))
    at = insertion_point(page)
    return f"{page[:at]}\n{tag}{page[at:]}"
