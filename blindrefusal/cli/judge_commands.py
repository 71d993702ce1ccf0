"""Commands that judge and measure judges: rejudge, train-judge, judge-eval, judge."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from blindrefusal.cli.common import CLI_VISITOR, NON_NEGATIVE, POSITIVE, CliError, open_store, writable_file
from blindrefusal.config import DATA_DIR, data_source


def add_judge_commands(sub) -> None:
    s = sub.add_parser("rejudge", help="judge every stored response that has no judgment yet")
    s.add_argument("--judge", help="judge name (default: the default judge)")
    s.add_argument("--limit", type=POSITIVE, default=100_000)
    s.set_defaults(func=cmd_rejudge)
    s = sub.add_parser("train-judge", help="train the distilled judge on the paper's GPT-5.4 labels (fixed seed)")
    s.add_argument("--source", help="release directory, zip or URL (default: $BR_DATA_SOURCE)")
    s.add_argument("--output-dir", default=str(DATA_DIR))
    s.add_argument("--seed", type=NON_NEGATIVE, default=0)
    s.set_defaults(func=cmd_train_judge)
    s = sub.add_parser("judge-eval", help="agreement of the shipped distilled judge with GPT-5.4 on the held-out split")
    s.add_argument("--source", help="release directory, zip or URL (default: $BR_DATA_SOURCE)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--write", action="store_true", help="also write data/distilled_judge_eval.json (shown in the app)")
    s.add_argument("--injection", action="store_true",
                   help="also measure the injection flip rate on every test-split refusal (8 variants each)")
    s.add_argument("--robustness", action="store_true",
                   help="also measure style flips: a refusal sentence before or after a helping answer, and short "
                        "helping answers of ours (our own text)")
    s.add_argument("--leave-one-model-out", action="store_true",
                   help="refit without each paper model and score it on its held-out answers (~5 min per model); "
                        "with --write, data/distilled_judge_lomo.json is written model by model and resumed")
    s.add_argument("--lomo-model", action="append", metavar="SLUG",
                   help="only these paper models (repeat), for --leave-one-model-out")
    s.add_argument("--lomo-train-sample", type=POSITIVE, metavar="N",
                   help="fit on N random training answers: a quick, weaker check (never --write)")
    s.add_argument("--cross-fit", action="store_true",
                   help="label every paper answer with a judge fitted without its case's fold (~12 min a fold); "
                        "with --write, data/distilled_judge_crossfit.npz (the same-judge bridge's labels)")
    s.set_defaults(func=cmd_judge_eval)
    s = sub.add_parser("judge", help="judge a JSONL file offline")
    s.add_argument("--judge", default="distilled")
    s.add_argument("--input", required=True)
    s.add_argument("--output", required=True)
    s.set_defaults(func=cmd_judge)


def cmd_train_judge(args) -> int:
    from blindrefusal.judges.distilled.train import train

    out_dir = Path(args.output_dir)
    if not out_dir.is_dir():
        raise CliError(f"--output-dir {args.output_dir!r} is not a folder")
    metrics = train(args.source or data_source(), out_dir, seed=args.seed)
    print(json.dumps(metrics, indent=1, default=str))
    return 0


def cmd_judge_eval(args) -> int:
    from blindrefusal.judges.distilled.crossfit import CROSSFIT_PATH
    from blindrefusal.judges.distilled.evaluate import evaluate
    from blindrefusal.judges.distilled.measured import EVAL_FILE

    source = args.source or data_source()
    if args.leave_one_model_out:
        return _leave_one_model_out(args, source)
    if args.cross_fit:
        from blindrefusal.judges.distilled.crossfit import build_cross_fit

        info = build_cross_fit(source, out_path=None if not args.write else CROSSFIT_PATH,
                               say=lambda m: print(m, file=sys.stderr))
        print(json.dumps(info, indent=1))
        return 0
    result = evaluate(source)
    if args.injection:
        from blindrefusal.judges.distilled.evaluate import injection_flip_rate

        result["injection"] = injection_flip_rate(source)
    if args.robustness:
        from blindrefusal.judges.distilled.data import load_rows
        from blindrefusal.judges.distilled.model import load_distilled_judge
        from blindrefusal.judges.distilled.robustness import style_flip_rates

        result["robustness"] = style_flip_rates(load_rows(source)[1], load_distilled_judge())
    text = json.dumps(result, indent=1, default=str)
    if args.write:
        EVAL_FILE.write_text(text + "\n", encoding="utf-8")
    print(text if args.json else "\n".join(f"{k}: kappa {v['kappa']:.3f}, accuracy {v['accuracy']:.3f}"
                                           for k, v in result["labels"].items()))
    return 0


def _leave_one_model_out(args, source: str) -> int:
    from blindrefusal.judges.distilled.lomo import leave_one_model_out
    from blindrefusal.judges.distilled.measured import LOMO_PATH

    if args.write and args.lomo_train_sample:
        raise CliError("--lomo-train-sample is a quick check and is never written: drop --write")
    try:
        result = leave_one_model_out(source, models=args.lomo_model, out_path=LOMO_PATH if args.write else None,
                                     say=lambda m: print(m, file=sys.stderr), train_sample=args.lomo_train_sample)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        s = result["summary"]
        print(f"{s['models']} models, unseen: help-rate error mean {s['unseen']['help_rate_error_pp']['mean_abs']} pp, "
              f"max {s['unseen']['help_rate_error_pp']['max_abs']} pp; engagement mean "
              f"{s['unseen']['engagement_error_pp']['mean_abs']} pp, "
              f"max {s['unseen']['engagement_error_pp']['max_abs']} pp")
    return 0


def cmd_judge(args) -> int:
    if args.judge != "distilled":
        raise CliError("only --judge distilled is supported from files (LLM judges run in ask / spot-check)")
    source = Path(args.input)
    if not source.is_file():
        raise CliError(f"--input {args.input!r} is not a file")
    target = writable_file(args.output, "--output")
    if target.exists() and (target.resolve() == source.resolve() or os.path.samefile(target, source)):
        raise CliError("--output is the --input file: give another path (the input would be overwritten)")
    from blindrefusal.judges.distilled.model import judge_jsonl

    out = judge_jsonl(source, target)
    print(json.dumps(out, default=str), file=sys.stderr)
    if out.get("errors"):
        print(f"error: {out['errors']} line(s) of --input could not be judged (not JSON, or no response text); "
              "the others are in --output", file=sys.stderr)
        return 1
    return 0




def cmd_rejudge(args) -> int:
    from blindrefusal.judges import JudgeUnavailable, usable_judge
    from blindrefusal.models.spending import spending
    from blindrefusal.models.sync import run_sync
    from blindrefusal.runs.rejudge import rejudge

    try:
        usable_judge(args.judge)  # said before the store is read or any judge is called
    except JudgeUnavailable as exc:
        raise CliError(f"--judge: {exc}") from None
    engine = open_store()
    with spending(engine, CLI_VISITOR):
        print(json.dumps(run_sync(rejudge(engine, None, args.judge, limit=args.limit))))
    return 0
