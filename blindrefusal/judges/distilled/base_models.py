"""The distilled judge's first stage: one TF-IDF vectorizer per view of the input (`BLOCKS`), and per view and
label a logistic regression (and NB-weighted ones on the whole response), each with out-of-fold scores over
the training cases' folds for the stacker."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from blindrefusal.judges.distilled.features import block_text, encode_terms
from blindrefusal.judges.distilled.model import LABEL_WIDTH, LABELS, RT_CLASSES

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


def fit_vectorizers(queries: Sequence[str], responses: Sequence[str], say) -> tuple[dict, dict]:
    """Fit one TF-IDF vectorizer per block: (vocab_/idf_ arrays, {block name: train matrix})."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    arrays: dict[str, np.ndarray] = {}
    mats = {}
    for spec in BLOCKS:
        vec = TfidfVectorizer(analyzer=spec["analyzer"], ngram_range=tuple(spec["ngram_range"]),
                              min_df=spec["min_df"], max_features=spec["max_features"], sublinear_tf=True,
                              lowercase=True, dtype=np.float64)
        X = vec.fit_transform([block_text(spec, q, r) for q, r in zip(queries, responses, strict=True)]).tocsr()
        terms = [""] * len(vec.vocabulary_)  # every slot is filled below: the indices are 0 … n − 1
        for t, i in vec.vocabulary_.items():
            terms[i] = t
        arrays[f"vocab_{spec['name']}"] = encode_terms(terms)
        arrays[f"idf_{spec['name']}"] = vec.idf_.astype(np.float64)
        mats[spec["name"]] = X
        say(f"block {spec['name']}: {X.shape[1]} terms")
    return arrays, mats


def fit_base_models(mats: dict, Y: dict[str, np.ndarray], folds: list, seed: int) -> tuple[dict, dict]:
    """Per-block, per-label logistic regressions: (coef_/intercept_ arrays of the full fits,
    {(block, label): out-of-fold scores} for the stacker)."""
    from joblib import Parallel, delayed

    tasks = [(spec["name"], lab, fold)
             for spec in BLOCKS for lab in LABELS for fold in list(range(len(folds))) + [None]]
    C_of = {spec["name"]: spec["C"] for spec in BLOCKS}

    def args(name: str, lab: str, fold):
        tr, va = folds[fold] if fold is not None else (None, None)
        return mats[name], Y[lab], tr, va, C_of[name], seed

    outs = Parallel(n_jobs=2, backend="loky", max_nbytes="1M")(delayed(_base_task)(*args(*t)) for t in tasks)
    n = len(Y[LABELS[0]])
    oof = {(spec["name"], lab): np.zeros((n, LABEL_WIDTH[lab])) for spec in BLOCKS for lab in LABELS}
    full = {}
    for (name, lab, fold), payload in zip(tasks, outs, strict=True):
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
    nb_tasks = [(j, fold) for j in range(len(nb_targets)) for fold in list(range(len(folds))) + [None]]
    nb_outs = Parallel(n_jobs=2, backend="loky", max_nbytes="1M")(
        delayed(_nb_task)(X, Xb, nb_targets[j], *(folds[fold] if fold is not None else (None, None)),
                          C, seed) for j, fold in nb_tasks)
    cols = np.zeros((X.shape[0], len(nb_targets)))
    coefs, intercepts = [None] * len(nb_targets), [None] * len(nb_targets)
    for (j, fold), payload in zip(nb_tasks, nb_outs, strict=True):
        if fold is None:
            coefs[j], intercepts[j] = payload
        else:
            va, s = payload
            cols[va, j] = s[:, 0]
    return cols, coefs, intercepts


def fit_nb_columns(mats: dict, Y: dict[str, np.ndarray], folds: list, seed: int, base: dict, say):
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
