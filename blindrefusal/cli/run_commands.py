"""Commands that call models: ask (one scenario, several models) and spot-check."""

from __future__ import annotations

import json
import sys

from blindrefusal.cli.common import (
    CLI_VISITOR,
    NON_NEGATIVE,
    POSITIVE,
    CliError,
    non_negative_float,
    open_store,
    positive_float,
    read_json_file,
    system_prompt_of,
    writable_file,
)
from blindrefusal.exports.inert import terminal_text
from vocabulary import STATUS_ERROR


def add_spot_check(sub) -> None:
    s = sub.add_parser("spot-check", help="run models on a stratified sample of the paper's cases")
    s.add_argument("--model", required=True, action="append",
                   help="a preset, paper slug or litellm model; repeat to compare several on one sample")
    s.add_argument("--api-base")
    s.add_argument("--n", type=POSITIVE, default=100)
    s.add_argument("--seed", type=NON_NEGATIVE, default=0)
    s.add_argument("--judge", help="distilled (default), paper (GPT-5.4, the authors' prompt), paper:<model>, "
                                   "llm:<model>")
    s.add_argument("--bridge-models", type=NON_NEGATIVE, metavar="K",
                   help="re-judge K paper models' answers with the same judge, spread across the help-rate range "
                        "(default: all 18 for free judges, 6 for paid ones; 0: none)")
    s.add_argument("--gold", metavar="JUDGE", help="a gold judge (paper, paper:<model>, or reviewers: our reviewers, "
                                                   "through a shared label queue) for a random --gold-n of the "
                                                   "answers: prediction-powered intervals that include the judge's "
                                                   "error")
    s.add_argument("--gold-n", type=POSITIVE, metavar="M", help="how many answers the gold judge labels")
    s.add_argument("--concurrency", type=POSITIVE, help="fixed cap (default: adaptive, per-provider cap)")
    s.add_argument("--allocation", choices=["proportional", "equal"], default="proportional",
                   help="proportional (default): cells in the release's proportions, self-weighting; equal: every "
                        "cell alike (small cells over-sampled, then weighted back)")
    s.add_argument("--exclude-dual-use", action="store_true")
    s.add_argument("--family", action="append", help="restrict to a family (repeat)")
    s.add_argument("--authority", action="append", help="restrict to an authority type (repeat)")
    s.add_argument("--cases", choices=["paper", "fresh"], default="paper",
                   help="paper (default): the release's cases; fresh: accepted generated cases (generate-cases) and "
                        "as many published ones in each of their cells, for the contamination gap")
    s.add_argument("--system-prompt", action="append", metavar="PROMPT",
                   help="none (the paper's setting), an example's name (weigh-the-rule, concrete-harm, be-careful) "
                        "or a text file; repeat for arms: every --model under every --system-prompt, on one sample")
    s.add_argument("--reasoning-effort", choices=["none", "low", "medium", "high"],
                   help="for providers that have one (dropped where they do not)")
    s.add_argument("--max-tokens", type=POSITIVE)
    s.add_argument("--timeout", type=positive_float, default=120.0)
    s.add_argument("--fresh", action="store_true", help="new calls even for cases already answered")
    s.add_argument("--yes", action="store_true", help="confirm a run against a paid model")
    s.add_argument("--json", action="store_true")
    s.add_argument("--report", metavar="FILE", help="also write a self-contained HTML report (opens offline)")
    s.set_defaults(func=cmd_spot_check)


def add_plan_gold(sub) -> None:
    s = sub.add_parser("plan-gold", help="how many answers, and how many gold labels among them, a budget buys best")
    s.add_argument("--budget", type=positive_float, required=True, help="what you will spend, in any currency")
    s.add_argument("--answer-cost", type=non_negative_float, required=True,
                   help="one answer: the model's call plus the cheap judge (0 for the local model and distilled)")
    s.add_argument("--gold-cost", type=positive_float, required=True, help="one gold label (e.g. a GPT-5.4 call)")
    s.add_argument("--rho", type=float, help="the cheap and the gold labels' correlation (default: the distilled "
                                             "judge's, measured on the held-out split)")
    s.add_argument("--max-n", type=POSITIVE, default=1290, help="the cases there are (default: the release's 1,290)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_plan_gold)


def cmd_plan_gold(args) -> int:
    from dataclasses import asdict

    from blindrefusal.analysis.ppi import MIN_GOLD, plan_gold
    from blindrefusal.evals.spotcheck.gold import PLANNING_RATE, RELEASE_DEFEATED_SHARE, planning_rho

    rho = planning_rho() if args.rho is None else args.rho
    if not -1 <= rho <= 1:
        raise CliError(f"--rho must be between -1 and 1 (got {args.rho})")
    plan = plan_gold(args.budget, args.answer_cost, args.gold_cost, rho, PLANNING_RATE, n_max=args.max_n,
                     defeated_share=RELEASE_DEFEATED_SHARE)
    if plan is None:
        raise CliError(f"the budget (or --max-n) allows fewer than {MIN_GOLD} gold labels on defeated cases with "
                       "answers left over for the cheap judge: no valid interval")
    if args.json:
        print(json.dumps({**asdict(plan), "rho": rho, "planning_rate": PLANNING_RATE,
                          "defeated_share": RELEASE_DEFEATED_SHARE}, indent=1))
    else:
        print(plan.text() + f" (ρ = {rho:.2f}). Run: spot-check --n {plan.n} --gold paper --gold-n {plan.m}")
    return 0


def add_ask(sub) -> None:
    s = sub.add_parser("ask", help="send one scenario to several models at once, judge and store the answers")
    s.add_argument("--model", action="append", required=True, help="preset key, paper slug or litellm model (repeat)")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--case-id", help="a paper case id from the store")
    src.add_argument("--scenario", help="a scenario JSON file")
    s.add_argument("--judge", help="distilled, llm:<model> or a litellm model "
                                   "(default: BR_JUDGE_MODEL, else distilled)")
    s.add_argument("--api-base", help="OpenAI-compatible base URL for typed-in models")
    s.add_argument("--temperature", type=float, default=None)
    s.add_argument("--max-tokens", type=POSITIVE, default=None)
    s.add_argument("--system-prompt", metavar="PROMPT", default="none",
                   help="none (default: the paper's setting), an example's name or a text file, sent to every model")
    s.add_argument("--timeout", type=positive_float, default=120.0, help="seconds per attempt")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_ask)


def _spot_check_params(args) -> list:
    from blindrefusal.evals.spotcheck import SpotCheckParams

    prompts = [system_prompt_of(v) for v in args.system_prompt or ["none"]]
    return [SpotCheckParams(
        model=model, n=args.n, seed=args.seed, judge=args.judge, api_base=args.api_base, allocation=args.allocation,
        exclude_dual_use=args.exclude_dual_use, families=args.family or [], authorities=args.authority or [],
        max_tokens=args.max_tokens, bridge_models=args.bridge_models, gold=args.gold, gold_n=args.gold_n,
        cases=args.cases, system_prompt=prompt, reasoning_effort=args.reasoning_effort)
        for model in args.model for prompt in prompts]


def _spot_check_bar(total: int):
    """A tqdm bar on stderr over every model's cases, and the progress callback that moves it."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc="spot-check", unit="case", file=sys.stderr, disable=None)
    done: dict[str, int] = {}
    waited: set[str] = set()

    def update(model: str, p) -> None:
        if p.waiting and model not in waited:  # said once: the sentence gives the take-over time
            waited.add(model)
            bar.write(terminal_text(p.waiting_for), file=sys.stderr)
        done[model] = p.done
        bar.n = sum(done.values())
        bar.set_postfix(stage=p.stage, errors=p.errors, waiting="yes" if p.waiting else "no", refresh=False)
        bar.refresh()

    return bar, update


def _print_spot_checks(args, plan, outcomes: list, pairs: list) -> None:
    from blindrefusal.evals.spotcheck import comparison_text, to_json

    if args.json:
        blocks = [to_json(res) | {"calls": prog.calls, "skipped_already_answered": prog.skipped,
                                   "peak_concurrency": prog.peak_concurrency, "rate_limited": prog.rate_limited}
                  for res, prog in outcomes]
        out = blocks[0] if len(blocks) == 1 else {"sample": {"n": len(plan.cases), "n_asked": plan.n_asked,
                                                             "seed": args.seed, "cases": len(plan.cases)},
                                                  "models": blocks, "pairwise": [p.as_dict() for p in pairs]}
        print(json.dumps(out, indent=1))
        return
    for res, _ in outcomes:
        print(terminal_text(f"run {res.run_id}: {res.model} on {res.n} cases; "
                            f"help rate on defeated {res.defeated.helps.fmt()}; "
                            f"rank {res.placed.rank.text()} of {res.placed.rank.of}"))
        print("  " + terminal_text(comparison_text(res)))
        if res.contamination is not None:
            print("  " + terminal_text(res.contamination.text()))
    for p in pairs:
        print(terminal_text(f"{p.a} minus {p.b}, same cases, judged by {p.judge}: help on defeated rules "
                            f"{p.diff.fmt()}, on just rules {p.by_side['control']['helps'].fmt()}"))
        print("  " + terminal_text(p.verdict))


def cmd_spot_check(args) -> int:
    from blindrefusal.evals.spotcheck import compare_runs, plan_spot_check, results, run_spot_checks
    from blindrefusal.models.calls import RunSettings
    from blindrefusal.models.spending import check_budget, spending
    from blindrefusal.models.sync import run_sync

    models_params = _spot_check_params(args)
    report = writable_file(args.report, "--report") if args.report else None
    engine = open_store()
    plan = plan_spot_check(engine, models_params)
    if plan.paid and not args.yes:
        raise CliError(f"This spot-check calls a paid model or judge. {plan.cost_text()} Re-run with --yes to go "
                       "ahead.", code=3)
    if plan.drawn_text():
        print(plan.drawn_text(), file=sys.stderr)
    check_budget(engine, len(plan.paid_calls()))
    bar, update = _spot_check_bar(plan.calls)
    try:
        with spending(engine, CLI_VISITOR):
            runs = run_sync(run_spot_checks(engine, plan.params, update, fresh=args.fresh, concurrency=args.concurrency,
                                            settings=RunSettings(timeout_s=args.timeout, stream=False)))
    finally:
        bar.close()
    run_ids = [run_id for run_id, _ in runs]
    outcomes = [(results(engine, run_id), prog) for run_id, prog in runs]
    pairs = compare_runs(engine, run_ids) if len(runs) > 1 else []
    if report is not None:
        from blindrefusal.evals.spotcheck.report import spot_check_report

        report.write_text(spot_check_report(engine, run_ids), encoding="utf-8")
        print(f"report written to {report}", file=sys.stderr)
    if args.gold == "reviewers":
        for run_id in run_ids:
            print(f"gold labels: our reviewers label run {run_id}'s random {args.gold_n} in the app, at "
                  f"/cases?queue=gold&qrun={run_id}", file=sys.stderr)
    _print_spot_checks(args, plan, outcomes, pairs)
    failed = [res for res, _ in outcomes if res.n == 0 and res.errors]
    if len(failed) == len(outcomes):
        print(terminal_text(f"error: every case failed for {', '.join(res.model for res in failed)} "
                            "(see History or the runs' responses)"), file=sys.stderr)
        return 1
    return 0


def _scenario_from_args(args, engine) -> dict:
    from blindrefusal import store
    from blindrefusal.runs.scenario import from_case

    if args.case_id is not None:
        if not args.case_id.strip():
            raise CliError("--case-id is empty: give a paper case id (see the Cases page)")
        case = store.get_case(engine, args.case_id)
        if case is None:
            raise CliError(f"no case {args.case_id[:80]!r} in the store (import the paper first?)")
        return from_case(case)
    return read_json_file(args.scenario, "--scenario")


def _store_for_ask(args, calls):
    """The store, opened (upgraded, or said to be unusable) before any model is called, or, where it is a SQLite
    file already at this schema and nothing needs it first, the factory that opens it while the models think:
    a cold `ask` then does not wait for SQLAlchemy before its first request."""
    from blindrefusal import store
    from blindrefusal.models.spending import paid

    if args.case_id is not None or paid(calls) or not store.is_current():
        return open_store()
    return open_store


def cmd_ask(args) -> int:
    from blindrefusal.judges import JudgeUnavailable, usable_judge
    from blindrefusal.models.calls import RunSettings
    from blindrefusal.models.presets import resolve
    from blindrefusal.models.spending import spending
    from blindrefusal.models.sync import run_sync
    from blindrefusal.runs.live import answer_json, run_live
    from blindrefusal.runs.scenario import ScenarioError, validate

    system_prompt = system_prompt_of(args.system_prompt)
    settings = {"system_prompt": system_prompt} if system_prompt else {}
    specs = [resolve(m, api_base=args.api_base, temperature=args.temperature, max_tokens=args.max_tokens, **settings)
             for m in args.model]
    try:
        judge = usable_judge(args.judge)  # said before any model is called
    except JudgeUnavailable as exc:
        raise CliError(f"--judge: {exc}") from None
    engine = _store_for_ask(args, specs + ([judge.spec] if judge.spec else []))
    try:
        scenario = validate(_scenario_from_args(args, engine))
    except ScenarioError as exc:
        raise CliError("invalid scenario: " + " ".join(exc.problems)) from None
    with spending(engine, CLI_VISITOR):
        run = run_sync(run_live(engine, scenario, specs, args.judge, settings=RunSettings(timeout_s=args.timeout)))
    if args.json:
        print(json.dumps([answer_json(a, run.judge_name) for a in run.answers], indent=1))
    else:
        for a in run.answers:
            v = answer_json(a, run.judge_name)["judgment"] or {}
            print(terminal_text(f"{a.call.model_key}: {a.call.status} {v.get('response_type', '')} "
                                f"{a.call.error or ''}"))
        print(run.summary())
    print(f"stored as run {run.run_id}", file=sys.stderr)
    if all(a.call.status == STATUS_ERROR for a in run.answers):
        print("error: every model call failed (see the errors above)", file=sys.stderr)
        return 1
    return 0
