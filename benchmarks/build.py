"""Build benchmark: civicgen build cold, rebuild after a one-line change, and a plain MkDocs build.

The plain build is MkDocs + mkdocs-material over the very same pages (civicgen's
generated Markdown written out as ordinary files, data files copied), without the
plugin: what the portal costs over a static site generator alone.

    python benchmarks/build.py            # writes benchmarks/RESULTS-build.md
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from civicgen.cache import user_cache_dir

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("content", "datasets", "tools-catalog", "theme", "mkdocs.yml")
RUNS = 3


def copy_portal(target: Path) -> Path:
    target.mkdir(parents=True)
    for part in PARTS:
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target / part)
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=bench",
            "-c",
            "user.email=b@example.org",
            "commit",
            "-qm",
            "bench",
        ],
        cwd=target,
        check=True,
    )
    return target


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def plain_site(portal: Path, built: Path, target: Path) -> Path:
    """The same pages as ordinary Markdown/HTML files for MkDocs without the plugin."""
    from civicgen import validate
    from civicgen.site.env import make_env
    from civicgen.site.inputs import gather
    from civicgen.site.pages import render_site

    docs = target / "docs"
    shutil.copytree(portal / "content", docs)
    for output in render_site(make_env(portal / "theme"), gather(validate([str(portal)]))):
        path = docs / output.uri
        path.parent.mkdir(parents=True, exist_ok=True)
        content = output.content
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    config = yaml.safe_load((portal / "mkdocs.yml").read_text())
    config.update(docs_dir="docs", plugins=["search"])
    config.pop("watch", None)
    config["theme"]["custom_dir"] = str(portal / "theme")
    (target / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    return target


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # a cache of this run's own
        portal = copy_portal(Path(tmp) / "city")
        cold, warm, one_line = [], [], []
        for _ in range(RUNS):
            shutil.rmtree(user_cache_dir(), ignore_errors=True)
            cold.append(timed(["civicgen", "build"], portal))
            warm.append(timed(["civicgen", "build"], portal))
            stations = portal / "datasets/air-quality/data/stations.csv"
            stations.write_text(
                stations.read_text().replace("Matadero", "Matadero Madrid", 1)
                if "Matadero Madrid" not in stations.read_text()
                else stations.read_text().replace("Matadero Madrid", "Matadero", 1)
            )
            one_line.append(timed(["civicgen", "build"], portal))
        plain = plain_site(portal, portal / "site", Path(tmp) / "plain")
        mkdocs = [timed(["mkdocs", "build", "-q"], plain) for _ in range(RUNS)]
        pages = len(list((portal / "site").rglob("*.html")))
    rows = [
        ("civicgen build, cold cache", cold),
        ("civicgen build, warm cache", warm),
        ("civicgen build after a one-line change", one_line),
        ("plain mkdocs build of the same pages", mkdocs),
    ]
    base = statistics.median(mkdocs)
    lines = [
        "# Build benchmark",
        "",
        f"`python benchmarks/build.py`, {time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
        f"{platform.machine()}, {pages} HTML pages, median of {RUNS} runs (whole process, "
        "including Python start-up).",
        "",
        "| build | median s | × plain MkDocs |",
        "|---|---|---|",
    ]
    lines += [
        f"| {name} | {statistics.median(t):.2f} | {statistics.median(t) / base:.2f} |"
        for name, t in rows
    ]
    cold_median, edit_median = statistics.median(cold), statistics.median(one_line)
    lines += [
        "",
        f"A rebuild after a one-line change takes {edit_median / cold_median:.2f}× "
        "the time of a cold build (only the changed file is scanned again).",
    ]
    text = "\n".join(lines) + "\n"
    (Path(__file__).parent / "RESULTS-build.md").write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
