"""A forge on 127.0.0.1 that answers exactly the REST calls `civicgen post-report` makes, with
the paths and JSON fields GitLab and Forgejo document (see civicgen/forge/apis.py for the
references), and records every request. Its git side is a bare repository on disk whose
refs/merge-requests/N/head (GitLab) or refs/pull/N/head (Forgejo) are each request's head,
as both forges keep them."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

BOT, CITIZEN = 41, 7
TOKEN = "glpat-SECRET-not-a-real-token-1234"
GIT_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "GIT_CONFIG_GLOBAL": "/dev/null", "HOME": "/"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: Any


@dataclass
class State:
    kind: str  # gitlab or forgejo
    project: str  # "5" (GitLab project id) or "city/springfield" (Forgejo)
    changes: dict[int, dict[str, str]] = field(default_factory=dict)  # number → head, base
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    token: str = TOKEN
    user: int = BOT
    failure: tuple[str, int, str] | None = None  # (path pattern, status, message)
    next_id: int = 100

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method in ("POST", "PUT", "PATCH")]


class Handler(BaseHTTPRequestHandler):
    state: State  # set on the subclass made for each server

    def log_message(self, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def do_PUT(self) -> None:
        self.serve()

    def do_PATCH(self) -> None:
        self.serve()

    def serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, unquote(parts.path), parse_qs(parts.query), headers, body)
        self.state.requests.append(request)
        status, answer = self.route(request, parts.path)
        data = json.dumps(answer).encode()
        self.send_response(status)
        if status == 302:
            self.send_header("Location", str(answer))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def route(self, request: Request, raw_path: str) -> tuple[int, Any]:
        state = self.state
        if state.failure and re.search(state.failure[0], request.path):
            return state.failure[1], {"message": state.failure[2]}
        if not self.authorised(request):
            return 401, {"message": "401 Unauthorized"}
        routes = gitlab_routes(state, raw_path) if state.kind == "gitlab" else forgejo_routes(state)
        for method, pattern, action in routes:
            match = re.fullmatch(pattern, request.path)
            if match and method == request.method:
                return action(request, *match.groups())
        return 404, {"message": "404 Not Found"}

    def authorised(self, request: Request) -> bool:
        if self.state.kind == "gitlab":
            return request.headers.get("private-token") == self.state.token
        return request.headers.get("authorization") == f"token {self.state.token}"


def gitlab_routes(state: State, raw_path: str) -> list[tuple[str, str, Any]]:
    assert "/projects/5/" in raw_path or raw_path == "/api/v4/user", raw_path
    mr = r"/api/v4/projects/5/merge_requests/(\d+)"
    return [
        ("GET", r"/api/v4/user", lambda r: (200, {"id": state.user, "username": "bot"})),
        ("GET", r"/api/v4/projects/5/merge_requests", lambda r: page(r, gitlab_mrs(state), "per_page")),
        ("GET", mr, lambda r, n: (200, gitlab_mr(state, int(n)))),
        ("GET", mr + "/notes", lambda r, n: page(r, gitlab_notes(state, int(n)), "per_page")),
        ("POST", mr + "/notes", lambda r, n: (201, add_note(state, int(n), r.body["body"]))),
        ("PUT", mr + r"/notes/(\d+)", lambda r, n, i: edit_note(state, int(n), int(i), r.body["body"])),
    ]  # fmt: skip


def forgejo_routes(state: State) -> list[tuple[str, str, Any]]:
    repo = r"/api/v1/repos/city/springfield"
    return [
        ("GET", r"/api/v1/user", lambda r: (200, {"id": state.user, "login": "bot"})),
        ("GET", repo + "/pulls", lambda r: page(r, forgejo_pulls(state), "limit")),
        ("GET", repo + r"/pulls/(\d+)", lambda r, n: (200, forgejo_pull(state, int(n)))),
        ("GET", repo + r"/issues/(\d+)/comments", lambda r, n: (200, forgejo_comments(state, int(n)))),
        ("POST", repo + r"/issues/(\d+)/comments", lambda r, n: (201, add_note(state, int(n), r.body["body"]))),
        ("PATCH", repo + r"/issues/comments/(\d+)", lambda r, i: edit_any(state, int(i), r.body["body"])),
    ]  # fmt: skip


def page(request: Request, items: list[Any], size_name: str) -> tuple[int, Any]:
    size = int(request.query[size_name][0])
    number = int(request.query["page"][0])
    return 200, items[(number - 1) * size : number * size]


def gitlab_mr(state: State, number: int) -> dict[str, Any]:
    change = state.changes[number]
    return {"iid": number, "id": 9000 + number, "sha": change["head"], "state": "opened",
            "target_branch": change["base"], "source_branch": f"citizen-{number}"}  # fmt: skip


def gitlab_mrs(state: State) -> list[dict[str, Any]]:
    return [gitlab_mr(state, n) for n in sorted(state.changes)]


def gitlab_notes(state: State, number: int) -> list[dict[str, Any]]:
    return [{"id": n["id"], "body": n["body"], "author": {"id": n["author"]}, "system": False}
            for n in state.notes.get(number, [])]  # fmt: skip


def forgejo_pull(state: State, number: int) -> dict[str, Any]:
    change = state.changes[number]
    return {"number": number, "id": 9000 + number, "state": "open",
            "head": {"sha": change["head"], "ref": f"citizen-{number}"},
            "base": {"ref": change["base"], "sha": "0" * 40}}  # fmt: skip


def forgejo_pulls(state: State) -> list[dict[str, Any]]:
    return [forgejo_pull(state, n) for n in sorted(state.changes)]


def forgejo_comments(state: State, number: int) -> list[dict[str, Any]]:
    return [{"id": n["id"], "body": n["body"], "user": {"id": n["author"], "login": "x"}}
            for n in state.notes.get(number, [])]  # fmt: skip


def add_note(state: State, number: int, body: str, author: int | None = None) -> dict[str, Any]:
    state.next_id += 1
    note = {"id": state.next_id, "body": body, "author": state.user if author is None else author}
    state.notes.setdefault(number, []).append(note)
    return {"id": note["id"], "body": body}


def edit_note(state: State, number: int, note_id: int, body: str) -> tuple[int, Any]:
    for note in state.notes.get(number, []):
        if note["id"] == note_id:
            if note["author"] != state.user:
                return 403, {"message": "403 Forbidden"}
            note["body"] = body
            return 200, {"id": note_id, "body": body}
    return 404, {"message": "404 Note Not Found"}


def edit_any(state: State, note_id: int, body: str) -> tuple[int, Any]:
    number = next((n for n, notes in state.notes.items() for x in notes if x["id"] == note_id), 0)
    return edit_note(state, number, note_id, body)


@contextmanager
def serving(state: State) -> Iterator[str]:
    """The forge's API base URL while the server runs."""
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        prefix = "/api/v4" if state.kind == "gitlab" else "/api/v1"
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def head_ref(kind: str, number: int) -> str:
    return f"refs/merge-requests/{number}/head" if kind == "gitlab" else f"refs/pull/{number}/head"
