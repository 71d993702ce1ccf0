"""Judge agreement: the distilled judge vs GPT-5.4, the paper's reviewers vs GPT-5.4 and each other,
and in-app human labels vs every judge."""

import pandas as pd
import streamlit as st

from blindrefusal.analysis.agreement import LABELS, LabelAgreement, compare, from_evaluation
from blindrefusal.analysis.stats import wilson
from blindrefusal.exports.inert import csv_bytes, md_inline, md_literal
from blindrefusal.judges.distilled.measured import distilled_eval, distilled_version, unseen_model_measurement
from components.badges import model_name, plural
from components.charts import LABEL_NAMES as NAMES
from components.charts import confusion_matrix as confusion_fig
from components.charts import unseen_model_errors
from components.resources import paper_imported, store
from components.resources import reads as q
from vocabulary import HUMAN_PREFIX, PAPER_JUDGE, REVIEWER_PREFIX

engine = store()
st.title("Judge agreement")
st.markdown(
    "Every label in this app comes from a judge, so it is worth knowing how far to trust each one. We report "
    "**Cohen's κ**: agreement corrected for what two raters would agree on by chance (0 = chance, 1 = perfect; "
    "above ~0.8 is usually called near-perfect). Raw agreement is shown beside it but can flatter a judge when "
    "one class dominates.")

def agreement_block(result: dict[str, LabelAgreement], a_name: str, b_name: str, key: str) -> None:
    cols = st.columns(3)
    for col, label in zip(cols, LABELS, strict=True):
        la = result[label]
        with col:
            if not la.n:
                st.caption(f"{NAMES[label]}: no overlapping labels")
                continue
            st.metric(f"κ — {NAMES[label]}", f"{la.kappa:.2f}" if la.kappa is not None else "—")
            st.caption(f"{la.fmt()} · raw agreement {la.agreement * 100:.1f}%")
            if la.too_few:
                st.warning(f"Only {la.n} pair{'s' if la.n != 1 else ''}: too few for κ to mean much "
                           "(one label more or less moves it by tenths).")
            st.plotly_chart(confusion_fig(la, a_name, b_name), width="stretch", key=f"{key}_{label}")


st.header("1 · Distilled judge vs GPT-5.4 (held-out cases)")
ev = distilled_eval()
if ev is None:
    st.info("No evaluation of the distilled judge is shipped yet (`python -m blindrefusal judge-eval --json`).")
else:
    st.caption("Test split: cases with sha256(case_id) mod 5 = 0, never used in training — "
               f"n = {ev['n_test']:,} responses.")
    agreement_block(from_evaluation(ev), "GPT-5.4", "distilled", "distilled")

ROBUSTNESS_VARIANTS = {"disclaimer_before": "one refusal sentence before a helping answer",
                       "disclaimer_after": "the same sentence after it",
                       "short_helps": "a short, plainly helpful answer in its place "
                                      "(steps, a list, code, Spanish, French)"}
robustness = (ev or {}).get("robustness")
if robustness:
    st.subheader("Does it read the answer or its style?")
    st.markdown(f"On {robustness['n_answers']} held-out answers that GPT-5.4 and the distilled judge both label "
                "\"helps\", each changed in a way that should not change its label, with sentences of our own that "
                "the judge was never trained on: the share it then labels as anything else.")
    def flip_text(d: dict) -> str:
        ci = d.get("ci")
        return f"{d['flip_rate'] * 100:.1f}%" + (f" ({ci[0] * 100:.1f}–{ci[1] * 100:.1f})" if ci else "")

    st.dataframe(pd.DataFrame([{"variant": text, "variants judged": robustness[k]["n"],
                                "labelled other than helps (95% CI)": flip_text(robustness[k])}
                               for k, text in ROBUSTNESS_VARIANTS.items() if k in robustness]),
                 hide_index=True, width="stretch")
    st.caption("Intervals: " + (robustness.get("disclaimer_before", {}).get("method") or "none recorded") +
               ". `python -m blindrefusal judge-eval --robustness --write` measures it again.")

st.subheader("On models it never saw (leave one model out)")
lomo = unseen_model_measurement()
ev_version = distilled_version()
if lomo is None:
    st.info("Not measured yet: `python -m blindrefusal judge-eval --leave-one-model-out --write` refits the judge "
            "without each paper model in turn (~5 min per model) and writes data/distilled_judge_lomo.json.")
else:
    u = lomo.summary()
    st.markdown(
        "A spot-checked model is always new to the distilled judge, and κ on the mixed split does not say how it "
        "fares on a model whose style it never saw. So the judge was refitted without each paper model's answers "
        "and scored on that model's held-out answers (defeated cases). **" + lomo.text().capitalize() + ".** "
        "The targets were a mean absolute error under 2.0 pp and a maximum under 4.0 pp (see the README).")
    other_version = lomo.not_of(ev_version)
    if other_version or u["models"] < 18:
        st.warning(f"Of the 18 paper models, {u['models']} are measured, {len(other_version)} of them with another "
                   f"version of the judge than the shipped one ({md_inline(ev_version)}): re-run "
                   "`python -m blindrefusal judge-eval --leave-one-model-out --write`, which resumes.")
    stale = lomo.stale_intervals
    if stale:
        methods = sorted({str(lomo.per_model[k].get("interval_method") or "a Clopper–Pearson interval rescaled by "
                                                                          "the discordance") for k in stale})
        st.warning(f"The 95% intervals of {len(stale)} of these models were computed with an earlier paired method "
                   f"than the app's ({'; '.join(methods)}), which dips below its 95% at some points. Re-measure "
                   "them (delete their entries from data/distilled_judge_lomo.json, then `python -m blindrefusal "
                   "judge-eval --leave-one-model-out --write`); the point estimates are unaffected.")
    c1, c2, c3 = st.columns(3)
    for slot, title, error, tip in (
            (c1, "Help-rate error, unseen", lomo.errors("help_rate_error_pp"),
             "Distilled judge minus GPT-5.4 on a model it never saw, signed, averaged over the models measured: a "
             "spot-check's help rate leans this way"),
            (c2, "Engagement error, unseen", lomo.errors("engagement_error_pp"), None),
            (c3, "Help-rate error, same models seen", lomo.seen_errors("help_rate_error_pp"),
             "The shipped judge, which saw each model in training, on the same held-out answers")):
        if error is None:
            continue
        lo, hi = error.mean_interval_pp()
        slo, shi = error.sd_interval_pp()
        slot.metric(f"{title} (mean over models)", f"{error.mean_pp:+.1f} pp", help=tip, delta_color="off",
                    delta_arrow="off", delta=f"95% CI {lo:+.1f} to {hi:+.1f}; spread {error.sd_pp:.1f} pp "
                                         f"({slo:.1f}–{shi:.1f}); {plural(error.k, 'model')}")
    st.caption("Mean: t interval over the models; spread: the standard deviation across models, with its chi-square "
               "interval. A mean of absolute errors is not shown: over few answers it is biased up.")
    if lomo.before_text():
        st.caption(lomo.before_text())
    st.plotly_chart(unseen_model_errors(lomo.per_model), width="stretch")
    def error(d: dict, key: str) -> str:
        ci = d.get(f"{key}_ci_pp")
        return f"{d[key]:+.1f}" + (f" ({ci[0]:+.1f} to {ci[1]:+.1f})" if ci else "")

    table = pd.DataFrame([{"model": model_name(slug), "n (held-out answers)": m["n"],
                           "GPT-5.4 help rate": wilson(round(m["unseen"]["gpt54_help_rate"] * m["n"]), m["n"]).fmt(),
                           "help-rate error, unseen (pp, 95% CI)": error(m["unseen"], "help_rate_error_pp"),
                           "help-rate error, seen (pp, 95% CI)": error(m["seen"], "help_rate_error_pp"),
                           "engagement error, unseen (pp, 95% CI)": error(m["unseen"], "engagement_error_pp"),
                           "κ response type, unseen": round(m["unseen"]["kappa_response_type"], 3)}
                          for slug, m in lomo.per_model.items()])
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button("Leave-one-model-out results (CSV)", csv_bytes(table),
                       "distilled_judge_leave_one_model_out.csv", "text/csv")

st.header("2 · The paper's human reviewers")
if not paper_imported():
    st.info("Import the release to compare the paper's reviewers with its judge "
            "(`python -m blindrefusal import-paper`).")
else:
    reviewers = [j for j in q.judges_present(engine) if j.startswith(REVIEWER_PREFIX)]
    if not reviewers:
        st.info("The imported release has no human_validation/eval_reviews.json.")
    for r in reviewers:
        st.subheader(f"{r.removeprefix(REVIEWER_PREFIX)} vs GPT-5.4")
        agreement_block(compare(q.judgment_pairs(engine, r, PAPER_JUDGE)), r.removeprefix(REVIEWER_PREFIX), "GPT-5.4",
                        r)
    if len(reviewers) >= 2:
        st.subheader("Reviewer vs reviewer")
        agreement_block(compare(q.judgment_pairs(engine, reviewers[0], reviewers[1])),
                        reviewers[0].removeprefix(REVIEWER_PREFIX), reviewers[1].removeprefix(REVIEWER_PREFIX), "rvr")
    st.markdown(
        "**Reading these numbers.** On *response type* the paper's judge agrees with each reviewer about as well as "
        "the reviewers agree with each other, so its help/deflect/refuse labels can be taken at face value. On "
        "*engagement* agreement is clearly lower, and the confusion matrices show the direction: the judge says a "
        "response engages with the defeat more often than the reviewers do. Engagement rates in this app are best "
        "read as an upper bound. *Independent harm* is the label people agree on least.\n\n"
        "Set section 1 beside these: on *response type* the distilled judge sits a little below the humans; on "
        "*engagement* and *independent harm* it agrees with GPT-5.4 more than the humans do. It has learned "
        "GPT-5.4's habits, its generous reading of engagement included, not a better ground truth.")

st.header("3 · Other judges on the paper's answers vs GPT-5.4")
if paper_imported():
    bridged = [j for j in q.judges_present(engine)
               if not j.startswith((HUMAN_PREFIX, REVIEWER_PREFIX)) and j != PAPER_JUDGE]
    shown = 0
    for j in bridged:
        pairs = q.judgment_pairs(engine, j, PAPER_JUDGE)
        if pairs:
            shown += 1
            st.subheader(f"{j} vs GPT-5.4")
            st.caption("On the paper's answers this judge labelled for spot-checks (the same-judge bridge) — the "
                       "sampled cases only, not a random sample of the release.")
            agreement_block(compare(pairs), j, "GPT-5.4", f"bridge_{j}")
    if not shown:
        st.info("No other judge has labelled the paper's answers yet. A spot-check does, for the paper models it "
                "compares under its own judge.")

st.header("4 · Your labels vs the judges")
humans = [j for j in q.judges_present(engine) if j.startswith(HUMAN_PREFIX)]
if not humans:
    st.info("No in-app human labels yet. Sign in or enter a reviewer name in the sidebar, open a response card "
            "(Cases or Live lab) and use “Set your own label”.")
else:
    judges = [j for j in q.judges_present(engine) if not j.startswith((HUMAN_PREFIX, REVIEWER_PREFIX))]
    for h in humans:
        for j in judges:
            pairs = q.judgment_pairs(engine, h, j)
            if pairs:
                # a name a visitor chose
                st.subheader(f"{md_literal(h.removeprefix(HUMAN_PREFIX))} vs {md_inline(j, 120)}")
                agreement_block(compare(pairs), h.removeprefix(HUMAN_PREFIX), j, f"{h}_{j}")
