"""`civicgen serve`: preview the whole portal, every language, as `civicgen build` makes it.

MkDocs' own server builds one MkDocs configuration, so it showed the default language
only. The preview instead runs the real build (every language, the search index, the
policy) into a temporary folder, serves that folder with a small static server on the
local machine, and rebuilds when a watched file changes (mkdocs.yml, the pages, the theme,
the data, the translations: every file of the portal's folder but git's, the cache and
site/). Every page it serves loads one more script, /.civicgen/reload.js, which asks the
server for its build number each second and reloads the page when a new build is on show
(the files on disk stay as `civicgen build` wrote them). A build that fails is reported and
the previous site stays on show.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from types import FrameType

from .build import build_site
from .exceptions import CivicgenException

POLL = 1.0  # seconds between two looks at the watched files
Say = Callable[[str], None]


RELOAD = "/.civicgen/reload.js"  # the preview's own files, beside the site's
BUILD = "/.civicgen/build"
RELOAD_TAG = f'<script src="{RELOAD}"></script>'.encode()


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site, each HTML page with the reload script; a missing page gets the
    site's 404 page, and no log line."""

    build = 0  # the number of the build on show: a page that saw another one reloads

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == RELOAD:
            script = resources.files("civicgen").joinpath("assets/reload.js").read_bytes()
            self.send_bytes(200, "text/javascript; charset=utf-8", script)
        elif path == BUILD:
            self.send_bytes(200, "text/plain; charset=utf-8", str(Handler.build).encode())
        elif (page := self.html_page()) is not None:
            self.send_bytes(200, "text/html; charset=utf-8", with_reload(page.read_bytes()))
        else:
            super().do_GET()

    def html_page(self) -> Path | None:
        """The HTML file a request is for (a folder's index.html), if there is one."""
        local = Path(self.translate_path(self.path))
        if local.is_dir() and self.path.split("?", 1)[0].endswith("/"):
            local = local / "index.html"
        return local if local.suffix == ".html" and local.is_file() else None

    def send_bytes(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        self.send_bytes(404, "text/html; charset=utf-8", with_reload(page.read_bytes()))


def with_reload(page: bytes) -> bytes:
    """The page with the reload script before its closing body tag (at its end if none)."""
    end = page.rfind(b"</body>")
    return page + RELOAD_TAG if end < 0 else page[:end] + RELOAD_TAG + page[end:]


SKIPPED = {".git", ".civicgen-cache", "site", "__pycache__"}  # not sources of the site


def files_of(folder: Path) -> Iterator[Path]:
    """The portal's files (mkdocs.yml, content/, theme/, datasets/, locale/…), whose change
    is a reason to build again."""
    for path in folder.iterdir():
        if path.name in SKIPPED or path.name.startswith(".site"):
            continue
        if path.is_dir() and not path.is_symlink():
            yield from files_of(path)
        elif path.is_file():
            yield path


def signature(folders: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """Every watched file with its modification time and size: a change changes it."""
    found = []
    for folder in folders:
        for path in files_of(folder):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


def parse_address(address: str) -> tuple[str, int]:
    """'127.0.0.1:8000' -> ('127.0.0.1', 8000); a usage error when it is not an address."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise CivicgenException(f'"{address}" is not an address; give one as 127.0.0.1:8000')
    return host.strip("[]"), int(port)


def rebuild(config_file: Path, site: Path, say: Say) -> bool:
    """Build the site again; on failure say why and keep the one on show."""
    try:
        build_site(config_file, site)
    except CivicgenException as exc:
        say(f"Error: {exc} (the previous build is still served)")
        return False
    return True


def watch(config_file: Path, site: Path, stop: threading.Event, say: Say) -> None:
    """Rebuild whenever a watched file changes, until stop is set."""
    folders = [config_file.parent]
    seen = signature(folders)
    while not stop.wait(POLL):
        now = signature(folders)
        if now == seen:
            continue
        say("A file changed; building the portal again…")
        if rebuild(config_file, site, say):
            Handler.build += 1
            say("Rebuilt; the open pages reload.")
        seen = signature(folders)


def stop_on_terminate(server: http.server.HTTPServer) -> None:
    """SIGTERM stops the server as Ctrl+C does (and the temporary site is removed)."""

    def handler(number: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def serve_portal(
    config_file: str | Path, address: str = "127.0.0.1:8000", say: Say = print
) -> None:
    """Build every language into a temporary folder, serve it on address, rebuild on change."""
    config_path = Path(config_file).resolve()
    host, port = parse_address(address)
    folder = Path(tempfile.mkdtemp(prefix="civicgen-serve-"))
    site = folder / "site"
    stop = threading.Event()
    try:
        say("Building the portal, every language…")
        build_site(config_path, site)
        handler = functools.partial(Handler, directory=str(site))
        server = http.server.ThreadingHTTPServer((host, port), handler)
        stop_on_terminate(server)
        threading.Thread(target=watch, args=(config_path, site, stop, say), daemon=True).start()
        say(f"Serving on http://{address}/ (Ctrl+C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            say("Stopped.")
        finally:
            server.server_close()
    except OSError as exc:
        raise CivicgenException(f"cannot serve on {address}: {exc.strerror or exc}") from exc
    finally:
        stop.set()
        shutil.rmtree(folder, ignore_errors=True)
