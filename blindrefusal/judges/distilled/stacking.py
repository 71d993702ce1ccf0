"""The distilled judge's second stage: logistic regressions stacked on the base models' out-of-fold scores, their
thresholds and class offsets chosen on out-of-fold predictions (the same case folds), then fitted in full."""

from __future__ import annotations

from typing import Any

import numpy as np

from blindrefusal.analysis.stats import cohen_kappa
from blindrefusal.judges.distilled.model import LABELS, RT_CLASSES

META_C = 1.0  # the stacker's inverse regularisation


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


def fit_stacker(Zs: np.ndarray, Y: dict[str, np.ndarray], folds: list, seed: int):
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
