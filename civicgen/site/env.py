"""The Jinja2 environment for generated pages: sandboxed, autoescaping, theme overrides first.

A pull request can add a template to the theme folder, so templates are untrusted code:
they run in Jinja's immutable sandbox, where reading an internal attribute (anything starting
with "_", a function's globals, a module) stops the build instead of rendering nothing, and an
override template must be a plain file inside the theme folder (no link, no huge file).
"""

from __future__ import annotations

import html
import json
import os
import types
from pathlib import Path
from typing import Any, NoReturn

import markdown
import nh3
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    pass_eval_context,
)
from jinja2.exceptions import SecurityError, TemplateNotFound
from jinja2.loaders import split_template_path
from jinja2.nodes import EvalContext
from jinja2.runtime import Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from ..forge.issue_link import filled_url
from .formats import country as country_name
from .formats import date, date_time, money, number, percent, signed_percent
from .formats import language as language_name
from .i18n import Catalogue
from .line_asks import LineAsks

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub",
}  # fmt: skip
SAFE_SCHEMES = ("https://", "http://", "mailto:")
MAX_TEMPLATE_BYTES = 1_000_000
DICT_ATTRIBUTES = frozenset(dir(dict))  # every attribute a dict has (it has no __dict__)


MARKDOWN = markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")


def render_markdown(text: str | None) -> Markup:
    """Untrusted Markdown to sanitised HTML: no scripts, styles, images, frames or odd links."""
    html = MARKDOWN.reset().convert(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(clean.replace("<h1>", "<h2>").replace("</h1>", "</h2>"))


def safe_url(value: Any) -> str:
    """A link target from data: kept only if it is http(s) or mailto."""
    text = str(value or "").strip()
    return text if text.lower().startswith(SAFE_SCHEMES) else ""


def unescaped(value: Any) -> str:
    """Text rendered by a template with its HTML escapes undone (for an issue's title and
    text, which are not HTML)."""
    return value.unescape() if isinstance(value, Markup) else str(value or "")


def issue_url(repository: Any, forge: Any, title: Any, body: Any) -> str:
    """For templates: the forge's new-issue form filled with title and body ("" : no forge)."""
    return filled_url(str(repository or ""), str(forge or ""), unescaped(title), unescaped(body))


def line_asks_in(language: str | None) -> Any:
    """For templates, numbers in language: a page's `line_asks(...)`, its wording rendered
    by the template (`phase_name` is the macro naming a phase)."""

    def line_asks(
        repository: Any, forge: Any, title: Any, label: Any, head: Any, tail: Any, year: Any,
        fields: list[Any], phases: list[str], phase_name: Any, currency: Any,
    ) -> LineAsks:  # fmt: skip
        return LineAsks(
            str(repository or ""), str(forge or ""), unescaped(title), unescaped(label),
            unescaped(head), unescaped(tail), unescaped(year), [str(f) for f in fields],
            [(p, unescaped(phase_name(p))) for p in phases], str(currency or ""), language,
        )  # fmt: skip

    return line_asks


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
    text = value.unescape() if isinstance(value, Markup) else cell(value)  # escaped only once
    return Markup(json.dumps(html.escape(text.replace("\n", " ")), ensure_ascii=False))


class PortalSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, stricter: an unsafe attribute is an error, not an empty
    string, and no template reaches a module or a class through an attribute."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.judged: dict[tuple[type, str, type], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Every rule here and in Jinja's sandbox judges by the types of the object and the
        value and by the attribute's name, so a judgement is kept for those three (a page
        reads a million attributes, of a few hundred kinds)."""
        kind = (type(obj), attr, type(value))
        safe = self.judged.get(kind)
        if safe is None:
            safe = self.judged[kind] = self.judge_attribute(obj, attr, value)
        return safe

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Jinja's: the attribute, else the item. A dict's items are read first, for the
        names no dict has as an attribute (where Jinja's getattr would fail, then subscribe)."""
        if type(obj) is dict and attribute not in DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def is_safe_callable(self, obj: Any) -> bool:
        """Jinja's rule; a template's own macro is always safe (nothing can mark it unsafe)."""
        return type(obj) is Macro or super().is_safe_callable(obj)

    def judge_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(value, (types.ModuleType, type)) or isinstance(obj, types.ModuleType):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
        raise SecurityError(
            f'the template reads "{attribute}" of a {type(obj).__name__} value, which '
            "a template may not do"
        )


class ThemeLoader(FileSystemLoader):
    """Templates from folders (the first that has one wins): plain files inside them,
    never reached through a link."""

    def __init__(self, *folders: Path) -> None:
        super().__init__([str(folder) for folder in folders])
        self.folders = folders

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        pieces = split_template_path(template)
        for folder in self.folders:
            path = folder.joinpath(*pieces)
            if os.path.lexists(path):
                check_plain_file(folder, path)
                return super().get_source(environment, template)
        raise TemplateNotFound(template)


def check_plain_file(folder: Path, path: Path) -> None:
    """SecurityError unless path is a regular, reasonably small file reached without links."""
    current = folder
    for part in path.relative_to(folder).parts:
        current = current / part
        if current.is_symlink():
            refuse(current, "is a link; a theme template must be a plain file in the theme folder")
    if not path.is_file():
        refuse(path, "is not a file")
    if path.stat().st_size > MAX_TEMPLATE_BYTES:
        refuse(path, f"is larger than {MAX_TEMPLATE_BYTES:,} bytes")


def refuse(path: Path, why: str) -> NoReturn:
    raise SecurityError(f"{path} {why}")


def sandboxed(env: Environment) -> Environment:
    """MkDocs' theme environment (mkdocs-material and the theme folder's overrides) remade
    as the same sandbox: same template folders, extensions, filters, tests and globals."""
    folders = [Path(p) for p in getattr(env.loader, "searchpath", [])]
    box = PortalSandbox(
        loader=ThemeLoader(*folders) if folders else env.loader,
        autoescape=env.autoescape,
        extensions=list(env.extensions),
        auto_reload=False,
    )
    box.filters.update(env.filters)
    box.tests.update(env.tests)
    box.globals.update({k: v for k, v in env.globals.items() if k != "range"})
    box.policies.update(env.policies)
    return box


def profile_template_packages() -> list[str]:
    """The packages of installed profiles that ship their own templates."""
    from ..registry import registered

    return sorted({p.templates_package for p in registered().values() if p.templates_package})


def make_env(theme_dir: Path | None = None, catalogue: Catalogue | None = None) -> Environment:
    """Templates from theme_dir/civicgen first, then civicgen's own ("default:" reaches those);
    `_` and `ngettext` from catalogue (English without one), numbers in its language."""
    own = PackageLoader("civicgen", "templates")
    loaders: list[BaseLoader] = [ThemeLoader(theme_dir / "civicgen")] if theme_dir else []
    profiles = [PackageLoader(name, "templates") for name in profile_template_packages()]
    env = PortalSandbox(
        loader=ChoiceLoader(
            [*loaders, PrefixLoader({"default": own}, delimiter=":"), own, *profiles]
        ),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,  # an environment serves one build, whose templates stay as read
    )
    install_translations(env, catalogue)
    language = catalogue.language if catalogue else None
    env.globals["issue_url"] = issue_url
    env.globals["line_asks"] = line_asks_in(language)
    env.filters.update(markdown=render_markdown, url=safe_url, cell=cell, frontmatter=frontmatter)
    env.filters.update(number_filters(language))
    from .rows import FILTERS

    env.filters.update(FILTERS)
    return env


def install_translations(env: Environment, catalogue: Catalogue | None) -> None:
    """Newstyle gettext whose translations are escaped text: a city's .po comes by pull
    request, and Jinja would otherwise take a translation as trusted markup.

    `gettext` and `ngettext` (which Jinja's `_` calls) do what Jinja's newstyle callables
    do, without a second call through the context each (a page calls `_` hundreds of times,
    in loops); translations installed later replace them, as Jinja's would be."""
    catalogue = catalogue or Catalogue("en")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        catalogue.gettext, catalogue.ngettext, newstyle=True
    )
    gettext, ngettext = newstyle_gettext(catalogue)
    env.globals.update({"gettext": gettext, "ngettext": ngettext})


def newstyle_gettext(catalogue: Catalogue) -> tuple[Any, Any]:
    """gettext and ngettext as Jinja's newstyle ones behave: the translation is a format
    string (always: "%%" is "%"), marked safe when the template autoescapes."""

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
        text = catalogue.gettext(string)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    @pass_eval_context
    def ngettext(
        eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        text = catalogue.ngettext(singular, plural, num)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    return gettext, ngettext


def number_filters(language: str | None) -> dict[str, Any]:
    """money, number, percent, signed_percent, date, datetime, country and language, for
    language (None: locale-free)."""

    def money_in(value: Any, currency: str = "") -> str:
        return money(value, currency, language)

    def number_in(value: Any, digits: int = 0) -> str:
        return number(value, digits, language)

    def percent_in(value: Any, digits: int = 1) -> str:
        return percent(value, digits, language)

    def signed_in(value: Any) -> str:
        return signed_percent(value, language)

    def date_in(value: Any, style: str = "long") -> str:
        return date(value, style, language)

    def datetime_in(value: Any, style: str = "medium") -> str:
        return date_time(value, style, language)

    def country_in(value: Any) -> str:
        return country_name(value, language)

    def language_in(value: Any) -> str:
        return language_name(value, language)

    return {
        "country": country_in,
        "language": language_in,
        "money": money_in,
        "number": number_in,
        "percent": percent_in,
        "signed_percent": signed_in,
        "date": date_in,
        "datetime": datetime_in,
    }
