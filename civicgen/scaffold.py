"""civicgen new: a working portal for another city, in one command.

The city's repository holds its data, its pages, its configuration and its CI, and
declares civicgen as a pinned dependency (requirements.txt): it holds no copy of the
engine, so upgrading civicgen is a one-line change that touches no other file of the city.
"""

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
from .registry import registered
from .site.i18n import load_catalogue

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
DEFAULT_CONFIG = "mkdocs.yml"
CONFIG_TOKEN = "@config_option@"  # in the VERBATIM files: where a command names the config
CURRENCY = re.compile(r"^[A-Z]{3}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$")
UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f<>\u202a-\u202e\u2066-\u2069]")
CONFIG_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}\.ya?ml$")


def template_files(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    """(relative path, file) for every file of the scaffold, in a stable order."""
    found = []
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        path = f"{prefix}{item.name}"
        found.extend(template_files(item, path + "/") if item.is_dir() else [(path, item)])
    return found


def scaffold_files() -> list[tuple[str, Traversable]]:
    """The portal's files, then the example package of each profile that scaffolds one
    (Profile.scaffold, a folder of templates/new/datasets in its templates package)."""
    base = [
        item
        for item in template_files(resources.files("civicgen") / "templates" / "new")
        if not item[0].startswith("datasets/")
    ]
    for profile in sorted(registered().values(), key=lambda p: p.name):
        if profile.scaffold:
            package = resources.files(profile.templates_package or "civicgen")
            folder = package / "templates" / "new" / "datasets" / profile.scaffold
            base.extend(template_files(folder, f"datasets/{profile.scaffold}/"))
    return base


def for_language(files: list[tuple[str, Traversable]], lang: str) -> list[tuple[str, Traversable]]:
    """The content pages in lang (content.<lang>/, when civicgen has them) as content/;
    the English ones otherwise."""
    translated = f"content.{lang.lower()}/"
    if not any(path.startswith(translated) for path, _ in files):
        translated = "content/"
    return [
        ("content/" + path[len(translated) :] if path.startswith(translated) else path, item)
        for path, item in files
        if not path.startswith("content") or path.startswith(translated)
    ]


def target_name(path: str, config_file: str = DEFAULT_CONFIG) -> str:
    """Where a template file goes in the new repository."""
    if path == DEFAULT_CONFIG:
        return config_file
    for old, new in RENAMED.items():
        if path.startswith(old):
            return new + path[len(old) :]
    return path


def theme_languages() -> list[str]:
    """The languages mkdocs-material translates its interface into (theme.language)."""
    folder = resources.files("material") / "templates" / "partials" / "languages"
    return sorted(item.name.removesuffix(".html") for item in folder.iterdir())


def theme_language(lang: str) -> str:
    """lang as mkdocs-material spells it (pt-br → pt-BR); refused when it has no translation."""
    if not LANGUAGE.match(lang.lower()):
        raise CivicgenException(f'"{lang}" is not a language code; use one like en, es, pt-BR')
    known = {name.lower(): name for name in theme_languages()}
    if lang.lower() not in known:
        raise CivicgenException(
            f'the theme has no translation for "{lang}"; use one of: {", ".join(known.values())}'
        )
    return known[lang.lower()]


def check_target(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CivicgenException(f"{target} is not empty; give a new folder (nothing was written)")


def check_city(city: str) -> None:
    """A name the portal shows as text everywhere (the theme prints site_name unescaped)."""
    if not city.strip() or UNSHOWABLE.search(city):
        raise CivicgenException(
            "give the city's name with --city, on one line, with no control character, < or >"
        )


def check_options(target: Path, city: str, currency: str, config_file: str) -> None:
    check_target(target)
    check_city(city)
    if not currency:
        raise CivicgenException("give the budget's currency with --currency, like USD or EUR")
    if not CURRENCY.match(currency):
        raise CivicgenException(f'"{currency}" is not an ISO 4217 currency code; use one like EUR')
    if not CONFIG_NAME.match(config_file) or config_file.startswith(".gitlab-ci."):
        raise CivicgenException(
            f'"{config_file}" cannot name the configuration file; use a file name '
            "like mkdocs.yml, in the repository's top folder"
        )


def render(text: str, path: str, context: dict[str, str]) -> str:
    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["j"] = lambda value: json.dumps(str(value), ensure_ascii=False)[1:-1]
    catalogue = load_catalogue(context["lang"])
    env.filters["quoted"] = lambda value: json.dumps(str(value), ensure_ascii=False)
    env.filters["t"] = lambda message, **values: catalogue.text(message) % values
    rendered = env.from_string(text).render(**context)
    if path.endswith(".json"):
        json.loads(rendered)  # a city name can never break the descriptor
    return rendered


def config_option(config_file: str) -> str:
    """What a civicgen command in CI adds to read config_file (nothing for the default)."""
    return "" if config_file == DEFAULT_CONFIG else f" --config-file {config_file}"


def file_text(path: str, source: Traversable, context: dict[str, str]) -> str:
    text = source.read_text(encoding="utf-8")
    if path.startswith(VERBATIM):
        return text.replace(CONFIG_TOKEN, context["config_option"])
    return render(text, path, context)


def new_portal(
    target: Path,
    city: str,
    lang: str = "en",
    currency: str = "",
    config_file: str = DEFAULT_CONFIG,
) -> list[Path]:
    """Write the portal into target, commit it with pygit2, and return the files written.

    currency (ISO 4217) has no default: the engine assumes no city's. config_file names
    the configuration file in the new repository; its CI passes it to
    every civicgen command when it is not mkdocs.yml. Nothing is written when an option
    is refused or target is not an empty folder.
    """
    check_options(target, city, currency, config_file)
    year = dt.date.today().year
    context = {
        "city": city.strip(),
        "lang": theme_language(lang),
        "currency": currency,
        "year": str(year),
        "last_year": str(year - 1),
        "version": __version__,  # requirements.txt pins the release that wrote the portal
        "config_file": config_file,
        "config_option": config_option(config_file),
    }
    files = for_language(scaffold_files(), context["lang"])
    texts = [(target_name(path, config_file), file_text(path, f, context)) for path, f in files]
    written = [write(target / name, text) for name, text in texts]
    first_commit(target, city)
    return written


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def first_commit(target: Path, city: str) -> None:
    repository = pygit2.init_repository(str(target), initial_head="main")
    repository.index.add_all()
    repository.index.write()
    tree = repository.index.write_tree()
    signature = pygit2.Signature("civicgen", "civicgen@localhost")
    repository.create_commit("HEAD", signature, signature, f"A portal for {city}", tree, [])
