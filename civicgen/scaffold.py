"""civicgen new: a working portal for another city, in one command."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pygit2
from jinja2 import Environment, StrictUndefined

from . import __version__
from .exceptions import CivicgenException

if TYPE_CHECKING:  # importlib.resources.abc is new in Python 3.11
    from importlib.abc import Traversable

# copied as they are: they hold Jinja or Actions syntax
VERBATIM = ("theme/", "github/", "forgejo/", "gitlab-ci.yml")
RENAMED = {
    "github/": ".github/",
    "forgejo/": ".forgejo/",
    "gitlab-ci.yml": ".gitlab-ci.yml",
    "gitignore": ".gitignore",
}
CURRENCY = re.compile(r"^[A-Z]{3}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$")


def template_files(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    """(relative path, file) for every file of the scaffold, in a stable order."""
    found = []
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        path = f"{prefix}{item.name}"
        found.extend(template_files(item, path + "/") if item.is_dir() else [(path, item)])
    return found


def target_name(path: str) -> str:
    for old, new in RENAMED.items():
        if path.startswith(old):
            return new + path[len(old) :]
    return path


def check_options(target: Path, city: str, lang: str, currency: str) -> None:
    if target.exists() and any(target.iterdir()):
        raise CivicgenException(f"{target} is not empty; give a new folder")
    if not city.strip() or "\n" in city:
        raise CivicgenException("give the city's name with --city, on one line")
    if not LANGUAGE.match(lang):
        raise CivicgenException(f'"{lang}" is not a language code; use one like en, es, pt-BR')
    if not CURRENCY.match(currency):
        raise CivicgenException(f'"{currency}" is not an ISO 4217 currency code; use one like EUR')


def render(text: str, path: str, context: dict[str, str]) -> str:
    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["j"] = lambda value: json.dumps(str(value), ensure_ascii=False)[1:-1]
    rendered = env.from_string(text).render(**context)
    if path.endswith(".json"):
        json.loads(rendered)  # a city name can never break the descriptor
    return rendered


def new_portal(target: Path, city: str, lang: str = "en", currency: str = "EUR") -> list[Path]:
    """Write the portal into target, commit it with pygit2, and return the files written."""
    check_options(target, city, lang, currency)
    context = {
        "city": city.strip(),
        "lang": lang,
        "currency": currency,
        "year": str(dt.date.today().year),
        "version": __version__,  # requirements.txt pins the release that wrote the portal
    }
    written = []
    for path, source in template_files(resources.files("civicgen") / "templates" / "new"):
        text = source.read_text(encoding="utf-8")
        out = target / target_name(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        verbatim = path.startswith(VERBATIM)
        out.write_text(text if verbatim else render(text, path, context), encoding="utf-8")
        written.append(out)
    first_commit(target, city)
    return written


def first_commit(target: Path, city: str) -> None:
    repository = pygit2.init_repository(str(target), initial_head="main")
    repository.index.add_all()
    repository.index.write()
    tree = repository.index.write_tree()
    signature = pygit2.Signature("civicgen", "civicgen@localhost")
    repository.create_commit("HEAD", signature, signature, f"A portal for {city}", tree, [])
