"""The one exception: the run cannot continue (unreadable repository, bad configuration).

Bad data is never an exception; it is an entry in the Report. The UnsafePath family
is raised by repo.py and turned into report entries, each with its own error code.
"""

from __future__ import annotations

from typing import ClassVar


class CivicgenException(Exception):
    """civicgen cannot go on; the message says why and what to do."""


class UnsafePath(CivicgenException):
    """A path would leave the repository (absolute, "..", a URL or a control character)."""

    code = "unsafe-path"


class GitPath(UnsafePath):
    """A path leads into git's own folder (.git), where credentials and history live."""

    code = "git-path"


class LinkPath(UnsafePath):
    """A path goes through a symbolic link."""

    code = "link-path"


class SubmodulePath(UnsafePath):
    """A path leads into a git submodule, another repository that was not reviewed here."""

    code = "submodule-path"


class LfsPointer(UnsafePath):
    """The file is a Git LFS pointer: its content is stored elsewhere and is not fetched."""

    code = "lfs-pointer"


class FileTooLarge(CivicgenException):
    """A file is larger than civicgen reads."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, more than {limit}")
        self.size, self.limit = size, limit


class BuildFault(CivicgenException):
    """The site could not be built; the previous site, if any, is untouched."""

    code: ClassVar[str] = "build-failed"
    title: ClassVar[str] = "Build failed"
    example: ClassVar[str] = (
        "civicgen build: the build stopped (MkDocs: …); the previous site is untouched"
    )
    fix: ClassVar[str] = "Read the reason on the same line; run civicgen validate for the data."


class SiteConfigError(BuildFault):
    """mkdocs.yml is not YAML, holds a code-running tag, or names a missing plugin or theme."""

    title = "Site configuration"
    example = "mkdocs.yml, line 12: the tag !!python/object/apply would run code while reading the configuration"
    fix = "Remove the tag, fix the YAML, or name a plugin and theme folder that exist."

    code = "site-config"


class InvalidDataRefused(BuildFault):
    """The data is not valid, so the build published nothing (exit 1, like validate)."""

    code = "invalid-data"
    title = "Invalid data"
    example = "civicgen: the data is not valid, so nothing was published."
    fix = "Fix the errors listed above (civicgen validate lists them all), then build again."
    exit_code: ClassVar[int] = 1
