"""A forge's REST API over stdlib urllib: JSON in and out, a timeout on every call, a bounded
response, no redirect (urllib would send the token on to wherever a redirect points), and a
token that no message ever shows."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import CivicgenException

TIMEOUT = 30  # seconds for one request
MAX_RESPONSE = 10_000_000  # bytes: a page of merge requests or comments is far smaller
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ForgeError(CivicgenException):
    """The forge refused a request or could not be reached; the message says which and why."""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx answer comes back as an HTTPError, reported as such


OPENER = urllib.request.build_opener(NoRedirect)


def checked_url(url: str) -> str:
    """The API's base URL without its trailing slash; https, or http on this machine only
    (the token must never cross a network in clear)."""
    parts = urllib.parse.urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in LOOPBACK
    if not parts.hostname or not (parts.scheme == "https" or local):
        raise ForgeError(
            f"the API address {url!r} is not an https:// URL; give the forge's API URL, like "
            "https://gitlab.example.org/api/v4 or https://forgejo.example.org/api/v1"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ForgeError("give the API address with no user, password, query or fragment")
    return url.rstrip("/")


@dataclass
class Api:
    """One forge's API: base URL, the header that carries the token, and the token."""

    name: str
    base: str
    header: str
    token: str = field(repr=False)
    hint: str = ""  # what a refused token needs, for 401 and 403 answers

    def call(self, method: str, path: str, query: dict[str, Any] | None = None,
             body: dict[str, Any] | None = None) -> Any:  # fmt: skip
        """The JSON the forge answered to METHOD base+path?query with body as JSON."""
        url = self.base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        request = urllib.request.Request(url, method=method, headers=self.headers())
        if body is not None:
            request.data = json.dumps(body).encode("utf-8")
            request.add_header("Content-Type", "application/json")
        data = self.send(request, f"{method} {path}")
        try:
            return json.loads(data or b"null")
        except ValueError:
            raise self.error(f"{self.name} answered {method} {path} with no JSON") from None

    def headers(self) -> dict[str, str]:
        value = f"token {self.token}" if self.header == "Authorization" else self.token
        return {self.header: value, "Accept": "application/json", "User-Agent": "civicgen"}

    def send(self, request: urllib.request.Request, what: str) -> bytes:
        try:
            with OPENER.open(request, timeout=TIMEOUT) as response:
                data: bytes = response.read(MAX_RESPONSE + 1)
        except urllib.error.HTTPError as exc:
            raise self.refused(exc, what) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise self.error(f"{self.name} could not be reached for {what}: {reason}") from None
        if len(data) > MAX_RESPONSE:
            raise self.error(f"{self.name} answered {what} with more than {MAX_RESPONSE:,} bytes")
        return data

    def refused(self, exc: urllib.error.HTTPError, what: str) -> ForgeError:
        said = said_by(exc)
        hint = f"; {self.hint}" if exc.code in (401, 403) and self.hint else ""
        return self.error(f"{self.name} answered {exc.code} {exc.reason} to {what}{said}{hint}")

    def error(self, message: str) -> ForgeError:
        """A ForgeError whose message cannot show the token, even if a forge echoed it."""
        if self.token:
            message = message.replace(self.token, "***")
        return ForgeError(" ".join(message.split())[:600])


def said_by(exc: urllib.error.HTTPError) -> str:
    """The forge's own words ("message" in its JSON answer), short, or nothing."""
    try:
        answer = json.loads(exc.read(20_000) or b"null")
    except (ValueError, OSError):
        return ""
    message = answer.get("message") if isinstance(answer, dict) else None
    return f" ({str(message)[:200]})" if message else ""


def quoted(part: str | int) -> str:
    """One path segment, every reserved character escaped (GitLab's "group%2Fproject")."""
    return urllib.parse.quote(str(part), safe="")
