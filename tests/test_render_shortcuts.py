"""The shortcuts that make a build cheaper give the pages they gave before: a generated page
kept out of Python-Markdown is what Markdown made of it, the table of contents read with
patterns is what an HTML parser reads, and the sandbox's remembered judgements are the ones
it would make again."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
import yaml
from conftest import ROOT
from jinja2.exceptions import SecurityError
from mkdocs.utils.meta import get_data

from civicgen.pipeline import validate
from civicgen.plugin import is_html_page
from civicgen.site.env import make_env
from civicgen.site.formats import formatting
from civicgen.site.i18n import load_catalogue
from civicgen.site.inputs import gather
from civicgen.site.portal import render_site
from civicgen.site.toc import headings


def example_markdown() -> markdown.Markdown:
    """Python-Markdown as the example city's mkdocs.yml sets it up."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text("utf-8"))
    names, settings = [], {}
    for entry in config["markdown_extensions"]:
        name, options = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
        names.append(name)
        settings[name] = options or {}
    return markdown.Markdown(extensions=names, extension_configs=settings)


@pytest.mark.parametrize("language", ["es", "en"])
def test_generated_pages_are_what_markdown_made_of_them(language: str) -> None:
    env = make_env(None, load_catalogue(language))
    with formatting(language):
        outputs = render_site(env, gather(validate([str(ROOT)])))
    bodies = {o.uri: get_data(str(o.content))[0] for o in outputs if o.uri.endswith(".md")}
    kept_out = {uri: body for uri, body in bodies.items() if is_html_page(body)}
    assert len(kept_out) > 0.8 * len(bodies)  # the home and About pages hold Markdown
    converter = example_markdown()
    for uri, body in kept_out.items():
        assert converter.reset().convert(body) == body.rstrip(), uri


def test_markdown_pages_are_not_kept_out() -> None:
    assert not is_html_page('## Where this portal comes from\n\n<div class="civicgen">x</div>')
    assert not is_html_page('<div class="civicgen">x</div>\n\n## More')
    assert is_html_page('<div class="civicgen">\n<h1>T</h1>\n</div>\n')
    asks_for_markdown = '<div class="civicgen">\n<div markdown="1">\n## Notes\n</div>\n</div>'
    assert not is_html_page(asks_for_markdown)  # a city's template: md_in_html converts it
    assert is_html_page('<div class="civicgen">\n<p>Written in Markdown, or not</p>\n</div>')


class ParsedHeadings(HTMLParser):
    """The reference reading: h2 and h3 with an id, through Python's HTML parser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, str]] = []
        self.open: tuple[int, str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        anchor = dict(attrs).get("id")
        if tag in ("h2", "h3") and anchor:
            self.open, self.text = (int(tag[1]), anchor), []

    def handle_data(self, data: str) -> None:
        if self.open is not None:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.open is not None and tag == f"h{self.open[0]}":
            title = " ".join("".join(self.text).split()).removesuffix("¶").strip()
            self.found.append((*self.open, title))
            self.open = None


def test_headings_read_with_patterns_match_an_html_parser(example_site: Path) -> None:
    pages = sorted(example_site.rglob("*.html"))
    assert len(pages) > 90
    for path in pages:
        text = path.read_text("utf-8")
        parser = ParsedHeadings()
        parser.feed(text)
        assert headings(text) == parser.found, path


def test_headings_with_markup_entities_and_odd_quoting() -> None:
    page = (
        "<h2 class='x' id='one'>A <em>b</em> &amp; c ¶</h2>"
        '<h2 data-id="no">not anchored</h2>'
        "<H3 ID=two>Two\n  lines</H3>"
    )
    assert headings(page) == [(2, "one", "A b & c"), (3, "two", "Two lines")]


class Named:
    mro = "a plain attribute"


def test_the_sandbox_judges_each_kind_of_value_on_its_own() -> None:
    """A type's mro is refused even after an object's harmless attribute of the same name was
    allowed: the judgement is remembered per kind of object and value."""
    env = make_env()
    assert env.from_string("{{ x.mro }}").render(x=Named()) == "a plain attribute"
    with pytest.raises(SecurityError):
        env.from_string("{{ x.mro }}").render(x=str)
    with pytest.raises(SecurityError):
        env.from_string("{{ x.mro }}").render(x=str)  # refused again, from memory
