"""Cross-fitted labels of the paper's answers: each answer labelled by a distilled judge that never saw its case.

The case-hash split has five folds (`data.case_fold`). The shipped judge was fitted on folds 1–4, so it labels
fold 0; for k = 1…4 a judge is fitted on the other four folds and labels fold k. A same-judge bridge built from
these labels measures the judge's error on unseen cases, not its memory of the training answers.

The paper's answers never change, so what is shipped is the K judges' labels, not four more sets of weights
(10 MB each): `data/distilled_judge_crossfit.npz`, keyed by a digest of (case id, answer text), so an answer
whose text differs from the release's simply has no cross-fitted label. Regenerate with

    python -m blindrefusal judge-eval --cross-fit --write

(about 12 minutes a fold on a free 2-core machine; each finished fold is kept under `data/.crossfit/`, so a
stopped run resumes)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from blindrefusal.config import DATA_DIR
from blindrefusal.judges.base import JudgeInput, Verdict
from blindrefusal.judges.distilled.data import SPLIT_FOLDS, Row, case_fold, load_rows, row_verdicts, write_whole
from blindrefusal.judges.distilled.model import (
    RT_CLASSES,
    DistilledJudge,
    DistilledModel,
    distilled_verdict,
    load_distilled_judge,
)
from vocabulary import JudgeKind

CROSSFIT_PATH = DATA_DIR / "distilled_judge_crossfit.npz"
FOLD_CACHE = DATA_DIR / ".crossfit"
COMMAND = "python -m blindrefusal judge-eval --cross-fit --write"


def answer_digest(case_key: str, text: str) -> int:
    """A 64-bit digest of one answer: its case id and its text."""
    return int.from_bytes(hashlib.sha256(f"{case_key}\x00{text}".encode()).digest()[:8], "big")


def _label_arrays(rows: Sequence[Row], verdicts: Sequence[Verdict], fold: int) -> dict[str, np.ndarray]:
    return {"digest": np.array([answer_digest(r.case_id, r.inp.response) for r in rows], dtype=np.uint64),
            "response_type": np.array([RT_CLASSES.index(v.response_type) for v in verdicts], dtype=np.int8),
            "engages_with_defeat": np.array([v.engages_with_defeat for v in verdicts], dtype=bool),
            "independent_harm": np.array([v.independent_harm for v in verdicts], dtype=bool),
            "p": np.array([[v.probabilities.get(k, 0.0) for k in ("response_type", "engages_with_defeat",
                                                                 "independent_harm")] for v in verdicts],
                          dtype=np.float16).reshape(-1, 3),
            "fold": np.full(len(rows), fold, dtype=np.int8)}


def build_cross_fit(source: str, seed: int = 0, out_path: Path | None = CROSSFIT_PATH,
                    say: Callable[[str], None] | None = None, cache_dir: Path = FOLD_CACHE) -> dict:
    """Label every paper answer with the judge that never saw its case; write the labels (with `out_path`) and
    return what was done. Fold 0 uses the shipped judge; the other folds are fitted here (or read from the cache)."""
    from blindrefusal.judges.distilled.train import VERSION, fit

    say = say or (lambda _m: None)
    shipped = load_distilled_judge()
    if shipped.version != VERSION:
        raise ValueError(f"the shipped distilled judge is version {shipped.version} but the training code makes "
                         f"{VERSION}: retrain it first (python -m blindrefusal train-judge)")
    train_rows, test_rows, commit = load_rows(source)
    rows = train_rows + test_rows
    by_fold = {k: [r for r in rows if case_fold(r.case_id) == k] for k in range(SPLIT_FOLDS)}
    cache_dir.mkdir(parents=True, exist_ok=True)
    parts, seconds = [], {}
    for k, fold_rows in by_fold.items():
        cached = cache_dir / f"fold{k}-v{VERSION}-{commit[:12]}-seed{seed}.npz"
        if cached.is_file():
            with np.load(cached) as z:
                parts.append({name: z[name] for name in z.files})
            say(f"fold {k}: {len(fold_rows)} answers (cached)")
            continue
        t0 = time.time()
        if k == 0:
            judge = shipped
        else:
            arrays, meta = fit([r for r in rows if case_fold(r.case_id) != k], seed, release_commit=commit)
            judge = DistilledJudge(DistilledModel(arrays, meta))
        part = _label_arrays(fold_rows, row_verdicts(judge, fold_rows), k)
        # the default binds this fold's arrays; mypy cannot type a lambda with a default
        write_whole(cached, lambda p, part=part: np.savez(p, **part))  # type: ignore[misc]
        parts.append(part)
        seconds[k] = round(time.time() - t0, 1)
        say(f"fold {k}: {len(fold_rows)} answers labelled in {seconds[k]} s")
    merged = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    order = np.argsort(merged["digest"], kind="stable")
    merged = {name: a[order] for name, a in merged.items()}
    info = {"release_commit": commit, "seed": seed, "folds": SPLIT_FOLDS, "answers": int(len(order)),
            "judge_version": shipped.version, "command": COMMAND, "fit_seconds": seconds}
    if out_path is not None:
        # numpy's stub lets `**merged` fill allow_pickle (bool): it never does here
        write_whole(out_path, lambda p: np.savez_compressed(p, info=np.array(json.dumps(info)), **merged))  # type: ignore[arg-type]
    return info


@dataclass(frozen=True)
class CrossFitLabels:
    """The shipped cross-fitted labels, looked up by answer."""

    digest: np.ndarray
    arrays: dict[str, np.ndarray]
    info: dict

    def lookup(self, inp: JudgeInput) -> tuple[Verdict, int] | None:
        """(the label of the judge that never saw this answer's case, its fold), or None for an unknown answer."""
        d = np.uint64(answer_digest(inp.case_key, inp.response))
        i = int(np.searchsorted(self.digest, d))
        if i >= len(self.digest) or self.digest[i] != d:
            return None
        a = self.arrays
        rt, eng, harm = (RT_CLASSES[int(a["response_type"][i])], bool(a["engages_with_defeat"][i]),
                         bool(a["independent_harm"][i]))
        p_rt, p_eng, p_harm = (float(x) for x in a["p"][i])
        fold = int(a["fold"][i])
        return distilled_verdict(rt, eng, harm, p_rt, p_eng, p_harm,
                                 f"; cross-fitted: fold {fold}'s judge, which never saw this case"), fold


def cross_fit_labels(path: Path = CROSSFIT_PATH) -> CrossFitLabels | None:
    """The shipped cross-fitted labels, or None where they have not been built (read again once rebuilt)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    return _read_labels(path, mtime)


@lru_cache(maxsize=2)
def _read_labels(path: Path, mtime: int) -> CrossFitLabels:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k not in ("digest", "info")}
        return CrossFitLabels(digest=z["digest"], arrays=arrays, info=json.loads(str(z["info"])))


class CrossFittedJudge:
    """The distilled judge on the paper's own answers: each answer gets the label of the fold judge that never
    saw its case. Stored under the distilled judge's name (the same judge, for same-judge comparisons), with a
    version that marks the labels as cross-fitted. Only for answers `covers` accepts."""

    name = "distilled"
    kind: JudgeKind = "distilled"
    spec = None
    prompt_chars = 0

    def __init__(self, labels: CrossFitLabels, shipped: DistilledJudge):
        self.labels = labels
        self.version = f"{labels.info['judge_version']}+crossfit{labels.info.get('folds', SPLIT_FOLDS)}"
        self._label = shipped.label() + ", cross-fitted on the paper's answers"

    def label(self) -> str:
        return self._label

    def covers(self, inp: JudgeInput) -> bool:
        return self.labels.lookup(inp) is not None

    def judge_many(self, inputs: list[JudgeInput]) -> list[Verdict]:
        out = []
        for inp in inputs:
            hit = self.labels.lookup(inp)
            if hit is None:
                raise KeyError("no cross-fitted label for this answer: check covers() first")
            out.append(hit[0])
        return out

    async def ajudge_many(self, inputs: list[JudgeInput]) -> list[Verdict]:
        return self.judge_many(inputs)

    def judge(self, inp: JudgeInput) -> Verdict:
        return self.judge_many([inp])[0]


def labels_for(version: str) -> CrossFitLabels | None:
    """The shipped cross-fitted labels if they were made by this version of the distilled judge (labels of
    another version are not its own), else None."""
    labels = cross_fit_labels()
    return labels if labels is not None and labels.info.get("judge_version") == version else None


def cross_fitted(judge) -> CrossFittedJudge | None:
    """The cross-fitted twin of this judge for paper answers: only the distilled judge has one, once built for
    its version."""
    labels = labels_for(judge.version) if isinstance(judge, DistilledJudge) else None
    return CrossFittedJudge(labels, judge) if labels is not None else None
