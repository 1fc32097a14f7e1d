"""A forge comment from a report: its text made inert and capped, under a header written by
trusted code, with a hidden marker that finds the comment again.

The report's own cells are already inert (``report.md_cell``); this is the second wall, for
the whole text, as GitHub's comment.yml treats the artifact a pull request's job wrote:
control and bidirectional characters dropped, every ``@`` followed by a word joiner (no
mention, no team ping), and a size cap. It adds what a GitLab or Forgejo comment needs too:
no HTML but the ``<details>``/``<summary>`` folds the diff writes, no link (neither
``[text](url)`` nor a bare address) and no ``#12``/``!12`` cross-reference that would write
"mentioned in" notes on other issues.
"""

from __future__ import annotations

import re

from .report import WORD_JOINER, unlinked
from .textcheck import BIDI

MARKER = "<!-- civicgen-report -->"
HEAD_LINE = re.compile(r"<!-- civicgen-head: ([0-9a-f]{40}|[0-9a-f]{64}) -->")
LIMIT = 60_000  # characters of report; GitHub refuses a comment over 65,536
# the characters comment.yml drops (tests/test_workflows.py checks the two lists agree),
# and every other bidirectional control textcheck knows
UNSHOWN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069" + "".join(sorted(BIDI)) + "]"
)
NOT_A_FOLD = re.compile(r"<(?!/?(?:details|summary)>|details open>)")  # the diff's folds
LINK = re.compile(r"\]\s*\(")  # [text](url) and ![alt](url)
REFERENCE = re.compile(r"(?<![\w&])([#!])(?=\d)")  # #12 (issues), !12 (GitLab merge requests)
CUT_PARTS = re.compile(r"(&[#\w]*|<[^>\n]*)$")  # an entity or a fold tag cut in the middle


def defused(text: str) -> str:
    """Report text that pings, links, loads and hides nothing when a forge renders it."""
    text = UNSHOWN.sub("", text)
    text = NOT_A_FOLD.sub("&lt;", text)
    text = LINK.sub(lambda m: "]" + WORD_JOINER + m.group()[1:], text)
    text = REFERENCE.sub(lambda m: m.group(1) + WORD_JOINER, text)
    return unlinked(text).replace("@", "@" + WORD_JOINER)


def capped(text: str, limit: int = LIMIT) -> str:
    """Defused text of at most limit characters, and a line that says so when it was cut."""
    text = defused(text[: limit + 1])
    if len(text) <= limit:
        return text
    kept = CUT_PARTS.sub("", text[:limit])
    return kept + f"\n\n…the report was cut at {limit:,} characters."


def comment_body(report: str, header: str, head: str) -> str:
    """The marker, the commit the comment describes, a trusted header, the defused report."""
    if not HEAD_LINE.fullmatch(f"<!-- civicgen-head: {head} -->"):
        raise ValueError(f"not a commit id: {head!r}")
    body = capped(report) or "(the report is empty)"
    return f"{MARKER}\n<!-- civicgen-head: {head} -->\n{header}\n\n{body}"


def described_head(body: str) -> str | None:
    """The commit a comment describes, if civicgen wrote it (its first two lines say so)."""
    first, _, rest = body.partition("\n")
    match = HEAD_LINE.match(rest.partition("\n")[0])
    return match[1] if first.strip() == MARKER and match else None


def is_report(body: str) -> bool:
    return body.partition("\n")[0].strip() == MARKER
