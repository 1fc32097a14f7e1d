"""Shared fixtures: a real copy of the example city in a real git repository."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pygit2
import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTAL_PARTS = ("content", "datasets", "tools-catalog", "theme", "locale", "mkdocs.yml")


def commit_all(path: Path, message: str, when: int = 1_700_000_000) -> str:
    """Stage everything and commit it with pygit2 (fixed author time); return the commit id."""
    repo = pygit2.Repository(str(path))
    repo.index.add_all()
    repo.index.write()
    tree = repo.index.write_tree()
    author = pygit2.Signature("Citizen", "citizen@example.org", when, 0)
    parents = [] if repo.head_is_unborn else [repo.head.target]
    return str(repo.create_commit("HEAD", author, author, message, tree, parents))


@pytest.fixture(autouse=True)
def own_cache_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test gets its own user cache folder, so that no test sees another's scans."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def make_portal(target: Path) -> Path:
    """The example city copied to target, committed to its own git repository."""
    target.mkdir(parents=True)
    for part in PORTAL_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            shutil.copy2(source, target / part)
    pygit2.init_repository(str(target))
    commit_all(target, "Example city")
    return target


def make_lean_portal(target: Path) -> Path:
    """The example city in its first language only (half the pages and half the build), for
    tests of what no language changes: two commits, the second leaving the others out."""
    portal = make_portal(target)
    replace_in(portal / "mkdocs.yml", "languages: [es, en]", "languages: [es]")
    shutil.rmtree(portal / "content/en")
    commit_all(portal, "The first language only")
    return portal


@pytest.fixture
def portal(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A fresh copy of the example city, committed to its own git repository; in its first
    language only for a test marked one_language (make_lean_portal)."""
    if request.node.get_closest_marker("one_language"):
        return make_lean_portal(tmp_path / "city")
    return make_portal(tmp_path / "city")


@contextmanager
def own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A cache folder of its own for a build made by a module or session fixture (these run
    before the autouse own_cache_folder), so that it neither reads nor fills another's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example city's portal built once per session, to read and never change: Spanish
    at the root, English under en/. A module that only reads the example's build uses this
    one rather than building its own."""
    from civicgen.build import build_site

    with own_cache(tmp_path_factory):  # its own cache folder, as every test has
        return build_site(ROOT / "mkdocs.yml", tmp_path_factory.mktemp("example") / "site")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """A folder served on 127.0.0.1 (a free port) while the block runs; yields its URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def hosted(example_site: Path) -> Iterator[str]:
    """The example site served on 127.0.0.1 from a sub-folder (site/), as on a real host."""
    with serving(example_site.parent) as root:
        yield f"{root}{example_site.name}/"


# --- a real headless Chromium (Debian's; .ci/run installs it) -------------------------------

CHROMIUM = os.environ.get("CIVICGEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium per test module, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


LOCAL = ("http://127.0.0.1:", "data:", "blob:")  # what a page may load: the served site


@contextmanager
def watched_tab(browser: Any, width: int, height: int) -> Iterator[Any]:
    """A page of its own context at this size whose console errors, page errors and
    requests to any other host are listed in page.problems."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else page.problems.append(r.url))
    try:
        yield page
    finally:
        context.close()


def run_cli(folder: Path, *args: str) -> tuple[int, str]:
    """civicgen run in folder through click's runner: (exit code, output); a traceback fails."""
    import os

    from click.testing import CliRunner

    from civicgen.cli import main

    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, list(args))
    finally:
        os.chdir(cwd)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    """Edit a file the way a citizen would; fail loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


@pytest.fixture
def wait_for_clock() -> None:
    time.sleep(1.1)  # let file and wall-clock times move, to prove the build ignores them


# --- both scan kernels (as propcache): every kernel test runs on the reference and on C ---


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-c-extensions",
        action="store_true",
        default=False,
        help="run the kernel tests on the pure-Python reference only",
    )


def compiled_kernel_skip_reason(config: pytest.Config) -> str | None:
    """Why the compiled kernel cannot be tested here, or None."""
    import os

    if config.getoption("--no-c-extensions"):
        return "--no-c-extensions given"
    if os.environ.get("CIVICGEN_NO_EXTENSIONS"):
        return "CIVICGEN_NO_EXTENSIONS is set"
    try:
        import civicgen.scan._kernel  # noqa: F401
    except ImportError as exc:
        if os.environ.get("CI"):  # CI must test what users get: a build failure fails the run
            raise RuntimeError(f"the compiled kernel did not build in CI: {exc}") from exc
        return f"civicgen.scan._kernel is not built ({exc}); run pip install -e ."
    return None


@pytest.fixture(
    params=[
        "reference",
        pytest.param("cython", marks=pytest.mark.c_extension),
    ]
)
def kernel(request: pytest.FixtureRequest):  # noqa: ANN201 (a module)
    """The scan kernel under test: civicgen.scan.reference or civicgen.scan._kernel."""
    if request.param == "reference":
        from civicgen.scan import reference

        return reference
    reason = compiled_kernel_skip_reason(request.config)
    if reason:
        pytest.skip(reason)
    from civicgen.scan import _kernel

    return _kernel
