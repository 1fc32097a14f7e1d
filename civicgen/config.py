"""The portal's one configuration: the civicgen plugin's options in mkdocs.yml.

Every command reads them the same way, by name: `build` and `serve` through MkDocs,
`validate`, `stats` and `diff` through `read_settings`, which finds mkdocs.yml, reads it
without running any tag it holds, and checks the options against the same schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from mkdocs.config import base
from mkdocs.config import config_options as c

from .exceptions import CivicgenException, SiteConfigError
from .limits import Limits

CONFIG_FILE = "mkdocs.yml"
PLUGIN = "civicgen"


ENGINES = ("local", "dask")  # where large files are scanned (scan/cluster.py)
PARTITION_BYTES = 64 << 20  # a Dask partition: Dask's own advice is about 100 MB or less


class CivicgenConfig(base.Config):
    """plugins: - civicgen: {datasets_dir, tools_dir, limit_errors, preview_rows, cache_dir, limits,
    repository_url, forge, languages, locale_dir…}."""

    enabled = c.Type(bool, default=True)
    datasets_dir = c.Type(str, default="datasets")
    tools_dir = c.Type(str, default="tools-catalog")
    limit_errors = c.Type(int, default=1000)
    preview_rows = c.Type(int, default=10)
    cache_dir = c.Type(str, default="")  # "": the user's cache folder; never inside the repo
    limits = c.Type(dict, default={})  # civicgen.limits.Limits, by name
    repository_url = c.Type(str, default="")
    forge = c.Optional(c.Choice(("github", "gitlab", "forgejo")))  # None: from the host
    languages = c.ListOfItems(
        c.Type(str), default=[]
    )  # the first at the root, the others at /<lang>/
    locale_dir = c.Type(str, default="locale")  # the city's catalogues: <locale_dir>/<lang>/*.po
    engine = c.Choice(ENGINES, default="local")  # where large files are scanned (scan/cluster.py)
    partition_mb = c.Type((int, float), default=PARTITION_BYTES >> 20)  # a Dask partition, MB


@dataclass(frozen=True)
class Settings:
    """What the commands take from the configuration (and the command line)."""

    datasets_dir: str = "datasets"
    tools_dir: str = "tools-catalog"
    limit_errors: int = 1000
    cache_dir: str | None = ""  # "": the user's cache folder; a folder outside the repo; None: off
    limits: Limits = field(default_factory=Limits)
    config_file: str = ""  # where these came from ("" : the defaults, no mkdocs.yml)
    languages: tuple[str, ...] = ()  # (): one language, theme.language
    locale_dir: str = "locale"
    engine: str = "local"  # local | dask
    scheduler: str | None = None  # a Dask scheduler's address: never from mkdocs.yml
    partition_bytes: int = PARTITION_BYTES


def settings_from(config: CivicgenConfig, config_file: str = "") -> Settings:
    """Settings from the plugin's checked options (the one mapping, by name)."""
    return Settings(
        datasets_dir=config.datasets_dir,
        tools_dir=config.tools_dir,
        limit_errors=config.limit_errors,
        cache_dir=config.cache_dir,
        limits=Limits.from_options(config.limits),
        config_file=config_file,
        languages=tuple(config.languages),
        locale_dir=config.locale_dir,
        engine=config.engine,
        partition_bytes=int(config.partition_mb * (1 << 20)),
    )


def read_settings(config_file: str | None = None, start: str | Path = ".") -> Settings:
    """The settings in mkdocs.yml: the file given, else the one in the current folder, else
    the one at the repository root around start; the defaults when there is none."""
    path = find_config(config_file, Path(start))
    if path is None:
        return Settings()
    options = plugin_options(read_config(path), path)
    return settings_from(checked(options, path), str(path))


def find_config(config_file: str | None, start: Path) -> Path | None:
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise CivicgenException(f"{config_file}: no such configuration file (--config-file)")
        return path.resolve()
    from .repo import find_repository  # pygit2 loads only when no mkdocs.yml is here

    candidates = [Path.cwd()]
    repository = find_repository(start)
    if repository is not None and repository.workdir:
        candidates.append(Path(repository.workdir))
    return next((p / CONFIG_FILE for p in candidates if (p / CONFIG_FILE).is_file()), None)


def plugin_options(config: Any, path: Path, depth: int = 0) -> dict[str, Any]:
    """The civicgen plugin's options (from the file, or the one it INHERITs)."""
    if not isinstance(config, dict):
        raise SiteConfigError(f"{path.name}: the configuration must be a mapping of options")
    plugins = config.get("plugins") or []
    entries = plugins.items() if isinstance(plugins, dict) else map(plugin_entry, plugins)
    for name, options in entries:
        if name == PLUGIN:
            return options if isinstance(options, dict) else {}
    parent = config.get("INHERIT")
    if isinstance(parent, str) and depth < 5:
        inherited = inherited_path(path, parent)
        return plugin_options(read_config(inherited), inherited, depth + 1)
    return {}


def inherited_path(path: Path, parent: str) -> Path:
    """The file an INHERIT names, refused when it is outside the configuration's folder."""
    inherited = (path.parent / parent).resolve()
    if not inherited.is_relative_to(path.parent.resolve()):
        raise SiteConfigError(
            f'{path.name}: INHERIT: "{parent}" is outside the portal\'s folder, which '
            "civicgen never reads; keep the inherited file beside mkdocs.yml"
        )
    return inherited


def plugin_entry(entry: Any) -> tuple[str, Any]:
    if isinstance(entry, dict) and len(entry) == 1:
        return next(iter(entry.items()))
    return (entry if isinstance(entry, str) else "", {})


def checked(options: dict[str, Any], path: Path) -> CivicgenConfig:
    """The options checked by name against the plugin's schema; unknown names are errors."""
    config = CivicgenConfig(config_file_path=str(path))
    config.load_dict(options)
    failed, warnings = config.validate()
    problems = [f'"{key}": {error}' for key, error in failed]
    known = ", ".join(name for name, _ in CivicgenConfig._schema)
    problems += [f'unknown option "{key}" (known: {known})' for key, _ in warnings]
    if problems:
        raise CivicgenException(
            f"{path.name}, civicgen plugin options: {'; '.join(problems)}; fix them in {path.name}"
        )
    return config


# --- mkdocs.yml, read safely before MkDocs reads it ---------------------------------------


class ConfigCheckLoader(yaml.SafeLoader):
    """YAML as MkDocs reads it, minus the tags that construct Python objects."""


def ignore_tag(loader: yaml.SafeLoader, *node: yaml.Node) -> None:
    return None


ConfigCheckLoader.add_constructor("!ENV", ignore_tag)
ConfigCheckLoader.add_constructor("!relative", ignore_tag)
ConfigCheckLoader.add_multi_constructor("tag:yaml.org,2002:python/name:", ignore_tag)


def check_config_file(path: Path, depth: int = 0) -> None:
    """SiteConfigError if mkdocs.yml (or a file it INHERITs) is not YAML or holds a tag
    that would run code."""
    config = read_config(path)
    parent = config.get("INHERIT") if isinstance(config, dict) else None
    if isinstance(parent, str) and depth < 5:
        check_config_file(inherited_path(path, parent), depth + 1)


def read_config(path: Path) -> Any:
    try:
        return yaml.load(path.read_bytes(), Loader=ConfigCheckLoader)  # noqa: S506 (safe loader)
    except OSError as exc:
        raise SiteConfigError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    except yaml.constructor.ConstructorError as exc:
        raise SiteConfigError(
            f"{path.name}{where(exc)}: the tag {tag_of(exc)} would run "
            "code while the configuration is read; remove it"
        ) from exc
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "it cannot be parsed"
        raise SiteConfigError(
            f"{path.name}{where(exc)}: not valid YAML ({problem}); fix the file"
        ) from exc


def where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def tag_of(exc: yaml.constructor.ConstructorError) -> str:
    found = re.search(r"tag '([^']+)'", str(exc.problem))
    return found.group(1).replace("tag:yaml.org,2002:", "!!") if found else "(unknown)"
