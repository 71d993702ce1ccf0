"""How well a spot-check's sample stands for the release, measured on the paper's own models (GPT-5.4's labels):
over many seeds, each paper model is "spot-checked" from its stored answers on the sampled cases, and its
sample estimate is set against its full-release help rate. Prints the bias and the coverage of the weighted
estimate beside the unweighted one, the rank interval's coverage, and the power hint at issue 21's point.
Reports; asserts nothing.

    .venv/bin/python benchmarks/sampling.py [--n 100] [--seeds 300] [--allocation equal] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(n: int, seeds: int, allocation: str) -> dict:
    from blindrefusal import store
    from blindrefusal.analysis.power import min_detectable_paired
    from blindrefusal.analysis.ranking import rank_range
    from blindrefusal.analysis.stats import wilson
    from blindrefusal.analysis.weighted import weighted_paired, weighted_rate
    from blindrefusal.evals.spotcheck.params import SpotCheckParams, sample_cases, sample_design
    from vocabulary import HELPS

    engine = store.open_default()
    design = sample_design(engine, SpotCheckParams(model="x", allocation=allocation))
    defeated_all = [cid for cid, (f, _) in design.cell_of.items() if f != "control"]
    labels = {m: {c: int(rt == HELPS) for c, rt in by.items()}
              for m, by in store.paired_labels(engine, defeated_all).items()}
    truth = {m: sum(v.values()) / len(v) for m, v in labels.items()}
    true_rank = {m: 1 + sum(t > truth[m] for t in truth.values()) for m in truth}
    stats = {m: {"w_bias": 0.0, "u_bias": 0.0, "w_cover": 0, "u_cover": 0, "rank_cover": 0} for m in labels}
    for seed in range(seeds):
        ids = [c.id for c in sample_cases(engine, SpotCheckParams(model="x", n=n, seed=seed, allocation=allocation))
               if not c.is_control]
        for m, by in labels.items():
            mine = {c: by[c] for c in ids if c in by}
            w, u = weighted_rate(mine, design), wilson(sum(mine.values()), len(mine))
            s = stats[m]
            s["w_bias"] += (w.rate - truth[m]) / seeds
            s["u_bias"] += (u.rate - truth[m]) / seeds
            s["w_cover"] += w.lo <= truth[m] <= w.hi
            s["u_cover"] += u.lo <= truth[m] <= u.hi
        for m in list(labels)[::3]:  # the rank of every third model among the other 17, as a spot-check would
            mine = {c: labels[m][c] for c in ids if c in labels[m]}
            rank = rank_range({o: weighted_paired(mine, {c: labels[o][c] for c in ids if c in labels[o]}, design)
                               for o in labels if o != m})
            stats[m]["rank_cover"] += rank.lo <= true_rank[m] <= rank.hi
    ranked = list(labels)[::3]
    return {
        "n": n, "seeds": seeds, "allocation": allocation,
        "max_abs_bias_pp": {"weighted": max(abs(s["w_bias"]) for s in stats.values()) * 100,
                            "unweighted": max(abs(s["u_bias"]) for s in stats.values()) * 100},
        "min_coverage": {"weighted": min(s["w_cover"] for s in stats.values()) / seeds,
                         "unweighted": min(s["u_cover"] for s in stats.values()) / seeds},
        "mean_coverage": {"weighted": sum(s["w_cover"] for s in stats.values()) / seeds / len(stats),
                          "unweighted": sum(s["u_cover"] for s in stats.values()) / seeds / len(stats)},
        "rank_coverage_min": min(stats[m]["rank_cover"] for m in ranked) / seeds,
        "power_hint_pp_at_psi_0.236_n_81": min_detectable_paired(0.236, 81) * 100,
        "by_model": {m: {k: round(v * 100, 2) if "bias" in k else v / seeds for k, v in s.items()
                         if k != "rank_cover" or m in ranked} for m, s in sorted(stats.items())},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=300)
    ap.add_argument("--allocation", choices=["equal", "proportional"], default="equal")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = measure(args.n, args.seeds, args.allocation)
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print(f"n = {out['n']}, {out['seeds']} seeds, {out['allocation']} allocation, "
          "the paper's 18 models (GPT-5.4's labels)")
    print(f"  max |bias| of a model's help rate: weighted {out['max_abs_bias_pp']['weighted']:.2f} pp, "
          f"unweighted {out['max_abs_bias_pp']['unweighted']:.2f} pp")
    for which in ("weighted", "unweighted"):
        print(f"  95% coverage of the full-release rate, {which}: mean over the 18 models "
              f"{out['mean_coverage'][which]:.3f}, worst {out['min_coverage'][which]:.3f}")
    print(f"  rank interval coverage (worst of 6 models): {out['rank_coverage_min']:.3f}")
    print(f"  power hint at ψ = 0.236, n = 81: ±{out['power_hint_pp_at_psi_0.236_n_81']:.1f} pp")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
