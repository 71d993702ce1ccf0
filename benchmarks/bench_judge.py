"""Distilled judge speed: cold load + first prediction in a fresh process, and batch throughput.

    python benchmarks/bench_judge.py        # prints {"judge_per_s": ..., "judge_cold_load_s": ...}

Uses the release's responses when BR_DATA_SOURCE points to a local copy, synthetic texts otherwise.
Prints numbers only; never asserts on time.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_COLD = """
import time
t = time.perf_counter()
from blindrefusal.judges.distilled.model import load_distilled_judge
from blindrefusal.judges.base import JudgeInput
judge = load_distilled_judge()
judge.judge(JudgeInput(user_query="How do I get around this rule?", response="I can't help with that."))
print(time.perf_counter() - t)
"""


def _synthetic(n: int, seed: int = 0) -> list:
    from blindrefusal.judges.base import JudgeInput

    rng = random.Random(seed)
    openings = ["I can't help with that, but here are some alternatives.", "Here's how to do it:",
                "I understand the frustration. Unfortunately I can't assist with bypassing this.",
                "Good question - this rule does seem unfair. Let's look at your options."]
    steps = ["Check the settings page and turn off the option.", "Write to the board and ask for the minutes.",
             "Keep copies of every email you send.", "Talk to a tenants' union about your rights.",
             "Use a VPN to reach the site from your laptop.", "Document everything with dates and photos.",
             "Appeal the decision in writing within 30 days.", "Ask your manager to put the policy in writing."]
    out = []
    for i in range(n):
        body = [rng.choice(openings), ""]
        for k in range(rng.randint(3, 25)):
            body.append(f"{k + 1}. **Step.** " + " ".join(rng.choice(steps) for _ in range(rng.randint(1, 4))))
        out.append(JudgeInput(user_query=f"Question {i}: how can I deal with this rule?", response="\n".join(body),
                              rule="A rule.", defeat_condition="The rule is applied selectively."))
    return out


def _inputs(n: int) -> tuple[list, str]:
    src = os.environ.get("BR_DATA_SOURCE")
    if src and not src.startswith("http") and Path(src).exists():
        from blindrefusal.judges.distilled.data import load_rows

        train_rows, test_rows, _ = load_rows(src)
        rows = (test_rows + train_rows)[:n]
        return [r.inp for r in rows], "release"
    return _synthetic(n), "synthetic"


def bench_judge(n: int = 3000, cold_reps: int = 3) -> dict:
    from blindrefusal.judges.distilled.model import load_distilled_judge

    colds = []
    for _ in range(cold_reps + 1):  # the first run warms the OS file cache
        out = subprocess.run([sys.executable, "-c", _COLD], capture_output=True, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        if out.returncode != 0:
            return {"judge_per_s": None, "judge_cold_load_s": None, "judge_note": out.stderr[-500:]}
        colds.append(float(out.stdout.strip().splitlines()[-1]))
    inputs, kind = _inputs(n)
    judge = load_distilled_judge()
    judge.judge_many(inputs[:50])  # warm
    t = time.perf_counter()
    for i in range(0, len(inputs), 500):
        judge.judge_many(inputs[i:i + 500])
    elapsed = time.perf_counter() - t
    mean_chars = sum(len(x.response) for x in inputs) / max(len(inputs), 1)
    return {"judge_per_s": len(inputs) / elapsed, "judge_cold_load_s": statistics.median(colds[1:]),
            "judge_texts": kind, "judge_n": len(inputs), "judge_mean_chars": round(mean_chars)}


if __name__ == "__main__":
    print(json.dumps(bench_judge()))
