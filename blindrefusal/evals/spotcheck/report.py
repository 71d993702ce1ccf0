"""One self-contained HTML report per spot-check (one or several models on one sample): the numbers with
their intervals, the comparisons under one judge, the charts, the judge and the settings. `spot-check
--report FILE` writes it; the Spot-check page offers it as a download."""

from __future__ import annotations

import pandas as pd

from blindrefusal import store
from blindrefusal.analysis.ranking import RANK_METHOD
from blindrefusal.analysis.rates import HEADLINE_RATES
from blindrefusal.analysis.weighted import WEIGHT_BASIS, WEIGHTED_METHOD, WEIGHTED_PAIRED_METHOD
from blindrefusal.evals.spotcheck import compare_runs, comparison_text, plane, results, unseen_error_text
from blindrefusal.evals.spotcheck.arms import PLANE_NOTE, compared_title, pairs_table
from blindrefusal.evals.spotcheck.result import ESTIMAND
from blindrefusal.exports.figures import (
    model_name,
    model_tick,
    paired_differences,
    stacked_label_bars,
    tradeoff_plane,
)
from blindrefusal.exports.html import Figure, Heading, Paragraph, Settings, Table, html_document
from blindrefusal.exports.inert import plotly_text
from blindrefusal.exports.style import RATE_NAMES


def spot_check_report(engine, run_ids: list[int]) -> str:
    """The HTML document for these spot-check runs (raises KeyError for an id that is not a spot-check)."""
    outcomes = [results(engine, rid) for rid in run_ids]
    first = store.get_run(engine, run_ids[0])
    assert first is not None  # results() raised KeyError for a run that is not there
    params = first["params"]
    names = ", ".join(model_name(r.model) for r in outcomes)
    blocks: list = [
        Paragraph("A spot-check runs models on a stratified sample of the paper's cases with the paper's settings "
                  "(the user query alone, temperature 0), judges the answers, and compares each model with the "
                  "paper's 18 configurations on the same cases under the same judge. Every rate is weighted to the "
                  f"release's cases (the weights are in the settings) and carries its n and a 95% {WEIGHTED_METHOD}; "
                  f"every difference is paired on the same cases, with {WEIGHTED_PAIRED_METHOD} (95%); the rank rests "
                  f"on {RANK_METHOD}."),
        Settings([("runs", ", ".join(map(str, run_ids))), ("models", names), ("judge", outcomes[0].judge),
                  ("sample size n", params.get("n")), ("seed", params.get("seed")),
                  ("allocation", params.get("allocation")), ("weights", WEIGHT_BASIS),
                  ("estimand", ESTIMAND),
                  ("families", ", ".join(params.get("families") or []) or "all (control included)"),
                  ("authorities", ", ".join(params.get("authorities") or []) or "all"),
                  ("dual-use cases", "excluded" if params.get("exclude_dual_use") else "included"),
                  ("status", ", ".join(f"{r.model}: {r.status}" for r in outcomes))], title="Settings"),
        Heading("Rates on defeated rules"),
        Table(_rates_table(outcomes), caption="Weighted to the release, 95% intervals at the design's effective n; "
                                              "errors and blocked answers are not counted."),
        Figure(stacked_label_bars([(model_tick(r.model, r.defeated.n), r.defeated) for r in outcomes],
                                  "Label shares on defeated rules")),
    ]
    points, arrows, reference = plane(outcomes)
    blocks += [Heading("The trade-off plane"),
               Figure(tradeoff_plane(points, "Help on just rules against help on defeated rules", arrows)),
               Paragraph(f"{PLANE_NOTE} Reference points: {reference}.")]
    pairs = compare_runs(engine, run_ids) if len(run_ids) > 1 else []
    if pairs:
        blocks += [Heading(compared_title(pairs)),
                   Table(pd.DataFrame(pairs_table(pairs)),
                         caption="Paired on the same cases, labelled by the same judge, weighted like the sample"
                                 + (f", simultaneous over {len(pairs)} pairs (Bonferroni)" if len(pairs) > 1 else "")
                                 + ". With both runs' gold labels, the prediction-powered difference includes the "
                                 "judge's error.")]
    blocks += [Paragraph(p.verdict) for p in pairs]
    for r in outcomes:
        blocks += _model_blocks(r)
    version = store.data_version(engine)
    return html_document(f"Spot-check: {names}", blocks, data_note=f"store data version {version}")


def _model_blocks(r) -> list:
    """One model among the paper's: the rank, the gap, the paired differences, the gold labels, the judge's shift."""
    blocks: list = [Heading(f"{model_name(r.model)} among the paper's models"), Paragraph(comparison_text(r))]
    unseen = unseen_error_text(r)
    if unseen:
        blocks.append(Paragraph(unseen))
    side, view = r.placed, ("same judge" if r.rank.lo is not None else "against GPT-5.4's labels")
    blocks += [
        Paragraph(f"Rank by help rate on defeated cases ({view}): {side.rank.text()} of {side.rank.of}. "
                  f"{side.rank.explain()}"),
        Paragraph(f"Help-rate gap (defeated − control): this model {r.gap.fmt()}; the paper's models on these "
                  f"same cases ({view}) {side.gap.fmt()}."),
        Figure(paired_differences([(model_tick(k), d) for k, d in side.vs.items()],
                                  f"{plotly_text(model_name(r.model))} minus each paper model, "
                                  f"same defeated cases ({view})")),
        Table(pd.DataFrame([{"model": model_name(k), "help rate on these cases": v.fmt(),
                             "this model minus it": side.vs[k].fmt(),
                             "told apart (Holm)": "higher" if k in side.rank.above else "lower"
                             if k in side.rank.below else ""} for k, v in side.rates.items()]),
              caption=f"The paper's models on the same sampled cases ({view}), weighted like the sample."),
    ]
    if r.gold is not None:
        blocks += _gold_blocks(r)
    if r.judge_shift:
        blocks.append(Table(pd.DataFrame([{"paper model": model_name(k), "judge − GPT-5.4, help rate": d.fmt(),
                                           "answers": d.n} for k, d in r.judge_shift.items()]),
                            caption=f"The judge's shift: {r.judge}'s help rate minus GPT-5.4's on the same "
                                    "paper answers."))
    return blocks


def _gold_blocks(r) -> list:
    g = r.gold
    rates = pd.DataFrame([{"rate (defeated)": RATE_NAMES[k], "judge only": r.defeated.get(k).fmt(),
                           "prediction-powered": v.fmt(), "λ": "—" if v.lam is None else f"{v.lam:.2f}"}
                          for k, v in g.rates.items()])
    diffs = pd.DataFrame([{"paper model": model_name(k), "this model minus it, prediction-powered": v.fmt(pp=True),
                           "judge only (against GPT-5.4's labels)": r.vs_paper_labels[k].fmt()}
                          for k, v in g.vs_paper.items() if k in r.vs_paper_labels])
    return [Heading(f"{model_name(r.model)} with gold labels"), Paragraph(g.text() + f" Method: {g.method}."),
            Table(rates), Paragraph(f"Rank under the gold judge: {g.rank.text()} of {g.rank.of}. {g.rank.explain()}"),
            Table(diffs, caption="Paired on the same defeated cases; the paper side's gold labels are the release's.")]


def _rates_table(outcomes) -> pd.DataFrame:
    rows = []
    for r in outcomes:
        row = {"model": model_name(r.model), "run": r.run_id, "n": r.n}
        row.update({RATE_NAMES[k]: r.defeated.get(k).fmt() for k in HEADLINE_RATES})
        row.update({"help rate on control": r.control.helps.fmt(), "help-rate gap (defeated − control)": r.gap.fmt(),
                    "errors": r.errors, "blocked": r.blocked})
        rows.append(row)
    return pd.DataFrame(rows)
