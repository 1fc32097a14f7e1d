"""Build the static site with MkDocs, atomically and reproducibly.

The site is written to a temporary folder beside the target and swapped in only when the
build succeeded, so a failed build never leaves a half-written site. Times come from the
last git commit (SOURCE_DATE_EPOCH), never from the clock.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, ConfigurationError, PluginError

from .exceptions import CivicgenException
from .repo import last_commit_time


@contextmanager
def source_date_epoch(root: Path) -> Iterator[None]:
    """Set SOURCE_DATE_EPOCH from HEAD for the duration of the build."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = last_commit_time(root)
    if before is None and stamp is not None:
        os.environ["SOURCE_DATE_EPOCH"] = str(stamp)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def replace_dir(new: Path, target: Path) -> None:
    """Swap new into target; the old site is removed only after the swap."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new.rename(target)
    if old.exists():
        shutil.rmtree(old)


def build_site(
    config_file: str | Path = "mkdocs.yml", site_dir: str | Path | None = None, strict: bool = False
) -> Path:
    """Validate, render and write the portal; return the site folder."""
    config_path = Path(config_file).resolve()
    if not config_path.is_file():
        raise CivicgenException(f"{config_file} not found; run civicgen in the portal's folder")
    target = Path(site_dir).resolve() if site_dir else config_path.parent / "site"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with source_date_epoch(config_path.parent):
            config = load_config(str(config_path), site_dir=str(staging), strict=strict)
            mkdocs_build(config)
        replace_dir(staging, target)
    except (ConfigurationError, PluginError, Abort) as exc:
        raise CivicgenException(str(exc)) from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target
