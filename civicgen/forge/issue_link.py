"""A link that opens a new issue on the city's forge, its title and text filled in.

No request is made: the link is an address the citizen follows, logged in on the forge, and
the forge shows its new-issue form with the fields filled (each forge documents them):

- GitHub: <repository>/issues/new?title=…&body=…
  (docs.github.com/en/issues/tracking-your-work-with-issues/using-issues/creating-an-issue#creating-an-issue-from-a-url-query)
- GitLab: <project>/-/issues/new?issue[title]=…&issue[description]=…
  (docs.gitlab.com/user/project/issues/create_issues/#using-a-url-with-prefilled-values)
- Forgejo and Gitea: <repository>/issues/new?title=…&body=…

The forge is known from the repository's host (github.com, gitlab.com, codeberg.org,
gitea.com, or a host named gitlab.…, forgejo.… or gitea.…) or named in configuration for
any other self-hosted one. Every value is percent-encoded, so text from the data cannot add a
parameter or leave the query; the address stays under MAX_URL characters (forges and proxies
refuse longer ones, at about 8 KB) by cutting the text at a line or a word.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

FORGES = ("github", "gitlab", "forgejo")
HOSTS = {"github.com": "github", "gitlab.com": "gitlab", "codeberg.org": "forgejo",
         "gitea.com": "forgejo"}  # fmt: skip
HOST_PREFIXES = {"gitlab": "gitlab", "forgejo": "forgejo", "gitea": "forgejo"}
FORMS = {  # forge -> (path after the repository, title parameter, text parameter)
    "github": ("/issues/new", "title", "body"),
    "gitlab": ("/-/issues/new", "issue[title]", "issue[description]"),
    "forgejo": ("/issues/new", "title", "body"),
}
MAX_URL = 6000  # characters of the whole address (forges and proxies stop at about 8 KB)
MAX_TITLE = 200  # characters of the title (GitHub allows 256)
CUT = "\n…"
BLANK_RUNS = re.compile(r"\n{3,}")


def repository_base(repository_url: str) -> str:
    """The repository's web address without a trailing slash or .git ("" if it is not an
    http(s) address with a host and a path)."""
    text = repository_url.strip().rstrip("/").removesuffix(".git").rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path in ("", "/"):
        return ""
    if parts.query or parts.fragment or any(c.isspace() for c in text):
        return ""
    return text


def forge_of(repository_url: str, forge: str | None = None) -> str | None:
    """The forge the repository lives on: the one configured, else the host's; None when
    the host is unknown and none is configured (then no link is made)."""
    if forge:
        return forge if forge in FORGES else None
    host = (urlsplit(repository_base(repository_url)).hostname or "").lower()
    if host in HOSTS:
        return HOSTS[host]
    return HOST_PREFIXES.get(host.split(".")[0]) if host.count(".") >= 1 else None


def encoded(text: str) -> str:
    """Percent-encoding of every character but letters, digits and -._~ (RFC 3986), a line
    at a time: the links of a page share most of their lines (the questions to fill in),
    and encoding them again cost a build seconds."""
    return "%0A".join(encoded_line(line) for line in text.split("\n"))


@lru_cache(maxsize=4096)
def encoded_line(line: str) -> str:
    return quote(line, safe="")


def tidy(text: str) -> str:
    """text without spaces at line ends, leading or trailing blank lines, or runs of them."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return BLANK_RUNS.sub("\n\n", "\n".join(lines))


def shortened(text: str, limit: int) -> str:
    """text cut to at most limit characters at the last line break (else space) before it,
    marked with an ellipsis; text itself when it fits."""
    if len(text) <= limit:
        return text
    room = max(limit - len(CUT), 0)
    head = text[:room]
    for stop in ("\n", " "):
        if stop in head[1:]:
            head = head[: head.rindex(stop)]
            break
    return head.rstrip() + CUT


def new_issue_url(
    repository_url: str, forge: str | None, title: str, body: str, limit: int = MAX_URL
) -> str:
    """The address of the forge's new-issue form with title and body filled in; "" when the
    repository's address or its forge is unknown (the page then shows no link)."""
    base, kind = repository_base(repository_url), forge_of(repository_url, forge)
    if not base or kind is None:
        return ""
    path, title_key, body_key = FORMS[kind]
    start = f"{base}{path}?{encoded(title_key)}={encoded(shortened(title, MAX_TITLE))}"
    start += f"&{encoded(body_key)}="
    return start + encoded(fitting(body, limit - len(start)))


def filled_url(repository_url: str, forge: str | None, title: str, body: str) -> str:
    """new_issue_url of plain text as a template renders it: the title on one line, the body
    without spaces at line ends or runs of blank lines."""
    return new_issue_url(repository_url, forge or None, " ".join(title.split()), tidy(body))


def fitting(body: str, room: int) -> str:
    """The longest clean cut of body whose encoding takes at most room characters."""
    if len(encoded(body)) <= room:
        return body
    low, high = 0, len(body)
    while low < high:  # the longest cut length whose encoding fits
        middle = (low + high + 1) // 2
        if len(encoded(shortened(body, middle))) <= room:
            low = middle
        else:
            high = middle - 1
    return shortened(body, low) if low > len(CUT) else ""
