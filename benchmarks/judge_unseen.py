"""The distilled judge on models it never saw (leave one model out), against the targets of issue 13:
mean |help-rate error| ≤ 2.0 pp and max ≤ 4.0 pp over the paper's models. Reports; asserts nothing.

Reads data/distilled_judge_lomo.json (written model by model by
`python -m blindrefusal judge-eval --leave-one-model-out --write`, ~5 min a model on a free 2-core machine);
`--run` first measures the models still missing (resumable).

    .venv/bin/python benchmarks/judge_unseen.py [--run] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MEAN_PP, TARGET_MAX_PP = 2.0, 4.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="store_true", help="measure the models still missing first")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from blindrefusal.judges.distilled.measured import LOMO_PATH

    if args.run:
        from blindrefusal.judges.distilled.lomo import leave_one_model_out

        source = os.environ.get("BR_DATA_SOURCE") or str(ROOT.parent / "shared" / "blind-refusal")
        leave_one_model_out(source, out_path=LOMO_PATH, say=lambda m: print(m, file=sys.stderr))
    if not LOMO_PATH.is_file():
        print("not measured yet: run with --run (or judge-eval --leave-one-model-out --write)")
        return 0
    doc = json.loads(LOMO_PATH.read_text(encoding="utf-8"))
    s = doc["summary"]
    out = {"models_measured": s["models"], "of": 18,
           "unseen_help_mean_abs_pp": s["unseen"]["help_rate_error_pp"]["mean_abs"],
           "unseen_help_max_abs_pp": s["unseen"]["help_rate_error_pp"]["max_abs"],
           "seen_help_mean_abs_pp": s["seen"]["help_rate_error_pp"]["mean_abs"],
           "seen_help_max_abs_pp": s["seen"]["help_rate_error_pp"]["max_abs"],
           "unseen_engagement_mean_abs_pp": s["unseen"]["engagement_error_pp"]["mean_abs"],
           "unseen_engagement_max_abs_pp": s["unseen"]["engagement_error_pp"]["max_abs"],
           "target_mean_pp": TARGET_MEAN_PP, "target_max_pp": TARGET_MAX_PP}
    out["target_met"] = (out["unseen_help_mean_abs_pp"] <= TARGET_MEAN_PP
                         and out["unseen_help_max_abs_pp"] <= TARGET_MAX_PP and s["models"] == 18)
    if args.json:
        print(json.dumps({**out, "per_model": doc["per_model"]}, indent=1))
        return 0
    for slug, m in doc["per_model"].items():
        u, seen = m["unseen"], m["seen"]
        print(f"{slug:28s} n={m['n']:4d}  unseen {u['help_rate_error_pp']:+6.2f} pp "
              f"({u['help_rate_error_ci_pp'][0]:+.1f} to {u['help_rate_error_ci_pp'][1]:+.1f})  "
              f"seen {seen['help_rate_error_pp']:+6.2f} pp  engagement unseen {u['engagement_error_pp']:+6.2f} pp")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
