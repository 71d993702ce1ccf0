"""`python -m blindrefusal <command>`. Each command imports only what it needs (cold start matters).

Bad input of any kind ends in one line on stderr and a non-zero exit, never a traceback:
argument errors exit 2 from the parser, known errors (a bad file, store or setting) return 2, and an
unexpected failure returns 1 with its one-line summary (BR_DEBUG=1 shows the traceback)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from .config import DATA_DIR, data_source


class CliError(Exception):
    """A user-facing, one-line reason why a command cannot run (exit code 2, or `code`: 3 = confirm a cost)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {' '.join(message.split())}", file=sys.stderr)  # one line, always
        raise SystemExit(2)


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more (got {value})")
        return value

    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number (got {text})")
    return value


def _store():
    from . import store

    return store.open_default()


def _read_json_file(path: str, what: str) -> Any:
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{what} {path!r} is not a file")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CliError(f"{what} {path!r} is not UTF-8 text") from None
    except RecursionError:
        raise CliError(f"{what} {path!r} is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        raise CliError(f"{what} {path!r} is not valid JSON: {str(exc)[:120]}") from None
    except OSError as exc:
        raise CliError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from None


def _writable_file(path: str, what: str) -> Path:
    p = Path(path)
    if p.is_dir():
        raise CliError(f"{what} {path!r} is a directory; give a file path")
    if not p.parent.is_dir():
        raise CliError(f"{what} {path!r}: the folder {str(p.parent)!r} does not exist")
    return p


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

    engine = _store()
    bar, update = _progress_bar("import-paper")
    try:
        result = import_paper(args.source or data_source(), engine=engine, progress=update)
    except ReleaseError as exc:
        raise CliError(f"import failed, the store is unchanged: {exc}") from None
    finally:
        bar.close()
    print(json.dumps(result))
    return 0


def cmd_ensure_store(args) -> int:
    """Import the paper when the store holds none of it; never fail `make run` for want of the data."""
    from . import store

    engine = _store()
    if store.has_paper(engine):
        print("store: the paper is already imported")
        if store.release_prompt(engine, "evaluate_response") is None and os.environ.get("BR_DATA_SOURCE"):
            from .importer import import_prompts
            from .release import ReleaseError

            try:
                print(f"store: added the release's prompts: {', '.join(import_prompts(data_source(), engine)) or 'none found'}")
            except ReleaseError as exc:
                print(f"store: the release's prompts were not added: {exc}")
        return 0
    try:
        return cmd_import_paper(argparse.Namespace(source=None))
    except CliError as exc:
        print(f"store: {exc}. The app shows the shipped summary (data/paper_summary.csv); set BR_DATA_SOURCE "
              "and run `python -m blindrefusal import-paper` for cases and responses.", file=sys.stderr)
        return 0


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def cmd_stats(args) -> int:
    from .metrics import store_stats

    stats = store_stats(_store(), judge=args.judge)
    if args.json:
        print(json.dumps(stats, indent=1))
        return 0
    d, c = stats["defeated"], stats["control"]
    print(f"{stats['responses']:,} judged responses, {stats['cases']:,} cases, {stats['models']} models")
    print(f"defeated n={d['n']:,}: helps {_pct(d['helps'])}, refusal {_pct(d['refusal'])}, engages {_pct(d['engages'])}")
    print(f"control n={c['n']:,}: helps {_pct(c['helps'])}")
    return 0


def cmd_export_summary(args) -> int:
    from . import store

    path = _writable_file(args.output, "--output")
    try:
        n = store.export_summary(_store(), path)
    except ValueError as exc:  # refusing to write an empty summary over an existing one
        raise CliError(str(exc)) from None
    print(f"wrote {n} rows to {path}")
    return 0


def _scenario_from_args(args, engine) -> dict:
    from . import store
    from .scenario import from_case

    if args.case_id is not None:
        if not args.case_id.strip():
            raise CliError("--case-id is empty: give a paper case id (see the Cases page)")
        case = store.get_case(engine, args.case_id)
        if case is None:
            raise CliError(f"no case {args.case_id[:80]!r} in the store (import the paper first?)")
        return from_case(case)
    return _read_json_file(args.scenario, "--scenario")


def cmd_ask(args) -> int:
    from .judges import JudgeUnavailable, get_judge
    from .live import answer_json, run_live
    from .registry import resolve
    from .runner import RunSettings, run_sync
    from .scenario import ScenarioError, validate

    engine = _store()  # upgraded and checked before any model is called
    try:
        scenario = validate(_scenario_from_args(args, engine))
    except ScenarioError as exc:
        raise CliError("invalid scenario: " + " ".join(exc.problems)) from None
    specs = [resolve(m, api_base=args.api_base, temperature=args.temperature, max_tokens=args.max_tokens)
             for m in args.model]
    try:
        get_judge(args.judge)  # said before any model is called
    except JudgeUnavailable as exc:
        raise CliError(f"--judge: {exc}") from None
    run = run_sync(run_live(engine, scenario, specs, args.judge, settings=RunSettings(timeout_s=args.timeout)))
    if args.json:
        print(json.dumps([answer_json(a, run.judge_name) for a in run.answers], indent=1))
    else:
        for a in run.answers:
            v = answer_json(a, run.judge_name)["judgment"] or {}
            print(f"{a.call.model_key}: {a.call.status} {v.get('response_type', '')} {a.call.error or ''}")
        print(run.summary())
    print(f"stored as run {run.run_id}", file=sys.stderr)
    if all(a.call.status == "error" for a in run.answers):
        print("error: every model call failed (see the errors above)", file=sys.stderr)
        return 1
    return 0


def cmd_rejudge(args) -> int:
    from .live import rejudge
    from .runner import run_sync

    print(json.dumps(run_sync(rejudge(_store(), None, args.judge, limit=args.limit))))
    return 0


def _confirm_cost(estimates: dict) -> None:
    said = " ".join(f"{model}: {est.text()}" for model, est in estimates.items())
    raise CliError(f"This spot-check calls a paid model or judge. {said} Re-run with --yes to go ahead.", code=3)


def cmd_spot_check(args) -> int:
    from . import store
    from .judges import JudgeUnavailable
    from .runner import RunSettings, run_sync
    from .spotcheck import SpotCheckParams, compare_runs, estimate_cost, results, run_spot_checks, sample_cases

    models_params = [SpotCheckParams(
        model=model, n=args.n, seed=args.seed, judge=args.judge, api_base=args.api_base, allocation=args.allocation,
        exclude_dual_use=args.exclude_dual_use, families=args.family or [], authorities=args.authority or [],
        max_tokens=args.max_tokens, bridge_models=args.bridge_models).check() for model in args.model]
    if len(set(args.model)) != len(args.model):
        raise CliError(f"--model {next(m for m in args.model if args.model.count(m) > 1)!r} is given twice")
    report = _writable_file(args.report, "--report") if args.report else None
    engine = _store()
    if not store.has_paper(engine):
        raise CliError("no paper cases in the store to sample from: run `python -m blindrefusal import-paper` first")
    cases = sample_cases(engine, models_params[0])  # one sample for every model
    if not cases:
        raise CliError("no paper case matches these --family / --authority / --exclude-dual-use filters")
    try:
        estimates = {p.model: estimate_cost(engine, p, cases) for p in models_params}
    except JudgeUnavailable as exc:
        raise CliError(f"--judge: {exc}") from None
    if any(est.paid for est in estimates.values()) and not args.yes:
        _confirm_cost(estimates)
    from tqdm import tqdm

    bar = tqdm(total=len(cases) * len(models_params), desc="spot-check", unit="case", file=sys.stderr, disable=None)
    done: dict[str, int] = {}

    def update(model: str, p) -> None:
        done[model] = p.done
        bar.n = sum(done.values())
        bar.set_postfix(stage=p.stage, errors=p.errors, waiting="yes" if p.waiting else "no", refresh=False)
        bar.refresh()

    try:
        runs = run_sync(run_spot_checks(engine, models_params, update, fresh=args.fresh, concurrency=args.concurrency,
                                        settings=RunSettings(timeout_s=args.timeout, stream=False)))
    finally:
        bar.close()
    outcomes = [(results(engine, run_id), prog) for run_id, prog in runs]
    pairs = compare_runs(engine, [run_id for run_id, _ in runs]) if len(runs) > 1 else []
    if report is not None:
        from .spot_report import spot_check_report

        report.write_text(spot_check_report(engine, [run_id for run_id, _ in runs]), encoding="utf-8")
        print(f"report written to {report}", file=sys.stderr)
    if args.json:
        blocks = [res.to_json() | {"calls": prog.calls, "skipped_already_answered": prog.skipped,
                                   "peak_concurrency": prog.peak_concurrency, "rate_limited": prog.rate_limited}
                  for res, prog in outcomes]
        out = blocks[0] if len(blocks) == 1 else {"sample": {"n": args.n, "seed": args.seed, "cases": len(cases)},
                                                  "models": blocks, "pairwise": [p.as_dict() for p in pairs]}
        print(json.dumps(out, indent=1))
    else:
        for res, _ in outcomes:
            print(f"run {res.run_id}: {res.model} on {res.n} cases; help rate on defeated {res.defeated.helps.fmt()}; "
                  f"rank {res.rank.text()} of {res.rank.of}")
            print("  " + res.comparison_text())
        for p in pairs:
            print(f"{p.a} minus {p.b}, same cases, judged by {p.judge}: {p.diff.fmt()}, n = {p.diff.n}")
    failed = [res for res, _ in outcomes if res.n == 0 and res.errors]
    if len(failed) == len(outcomes):
        print(f"error: every case failed for {', '.join(res.model for res in failed)} (see History or the runs' "
              "responses)", file=sys.stderr)
        return 1
    return 0


def cmd_train_judge(args) -> int:
    from .judges.train import train

    out_dir = Path(args.output_dir)
    if not out_dir.is_dir():
        raise CliError(f"--output-dir {args.output_dir!r} is not a folder")
    metrics = train(args.source or data_source(), out_dir, seed=args.seed)
    print(json.dumps(metrics, indent=1, default=str))
    return 0


def cmd_judge_eval(args) -> int:
    from .agreement import EVAL_FILE
    from .judges.train import evaluate

    source = args.source or data_source()
    if args.leave_one_model_out:
        return _leave_one_model_out(args, source)
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


def _leave_one_model_out(args, source: str) -> int:
    from .agreement import LOMO_PATH
    from .judges.lomo import leave_one_model_out

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
              f"{s['unseen']['engagement_error_pp']['mean_abs']} pp, max {s['unseen']['engagement_error_pp']['max_abs']} pp")
    return 0


def cmd_judge(args) -> int:
    if args.judge != "distilled":
        raise CliError("only --judge distilled is supported from files (LLM judges run in ask / spot-check)")
    source = Path(args.input)
    if not source.is_file():
        raise CliError(f"--input {args.input!r} is not a file")
    target = _writable_file(args.output, "--output")
    if target.exists() and (target.resolve() == source.resolve() or os.path.samefile(target, source)):
        raise CliError("--output is the --input file: give another path (the input would be overwritten)")
    from .judges.distilled import judge_jsonl

    out = judge_jsonl(source, target)
    print(json.dumps(out, default=str), file=sys.stderr)
    return 0


POSITIVE, NON_NEGATIVE = _int_at_least(1), _int_at_least(0)


def _add_store_commands(sub) -> None:
    s = sub.add_parser("import-paper", help="import the paper's release into the store (idempotent, atomic)")
    s.add_argument("--source", help="directory, .zip or URL of the release (default: $BR_DATA_SOURCE)")
    s.set_defaults(func=cmd_import_paper)
    s = sub.add_parser("ensure-store", help="import the paper if the store is empty (used by make)")
    s.set_defaults(func=cmd_ensure_store)
    s = sub.add_parser("stats", help="headline numbers of the store")
    s.add_argument("--json", action="store_true")
    s.add_argument("--judge", help="use only this judge's labels, or '(effective)' for our reviewers' corrections "
                                   "(default: the release's own labels, as published)")
    s.set_defaults(func=cmd_stats)
    s = sub.add_parser("export-summary", help="write data/paper_summary.csv (counts only, no text)")
    s.add_argument("--output", default=str(DATA_DIR / "paper_summary.csv"))
    s.set_defaults(func=cmd_export_summary)


def _add_ask(sub) -> None:
    s = sub.add_parser("ask", help="send one scenario to several models at once, judge and store the answers")
    s.add_argument("--model", action="append", required=True, help="preset key, paper slug or litellm model (repeat)")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--case-id", help="a paper case id from the store")
    src.add_argument("--scenario", help="a scenario JSON file")
    s.add_argument("--judge", help="distilled, llm:<model> or a litellm model (default: BR_JUDGE_MODEL, else distilled)")
    s.add_argument("--api-base", help="OpenAI-compatible base URL for typed-in models")
    s.add_argument("--temperature", type=float, default=None)
    s.add_argument("--max-tokens", type=POSITIVE, default=None)
    s.add_argument("--timeout", type=_positive_float, default=120.0, help="seconds per attempt")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_ask)


def _add_spot_check(sub) -> None:
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
    s.add_argument("--concurrency", type=POSITIVE, help="fixed cap (default: adaptive, per-provider cap)")
    s.add_argument("--allocation", choices=["equal", "proportional"], default="equal")
    s.add_argument("--exclude-dual-use", action="store_true")
    s.add_argument("--family", action="append", help="restrict to a family (repeat)")
    s.add_argument("--authority", action="append", help="restrict to an authority type (repeat)")
    s.add_argument("--max-tokens", type=POSITIVE)
    s.add_argument("--timeout", type=_positive_float, default=120.0)
    s.add_argument("--fresh", action="store_true", help="new calls even for cases already answered")
    s.add_argument("--yes", action="store_true", help="confirm a run against a paid model")
    s.add_argument("--json", action="store_true")
    s.add_argument("--report", metavar="FILE", help="also write a self-contained HTML report (opens offline)")
    s.set_defaults(func=cmd_spot_check)


def _add_judge_commands(sub) -> None:
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
    s.add_argument("--leave-one-model-out", action="store_true",
                   help="refit without each paper model and score it on its held-out answers (~5 min per model); "
                        "with --write, data/distilled_judge_lomo.json is written model by model and resumed")
    s.add_argument("--lomo-model", action="append", metavar="SLUG",
                   help="only these paper models (repeat), for --leave-one-model-out")
    s.add_argument("--lomo-train-sample", type=POSITIVE, metavar="N",
                   help="fit on N random training answers: a quick, weaker check (never --write)")
    s.set_defaults(func=cmd_judge_eval)
    s = sub.add_parser("judge", help="judge a JSONL file offline")
    s.add_argument("--judge", default="distilled")
    s.add_argument("--input", required=True)
    s.add_argument("--output", required=True)
    s.set_defaults(func=cmd_judge)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m blindrefusal", description="Blind Refusal Explorer command line")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in (_add_store_commands, _add_ask, _add_spot_check, _add_judge_commands):
        add(sub)
    return p


def _known_errors() -> tuple[type[BaseException], ...]:
    from .labels import LabelError
    from .release import ReleaseError
    from .spotcheck import SpotCheckError
    from .store import StoreError

    return CliError, StoreError, ReleaseError, SpotCheckError, LabelError


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into one line
        if os.environ.get("BR_DEBUG"):
            raise
        known = isinstance(exc, _known_errors())
        message = " ".join(str(exc).split()) or type(exc).__name__
        if not known:
            message = f"{type(exc).__name__}: {message} (set BR_DEBUG=1 for the traceback)"
        print(f"error: {message[:2000]}", file=sys.stderr)
        return (exc.code if isinstance(exc, CliError) else 2) if known else 1
