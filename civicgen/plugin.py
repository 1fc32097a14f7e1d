"""The thin MkDocs plugin: runs the pipeline and hands MkDocs finished pages and files."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files

from .config import CivicgenConfig
from .exceptions import CivicgenException
from .limits import Limits
from .pipeline import Settings, validate
from .site.env import make_env
from .site.pages import render_site
from .textcheck import visible
from .validation import Validation

log = get_plugin_logger(__name__)
SHOWN_ERRORS = 20
STYLESHEET = "assets/stylesheets/civicgen.css"


class CivicgenPlugin(BasePlugin[CivicgenConfig]):
    """Validate the portal's packages on config; add their pages and downloads on files."""

    def __init__(self) -> None:
        self.validation: Validation | None = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        config.extra_css.append(STYLESHEET)
        root = Path(config.config_file_path or ".").resolve().parent
        try:
            settings = Settings(
                datasets_dir=self.config.datasets_dir,
                tools_dir=self.config.tools_dir,
                limit_errors=self.config.limit_errors,
                cache_dir=self.config.cache_dir,
                limits=Limits.from_options(self.config.limits),
            )
            self.validation = validate([str(root)], settings)
        except CivicgenException as exc:
            raise PluginError(str(exc)) from exc
        report = self.validation.report
        if not report.valid:
            raise PluginError(refusal(report.to_text().splitlines()[:-1], report.summary()))
        for warning in (e for e in report.errors if e.warning):
            log.warning(visible(warning.message))
        return config

    @event_priority(-50)
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled or self.validation is None:
            return files
        env = make_env(Path(config.theme.custom_dir) if config.theme.custom_dir else None)
        env.globals["repository_url"] = self.config.repository_url.rstrip("/")
        css = resources.files("civicgen").joinpath("assets/civicgen.css").read_text("utf-8")
        files.append(File.generated(config, STYLESHEET, content=css))
        try:
            outputs = render_site(env, self.validation, self.config.preview_rows)
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

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.config.enabled:
            write_manifest(Path(config.site_dir))


def refusal(lines: list[str], summary: str) -> str:
    """The PluginError text: the first errors, then how many more."""
    shown = lines[:SHOWN_ERRORS]
    more = len(lines) - len(shown)
    tail = [f"…and {more} more"] if more else []
    return "\n".join(
        [
            "civicgen: the data is not valid, so nothing was published.",
            *shown,
            *tail,
            summary,
            "Run `civicgen validate` to see every error.",
        ]
    )


def write_manifest(site_dir: Path) -> None:
    """SHA256SUMS: one line per file of the site, sorted, so anyone can check a rebuild."""
    lines = []
    for path in sorted(p for p in site_dir.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(site_dir).as_posix()}\n")
    (site_dir / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
