"""The plugin's options in mkdocs.yml (the portal's one configuration file)."""

from __future__ import annotations

from mkdocs.config import base
from mkdocs.config import config_options as c


class CivicgenConfig(base.Config):
    """plugins: - civicgen: {datasets_dir, tools_dir, limit_errors, preview_rows, cache_dir, limits…}."""

    enabled = c.Type(bool, default=True)
    datasets_dir = c.Type(str, default="datasets")
    tools_dir = c.Type(str, default="tools-catalog")
    limit_errors = c.Type(int, default=1000)
    preview_rows = c.Type(int, default=10)
    cache_dir = c.Type(str, default="")  # "": the user's cache folder; never inside the repo
    limits = c.Type(dict, default={})  # civicgen.limits.Limits, by name
    repository_url = c.Type(str, default="")
