"""Cross-fitted labels of the paper's answers, in a reduced form (each fold's judge fitted on a sample of its
training answers; the full build is `judge-eval --cross-fit --write`): no fold's judge ever saw a case of the
fold it labels, every answer gets exactly one label, a stopped build resumes without refitting, and a stored
answer finds its label by its case and its text."""

from __future__ import annotations

import random

import pytest

from blindrefusal.judges.base import JudgeInput
from blindrefusal.judges.distilled import crossfit, train
from blindrefusal.judges.distilled.data import SPLIT_FOLDS, case_fold, load_rows
from blindrefusal.judges.distilled.model import load_distilled_judge

pytestmark = pytest.mark.slow  # fits the distilled judge four times


def test_each_fold_is_labelled_by_a_judge_that_never_saw_its_cases(paper_source, tmp_path, monkeypatch):
    trained_folds: list[set[int]] = []
    real_fit = train.fit

    def small_fit(rows, *args, **kwargs):
        trained_folds.append({case_fold(r.case_id) for r in rows})
        return real_fit(random.Random(0).sample(list(rows), 1200), *args, **kwargs)

    monkeypatch.setattr(train, "fit", small_fit)
    out = tmp_path / "crossfit.npz"
    info = crossfit.build_cross_fit(paper_source, out_path=out, cache_dir=tmp_path / "cache")
    # folds 1-4 are fitted without their own fold; fold 0 is the shipped judge's (trained without the test split)
    assert trained_folds == [set(range(SPLIT_FOLDS)) - {k} for k in range(1, SPLIT_FOLDS)]
    train_rows, test_rows, _ = load_rows(paper_source)
    rows = train_rows + test_rows
    assert info["answers"] == len(rows) and info["folds"] == SPLIT_FOLDS

    labels = crossfit.cross_fit_labels(out)
    assert len(labels.digest) == len(rows)  # one label per answer; two models that gave one case the same
    dup = labels.digest[1:] == labels.digest[:-1]  # text share a digest, and then a label (same fold, same input)
    assert 0 < dup.sum() < 50
    for name in ("response_type", "engages_with_defeat", "independent_harm", "fold"):
        assert (labels.arrays[name][1:][dup] == labels.arrays[name][:-1][dup]).all(), name
    sample = random.Random(1).sample(rows, 300)
    hits = [labels.lookup(JudgeInput(r.inp.user_query, r.inp.response, case_key=r.case_id)) for r in sample]
    assert all(h is not None and h[1] == case_fold(r.case_id) for r, h in zip(sample, hits, strict=True))
    held = [(r, h) for r, h in zip(sample, hits, strict=True) if h[1] == 0]
    shipped = load_distilled_judge().judge_many([r.inp for r, _ in held])
    assert [v.response_type for v in shipped] == [h[0].response_type for _, h in held]
    assert all("never saw this case" in h[0].reasoning for h in hits)
    assert labels.lookup(JudgeInput("q", "an answer the release never had", case_key=rows[0].case_id)) is None

    # a second build reuses every fold from the cache: nothing is refitted
    trained_folds.clear()
    assert crossfit.build_cross_fit(paper_source, out_path=None, cache_dir=tmp_path / "cache")["answers"] == len(rows)
    assert trained_folds == []
