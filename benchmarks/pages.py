"""Time to usable for every page, in headless Chromium, on a warm server: the median of 3 visits each.

A page is usable when its main content is drawn (see ALL_PAGES in load.py) and Streamlit's "running"
indicator is gone. Runs on a private copy of the paper store (BR_DATA_SOURCE, else ../shared/blind-refusal).

    .venv/bin/python benchmarks/pages.py [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import ALL_PAGES, ARGS, AppServer, new_page, paper_store, visit  # noqa: E402


async def measure(base_url: str, repeat: int) -> dict[str, list[float]]:
    from playwright.async_api import async_playwright

    times: dict[str, list[float]] = {name: [] for name in ALL_PAGES}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        try:
            context, page = await new_page(browser)
            for name in ALL_PAGES:  # warm the server: imports, caches, the first query of each page
                await visit(page, base_url, name)
            for _ in range(repeat):
                for name in ALL_PAGES:
                    times[name].append(await visit(page, base_url, name))
            await context.close()
        finally:
            await browser.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="br-pages-") as d, paper_store("sqlite", Path(d)) as (url, _engine), \
            AppServer({"BR_DATABASE_URL": url}, Path(d) / "streamlit.log") as app:
        times = asyncio.run(measure(app.url, args.repeat))
    out = {"median_s": {k: round(statistics.median(v), 3) for k, v in times.items()},
           "all_s": {k: [round(x, 3) for x in v] for k, v in times.items()},
           "machine": {"nproc": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()]}}
    print(json.dumps(out) if args.json else "\n".join(f"{k:12s} {v:.3f} s" for k, v in out["median_s"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
