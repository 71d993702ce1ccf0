"""Load: concurrent browser sessions of Heatmaps and Cases against one app server while a spot-check writes.

For each backend (SQLite, PostgreSQL) it imports the paper into a fresh store, starts `streamlit run app.py`
on it, warms the server with one untimed visit to each page, and keeps `python -m blindrefusal spot-check`
(against the local fault server) writing to the same store. Then one chromium opens --sessions browser
contexts at once; each does --rounds rounds of: open / (Home), /heatmaps, /cases. A page's time runs from `goto`
until the page is usable (its content drawn and Streamlit's "running" widget gone); a timeout (120 s), a
navigation error or a Streamlit exception on the page counts as an error, not as a time (the percentiles are
over the pages that became usable). Prints one JSON object per backend (p50 / p95 / max page time, errors,
answers the spot-check stored during the window, nproc and load); never asserts on time.

    .venv/bin/python benchmarks/load.py --json                                       # 20 sessions x 3 rounds
    .venv/bin/python benchmarks/load.py --sessions 4 --rounds 1 --backends sqlite   # a smoke run
    .venv/bin/python benchmarks/load.py --backends postgresql --replicas 1,2 --spot-checks 4 --json

`server_side` gives the app's own script-run times per page inside the window (BR_TIMINGS_FILE, written by
components/timing.py), so the server's time is told apart from the browsers' on a small machine.

Needs Debian's chromium (Playwright never downloads a browser) and, for postgresql, Debian's postgresql
(a throwaway server is started on loopback) or BR_TEST_POSTGRES_URL naming a server whose user may create
databases. The paper release is read from BR_DATA_SOURCE, else ../shared/blind-refusal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tests.support.app_server import AppServer, free_port  # noqa: E402  (after sys.path is set)
from tests.support.browser import ARGS  # noqa: E402  (the browser tests' chromium flags)
from tests.support.fault_server import FaultServerProcess  # noqa: E402
from tests.support.postgres_admin import database_url, drop_database, new_database  # noqa: E402

PAGE_TIMEOUT_S = 120
APP_READY = '[data-testid="stAppViewContainer"]'
EXCEPTION = '[data-testid="stException"]'
NOT_RUNNING = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
# Each page, and what is on it once it is drawn (benchmarks/pages.py times all of them; the load test two).
ALL_PAGES = {
    "home": ("/", ["text=Models on defeated rules", ".js-plotly-plot"]),
    "heatmaps": ("/heatmaps", ["text=Drill down into a cell", ".js-plotly-plot"]),
    "cases": ("/cases", [r"text=/[\d,]+ cases match/", '[data-testid="stDataFrame"]']),
    "agreement": ("/agreement", ["text=Cohen"]),
    "live": ("/live", ["text=Start from a paper case"]),
    "spot_check": ("/spot-check", ["text=Estimate and run"]),
    "history": ("/history", ["text=History"]),
}
PAGES = {name: ALL_PAGES[name] for name in ("home", "heatmaps", "cases")}
SPOT_MODEL = "openai/loadspot;delay=0.3"
FIRST_ERRORS = 5


# --- the store -----------------------------------------------------------------------------------

@contextmanager
def postgres_admin() -> Iterator[str]:
    """An admin URL: BR_TEST_POSTGRES_URL, else a throwaway server (deploy/postgres.sh) stopped after."""
    if os.environ.get("BR_TEST_POSTGRES_URL"):
        yield os.environ["BR_TEST_POSTGRES_URL"]
        return
    script, pg_dir = str(ROOT / "deploy" / "postgres.sh"), tempfile.mkdtemp(prefix="br-load-pg-")
    try:
        out = subprocess.run(["bash", script, "start", pg_dir, str(free_port())], capture_output=True, text=True,
                             timeout=120, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"postgres.sh start failed: {out.stderr.strip()}")
        yield out.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", script, "stop", pg_dir], capture_output=True, timeout=120, check=False)
        shutil.rmtree(pg_dir, ignore_errors=True)


def _imported(url: str):
    """An engine on `url` after the paper has been imported into it."""
    from blindrefusal.paper.importer import import_paper
    from db.engine import open_store

    engine = open_store(url)
    import_paper(os.environ.get("BR_DATA_SOURCE") or str(ROOT.parent / "shared" / "blind-refusal"), engine=engine)
    return engine


@contextmanager
def paper_store(backend: str, tmp: Path) -> Iterator[tuple[str, object]]:
    """(URL, engine) of a fresh store holding the paper; a PostgreSQL database is dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'load.sqlite'}"
        engine = _imported(url)
        try:
            yield url, engine
        finally:
            engine.dispose()
        return
    with postgres_admin() as admin:
        name = new_database(admin)
        engine = None
        try:
            url = database_url(admin, name)
            engine = _imported(url)
            yield url, engine
        finally:
            if engine is not None:
                engine.dispose()
            drop_database(admin, name)


def spot_check_answers(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM response WHERE source = 'spot_check'")).scalar()


# --- the write load ------------------------------------------------------------------------------

class SpotCheckWriter:
    """`python -m blindrefusal spot-check --fresh` back to back in a thread, until the `with` block ends."""

    def __init__(self, store_url: str, api_base: str, model: str = SPOT_MODEL, n: int = 300):
        self.cmd = [sys.executable, "-m", "blindrefusal", "spot-check", "--model", model, "--api-base", api_base,
                    "--n", str(n), "--judge", "distilled", "--fresh", "--json"]
        self.env = {**os.environ, "BR_DATABASE_URL": store_url, "PYTHONPATH": str(ROOT), "TQDM_DISABLE": "1"}
        self.runs_finished = 0
        self.failures: list[str] = []
        self._stopping = False
        self._lock = threading.Lock()  # no new process starts once stopping is set
        self._proc: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                self._proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.PIPE, text=True)
            _, err = self._proc.communicate()
            if self._stopping:
                return
            if self._proc.returncode == 0:
                self.runs_finished += 1
            else:
                self.failures.append((err.strip().splitlines() or [f"exit {self._proc.returncode}"])[-1])

    def __enter__(self) -> SpotCheckWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._stopping = True
            if self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()
        self._thread.join(30)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)


def wait_for_first_answers(engine, timeout_s: float = 120) -> None:
    """Measure only once the writer is storing answers (a cold spot-check process takes a few seconds)."""
    deadline = time.monotonic() + timeout_s
    while spot_check_answers(engine) == 0 and time.monotonic() < deadline:
        time.sleep(0.5)


# --- the browser sessions ------------------------------------------------------------------------

class PageError(Exception):
    """The page rendered a Streamlit exception."""


async def visit(page, base_url: str, name: str) -> float:
    """Open one page and wait until it is usable; its time in seconds."""
    path, drawn = ALL_PAGES[name]
    start = time.perf_counter()
    await page.goto(base_url + path)
    await page.wait_for_selector(APP_READY)
    for selector in drawn:
        await page.locator(selector).or_(page.locator(EXCEPTION)).first.wait_for()
    await page.wait_for_function(NOT_RUNNING)
    elapsed = time.perf_counter() - start
    if await page.locator(EXCEPTION).count():
        raise PageError((await page.locator(EXCEPTION).first.inner_text()).strip().splitlines()[0])
    return elapsed


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"not usable within {PAGE_TIMEOUT_S} s"
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"[:300]


async def new_page(browser):
    context = await browser.new_context(viewport={"width": 1400, "height": 1800})
    context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
    return context, await context.new_page()


async def session(browser, base_url: str, rounds: int, times: dict[str, list[float]], errors: list[str]) -> None:
    context, page = await new_page(browser)
    try:
        for _ in range(rounds):
            for name in PAGES:
                try:
                    times[name].append(await asyncio.wait_for(visit(page, base_url, name), PAGE_TIMEOUT_S))
                except Exception as exc:  # noqa: BLE001 - every failure of a page is a measured error
                    errors.append(f"{name}: {_one_line(exc)}")
    finally:
        await context.close()


async def browse(base_url: str, sessions: int, rounds: int, measure_window) -> tuple[dict[str, list[float]], list[str]]:
    """Warm the server, then run the sessions at once inside `measure_window` (a context manager)."""
    from playwright.async_api import async_playwright

    times: dict[str, list[float]] = {name: [] for name in PAGES}
    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        try:
            context, page = await new_page(browser)
            for name in PAGES:  # warm-up, untimed; a failure here ends the backend's run
                await asyncio.wait_for(visit(page, base_url, name), PAGE_TIMEOUT_S)
            await context.close()
            with measure_window():
                budget = rounds * len(PAGES) * PAGE_TIMEOUT_S + 60
                try:
                    await asyncio.wait_for(asyncio.gather(
                        *(session(browser, base_url, rounds, times, errors) for _ in range(sessions))), budget)
                except TimeoutError:
                    errors.append(f"the sessions did not finish within {budget} s")
        finally:
            await browser.close()
    return times, errors


# --- one backend ---------------------------------------------------------------------------------

def _stats(xs: list[float]) -> dict:
    if not xs:
        return {"n": 0, "p50_s": None, "p95_s": None, "max_s": None}
    p95 = statistics.quantiles(xs, n=100, method="inclusive")[94] if len(xs) > 1 else xs[0]
    return {"n": len(xs), "p50_s": round(statistics.median(xs), 3), "p95_s": round(p95, 3), "max_s": round(max(xs), 3)}


def server_times(path: Path, start: float, end: float) -> dict:
    """p50/p95 of the app's own script runs per page inside the window (components/timing.py writes them)."""
    runs: dict[str, list[float]] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        run = json.loads(line)
        if start <= run["at"] <= end and run["ended"] == "done":
            runs.setdefault(run["page"], []).append(run["s"])
    return {page: _stats(xs) for page, xs in sorted(runs.items())}


@contextmanager
def app_servers(url: str, replicas: int, folder: Path, timings: Path) -> Iterator[str]:
    """The URL to load: one `streamlit run`, or `replicas` of them behind haproxy (deploy/team.py)."""
    env = {"BR_DATABASE_URL": url, "BR_TIMINGS_FILE": str(timings)}
    if replicas == 1:
        with AppServer(env, folder / "streamlit.log") as app:
            yield app.url
        return
    from deploy.team import Team

    with Team(url, replicas=replicas, workers=0, logs=folder, env=env) as team:
        yield team.url


def run_backend(backend: str, sessions: int, rounds: int, api_base: str, replicas: int = 1, writers: int = 1) -> dict:
    load_before = os.getloadavg()
    window: dict = {}
    with tempfile.TemporaryDirectory(prefix="br-load-") as d, paper_store(backend, Path(d)) as (url, engine), \
            app_servers(url, replicas, Path(d), Path(d) / "timings.jsonl") as base_url, ExitStack() as stack:
        spot_writers = [stack.enter_context(SpotCheckWriter(url, api_base, f"{SPOT_MODEL};seed={i}"))
                        for i in range(writers)]

        @contextmanager
        def measure_window():
            wait_for_first_answers(engine)
            answers, start, wall = spot_check_answers(engine), time.perf_counter(), time.time()
            yield
            window["s"] = time.perf_counter() - start
            window["answers"] = spot_check_answers(engine) - answers
            window["server"] = server_times(Path(d) / "timings.jsonl", wall, time.time())

        times, errors = asyncio.run(browse(base_url, sessions, rounds, measure_window))
    all_times = [t for xs in times.values() for t in xs]
    overall = _stats(all_times)
    return {
        "backend": backend, "replicas": replicas, "sessions": sessions, "rounds": rounds, "spot_checks": writers,
        "pages_measured": overall["n"], "p50_s": overall["p50_s"], "p95_s": overall["p95_s"], "max_s": overall["max_s"],
        "by_page": {name: _stats(xs) for name, xs in times.items()},
        "server_side": window.get("server", {}),
        "errors": {"count": len(errors), "first": errors[:FIRST_ERRORS]},
        "window_s": round(window["s"], 1),
        "spot_check_answers_written": window["answers"],
        "spot_check_runs_finished": sum(w.runs_finished for w in spot_writers),
        "spot_check_failures": {"count": sum(len(w.failures) for w in spot_writers),
                                "first": [f for w in spot_writers for f in w.failures][:FIRST_ERRORS]},
        "machine": {"nproc": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20, help="browser sessions at once (default 20)")
    ap.add_argument("--rounds", type=int, default=3, help="Heatmaps + Cases visits per session (default 3)")
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    ap.add_argument("--replicas", default="1", help="comma-separated app replica counts, e.g. 1,2 (more than 1: "
                    "behind haproxy, PostgreSQL only)")
    ap.add_argument("--spot-checks", type=int, default=1, help="spot-checks writing at once (default 1)")
    ap.add_argument("--json", action="store_true", help="one JSON object per backend")
    args = ap.parse_args()
    if shutil.which("chromium") is None:
        print("chromium not installed: apt-get install chromium", file=sys.stderr)
        return 2
    failed = False
    with FaultServerProcess() as fault:
        for backend, replicas in [(b, int(r)) for b in args.backends.split(",") for r in args.replicas.split(",")]:
            if replicas > 1 and backend != "postgresql":
                continue  # replicas share one store: PostgreSQL
            try:
                out = run_backend(backend, args.sessions, args.rounds, fault.api_base, replicas, args.spot_checks)
            except Exception as exc:  # noqa: BLE001 - report the backend that could not run, go on with the next
                failed = True
                out = {"backend": backend, "replicas": replicas,
                       "failed": f"{type(exc).__name__}: {str(exc).strip()[-800:]}"}
            if args.json:
                print(json.dumps(out), flush=True)
            else:
                print("\n".join(f"{k:28} {v}" for k, v in out.items()), end="\n\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
