"""The same-judge bridge's shift, before and after cross-fitting: the distilled judge's help rate minus GPT-5.4's
on each paper model's answers (defeated cases), from the shipped judge (which was trained on the training split's
answers) and from the cross-fitted labels (each answer labelled by a judge that never saw its case).

A bridge that remembers shows a small shift on training cases and a larger one on held-out cases; cross-fitted,
both splits should show the same, unseen-case error. Reports; asserts nothing.

    .venv/bin/python benchmarks/bridge_shift.py [--json]

Needs data/distilled_judge_crossfit.npz (`python -m blindrefusal judge-eval --cross-fit --write`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _shift(rows, labels) -> dict:
    """Per model: help-rate shift in pp (judge minus GPT-5.4, same answers)."""
    from vocabulary import HELPS

    per: dict[str, list[int]] = {}
    for r, lab in zip(rows, labels, strict=True):
        per.setdefault(r.model_slug, []).append((lab == HELPS) - (r.response_type == HELPS))
    return {m: 100 * sum(v) / len(v) for m, v in per.items()}


def _summary(shifts: dict[str, float]) -> dict:
    vals = list(shifts.values())
    return {"models": len(vals), "mean_abs_pp": round(sum(map(abs, vals)) / len(vals), 2),
            "mean_signed_pp": round(sum(vals) / len(vals), 2), "max_abs_pp": round(max(map(abs, vals)), 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from blindrefusal.judges.base import JudgeInput
    from blindrefusal.judges.distilled.crossfit import cross_fit_labels
    from blindrefusal.judges.distilled.data import load_rows, row_verdicts
    from blindrefusal.judges.distilled.model import load_distilled_judge
    from vocabulary import CONTROL

    labels = cross_fit_labels()
    if labels is None:
        print("no cross-fitted labels yet: python -m blindrefusal judge-eval --cross-fit --write")
        return 0
    source = os.environ.get("BR_DATA_SOURCE") or str(ROOT.parent / "shared" / "blind-refusal")
    train_rows, test_rows, _ = load_rows(source)
    shipped = load_distilled_judge()
    out: dict[str, dict] = {}
    for split, rows in (("training cases", train_rows), ("held-out cases", test_rows)):
        rows = [r for r in rows if r.family != CONTROL]
        remembered = [v.response_type for v in row_verdicts(shipped, rows)]
        hits = [labels.lookup(JudgeInput(r.inp.user_query, r.inp.response, case_key=r.case_id)) for r in rows]
        crossed = [h[0].response_type if h else None for h in hits]
        missing = sum(h is None for h in hits)
        out[split] = {"answers": len(rows), "not_cross_fitted": missing,
                      "shipped_judge": _summary(_shift(rows, remembered)),
                      "cross_fitted": _summary(_shift([r for r, c in zip(rows, crossed, strict=True) if c],
                                                      [c for c in crossed if c]))}
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    for split, s in out.items():
        for which in ("shipped_judge", "cross_fitted"):
            v = s[which]
            print(f"{split:15s} {which:14s} mean |shift| {v['mean_abs_pp']:5.2f} pp  "
                  f"signed {v['mean_signed_pp']:+6.2f} pp"
                  f"  max {v['max_abs_pp']:5.2f} pp  ({s['answers']} answers, {v['models']} models)")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
