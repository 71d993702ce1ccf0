"""`python -m blindrefusal <command>`. Each command imports only what it needs (cold start matters)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import DATA_DIR, data_source


def _progress_bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=0, desc=desc, unit="file", file=sys.stderr, disable=None)

    def update(done: int, total: int, name: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(name.split("/")[-1][:40], refresh=False)
        bar.refresh()

    return bar, update


def cmd_import_paper(args) -> int:
    from .importer import import_paper
    from .release import ReleaseError

    source = args.source or data_source()
    bar, update = _progress_bar("import-paper")
    try:
        result = import_paper(source, progress=update)
    except ReleaseError as exc:
        bar.close()
        print(f"import failed, the store is unchanged: {exc}", file=sys.stderr)
        return 2
    bar.close()
    print(json.dumps(result))
    return 0


def cmd_ensure_store(args) -> int:
    """Import the paper when the store holds none of it; never fail `make run` for want of the data."""
    from db.engine import get_engine
    from db.queries import store_counts

    if store_counts(get_engine())["paper_responses"]:
        print("store: the paper is already imported")
        return 0
    rc = cmd_import_paper(argparse.Namespace(source=None))
    if rc:
        print("store: the paper is not imported; the app shows the shipped summary (data/paper_summary.csv). "
              "Set BR_DATA_SOURCE and run `python -m blindrefusal import-paper` for cases and responses.", file=sys.stderr)
    return 0


def cmd_stats(args) -> int:
    from db.engine import get_engine

    from .metrics import store_stats

    stats = store_stats(get_engine(), judge=args.judge)
    if args.json:
        print(json.dumps(stats, indent=1))
    else:
        d = stats["defeated"]
        print(f"{stats['responses']:,} judged responses, {stats['cases']:,} cases, {stats['models']} models")
        print(f"defeated n={d['n']:,}: helps {d['helps']:.1%}, refusal {d['refusal']:.1%}, engages {d['engages']:.1%}")
        print(f"control n={stats['control']['n']:,}: helps {stats['control']['helps']:.1%}")
    return 0


def cmd_export_summary(args) -> int:
    from db.engine import get_engine
    from db.summary import export_summary

    n = export_summary(get_engine(), Path(args.output))
    print(f"wrote {n} rows to {args.output}")
    return 0


def cmd_ask(args) -> int:
    from .live import answer_json, load_scenario_file, run_live
    from .registry import resolve
    from .runner import RunSettings, run_sync
    from .scenario import ScenarioError, from_case, validate

    def engine():  # opened lazily: with --scenario, during the model calls
        from db.engine import get_engine

        return get_engine()

    if args.case_id:
        from db.queries import get_case

        store = engine()
        case = get_case(store, args.case_id)
        if case is None:
            print(f"no case {args.case_id!r} in the store (import the paper first)", file=sys.stderr)
            return 2
        raw = from_case(case)
    else:
        try:
            raw = load_scenario_file(args.scenario)
        except (OSError, json.JSONDecodeError) as exc:
            print(f"cannot read the scenario file: {exc}", file=sys.stderr)
            return 2
    try:
        scenario = validate(raw)
    except ScenarioError as exc:
        print("invalid scenario:\n- " + "\n- ".join(exc.problems), file=sys.stderr)
        return 2
    specs = [resolve(m, api_base=args.api_base, temperature=args.temperature, max_tokens=args.max_tokens)
             for m in args.model]
    run = run_sync(run_live(engine, scenario, specs, args.judge, settings=RunSettings(timeout_s=args.timeout)))
    if args.json:
        print(json.dumps([answer_json(a, run.judge_name) for a in run.answers], indent=1))
    else:
        for a in run.answers:
            v = answer_json(a, run.judge_name)["judgment"] or {}
            print(f"{a.call.model_key}: {a.call.status} {v.get('response_type', '')} {a.call.error or ''}")
        print(run.summary())
    print(f"stored as run {run.run_id}", file=sys.stderr)
    return 0


def cmd_rejudge(args) -> int:
    from db.engine import get_engine

    from .live import rejudge
    from .runner import run_sync

    print(json.dumps(run_sync(rejudge(get_engine(), None, args.judge, limit=args.limit))))
    return 0


def cmd_spot_check(args) -> int:
    from db.engine import get_engine

    from .runner import RunSettings, run_sync
    from .spotcheck import SpotCheckParams, estimate_cost, results, run_spot_check, sample_cases

    engine = get_engine()
    params = SpotCheckParams(model=args.model, n=args.n, seed=args.seed, judge=args.judge, api_base=args.api_base,
                             allocation=args.allocation, exclude_dual_use=args.exclude_dual_use,
                             families=args.family or [], authorities=args.authority or [],
                             max_tokens=args.max_tokens)
    cases = sample_cases(engine, params)
    if not cases:
        print("no paper cases in the store to sample from: run `python -m blindrefusal import-paper` first", file=sys.stderr)
        return 2
    est = estimate_cost(engine, params, cases)
    if est["paid"] and not args.yes:
        cost = "unknown (litellm has no price for this model)" if est["cost_usd"] is None else f"about ${est['cost_usd']:.2f}"
        print(f"This spot-check sends {est['cases']} requests to a paid model: ~{est['prompt_tokens']:,} prompt and "
              f"~{est['completion_tokens']:,} completion tokens (from the paper's average usage), cost {cost}. "
              "Re-run with --yes to go ahead.", file=sys.stderr)
        return 3
    from tqdm import tqdm

    bar = tqdm(total=len(cases), desc="spot-check", unit="case", file=sys.stderr, disable=None)

    def update(p) -> None:
        bar.n = p.done
        bar.set_postfix(errors=p.errors, cost="unknown" if p.cost_usd is None else f"${p.cost_usd:.4f}", refresh=False)
        bar.refresh()

    run_id, prog = run_sync(run_spot_check(engine, params, update, fresh=args.fresh, concurrency=args.concurrency,
                                           settings=RunSettings(timeout_s=args.timeout, stream=False)))
    bar.close()
    out = results(engine, run_id)
    out["calls"] = prog.calls
    out["skipped_already_answered"] = prog.skipped
    out["peak_concurrency"] = prog.peak_concurrency
    out["rate_limited"] = prog.rate_limited
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        d = out["defeated"]
        print(f"run {run_id}: {args.model} on {out['n']} cases; help rate on defeated "
              f"{d['helps']['rate'] if d['helps']['rate'] is not None else float('nan'):.1%}; "
              f"rank {out['rank']['lo']}–{out['rank']['hi']} of {out['rank']['of']}")
    return 0


def cmd_train_judge(args) -> int:
    from .judges.train import train

    metrics = train(args.source or data_source(), Path(args.output_dir), seed=args.seed)
    print(json.dumps(metrics, indent=1, default=str))
    return 0


def cmd_judge_eval(args) -> int:
    from .agreement import EVAL_FILE
    from .judges.train import evaluate

    source = args.source or data_source()
    result = evaluate(source)
    if args.injection:
        from .judges.train import injection_flip_rate

        result["injection"] = injection_flip_rate(source)
    text = json.dumps(result, indent=1, default=str)
    if args.write:
        EVAL_FILE.write_text(text + "\n", encoding="utf-8")
    print(text if args.json else "\n".join(f"{k}: kappa {v['kappa']:.3f}, accuracy {v['accuracy']:.3f}"
                                           for k, v in result["labels"].items()))
    return 0


def cmd_judge(args) -> int:
    if args.judge != "distilled":
        print("only --judge distilled is supported from files (LLM judges run in ask / spot-check)", file=sys.stderr)
        return 2
    from .judges.distilled import judge_jsonl

    out = judge_jsonl(args.input, args.output)
    print(json.dumps(out, default=str) if out is not None else f"wrote {args.output}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m blindrefusal", description="Blind Refusal Explorer command line")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("import-paper", help="import the paper's release into the store (idempotent, atomic)")
    s.add_argument("--source", help="directory, .zip or URL of the release (default: $BR_DATA_SOURCE)")
    s.set_defaults(func=cmd_import_paper)

    s = sub.add_parser("ensure-store", help="import the paper if the store is empty (used by make)")
    s.set_defaults(func=cmd_ensure_store)

    s = sub.add_parser("stats", help="headline numbers of the store")
    s.add_argument("--json", action="store_true")
    s.add_argument("--judge", help="use only this judge's labels (default: precedence human > LLM > distilled)")
    s.set_defaults(func=cmd_stats)

    s = sub.add_parser("ask", help="send one scenario to several models at once, judge and store the answers")
    s.add_argument("--model", action="append", required=True, help="preset key, paper slug or litellm model (repeat)")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--case-id", help="a paper case id from the store")
    src.add_argument("--scenario", help="a scenario JSON file")
    s.add_argument("--judge", help="distilled, llm:<model> or a litellm model (default: BR_JUDGE_MODEL, else distilled)")
    s.add_argument("--api-base", help="OpenAI-compatible base URL for typed-in models")
    s.add_argument("--temperature", type=float, default=None)
    s.add_argument("--max-tokens", type=int, default=None)
    s.add_argument("--timeout", type=float, default=120.0, help="seconds per attempt")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("spot-check", help="run a model on a stratified sample of the paper's cases")
    s.add_argument("--model", required=True)
    s.add_argument("--api-base")
    s.add_argument("--n", type=int, default=100)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--judge")
    s.add_argument("--concurrency", type=int, help="fixed cap (default: adaptive, per-provider cap)")
    s.add_argument("--allocation", choices=["equal", "proportional"], default="equal")
    s.add_argument("--exclude-dual-use", action="store_true")
    s.add_argument("--family", action="append", help="restrict to a family (repeat)")
    s.add_argument("--authority", action="append", help="restrict to an authority type (repeat)")
    s.add_argument("--max-tokens", type=int)
    s.add_argument("--timeout", type=float, default=120.0)
    s.add_argument("--fresh", action="store_true", help="new calls even for cases already answered")
    s.add_argument("--yes", action="store_true", help="confirm a run against a paid model")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_spot_check)

    s = sub.add_parser("rejudge", help="judge every stored response that has no judgment yet")
    s.add_argument("--judge", help="judge name (default: the default judge)")
    s.add_argument("--limit", type=int, default=100_000)
    s.set_defaults(func=cmd_rejudge)

    s = sub.add_parser("train-judge", help="train the distilled judge on the paper's GPT-5.4 labels (fixed seed)")
    s.add_argument("--source", help="release directory, zip or URL (default: $BR_DATA_SOURCE)")
    s.add_argument("--output-dir", default=str(DATA_DIR))
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_train_judge)

    s = sub.add_parser("judge-eval", help="agreement of the shipped distilled judge with GPT-5.4 on the held-out split")
    s.add_argument("--source", help="release directory, zip or URL (default: $BR_DATA_SOURCE)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--write", action="store_true", help="also write data/distilled_judge_eval.json (shown in the app)")
    s.add_argument("--injection", action="store_true",
                   help="also measure the injection flip rate on every test-split refusal (8 variants each)")
    s.set_defaults(func=cmd_judge_eval)

    s = sub.add_parser("judge", help="judge a JSONL file offline")
    s.add_argument("--judge", default="distilled")
    s.add_argument("--input", required=True)
    s.add_argument("--output", required=True)
    s.set_defaults(func=cmd_judge)

    s = sub.add_parser("export-summary", help="write data/paper_summary.csv (counts only, no text)")
    s.add_argument("--output", default=str(DATA_DIR / "paper_summary.csv"))
    s.set_defaults(func=cmd_export_summary)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
