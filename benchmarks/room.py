"""A shared link holds a room: the server's time for a page's full script run, N visitors at once, no browser.

Each visitor is a protocol-level session: it opens Streamlit's websocket (/_stcore/stream, subprotocol "streamlit")
and sends the BackMsg.rerun_script that the browser sends on opening the page's link (page_name = the link's path,
empty for Home at `/`). N sessions connect, wait at a barrier, then all request the page at once; a page's `server`
time runs from its rerun_script to the script_finished that ends the run (not FINISHED_EARLY_FOR_RERUN). Per run it
records elements drawn (new_element deltas, by type), container blocks, bytes, exceptions drawn, timeouts and errors.

Pages: Home, Heatmaps, Cases, and the floor: a blank one-line page (benchmarks/pages.py's FLOOR) on a second
`streamlit run` started beside the app on the same machine; `×blank` is a page's p95 over the floor's p95 at the
same N and condition. The app is served as `make run` serves it (the same flags, .streamlit/config.toml read by
Streamlit itself) with `--server.fileWatcherType none`. `app p95` is the app's own timer of its script
(components/timing.py, BR_TIMINGS_FILE): the rest of `server` is Streamlit's work and the wait for a core.

Conditions: `idle` (the paper imported and one finished spot-check in the store) and `writing` (--spot-checks
spot-checks against the local fault server write to the same store throughout). Backends: `sqlite` (one server) and
`team` (PostgreSQL, --replicas replicas behind haproxy, deploy/team.py). Through haproxy each session first GETs the
page's link, as a browser does, and sends the balancer's BRREPLICA cookie back on its websocket; `stuck` counts the
sessions whose sidebar names the replica of their cookie. The client runs on the same machine as the servers.
Never asserts on time.

    .venv/bin/python benchmarks/room.py --quick                       # N = 1, 10; sqlite; idle
    .venv/bin/python benchmarks/room.py --backends sqlite --sessions 1,10,20,40 --json
    .venv/bin/python benchmarks/room.py --backends team --sessions 1,20 --conditions idle --validate

--validate first loads each page once in Debian's chromium (Playwright never downloads a browser), reads the
ForwardMsgs of its first script run off the browser's websocket, and checks that they draw the same elements (by
type) and blocks as one protocol session's run. The paper release comes from BR_DATA_SOURCE, else
../shared/blind-refusal; PostgreSQL is a throwaway server (deploy/postgres.sh) unless BR_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402  (after sys.path is set)
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.typing import Origin, Subprotocol  # noqa: E402

from benchmarks.load import (  # noqa: E402
    ALL_PAGES,
    SpotCheckWriter,
    app_servers,
    paper_store,
    server_times,
    spot_check_answers,
)
from benchmarks.pages import FLOOR  # noqa: E402
from blindrefusal.config import REPLICA_COOKIE  # noqa: E402
from tests.support.app_server import AppServer  # noqa: E402
from tests.support.browser import ARGS  # noqa: E402
from tests.support.fault_server import FaultServerProcess  # noqa: E402

PAGES = {name: ALL_PAGES[name][0] for name in ("home", "heatmaps", "cases")}  # name -> the link's path
BLANK = "blank"
EARLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
SERVED_BY = re.compile(r"\*\*Server:\*\* replica `([^`]+)`")  # the sidebar's line on a team server (components/frame)
SEED_MODEL, WRITE_MODEL = "openai/roomseed", "openai/roomwrite;delay=0.5"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- one script run, read off a websocket ------------------------------------------------------------------

@dataclass
class Tally:
    """The ForwardMsgs of one script run, up to the script_finished that ends it."""
    elements: Counter[str] = field(default_factory=Counter)
    blocks: int = 0
    nbytes: int = 0
    exceptions: int = 0
    page_not_found: bool = False
    served_by: str | None = None
    status: str | None = None  # the ending script_finished's status name; None while running

    def add(self, raw: bytes) -> bool:
        """Count one ForwardMsg; True once the run has finished."""
        self.nbytes += len(raw)
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "page_not_found":
            self.page_not_found = True
        elif kind == "delta" and msg.delta.WhichOneof("type") == "add_block":
            self.blocks += 1
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            element_type = str(element.WhichOneof("type"))
            self.elements[element_type] += 1
            self.exceptions += element_type == "exception"
            if element_type == "markdown" and (match := SERVED_BY.search(element.markdown.body)):
                self.served_by = match.group(1)
        elif kind == "script_finished" and msg.script_finished != EARLY:
            self.status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
        return self.status is not None

    def drawn(self) -> dict[str, int]:
        """What the run drew: element counts by type, and the container blocks."""
        return {**dict(sorted(self.elements.items())), "(blocks)": self.blocks}


@dataclass
class Target:
    """A server to visit: its base URL; `sticky`: behind the balancer, so send its cookie back."""
    url: str
    sticky: bool = False


@dataclass
class PageRun:
    """One session's visit: `server_s` is None unless the run finished."""
    tally: Tally
    server_s: float | None = None
    cookie: str | None = None
    error: str | None = None  # could not connect, the socket closed, or "timeout"


def rerun_message(base_url: str, path: str) -> bytes:
    """The BackMsg the browser sends on opening `base_url + path` (st.navigation: no page hash, the link's path)."""
    msg = BackMsg()
    state = msg.rerun_script
    state.page_name = path.strip("/")
    state.page_script_hash = ""
    state.query_string = ""
    info = state.context_info
    info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
    info.url, info.is_embedded, info.color_scheme = base_url + path, False, "light"
    return msg.SerializeToString()


def balancer_cookie(url: str) -> str | None:
    """GET the page's link as a browser does; the replica named by the balancer's cookie."""
    with NO_PROXY.open(url, timeout=60) as response:
        cookies = SimpleCookie("; ".join(response.headers.get_all("Set-Cookie") or []))
    return cookies[REPLICA_COOKIE].value if REPLICA_COOKIE in cookies else None


async def open_session(target: Target, path: str, timeout: float) -> tuple[ClientConnection, str | None]:
    cookie = await asyncio.to_thread(balancer_cookie, target.url + path) if target.sticky else None
    headers = {"Cookie": f"{REPLICA_COOKIE}={cookie}"} if cookie else None
    return await connect(target.url.replace("http", "ws", 1) + "/_stcore/stream", origin=Origin(target.url),
                         subprotocols=[Subprotocol("streamlit")], additional_headers=headers, max_size=None,
                         open_timeout=timeout, ping_interval=None, proxy=None), cookie


def one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"[:200]


async def visit(target: Target, path: str, barrier: asyncio.Barrier, timeout: float) -> PageRun:
    """Connect, wait for the others, request the page, read until its run ends."""
    run = PageRun(Tally())
    ws = None
    try:
        ws, run.cookie = await asyncio.wait_for(open_session(target, path, timeout), timeout)
    except Exception as exc:  # noqa: BLE001 - a session that cannot connect is a measured error
        run.error = one_line(exc)
    await barrier.wait()
    if ws is None:
        return run
    try:
        start = time.perf_counter()
        deadline = start + timeout
        await ws.send(rerun_message(target.url, path))
        while not run.tally.add(await asyncio.wait_for(ws.recv(decode=False), deadline - time.perf_counter())):
            pass
        run.server_s = time.perf_counter() - start
    except TimeoutError:
        run.error = "timeout"
    except Exception as exc:  # noqa: BLE001
        run.error = one_line(exc)
    finally:
        await ws.close()
    return run


async def visits(target: Target, path: str, n: int, timeout: float) -> list[PageRun]:
    """N sessions of one page, requested at once."""
    barrier = asyncio.Barrier(n)
    return list(await asyncio.gather(*(visit(target, path, barrier, timeout) for _ in range(n))))


# --- numbers ------------------------------------------------------------------------------------------------

def quantiles(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"p50_s": None, "p95_s": None, "max_s": None}
    p95 = statistics.quantiles(xs, n=100, method="inclusive")[94] if len(xs) > 1 else xs[0]
    return {"p50_s": round(statistics.median(xs), 3), "p95_s": round(p95, 3), "max_s": round(max(xs), 3)}


def summary(runs: list[PageRun], app_timer: dict | None) -> dict[str, Any]:
    """One page at one N: times over the runs that finished without an exception drawn; the rest counted."""
    ok = [r for r in runs if r.server_s is not None and r.tally.status == "FINISHED_SUCCESSFULLY"
          and not r.tally.exceptions]
    elements = [sum(r.tally.elements.values()) for r in ok]
    errors = [r.error for r in runs if r.error and r.error != "timeout"]
    out = {"ok": len(ok), "of": len(runs), **quantiles([r.server_s for r in ok if r.server_s is not None]),
           "app_p95_s": (app_timer or {}).get("p95_s"),
           "elements_min": min(elements, default=None), "elements_max": max(elements, default=None),
           "kib_median": round(statistics.median([r.tally.nbytes for r in ok]) / 1024, 1) if ok else None,
           "exceptions": sum(r.tally.exceptions for r in runs), "timeouts": sum(r.error == "timeout" for r in runs),
           "errors": len(errors), "first_error": errors[0] if errors else None,
           "page_not_found": sum(r.tally.page_not_found for r in runs)}
    if any(r.cookie for r in runs):
        out["replicas"] = dict(sorted(Counter(r.cookie or "none" for r in runs).items()))
        out["stuck"] = sum(r.cookie is not None and r.cookie == r.tally.served_by for r in runs)
    return out


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


async def measure(targets: dict[str, Target], n: int, timeout: float, timings: Path) -> dict[str, Any]:
    """Every page, then the floor, with N sessions each; `×blank` once all are in."""
    before, pages = loadavg(), {}
    for name, target in targets.items():
        start = time.time()
        runs = await visits(target, PAGES.get(name, "/"), n, timeout)
        pages[name] = summary(runs, server_times(timings, start, time.time()).get(name))
    blank_p95 = pages[BLANK]["p95_s"]
    for name in PAGES:
        p95 = pages[name]["p95_s"]
        pages[name]["vs_blank_p95"] = round(p95 / blank_p95, 1) if p95 is not None and blank_p95 else None
    return {"sessions": n, "loadavg_before": before, "loadavg_after": loadavg(), "pages": pages}


# --- the store, the servers, the writers --------------------------------------------------------------------

def finish_one_spot_check(url: str, api_base: str, engine: Any) -> int:
    """Run one small spot-check to the end on the store; the finished spot-checks now in it."""
    from sqlalchemy import text

    cmd = [sys.executable, "-m", "blindrefusal", "spot-check", "--model", SEED_MODEL, "--api-base", api_base,
           "--n", "40", "--judge", "distilled", "--json"]
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "BR_DATABASE_URL": url, "TQDM_DISABLE": "1"},
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the seeding spot-check failed: {done.stderr.strip()[-500:]}")
    with engine.connect() as conn:
        done_runs = conn.execute(text("SELECT COUNT(*) FROM run WHERE kind = 'spot_check' AND status = 'done'"))
        return int(done_runs.scalar() or 0)


@contextmanager
def writing(url: str, api_base: str, engine: Any, count: int) -> Iterator[dict[str, Any]]:
    """`count` spot-checks writing to the store until the block ends; what they did is filled in afterwards.
    The block starts once they store answers (a cold spot-check process takes seconds to begin)."""
    before, deadline = spot_check_answers(engine), time.monotonic() + 180
    with ExitStack() as stack:
        writers = [stack.enter_context(SpotCheckWriter(url, api_base, f"{WRITE_MODEL};seed={i}", n=200))
                   for i in range(count)]
        while spot_check_answers(engine) == before and time.monotonic() < deadline:
            time.sleep(0.5)
        answers = spot_check_answers(engine)
        report: dict[str, Any] = {"spot_checks": count}
        yield report
        report["answers_written"] = spot_check_answers(engine) - answers
        report["runs_finished"] = sum(w.runs_finished for w in writers)
        report["failures"] = [f for w in writers for f in w.failures][:3]


async def warm(targets: dict[str, Target], replicas: int, timeout: float) -> None:
    """One untimed visit of every page on every replica (imports, caches, first queries)."""
    for name, target in targets.items():
        await visits(target, PAGES.get(name, "/"), replicas if target.sticky else 1, timeout)


# --- validation in chromium -----------------------------------------------------------------------------------

async def browser_tally(url: str, timeout: float) -> Tally:
    """The first script run's ForwardMsgs, read off the websocket of chromium opening `url`."""
    from playwright.async_api import WebSocket, async_playwright

    tally, finished = Tally(), asyncio.Event()

    def on_frame(payload: str | bytes) -> None:
        if not finished.is_set() and isinstance(payload, bytes) and tally.add(payload):
            finished.set()

    def on_websocket(ws: WebSocket) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framereceived", on_frame)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        try:
            page = await (await browser.new_context(viewport={"width": 1400, "height": 1800})).new_page()
            page.on("websocket", on_websocket)
            await page.goto(url)
            await asyncio.wait_for(finished.wait(), timeout)
        finally:
            await browser.close()
    return tally


async def validate(targets: dict[str, Target], timeout: float) -> dict[str, Any]:
    """Per page: the elements chromium's first run drew, and one protocol session's; whether they are the same."""
    if shutil.which("chromium") is None:
        return {"skipped": "chromium not installed (apt-get install chromium)"}
    out: dict[str, Any] = {}
    for name, target in targets.items():
        path = PAGES.get(name, "/")
        browser = (await browser_tally(target.url + path, timeout)).drawn()
        protocol = (await visits(target, path, 1, timeout))[0].tally.drawn()
        out[name] = {"same": browser == protocol, "elements": sum(v for k, v in browser.items() if k != "(blocks)"),
                     **({} if browser == protocol else {"browser": browser, "protocol": protocol})}
    return out


# --- one backend -----------------------------------------------------------------------------------------------

def run_backend(backend: str, args: argparse.Namespace, blank: Target, api_base: str) -> dict[str, Any]:
    replicas = args.replicas if backend == "team" else 1
    result: dict[str, Any] = {"backend": backend, "replicas": replicas}
    with tempfile.TemporaryDirectory(prefix="br-room-") as d, \
            paper_store("sqlite" if backend == "sqlite" else "postgresql", Path(d)) as (url, engine):
        result["finished_spot_checks"] = finish_one_spot_check(url, api_base, engine)
        timings = Path(d) / "timings.jsonl"
        with app_servers(url, replicas, Path(d), timings) as app_url:
            targets = {**{name: Target(app_url, sticky=replicas > 1) for name in PAGES}, BLANK: blank}
            asyncio.run(warm(targets, replicas, args.timeout))
            if args.validate:
                result["validation"] = asyncio.run(validate(targets, args.timeout))
            result["conditions"] = {}
            for condition in args.conditions:
                with ExitStack() as stack:
                    writers = (stack.enter_context(writing(url, api_base, engine, args.spot_checks))
                               if condition == "writing" else None)
                    rows = [asyncio.run(measure(targets, n, args.timeout, timings)) for n in args.sessions]
                result["conditions"][condition] = {"by_sessions": rows, **({"writers": writers} if writers else {})}
    return result


# --- output ------------------------------------------------------------------------------------------------------

def fmt(value: Any, unit: str = "") -> str:
    return "—" if value is None else f"{value}{unit}"


def table(out: dict[str, Any]) -> str:
    lines = [f"machine: {out['machine']['cpus']} CPUs, load average {out['machine']['loadavg_before']} before, "
             f"{out['machine']['loadavg_after']} after"]
    for backend in out["backends"]:
        if "failed" in backend:
            lines.append(f"\n{backend['backend']}: FAILED {backend['failed']}")
            continue
        lines.append(f"\n{backend['backend']} ({backend['replicas']} replica(s)); finished spot-checks in the store: "
                     f"{backend['finished_spot_checks']}")
        for name, check in backend.get("validation", {}).items():
            lines.append(f"  validation {name}: {check}")
        for condition, block in backend["conditions"].items():
            for row in block["by_sessions"]:
                lines.append(f"\n  {condition} · N={row['sessions']} · load {row['loadavg_before'][0]} → "
                             f"{row['loadavg_after'][0]}")
                lines.append(f"  {'page':9} {'ok':>7} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'×blank':>7} "
                             f"{'app p95':>7} {'elements':>9} {'KiB':>6} {'exc':>4} {'t/o':>4} {'err':>4}  replicas")
                for name, s in row["pages"].items():
                    elements = fmt(s["elements_min"]) if s["elements_min"] == s["elements_max"] else \
                        f"{s['elements_min']}–{s['elements_max']}"
                    sticky = f"{s['replicas']} stuck {s['stuck']}/{s['of']}" if "replicas" in s else ""
                    lines.append(f"  {name:9} {s['ok']:>3}/{s['of']:<3} {fmt(s['p50_s']):>7} {fmt(s['p95_s']):>7} "
                                 f"{fmt(s['max_s']):>7} {fmt(s.get('vs_blank_p95'), '×'):>7} {fmt(s['app_p95_s']):>7} "
                                 f"{elements:>9} {fmt(s['kib_median']):>6} {s['exceptions']:>4} {s['timeouts']:>4} "
                                 f"{s['errors']:>4}  {sticky}")
                    if s["first_error"]:
                        lines.append(f"    first error: {s['first_error']}")
            if "writers" in block:
                lines.append(f"  writers: {block['writers']}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", default="1,10,20,40", help="comma-separated N: sessions at once (default 1,10,20,40)")
    ap.add_argument("--backends", default="sqlite,team", help="comma-separated: sqlite,team")
    ap.add_argument("--conditions", default="idle,writing", help="comma-separated: idle,writing")
    ap.add_argument("--replicas", type=int, default=2, help="the team server's replicas (default 2)")
    ap.add_argument("--spot-checks", type=int, default=2, help="spot-checks writing at once under `writing`")
    ap.add_argument("--timeout", type=float, default=600, help="seconds a page run may take (default 600)")
    ap.add_argument("--validate", action="store_true", help="check the protocol client against chromium first")
    ap.add_argument("--quick", action="store_true", help="N = 1, 10; sqlite; idle")
    ap.add_argument("--json", action="store_true", help="one JSON object")
    args = ap.parse_args()
    if args.quick:
        args.sessions, args.backends, args.conditions = "1,10", "sqlite", "idle"
    args.sessions = [int(n) for n in args.sessions.split(",")]
    args.conditions = args.conditions.split(",")
    backends = args.backends.split(",")
    if not set(backends) <= {"sqlite", "team"} or not set(args.conditions) <= {"idle", "writing"}:
        ap.error("--backends takes sqlite,team and --conditions idle,writing")
    out: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "loadavg_before": loadavg()}, "backends": []}
    with tempfile.TemporaryDirectory(prefix="br-room-blank-") as d, FaultServerProcess() as fault:
        (Path(d) / "blank.py").write_text(FLOOR)
        with AppServer({}, Path(d) / "blank.log", script=Path(d) / "blank.py") as blank:
            for backend in backends:
                try:
                    out["backends"].append(run_backend(backend, args, Target(blank.url), fault.api_base))
                except Exception as exc:  # noqa: BLE001 - report the backend that could not run, go on with the next
                    out["backends"].append({"backend": backend, "failed": one_line(exc)})
    out["machine"]["loadavg_after"] = loadavg()
    print(json.dumps(out) if args.json else table(out))
    return 1 if any("failed" in b for b in out["backends"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
