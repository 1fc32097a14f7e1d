"""The command line: parse, call the public API, print, exit 0 valid / 1 invalid / 2 usage."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import ENGINES, PARTITION_BYTES, Settings, read_settings
from .exceptions import CivicgenException
from .progress import progress
from .scan.cluster import scanning_on

EXIT_INVALID = 1
EXIT_USAGE = 2


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn CivicgenException into a one-line message and exit 2 (traceback with --debug);
    show progress on stderr while the command runs, when stderr is a terminal."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with progress.on(sys.stderr):
                return command(*args, **kwargs)
        except CivicgenException as exc:
            fail(str(exc), getattr(exc, "exit_code", EXIT_USAGE))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a fault civicgen did not foresee: still one line, exit 2
            reason = " ".join(str(exc).split())[:300]
            fail(
                f"civicgen stopped unexpectedly ({type(exc).__name__}: {reason}); run again "
                "with --debug to see where, and report it"
            )

    return wrapper


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print one line on stderr (and the traceback with --debug); exit 2 (1: invalid data)."""
    if click.get_current_context().find_root().params.get("debug"):
        import traceback

        traceback.print_exc()
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="civicgen")
@click.option("--debug", is_flag=True, help="Show tracebacks for environment errors.")
def main(debug: bool) -> None:
    """civicgen: a city's transparency portal as a git repository."""


CONFIG_OPTION = click.option(
    "-f",
    "--config-file",
    default=None,
    type=click.Path(dir_okay=False),
    help="The portal's mkdocs.yml (default: the one here, else at the repository's root).",
)


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--engine, --scheduler and --partition-mb: the command scans large files there (over
    the plugin's engine option in mkdocs.yml; --scheduler alone means the dask engine)."""

    @wraps(command)
    def on_engine(
        *args: Any, engine: str | None, scheduler: str | None, partition_mb: float, **kwargs: Any
    ) -> Any:
        chosen = engine or ("dask" if scheduler else "local")
        if scheduler and chosen != "dask":
            raise CivicgenException("--scheduler names a Dask scheduler: use it with --engine dask")
        decided = engine is not None or scheduler is not None
        with scanning_on(chosen, scheduler, int(partition_mb * (1 << 20)), decided):
            return command(*args, **kwargs)

    options = [
        click.option("--engine", type=click.Choice(ENGINES), default=None,
                     help="Where to scan large files: this machine, or a Dask cluster."),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="The Dask scheduler's address (default: $CIVICGEN_SCHEDULER, else "
                     "a cluster started on this machine)."),
        click.option("--partition-mb", type=click.FloatRange(min=0.01),
                     default=PARTITION_BYTES >> 20, show_default=True,
                     help="With dask: the size of a file's partitions."),
    ]  # fmt: skip
    for option in reversed(options):
        on_engine = option(on_engine)
    return on_engine


def settings_for(config_file: str | None, start: str = ".", **overrides: Any) -> Settings:
    """The configuration's settings, with the options given on the command line."""
    settings = read_settings(config_file, start)
    given = {name: value for name, value in overrides.items() if value is not None}
    return replace(settings, **given)


@main.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="How to print the report.",
)
@click.option(
    "--annotations", is_flag=True, help="Also print GitHub Actions ::error lines (text format)."
)
@click.option(
    "--limit-errors",
    type=click.IntRange(min=1),
    default=None,
    help="Stop collecting errors after this many (default: limit_errors in mkdocs.yml, 1000).",
)
@click.option("--rev", default=None, help="Validate the data as it is in this git revision.")
@CONFIG_OPTION
@handle_errors
@engine_options
def validate_command(
    paths: tuple[str, ...],
    output: str,
    annotations: bool,
    limit_errors: int | None,
    rev: str | None,
    config_file: str | None,
) -> None:
    """Check data packages against their schemas.

    PATHS are the repository (default: the current folder), package folders or
    datapackage.json files. Exit 0 valid, 1 invalid data, 2 usage error.
    """
    from .pipeline import validate

    chosen = list(paths) or ["."]
    settings = settings_for(config_file, chosen[0], limit_errors=limit_errors)
    report = validate(chosen, settings, rev).report
    if output == "json":
        click.echo(report.to_json())
    elif output == "markdown":
        click.echo(report.to_markdown())
    else:
        click.echo(report.to_text())
        if annotations and report.errors:
            click.echo(report.to_annotations())
    sys.exit(0 if report.valid else EXIT_INVALID)


@main.command("stats")
@click.argument("package")
@click.option(
    "--format",
    "output",
    type=click.Choice(["json", "csv", "markdown"]),
    default="markdown",
    show_default=True,
    help="How to print the tables.",
)
@click.option("--table", default=None, help="Print only this table (required for csv).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many rows per table (markdown).",
)
@CONFIG_OPTION
@handle_errors
@engine_options
def stats_command(
    package: str, output: str, table: str | None, limit: int | None, config_file: str | None
) -> None:
    """Print the derived statistics of PACKAGE (a folder or a package name).

    Budgets: totals and classification rollups; sensors: series, coverage,
    exceedances; proposals: by status and the funding chain; catalog: counts.
    """
    from .pipeline import statistics
    from .stats.profiles import derive_all
    from .stats.publish import csv_bytes, to_json, to_markdown

    validation, chosen = statistics(package, settings_for(config_file, package))
    if not validation.report.valid:
        click.echo(validation.report.to_text(), err=True)
        sys.exit(EXIT_INVALID)
    tables = derive_all(validation).get(chosen.name, [])
    if table is not None:
        tables = [t for t in tables if t.name == table]
        if not tables:
            raise CivicgenException(f'no table "{table}" in the statistics of {chosen.name}')
    if output == "csv":
        if len(tables) != 1:
            names = ", ".join(t.name for t in tables)
            raise CivicgenException(f"choose one table with --table for csv: {names}")
        click.echo(csv_bytes(tables[0]).decode(), nl=False)
    elif output == "json":
        click.echo(to_json(chosen, tables))
    else:
        click.echo(to_markdown(tables, limit), nl=False)


DIFF_LIMIT = 20  # changes shown per table in Markdown and text


@main.command("diff")
@click.argument("base")
@click.argument("head", required=False)
@click.option(
    "--format",
    "output",
    type=click.Choice(["markdown", "text", "json", "html"]),
    default="markdown",
    show_default=True,
    help="How to print the changes (html: one self-contained page, every row unless --limit).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many changes shown per table [default: 20; html: all].",
)
@CONFIG_OPTION
@handle_errors
def diff_command(
    base: str, head: str | None, output: str, limit: int | None, config_file: str | None
) -> None:
    """What changed in the data from git revision BASE to HEAD (default: the work tree).

    Rows added, removed and changed (by primary key, each cell old → new), schema
    changes, and how the derived statistics move. Exit 1 if the data at HEAD is invalid.
    """
    from .diff_html import to_html
    from .diff_report import to_json, to_markdown, to_text
    from .pipeline import diff

    changes = diff(base, head, settings_for(config_file))
    if output == "json":
        click.echo(to_json(changes))
    elif output == "html":
        click.echo(to_html(changes, limit), nl=False)
    else:
        show = to_markdown if output == "markdown" else to_text
        click.echo(show(changes, limit or DIFF_LIMIT), nl=False)
    sys.exit(0 if changes.valid else EXIT_INVALID)


FORGE_DEFAULTS = {  # where each forge's CI says which API and project the job runs for
    "gitlab": (("CI_API_V4_URL",), ("CI_PROJECT_ID",)),
    "forgejo": (("FORGEJO_API_URL", "GITHUB_API_URL"), ("FORGEJO_REPOSITORY", "GITHUB_REPOSITORY")),
}


def from_environment(names: tuple[str, ...]) -> str:
    return next((os.environ[name] for name in names if os.environ.get(name)), "")


@main.command("post-report")
@click.option(
    "--forge",
    "kind",
    type=click.Choice(["gitlab", "forgejo"]),
    required=True,
    help="Which forge's API to talk to.",
)
@click.option(
    "--api-url",
    default=None,
    help="The forge's API [default: $CI_API_V4_URL on GitLab; $FORGEJO_API_URL, else "
    "$GITHUB_API_URL, on Forgejo].",
)
@click.option(
    "--project",
    default=None,
    help="GitLab: the project's id or path [default: $CI_PROJECT_ID]; Forgejo: owner/name "
    "[default: $FORGEJO_REPOSITORY, else $GITHUB_REPOSITORY].",
)
@click.option(
    "--number",
    "numbers",
    type=click.IntRange(min=1),
    multiple=True,
    help="Report on this merge or pull request only (repeatable) [default: every open one].",
)
@click.option(
    "--token-env",
    default="CIVICGEN_FORGE_TOKEN",
    show_default=True,
    help="The environment variable holding the token (never an option: a command line shows "
    "in process lists and logs).",
)
@click.option(
    "--bot-user-id",
    type=int,
    default=None,
    help="The id of the token's user, whose comments are civicgen's [default: asked of the "
    "forge; Forgejo's automatic token writes as -2].",
)
@click.option(
    "--remote",
    default="origin",
    show_default=True,
    help="The git remote to fetch the requests' commits from.",
)
@CONFIG_OPTION
@handle_errors
def post_report_command(
    kind: str,
    api_url: str | None,
    project: str | None,
    numbers: tuple[int, ...],
    token_env: str,
    bot_user_id: int | None,
    remote: str,
    config_file: str | None,
) -> None:
    """Post civicgen's report on each open merge request (GitLab) or pull request (Forgejo),
    as one comment kept up to date, from a trusted job on the default branch.

    Each request's commits are fetched as git objects, never checked out: the diff and the
    validation read its data as blobs and run nothing of it. A request whose comment
    already describes its head is left alone. Exit 0 when every request is reported or up
    to date, 2 when the forge or git refused something (each said on one line).
    """
    from .forge.apis import FORGES
    from .forge.post import Job, post_reports
    from .repo import open_source

    urls, projects = FORGE_DEFAULTS[kind]
    token = os.environ.get(token_env, "")
    if not token:
        raise CivicgenException(
            f'no token in ${token_env}; see "The token each forge needs" in docs/cli.md'
        )
    forge = FORGES[kind](
        api_url or from_environment(urls), project or from_environment(projects), token
    )
    root = Path(open_source(".").root)
    job = Job(forge, root, settings_for(config_file), remote, bot_user_id)
    outcomes = post_reports(job, list(numbers) or None)
    for outcome in outcomes:
        line = f"{forge.label(outcome.number)}: {outcome.done}; {outcome.detail}"
        click.echo(line, err=outcome.done == "failed")
    failed = sum(outcome.done == "failed" for outcome in outcomes)
    if failed:
        fail(f"{failed} of {len(outcomes)} request(s) could not be reported (see above)")


@main.command("new")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--city", required=True, help="The city's name, as the portal shows it.")
@click.option("--lang", default="en", show_default=True, help="The portal's language (ISO 639).")
@click.option("--currency", required=True, help="The budget's currency (ISO 4217 code, e.g. USD).")
@click.option(
    "-f",
    "--config-file",
    default="mkdocs.yml",
    show_default=True,
    help="The name of the configuration file to write (its workflows pass it on).",
)
@handle_errors
def new_command(folder: str, city: str, lang: str, currency: str, config_file: str) -> None:
    """Start a portal for another city in FOLDER: configuration, pages, a budget package,
    a proposals collection, the tool catalog, CI workflows, and a first git commit."""
    from .scaffold import new_portal

    written = new_portal(Path(folder), city, lang, currency, config_file=config_file)
    click.echo(f"Wrote {len(written)} files in {folder} and made the first commit.")
    option = "" if config_file == "mkdocs.yml" else f" -f {config_file}"
    click.echo(f"Next: cd {folder} && pip install -r requirements.txt && civicgen build{option}")


def run_import(action: Callable[[], Any]) -> None:
    """Run an importer: print what it wrote and any problem; exit 1 on bad input data."""
    from .importers import ImportProblem

    try:
        result = action()
    except ImportProblem as problem:
        click.echo(str(problem), err=True)
        sys.exit(getattr(problem, "exit_code", EXIT_INVALID))
    click.echo(result.summary())


OUT_OPTION = click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write (must be empty unless --overwrite).",
)
OVERWRITE_OPTION = click.option(
    "--overwrite", is_flag=True, help="Write into a folder that is not empty."
)


@main.group("import")
def import_group() -> None:
    """Turn exports from other tools into civicgen data packages."""


@import_group.command("smartcitizen")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@OUT_OPTION
@click.option("--station", default=None, help="Station id (default: from the file name).")
@click.option(
    "--timezone",
    default="UTC",
    show_default=True,
    help="Time zone of timestamps that carry none (e.g. Europe/Madrid).",
)
@OVERWRITE_OPTION
@handle_errors
def import_smartcitizen(
    files: tuple[str, ...], out: str, station: str | None, timezone: str, overwrite: bool
) -> None:
    """Smart Citizen Kit CSV exports (SD card or platform download) → a sensor package."""
    from .importers import smartcitizen

    paths = [Path(f) for f in files]
    run_import(
        lambda: smartcitizen.import_files(
            paths, Path(out), station=station, timezone=timezone, overwrite=overwrite
        )
    )


@import_group.command("pabulib")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@OUT_OPTION
@OVERWRITE_OPTION
@handle_errors
def import_pabulib(file: str, out: str, overwrite: bool) -> None:
    """A pabulib .pb participatory-budgeting file → a proposals collection."""
    from .importers import pabulib

    run_import(lambda: pabulib.import_file(Path(file), Path(out), overwrite=overwrite))


@main.group("catalog")
def catalog_group() -> None:
    """Work with the catalog of open-government tools."""


@catalog_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@OUT_OPTION
@click.option(
    "--category",
    "categories",
    multiple=True,
    help="A catalog category, when the file's own do not match one (repeat for several).",
)
@click.option(
    "--hosting",
    type=click.Choice(["self-hosted", "self-hosted-or-saas", "saas"]),
    default=None,
    help="How the tool is hosted; the sources do not say, so it is asked.",
)
@click.option(
    "--status",
    type=click.Choice(["concept", "development", "beta", "stable", "obsolete"]),
    default=None,
    help="Development status of a registry entry (a publiccode.yml states its own).",
)
@click.option("--description", default=None, help="An English description, when the file has none.")
@OVERWRITE_OPTION
@handle_errors
def catalog_import(
    file: str,
    out: str,
    categories: tuple[str, ...],
    hosting: str | None,
    status: str | None,
    description: str | None,
    overwrite: bool,
) -> None:
    """A publiccode.yml or a Digital Public Goods registry entry → one catalog entry.

    An invalid publiccode.yml is refused, every problem with its line and column. A field
    the catalog needs and the file does not state is asked for (exit 2): give the option
    named in the message."""
    from .importers import publiccode

    answers = publiccode.Answers(categories, hosting, status, description)
    run_import(
        lambda: publiccode.import_file(Path(file), Path(out), overwrite=overwrite, answers=answers)
    )


def show_mkdocs_messages() -> None:
    """Print MkDocs' warnings and errors (the plugin's refusal among them) on stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("mkdocs")
    logger.handlers = [handler]
    logger.propagate = False


@main.command("build")
@click.option(
    "-f",
    "--config-file",
    default="mkdocs.yml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The portal's mkdocs.yml.",
)
@click.option(
    "-d",
    "--site-dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Where to write the site (default: site/ beside mkdocs.yml).",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="How many languages build at once (default: one per core; 1: in turn, less memory).",
)
@handle_errors
@engine_options
def build_command(config_file: str, site_dir: str | None, strict: bool, jobs: int | None) -> None:
    """Validate the data, then build the static portal (refuses invalid data)."""
    from .build import build_site

    show_mkdocs_messages()
    target = build_site(config_file, site_dir, strict, jobs)
    click.echo(f"Portal built in {target}")


@main.command("serve")
@click.option(
    "-f",
    "--config-file",
    default="mkdocs.yml",
    show_default=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The portal's mkdocs.yml.",
)
@click.option(
    "-a", "--dev-addr", default="127.0.0.1:8000", show_default=True, help="Address to serve on."
)
@handle_errors
def serve_command(config_file: str, dev_addr: str) -> None:
    """Preview the portal, every language, on a local web server, rebuilding on change."""
    from .preview import serve_portal

    serve_portal(config_file, dev_addr, say=lambda line: click.echo(line, err=True))


@main.command("verify")
@click.argument("site", type=click.Path())
@click.option(
    "--repo",
    default=".",
    show_default=True,
    type=click.Path(),
    help="The git repository the site was built from.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the result.",
)
@handle_errors
def verify_command(site: str, repo: str, output: str) -> None:
    """Rebuild SITE from the commit its manifest names and list every file that differs.

    Exit 0 when every file is what the commit builds, 1 when anything differs, 2 when the
    manifest is missing or unreadable or the commit is not in the repository.
    """
    import logging

    from .verify import to_json, to_text, verify_site

    logging.getLogger("mkdocs").setLevel(logging.ERROR)  # the rebuild's progress is not news
    result = verify_site(site, repo)
    click.echo(to_json(result) if output == "json" else to_text(result))
    sys.exit(0 if result.identical else EXIT_INVALID)
