"""The whole portal: every generated page and download, assembled from the page modules."""

from __future__ import annotations

from jinja2 import Environment

from .about import about_pages
from .inputs import SiteInputs
from .pages import (
    Output,
    dataset_pages,
    downloads,
    home_page,
    profile_pages,
    stats_downloads,
)


def render_site(
    env: Environment, inputs: SiteInputs, preview_limit: int = 10, intro: str | None = None
) -> list[Output]:
    """Every generated page and download of the portal, from what was gathered; the home
    page last, since it links to the sections that were generated (intro: the Markdown of
    the city's own home page, shown around the figures)."""
    outputs = [
        *dataset_pages(env, inputs, preview_limit),
        *profile_pages(env, inputs),
        *inputs.once("downloads", lambda: downloads(inputs.validation, inputs.published)),
        *inputs.once("stats", lambda: stats_downloads(inputs.validation, inputs.derived)),
        *about_pages(env, inputs),
    ]
    return [*outputs, home_page(env, inputs, {o.uri for o in outputs}, intro)]
