"""The About page: the hand-written prose of about.md, plus the facts the build knows.

The facts (the repository's address and the commit the portal was built from, when that
commit was made, the licence of each dataset, how to check the site) come from
templates/about.html. They replace the line `<!-- civicgen:about -->` in the hand-written
page, or follow its prose when the line is not there. A portal without about.md has no
About page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pygit2
from jinja2 import Environment

from ..exceptions import CivicgenException
from ..repo import find_repository
from .inputs import SiteInputs
from .pages import Output, package_uri

ABOUT = "about.md"
MARKER = "<!-- civicgen:about -->"
PROSE_LIMIT = 1_000_000  # bytes of hand-written Markdown read for the page


@dataclass(frozen=True)
class Commit:
    """The commit the portal is built from, as the page shows it."""

    id: str
    time: str  # YYYY-MM-DD HH:MM UTC, from git (never the clock)


def built_from(inputs: SiteInputs) -> Commit | None:
    """HEAD of the repository holding the data; None outside git or before a first commit."""
    repository = find_repository(inputs.validation.source.root)
    if repository is None or repository.head_is_unborn:
        return None
    commit = repository.head.peel(pygit2.Commit)
    when = datetime.fromtimestamp(commit.commit_time, timezone.utc)
    return Commit(str(commit.id), when.strftime("%Y-%m-%d %H:%M UTC"))


def hand_written(inputs: SiteInputs, docs_dir: str) -> str | None:
    """The prose of about.md, read through the repository's own reader (bounded, inside it)."""
    path = f"{docs_dir.strip('/') or '.'}/{ABOUT}"
    source = inputs.validation.source
    try:
        if not source.exists(path):
            return None
        return source.read(path, PROSE_LIMIT).decode("utf-8")
    except (CivicgenException, UnicodeDecodeError):
        return None  # MkDocs reports the page itself; the facts are not worth a second error


def merged(prose: str, facts: str) -> str:
    if MARKER in prose:
        return prose.replace(MARKER, facts.strip(), 1)
    return f"{prose.rstrip()}\n\n{facts.strip()}\n"


def about_pages(env: Environment, inputs: SiteInputs) -> list[Output]:
    """about.md with the build's facts; nothing when the portal has no about.md."""
    docs_dir = str(env.globals.get("docs_dir") or "content")
    prose = hand_written(inputs, docs_dir)
    if prose is None:
        return []
    facts = env.get_template("about.html").render(
        commit=built_from(inputs),
        packages=[(p, package_uri(p)) for _, p in sorted(inputs.packages.items())],
    )
    return [Output(ABOUT, merged(prose, facts), f"{docs_dir}/{ABOUT}")]
