"""A spot-check's results: the headline numbers with their intervals, the model beside the paper's models (the
placement chart: same cases, same judge, same weights), the numbers its gold labels rectify, the paired
comparisons under one judge and against GPT-5.4's labels, the case-by-case answers, downloads, and several
models of one sample against each other."""

import json
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from blindrefusal.analysis.rates import HEADLINE_RATES, help_gap
from blindrefusal.evals.spotcheck import (
    SpotCheckParams,
    SpotCheckResult,
    case_answers,
    compare_runs,
    comparison_text,
    plane,
    results,
    summary_text,
    to_json,
    unseen_error_text,
)
from blindrefusal.evals.spotcheck.arms import PLANE_NOTE, compared_title, pairs_table
from blindrefusal.evals.spotcheck.gold import REVIEWERS_NAME
from blindrefusal.evals.spotcheck.report import spot_check_report
from blindrefusal.exports.figures import tradeoff_plane
from blindrefusal.exports.inert import csv_bytes, md_inline, plotly_text
from blindrefusal.exports.style import RATE_NAMES
from blindrefusal.paper import taxonomy
from components import charts
from components.badges import LABEL_COLORS, LABEL_TEXT, model_name, model_tick
from components.cards import response_card
from components.live_cards import failure_panel, system_prompt_note
from components.resources import reads as q
from components.resources import shared_view
from components.scenario_view import question
from vocabulary import HELPS, RESPONSE_TYPES


def _results(engine, run_id: int) -> SpotCheckResult:
    return results(engine, run_id)


def spot_results(engine, run_id: int) -> SpotCheckResult:
    """A spot-check's findings, built once per change to the run (its answers, labels and bridge) and shared by
    every visitor."""
    run = q.get_run(engine, run_id)
    version = q.run_version(engine, run_id, (run or {}).get("params", {}).get("judge"))
    return shared_view(engine, "paper", _results, run_id, version=version)


def arm_name(engine, run_id: int) -> str:
    """The arm a spot-check run is: its model, and its system prompt's name where it ran under one."""
    return model_name(SpotCheckParams.stored(results_params(engine, run_id)).arm)


def show_results(engine, run_id: int, with_plane: bool = False) -> None:
    """One arm's findings: the summary first, the headline numbers and its place among the paper's models, the
    details folded below. `with_plane`: the trade-off plane too (a run shown alone)."""
    res = spot_results(engine, run_id)
    d, c = res.defeated, res.control
    asked = results_params(engine, run_id).get("n")
    st.subheader(f"{md_inline(model_name(res.model))} — run {run_id}, n = {res.n}, seed {res.seed}")
    if (res.errors or res.blocked) and failure_panel(q.responses_for(engine, run_id=run_id)):
        return  # every call failed: the causes, not an empty chart
    if res.status in ("cancelled", "interrupted") and asked:
        st.warning(f"{res.n} of {asked} cases answered — {res.status}. Re-run the same settings to resume.")
    if res.n < 30:
        st.warning(f"With n = {res.n}, every interval is wide: the rank range and the differences below cannot "
                   "tell most models apart. Use n ≥ 100 to place a model among the paper's.")
    with st.container(border=True):
        st.markdown("**In short.** " + md_inline(summary_text(res), 3000))
        system_prompt_note({"system_prompt": res.system_prompt})
    st.caption(f"Judge: {md_inline(res.judge, 120)}. Errors: {res.errors}, blocked: {res.blocked} "
               f"(not counted in the rates). {res.weights.text()}")
    cols = st.columns(5)
    for col, key in zip(cols, HEADLINE_RATES, strict=True):
        col.metric(f"{RATE_NAMES[key].capitalize()} (defeated)", d.get(key).pct())
        col.caption(d.get(key).fmt())
    placed, ranked_by = res.placed, "same judge" if res.rank.lo is not None else "mixed judges"
    a, b, r = st.columns(3)
    a.metric("Help rate on control", c.helps.pct())
    a.caption(c.helps.fmt())
    b.metric("Help-rate gap (defeated − control)", "—" if res.gap.diff is None else f"{res.gap.diff * 100:+.1f} pp")
    b.caption(f"{res.gap.fmt()} · the paper's models **on these cases** ({ranked_by}): {placed.gap.fmt()} · on the "
              f"full release (GPT-5.4's labels): {paper_gap(engine).fmt()}")
    r.metric(f"Rank among {placed.rank.of} ({ranked_by})", placed.rank.text())
    r.caption("By help rate on defeated cases (1 = helps most). " + placed.rank.explain()
              + ("" if res.rank.lo is not None else " Not under one judge: read it with the judge's error in mind."))
    if res.contamination is not None:
        contamination_panel(res.contamination)
    placement_chart(res)
    if with_plane:
        tradeoff_panel(engine, [run_id])
    if res.gold is not None:
        with st.expander("With the gold labels: numbers that include the judge's error", expanded=True):
            gold_panel(res)
    with st.expander("Against each paper model: the paired differences, the judges, the judge's shift"):
        comparison_panel(res)
    with st.expander("Answers, case by case"):
        answers_table(engine, run_id)
    rows = q.export_rows(engine, q.Filters(run_ids=[run_id]))
    c1, c2, c3 = st.columns(3)
    c1.download_button("Responses (CSV)", csv_bytes(pd.DataFrame(rows)), f"spot_check_{run_id}.csv",
                       "text/csv", key=f"csv{run_id}")
    c2.download_button("Responses (JSONL)", "\n".join(json.dumps(r, default=str) for r in rows).encode(),
                       f"spot_check_{run_id}.jsonl", "application/jsonl", key=f"jsonl{run_id}")
    c3.download_button("Summary (JSON)", json.dumps(to_json(res), indent=1).encode(),
                       f"spot_check_{run_id}_summary.json", "application/json", key=f"json{run_id}")


def contamination_panel(gap) -> None:
    """A fresh run: the model on fresh cases against published cases of the same cells."""
    st.markdown("**Contamination gap** (fresh minus published cases of the same cells, one judge)")
    a, b, c = st.columns(3)
    a.metric("Gap in help rate", "—" if gap.gap.diff is None else f"{gap.gap.diff * 100:+.1f} pp")
    a.caption(f"{gap.gap.fmt()} · {gap.gap.method}, cell-matched")
    b.metric("Help rate, fresh cases", gap.fresh.pct())
    b.caption(gap.fresh.fmt())
    c.metric("Help rate, published cases", gap.published.pct())
    c.caption(gap.published.fmt())
    st.caption(f"Over {gap.cells} cell{'s' * (gap.cells != 1)} with answers on both sides. The rates and the rank "
               "below are the published half's, weighted to the release's cases of these cells.")


def answers_table(engine, run_id: int) -> None:
    """Every case's answer, filterable; a row opens the answer."""
    st.markdown("**Answers, case by case**")
    answers = case_answers(engine, run_id)
    f1, f2 = st.columns([3, 2])
    shown_labels = f1.multiselect("Label", list(RESPONSE_TYPES) + ["unjudged"], format_func=lambda k: LABEL_TEXT[k],
                                  key=f"lab{run_id}", placeholder="all labels")
    odd_only = f2.checkbox("Only where it disagrees with most paper models", key=f"odd{run_id}",
                           help="It helped where most of the paper's models refused, or refused where most helped.")
    picked = [a for a in answers
              if (not shown_labels or (a.response_type or "unjudged") in shown_labels)
              and (not odd_only or a.disagrees_with_most)]
    if not picked:
        st.info("No answer matches these filters.")
        return
    table = pd.DataFrame([{"case": a.case_key, "family": taxonomy.family_label(a.family),
                           "label": LABEL_TEXT[a.response_type] if a.response_type else a.status,
                           "engages": "" if a.engages is None else ("yes" if a.engages else "no"),
                           "paper models helping": f"{a.paper_helps} of {a.paper_n}",
                           "disagrees with most": "yes" if a.disagrees_with_most else ""} for a in picked])
    event = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         key=f"answers{run_id}", height=min(400, 38 + 35 * len(picked)))
    st.caption(f"{len(picked)} of {len(answers)} cases. Select a row to read the answer.")
    chosen = event.selection.rows if event and event.selection else []
    if chosen:
        answer = picked[chosen[0]]
        [row] = q.responses_for(engine, response_ids=[answer.response_id])
        question(q.get_case(engine, answer.case_key))
        response_card(row, key=f"answer{answer.response_id}")


def results_params(engine, run_id: int) -> dict:
    run = q.get_run(engine, run_id)
    return run["params"] if run else {}


def paper_gap(engine):
    totals = q.totals(engine, q.Filters(sources=["paper"]))
    return help_gap(totals["defeated"], totals["control"])


def compared_together(engine, run_ids: list[int]) -> None:
    """Several arms of one sample (models, or a model under several system prompts) against each other: the
    verdicts first, then the differences on both sides of the design."""
    pairs = compare_runs(engine, run_ids)
    if not pairs:
        st.subheader("The models against each other")
        st.info("These runs were judged by different judges: they are not compared with each other.")
        return
    st.subheader(compared_title(pairs))
    with st.container(border=True):
        st.markdown("**In short.**\n" + "\n".join(f"- {md_inline(p.verdict, 1000)}" for p in pairs))
    st.dataframe(pd.DataFrame(pairs_table(pairs)), hide_index=True, width="stretch")
    st.caption("Paired on the same cases under the same judge, weighted like the sample"
               + (f"; the intervals hold together over the {len(pairs)} pairs (Bonferroni)" if len(pairs) > 1 else "")
               + ". Help on just rules is the control family's: a mitigation should raise help on defeated rules "
                 "without raising it there. The discrimination is the change in the defeated − just gap (MOVER)."
               + (" With both runs' gold labels, the prediction-powered difference includes the judge's error."
                  if any(p.gold for p in pairs) else ""))
    with st.expander("Help on defeated rules, arm against arm (chart)"):
        st.plotly_chart(charts.paired_differences(
            [(f"{model_tick(p.a)} − {plotly_text(model_name(p.b))}", p.diff) for p in pairs],
            "Help rate of one arm minus another, same defeated cases, same judge"), width="stretch")


def tradeoff_panel(engine, run_ids: list[int]) -> None:
    """The trade-off plane of these runs' arms among the paper's configurations on the same cases."""
    outcomes = [spot_results(engine, rid) for rid in run_ids]
    points, arrows, reference = plane(outcomes)
    st.plotly_chart(tradeoff_plane(points, "Help on just rules against help on defeated rules", arrows),
                    width="stretch", key=f"plane_{'_'.join(map(str, run_ids))}")
    st.caption(f"{PLANE_NOTE} Reference points: {md_inline(reference, 300)}.")


def report_button(engine, run_ids: list[int]) -> None:
    st.download_button("Report (HTML, opens offline)", lambda: spot_check_report(engine, run_ids).encode(),
                       f"spot_check_{'_'.join(map(str, run_ids))}.html", "text/html", type="primary",
                       on_click="ignore",
                       help="One self-contained file: the numbers with their intervals, the charts, the judge and "
                            "the settings.")


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
    (st.info if res.comparison != "mixed_judges" else st.warning)(md_inline(comparison_text(res), 1000))
    if res.comparison == "same_judge":
        link = "heatmaps?" + urlencode([("rows", "model"), ("cols", "family"), ("metric", "helps"), ("source", "paper"),
                                       ("source", "spot_check"), ("judge", res.judge)])
        st.markdown(f"[The heatmap of these models and the paper's under this one judge]({link}) — the paper's rows "
                    "on the re-judged (sampled) cases.")
    said = unseen_error_text(res)
    if said:
        (st.info if res.gpt54_scale else st.caption)(said)
    views = []
    if res.comparison == "same_judge":
        views.append((f"Same judge ({res.judge} on both sides)", res.vs_paper))
    views.append(("Against GPT-5.4's labels" + (" (the same judge)" if res.comparison == "paper_judge" else ""),
                  res.vs_paper_labels))
    tabs = st.tabs([md_inline(name, 160) for name, _ in views] + (["Judge shift"] if res.judge_shift else []))
    for tab, (name, diffs) in zip(tabs, views, strict=False):  # the judge shift's extra last tab comes below
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
