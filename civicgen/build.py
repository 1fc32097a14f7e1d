"""Build the static site with MkDocs, atomically, reproducibly and one build at a time.

The site is written to a temporary folder beside the target and swapped in only when the
build succeeded, so a failed build never leaves a half-written site nor its staging folder.
Builds into the same folder take turns (a lock on the folder that holds the site). Times
come from the last git commit (SOURCE_DATE_EPOCH), never from the clock. Every template,
civicgen's and MkDocs' theme's, runs in Jinja's sandbox. Every way the build can fail ends
in a BuildFault: one line that says what went wrong and what to do.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import Abort, ConfigurationError, PluginError

from . import forked
from .config import check_config_file
from .exceptions import BuildFault, CivicgenException, InvalidDataRefused, SiteConfigError
from .harvest import merge_sitemaps
from .plugin import REFUSED, InvalidDataError, civicgen_plugin, gathered_ahead, seal, sharing
from .repo import last_commit_time
from .search import Indexing
from .site.theme_assets import share_theme_assets

LOCK_TIMEOUT = 600.0  # seconds a build waits for another build of the same site
FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EEXIST)


class ThemeTemplateError(BuildFault):
    """A theme template was refused by the sandbox (internals, mutation, a link) or is broken."""

    code = "theme-template"
    title = "Theme template"
    example = 'theme/civicgen/dataset.html, line 3: the template reads "__class__" of a str value, which a template may not do'
    fix = "Keep templates to the page context: no internals, no changes to the data, no links."


class SiteNotWritable(BuildFault):
    """The site folder cannot be written, or replacing it would replace the portal itself."""

    code = "site-not-writable"
    title = "Site not writable"
    example = "site: cannot write the site here (read-only file system)"
    fix = "Build into a folder you can write (--site-dir), never the portal or .git itself."


class DiskFull(BuildFault):
    """No space left, a quota, or a file size limit, while writing the site."""

    code = "disk-full"
    title = "Disk full"
    example = "site: no space left on device while writing the site"
    fix = "Free space or raise the quota, then build again; the previous site is still there."


class BuildBusy(BuildFault):
    """Another build of the same site kept the lock for LOCK_TIMEOUT seconds."""

    code = "build-busy"
    title = "Build busy"
    example = "site: another build of this site is running"
    fix = "Wait for it to finish, then build again."


# --- one build at a time, and no leftovers -----------------------------------------------


@contextmanager
def exclusive(folder: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock on folder (the one that holds the site) while building."""
    try:
        import fcntl
    except ImportError:  # Windows: builds are not serialised
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + timeout
        while not try_lock(fcntl, descriptor):
            if time.monotonic() > deadline:
                raise BuildBusy(f"another build of {folder} is still running; try again later")
            time.sleep(0.1)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def try_lock(fcntl: ModuleType, descriptor: int) -> bool:
    """Lock descriptor with fcntl (passed in: Windows has none) if no other process holds it."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def clear_leftovers(target: Path) -> None:
    """Restore a site a killed build had set aside, and remove its staging folders."""
    old = target.with_name(f".{target.name}.old")
    if old.is_dir() and not target.exists():
        old.rename(target)
    staging = re.compile(rf"^\.{re.escape(target.name)}\.([a-z0-9_]{{8}}|old)$")
    for path in target.parent.iterdir():
        if staging.match(path.name) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def source_date_epoch(root: Path) -> Iterator[None]:
    """Set SOURCE_DATE_EPOCH from HEAD for the duration of the build."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = last_commit_time(root)
    if before is None and stamp is not None:
        os.environ["SOURCE_DATE_EPOCH"] = str(stamp)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def replace_dir(new: Path, target: Path) -> None:
    """Swap new into target; the old site is removed only after the swap."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new.rename(target)
    if old.exists():
        shutil.rmtree(old)


# --- MkDocs' messages, kept to say why it stopped ----------------------------------------


class ErrorCollector(logging.Handler):
    """The ERROR records MkDocs logs while it runs (its reasons for an Abort)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def collect_errors() -> Iterator[ErrorCollector]:
    collector = ErrorCollector()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)


# --- faults, each as one line ------------------------------------------------------------


def template_position(exc: BaseException) -> str:
    """'theme/civicgen/dataset.html, line 3: ' for the template frame the error came from."""
    if isinstance(exc, TemplateSyntaxError) and exc.filename:
        return f"{exc.filename}, line {exc.lineno}: "
    found = ""
    trace = exc.__traceback__
    while trace is not None:
        name = trace.tb_frame.f_code.co_filename
        if name.endswith((".html", ".md", ".jinja")):
            found = f"{name}, line {trace.tb_lineno}: "
        trace = trace.tb_next
    return found


def template_fault(exc: TemplateError) -> BuildFault:
    problem = exc.message or str(exc)
    if isinstance(exc, TemplateNotFound):
        problem = f'no template named "{exc.name}" (extend civicgen\'s own as "default:<name>")'
    return ThemeTemplateError(
        f"{template_position(exc)}{problem}; nothing was published (a theme template may "
        "only show data)"
    )


def disk_fault(exc: OSError, target: Path) -> BuildFault:
    """An OSError while building, as the user's problem: disk full, folder not writable…"""
    name = exc.filename or target
    reason = exc.strerror or str(exc)
    if exc.errno in FULL:
        return DiskFull(
            f"could not write the site into {target.parent}: {reason} ({name}); "
            "free some space or build elsewhere with --site-dir; the previous site is unchanged"
        )
    if exc.errno in NOT_WRITABLE:
        return SiteNotWritable(
            f"cannot write the site to {target}: {reason} ({name}); choose a folder you "
            "can write to with --site-dir"
        )
    return BuildFault(f"the build stopped: {reason} ({name})")


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception and those it was raised from or during (at most 10)."""
    for _ in range(10):
        if exc is None:
            return
        yield exc
        exc = exc.__cause__ or exc.__context__


def config_fault(exc: Exception, collector: ErrorCollector, config_file: Path) -> BuildFault:
    """ConfigurationError, PluginError or Abort: MkDocs' own reason, on one line."""
    if any(isinstance(e, InvalidDataError) for e in chain(exc)):
        return InvalidDataRefused(REFUSED)
    fault = next((e for e in chain(exc) if isinstance(e, BuildFault)), None)
    if fault is not None:  # civicgen's own reason (a translation catalogue, a language…)
        return fault
    reasons = [m.strip().splitlines()[0] for m in collector.messages if m.strip()]
    first = "; ".join(reasons[:3]) or str(exc)
    if isinstance(exc, ConfigurationError) or "configuration" in str(exc):
        return SiteConfigError(f"{config_file.name}: {first}")
    return BuildFault(first)


# --- the build ---------------------------------------------------------------------------


def check_target(target: Path, root: Path) -> None:
    """SiteNotWritable for a site folder whose swap would replace the portal or a file."""
    if target == root or target in root.parents or root / ".git" in (target, *target.parents):
        raise SiteNotWritable(
            f"{target} holds the portal's own files; a build replaces its site folder "
            "entirely, so choose an empty or a site folder with --site-dir"
        )
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise SiteNotWritable(f"{target} is not a folder; choose a folder with --site-dir")


def prepare_target(config_path: Path, site_dir: str | Path | None) -> Path:
    target = Path(site_dir).resolve() if site_dir else config_path.parent / "site"
    check_target(target, config_path.parent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise disk_fault(exc, target) from exc
    return target


def build_site(
    config_file: str | Path = "mkdocs.yml",
    site_dir: str | Path | None = None,
    strict: bool = False,
    jobs: int | None = None,
) -> Path:
    """Validate, render and write the portal; return the site folder. jobs: how many
    languages may build at once (None: one per core; see build_languages)."""
    config_path = Path(config_file).resolve()
    if not config_path.is_file():
        raise CivicgenException(f"{config_file} not found; run civicgen in the portal's folder")
    check_config_file(config_path)
    target = prepare_target(config_path, site_dir)
    try:
        with exclusive(target.parent):
            clear_leftovers(target)
            build_into(config_path, target, strict, jobs)
    except OSError as exc:
        raise disk_fault(exc, target) from exc
    return target


def build_into(config_path: Path, target: Path, strict: bool, jobs: int | None) -> None:
    """Build in a workspace beside target and swap the site in; remove it whatever happens."""
    workspace = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging = workspace / "site"
    try:
        with (
            collect_errors() as collector,
            source_date_epoch(config_path.parent),
            sharing(),
            Indexing() as indexing,
        ):
            default = build_languages(config_path, workspace, strict, collector, indexing, jobs)
            finish_site(staging, default, indexing)
            seal(staging, default)
        replace_dir(staging, target)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


# --- every language, one site -------------------------------------------------------------


@dataclass(frozen=True)
class LanguageBuild:
    """One other language's MkDocs build: into <site>/<lang>/, with its own settings."""

    language: str
    site_dir: Path
    extra: dict[str, str]


def build_languages(
    config_path: Path,
    workspace: Path,
    strict: bool,
    collector: ErrorCollector,
    indexing: Indexing,
    jobs: int | None,
) -> MkDocsConfig:
    """The default language into <workspace>/site and each other one beside it, then moved to
    site/<lang>/ (MkDocs empties its site folder as it starts). They build side by side on a
    machine with cores to spare, from the data read once before any of them
    (plugin.gathered_ahead); the root's search index starts as soon as its pages are written.
    jobs caps how many build at once (each forked process's memory grows towards the first
    one's as it builds). Return the default language's configuration."""
    staging = workspace / "site"
    with mkdocs_faults(collector, config_path):
        default = load_config(str(config_path), site_dir=str(staging), strict=strict)
    ahead = [language_build(default, code, workspace) for code in gathered_ahead(default)[1:]]

    def build_other(other: LanguageBuild) -> None:
        with mkdocs_faults(collector, config_path):
            config = load_config(
                str(config_path), site_dir=str(other.site_dir), strict=strict, **other.extra
            )
            run_mkdocs(config, other.language)

    workers = forked.spare_cores(len(ahead))
    if jobs is not None:
        workers = min(workers, jobs - 1)
    with forked.SideBySide(ahead, build_other, workers) as side:
        with mkdocs_faults(collector, config_path):
            run_mkdocs(default, None)
        others = portal_languages(default)[1:]
        indexing.start(staging, set(others))
        taken = {other.language for other in ahead if other not in side.left}
        for language in others:
            if language not in taken:
                build_other(language_build(default, language, workspace))
        side.wait()
    for language in others:
        language_build(default, language, workspace).site_dir.rename(staging / language)
    return default


def language_build(default: MkDocsConfig, language: str, workspace: Path) -> LanguageBuild:
    """A language's pages come from <docs_dir>/<lang>/ and are published under
    <site_url><lang>/; built in <workspace>/languages/<lang>/."""
    extra = {"docs_dir": str(language_docs(Path(default.docs_dir), language))}
    if default.site_url:
        extra["site_url"] = f"{default.site_url.rstrip('/')}/{language}/"
    return LanguageBuild(language, workspace / "languages" / language, extra)


def portal_languages(config: MkDocsConfig) -> list[str]:
    """The portal's languages, the default first (none declared: just the default)."""
    plugin = civicgen_plugin(config)
    return list(plugin.languages) if plugin is not None else []


def language_docs(docs_dir: Path, language: str) -> Path:
    """A language's content pages: <docs_dir>/<lang>/, else the default language's pages."""
    folder = docs_dir / language
    return folder if folder.is_dir() and not folder.is_symlink() else docs_dir


def finish_site(site_dir: Path, default: MkDocsConfig, indexing: Indexing) -> None:
    """Steps over the whole finished site, every language built, before the manifest seals it.

    A step that needs every page of every language runs here (one copy of the theme's
    assets, one sitemap for them all); so does each other language's search index, which
    reads its pages once relinked to the root's assets. The manifest written next covers
    every file, the search indexes too.
    """
    others = portal_languages(default)[1:]
    root_path = urlsplit(default.site_url or "").path or "/"
    for language in others:
        share_theme_assets(site_dir, language, root_path)
        indexing.start(site_dir / language, set())
    merge_sitemaps(site_dir, others)
    indexing.wait()


def run_mkdocs(config: MkDocsConfig, language: str | None) -> None:
    """One MkDocs build of one language (None: the default), inside mkdocs_faults."""
    plugin = civicgen_plugin(config)
    if plugin is not None:
        plugin.language = language
    mkdocs_build(config)


@contextmanager
def mkdocs_faults(collector: ErrorCollector, config_path: Path) -> Iterator[None]:
    """MkDocs' and the templates' errors while loading or building, as BuildFaults."""
    try:
        yield
    except TemplateError as exc:
        raise template_fault(exc) from exc
    except UnicodeDecodeError as exc:
        reasons = "; ".join(m.strip().splitlines()[0] for m in collector.messages[-1:])
        raise BuildFault(f"{reasons or exc}; save the file as UTF-8 text") from exc
    except (ConfigurationError, PluginError, Abort) as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, TemplateError):
            raise template_fault(cause) from exc
        raise config_fault(exc, collector, config_path) from exc
