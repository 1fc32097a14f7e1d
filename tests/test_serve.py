"""`civicgen serve` previews every language, and builds again when a file changes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, make_portal, watched_tab

from civicgen.exceptions import CivicgenException
from civicgen.preview import parse_address

STARTUP = 600  # seconds: the first build of every language, on a loaded machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def wait_for(url: str, seconds: float, wanted: str = "") -> str:
    """The page at url once it answers 200 (and holds wanted), polling."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, text = fetch(url)
            if status == 200 and wanted in text:
                return text
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not answer{' with ' + wanted if wanted else ''}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    portal = make_portal(tmp_path_factory.mktemp("serve") / "city")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(portal.parent / "cache"))
    process = subprocess.Popen(
        [sys.executable, "-m", "civicgen", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=portal,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(url, STARTUP)
        yield url, portal
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors.decode()
    assert b"Stopped." in errors


def lang_of(page: str) -> str:
    found = re.search(r'<html[^>]*\slang="([^"]+)"', page)
    return found.group(1) if found else ""


def test_serve_shows_every_language(served: tuple[str, Path]) -> None:
    url, _ = served
    assert lang_of(wait_for(url, 10)) == "es"
    assert lang_of(wait_for(url + "en/", 10)) == "en"
    assert fetch(url + "en/datasets/madrid-budget/")[0] == 200
    assert fetch(url + "datasets/madrid-budget/datapackage.json")[0] == 200
    status, page = fetch(url + "no/such/page/")
    assert status == 404 and "<html" in page


def test_serve_builds_again_on_change(served: tuple[str, Path]) -> None:
    url, portal = served
    home = portal / "content/index.md"
    home.write_text(home.read_text(encoding="utf-8") + "\nZyxquorble preview.\n", encoding="utf-8")
    wait_for(url, STARTUP, "Zyxquorble")


def test_served_pages_carry_the_reload_script_and_the_files_do_not(
    served: tuple[str, Path],
) -> None:
    url, _ = served
    page = wait_for(url + "en/", 10)
    assert page.count('<script src="/.civicgen/reload.js"></script>') == 1
    assert page.index("/.civicgen/reload.js") < page.rindex("</body>")
    status, script = fetch(url + ".civicgen/reload.js")
    assert status == 200 and 'fetch("/.civicgen/build"' in script
    status, build = fetch(url + ".civicgen/build")
    assert status == 200 and build.isdigit()
    assert fetch(url + "datasets/madrid-budget/datapackage.json")[1].lstrip().startswith("{")


@pytest.mark.browser
def test_an_open_page_reloads_itself_after_a_change(  # type: ignore[no-untyped-def]
    browser, served: tuple[str, Path]
) -> None:
    """In Chromium: the page open on the contributing guide shows an edit to it once the
    portal is built again, with no refresh by hand, no console error (the policy allows the
    script) and no request to another host."""
    url, portal = served
    guide = portal / "content/en/contributing.md"
    with watched_tab(browser, 1280, 900) as tab:
        tab.goto(url + "en/contributing/")
        tab.wait_for_timeout(1500)  # the script has read the build on show
        guide.write_text(guide.read_text("utf-8") + "\nQuuxplorf preview.\n", encoding="utf-8")
        tab.get_by_text("Quuxplorf preview.").wait_for(timeout=STARTUP * 1000)
        assert tab.problems == []


def test_serve_address_must_be_host_and_port() -> None:
    assert parse_address("127.0.0.1:8123") == ("127.0.0.1", 8123)
    assert parse_address("[::1]:8000") == ("::1", 8000)
    with pytest.raises(CivicgenException, match="127.0.0.1:8000"):
        parse_address("localhost")
