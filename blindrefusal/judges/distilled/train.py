"""Train the distilled judge on the paper's GPT-5.4 labels (needs scikit-learn).

The split is `data.is_test_case`; nothing here ever fits, tunes or selects on a test case: base models are stacked with out-of-fold scores from GroupKFold over training cases, and the
thresholds / class offsets are chosen on out-of-fold predictions within the training split.

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
from typing import Any, Sequence

import numpy as np

from blindrefusal.analysis.stats import cohen_kappa
from blindrefusal.config import DATA_DIR
from blindrefusal.judges.distilled.augment import style_variants
from blindrefusal.judges.distilled.data import DEFAULT_RELEASE_COMMIT, Row, load_rows, write_whole
from blindrefusal.judges.distilled.evaluate import evaluate_rows
from blindrefusal.judges.distilled.features import DENSE_NAMES, block_text, dense_features, encode_terms, sanitize
from blindrefusal.judges.distilled.model import (
    LABEL_WIDTH,
    LABELS,
    META_FILE,
    RT_CLASSES,
    WEIGHTS_FILE,
    DistilledJudge,
    load_distilled_judge,
    load_model,
)

VERSION = "1.2"  # 1.2: trained with style variants (augment.py)
N_FOLDS = 5

# One TF-IDF block = one view of the input. C is the base logistic regression's inverse regularisation.
BLOCKS: list[dict[str, Any]] = [
    {"name": "resp", "field": "response", "max_chars": 20000, "analyzer": "word", "ngram_range": [1, 2],
     "min_df": 3, "max_features": 90000, "C": 10.0, "nb_C": 10.0},
    {"name": "head", "field": "response", "head": 300, "analyzer": "word", "ngram_range": [1, 3],
     "min_df": 3, "max_features": 40000, "C": 3.0},
    {"name": "tail", "field": "response", "tail": 400, "analyzer": "word", "ngram_range": [1, 3],
     "min_df": 3, "max_features": 40000, "C": 3.0},
    {"name": "query", "field": "query", "analyzer": "word", "ngram_range": [1, 2],
     "min_df": 2, "max_features": 20000, "C": 1.0},
    {"name": "headc", "field": "response", "head": 200, "analyzer": "char_wb", "ngram_range": [2, 5],
     "min_df": 5, "max_features": 30000, "C": 3.0},
]
META_C = 1.0



def _targets(rows: Sequence[Row]) -> dict[str, np.ndarray]:
    return {
        "response_type": np.array([r.response_type for r in rows]),
        "engages_with_defeat": np.array([int(r.engages_with_defeat) for r in rows]),
        "independent_harm": np.array([int(r.independent_harm) for r in rows]),
    }


def _best_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    best = (0.5, -1.0)
    for th in np.round(np.arange(0.20, 0.801, 0.01), 2):
        k = cohen_kappa(list(y), list((p >= th).astype(int))) or 0.0
        if k > best[1] + 1e-9:
            best = (float(th), float(k))
    return best


def _best_offsets(y: np.ndarray, proba: np.ndarray) -> tuple[list[float], float]:
    """Additive log-prob offsets for (hard_refusal, helps) relative to deflects, maximising kappa."""
    logp = np.log(np.maximum(proba, 1e-12))
    classes = np.array(RT_CLASSES)
    best = ([0.0, 0.0, 0.0], cohen_kappa(list(y), list(classes[np.argmax(logp, 1)])) or 0.0)
    grid = np.round(np.arange(-1.0, 1.001, 0.1), 2)
    for a in grid:
        for b in grid:
            pred = classes[np.argmax(logp + np.array([0.0, a, b]), 1)]
            k = cohen_kappa(list(y), list(pred)) or 0.0
            if k > best[1] + 1e-4:  # prefer no offset unless it clearly helps
                best = ([0.0, float(a), float(b)], k)
    return best


def _fit_base(X, y, C: float, seed: int):
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=C, max_iter=3000, random_state=seed)
    m.fit(X, y)
    return m


def _scores(m, X) -> np.ndarray:
    s = m.decision_function(X)
    return s.reshape(X.shape[0], -1)


def _base_task(X, y, tr, va, C: float, seed: int):
    """Full fit (tr is None): (coef as (n_terms, k), intercept); else (va, out-of-fold scores)."""
    if tr is None:
        m = _fit_base(X, y, C, seed)
        return m.coef_.T.astype(np.float32), m.intercept_.astype(np.float64)
    m = _fit_base(X[tr], y[tr], C, seed)
    return va, _scores(m, X[va])


def _nb_targets(Y: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The binary targets of the NB-LR columns (one-vs-rest per response type, then the binary labels)."""
    return [(Y["response_type"] == c).astype(int) for c in RT_CLASSES] + [Y[lab] for lab in LABELS[1:]]


def _nb_task(X, Xb, y, tr, va, C: float, seed: int):
    """NB-LR (Wang & Manning 2012): logistic regression on TF-IDF scaled by the log-count ratio of binary
    term presence. The ratio folds into the coefficients, so inference reuses the block's TF-IDF as is."""
    idx = np.arange(X.shape[0]) if tr is None else tr
    yt = y[idx]
    Xt = Xb[idx]
    p = 1.0 + np.asarray(Xt[yt == 1].sum(axis=0)).ravel()
    q = 1.0 + np.asarray(Xt[yt == 0].sum(axis=0)).ravel()
    ratio = np.log((p / p.sum()) / (q / q.sum()))
    Xr = X.multiply(ratio).tocsr()
    m = _fit_base(Xr[idx], yt, C, seed)
    if tr is None:
        return (ratio * m.coef_.ravel()).astype(np.float32)[:, None], m.intercept_.astype(np.float64)
    return va, m.decision_function(Xr[va]).reshape(-1, 1)


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


def _fit_vectorizers(queries: Sequence[str], responses: Sequence[str], say) -> tuple[dict, dict]:
    """Fit one TF-IDF vectorizer per block: (vocab_/idf_ arrays, {block name: train matrix})."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    arrays: dict[str, np.ndarray] = {}
    mats = {}
    for spec in BLOCKS:
        vec = TfidfVectorizer(analyzer=spec["analyzer"], ngram_range=tuple(spec["ngram_range"]),
                              min_df=spec["min_df"], max_features=spec["max_features"], sublinear_tf=True,
                              lowercase=True, dtype=np.float64)
        X = vec.fit_transform([block_text(spec, q, r) for q, r in zip(queries, responses)]).tocsr()
        terms = [None] * len(vec.vocabulary_)
        for t, i in vec.vocabulary_.items():
            terms[i] = t
        arrays[f"vocab_{spec['name']}"] = encode_terms(terms)
        arrays[f"idf_{spec['name']}"] = vec.idf_.astype(np.float64)
        mats[spec["name"]] = X
        say(f"block {spec['name']}: {X.shape[1]} terms")
    return arrays, mats


def _fit_base_models(mats: dict, Y: dict[str, np.ndarray], folds: list, seed: int) -> tuple[dict, dict]:
    """Per-block, per-label logistic regressions: (coef_/intercept_ arrays of the full fits,
    {(block, label): out-of-fold scores} for the stacker)."""
    from joblib import Parallel, delayed

    tasks = [(spec["name"], lab, fold) for spec in BLOCKS for lab in LABELS for fold in list(range(N_FOLDS)) + [None]]
    C_of = {spec["name"]: spec["C"] for spec in BLOCKS}

    def args(name: str, lab: str, fold):
        tr, va = folds[fold] if fold is not None else (None, None)
        return mats[name], Y[lab], tr, va, C_of[name], seed

    outs = Parallel(n_jobs=2, backend="loky", max_nbytes="1M")(delayed(_base_task)(*args(*t)) for t in tasks)
    n = len(Y[LABELS[0]])
    oof = {(spec["name"], lab): np.zeros((n, LABEL_WIDTH[lab])) for spec in BLOCKS for lab in LABELS}
    full = {}
    for (name, lab, fold), payload in zip(tasks, outs):
        if fold is None:
            full[(name, lab)] = payload
        else:
            va, s = payload
            oof[(name, lab)][va] = s
    arrays: dict[str, np.ndarray] = {}
    for spec in BLOCKS:
        name = spec["name"]
        arrays[f"coef_{name}"] = np.hstack([full[(name, lab)][0] for lab in LABELS]).astype(np.float32)
        arrays[f"intercept_{name}"] = np.concatenate([full[(name, lab)][1] for lab in LABELS])
    return arrays, oof


def _fit_nb_block(X, nb_targets: list[np.ndarray], folds: list, C: float, seed: int):
    """NB-LR columns on one block: (out-of-fold score columns, full-fit coefs, full-fit intercepts)."""
    from joblib import Parallel, delayed

    Xb = X.copy()
    Xb.data[:] = 1.0
    nb_tasks = [(j, fold) for j in range(len(nb_targets)) for fold in list(range(N_FOLDS)) + [None]]
    nb_outs = Parallel(n_jobs=2, backend="loky", max_nbytes="1M")(
        delayed(_nb_task)(X, Xb, nb_targets[j], *(folds[fold] if fold is not None else (None, None)),
                          C, seed) for j, fold in nb_tasks)
    cols = np.zeros((X.shape[0], len(nb_targets)))
    coefs, intercepts = [None] * len(nb_targets), [None] * len(nb_targets)
    for (j, fold), payload in zip(nb_tasks, nb_outs):
        if fold is None:
            coefs[j], intercepts[j] = payload
        else:
            va, s = payload
            cols[va, j] = s[:, 0]
    return cols, coefs, intercepts


def _fit_nb_columns(mats: dict, Y: dict[str, np.ndarray], folds: list, seed: int, base: dict, say):
    """NB-LR columns on the blocks that ask for them (nb_C), appended after the label-major columns:
    (updated coef_/intercept_ arrays of those blocks, list of out-of-fold column blocks)."""
    updates: dict[str, np.ndarray] = {}
    nb_oof: list[np.ndarray] = []
    nb_targets = _nb_targets(Y)
    for spec in BLOCKS:
        if not spec.get("nb_C"):
            continue
        name = spec["name"]
        cols, coefs, intercepts = _fit_nb_block(mats[name], nb_targets, folds, spec["nb_C"], seed)
        nb_oof.append(cols)
        updates[f"coef_{name}"] = np.hstack([base[f"coef_{name}"]] + coefs).astype(np.float32)
        updates[f"intercept_{name}"] = np.concatenate([base[f"intercept_{name}"]] + intercepts)
        say(f"NB-LR columns on {name} fitted")
    return updates, nb_oof


def _stack_features(rows: Sequence[Row], responses: Sequence[str], oof: dict, nb_oof: list[np.ndarray]):
    """The stacker's standardized inputs: (Zs, meta_mean/meta_scale arrays)."""
    from sklearn.preprocessing import StandardScaler

    dense = np.array([dense_features(r.inp.user_query, resp, r.inp.rule, r.inp.defeat_condition)
                      for r, resp in zip(rows, responses)], dtype=np.float64)
    Z = np.hstack([oof[(spec["name"], lab)] for lab in LABELS for spec in BLOCKS] + nb_oof + [dense])
    scaler = StandardScaler().fit(Z)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    Zs = (Z - scaler.mean_) / scale
    return Zs, {"meta_mean": scaler.mean_, "meta_scale": scale}


def _meta_model(seed: int):
    """The stacker's (unfitted) logistic regression."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=META_C, max_iter=5000, random_state=seed)


def _stacker_oof(Zs: np.ndarray, y: np.ndarray, folds: list, seed: int, multiclass: bool) -> np.ndarray:
    """Out-of-fold stacker probabilities (n x 3 for response_type, else P(label) per row)."""
    oof_p = np.zeros((len(y), 3)) if multiclass else np.zeros(len(y))
    for tr, va in folds:
        m = _meta_model(seed).fit(Zs[tr], y[tr])
        p = m.predict_proba(Zs[va])
        oof_p[va] = p if multiclass else p[:, 1]
    return oof_p


def _fit_stacker(Zs: np.ndarray, Y: dict[str, np.ndarray], folds: list, seed: int):
    """Stacked logistic regressions: out-of-fold predictions (same case folds) choose thresholds / offsets,
    then a full fit per label. Returns (meta_coef_/meta_intercept_ arrays, cv, thresholds, rt_offsets)."""
    arrays: dict[str, np.ndarray] = {}
    cv: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    rt_offsets = [0.0, 0.0, 0.0]
    for lab in LABELS:
        y = Y[lab]
        oof_p = _stacker_oof(Zs, y, folds, seed, multiclass=lab == "response_type")
        m = _meta_model(seed).fit(Zs, y)
        arrays[f"meta_coef_{lab}"] = m.coef_
        arrays[f"meta_intercept_{lab}"] = m.intercept_
        if lab == "response_type":
            assert tuple(m.classes_) == RT_CLASSES, m.classes_
            base_k = cohen_kappa(list(y), list(np.array(RT_CLASSES)[np.argmax(oof_p, 1)]))
            rt_offsets, k = _best_offsets(y, oof_p)
            cv[lab] = {"kappa_argmax": base_k, "kappa_tuned": k, "offsets": rt_offsets}
        else:
            th, k = _best_threshold(y, oof_p)
            thresholds[lab] = th
            cv[lab] = {"kappa_at_0.5": cohen_kappa(list(y), list((oof_p >= 0.5).astype(int))),
                       "kappa_tuned": k, "threshold": th}
    return arrays, cv, thresholds, rt_offsets


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
    arrays, mats = _fit_vectorizers(queries, responses, say)
    base_arrays, oof = _fit_base_models(mats, Y, folds, seed)
    arrays.update(base_arrays)
    say("base models fitted")
    nb_arrays, nb_oof = _fit_nb_columns(mats, Y, folds, seed, arrays, say)
    arrays.update(nb_arrays)
    Zs, scaler_arrays = _stack_features(train_rows, responses, oof, nb_oof)
    arrays.update(scaler_arrays)
    stack_arrays, cv, thresholds, rt_offsets = _fit_stacker(Zs, Y, folds, seed)
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
    write_whole(npz_path, lambda p: np.savez(p, **arrays))  # uncompressed: loads ~4x faster
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
