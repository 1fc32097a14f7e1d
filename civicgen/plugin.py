"""The thin MkDocs plugin: runs the pipeline and hands MkDocs finished pages and files."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment
from mkdocs.config.base import BaseConfigOption, Config, ValidationError
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from mkdocs.utils.templates import TemplateContext

from . import __version__, csp
from . import manifest as site_manifest
from .config import OPTIONS, Option, Settings, settings_from
from .exceptions import CivicgenException
from .harvest import harvest_files
from .pipeline import validate
from .scaffold import theme_language
from .search import index_site, search_files
from .site.env import make_env, sandboxed
from .site.formats import formatting
from .site.i18n import Catalogue, check_language, load_catalogue
from .site.inputs import SiteInputs, gather
from .site.portal import render_site
from .site.shared import one_copy
from .site.toc import toc_tokens
from .textcheck import visible
from .validation import Validation

log = get_plugin_logger(__name__)
SHOWN_ERRORS = 20
REFUSED = "civicgen: the data is not valid, so nothing was published."
STYLESHEET = "assets/stylesheets/civicgen.css"
THEME = Path(__file__).parent / "theme"  # civicgen's partials: search marks, language menu
FILTERS = "assets/javascripts/civicgen-filters.js"  # narrows the proposal and tool lists
COMPARE = "assets/javascripts/civicgen-compare.js"  # narrows the tool comparison


UNSANDBOXED = (
    "mkdocs.yml lists extra_templates: MkDocs renders those outside civicgen's template "
    "sandbox, so a pull request could run code through one; remove extra_templates and put "
    "the page in the theme folder as an override template, which the sandbox runs"
)


class InvalidDataError(PluginError):
    """The plugin refuses to build invalid data (civicgen build exits 1 on it)."""


# --- one gathering for every language of a build ------------------------------------------


@dataclass
class Gathered:
    """The validation of a repository and, once asked for, everything its pages show."""

    validation: Validation
    inputs: SiteInputs | None = None

    def site_inputs(self) -> SiteInputs:
        if self.inputs is None:
            self.inputs = gather(self.validation)
        return self.inputs


SHARED: dict[tuple[str, Settings], Gathered] | None = None  # set while `civicgen build` runs


@contextmanager
def sharing() -> Iterator[None]:
    """While it lasts, each language's build reuses the first one's validation and gathering
    (same repository, same settings): the data is read, checked and summed once."""
    global SHARED
    before, SHARED = SHARED, {}
    try:
        yield
    finally:
        SHARED = before


def gathered(root: Path, settings: Settings) -> Gathered:
    """The repository validated (once per build when sharing)."""
    key = (str(root), settings)
    if SHARED is not None and key in SHARED:
        return SHARED[key]
    found = Gathered(validate([str(root)], settings))
    if SHARED is not None:
        SHARED[key] = found
    return found


def gathered_ahead(config: MkDocsConfig) -> list[str]:
    """Before any language's build, while sharing: the data read, checked and gathered once,
    so that builds running side by side all start from it. The portal's languages, the
    default first; [] when there is nothing to share (no civicgen, or a problem with the
    settings or the data, which the build itself then reports as it always does)."""
    plugin = civicgen_plugin(config)
    if plugin is None or SHARED is None:
        return []
    root = Path(config.config_file_path or ".").resolve().parent
    try:
        settings = settings_from(plugin.config, str(config.config_file_path or ""))
        languages = [check_language(code, "languages") for code in plugin_languages(plugin, config)]
        found = gathered(root, settings)
        if not found.validation.report.valid:
            return []
        found.site_inputs()
    except CivicgenException:
        return []
    return languages


@dataclass(frozen=True)
class LanguageMenu:
    """config.extra.alternate: the language menu's entries for the page being rendered.

    Not a list on purpose: mkdocs-material writes a <link rel="alternate"> for each entry of
    a list, and its script then fetches <link>/sitemap.xml and may send a click on the menu
    to the other language's home page instead; civicgen's partial (partials/alternate.html)
    reads `entries`, whose links already lead to the same page in each language."""

    entries: list[dict[str, Any]]


def plugin_languages(plugin: CivicgenPlugin, config: MkDocsConfig) -> list[str]:
    """The portal's languages, the default first (no `languages` option: the theme's)."""
    return list(plugin.config["languages"]) or [config.theme["language"] or "en"]


class Checked(BaseConfigOption[Any]):
    """An option of config.OPTIONS as MkDocs checks it: the same test, the same words."""

    def __init__(self, option: Option) -> None:
        super().__init__()
        self.option, self.default = option, option.default

    def run_validation(self, value: object) -> Any:
        problem = self.option.problem(value) if value is not None else ""
        if problem:
            raise ValidationError(problem)
        return self.default if value is None else value


class CivicgenConfig(Config):
    """The plugin's options in mkdocs.yml: config.OPTIONS, by name."""

    _schema = tuple((name, Checked(option)) for name, option in OPTIONS.items())


class CivicgenPlugin(BasePlugin[CivicgenConfig]):
    """Validate the portal's packages on config; add their pages and downloads on files."""

    def __init__(self) -> None:
        self.validation: Validation | None = None
        self.gathered: Gathered | None = None
        self.with_policy: set[str] = set()  # site paths of the pages given a policy on render
        self.html_pages: dict[str, str] = {}  # generated pages' HTML, kept out of Markdown
        self.serving = False
        self.language: str | None = None  # set by `civicgen build` for each language
        self.languages: list[str] = []
        self.catalogue: Catalogue | None = None
        self.root = Path(".")

    @property
    def current(self) -> str:
        """The language being built: the one `civicgen build` set, else the default."""
        return self.language or self.languages[0]

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.serving = command == "serve"  # live reload injects an inline script: no policy

    @event_priority(50)  # first: the theme's language is set before search reads it
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config["enabled"]:
            return config
        if config.extra_templates:
            raise PluginError(UNSANDBOXED)
        config.extra_css.append(STYLESHEET)
        config.extra_javascript.append(FILTERS)
        config.extra_javascript.append(COMPARE)
        config.theme.dirs.insert(1 if config.theme.custom_dir else 0, str(THEME))
        self.root = root = Path(config.config_file_path or ".").resolve().parent
        try:
            settings = settings_from(self.config, str(config.config_file_path or ""))
            self.set_language(config, settings)
            self.gathered = gathered(root, settings)
        except CivicgenException as exc:
            raise PluginError(str(exc)) from exc
        self.validation = self.gathered.validation
        report = self.validation.report
        if not report.valid:
            raise InvalidDataError(refusal(report.to_text().splitlines()[:-1], report.summary()))
        for warning in (e for e in report.errors if e.warning):
            log.warning(visible(warning.message))
        return config

    def set_language(self, config: MkDocsConfig, settings: Settings) -> None:
        """This build's language: its catalogue, the theme's language, translated nav titles,
        site name and description, and the other languages' roots (for the theme's language menu)."""
        name = Path(config.config_file_path or "mkdocs.yml").name
        self.languages = [
            check_language(code, f'{name}, civicgen option "languages"')
            for code in plugin_languages(self, config)
        ]
        self.catalogue = load_catalogue(
            self.current, self.root, settings.locale_dir, settings.limits
        )
        if self.config["languages"]:
            config.theme["language"] = theme_language(self.current)
            config.extra["alternate"] = LanguageMenu(self.alternates(""))
        if config.nav is not None:
            config.nav = translated_nav(config.nav, self.catalogue)
        config.site_name = translated(config.site_name, self.catalogue)
        if config.site_description:
            config.site_description = translated(config.site_description, self.catalogue)

    def prefix(self, language: str) -> str:
        """The path from this build's root to language's root ('', 'en/', '../', '../ca/')."""
        up = "" if self.current == self.languages[0] else "../"
        down = "" if language == self.languages[0] else f"{language}/"
        return "" if language == self.current else up + down

    def alternates(self, page_url: str) -> list[dict[str, Any]]:
        """For the language menu: this page in every language.
        link is for MkDocs' url filter (roots only); href is the page's own relative link."""
        up = "../" * page_url.count("/")
        return [
            {
                "name": language_name(code),
                "lang": code,
                "link": self.prefix(code) or "./",
                "href": up + self.prefix(code) + page_url or "./",
                "current": code == self.current,
            }
            for code in self.languages
        ]

    @event_priority(-50)
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.config["enabled"] or self.validation is None:
            return files
        theme = Path(config.theme.custom_dir) if config.theme.custom_dir else None
        env = make_env(theme, self.catalogue)
        env.globals["repository_url"] = self.config["repository_url"].rstrip("/")
        env.globals["forge"] = self.config["forge"] or ""  # "": known from the repository's host
        env.globals["site_url"] = config.site_url or ""  # this language's public address
        env.globals["language"] = self.current
        env.globals["directory_urls"] = config.use_directory_urls  # how pages link each other
        env.globals["docs_dir"] = docs_folder(config)
        css = resources.files("civicgen").joinpath("assets/civicgen.css").read_text("utf-8")
        files.append(File.generated(config, STYLESHEET, content=css))
        script = resources.files("civicgen").joinpath("assets/filters.js").read_text("utf-8")
        files.append(File.generated(config, FILTERS, content=script))
        compare = resources.files("civicgen").joinpath("assets/compare.js").read_text("utf-8")
        files.append(File.generated(config, COMPARE, content=compare))
        for file in other_languages(files, self.languages[1:]):
            files.remove(file)  # content/<lang>/ is that language's build
        try:
            intro = city_intro(files)  # the city's own home page text, kept on the home
            inputs = self.site_inputs()
            with formatting(self.current if self.catalogue else None):
                outputs = render_site(env, inputs, self.config["preview_rows"], intro)
                outputs += search_files(env)
            if self.current == self.languages[0]:  # the catalogues list every language's pages once
                outputs += harvest_files(inputs, outputs, config)
            else:  # the downloads are the root's: one copy for every language
                outputs = one_copy(outputs, self.current, config.use_directory_urls)
        except CivicgenException as exc:
            raise PluginError(str(exc)) from exc
        for output in outputs:
            existing = files.get_file_from_path(output.uri)
            if existing is not None:
                files.remove(existing)  # a generated page replaces a hand-written placeholder
            file = File.generated(config, output.uri, content=output.content)
            if output.edit_path:
                file.edit_uri = output.edit_path
            files.append(file)
        return files

    @event_priority(-100)  # last: after any plugin added its filters and globals
    def on_env(self, env: Environment, /, *, config: MkDocsConfig, files: Files) -> Environment:
        """MkDocs' own theme templates (theme/main.html, partials…) run in the sandbox too."""
        return sandboxed(env) if self.config["enabled"] else env

    def site_inputs(self) -> SiteInputs:
        assert self.gathered is not None
        return self.gathered.site_inputs()

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        self.with_policy = set()
        self.html_pages = {}  # none left from a build that stopped half-way

    @event_priority(-100)  # last: another plugin's changes to the page's Markdown are kept
    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        """A generated page that is one block of HTML skips Python-Markdown, which would only
        parse it to hand the same HTML back (half the build's time at 10x the example): the
        HTML is kept aside and becomes the page's content."""
        if self.config["enabled"] and page.file.generated_by and is_html_page(markdown):
            self.html_pages[page.file.src_uri] = markdown.rstrip()
            return ""
        return markdown

    def on_page_content(
        self, content: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        """A generated page's HTML, and its table of contents from its anchored headings
        (Markdown's toc extension does not read the HTML a template wrote)."""
        content = self.html_pages.pop(page.file.src_uri, content)
        if self.config["enabled"] and page.file.generated_by and not page.toc.items:
            page.toc = get_toc(toc_tokens(content))  # type: ignore[arg-type]
        return content

    def on_page_context(
        self, context: TemplateContext, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> TemplateContext:
        """The language menu leads to this same page in the other languages."""
        if self.config["enabled"] and self.config["languages"]:
            config.extra["alternate"] = LanguageMenu(self.alternates(page.url))
        return context

    @event_priority(-100)  # last: the policy hashes the page's final HTML
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str | None:
        if not self.config["enabled"] or self.serving:
            return output
        self.with_policy.add(page.file.dest_uri)
        return csp.with_policy(output, page.content or "")

    @event_priority(-100)
    def on_post_template(
        self, output_content: str, *, template_name: str, config: MkDocsConfig
    ) -> str | None:
        if not self.config["enabled"] or self.serving or not template_name.endswith(".html"):
            return output_content
        self.with_policy.add(template_name)
        return csp.with_policy(output_content)

    @event_priority(-100)  # last: after search has written its index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Static pages get their policy. `civicgen build` seals the site (manifest and
        SHA256SUMS) once every language is built; a plain `mkdocs build` (one language) here."""
        if self.config["enabled"] and not self.serving:
            protect_static_pages(Path(config.site_dir), self.with_policy)
            if SHARED is None:  # a plain `mkdocs build`: this one language is the whole site
                index_site(Path(config.site_dir))
                seal(Path(config.site_dir), config)
        if self.config["languages"]:
            config.extra["alternate"] = LanguageMenu(self.alternates(""))


HTML_PAGE = '<div class="civicgen">'  # how _page.html opens every generated page's body
MARKDOWN_INSIDE = re.compile(r"<\w[^>]*\smarkdown\b", re.IGNORECASE)  # md_in_html's attribute


def is_html_page(markdown: str) -> bool:
    """A page written by _page.html: one <div> of HTML, nothing for Markdown to convert (a
    city's template that asks for Markdown inside an element, `markdown="1"`, is converted)."""
    return (
        markdown.startswith(HTML_PAGE)
        and markdown.rstrip().endswith("</div>")
        and not MARKDOWN_INSIDE.search(markdown)
    )


def city_intro(files: Files) -> str | None:
    """The Markdown of the city's own index.md, which the generated home page shows."""
    home = files.get_file_from_path("index.md")
    try:
        return home.content_string if home is not None else None
    except UnicodeDecodeError as exc:
        raise PluginError(f"Error reading page 'index.md': {exc}; save the file as UTF-8") from exc


def refusal(lines: list[str], summary: str) -> str:
    """The PluginError text: the first errors, then how many more."""
    shown = lines[:SHOWN_ERRORS]
    more = len(lines) - len(shown)
    tail = [f"…and {more} more"] if more else []
    return "\n".join(
        [
            REFUSED,
            *shown,
            *tail,
            summary,
            "Run `civicgen validate` to see every error.",
        ]
    )


def language_name(code: str) -> str:
    """es -> 'español', en -> 'English': each language named in itself."""
    from babel import Locale

    name = Locale.parse(code.replace("-", "_")).get_display_name() or code
    return name[:1].upper() + name[1:]


def translated(text: str, catalogue: Catalogue) -> str:
    """A title or description from mkdocs.yml in the build's language, escaped (the theme
    prints them as they are, and a city's catalogue is untrusted)."""
    translation = catalogue.text(text)
    return text if translation == text else html.escape(translation)


def translated_nav(nav: Any, catalogue: Catalogue) -> Any:
    """mkdocs.yml's nav with each title in the build's language (pages keep their paths)."""
    if isinstance(nav, list):
        return [translated_nav(item, catalogue) for item in nav]
    if isinstance(nav, dict):
        return {
            translated(str(title), catalogue): translated_nav(value, catalogue)
            for title, value in nav.items()
        }
    return nav


def other_languages(files: Files, others: list[str]) -> list[File]:
    """The files of content/<lang>/ for each other language (built by that language)."""
    tops = {f"{code}/" for code in others}
    return [f for f in files if f.src_uri.startswith(tuple(tops)) and not f.generated_by]


def civicgen_plugin(config: MkDocsConfig) -> CivicgenPlugin | None:
    """The configuration's civicgen plugin, when it is there and enabled."""
    plugin = config.plugins.get("civicgen")
    if isinstance(plugin, CivicgenPlugin) and plugin.config["enabled"]:
        return plugin
    return None


def seal(site_dir: Path, config: MkDocsConfig) -> None:
    """civicgen-manifest.json, then SHA256SUMS over every file of the site (the manifest too)."""
    plugin = civicgen_plugin(config)
    if plugin is None or plugin.validation is None:
        return
    data_dirs = (plugin.config["datasets_dir"], plugin.config["tools_dir"])
    inputs = (*mkdocs_inputs(config), locale_folder(plugin))
    manifest = site_manifest.for_build(plugin.validation, data_dirs, inputs, site_dir, __version__)
    (site_dir / site_manifest.MANIFEST).write_text(site_manifest.dumps(manifest), encoding="utf-8")
    files = site_manifest.site_files(site_dir, skip=frozenset({site_manifest.SUMS}))
    (site_dir / site_manifest.SUMS).write_text(site_manifest.sums_text(files), encoding="utf-8")


def locale_folder(plugin: CivicgenPlugin) -> Path | None:
    """The city's translations folder, when it has one (a source of the build)."""
    folder = plugin.root / plugin.config["locale_dir"]
    return folder if folder.is_dir() and not folder.is_symlink() else None


def mkdocs_inputs(config: MkDocsConfig) -> tuple[Path, Path, Path | None]:
    """What MkDocs reads besides the data: mkdocs.yml, the pages folder, the theme folder."""
    theme = config.theme.custom_dir
    return (
        Path(config.config_file_path or "mkdocs.yml").resolve(),
        Path(config.docs_dir),
        Path(theme) if theme else None,
    )


def docs_folder(config: MkDocsConfig) -> str:
    """The pages folder, relative to mkdocs.yml (the About page reads its prose there)."""
    root = Path(config.config_file_path or "mkdocs.yml").resolve().parent
    docs = Path(config.docs_dir).resolve()
    return docs.relative_to(root).as_posix() if docs.is_relative_to(root) else ""


def protect_static_pages(site_dir: Path, done: set[str]) -> None:
    """A policy for HTML files copied as they are (not rendered): none of their scripts runs."""
    for path in sorted(site_dir.rglob("*.html")):
        if path.relative_to(site_dir).as_posix() not in done and not path.is_symlink():
            page = path.read_text(encoding="utf-8", errors="surrogateescape")
            page = csp.with_policy(page, body=page)
            path.write_text(page, encoding="utf-8", errors="surrogateescape")
