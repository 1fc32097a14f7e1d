"""The portal's one configuration: the civicgen plugin's options in mkdocs.yml.

Every command reads them the same way, by name: `build` and `serve` through MkDocs,
`validate`, `stats` and `diff` through `read_settings`, which finds mkdocs.yml, reads it
without running any tag it holds, and checks the options against the same schema.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .exceptions import CivicgenException, SiteConfigError
from .limits import Limits

CONFIG_FILE = "mkdocs.yml"
PLUGIN = "civicgen"


ENGINES = ("local", "dask")  # where large files are scanned (scan/cluster.py)
PARTITION_BYTES = 64 << 20  # a Dask partition: Dask's own advice is about 100 MB or less


@dataclass(frozen=True)
class Option:
    """One option of the civicgen plugin: what its value must be, and its default."""

    kind: type | tuple[type, ...]
    default: Any
    choices: tuple[str, ...] = ()  # when given, the value must be one of these
    need: str = ""  # what the value must be, in words

    def problem(self, value: Any) -> str:
        """What is wrong with value ("" when it may be used)."""
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        wrong = not isinstance(value, self.kind) or (
            isinstance(value, bool) and self.kind is not bool
        )
        if self.kind is list and not wrong:
            wrong = not all(isinstance(item, str) for item in value)
        return f"must be {self.need}" if wrong else ""


FORGES = ("github", "gitlab", "forgejo")
TEXT = "text"
OPTIONS = {
    "enabled": Option(bool, True, need="true or false"),
    "datasets_dir": Option(str, "datasets", need=TEXT),
    "tools_dir": Option(str, "tools-catalog", need=TEXT),
    "limit_errors": Option(int, 1000, need="a whole number"),
    "preview_rows": Option(int, 10, need="a whole number"),
    "cache_dir": Option(str, "", need=TEXT),  # "": the user's cache folder; never in the repo
    "limits": Option(dict, {}, need="limits by name, like `file_bytes: 50000000`"),
    "repository_url": Option(str, "", need=TEXT),
    "forge": Option(str, None, FORGES),  # None: known from the repository's host
    "languages": Option(list, [], need="a list of language codes, the default first"),
    "locale_dir": Option(str, "locale", need=TEXT),  # the city's catalogues: <dir>/<lang>/*.po
    "engine": Option(str, "local", ENGINES),  # where large files are scanned (scan/cluster.py)
    "partition_mb": Option((int, float), PARTITION_BYTES >> 20, need="a number of megabytes"),
}


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


def settings_from(config: Mapping[str, Any], config_file: str = "") -> Settings:
    """Settings from the plugin's checked options (the one mapping, by name)."""
    return Settings(
        datasets_dir=config["datasets_dir"],
        tools_dir=config["tools_dir"],
        limit_errors=config["limit_errors"],
        cache_dir=config["cache_dir"],
        limits=Limits.from_options(config["limits"]),
        config_file=config_file,
        languages=tuple(config["languages"]),
        locale_dir=config["locale_dir"],
        engine=config["engine"],
        partition_bytes=int(config["partition_mb"] * (1 << 20)),
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
    from .repo import work_tree_root

    candidates = [Path.cwd()]
    root = work_tree_root(start)
    if root is not None:
        candidates.append(root)
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


def checked(options: dict[str, Any], path: Path) -> dict[str, Any]:
    """The options checked by name against OPTIONS, the defaults filled in; unknown names
    are errors (MkDocs checks them the same way: plugin.CivicgenConfig)."""
    values = {name: copy.deepcopy(option.default) for name, option in OPTIONS.items()}
    problems = []
    for key, value in options.items():
        option = OPTIONS.get(key)
        if option is None:
            problems.append(f'unknown option "{key}" (known: {", ".join(OPTIONS)})')
        elif value is not None:
            problem = option.problem(value)
            problems += [f'"{key}": {problem}'] if problem else []
            values[key] = value
    if problems:
        raise CivicgenException(
            f"{path.name}, civicgen plugin options: {'; '.join(problems)}; fix them in {path.name}"
        )
    return values


# --- mkdocs.yml, read safely before MkDocs reads it ---------------------------------------


class ConfigCheckLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML as MkDocs reads it, minus the tags that construct Python objects (libyaml's
    parser where PyYAML has it: a tenth of the time)."""


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
