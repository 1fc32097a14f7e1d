"""The build trusts nothing a pull request can change: hostile theme templates, a hostile
mkdocs.yml, and the faults of the machine (full disk, read-only output, two builds at once).

Each hostile case starts from the example city's built site (the "old site": built once
for the module and copied into the case's own portal), applies ONE hostile change, builds
again, and checks the exact outcome: exit 2 with one clear line and no traceback, nothing
run, nothing leaked, the old site intact and no staging folder left.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner
from conftest import ROOT, make_lean_portal, own_cache, replace_in

from civicgen.build import (
    BuildFault,
    DiskFull,
    SiteConfigError,
    SiteNotWritable,
    ThemeTemplateError,
    build_site,
)
from civicgen.cli import main

DATASET_OVERRIDE = "theme/civicgen/dataset.html"
SECRET = "ghp_THISISTHECISECRET0123456789"


# --- helpers -----------------------------------------------------------------------------


def digest(site: Path) -> dict[str, str]:
    """Every file of a site and its SHA-256."""
    return {
        p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def leftovers(site: Path) -> list[str]:
    """Staging or set-aside folders of a build, beside the site."""
    return sorted(p.name for p in site.parent.iterdir() if p.name.startswith(f".{site.name}."))


def cli_build(
    portal: Path, *args: str, timeout: int = 300, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """`python -m civicgen build` in a real process, with this checkout's civicgen."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "civicgen", "build", *args],
        cwd=portal,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,  # type: ignore[arg-type]
    )


def assert_refused(done: subprocess.CompletedProcess[str], *words: str, code: int = 2) -> str:
    """Exit 2 (1: invalid data), one `Error:` line naming the problem, no traceback; return
    that line."""
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    [line] = [x for x in done.stderr.splitlines() if x.startswith("Error: ")]
    for word in words:
        assert word in line, line
    return line


pytestmark = pytest.mark.one_language  # nothing here depends on the languages


@pytest.fixture(scope="module")
def example_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example city built once for the module, from a copy committed as every test's
    copy is (same tree, author and time: the same commit), so that its site is, byte for
    byte, the one each test's copy builds."""
    city = make_lean_portal(tmp_path_factory.mktemp("old") / "city")
    with own_cache(tmp_path_factory):
        return build_site(city / "mkdocs.yml")


@pytest.fixture
def old_site(portal: Path, example_build: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """The example city's site where this portal's build writes it, as its own earlier build
    left it (the module's build, copied): (site folder, its digest before the hostile change)."""
    site = portal / "site"
    shutil.copytree(example_build, site, symlinks=True)
    yield site, digest(site)


def assert_untouched(site: Path, before: dict[str, str]) -> None:
    assert digest(site) == before
    assert leftovers(site) == []


# --- hostile theme templates: the sandbox --------------------------------------------------

SSTI = {
    "cycler-globals": "{{ cycler.__init__.__globals__.os.popen('touch MARK').read() }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('touch MARK').read() }}",
    "template-reference": "{{ self._TemplateReference__context.cycler.__init__.__globals__"
    ".os.popen('touch MARK').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__.os.popen('touch MARK').read() }}",
    "namespace-globals": "{{ namespace.__init__.__globals__.os.popen('touch MARK').read() }}",
    "attr-filter": "{{ (lipsum|attr('__globals__'))['os'].popen('touch MARK').read() }}",
    "subclasses-popen": "{% for c in ''.__class__.__mro__[1].__subclasses__() %}"
    "{% if c.__name__ == 'Popen' %}{{ c(['touch', 'MARK']).wait() }}{% endif %}{% endfor %}",
}


def payload(name: str, marker: Path) -> str:
    return SSTI[name].replace("MARK", str(marker))


@pytest.mark.parametrize("name", sorted(SSTI))
def test_payload_runs_code_without_the_sandbox(name: str, tmp_path: Path) -> None:
    """The payloads are real: plain Jinja2 runs each of them (so the tests below can fail)."""
    marker = tmp_path / "pwned"
    jinja2.Environment().from_string(payload(name, marker)).render()
    assert marker.exists()


@pytest.mark.parametrize("name", sorted(SSTI))
def test_hostile_ssti_in_theme_override(
    name: str, portal: Path, old_site: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    site, before = old_site
    marker = tmp_path / "pwned"
    override = portal / DATASET_OVERRIDE
    override.write_text(
        '{% extends "default:dataset.html" %}{% block content %}'
        f"{payload(name, marker)}{{{{ super() }}}}{{% endblock %}}\n"
    )
    line = assert_refused(cli_build(portal), DATASET_OVERRIDE, "nothing was published")
    assert "a template may not do" in line
    assert not marker.exists()
    assert_untouched(site, before)


@pytest.mark.parametrize("name", ["lipsum-globals", "subclasses-popen"])
def test_hostile_ssti_in_mkdocs_theme_override(
    name: str, portal: Path, old_site: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """theme/main.html is rendered by MkDocs' environment: `civicgen build` sandboxes it too."""
    site, before = old_site
    marker = tmp_path / "pwned"
    (portal / "theme/main.html").write_text(
        '{% extends "base.html" %}{% block content %}'
        f"{payload(name, marker)}{{{{ super() }}}}{{% endblock %}}\n"
    )
    assert_refused(cli_build(portal), "theme/main.html", "a template may not do")
    assert not marker.exists()
    assert_untouched(site, before)


def test_hostile_ssti_in_mkdocs_theme_under_plain_mkdocs_build(
    portal: Path, tmp_path: Path
) -> None:
    """The sandbox comes with the plugin, so a plain `mkdocs build` runs no template code either."""
    marker = tmp_path / "pwned"
    (portal / "theme/main.html").write_text(
        '{% extends "base.html" %}{% block content %}'
        f"{payload('lipsum-globals', marker)}{{{{ super() }}}}{{% endblock %}}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(tmp_path / "plain")],
        cwd=portal,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0 and "a template may not do" in done.stderr
    assert not marker.exists()


@pytest.mark.parametrize("command", ["civicgen", "mkdocs"])
def test_hostile_extra_template_is_refused_before_it_runs(
    command: str, portal: Path, old_site: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """MkDocs renders `extra_templates` with plain Jinja2, outside the sandbox: a pull request
    listing one in mkdocs.yml is refused before any page is rendered, by either build."""
    site, before = old_site
    marker = tmp_path / "pwned"
    (portal / "content/feed.xml").write_text(payload("lipsum-globals", marker))
    with (portal / "mkdocs.yml").open("a") as config:
        config.write("extra_templates:\n  - feed.xml\n")
    if command == "civicgen":
        assert_refused(cli_build(portal), "extra_templates", "sandbox")
    else:
        done = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(tmp_path / "plain")],
            cwd=portal, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 1 and "remove extra_templates" in done.stderr
    assert not marker.exists()
    assert_untouched(site, before)


def test_an_honest_mkdocs_theme_override_still_works(portal: Path) -> None:
    (portal / "theme/main.html").write_text(
        '{% extends "base.html" %}{% block extrahead %}'
        '<meta name="city" content="{{ config.site_name }}">{% endblock %}\n'
    )
    html = (build_site(portal / "mkdocs.yml") / "index.html").read_text()
    assert '<meta name="city" content="Madrid (ciudad de ejemplo) · civicgen">' in html


def test_hostile_ssti_stops_the_build_through_the_api(
    portal: Path, old_site: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    site, before = old_site
    marker = tmp_path / "pwned"
    (portal / DATASET_OVERRIDE).write_text(payload("cycler-globals", marker))
    with pytest.raises(ThemeTemplateError) as caught:
        build_site(portal / "mkdocs.yml")
    assert caught.value.code == "theme-template"
    assert not marker.exists()
    assert_untouched(site, before)


def test_an_honest_override_still_extends_the_default(portal: Path) -> None:
    (portal / DATASET_OVERRIDE).write_text(
        '{% extends "default:dataset.html" %}{% block content %}'
        "<p>Reviewed by the city</p>{{ super() }}{% endblock %}\n"
    )
    html = (build_site(portal / "mkdocs.yml") / "datasets/madrid-budget/index.html").read_text()
    assert "<p>Reviewed by the city</p>" in html and "Campos de Expenditure" in html


def test_hostile_template_that_mutates_data_is_refused(
    portal: Path, old_site: tuple[Path, dict[str, str]]
) -> None:
    site, before = old_site
    (portal / DATASET_OVERRIDE).write_text(
        '{% set _ = package.descriptor.update({"title": "Forged"}) %}{{ package.title }}\n'
    )
    assert_refused(cli_build(portal), DATASET_OVERRIDE, '"update"')
    assert_untouched(site, before)


def test_hostile_theme_template_linked_to_git_config(
    portal: Path, old_site: tuple[Path, dict[str, str]]
) -> None:
    site, before = old_site
    with (portal / ".git/config").open("a") as config:
        config.write(f'[http]\n\textraheader = "AUTHORIZATION: basic {SECRET}"\n')
    (portal / DATASET_OVERRIDE).symlink_to("../../.git/config")
    done = cli_build(portal)
    assert_refused(done, "dataset.html is a link")
    assert SECRET not in done.stdout + done.stderr
    assert_untouched(site, before)
    assert not any(SECRET in p.read_text(errors="replace") for p in site.rglob("*.html"))


def test_hostile_theme_include_outside_the_theme(
    portal: Path, old_site: tuple[Path, dict[str, str]]
) -> None:
    site, before = old_site
    (portal / ".git/config").write_text(f"[core]\n\tsecret = {SECRET}\n")
    (portal / DATASET_OVERRIDE).write_text('{% include "../../.git/config" %}\n')
    done = cli_build(portal)
    assert_refused(done, "../../.git/config")
    assert SECRET not in done.stdout + done.stderr
    assert_untouched(site, before)


# --- a hostile or broken mkdocs.yml --------------------------------------------------------


def test_hostile_mkdocs_yml_python_tag_runs_nothing(
    portal: Path, old_site: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    site, before = old_site
    marker = tmp_path / "pwned"
    with (portal / "mkdocs.yml").open("a") as config:
        config.write(f'extra:\n  x: !!python/object/apply:os.system ["touch {marker}"]\n')
    line = assert_refused(cli_build(portal), "mkdocs.yml, line", "would run code")
    assert "!!python/object/apply:os.system" in line
    assert not marker.exists()
    assert_untouched(site, before)


def test_hostile_inherited_config_python_tag_runs_nothing(
    portal: Path, old_site: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    site, before = old_site
    marker = tmp_path / "pwned"
    (portal / "content/base.yml").write_text(
        f'extra:\n  x: !!python/object/apply:os.system ["touch {marker}"]\n'
    )
    text = (portal / "mkdocs.yml").read_text()
    (portal / "mkdocs.yml").write_text("INHERIT: content/base.yml\n" + text)
    assert_refused(cli_build(portal), "base.yml, line 2", "would run code")
    assert not marker.exists()
    assert_untouched(site, before)


def test_hostile_broken_mkdocs_yml_is_one_line(
    portal: Path, old_site: tuple[Path, dict[str, str]]
) -> None:
    site, before = old_site
    (portal / "mkdocs.yml").write_text("site_name: [unclosed\n  nav: : :\n")
    assert_refused(cli_build(portal), "mkdocs.yml, line 2", "not valid YAML")
    assert_untouched(site, before)
    with pytest.raises(SiteConfigError):
        build_site(portal / "mkdocs.yml")


def test_hostile_unknown_plugin(portal: Path, old_site: tuple[Path, dict[str, str]]) -> None:
    site, before = old_site
    replace_in(portal / "mkdocs.yml", "plugins:\n", "plugins:\n  - no-such-plugin\n")
    assert_refused(cli_build(portal), "mkdocs.yml", '"no-such-plugin" plugin is not installed')
    assert_untouched(site, before)


def test_hostile_missing_theme_folder(portal: Path, old_site: tuple[Path, dict[str, str]]) -> None:
    site, before = old_site
    shutil.rmtree(portal / "theme")
    assert_refused(cli_build(portal), "mkdocs.yml", "custom_dir", "does not exist")
    assert_untouched(site, before)


def test_hostile_custom_dir_pointing_nowhere(
    portal: Path, old_site: tuple[Path, dict[str, str]]
) -> None:
    site, before = old_site
    replace_in(portal / "mkdocs.yml", "custom_dir: theme", "custom_dir: ../../nowhere")
    with pytest.raises(SiteConfigError) as caught:
        build_site(portal / "mkdocs.yml")
    assert caught.value.code == "site-config" and "nowhere" in str(caught.value)
    assert_untouched(site, before)


# --- the machine's faults ------------------------------------------------------------------


def allocated(site: Path) -> int:
    """Bytes the site takes on a file system with 4 KiB blocks (as tmpfs counts them)."""
    return sum(-(-p.stat().st_size // 4096) * 4096 + 4096 for p in site.rglob("*"))


@pytest.fixture
def small_disk(tmp_path: Path, example_build: Path) -> Iterator[Path]:
    """A tmpfs holding one site and not two (needs root, as CI containers and this sandbox)."""
    size = allocated(example_build)  # the site each copy of the example builds
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size * 3 // 2}", "tmpfs", str(disk)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_hostile_full_disk(portal: Path, small_disk: Path) -> None:
    site = small_disk / "site"
    assert cli_build(portal, "--site-dir", str(site)).returncode == 0
    before = digest(site)
    assert_refused(
        cli_build(portal, "--site-dir", str(site)), "No space left on device", "previous site"
    )
    assert_untouched(site, before)
    with pytest.raises(DiskFull) as caught:
        build_site(portal / "mkdocs.yml", site)
    assert caught.value.code == "disk-full"
    assert_untouched(site, before)


def limit_file_size() -> None:
    """In the child: files stop growing at 64 KiB and writes fail (EFBIG), not the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_hostile_file_size_limit(portal: Path, old_site: tuple[Path, dict[str, str]]) -> None:
    site, before = old_site
    done = cli_build(portal, preexec_fn=limit_file_size)
    assert_refused(done, "File too large", "previous site is unchanged")
    assert_untouched(site, before)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder that cannot be written: a read-only bind mount (root) or mode 0555."""
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    subprocess.run(["umount", str(folder)], check=False, capture_output=True)
    folder.chmod(0o755)


def make_read_only(folder: Path) -> None:
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return
    for command in (
        ["mount", "--bind", str(folder), str(folder)],
        ["mount", "-o", "remount,bind,ro", str(folder)],
    ):
        if subprocess.run(command, capture_output=True).returncode != 0:
            pytest.skip("root without mount: no read-only folder can be made here")


def test_hostile_read_only_site_folder(portal: Path, read_only: Path) -> None:
    site = read_only / "site"
    build_site(portal / "mkdocs.yml", site)
    before = digest(site)
    make_read_only(read_only)
    line = assert_refused(cli_build(portal, "--site-dir", str(site)), "cannot write the site")
    assert "Read-only file system" in line or "Permission denied" in line
    assert digest(site) == before
    with pytest.raises(SiteNotWritable):
        build_site(portal / "mkdocs.yml", site)


def test_hostile_site_folder_under_a_file(portal: Path) -> None:
    line = assert_refused(cli_build(portal, "--site-dir", "mkdocs.yml/site"), "cannot write")
    assert "Not a directory" in line or "File exists" in line
    assert (portal / "mkdocs.yml").is_file()


@pytest.mark.parametrize("site_dir", [".", "..", ".git", ".git/site"])
def test_hostile_site_dir_over_the_portal(portal: Path, site_dir: str) -> None:
    """A swap into these would replace the repository itself: refused before any write."""
    before = sorted(p.name for p in portal.iterdir())
    head = (portal / ".git/HEAD").read_text()
    assert_refused(cli_build(portal, "--site-dir", site_dir), "holds the portal's own files")
    assert sorted(p.name for p in portal.iterdir()) == before
    assert (portal / ".git/HEAD").read_text() == head


@pytest.mark.parametrize("kind", ["file", "link"])
def test_hostile_site_that_is_not_a_folder(portal: Path, tmp_path: Path, kind: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    if kind == "file":
        (portal / "site").write_text("not a site")
    else:
        (portal / "site").symlink_to(elsewhere)
    with pytest.raises(SiteNotWritable):
        build_site(portal / "mkdocs.yml")
    assert (elsewhere / "keep.txt").read_text() == "mine"
    assert (portal / "site").is_symlink() or (portal / "site").read_text() == "not a site"


def test_hostile_invalid_data_leaves_no_staging_folder(
    portal: Path, old_site: tuple[Path, dict[str, str]]
) -> None:
    site, before = old_site
    replace_in(portal / "datasets/air-quality/data/stations.csv", "40.4234", "north")
    assert_refused(cli_build(portal), "not valid, so nothing was published", code=1)
    assert_untouched(site, before)


def test_hostile_leftovers_of_a_killed_build_are_cleared(
    portal: Path, old_site: tuple[Path, dict[str, str]]
) -> None:
    """A build killed mid-swap left the old site set aside and a staging folder behind."""
    site, before = old_site
    site.rename(site.with_name(".site.old"))
    (portal / ".site.k1ll3d_x").mkdir()
    (portal / ".site.k1ll3d_x/index.html").write_text("half")
    replace_in(portal / "mkdocs.yml", "custom_dir: theme", "custom_dir: nowhere")
    assert_refused(cli_build(portal), "custom_dir")
    assert_untouched(site, before)  # the set-aside site is back, the staging folder gone


def test_hostile_concurrent_builds(portal: Path) -> None:
    """Three real processes build the same site at once: each waits its turn."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "civicgen", "build"]
    runs = [
        subprocess.Popen(
            command, cwd=portal, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    results = [(run.wait(timeout=600), run.stderr.read().decode()) for run in runs]  # type: ignore[union-attr]
    assert [code for code, _ in results] == [0, 0, 0], results
    site = portal / "site"
    files = digest(site)
    manifest = dict(
        reversed(line.split("  ", 1)) for line in (site / "SHA256SUMS").read_text().splitlines()
    )
    assert {k: v for k, v in files.items() if k != "SHA256SUMS"} == manifest
    assert "datasets/madrid-budget/index.html" in manifest
    assert leftovers(site) == []


def test_hostile_page_not_utf8(portal: Path, old_site: tuple[Path, dict[str, str]]) -> None:
    site, before = old_site
    (portal / "content/index.md").write_bytes(b"\xff\xfe not UTF-8 \x80")
    assert_refused(cli_build(portal), "Error reading page 'index.md'", "save the file as UTF-8")
    assert_untouched(site, before)


def test_unexpected_fault_is_one_line_not_a_traceback(
    portal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault civicgen did not foresee still ends in one line and exit 2 (CLI only)."""

    def crash(*args: object) -> None:
        raise RuntimeError("the unforeseen\nover two lines")

    monkeypatch.setattr("civicgen.build.build_site", crash)
    result = CliRunner().invoke(main, ["build", "-f", str(portal / "mkdocs.yml")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: civicgen stopped unexpectedly (RuntimeError: the unforeseen over two lines); "
        "run again with --debug to see where, and report it"
    ]


def test_build_faults_carry_stable_codes() -> None:
    codes = {cls.code for cls in (BuildFault, *BuildFault.__subclasses__())}
    assert codes == {
        "build-failed",
        "site-config",
        "theme-template",
        "site-not-writable",
        "disk-full",
        "build-busy",
        "invalid-data",
        "translation-catalogue",
        "unknown-language",
    }
