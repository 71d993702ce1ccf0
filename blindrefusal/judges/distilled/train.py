"""Train the distilled judge on the paper's GPT-5.4 labels (needs scikit-learn).

The split is `data.is_test_case`; nothing here ever fits, tunes or selects on a test case: base models are
stacked with out-of-fold scores from GroupKFold over training cases, and the thresholds / class offsets are
chosen on out-of-fold predictions within the training split.

    from blindrefusal.judges.distilled.train import train
    from blindrefusal.judges.distilled.evaluate import evaluate
    train("/path/to/blind-refusal", Path("data"))      # writes distilled_judge.npz + .json
    evaluate("/path/to/blind-refusal")                  # test-split agreement of the shipped weights

    arrays, meta = fit(rows)    # the same fit on any list of Rows (e.g. a subset of load_rows()[0]); writes nothing
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from blindrefusal.config import DATA_DIR
from blindrefusal.judges.distilled.augment import style_variants
from blindrefusal.judges.distilled.base_models import BLOCKS, fit_base_models, fit_nb_columns, fit_vectorizers
from blindrefusal.judges.distilled.data import DEFAULT_RELEASE_COMMIT, Row, load_rows, write_whole
from blindrefusal.judges.distilled.evaluate import evaluate_rows
from blindrefusal.judges.distilled.features import DENSE_NAMES, dense_features, sanitize
from blindrefusal.judges.distilled.model import (
    LABELS,
    META_FILE,
    RT_CLASSES,
    WEIGHTS_FILE,
    DistilledJudge,
    load_distilled_judge,
    load_model,
)
from blindrefusal.judges.distilled.stacking import fit_stacker

VERSION = "1.2"  # 1.2: trained with style variants (augment.py)
N_FOLDS = 5

def _targets(rows: Sequence[Row]) -> dict[str, np.ndarray]:
    return {
        "response_type": np.array([r.response_type for r in rows]),
        "engages_with_defeat": np.array([int(r.engages_with_defeat) for r in rows]),
        "independent_harm": np.array([int(r.independent_harm) for r in rows]),
    }


def _timed(say, t0: float):
    """`say` with the seconds elapsed since t0 appended to each message."""
    return lambda msg: say(f"{msg} ({time.time() - t0:.0f}s)")


def _training_inputs(rows: Sequence[Row]):
    """(queries, sanitized responses, targets, case groups, GroupKFold folds) of the training rows."""
    from sklearn.model_selection import GroupKFold

    queries = [r.inp.user_query for r in rows]
    responses = [sanitize(r.inp.response) for r in rows]
    Y = _targets(rows)
    groups = np.array([r.case_id for r in rows])
    folds = list(GroupKFold(n_splits=N_FOLDS).split(np.zeros(len(rows)), groups=groups))
    return queries, responses, Y, groups, folds


def _stack_features(rows: Sequence[Row], responses: Sequence[str], oof: dict, nb_oof: list[np.ndarray]):
    """The stacker's standardized inputs: (Zs, meta_mean/meta_scale arrays)."""
    from sklearn.preprocessing import StandardScaler

    dense = np.array([dense_features(r.inp.user_query, resp, r.inp.rule, r.inp.defeat_condition)
                      for r, resp in zip(rows, responses, strict=True)], dtype=np.float64)
    Z = np.hstack([oof[(spec["name"], lab)] for lab in LABELS for spec in BLOCKS] + nb_oof + [dense])
    scaler = StandardScaler().fit(Z)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    Zs = (Z - scaler.mean_) / scale
    return Zs, {"meta_mean": scaler.mean_, "meta_scale": scale}


def _metadata(rows: Sequence[Row], groups: np.ndarray, mats: dict, seed: int, release_commit: str,
              rt_offsets: list[float], thresholds: dict[str, float], cv: dict) -> dict:
    """The distilled_judge.json contents, before test metrics are added."""
    return {
        "version": VERSION,
        "kind": "distilled",
        "description": "TF-IDF blocks (response word 1-2g, opening word 1-3g, ending word 1-3g, query word 1-2g, "
                       "opening char_wb 2-5g) -> per-block logistic regressions (+ NB-LR one-vs-rest columns on "
                       "the whole response) -> stacked logistic regression "
                       "with length/structure/overlap features; CV-tuned thresholds; trained with style variants "
                       "of some answers (a disclaimer added, a short help, friendly padding on a refusal)",
        "trained_on": {
            "dataset": "Blind Refusal release (Pattison, Manuali, Lazar 2026, arXiv 2604.06233), GPT-5.4 labels",
            "release_commit": release_commit,
            "n_train_rows": len(rows),
            "n_train_cases": int(len(set(groups))),
            "split": "test iff int(sha256(case_id).hexdigest(), 16) % 5 == 0; trained on the rest",
        },
        "seed": seed,
        "blocks": [{k: v for k, v in spec.items()} | {"n_terms": int(mats[spec["name"]].shape[1])} for spec in BLOCKS],
        "dense_features": list(DENSE_NAMES),
        "rt_classes": list(RT_CLASSES),
        "rt_offsets": rt_offsets,
        "thresholds": thresholds,
        "train_cv": cv,
    }


def fit(train_rows: Sequence[Row], seed: int = 0, say=None,
        release_commit: str = DEFAULT_RELEASE_COMMIT) -> tuple[dict[str, np.ndarray], dict]:
    """Fit the whole judge on the given rows, with their style variants (augment.py), and return (npz arrays,
    metadata without test_metrics). Writes nothing, so it can be called on any subset of the training rows."""
    say = say or (lambda *a: None)
    release_rows, variants = train_rows, style_variants(train_rows, seed)
    train_rows = [*train_rows, *variants]
    queries, responses, Y, groups, folds = _training_inputs(train_rows)
    arrays, mats = fit_vectorizers(queries, responses, say)
    base_arrays, oof = fit_base_models(mats, Y, folds, seed)
    arrays.update(base_arrays)
    say("base models fitted")
    nb_arrays, nb_oof = fit_nb_columns(mats, Y, folds, seed, arrays, say)
    arrays.update(nb_arrays)
    Zs, scaler_arrays = _stack_features(train_rows, responses, oof, nb_oof)
    arrays.update(scaler_arrays)
    stack_arrays, cv, thresholds, rt_offsets = fit_stacker(Zs, Y, folds, seed)
    arrays.update(stack_arrays)
    say(f"stacker fitted; train-CV {json.dumps(cv)}")
    meta = _metadata(release_rows, groups, mats, seed, release_commit, rt_offsets, thresholds, cv)
    meta["trained_on"]["n_style_variants"] = len(variants)
    return arrays, meta


def _test_metrics(test: dict) -> dict:
    """The rounded per-label kappa / accuracy recorded in the metadata."""
    metrics = {lab: {"kappa": round(v["kappa"], 4), "accuracy": round(v["accuracy"], 4)}
               for lab, v in test["labels"].items()}
    metrics["n_test"] = test["n_test"]
    return metrics


def _write_meta(path: Path, meta: dict) -> None:
    text = json.dumps(meta, indent=2)
    write_whole(path, lambda p: p.write_text(text, encoding="utf-8"))


def train(source: str, out_dir: Path = DATA_DIR, seed: int = 0, progress=print) -> dict:
    """Fit on the train split, write distilled_judge.npz/.json into out_dir, return the metrics."""
    t0 = time.time()
    say = _timed(progress or (lambda *a: None), t0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_rows, test_rows, commit = load_rows(source)
    say(f"loaded {len(train_rows)} train / {len(test_rows)} test responses")
    arrays, meta = fit(train_rows, seed, say, release_commit=commit)
    npz_path = out_dir / WEIGHTS_FILE
    # uncompressed: loads ~4x faster. numpy's stub lets `**arrays` fill allow_pickle (bool): it never does here
    write_whole(npz_path, lambda p: np.savez(p, **arrays))  # type: ignore[arg-type]
    _write_meta(out_dir / META_FILE, meta)

    # Measure on the held-out test split through the inference code, then record it in the metadata.
    judge = DistilledJudge(load_model(npz_path))
    test = evaluate_rows(judge, test_rows)
    meta["test_metrics"] = _test_metrics(test)
    _write_meta(out_dir / META_FILE, meta)
    load_distilled_judge.cache_clear()
    say(f"test: {json.dumps(meta['test_metrics'])}")
    return {"n_train": len(train_rows), "n_test": len(test_rows), "train_cv": meta["train_cv"], "test": test,
            "weights": str(npz_path), "weights_bytes": npz_path.stat().st_size, "seconds": round(time.time() - t0, 1)}




__all__ = ["BLOCKS", "fit", "train"]
