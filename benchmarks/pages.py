"""Time to usable for every page, in headless Chromium, on a warm server: the median of 3 visits each,
two ways: `load` opens the page's URL (a new browser session: the app's scripts load again), `navigate`
clicks the page in the sidebar of an open session (what a reader does most). `fresh`: Home, Heatmaps and Cases
each in a new browser context (median of at least 4), beside a blank one-line Streamlit page on the same
machine (`fresh_vs_blank`: the issue's target is at most 1.5×), and beside two more floors that tell the
app's time from Streamlit's: the blank page with one small plotly chart (`floor_plotly`: Streamlit fetches its
plotly bundle only for a page that draws one), and with one small dataframe (`floor_dataframe`).

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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import ALL_PAGES, APP_READY, ARGS, NOT_RUNNING, AppServer, new_page, paper_store, visit  # noqa: E402


async def navigate(page, base_url: str, name: str) -> float:
    """Click the page in the sidebar of the open session and wait until it is usable; seconds."""
    path, drawn = ALL_PAGES[name]
    start = time.perf_counter()
    await page.locator(f'[data-testid="stSidebarNav"] a[href="{base_url}{path}"]').first.click()
    # st.navigation moves by pushState: no load event to wait for, so wait for the address itself
    await page.wait_for_function("(url) => location.href.split('?')[0] === url", arg=f"{base_url}{path}")
    for selector in drawn:
        await page.locator(selector).first.wait_for()
    await page.wait_for_function(NOT_RUNNING)
    return time.perf_counter() - start


async def measure(base_url: str, repeat: int) -> dict[str, dict[str, list[float]]]:
    from playwright.async_api import async_playwright

    times: dict[str, dict[str, list[float]]] = {"load": {n: [] for n in ALL_PAGES},
                                                "navigate": {n: [] for n in ALL_PAGES}}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        try:
            context, page = await new_page(browser)
            for name in ALL_PAGES:  # warm the server: imports, caches, the first query of each page
                await visit(page, base_url, name)
            for _ in range(repeat):
                for name in ALL_PAGES:
                    times["load"][name].append(await visit(page, base_url, name))
            await page.goto(base_url + "/history")
            await page.wait_for_selector(APP_READY)
            for _ in range(repeat):
                for name in ALL_PAGES:
                    times["navigate"][name].append(await navigate(page, base_url, name))
            await context.close()
        finally:
            await browser.close()
    return times


FRESH = ("home", "heatmaps", "cases")
# One server for the floors: ?with=plotly adds one chart, ?with=dataframe one table (what the app's pages draw).
FLOOR = """import plotly.graph_objects as go
import streamlit as st

st.write("A blank page")
extra = st.query_params.get("with")
if extra == "plotly":
    st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 3, 2])))
elif extra == "dataframe":
    st.dataframe([{"case": i, "label": "helps"} for i in range(100)])
"""
FLOORS = {"blank": ("", None), "floor_plotly": ("?with=plotly", ".js-plotly-plot"),
          "floor_dataframe": ("?with=dataframe", '[data-testid="stDataFrame"]')}


async def fresh_loads(base_url: str, blank_url: str, repeat: int) -> dict[str, list[float]]:
    """Each visit in a new browser context (nothing cached in the browser): Home, Heatmaps, Cases, and the
    floors (FLOORS) on the same machine that they are compared with."""
    from playwright.async_api import async_playwright

    times: dict[str, list[float]] = {name: [] for name in (*FLOORS, *FRESH)}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        try:
            for rep in range(repeat + 1):  # the first round warms the servers, untimed
                for name in times:
                    context, page = await new_page(browser)
                    start = time.perf_counter()
                    if name in FLOORS:
                        query, drawn = FLOORS[name]
                        await page.goto(blank_url + query)
                        await page.get_by_text("A blank page").wait_for()
                        if drawn:
                            await page.locator(drawn).first.wait_for()
                        await page.wait_for_function(NOT_RUNNING)
                        elapsed = time.perf_counter() - start
                    else:
                        elapsed = await visit(page, base_url, name)
                    if rep:
                        times[name].append(elapsed)
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
        (Path(d) / "blank.py").write_text(FLOOR)
        with AppServer({}, Path(d) / "blank.log", script=Path(d) / "blank.py") as blank:
            fresh = asyncio.run(fresh_loads(app.url, blank.url, max(args.repeat, 4)))
        times = asyncio.run(measure(app.url, args.repeat))
    out = {mode: {k: round(statistics.median(v), 3) for k, v in per_page.items()} for mode, per_page in times.items()}
    out["fresh"] = {k: round(statistics.median(v), 3) for k, v in fresh.items()}
    out["fresh_vs_blank"] = {k: round(out["fresh"][k] / out["fresh"]["blank"], 2) for k in (*FRESH, *FLOORS)}
    out["machine"] = {"nproc": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(out) if args.json else "\n".join(
        [f"{name:12s} load {out['load'][name]:.3f} s · navigate {out['navigate'][name]:.3f} s" for name in ALL_PAGES]
        + [f"{name:12s} fresh {out['fresh'][name]:.3f} s ({out['fresh_vs_blank'].get(name, 1.0)}× blank)"
           for name in out["fresh"]]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
