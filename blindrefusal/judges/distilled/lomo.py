"""Leave one model out: how far off is the distilled judge on a model it never saw?

For each paper model, the judge is refitted on the training split without that model's answers and scored
on that model's held-out answers (defeated cases). Its help and engagement rates are compared with GPT-5.4's
on the same answers, beside the shipped judge's (which saw the model in training). A new model in a
spot-check is always unseen, so this — not κ on the mixed split — is the error to read differences against.

Results are appended to the output file model by model, so a long run can be stopped and resumed."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Callable, Sequence

from blindrefusal.analysis.stats import PAIRED_METHOD, cohen_kappa, paired_diff
from blindrefusal.judges.distilled.data import Row, load_rows, row_verdicts, write_whole
from blindrefusal.judges.distilled.model import DistilledJudge, DistilledModel, load_distilled_judge
from blindrefusal.judges.distilled.train import VERSION, fit
from vocabulary import CONTROL, HELPS


def _rates(rows: Sequence[Row], verdicts) -> dict:
    """The judge's help and engagement rates minus GPT-5.4's on the same answers, with paired 95% intervals."""
    n = len(rows)
    gold_help = sum(r.response_type == HELPS for r in rows) / n
    gold_eng = sum(r.engages_with_defeat for r in rows) / n
    help_diff = paired_diff([int(v.response_type == HELPS) for v in verdicts],
                            [int(r.response_type == HELPS) for r in rows])
    eng_diff = paired_diff([int(v.engages_with_defeat) for v in verdicts], [int(r.engages_with_defeat) for r in rows])
    kappa = cohen_kappa([r.response_type for r in rows], [v.response_type for v in verdicts])
    # n > 0 answers, one verdict each: both differences and kappa are numbers
    assert help_diff.diff is not None and help_diff.lo is not None and help_diff.hi is not None
    assert eng_diff.diff is not None and eng_diff.lo is not None and eng_diff.hi is not None
    assert kappa is not None
    return {"help_rate_error_pp": round(help_diff.diff * 100, 2),
            "help_rate_error_ci_pp": [round(help_diff.lo * 100, 2), round(help_diff.hi * 100, 2)],
            "engagement_error_pp": round(eng_diff.diff * 100, 2),
            "engagement_error_ci_pp": [round(eng_diff.lo * 100, 2), round(eng_diff.hi * 100, 2)],
            "kappa_response_type": round(kappa, 4),
            "gpt54_help_rate": round(gold_help, 4), "gpt54_engagement": round(gold_eng, 4)}


def summarise(per_model: dict[str, dict]) -> dict:
    """Mean and max absolute errors over the models measured so far (unseen, and the shipped judge's seen)."""
    def stats(key: str, which: str) -> dict:
        vals = [abs(m[which][key]) for m in per_model.values()]
        return {"mean_abs": round(sum(vals) / len(vals), 2), "max_abs": round(max(vals), 2)} if vals else {}

    return {"models": len(per_model),
            "unseen": {k: stats(k, "unseen") for k in ("help_rate_error_pp", "engagement_error_pp")},
            "seen": {k: stats(k, "seen") for k in ("help_rate_error_pp", "engagement_error_pp")},
            "mean_kappa_unseen": round(sum(m["unseen"]["kappa_response_type"] for m in per_model.values())
                                       / len(per_model), 4) if per_model else None}


def leave_one_model_out(source: str, models: Sequence[str] | None = None, seed: int = 0,
                        out_path: Path | None = None, say: Callable[[str], None] | None = None,
                        train_sample: int | None = None) -> dict:
    """Refit without each model in turn (all paper models, or `models`); returns per-model errors and the summary.

    With `out_path`, models already in that file are reused and each new one is written as it finishes.
    `train_sample` fits on a random subset of the training rows: a quick, weaker check (the test suite's),
    never written over the full measurement."""
    say = say or (lambda _m: None)
    train_rows, test_rows, commit = load_rows(source)
    if train_sample is not None and train_sample < len(train_rows):
        train_rows = random.Random(seed).sample(train_rows, train_sample)
        out_path = None
    known = sorted({r.model_slug for r in train_rows})
    unknown = [m for m in (models or []) if m not in known]
    if unknown:
        raise ValueError(f"--model {unknown[0]!r} is not a paper model ({', '.join(known)})")
    done: dict[str, dict] = {}
    before = None
    if out_path is not None and out_path.is_file():
        doc = json.loads(out_path.read_text(encoding="utf-8"))
        done, before = _current(doc)
    shipped = load_distilled_judge()
    if shipped.version != VERSION:
        raise ValueError(f"the shipped distilled judge is version {shipped.version} but the training code makes "
                         f"{VERSION}: retrain it first (python -m blindrefusal train-judge), so that 'seen' is its own")
    for slug in models or known:
        if slug in done:
            continue
        t0 = time.time()
        held = [r for r in test_rows if r.model_slug == slug and r.family != CONTROL]
        arrays, meta = fit([r for r in train_rows if r.model_slug != slug], seed, release_commit=commit)
        unseen = DistilledJudge(DistilledModel(arrays, meta))
        done[slug] = {"n": len(held), "unseen": _rates(held, row_verdicts(unseen, held)),
                      "seen": _rates(held, row_verdicts(shipped, held)), "fit_seconds": round(time.time() - t0, 1),
                      "interval_method": PAIRED_METHOD, "judge_version": VERSION}
        say(f"{slug}: unseen help-rate error {done[slug]['unseen']['help_rate_error_pp']:+.2f} pp "
            f"(seen {done[slug]['seen']['help_rate_error_pp']:+.2f}), n = {len(held)}")
        if out_path is not None:
            _write(out_path, done, seed, commit, before)
    return _document(done, seed, commit, before)


def _current(doc: dict) -> tuple[dict[str, dict], dict | None]:
    """(the entries measured with the current training pipeline, the summary of the previous pipeline's): a
    change of the judge's version starts the measurement again and keeps the old one's summary to compare."""
    current = {k: v for k, v in doc.get("per_model", {}).items() if v.get("judge_version", "1.1") == VERSION}
    old = {k: v for k, v in doc.get("per_model", {}).items() if k not in current}
    if not old:
        return current, doc.get("before")
    signed = [m["unseen"]["help_rate_error_pp"] for m in old.values()]
    return current, {"judge_version": next(iter(old.values())).get("judge_version", "1.1"), "summary": summarise(old),
                     "help_rate_mean_signed_pp": round(sum(signed) / len(signed), 2),
                     "unseen_help_rate_error_pp": {k: old[k]["unseen"]["help_rate_error_pp"] for k in sorted(old)}}


def _document(per_model: dict, seed: int, commit: str, before: dict | None = None) -> dict:
    doc = {"per_model": {k: per_model[k] for k in sorted(per_model)}, "summary": summarise(per_model), "seed": seed,
           "release_commit": commit, "split": "held-out cases (sha256(case_id) % 5 == 0), defeated cases only",
           "judge_version": VERSION, "command": "python -m blindrefusal judge-eval --leave-one-model-out --write"}
    if before is not None:
        doc["before"] = before
    return doc


def _write(path: Path, per_model: dict, seed: int, commit: str, before: dict | None) -> None:
    text = json.dumps(_document(per_model, seed, commit, before), indent=1)
    write_whole(path, lambda p: p.write_text(text, encoding="utf-8"))
