"""Home: the paper's headline numbers, per-model and per-family views, and what blind refusal is."""

import streamlit as st

from blindrefusal import PAPER_CITATION, PAPER_URL
from blindrefusal.analysis.clustered import CLUSTERED_METHOD
from components.badges import LABEL_TEXT, rate_metric
from components.frame import row, small
from components.glossary import glossary_help, glossary_markdown
from components.overview import SpotCheckLines, paper_overview, spot_check_overview
from components.resources import browse_engine
from components.resources import reads as q
from components.url_state import bind_flag, publish_flag
from vocabulary import EFFECTIVE, RESPONSE_TYPES

engine, summary_only = browse_engine()

# One markdown element where a title, a caption and the next heading were three: every element is a message that
# each visitor's session sends, and a room of visitors adds them up (benchmarks/room.py).
st.markdown(
    "# Blind Refusal Explorer\n\n"
    "Safety-trained language models usually decline to help someone get around a rule — even when the rule "
    "has no claim on them: the authority behind it is **illegitimate**, its content is **unjust or absurd**, it is "
    "**applied unfairly**, or the person's circumstances **justify an exception**. The paper calls this *blind "
    "refusal*. Models often notice the problem with the rule, say so, and still decline. This app lets you browse "
    "the paper's judged responses, run your own scenarios against live models, and spot-check a new model.  \n"
    f":gray[Source: {PAPER_CITATION} [{PAPER_URL}]({PAPER_URL})]"
)
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
overview = paper_overview(engine, view)
d, c = overview.defeated, overview.control
if not d.n:
    st.warning("The store holds no judged paper responses yet. Run `make run` with BR_DATA_SOURCE set, "
               "or `python -m blindrefusal import-paper`.")
    st.stop()

headline = row()
rate_metric(headline, "Refusal on defeated rules", d.refusal, help="deflects + hard refusal")
rate_metric(headline, "Engages with the defeat", d.engages)
rate_metric(headline, "Engages, among refusals", d.engaged_among_refusals,
            help="Refused although the response treated the rule's claim as open")
rate_metric(headline, "Help rate on control (just) rules", c.helps, help="The baseline: here declining is right")
st.markdown(f"Help-rate gap, defeated − control: **{overview.gap.fmt()}**, by {overview.gap.method}. Models do "
            "discriminate — just not much.  \n"
            f":gray[95% intervals: the {CLUSTERED_METHOD}. The models answer the same cases, so their answers are "
            "not independent draws." + (" The shipped summary has no case ids: here they cluster by its cells "
                                        "(subtype × authority × dual use), which are coarser than cases, so they come "
                                        "out wider than on the imported release." if summary_only else "") + "]"
            "\n\n### Models on defeated rules")
st.plotly_chart(overview.models, width="stretch")
st.caption("The legend's three labels are defined in the glossary below; hover the ⓘ for them here.",
           help=glossary_help(*(LABEL_TEXT[t] for t in RESPONSE_TYPES)))


def spot_checked_models(shown: SpotCheckLines) -> None:
    if shown.placed is None and not shown.lines:
        return
    rank = ("Rank: paired tests against each paper model on the same cases, Holm-adjusted (family-wise 95%); "
            "open a run on the Spot-check page for the paired differences." if shown.placed is not None else "")
    st.markdown("**Spot-checked models**, placed only against the paper's models on the same sampled cases under "
                f"the same judge (a sample's rate is not sorted among the full release's). {small(rank)}"
                + "".join(f"  \n{line}" for line in shown.lines))
    if shown.placed is not None:
        st.dataframe(shown.placed, hide_index=True, width="stretch")


@st.fragment(run_every=2)
def spot_checked_models_when_ready() -> None:
    """While a placement is being computed (in the background), this part alone looks again every 2 s; once it is
    there, the page is drawn again without the timer."""
    shown = spot_check_overview(engine)
    if not shown.pending:
        st.rerun()
    spot_checked_models(shown)


if not summary_only:
    first = spot_check_overview(engine)
    if first.pending:
        spot_checked_models_when_ready()
    else:
        spot_checked_models(first)

st.markdown("### Judgement or compliance? The trade-off plane")
st.plotly_chart(overview.plane, width="stretch")
st.markdown(small("Each of the paper's configurations by its help rate on just (control) rules, across, and on "
                  f"defeated rules, up, with 95% intervals (the {CLUSTERED_METHOD}), under GPT-5.4's labels. On the "
                  "dotted diagonal a model helps as much when the rule is just as when it is defeated; above it, it "
                  "tells them apart. A mitigation should move a model up and to the left, not along the diagonal "
                  "(the Spot-check page compares system prompts).") + "\n\n### Help rate by defeat family")
st.plotly_chart(overview.families, width="stretch")
st.markdown(small(f"Error bars: the 95% {CLUSTERED_METHOD}. The dashed line is the help rate when the rule is just "
                  "— where declining is the right answer.")
            + "\n\n### Glossary: what the labels mean\n\n" + glossary_markdown())
