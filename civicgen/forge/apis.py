"""The few REST calls civicgen makes on GitLab and Forgejo: open merge/pull requests, their
comments, and posting or editing one comment. Each path is the one the forge documents:

GitLab (REST API v4, https://docs.gitlab.com/api/rest/; token in the PRIVATE-TOKEN header):
- GET  /user                                              docs.gitlab.com/api/users/#get-the-current-user
- GET  /projects/:id/merge_requests?state=opened          docs.gitlab.com/api/merge_requests/#list-project-merge-requests
- GET  /projects/:id/merge_requests/:iid                  docs.gitlab.com/api/merge_requests/#get-single-mr
- GET  /projects/:id/merge_requests/:iid/notes            docs.gitlab.com/api/notes/#list-all-merge-request-notes
- POST /projects/:id/merge_requests/:iid/notes            docs.gitlab.com/api/notes/#create-new-merge-request-note
- PUT  /projects/:id/merge_requests/:iid/notes/:note_id   docs.gitlab.com/api/notes/#modify-existing-merge-request-note
- the head's commits: refs/merge-requests/:iid/head, in the target project even for a fork
  (docs.gitlab.com/user/project/merge_requests/merge_request_troubleshooting/#check-out-merge-requests-locally-through-the-head-ref)

Forgejo (API v1, its Swagger at /api/swagger; token in "Authorization: token …"):
- GET   /user                                             (the token's user)
- GET   /repos/{owner}/{repo}/pulls?state=open            repoListPullRequests
- GET   /repos/{owner}/{repo}/pulls/{index}               repoGetPullRequest
- GET   /repos/{owner}/{repo}/issues/{index}/comments     issueGetComments (a pull request is an issue)
- POST  /repos/{owner}/{repo}/issues/{index}/comments     issueCreateComment
- PATCH /repos/{owner}/{repo}/issues/comments/{id}        issueEditComment
- the head's commits: refs/pull/{index}/head
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .http import Api, ForgeError, checked_url, quoted

COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
BRANCH = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]{1,200}(?<![./])$")
PAGE_SIZE = 50
MAX_PAGES = 40  # 2,000 open requests or comments: past that, a forge is not answering sanely
FORGEJO_ACTIONS_USER = -2  # the id every comment of Forgejo's automatic token is written by


@dataclass(frozen=True)
class Change:
    """An open merge request (GitLab) or pull request (Forgejo)."""

    number: int
    head: str  # the commit id at its head
    base: str  # the branch it is to be merged into


@dataclass(frozen=True)
class Note:
    """A comment on a merge or pull request."""

    id: int
    author: int
    body: str


class Forge:
    """What civicgen asks of a forge; GitLab and Forgejo say it in their own words."""

    name = "forge"
    word = "request"  # "merge request !7", "pull request #7"
    sign = "#"

    def __init__(self, api_url: str, project: str, token: str) -> None:
        if not token:
            raise ForgeError("no token: see `civicgen post-report --help` for which one")
        self.project = self.checked_project(project)
        self.api = Api(self.name, checked_url(api_url), self.token_header, token, self.scopes)

    token_header = ""
    scopes = ""

    def checked_project(self, project: str) -> str:
        return project

    def label(self, number: int) -> str:
        return f"{self.word} {self.sign}{number}"

    def head_ref(self, number: int) -> str:
        """The ref that holds the request's head commit in the target repository."""
        raise NotImplementedError

    def open_changes(self) -> list[Change]:
        raise NotImplementedError

    def change(self, number: int) -> Change:
        raise NotImplementedError

    def notes(self, number: int) -> list[Note]:
        raise NotImplementedError

    def create(self, number: int, body: str) -> None:
        raise NotImplementedError

    def update(self, number: int, note_id: int, body: str) -> None:
        raise NotImplementedError

    def whoami(self) -> int:
        return number_in(self.api.call("GET", "/user"), "id", "the token's user")

    def paged(self, path: str, query: dict[str, Any], size_name: str) -> list[Any]:
        """Every item of a listing, a page at a time (the forge's page size is bounded)."""
        found: list[Any] = []
        for page in range(1, MAX_PAGES + 1):
            items = self.api.call("GET", path, {**query, size_name: PAGE_SIZE, "page": page})
            if not isinstance(items, list):
                raise ForgeError(f"{self.name} answered GET {path} with no list")
            found += items
            if len(items) < PAGE_SIZE:
                return found
        raise ForgeError(f"{self.name} listed more than {MAX_PAGES} pages for GET {path}")


class GitLab(Forge):
    name, word, sign = "GitLab", "merge request", "!"
    token_header = "PRIVATE-TOKEN"
    scopes = (
        "the token needs the api scope and at least the Reporter role in this project "
        "(a project access token in a masked, protected CI/CD variable)"
    )

    def checked_project(self, project: str) -> str:
        if not re.fullmatch(r"[0-9]+|[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+", project or ""):
            raise ForgeError(f"{project!r} is not a GitLab project id or path (CI_PROJECT_ID)")
        return f"/projects/{quoted(project)}"

    def head_ref(self, number: int) -> str:
        return f"refs/merge-requests/{number}/head"

    def open_changes(self) -> list[Change]:
        path = f"{self.project}/merge_requests"
        return [gitlab_change(m) for m in self.paged(path, {"state": "opened"}, "per_page")]

    def change(self, number: int) -> Change:
        return gitlab_change(self.api.call("GET", f"{self.project}/merge_requests/{number}"))

    def notes(self, number: int) -> list[Note]:
        path = f"{self.project}/merge_requests/{number}/notes"
        query = {"sort": "asc", "order_by": "created_at"}
        return [note(n, "author") for n in self.paged(path, query, "per_page")]

    def create(self, number: int, body: str) -> None:
        path = f"{self.project}/merge_requests/{number}/notes"
        self.api.call("POST", path, body={"body": body})

    def update(self, number: int, note_id: int, body: str) -> None:
        path = f"{self.project}/merge_requests/{number}/notes/{note_id}"
        self.api.call("PUT", path, body={"body": body})


class Forgejo(Forge):
    name, word, sign = "Forgejo", "pull request", "#"
    token_header = "Authorization"
    scopes = (
        "the workflow's automatic token needs `permissions: issues: write`; a personal token "
        "needs the scopes read:repository, write:issue and read:user"
    )

    def checked_project(self, project: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", project or ""):
            raise ForgeError(f"{project!r} is not a Forgejo repository as owner/name")
        owner, name = project.split("/")
        return f"/repos/{quoted(owner)}/{quoted(name)}"

    def head_ref(self, number: int) -> str:
        return f"refs/pull/{number}/head"

    def open_changes(self) -> list[Change]:
        pulls = self.paged(f"{self.project}/pulls", {"state": "open"}, "limit")
        return [forgejo_change(p) for p in pulls]

    def change(self, number: int) -> Change:
        return forgejo_change(self.api.call("GET", f"{self.project}/pulls/{number}"))

    def notes(self, number: int) -> list[Note]:
        comments = self.api.call("GET", f"{self.project}/issues/{number}/comments")
        if not isinstance(comments, list):
            raise ForgeError("Forgejo answered the comments request with no list")
        return [note(c, "user") for c in comments]

    def create(self, number: int, body: str) -> None:
        self.api.call("POST", f"{self.project}/issues/{number}/comments", body={"body": body})

    def update(self, number: int, note_id: int, body: str) -> None:
        self.api.call("PATCH", f"{self.project}/issues/comments/{note_id}", body={"body": body})


FORGES: dict[str, type[GitLab] | type[Forgejo]] = {"gitlab": GitLab, "forgejo": Forgejo}


def gitlab_change(item: Any) -> Change:
    return checked_change(at(item, "iid"), at(item, "sha"), at(item, "target_branch"))


def forgejo_change(item: Any) -> Change:
    return checked_change(at(item, "number"), at(item, "head", "sha"), at(item, "base", "ref"))


def at(item: Any, *keys: str) -> Any:
    """item[key][key]… of the forge's JSON, or None wherever it is not an object."""
    for key in keys:
        item = item.get(key) if isinstance(item, dict) else None
    return item


def checked_change(number: Any, head: Any, base: Any) -> Change:
    """A Change from the forge's JSON, every field checked (they end up in git refspecs)."""
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ForgeError("the forge answered with a merge or pull request with no number")
    if not isinstance(head, str) or not COMMIT.match(head):
        raise ForgeError(f"the forge gave no head commit for request {number}")
    if not isinstance(base, str) or not BRANCH.match(base):
        raise ForgeError(f"the forge gave request {number} a target branch civicgen refuses")
    return Change(number, head, base)


def note(item: Any, author_key: str) -> Note:
    if not isinstance(item, dict):
        raise ForgeError("the forge answered with a comment that is not an object")
    author = number_in(item.get(author_key), "id", "a comment's author")
    body = item.get("body")
    return Note(number_in(item, "id", "a comment"), author, body if isinstance(body, str) else "")


def number_in(item: Any, key: str, what: str) -> int:
    value = item.get(key) if isinstance(item, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ForgeError(f"the forge gave no id for {what}")
    return value
