"""Search benchmark: Pagefind's index size and query time, on the example city and on a copy
with ~2,000 pages (generated proposals, fixed seed), in headless Chromium.

    python benchmarks/search.py [proposals]     # default 1950 generated proposals

Prints, per site: pages indexed, the bundle's size and files, the time Pagefind took, the
first (cold: loads the WebAssembly and the index metadata) and later (warm) query times
through Pagefind's JavaScript API, and what the search page and the queries downloaded.
"""

from __future__ import annotations

import functools
import http.server
import json
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
WORDS = ["budget", "Decidim", "Alcala", "sensors", "playground"]
QUERY = """async (words) => {
  const pf = await import('/pagefind/pagefind.js');
  await pf.options({baseUrl: '/'});
  const out = [];
  for (const w of words) {
    const t = performance.now();
    const r = await pf.search(w);
    await Promise.all(r.results.slice(0, 5).map(x => x.data()));
    out.push([w, r.results.length, Math.round(performance.now() - t)]);
  }
  return out;
}"""


def grow(portal: Path, count: int) -> None:
    """count more proposals, each a copy of an example one with a new title and words."""
    records = sorted((portal / "datasets/proposals/records").glob("*.md"))
    texts = [r.read_text(encoding="utf-8") for r in records]
    words = sorted(set(re.findall(r"[A-Za-zÁÉÍÓÚáéíóúñ]{4,}", " ".join(texts))))
    rng = random.Random(2026)
    for i in range(count):
        head, body = texts[i % len(texts)].split("\n---\n", 1)
        title = f"title: Proposal {i} " + " ".join(rng.sample(words, 5))
        head = re.sub(r"^title: .*$", title[:110], head, flags=re.M)
        extra = " ".join(rng.choice(words) for _ in range(120))
        path = portal / f"datasets/proposals/records/pb-gen-{i:05d}.md"
        path.write_text(f"{head}\n---\n{body}\n{extra}.\n", encoding="utf-8")


def bundle(site: Path) -> tuple[int, int, int]:
    files = [p for p in (site / "pagefind").rglob("*") if p.is_file()]
    entry = json.loads((site / "pagefind/pagefind-entry.json").read_text())
    pages = sum(language["page_count"] for language in entry["languages"].values())
    return pages, sum(p.stat().st_size for p in files), len(files)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def in_chromium(site: Path) -> tuple[list[list[object]], int, int]:
    from conftest import CHROMIUM, CHROMIUM_FLAGS
    from playwright.sync_api import sync_playwright

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sizes: list[int] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        tab = browser.new_page()
        tab.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"]))
        tab.goto(f"http://127.0.0.1:{server.server_address[1]}/search/", wait_until="networkidle")
        page_bytes, loaded = sum(sizes), len(sizes)
        times = tab.evaluate(QUERY, WORDS)
        browser.close()
    server.shutdown()
    return times, page_bytes, sum(sizes[loaded:])


def measure(name: str, portal: Path) -> None:
    from civicgen.build import build_site
    from civicgen.search import index_site

    site = build_site(portal / "mkdocs.yml", portal / "site")
    shutil.rmtree(site / "pagefind")
    start = time.perf_counter()
    index_site(site)
    seconds = time.perf_counter() - start
    pages, size, files = bundle(site)
    times, page_bytes, query_bytes = in_chromium(site)
    print(f"## {name}: {pages} pages indexed in {seconds:.1f} s")
    print(f"bundle: {size / 1024:.0f} KiB in {files} files")
    print(
        f"search page: {page_bytes / 1024:.0f} KiB; the {len(WORDS)} queries: {query_bytes / 1024:.0f} KiB"
    )
    print("queries (word, results, ms; the first is cold):", times)


def main() -> None:
    from conftest import commit_all, make_portal

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1950
    with tempfile.TemporaryDirectory() as folder:
        portal = make_portal(Path(folder) / "example")
        measure("example city", portal)
        big = make_portal(Path(folder) / "big")
        grow(big, count)
        commit_all(big, "Generated proposals")
        measure(f"example city + {count} proposals", big)


if __name__ == "__main__":
    main()
