"""Build-cost curve: civicgen build against plain MkDocs + mkdocs-material, at k× the example.

For each scale k (default 1, 10, 100) the example city is copied into a temporary folder
and grown to k× its records: k× proposals (new files, new ids), k× budget lines (under new
programme codes and, on every other copy, under existing programmes with new economic
codes), k× tools and k× sensor stations (each with a copy of the readings), committed to a
real git repository (pygit2) and checked with `civicgen validate`. Then, in interleaved
rounds, each as users run it (its own process, `python -m civicgen build`):

- civicgen validate, cold: the data alone (no pages), for what the data costs;
- civicgen build, cold: no cache, no site;
- civicgen rebuild after one proposal file changed and was committed (the cache kept);
- plain `mkdocs build` of the same pages: every page and file civicgen handed MkDocs
  (dumped once by a MkDocs hook), with the same theme, nav and markdown_extensions,
  without the civicgen plugin.

Reported per build: median seconds (min–max), peak resident memory of the whole process
tree (every descendant's RSS summed, sampled every 50 ms from /proc), the ratio to the
plain build, and milliseconds per HTML page, so that linearity can be judged.

    python benchmarks/build.py [--scales 1 10 100] [--rounds 3] [--large-rounds 1]
                               [--json result.json] [--markdown benchmarks/RESULTS-build.md]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import PORTAL_PARTS, commit_all  # noqa: E402

LARGE = 100  # from this scale on, --large-rounds rounds
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
DUMP_HOOK = '''\
"""Writes every page and file the civicgen plugin hands MkDocs, for the plain build: one
folder per MkDocs build (civicgen builds each language in its own), with what the plugin set
in the configuration (language, nav, site name, extra, stylesheets)."""
import json
import os
import time
from pathlib import Path

from mkdocs.plugins import event_priority

OUT = Path(os.environ["CIVICGEN_BENCH_DUMP"])


@event_priority(-1000)
def on_files(files, config):
    OUT.mkdir(parents=True, exist_ok=True)
    index = f"{os.getpid()}-{time.monotonic_ns()}"  # languages may build side by side
    docs = os.path.realpath(config.docs_dir)
    for file in files:
        mine = file.src_dir is not None and os.path.realpath(file.src_dir) == docs
        if getattr(file, "generated_by", None) or mine:
            target = OUT / f"docs-{index}" / file.src_uri
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.content_bytes)
    build = {
        "docs_dir": f"docs-{index}",
        "site_dir": os.path.realpath(config.site_dir),
        "site_name": config.site_name,
        "site_description": config.site_description,
        "nav": config.nav,
        "theme_language": config.theme["language"],
        "extra": dict(config.extra),
        "extra_css": [str(item) for item in config.extra_css],
        "extra_javascript": [str(item) for item in config.extra_javascript],
    }
    (OUT / f"build-{index}.json").write_text(json.dumps(build, default=str))
    return files
'''


# --- the scaled repository -----------------------------------------------------------------


@dataclass
class Counts:
    """What the scaled repository holds (data rows, not counting headers)."""

    proposals: int = 0
    tools: int = 0
    budget_lines: int = 0
    programmes: int = 0
    stations: int = 0
    readings: int = 0


def descriptors(portal: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(folder, descriptor) of every data package in the portal."""
    for path in sorted(portal.rglob("datapackage.json")):
        if ".git" not in path.parts:
            yield path.parent, json.loads(path.read_text(encoding="utf-8"))


def profile_of(descriptor: dict[str, Any]) -> str:
    return (descriptor.get("civicgen") or {}).get("profile", "")


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as source:
        header, *rows = list(csv.reader(source))
    return header, rows


def write_rows(path: Path, header: list[str], rows: Iterator[list[str]] | list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# records: proposals (Markdown front matter) and tools (YAML), one file per record


def record_files(folder: Path, resource: dict[str, Any]) -> list[Path]:
    pattern = resource["civicgen"]["records"]["pattern"]
    return sorted(path for path in folder.glob(pattern) if path.is_file())


def renamed(text: str, key: str, copy: int, limit: int) -> str:
    """The record's text with ` (copy N)` added to its `key:` line (quoted or not)."""
    found = re.search(rf"^{key}: ?(.*)$", text, re.MULTILINE)
    if found is None:
        return text
    value, suffix = found.group(1).rstrip(), f" (copy {copy})"
    quote = value[0] if value[:1] in "\"'" and len(value) > 1 and value[-1] == value[0] else ""
    inner = value[1:-1] if quote else value
    inner = inner[: max(1, limit - len(suffix))] + suffix
    return text[: found.start(1)] + f"{quote}{inner}{quote}" + text[found.end(1) :]


def scale_records(folder: Path, resource: dict[str, Any], k: int, key: str, limit: int) -> int:
    """k copies of every record file, each with a new file name (its id) and a distinct key."""
    originals = record_files(folder, resource)
    for copy in range(1, k):
        for path in originals:
            text = renamed(path.read_text(encoding="utf-8"), key, copy, limit)
            target = path.with_name(f"{path.stem}-x{copy}{path.suffix}")
            target.write_text(text, encoding="utf-8")
    return len(originals) * k


def max_length(resource: dict[str, Any], name: str, default: int = 80) -> int:
    for spec in resource["schema"]["fields"]:
        if spec["name"] == name:
            return (spec.get("constraints") or {}).get("maxLength", default)
    return default


# budget: more lines under new programmes, and under existing programmes with new economic codes


class CodeAllocator:
    """New codes of the same length and first character as a given code, never used before."""

    def __init__(self, used: set[str]) -> None:
        self.used = set(used)
        self.next: dict[tuple[str, int], int] = {}

    def new(self, like: str) -> str:
        width = len(like) - 1
        start = self.next.get((like[0], width), 0)
        for number in range(start, 10**width):
            code = like[0] + f"{number:0{width}d}"
            if code not in self.used:
                self.used.add(code)
                self.next[(like[0], width)] = number + 1
                return code
        raise ValueError(f"no free code left like {like!r}; use a smaller scale")


@dataclass
class BudgetShape:
    """Which columns the budget copy rewrites, read from the package's budget options."""

    lines: dict[str, Any]
    functional: str
    functional_label: str | None
    economic: str
    economic_label: str | None
    reference: tuple[str, str] | None = None  # (resource, field) the functional code refers to


def budget_shape(descriptor: dict[str, Any]) -> BudgetShape:
    options = descriptor["civicgen"]["budget"]
    classes, labels = options["classifications"], options.get("labels", {})
    functional, economic = classes["functional"][-1], classes["economic"][-1]
    lines = next(r for r in descriptor["resources"] if functional in field_names(r))
    shape = BudgetShape(lines, functional, labels.get(functional), economic, labels.get(economic))
    for key in lines["schema"].get("foreignKeys", []):
        if as_list(key["fields"]) == [functional]:
            shape.reference = (key["reference"]["resource"], as_list(key["reference"]["fields"])[0])
    return shape


def field_names(resource: dict[str, Any]) -> list[str]:
    return [spec["name"] for spec in (resource.get("schema") or {}).get("fields", [])]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def resource_path(folder: Path, descriptor: dict[str, Any], name: str) -> Path:
    resource = next(r for r in descriptor["resources"] if r["name"] == name)
    return folder / resource["path"]


def budget_copy(shape: BudgetShape, header: list[str], rows: list[list[str]], copy: int,
                codes: CodeAllocator) -> tuple[list[list[str]], dict[str, tuple[str, str]]]:  # fmt: skip
    """One copy of the lines: odd copies under new programmes, even ones under new economic
    codes (existing programmes). Returns the rows and the new programmes (code → (old, label))."""
    column = shape.functional if copy % 2 else shape.economic
    label = shape.functional_label if copy % 2 else shape.economic_label
    at, label_at = header.index(column), header.index(label) if label in header else None
    mapping: dict[str, str] = {}
    out = []
    for row in rows:
        row = list(row)
        old = row[at]
        row[at] = mapping.get(old) or mapping.setdefault(old, codes.new(old))
        if label_at is not None:
            row[label_at] = f"{row[label_at]} ({copy})"[:200]
        out.append(row)
    new_programmes = {new: (old, f"({copy})") for old, new in mapping.items()} if copy % 2 else {}
    return out, new_programmes


def scale_budget(folder: Path, descriptor: dict[str, Any], k: int) -> tuple[int, int]:
    """k× the budget lines; the new programmes added to the table the lines refer to."""
    shape = budget_shape(descriptor)
    path = folder / shape.lines["path"]
    header, rows = read_rows(path)
    used = {row[header.index(c)] for row in rows for c in (shape.functional, shape.economic)}
    codes, programmes, lines = CodeAllocator(used), {}, list(rows)
    for copy in range(1, k):
        more, new_programmes = budget_copy(shape, header, rows, copy, codes)
        lines += more
        programmes.update(new_programmes)
    write_rows(path, header, lines)
    return len(lines), add_programmes(folder, descriptor, shape, programmes)


def add_programmes(folder: Path, descriptor: dict[str, Any], shape: BudgetShape,
                   programmes: dict[str, tuple[str, str]]) -> int:  # fmt: skip
    """Rows for the new programmes in the referenced table (its label gets the copy mark)."""
    if shape.reference is None:
        return 0
    path = resource_path(folder, descriptor, shape.reference[0])
    header, rows = read_rows(path)
    key = header.index(shape.reference[1])
    by_code = {row[key]: row for row in rows}
    for new, (old, mark) in sorted(programmes.items()):
        row = [
            f"{cell} {mark}" if i != key and cell else cell for i, cell in enumerate(by_code[old])
        ]
        row[key] = new
        rows.append(row)
    write_rows(path, header, rows)
    return len(rows)


# sensors: k× stations, each new station with a copy of an existing station's readings


def scale_stations(folder: Path, descriptor: dict[str, Any], k: int) -> tuple[int, int]:
    options = descriptor["civicgen"]["sensor"]
    stations_name, station_field = options["stations"], options["station"]
    stations_path = resource_path(folder, descriptor, stations_name)
    header, stations = read_rows(stations_path)
    key = header.index(station_resource_key(descriptor, stations_name))
    copies = [station_copy(header, row, key, copy) for copy in range(1, k) for row in stations]
    write_rows(stations_path, header, stations + copies)
    readings = next(r for r in descriptor["resources"] if r["name"] != stations_name)
    readings_path = folder / readings["path"]
    header, rows = read_rows(readings_path)
    at = header.index(station_field)
    more = [
        [*row[:at], f"{row[at]}-x{copy}", *row[at + 1 :]] for copy in range(1, k) for row in rows
    ]
    write_rows(readings_path, header, rows + more)
    return len(stations) + len(copies), len(rows) + len(more)


def station_resource_key(descriptor: dict[str, Any], name: str) -> str:
    resource = next(r for r in descriptor["resources"] if r["name"] == name)
    return as_list(resource["schema"]["primaryKey"])[0]


def station_copy(header: list[str], row: list[str], key: int, copy: int) -> list[str]:
    """The station under a new id and name, moved a few metres (latitude/longitude kept valid)."""
    out = list(row)
    out[key] = f"{row[key]}-x{copy}"
    for i, name in enumerate(header):
        if name == "name":
            out[i] = f"{row[i]} ({copy})"
        elif name in ("latitude", "longitude") and row[i]:
            out[i] = f"{float(row[i]) + copy * 1e-4:.5f}"
    return out


# the whole repository


def copy_portal(target: Path) -> Path:
    """The example city's portal files, as tests/conftest.py knows them."""
    target.mkdir(parents=True)
    for part in PORTAL_PARTS:
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target / part)
    return target


def scale_portal(target: Path, k: int) -> Counts:
    """The example city at k× its records, committed to a fresh git repository at target."""
    import pygit2

    copy_portal(target)
    counts = Counts()
    for folder, descriptor in descriptors(target):
        scale_package(folder, descriptor, k, counts)
    allow_groups(target / "mkdocs.yml", GROUPS_PER_SCALE * k)
    pygit2.init_repository(str(target))
    commit_all(target, f"The example city at {k}x")
    return counts


GROUPS_PER_SCALE = 20_000  # the example's most groups in one table (its budget lines), rounded up


def allow_groups(config: Path, groups: int) -> None:
    """As a city with this much data does: raise the limit on one table's statistics groups
    (limits.groups, 500,000 by default) when the scaled tables need more."""
    from civicgen.limits import Limits

    if groups <= Limits().groups:
        return
    text = config.read_text(encoding="utf-8")
    plugin = "  - civicgen:\n"
    assert plugin in text and "limits:" not in text, "the example's civicgen options changed"
    limits = f"      limits:\n        groups: {groups}\n"
    config.write_text(text.replace(plugin, plugin + limits, 1), encoding="utf-8")


def scale_package(folder: Path, descriptor: dict[str, Any], k: int, counts: Counts) -> None:
    profile = profile_of(descriptor)
    if profile == "proposals":
        resource = descriptor["resources"][0]
        limit = max_length(resource, "title", 120)
        counts.proposals = scale_records(folder, resource, k, "title", limit)
    elif profile == "catalog":
        resource = descriptor["resources"][0]
        counts.tools = scale_records(folder, resource, k, "name", max_length(resource, "name"))
    elif profile == "budget":
        counts.budget_lines, counts.programmes = scale_budget(folder, descriptor, k)
    elif profile == "sensor":
        counts.stations, counts.readings = scale_stations(folder, descriptor, k)


def civicgen_env(cache: Path) -> dict[str, str]:
    """This tree's civicgen (not an installed one), with a cache folder of the benchmark's own."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "XDG_CACHE_HOME": str(cache)}


def civicgen(*args: str) -> list[str]:
    return [sys.executable, "-m", "civicgen", *args]


def check_valid(portal: Path, env: dict[str, str]) -> None:
    """`civicgen validate` on the scaled repository; SystemExit with its report if invalid."""
    done = subprocess.run(civicgen("validate"), cwd=portal, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(
            f"the scaled repository is not valid:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )


# --- timing and peak memory of a whole process tree ----------------------------------------


def children_of() -> dict[int, list[int]]:
    """Every process's children, from /proc/*/stat."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_memory(root: int) -> int:
    """Bytes of memory root and all its descendants hold now: each process's proportional set
    size (a page a forked process shares with its parent counts once, split between them),
    or its resident set where the kernel gives no smaps_rollup."""
    tree, todo, total = children_of(), [root], 0
    while todo:
        pid = todo.pop()
        todo += tree.get(pid, [])
        try:
            total += proportional_size(pid)
        except (OSError, IndexError, ValueError):
            continue
    return total


def proportional_size(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    pss = next(line for line in rollup.splitlines() if line.startswith("Pss:"))
    return int(pss.split()[1]) * 1024


@dataclass
class Run:
    seconds: float
    peak_mib: float
    cpu_seconds: float  # user + system of the whole process tree


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(command: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """Wall time and CPU time of the command in its own process, and the peak RSS of its
    process tree."""
    start, cpu = time.perf_counter(), cpu_of_children()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_memory(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({process.returncode}):\n{(out + err).decode()[-3000:]}"
        )
    return Run(seconds, peak[0] / 2**20, cpu_of_children() - cpu)


# --- the plain MkDocs project of the same pages --------------------------------------------


@contextmanager
def dumping(portal: Path, work: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A copy of mkdocs.yml with the dump hook, beside it, for the time of one build:
    yields its name and the environment the hook needs."""
    hook = work / "dump_hook.py"
    work.mkdir(parents=True, exist_ok=True)
    hook.write_text(DUMP_HOOK, encoding="utf-8")
    config = portal / ".bench-dump.yml"
    text = (portal / "mkdocs.yml").read_text(encoding="utf-8")
    config.write_text(f"{text.rstrip()}\nhooks:\n  - {json.dumps(str(hook))}\n", encoding="utf-8")
    try:
        yield config.name, {"CIVICGEN_BENCH_DUMP": str(work / "dump")}
    finally:
        config.unlink()


def dump_pages(portal: Path, work: Path, env: dict[str, str]) -> Path:
    """Every page and file civicgen hands MkDocs, written out by a hook during one build."""
    with dumping(portal, work) as (config, extra):
        command = civicgen("build", "-f", config, "-d", str(work / "dump-site"))
        done = subprocess.run(
            command, cwd=portal, env={**env, **extra}, capture_output=True, text=True
        )
    shutil.rmtree(work / "dump-site", ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"civicgen build of the scaled repository failed:\n{done.stderr[-3000:]}")
    return work / "dump"


def without_civicgen(plugins: Any) -> list[Any]:
    """The portal's plugins, minus civicgen's."""
    entries = plugins or []
    if isinstance(entries, dict):
        entries = [{name: options} for name, options in entries.items()]
    return [e for e in entries if (e if isinstance(e, str) else next(iter(e))) != "civicgen"]


def plain_project(portal: Path, work: Path, env: dict[str, str], dumped: bool = False) -> Path:
    """A MkDocs project of the same pages: same theme, nav and extensions; no civicgen plugin.
    One configuration per MkDocs build civicgen ran (one per language), the default language
    first (civicgen builds it in <workspace>/site, each other in <workspace>/languages/<lang>).
    dumped: a build already wrote the pages (see dumping), else one is run."""
    dump = work / "dump" if dumped else dump_pages(portal, work, env)
    base = yaml.safe_load((portal / "mkdocs.yml").read_text(encoding="utf-8"))
    builds = [json.loads(p.read_text()) for p in dump.glob("build-*.json")]
    if not builds:
        raise SystemExit("the dump build handed MkDocs no files; is the civicgen plugin enabled?")
    builds.sort(key=lambda build: (len(Path(build["site_dir"]).parts), build["site_dir"]))
    for index, build in enumerate(builds):
        site = dump / "site" / (Path(build["site_dir"]).name if index else "")
        config = plain_config(base, build, portal, site.resolve())
        text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
        (dump / f"mkdocs-{index}.yml").write_text(text, encoding="utf-8")
    return dump


def number(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


def plain_config(base: dict[str, Any], build: dict[str, Any], portal: Path, site: Path) -> dict:
    """mkdocs.yml minus civicgen, with what the plugin set for this build."""
    config = dict(base, docs_dir=build["docs_dir"], site_dir=str(site))
    config["plugins"] = without_civicgen(base.get("plugins"))
    config.pop("watch", None)
    for key in ("site_name", "site_description", "nav", "extra", "extra_css", "extra_javascript"):
        if build.get(key) is not None:
            config[key] = build[key]
    theme = dict(config.get("theme") or {})
    if theme.get("custom_dir"):
        theme["custom_dir"] = str(portal / theme["custom_dir"])
    if build.get("theme_language"):
        theme["language"] = build["theme_language"]
    config["theme"] = theme
    return config


PLAIN_DRIVER = """import subprocess, sys
for config in sys.argv[1:]:
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", config], check=True)
"""


def plain_command(plain: Path) -> list[str]:
    """`mkdocs build` of each language's configuration in turn (the default language first)."""
    configs = [str(p) for p in sorted(plain.glob("mkdocs-*.yml"), key=number)]
    if len(configs) == 1:
        return [sys.executable, "-m", "mkdocs", "build", "-q", "-f", configs[0]]
    return [sys.executable, "-c", PLAIN_DRIVER, *configs]


# --- one scale -----------------------------------------------------------------------------


VALIDATE, COLD, REBUILD, PLAIN = BUILDS = (
    "civicgen validate, cold (the data alone)",
    "civicgen build, cold",
    "civicgen rebuild, one file changed",
    "plain mkdocs build",
)


@dataclass
class Scale:
    scale: int
    counts: Counts
    pages: int = 0  # HTML pages civicgen wrote
    plain_pages: int = 0
    markdown_pages: int = 0
    runs: dict[str, list[Run]] = field(default_factory=lambda: {name: [] for name in BUILDS})


def edit_one_proposal(portal: Path, round_: int) -> None:
    """One proposal record changed (a sentence appended to its text), then committed."""
    folder = next((f for f, d in descriptors(portal) if profile_of(d) == "proposals"), None)
    if folder is None:
        raise SystemExit("the portal has no proposals package to change one file of")
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    path = record_files(folder, descriptor["resources"][0])[0]
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"\nUpdated in round {round_ + 1} of the benchmark.\n")
    commit_all(portal, f"Proposal {path.stem} updated")


def one_round(portal: Path, work: Path, result: Scale, say: Callable, quick: bool) -> Path:
    """Each command once: cold build, plain MkDocs, one-file rebuild, cold validate (it must
    pass: the scaled repository is valid; the build before refuses invalid data too).
    quick (a large scale): the first cold build also writes the pages for the plain build,
    and validate is not timed. Returns the plain project."""
    cache, site = work / "cache", portal / "site"
    env = civicgen_env(cache)
    round_ = len(result.runs[PLAIN])

    def run(name: str, command: list[str], cwd: Path, extra: dict[str, str] | None = None) -> None:
        result.runs[name].append(measured(command, cwd, {**env, **(extra or {})}))
        last = result.runs[name][-1]
        say(f"{result.scale}x round {round_ + 1}: {name}: {last.seconds:.1f} s wall, "
            f"{last.cpu_seconds:.1f} s CPU, {last.peak_mib:.0f} MiB")  # fmt: skip

    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(site, ignore_errors=True)
    dumped = (work / "dump").is_dir()
    if quick and not dumped:
        with dumping(portal, work) as (config, extra):
            run(COLD, civicgen("build", "-f", config), portal, extra)
    else:
        run(COLD, civicgen("build"), portal)
    plain = plain_project(portal, work, env, dumped=quick or dumped)
    result.markdown_pages = sum(1 for _ in plain.glob("docs-*/**/*.md"))
    shutil.rmtree(plain / "site", ignore_errors=True)
    run(PLAIN, plain_command(plain), plain)
    edit_one_proposal(portal, round_)
    run(REBUILD, civicgen("build"), portal)  # the cold build's cache kept
    if not quick:
        shutil.rmtree(cache, ignore_errors=True)
        run(VALIDATE, civicgen("validate"), portal)
    return plain


def html_pages(site: Path) -> int:
    return sum(1 for _ in site.rglob("*.html"))


def run_scale(k: int, rounds: int, tmp: Path, say: Callable[[str], None], quick: bool) -> Scale:
    work = tmp / f"x{k}"
    work.mkdir()
    portal = work / "city"
    started = time.perf_counter()
    result = Scale(k, scale_portal(portal, k))
    if not quick:
        plain_project(portal, work, civicgen_env(work / "cache"))
    say(f"{k}x: ready in {time.perf_counter() - started:.0f} s: {result.counts}")
    for _ in range(rounds):
        plain = one_round(portal, work, result, say, quick)
    result.pages, result.plain_pages = html_pages(portal / "site"), html_pages(plain / "site")
    result.runs = {name: runs for name, runs in result.runs.items() if runs}
    shutil.rmtree(work, ignore_errors=True)
    return result


# --- report --------------------------------------------------------------------------------


def median(runs: list[Run], attribute: str) -> float:
    return statistics.median(getattr(run, attribute) for run in runs)


def summary(result: Scale) -> dict[str, Any]:
    base = median(result.runs[PLAIN], "seconds")
    base_cpu = median(result.runs[PLAIN], "cpu_seconds")
    builds = {}
    for name, runs in result.runs.items():
        seconds, cpu = median(runs, "seconds"), median(runs, "cpu_seconds")
        builds[name] = {
            "seconds": round(seconds, 3),
            "min": round(min(r.seconds for r in runs), 3),
            "max": round(max(r.seconds for r in runs), 3),
            "cpu_seconds": round(cpu, 3),
            "peak_mib": round(median(runs, "peak_mib"), 1),
            "vs_plain": round(seconds / base, 2),
            "cpu_vs_plain": round(cpu / base_cpu, 2) if base_cpu else None,
            "ms_per_page": round(1000 * seconds / max(result.pages, 1), 2),
            "cpu_ms_per_page": round(1000 * cpu / max(result.pages, 1), 2),
            "rounds": len(runs),
            "runs": [
                [round(r.seconds, 3), round(r.cpu_seconds, 3), round(r.peak_mib, 1)] for r in runs
            ],
        }
    return {"scale": result.scale, "counts": asdict(result.counts), "html_pages": result.pages,
            "plain_html_pages": result.plain_pages, "markdown_pages": result.markdown_pages,
            "builds": builds}  # fmt: skip


def table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| scale | HTML pages | build | wall s, median (min–max) | CPU s | peak MiB "
        "| × plain (wall) | × plain (CPU) | CPU ms / page |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for item in results:
        for name, b in item["builds"].items():
            spread = f" ({b['min']:.1f}–{b['max']:.1f})" if b["rounds"] > 1 else " (1 round)"
            lines.append(
                f"| {item['scale']}× | {item['html_pages']} | {name} | {b['seconds']:.2f}{spread} "
                f"| {b['cpu_seconds']:.1f} | {b['peak_mib']:.0f} | {b['vs_plain']:.2f} "
                f"| {b['cpu_vs_plain']:.2f} | {b['cpu_ms_per_page']:.1f} |"
            )
    return lines


def added_cost(low: dict[str, Any], high: dict[str, Any], name: str) -> float:
    return high["builds"][name]["cpu_seconds"] - low["builds"][name]["cpu_seconds"]


def marginal(results: list[dict[str, Any]]) -> list[str]:
    """CPU cost of each added page between consecutive scales: flat if the curve is linear."""
    lines = []
    for low, high in pairwise(results):
        added = high["html_pages"] - low["html_pages"]
        if added <= 0:
            continue
        names = [name for name in BUILDS if name in low["builds"] and name in high["builds"]]
        parts = [f"{name}: {1000 * added_cost(low, high, name) / added:.1f} ms" for name in names]
        lines.append(
            f"- {low['scale']}× → {high['scale']}× ({added:+d} pages), per added page: "
            + "; ".join(parts)
        )
    return lines


def report(results: list[dict[str, Any]]) -> str:
    head = (
        f"`python benchmarks/build.py`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores; whole "
        "processes (Python start-up included), median of interleaved rounds; CPU = user + system "
        "time of the process tree (less sensitive than wall time to a shared machine's load); "
        "peak = RSS of the process tree."
    )
    counts = [f"- {r['scale']}×: {r['counts']}; {r['markdown_pages']} Markdown pages handed to "
              f"MkDocs; plain build wrote {r['plain_html_pages']} HTML pages" for r in results]  # fmt: skip
    parts = ["# Build-cost curve", "", head, "", *table(results), "", "Marginal CPU cost:", "",
             *marginal(results), "", "Repositories:", "", *counts]  # fmt: skip
    return "\n".join(parts) + "\n"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, default=3, help="rounds below 100x")
    parser.add_argument("--large-rounds", type=int, default=1, help="rounds at 100x and over")
    parser.add_argument(
        "--quick-large",
        action="store_true",
        help="at 100x and over: the cold build also writes the pages for the plain build "
        "(no separate build for them) and validate is not timed",
    )
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the report (Markdown) here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    results = []
    with tempfile.TemporaryDirectory(prefix="civicgen-bench-") as tmp:
        for k in args.scales:
            rounds = args.large_rounds if k >= LARGE else args.rounds
            quick = args.quick_large and k >= LARGE
            results.append(summary(run_scale(k, rounds, Path(tmp), say, quick)))
            write(results, args)  # after each scale: a long run leaves what it measured
    sys.stdout.write(report(results))


def write(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    if args.markdown:
        args.markdown.write_text(report(results), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
