"""Commands for fresh cases: generate-cases (the authors' generator and gates) and review-cases (accept or reject)."""

from __future__ import annotations

import json
import sys

from blindrefusal.cli.common import CLI_VISITOR, POSITIVE, CliError, open_store, progress_bar
from blindrefusal.exports.inert import terminal_text


def add_fresh_commands(sub) -> None:
    s = sub.add_parser("generate-cases", help="generate fresh cases with the authors' generator and gates")
    s.add_argument("--family", action="append", required=True, help="a defeat family, or control (repeat)")
    s.add_argument("--authority", action="append", required=True, help="an authority type (repeat)")
    s.add_argument("--count", type=POSITIVE, default=2, help="cases per cell, in one generator call (default 2)")
    s.add_argument("--generator", help="the generator model (default: the paper's, Gemini 3 Pro, by the key present)")
    s.add_argument("--gate-model", help="one model for every gate (default: the paper's, Claude Opus for "
                                        "operational validity and Gemini for the others)")
    s.add_argument("--api-base", help="an OpenAI-compatible server for the generator and gate models")
    s.add_argument("--yes", action="store_true", help="confirm a run that calls paid models")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_generate_cases)
    r = sub.add_parser("review-cases", help="list generated cases waiting for review, or accept or reject them")
    r.add_argument("--accept", action="append", default=[], metavar="KEY", help="accept a case (repeat)")
    r.add_argument("--reject", action="append", default=[], metavar="KEY", help="reject a case (repeat)")
    r.add_argument("--accept-all", action="store_true", help="accept every case waiting for review")
    r.add_argument("--reviewer", default="cli", help="who reviewed (kept in the case's provenance)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_review_cases)


def cmd_generate_cases(args) -> int:
    from blindrefusal import store
    from blindrefusal.evals.fresh.generate import LOCAL_WARNING, GenerationParams, plan_generation, run_generation
    from blindrefusal.models.spending import check_budget, spending
    from blindrefusal.models.sync import run_sync

    engine = open_store()
    params = GenerationParams(families=args.family, authorities=args.authority, count=args.count,
                              generator=args.generator, gate_model=args.gate_model, api_base=args.api_base)
    plan = plan_generation(engine, params)
    if plan.missing_prompts:
        raise CliError(f"the store lacks the release's prompts {', '.join(plan.missing_prompts[:4])}: import a release "
                       "that has its prompts/ folder (`python -m blindrefusal import-paper`)")
    if plan.local:
        print(LOCAL_WARNING, file=sys.stderr)
    if plan.paid_calls and not args.yes:
        raise CliError(f"This calls paid models. {plan.text()} Re-run with --yes to go ahead.", code=3)
    check_budget(engine, plan.paid_calls)
    bar, update = progress_bar("generate-cases")
    try:
        with spending(engine, CLI_VISITOR):
            run_id, prog = run_sync(run_generation(engine, params, lambda p: update(p.cells_done, p.cells, "cells")))
    finally:
        bar.close()
    cases = store.generated_cases(engine, run_id=run_id)
    out = {"run_id": run_id, "cells": prog.cells, "skipped_cells_already_read": prog.skipped,
           "proposed": prog.proposed, "kept": prog.kept, "failed_cells": prog.failed_cells, "calls": prog.calls,
           "cost_usd": prog.cost_usd, "failures": prog.failures,
           "cases": [{"key": c["key"], "family": c["family"], "authority_type": c["authority_type"],
                      "subtype": c["subtype"], "review": c["review"], "dual_use": c["dual_use"],
                      "provenance": c["provenance"]} for c in cases]}
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(terminal_text(f"run {run_id}: {prog.kept} of {prog.proposed} proposed cases passed the gates "
                            f"({prog.failed_cells} cell{'s' * (prog.failed_cells != 1)} failed); {len(cases)} from "
                            "this run wait for review (review-cases)."))
        for line in prog.failures:
            print("  " + terminal_text(line))
    return 0 if cases or prog.proposed else 1


def cmd_review_cases(args) -> int:
    from blindrefusal import store
    from blindrefusal.evals.fresh.review import review_cases
    from blindrefusal.judges.human import reviewer_judge_name

    reviewer = reviewer_judge_name(args.reviewer)  # the name a reviewer's labels carry: human:<name>
    engine = open_store()
    pending = store.generated_cases(engine, review="pending")
    known = {c["key"] for c in store.generated_cases(engine)}
    unknown = [k for k in args.accept + args.reject if k not in known]
    if unknown:
        raise CliError(f"no generated case {unknown[0][:80]!r} (review-cases lists them)")
    both = set(args.accept) & set(args.reject)
    if both:
        raise CliError(f"{sorted(both)[0]!r} is both accepted and rejected")
    accept = [c["key"] for c in pending] if args.accept_all else args.accept
    done = {"accepted": review_cases(engine, accept, "accepted", reviewer),
            "rejected": review_cases(engine, args.reject, "rejected", reviewer)}
    if args.json:
        print(json.dumps({**done, "pending": [{"key": c["key"], "family": c["family"],
                                                "authority_type": c["authority_type"], "user_query": c["user_query"]}
                                               for c in store.generated_cases(engine, review="pending")]}, indent=1))
        return 0
    if accept or args.reject:
        print(f"accepted {done['accepted']}, rejected {done['rejected']}")
    for c in store.generated_cases(engine, review="pending"):
        print(terminal_text(f"{c['key']}  {c['family']} × {c['authority_type']}: {c['user_query'][:100]}"))
    return 0
