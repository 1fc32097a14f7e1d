"""The thin MkDocs plugin: runs the pipeline and hands MkDocs finished pages and files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from . import __version__, csp
from . import manifest as site_manifest
from .config import CivicgenConfig, settings_from
from .exceptions import CivicgenException
from .harvest import harvest_files
from .pipeline import validate
from .search import index_site, search_files
from .site.env import make_env, sandboxed
from .site.inputs import gather
from .site.pages import render_site
from .textcheck import visible
from .validation import Validation

log = get_plugin_logger(__name__)
SHOWN_ERRORS = 20
REFUSED = "civicgen: the data is not valid, so nothing was published."
STYLESHEET = "assets/stylesheets/civicgen.css"
THEME = Path(__file__).parent / "theme"  # partials over mkdocs-material's (search marks)


class InvalidDataError(PluginError):
    """The plugin refuses to build invalid data (civicgen build exits 1 on it)."""


class CivicgenPlugin(BasePlugin[CivicgenConfig]):
    """Validate the portal's packages on config; add their pages and downloads on files."""

    def __init__(self) -> None:
        self.validation: Validation | None = None
        self.with_policy: set[str] = set()  # site paths of the pages given a policy on render
        self.serving = False

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.serving = command == "serve"  # live reload injects an inline script: no policy

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        config.extra_css.append(STYLESHEET)
        config.theme.dirs.insert(1 if config.theme.custom_dir else 0, str(THEME))
        root = Path(config.config_file_path or ".").resolve().parent
        try:
            settings = settings_from(self.config, str(config.config_file_path or ""))
            self.validation = validate([str(root)], settings)
        except CivicgenException as exc:
            raise PluginError(str(exc)) from exc
        report = self.validation.report
        if not report.valid:
            raise InvalidDataError(refusal(report.to_text().splitlines()[:-1], report.summary()))
        for warning in (e for e in report.errors if e.warning):
            log.warning(visible(warning.message))
        return config

    @event_priority(-50)
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled or self.validation is None:
            return files
        env = make_env(Path(config.theme.custom_dir) if config.theme.custom_dir else None)
        env.globals["repository_url"] = self.config.repository_url.rstrip("/")
        env.globals["docs_dir"] = docs_folder(config)
        css = resources.files("civicgen").joinpath("assets/civicgen.css").read_text("utf-8")
        files.append(File.generated(config, STYLESHEET, content=css))
        try:
            inputs = gather(self.validation)
            outputs = render_site(env, inputs, self.config.preview_rows)
            outputs += search_files(env) + harvest_files(inputs, outputs, config)
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
        return sandboxed(env) if self.config.enabled else env

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        self.with_policy = set()

    @event_priority(-100)  # last: the policy hashes the page's final HTML
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str | None:
        if not self.config.enabled or self.serving:
            return output
        self.with_policy.add(page.file.dest_uri)
        return csp.with_policy(output, page.content or "")

    @event_priority(-100)
    def on_post_template(
        self, output_content: str, *, template_name: str, config: MkDocsConfig
    ) -> str | None:
        if not self.config.enabled or self.serving or not template_name.endswith(".html"):
            return output_content
        self.with_policy.add(template_name)
        return csp.with_policy(output_content)

    @event_priority(-100)  # last: after search has written its index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        site_dir = Path(config.site_dir)
        if not self.serving:
            protect_static_pages(site_dir, self.with_policy)
        index_site(site_dir)
        if self.validation is not None:
            data_dirs = (self.config.datasets_dir, self.config.tools_dir)
            manifest = site_manifest.for_build(
                self.validation, data_dirs, mkdocs_inputs(config), site_dir, __version__
            )
            write_manifest(site_dir, manifest)


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


def write_manifest(site_dir: Path, manifest: dict[str, object]) -> None:
    """civicgen-manifest.json, then SHA256SUMS over every file of the site (the manifest too)."""
    (site_dir / site_manifest.MANIFEST).write_text(site_manifest.dumps(manifest), encoding="utf-8")
    files = site_manifest.site_files(site_dir, skip=frozenset({site_manifest.SUMS}))
    (site_dir / site_manifest.SUMS).write_text(site_manifest.sums_text(files), encoding="utf-8")
