"""A spot-check's results beside the paper's models: the placement chart (same cases, same judge, same weights),
the numbers its gold labels rectify, and the paired comparisons under one judge and against GPT-5.4's labels."""

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from blindrefusal.evals.spotcheck.gold import REVIEWERS_NAME
from blindrefusal.exports.inert import md_inline, plotly_text
from blindrefusal.exports.style import RATE_NAMES
from components import charts
from components.badges import LABEL_COLORS, model_tick
from vocabulary import HELPS


def placement_chart(res) -> None:
    """This model's help rate beside each paper model's on the same sampled cases, same judge, same weights."""
    placed = res.placed
    if not placed.rates:
        return
    mine = (f"<b>{model_tick(res.model)}</b>", res.defeated.helps, LABEL_COLORS[HELPS])
    rows = sorted([(model_tick(k), v, "#9aa5b1") for k, v in placed.rates.items() if v.n] + [mine],
                  key=lambda x: -(x[1].rate or 0))
    judge = res.judge if res.comparison == "same_judge" else "GPT-5.4 (the release's labels)"
    st.plotly_chart(charts.rate_bars(rows, f"Help rate on these {res.defeated.n} defeated cases, weighted to the "
                                           f"release — judged by {plotly_text(judge)}"),
                    width="stretch", key=f"placed_{res.run_id}")


def gold_panel(res) -> None:
    """The numbers rectified by the gold labels, beside the judge-only ones."""
    g = res.gold
    st.markdown("**With the gold labels**")
    st.info(md_inline(g.text(), 600))
    if g.judge == REVIEWERS_NAME:
        st.page_link("app_pages/cases.py", label=f"The reviewers' label queue for this run ({g.m} labelled so far) →",
                     query_params={"queue": "gold", "qrun": str(res.run_id)})
    rows = [{"rate (defeated)": RATE_NAMES[k], "judge only (sampling error)": res.defeated.get(k).fmt(),
             "prediction-powered (judge error too)": v.fmt(), "λ": "—" if v.lam is None else f"{v.lam:.2f}"}
            for k, v in g.rates.items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(f"Rank under the gold judge: {g.rank.text()} of {g.rank.of}. {g.rank.explain()}")
    st.plotly_chart(charts.paired_differences(
        [(model_tick(k), d) for k, d in g.differences().items()],
        f"This model minus each paper model under {plotly_text(g.judge)} — prediction-powered"),
        width="stretch", key=f"gold_{res.run_id}")


def comparison_panel(res) -> None:
    """The model against the paper's, under one judge where the paper side was bridged, and as against GPT-5.4."""
    (st.info if res.comparison != "mixed_judges" else st.warning)(md_inline(res.comparison_text(), 1000))
    if res.comparison == "same_judge":
        link = "heatmaps?" + urlencode([("rows", "model"), ("cols", "family"), ("metric", "helps"), ("source", "paper"),
                                       ("source", "spot_check"), ("judge", res.judge)])
        st.markdown(f"[The heatmap of these models and the paper's under this one judge]({link}) — the paper's rows "
                    "on the re-judged (sampled) cases.")
    if res.unseen_error_text():
        st.caption(res.unseen_error_text())
    views = []
    if res.comparison == "same_judge":
        views.append((f"Same judge ({res.judge} on both sides)", res.vs_paper))
    views.append(("Against GPT-5.4's labels" + (" (the same judge)" if res.comparison == "paper_judge" else ""),
                  res.vs_paper_labels))
    tabs = st.tabs([md_inline(name, 160) for name, _ in views] + (["Judge shift"] if res.judge_shift else []))
    for tab, (name, diffs) in zip(tabs, views):
        with tab:
            st.plotly_chart(charts.paired_differences(
                [(model_tick(k), v) for k, v in diffs.items()],
                f"This model minus each paper model, same defeated cases — {plotly_text(name.lower())}"),
                width="stretch", key=f"diff_{res.run_id}_{name}")
            st.caption("Each marker is one pair's own (marginal) 95% interval, weighted like the sample; red where "
                       "it excludes 0. The rank above rests on the same tests, Holm-adjusted for all the pairs at "
                       "once, so it can call fewer pairs apart.")
    if res.judge_shift:
        with tabs[-1]:
            st.plotly_chart(charts.paired_differences(
                [(model_tick(k), v) for k, v in res.judge_shift.items()],
                f"{plotly_text(res.judge)}'s help rate minus GPT-5.4's, on the same paper answers"),
                width="stretch", key=f"shift_{res.run_id}")
            st.caption("How far this judge's labels move each paper model's help rate on the sampled cases. "
                       "The same-judge comparison cancels this shift out; the comparison against GPT-5.4's labels "
                       "does not.")
