"""Performance measurements. Prints numbers (one JSON object with --json); never asserts on time.

    python benchmarks/run.py --json            # everything (import_s needs BR_DATA_SOURCE)
    python benchmarks/run.py --json --quick    # smaller store, fewer repetitions (a smoke run)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")



def _scenario() -> dict:
    """The benchmark's scenario: the app's first example (data/scenarios.json)."""
    from blindrefusal.runs.scenario import examples

    return examples()[0]


def _temp_url(tmp: Path, name: str) -> str:
    return f"sqlite:///{tmp / name}"


def bench_aggregate(tmp: Path, n: int) -> dict:
    """heatmap_s_1m: the db/ aggregate (warm, median of 5); pandas_s_1m: all rows into pandas, then groupby."""
    import pandas as pd
    from sqlalchemy import text

    from benchmarks.gen_store import generate
    from db import aggregates
    from db.engine import get_engine

    url = _temp_url(tmp, f"gen_{n}.sqlite")
    gen_s = generate(url, n)
    engine = get_engine(url)
    aggregates.aggregate(engine, ["model", "family"])  # warm
    times = []
    for _ in range(5):
        t = time.perf_counter()
        aggregates.aggregate(engine, ["model", "family"])
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    with engine.connect() as conn:
        df = pd.read_sql(text("""SELECT m.key AS model, c.family, r.eff_response_type, r.eff_engages, r.eff_harm
                                 FROM response r JOIN "case" c ON c.id = r.case_id
                                 JOIN model_config m ON m.id = r.model_config_id
                                 WHERE r.eff_response_type IS NOT NULL"""), conn)
    df["helps"] = df.eff_response_type == "helps"
    df.groupby(["model", "family"]).agg(n=("helps", "size"), helps=("helps", "sum"), engages=("eff_engages", "sum"))
    pandas_s = time.perf_counter() - t
    suffix = "1m" if n == 1_000_000 else f"{n // 1000}k"
    return {f"heatmap_s_{suffix}": statistics.median(times), f"pandas_s_{suffix}": pandas_s,
            f"generate_store_s_{suffix}": gen_s}


def bench_import(tmp: Path) -> dict:
    src = os.environ.get("BR_DATA_SOURCE")
    if not src:
        return {"import_s": None, "import_note": "BR_DATA_SOURCE unset: skipped"}
    from blindrefusal.paper.importer import import_paper
    from db.engine import get_engine

    engine = get_engine(_temp_url(tmp, "import.sqlite"))
    t = time.perf_counter()
    import_paper(src, engine=engine)
    first = time.perf_counter() - t
    t = time.perf_counter()
    import_paper(src, engine=engine)
    return {"import_s": first, "reimport_s": time.perf_counter() - t}


def bench_home_render(store_url: str | None) -> dict:
    """A cold AppTest run of Home in a fresh process; also checks that browse pages never import litellm."""
    if not store_url:
        return {"home_render_s": None, "home_note": "no imported store"}
    code = f"""
import sys, time, json
sys.path.insert(0, {str(ROOT)!r})
from streamlit.testing.v1 import AppTest
t = time.perf_counter()
at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=120)
at.run()
home = time.perf_counter() - t
ok = not at.exception
for page in ("app_pages/heatmaps.py", "app_pages/cases.py", "app_pages/agreement.py"):
    at.switch_page(page); at.run(); ok = ok and not at.exception
print(json.dumps({{"home_render_s": home, "ok": ok, "litellm_imported": "litellm" in sys.modules}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "BR_DATABASE_URL": store_url}, cwd=ROOT)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not line:
        return {"home_render_s": None, "home_note": out.stderr[-500:]}
    d = json.loads(line[-1])
    return {"home_render_s": d["home_render_s"], "browse_pages_import_litellm": d["litellm_imported"],
            "browse_pages_ok": d["ok"]}


def bench_fanout(srv, tmp: Path) -> dict:
    """fanout_ratio_k8 (runner only) and warm_fanout_s_k8 (run start to the last stored judgment)."""
    from blindrefusal.judges import distilled_available
    from blindrefusal.models.presets import resolve
    from blindrefusal.models.runner import call_model, fan_out
    from blindrefusal.runs.live import run_live
    from blindrefusal.runs.scenario import validate
    from db.engine import get_engine

    specs = [resolve(f"openai/k{i};delay=1.0", api_base=srv.api_base) for i in range(8)]
    asyncio.run(fan_out(specs, "warm-up"))  # imports litellm, opens connections
    singles = [asyncio.run(call_model(specs[i], "single")) for i in range(2)]
    slowest_single = max(r.ended - r.started for r in singles)
    t = time.perf_counter()
    results = asyncio.run(fan_out(specs, "fan-out"))
    wall = time.perf_counter() - t
    assert all(r.status == "ok" for r in results)
    out = {"fanout_ratio_k8": wall / slowest_single, "fanout_wall_s_k8": wall, "single_call_s": slowest_single}
    if distilled_available():
        engine = get_engine(_temp_url(tmp, "warm.sqlite"))
        scenario = validate(_scenario())

        async def two_runs():
            await run_live(engine, scenario, specs, "distilled")  # warm
            t0 = time.perf_counter()
            run = await run_live(engine, scenario, specs, "distilled")
            return time.perf_counter() - t0, run

        warm, run = asyncio.run(two_runs())
        out["warm_fanout_s_k8"] = warm
        out["warm_fanout_judged"] = sum(1 for a in run.answers if a.verdict is not None)
    return out


def bench_ask_cold(srv, tmp: Path, reps: int) -> dict:
    """ask_cold_s_k8: `python -m blindrefusal ask` with 8 models at 1 s, judged and stored, cold process."""
    from blindrefusal.judges import distilled_available

    if not distilled_available():
        return {"ask_cold_s_k8": None, "ask_note": "distilled judge weights missing"}
    scenario = tmp / "scenario.json"
    scenario.write_text(json.dumps(_scenario()))
    env = {**os.environ, "BR_DATABASE_URL": _temp_url(tmp, "ask.sqlite")}
    cmd = [sys.executable, "-m", "blindrefusal", "ask", "--scenario", str(scenario), "--judge", "distilled",
           "--api-base", srv.api_base, "--json"]
    for i in range(8):
        cmd += ["--model", f"openai/cold{i};delay=1.0"]
    subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True)  # creates the store, warms the OS file cache
    times, imports = [], []
    for _ in range(reps):  # litellm's own import, timed beside each run: the bar is that import + 1.5 s
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import litellm"], env=env, cwd=ROOT, capture_output=True, check=True)
        imports.append(time.perf_counter() - t)
        t = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            return {"ask_cold_s_k8": None, "ask_note": proc.stderr[-500:]}
        answers = json.loads(proc.stdout)
        assert all(a["status"] == "ok" and a["judgment"] for a in answers)
    ask, imported = statistics.median(times), statistics.median(imports)
    return {"ask_cold_s_k8": round(ask, 3), "ask_cold_runs": [round(x, 3) for x in times],
            "litellm_import_s": round(imported, 3), "ask_beyond_import_s": round(ask - imported, 3),
            "ask_bar_s": round(imported + 1.5, 3)}


def bench_spot_check(srv, tmp: Path) -> dict:
    """spot_check_span_100: 100 cases, one model at 1 s, default settings: first call to last answer
    (in a process that has served a request before; the very first one is reported beside it)."""
    from benchmarks.gen_store import generate
    from blindrefusal.evals.spotcheck import SpotCheckParams, run_spot_check
    from blindrefusal.judges import distilled_available
    from db.engine import get_engine

    if not distilled_available():
        return {"spot_check_span_100": None}
    url = _temp_url(tmp, "spot.sqlite")
    generate(url, 0)
    engine = get_engine(url)
    def spot(seed: int, n: int):
        params = SpotCheckParams(model="openai/spot;delay=1.0", api_base=srv.api_base, n=n, seed=seed,
                                 judge="distilled")
        return asyncio.run(run_spot_check(engine, params))[1]

    cold = spot(1, 100)  # the process's first spot-check: litellm's clients and connection pool are new
    spot(2, 5)  # an app process that has already served a request
    warm = spot(3, 100)
    again = spot(3, 100)  # the same parameters again: resumed, nothing left to ask
    return {"spot_check_span_100": warm.last_answer - warm.first_call,
            "spot_check_span_100_first_in_process": cold.last_answer - cold.first_call,
            "spot_check_peak_concurrency": warm.peak_concurrency, "spot_check_429s": warm.rate_limited,
            "spot_check_calls": warm.calls, "spot_check_rerun_calls": again.calls}


def bench_judge() -> dict:
    try:
        from benchmarks.bench_judge import bench_judge as run
    except ImportError:
        return {"judge_per_s": None}
    return run()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="100k judgments, one cold ask, no import")
    ap.add_argument("--only", help="comma-separated groups: aggregate,import,home,fanout,ask,spot,judge")
    args = ap.parse_args()
    groups = set((args.only or "aggregate,import,home,fanout,ask,spot,judge").split(","))
    from tests.support.fault_server import FaultServerProcess

    out: dict = {"machine": f"{os.cpu_count()} cores", "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="br-bench-") as d, FaultServerProcess() as srv:
        tmp = Path(d)
        if "aggregate" in groups:
            out.update(bench_aggregate(tmp, 100_000 if args.quick else 1_000_000))
        if "import" in groups and not args.quick:
            out.update(bench_import(tmp))
        if "home" in groups:
            store = _temp_url(tmp, "import.sqlite") if (tmp / "import.sqlite").exists() else None
            out.update(bench_home_render(store))
        if "fanout" in groups:
            out.update(bench_fanout(srv, tmp))
        if "ask" in groups:
            out.update(bench_ask_cold(srv, tmp, reps=1 if args.quick else 5))
        if "spot" in groups:
            out.update(bench_spot_check(srv, tmp))
        if "judge" in groups:
            out.update(bench_judge())
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for k, v in out.items():
            print(f"{k:32} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
