"""Which changed files need a maintainer's eyes: anything that runs when the portal is built.

A pull request should change data: the packages under the declared data folders. A change
to a workflow, the theme, mkdocs.yml, packaging, civicgen's code, a script, an executable
file, a link or a submodule — or to any file outside the data folders — is listed with its
reasons at the top of the `civicgen diff` report. The data folders are read from mkdocs.yml
at the base revision (the maintainer's), never from the pull request.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

import pygit2
import yaml

from .repo import Revision, Source

MESSAGE = (
    "needs a maintainer's review: this pull request changes code or configuration that runs "
    "when the portal is built"
)
CI_FILES = (".gitlab-ci.yml", ".travis.yml", ".drone.yml", "Jenkinsfile", "azure-pipelines.yml")
CI_FOLDERS = (".github/", ".forgejo/", ".gitea/", ".woodpecker/", ".circleci/", ".buildkite/")
PACKAGING = (
    "setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "tox.ini", "noxfile.py",
    "Makefile", "justfile", "conftest.py", ".pre-commit-config.yaml", ".gitattributes",
    ".gitmodules", "requirements.txt",
)  # fmt: skip
CODE_SUFFIXES = (".py", ".pyx", ".pxd", ".pyi", ".sh", ".js", ".so", ".pth", ".c", ".h")
CODE_FOLDERS = ("civicgen/", "scripts/", "tests/", "benchmarks/", "hooks/")
CACHE_DIR = ".civicgen-cache"  # caches lived here before 0.2; one committed now is listed
MODES: dict[int, str] = {
    pygit2.enums.FileMode.BLOB_EXECUTABLE: "executable file",
    pygit2.enums.FileMode.LINK: "symbolic link",
    pygit2.enums.FileMode.COMMIT: "submodule",
}


@dataclass(frozen=True)
class ReviewNote:
    """One changed path and why a maintainer must look at it."""

    path: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """Where a portal keeps its data, its pages and its theme (from mkdocs.yml)."""

    data: tuple[str, ...] = ("datasets", "tools-catalog")
    pages: str = "content"
    theme: str = "theme"


# --- the portal's layout, from the base revision's mkdocs.yml -----------------------------


class AnyTagLoader(yaml.SafeLoader):
    """Safe YAML that reads every tag (!ENV, !!python/name…) as nothing."""


AnyTagLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def read_layout(source: Source) -> Layout:
    """The layout mkdocs.yml declares; the defaults when it cannot be read."""
    try:
        config = yaml.load(source.read("mkdocs.yml"), Loader=AnyTagLoader)  # noqa: S506
    except (OSError, KeyError, yaml.YAMLError):
        return Layout()
    if not isinstance(config, dict):
        return Layout()
    plugin = civicgen_options(config.get("plugins"))
    theme = config["theme"] if isinstance(config.get("theme"), dict) else {}
    return Layout(
        data=(
            folder(plugin.get("datasets_dir"), "datasets"),
            folder(plugin.get("tools_dir"), "tools-catalog"),
        ),
        pages=folder(config.get("docs_dir"), "docs"),
        theme=folder(theme.get("custom_dir"), "theme"),
    )


def civicgen_options(plugins: Any) -> dict[str, Any]:
    """The civicgen plugin's options from mkdocs.yml's plugins (a list or a mapping)."""
    entries = plugins.items() if isinstance(plugins, dict) else []
    if isinstance(plugins, list):
        entries = [next(iter(p.items())) if isinstance(p, dict) and p else (p, {}) for p in plugins]
    for name, options in entries:
        if name == "civicgen" and isinstance(options, dict):
            return options
    return {}


def folder(value: Any, default: str) -> str:
    text = posixpath.normpath(str(value)) if isinstance(value, str) and value.strip() else default
    return text.strip("/") if text not in (".", "..") and not text.startswith("../") else default


# --- what changed, with file modes -------------------------------------------------------


def changed_entries(base: Revision, head: Source) -> list[tuple[str, int]]:
    """(path, mode) of every file added, removed, changed or re-moded from base to head."""
    if isinstance(head, Revision):
        patch = base.repository.diff(base.commit.tree, head.commit.tree)  # type: ignore[call-overload]  # pygit2 stub omits Tree
    else:
        flags = (
            pygit2.enums.DiffOption.INCLUDE_UNTRACKED
            | pygit2.enums.DiffOption.RECURSE_UNTRACKED_DIRS
            | pygit2.enums.DiffOption.INCLUDE_TYPECHANGE
        )
        patch = base.commit.tree.diff_to_workdir(flags)
    entries: dict[str, int] = {}
    for delta in patch.deltas:
        if own_cache(delta):
            continue
        entries.setdefault(delta.old_file.path, delta.old_file.mode)
        entries[delta.new_file.path] = delta.new_file.mode or delta.old_file.mode
    return sorted(entries.items())


def inside(path: str, top: str) -> bool:
    return path == top or path.startswith(top + "/")


def own_cache(delta: pygit2.DiffDelta) -> bool:
    """An untracked file civicgen's scan cache wrote into the work tree (not the PR's)."""
    untracked = delta.status == pygit2.enums.DeltaStatus.UNTRACKED
    return untracked and delta.new_file.path.startswith(f"{CACHE_DIR}/")


def reasons_for(path: str, mode: int, layout: Layout) -> tuple[str, ...]:
    """Why this changed path needs review; empty for data inside the data folders."""
    name = posixpath.basename(path)
    found = []
    if path in CI_FILES or path.startswith(CI_FOLDERS):
        found.append("CI workflow or forge configuration")
    if inside(path, layout.theme):
        found.append("theme (its templates run at build)")
    if name in ("mkdocs.yml", "mkdocs.yaml") and "/" not in path:
        found.append("site configuration")
    if name in PACKAGING or (name.startswith("requirements") and name.endswith(".txt")):
        found.append("packaging or build configuration")
    if path.startswith(CODE_FOLDERS) or path.endswith(CODE_SUFFIXES):
        found.append("code")
    if mode in MODES:
        found.append(MODES[mode])
    if inside(path, layout.pages) and not found:
        found.append("hand-written page (any HTML in it is published as it is)")
    if not any(inside(path, top) for top in layout.data) and not found:
        found.append("outside the data folders")
    return tuple(found)


def review_notes(base: Source, head: Source) -> list[ReviewNote]:
    """Every changed path a maintainer must review before merging; fails closed."""
    if not isinstance(base, Revision):
        return []
    try:
        entries = changed_entries(base, head)
    except (pygit2.GitError, KeyError, ValueError, OSError) as exc:
        why = f"could not list the changed files ({type(exc).__name__}); review every file"
        return [ReviewNote("(every file)", (why,))]
    layout = read_layout(base)
    notes = [ReviewNote(path, reasons_for(path, mode, layout)) for path, mode in entries]
    return [note for note in notes if note.reasons]
