"""Home: the paper's headline numbers, per-model and per-family views, and what blind refusal is."""

import streamlit as st

from blindrefusal import PAPER_CITATION, PAPER_URL
from blindrefusal.analysis.clustered import CLUSTERED_METHOD
from blindrefusal.analysis.rates import help_gap, rates
from blindrefusal.evals.spotcheck import results as spot_check_results
from blindrefusal.paper import taxonomy
from components import charts
from components.badges import LABEL_COLORS, LABEL_TEXT, model_name, model_tick
from components.glossary import glossary_help, glossary_table
from components.resources import browse_engine
from components.resources import reads as q
from components.url_state import bind_flag, publish_flag
from vocabulary import EFFECTIVE, HELPS, RESPONSE_TYPES

engine, summary_only = browse_engine()

st.title("Blind Refusal Explorer")
st.markdown(
    "Safety-trained language models usually decline to help someone get around a rule — even when the rule "
    "has no claim on them: the authority behind it is **illegitimate**, its content is **unjust or absurd**, it is "
    "**applied unfairly**, or the person's circumstances **justify an exception**. The paper calls this *blind "
    "refusal*. Models often notice the problem with the rule, say so, and still decline. This app lets you browse "
    "the paper's judged responses, run your own scenarios against live models, and spot-check a new model."
)
st.caption(f"Source: {PAPER_CITATION} [{PAPER_URL}]({PAPER_URL})")
if summary_only:
    st.info("Showing the shipped summary of the paper (counts only). Import the release for cases and "
            "responses: `BR_DATA_SOURCE=<dir|zip|url> python -m blindrefusal import-paper`.")

reviewed = 0 if summary_only else q.human_labelled(engine)
view = None
if reviewed:
    changed = q.human_changed(engine)
    bind_flag("corrected", "home_corrected")
    on = st.toggle(f"With our reviewers' corrections ({changed:,} paper label{'s' if changed != 1 else ''} changed, "
                   f"of {reviewed:,} reviewed)", key="home_corrected",
                   help="Off: the paper's own GPT-5.4 labels, exactly as published. On: where one of our reviewers "
                        "labelled a paper answer, their label counts instead (a reviewer who confirmed the paper's "
                        "label changes nothing).")
    publish_flag("corrected", "home_corrected")
    if on:
        view = EFFECTIVE
        st.caption("Showing the paper's numbers **with our reviewers' corrections**: not the published results.")
totals = q.totals(engine, q.Filters(sources=["paper"]), view)
d, c = rates(totals["defeated"]), rates(totals["control"])
if not d.n:
    st.warning("The store holds no judged paper responses yet. Run `make run` with BR_DATA_SOURCE set, "
               "or `python -m blindrefusal import-paper`.")
    st.stop()

cols = st.columns(4)
cols[0].metric("Refusal on defeated rules", d.refusal.pct(), help="deflects + hard refusal")
cols[0].caption(d.refusal.fmt())
cols[1].metric("Engages with the defeat", d.engages.pct())
cols[1].caption(d.engages.fmt())
cols[2].metric("Engages, among refusals", d.engaged_among_refusals.pct(),
               help="Refused although the response treated the rule's claim as open")
cols[2].caption(d.engaged_among_refusals.fmt())
cols[3].metric("Help rate on control (just) rules", c.helps.pct(), help="The baseline: here declining is right")
cols[3].caption(c.helps.fmt())
st.caption(f"95% intervals: the {CLUSTERED_METHOD}. The models answer the same cases, so their answers are not "
           "independent draws." + (" The shipped summary has no case ids: here they cluster by its cells (subtype × "
                                   "authority × dual use), which are coarser than cases, so they come out wider than "
                                   "on the imported release." if summary_only else ""))
gap = help_gap(totals["defeated"], totals["control"])
st.markdown(f"Help-rate gap, defeated − control: **{gap.fmt()}**, by {gap.method}. Models do discriminate — just "
            "not much.")

st.subheader("Models on defeated rules")
by_model = q.aggregate(engine, ["model"], q.Filters(sources=["paper"], families=list(taxonomy.DEFEATED_FAMILIES)), view)
rows = sorted(((model_tick(r["model"]), rates(r["counts"])) for r in by_model), key=lambda x: -(x[1].helps.rate or 0))
st.plotly_chart(charts.stacked_label_bars(rows, "The paper's models on all its defeated cases, sorted by help rate; "
                                                "hover for n and 95% intervals"), width="stretch")
st.caption("The legend's three labels are defined in the glossary below; hover the ⓘ for them here.",
           help=glossary_help(*(LABEL_TEXT[t] for t in RESPONSE_TYPES)))
spot_checks = q.runs(engine, kinds=("spot_check",), limit=5)
if spot_checks:
    st.markdown("**Spot-checked models**, placed only against the paper's models on the same sampled cases under the "
                "same judge (a sample's rate is not sorted among the full release's):")
    placed = []
    for run in spot_checks:
        res = spot_check_results(engine, run["id"])
        side = res.placed
        paper = [r.rate for r in side.rates.values() if r.rate is not None]
        placed.append({"run": run["id"], "model": model_name(res.model), "judge": res.judge,
                       "help rate (defeated, weighted to the release)": res.defeated.helps.fmt(),
                       "paper models, same cases and judge": "—" if not paper
                       else f"{min(paper) * 100:.1f}–{max(paper) * 100:.1f}%",
                       "rank": "—" if side.rank.lo is None else f"{side.rank.text()} of {side.rank.of}",
                       "compared under": {"paper_judge": "GPT-5.4 (one judge)", "same_judge": "one judge (bridged)",
                                          "mixed_judges": "mixed judges"}[res.comparison]})
    st.dataframe(placed, hide_index=True, width="stretch")
    st.caption("Rank: paired tests against each paper model on the same cases, Holm-adjusted (family-wise 95%). "
               "Open a run on the Spot-check page for the paired differences.")

st.subheader("Help rate by defeat family")
fam = q.by_dimension(engine, "family", q.Filters(sources=["paper"]), view)
items = []
for f in taxonomy.DEFEATED_FAMILIES:
    if f in fam:
        items.append((taxonomy.family_label(f), rates(fam[f]["defeated"]).helps, LABEL_COLORS[HELPS]))
base = rates(fam["control"]["control"]).helps if "control" in fam else None
st.plotly_chart(charts.rate_bars(items, "Help rate on defeated rules, with the control baseline", base,
                                 "control help rate"), width="stretch")
st.caption(f"Error bars: the 95% {CLUSTERED_METHOD}. The dashed line is the help rate when the rule is just — "
           "where declining is the right answer.")

st.subheader("Glossary: what the labels mean")
glossary_table()
