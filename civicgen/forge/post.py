"""One civicgen report on each open merge request (GitLab) or pull request (Forgejo), kept up
to date, written from a trusted job.

The job that holds the write token runs the default branch's checkout and its pinned
civicgen, and nothing of the request: it fetches the request's commits as git objects
(``fetch.fetch``), then ``pipeline.diff`` and ``pipeline.validate`` read the data of those
revisions as git blobs (repo.Revision; descriptors as JSON, records with a safe YAML
loader, tables by the scan kernel). Neither builds the site, so no template, hook or
``mkdocs.yml`` of the request is read, and the data folders come from the base's
``mkdocs.yml``. The report is made inert (``comment.capped``) under a header written here,
and posted as one comment, found again by its hidden marker and its author.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pygit2

from .. import __version__
from ..comment import comment_body, described_head, is_report
from ..config import Settings
from ..exceptions import CivicgenException
from .apis import Change, Forge, Forgejo, Note
from .fetch import commit_of, fetch, merge_base
from .http import ForgeError

DIFF_FAILED = (
    "### ⚠️ civicgen diff failed\n\nThe changes could not be described: a maintainer must "
    "review every file by hand.\n\n```text\n{}\n```\n"
)
VALIDATE_FAILED = "### civicgen validate failed\n\n```text\n{}\n```\n"


@dataclass(frozen=True)
class Outcome:
    number: int
    done: str  # posted, updated, up to date, failed
    detail: str = ""


@dataclass(frozen=True)
class Job:
    """Where and as whom the reports are written."""

    forge: Forge
    root: Path  # the default branch's checkout
    settings: Settings  # read from its configuration file
    remote: str = "origin"
    bot: int | None = None  # the token's user id; asked of the forge when None


def post_reports(job: Job, numbers: list[int] | None = None) -> list[Outcome]:
    """Post or update the report of each open request (or of the numbered ones)."""
    me = job.bot if job.bot is not None else job.forge.whoami()
    changes = [job.forge.change(n) for n in numbers] if numbers else job.forge.open_changes()
    return [post_one(job, change, me) for change in changes]


def post_one(job: Job, change: Change, me: int) -> Outcome:
    """One request's report; a failure is its outcome, so the others are still reported."""
    try:
        mine = own_report(job.forge.notes(change.number), me)
        if mine and described_head(mine.body) == change.head:
            return Outcome(change.number, "up to date", f"the report describes {change.head[:12]}")
        body = comment_body(report_text(job, change), header(job, change), change.head)
        if mine:
            job.forge.update(change.number, mine.id, body)
            return Outcome(change.number, "updated", f"the report describes {change.head[:12]}")
        job.forge.create(change.number, body)
        return Outcome(change.number, "posted", f"the report describes {change.head[:12]}")
    except CivicgenException as exc:
        return Outcome(change.number, "failed", str(exc))
    except Exception as exc:  # a fault civicgen did not foresee: this request only
        said = job.forge.api.error(f"civicgen stopped unexpectedly ({type(exc).__name__}: {exc})")
        return Outcome(change.number, "failed", f"{said}; please report it")


def own_report(notes: list[Note], me: int) -> Note | None:
    """The first report comment written by the token's user (anyone can copy the marker)."""
    return next((n for n in notes if n.author == me and is_report(n.body)), None)


def report_text(job: Job, change: Change) -> str:
    """The diff from where the request branched off to its head (with the verdict and the
    errors), or the validation report and why the diff failed."""
    base = fetched(job, change)
    start = str(job.root)
    from ..diff_report import to_markdown
    from ..pipeline import diff, validate

    try:
        return to_markdown(diff(base, change.head, job.settings, start=start))
    except CivicgenException as exc:
        failed = DIFF_FAILED.format(quiet(str(exc)))
    try:
        return validate([start], job.settings, change.head).report.to_markdown() + "\n" + failed
    except CivicgenException as exc:
        return VALIDATE_FAILED.format(quiet(str(exc))) + "\n" + failed


def quiet(message: str) -> str:
    return message.replace("`", "'")[:2000]


def fetched(job: Job, change: Change) -> str:
    """Fetch the request's head and its target branch; the commit the diff starts from."""
    own = f"refs/civicgen/{change.number}"
    refspecs = [f"+{job.forge.head_ref(change.number)}:{own}/head",
                f"+refs/heads/{change.base}:{own}/base"]  # fmt: skip
    token = job.forge.api.token
    fetch(job.root, job.remote, refspecs, git_header(job), token)
    if commit_of(job.root, f"{own}/head") != change.head:
        raise ForgeError("its head moved while civicgen read it; the next run reports it")
    tip = commit_of(job.root, f"{own}/base")
    if tip is None:
        raise ForgeError(f"its target branch {change.base} could not be fetched")
    return merge_base(job.root, tip, change.head) or tip


def git_header(job: Job) -> str:
    """Forgejo: the token as an HTTP header for git, to read a private repository, but only
    when the remote is on the API's own host (actions/checkout keeps no credential).
    GitLab's checkout already carries the job's read-only CI_JOB_TOKEN."""
    if not isinstance(job.forge, Forgejo):
        return ""
    try:
        url = pygit2.Repository(str(job.root)).remotes[job.remote].url or ""
    except (KeyError, ValueError, pygit2.GitError):
        return ""
    api = urllib.parse.urlsplit(job.forge.api.base)
    remote = urllib.parse.urlsplit(url)
    same = remote.scheme == api.scheme and remote.hostname == api.hostname
    return f"Authorization: token {job.forge.api.token}" if same else ""


def header(job: Job, change: Change) -> str:
    """What the comment describes, written by trusted code above the report."""
    word = job.forge.word
    return (
        f"**civicgen report on {job.forge.label(change.number)}**: its head commit "
        f"`{change.head[:12]}`, compared with where it branched off `{change.base}`.\n\n"
        f"Written by civicgen {__version__} from the default branch, which read this {word}'s "
        f"data as git objects and ran none of its code. It is rewritten, here, "
        f"after each new commit of the {word}."
    )
