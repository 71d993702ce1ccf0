"""Spot-check: run models on a stratified sample of the paper's cases and place them among the paper's 18."""

import json

import pandas as pd
import streamlit as st

from blindrefusal.analysis.rates import HEADLINE_RATES, help_gap
from blindrefusal.evals.spotcheck import (
    GOLD_CHOICES,
    MIN_GOLD,
    SpotCheckError,
    SpotCheckParams,
    case_answers,
    compare_runs,
    plan_spot_check,
    results,
)
from blindrefusal.evals.spotcheck.params import CASE_SETS
from blindrefusal.evals.spotcheck.report import spot_check_report
from blindrefusal.exports.inert import csv_bytes, md_inline, plotly_text
from blindrefusal.exports.style import RATE_NAMES
from blindrefusal.jobs import control as jobs
from blindrefusal.jobs.kinds import spot_check_params
from blindrefusal.judges import judge_label
from blindrefusal.models import presets
from blindrefusal.paper import taxonomy
from components import charts, guard
from components.badges import LABEL_TEXT, model_name, model_tick
from components.cards import response_card
from components.job_panel import current_job, job_panel, started
from components.judge_picker import judge_picker
from components.live_cards import failure_panel
from components.model_picker import preset_label
from components.resources import paper_imported, store
from components.resources import reads as q
from components.scenario_view import question
from components.sign_in import visitor_id
from components.spot_check_results import comparison_panel, gold_panel, placement_chart
from components.url_state import bind, keep, qp, qp_int, set_qp
from vocabulary import RESPONSE_TYPES

engine = store()
CASE_SET_TEXT = {"paper": "the paper's cases", "fresh": "fresh cases (generated, accepted)"}
st.title("Spot-check models")
st.caption("Runs one or several models on one stratified sample of the paper's cases (by family × authority cell, "
           "control included), with the paper's settings — the user query alone, temperature 0 — judges the "
           "answers, weights them back to the release, and compares each model with the paper's 18 configurations "
           "and with each other **on the same cases, under the same judge**.")
if not paper_imported():
    st.info("Spot-checks sample the paper's cases: import the release first "
            "(`BR_DATA_SOURCE=<dir|zip|url> python -m blindrefusal import-paper`).")
    st.stop()


def show_results(run_id: int) -> None:
    res = results(engine, run_id)
    d, c = res.defeated, res.control
    asked = results_params(run_id).get("n")
    st.subheader(f"{md_inline(model_name(res.model))} — run {run_id}, n = {res.n}, seed {res.seed}")
    if (res.errors or res.blocked) and failure_panel(q.responses_for(engine, run_id=run_id)):
        return  # every call failed: the causes, not an empty chart
    if res.status in ("cancelled", "interrupted") and asked:
        st.warning(f"{res.n} of {asked} cases answered — {res.status}. Re-run the same settings to resume.")
    if res.n < 30:
        st.warning(f"With n = {res.n}, every interval is wide: the rank range and the differences below cannot "
                   "tell most models apart. Use n ≥ 100 to place a model among the paper's.")
    st.caption(f"Judge: {md_inline(res.judge, 120)}. Errors: {res.errors}, blocked: {res.blocked} (not counted in the rates). "
               f"{res.weights.text()}")
    cols = st.columns(5)
    for col, key in zip(cols, HEADLINE_RATES):
        col.metric(f"{RATE_NAMES[key].capitalize()} (defeated)", d.get(key).pct())
        col.caption(d.get(key).fmt())
    placed, ranked_by = res.placed, "same judge" if res.rank.lo is not None else "mixed judges"
    a, b, r = st.columns(3)
    a.metric("Help rate on control", c.helps.pct())
    a.caption(c.helps.fmt())
    b.metric("Help-rate gap (defeated − control)", "—" if res.gap.diff is None else f"{res.gap.diff * 100:+.1f} pp")
    b.caption(f"{res.gap.fmt()} · the paper's models **on these cases** ({ranked_by}): {placed.gap.fmt()} · on the "
              f"full release (GPT-5.4's labels): {paper_gap().fmt()}")
    r.metric(f"Rank among {placed.rank.of} ({ranked_by})", placed.rank.text())
    r.caption("By help rate on defeated cases (1 = helps most). " + placed.rank.explain()
              + ("" if res.rank.lo is not None else " Not under one judge: read it with the judge's error in mind."))
    if res.contamination is not None:
        contamination_panel(res.contamination)
    placement_chart(res)
    if res.gold is not None:
        gold_panel(res)
    comparison_panel(res)
    answers_table(run_id)
    rows = q.export_rows(engine, q.Filters(run_ids=[run_id]))
    c1, c2, c3 = st.columns(3)
    c1.download_button("Responses (CSV)", csv_bytes(pd.DataFrame(rows)), f"spot_check_{run_id}.csv",
                       "text/csv", key=f"csv{run_id}")
    c2.download_button("Responses (JSONL)", "\n".join(json.dumps(r, default=str) for r in rows).encode(),
                       f"spot_check_{run_id}.jsonl", "application/jsonl", key=f"jsonl{run_id}")
    c3.download_button("Summary (JSON)", json.dumps(res.to_json(), indent=1).encode(),
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


def answers_table(run_id: int) -> None:
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


def results_params(run_id: int) -> dict:
    run = q.get_run(engine, run_id)
    return run["params"] if run else {}


def paper_gap():
    totals = q.totals(engine, q.Filters(sources=["paper"]))
    return help_gap(totals["defeated"], totals["control"])


def compared_together(run_ids: list[int]) -> None:
    """Several models of one sample against each other, and the report of them all."""
    pairs = compare_runs(engine, run_ids)
    st.subheader("The models against each other")
    if pairs:
        st.plotly_chart(charts.paired_differences(
            [(f"{model_tick(p.a)} − {plotly_text(model_name(p.b))}", p.diff) for p in pairs],
            "Help rate of one model minus another, same defeated cases, same judge"), width="stretch")
        st.dataframe(pd.DataFrame([{"A": model_name(p.a), "B": model_name(p.b), "judge": p.judge,
                                    "help rate A − B": p.diff.fmt(), "paired cases": p.diff.n,
                                    "with gold labels (A − B)": p.gold_text()} for p in pairs]),
                     hide_index=True, width="stretch")
        if any(p.gold for p in pairs):
            st.caption("With both runs' gold labels, the prediction-powered difference includes the judge's error; "
                       "the judge-only one does not.")
    else:
        st.info("These runs were judged by different judges: they are not compared with each other.")


def report_button(run_ids: list[int]) -> None:
    st.download_button("Report (HTML, opens offline)", lambda: spot_check_report(engine, run_ids).encode(),
                       f"spot_check_{'_'.join(map(str, run_ids))}.html", "text/html", type="primary",
                       on_click="ignore",
                       help="One self-contained file: the numbers with their intervals, the charts, the judge and "
                            "the settings.")


def parse_models(picked: list[str], typed: str) -> list[str]:
    return list(dict.fromkeys(picked + [m.strip() for m in typed.split(",") if m.strip()]))


def run_n(run_param: str | None) -> int | None:
    """The n a linked spot-check ran with (?run=7,8: the first run's), for the form's default."""
    first = (run_param or "").split(",")[0].strip()
    run = q.get_run(engine, int(first)) if first.isdigit() else None
    return run["params"].get("n") if run and run["kind"] == "spot_check" else None


def spot_form(n_cases: int) -> bool:
    """The form, every widget keyed and kept (see `keep`): a choice outlives the estimate, the run and a page
    switch. True when "Estimate and run" was pressed."""
    keep("spot_models", [presets.LOCAL_KEY])
    for key in ("spot_typed", "spot_api_base", "spot_api_key"):
        keep(key, "")
    keep("spot_n", qp_int("n", run_n(qp("run")) or 40, 2, n_cases))
    keep("spot_seed", qp_int("seed", 0, 0, 2**31 - 1))
    keep("spot_allocation", "proportional")
    keep("spot_families", [])
    keep("spot_authorities", [])
    for key in ("spot_dual", "spot_fresh"):
        keep(key, False)
    keep("spot_bridge", None)
    bind("cases", "spot_cases", "paper", allowed=CASE_SETS)
    keep("spot_gold", "")
    keep("spot_gold_n", max(MIN_GOLD, min(MIN_GOLD + 10, n_cases)))
    with st.form("spot"):
        a, b = st.columns(2)
        a.multiselect("Models (presets)", list(presets.presets()), format_func=preset_label, key="spot_models",
                      help="Pick several to compare them on one sample.")
        a.text_input("…and/or any litellm models, comma-separated", placeholder="e.g. openai/gpt-5.4-mini",
                     key="spot_typed")
        a.text_input("API base (optional, for OpenAI-compatible servers)", key="spot_api_base")
        a.text_input("Your key for that server (optional)", type="password", key="spot_api_key",
                     help="Sent only to the API base above, kept for this browser session, never stored. "
                          "The host's own keys never go to a base typed here.")
        b.number_input("Sample size n", min_value=2, max_value=n_cases, step=10, key="spot_n")
        b.number_input("Seed", min_value=0, key="spot_seed")
        b.radio("Allocation across cells", ["proportional", "equal"], horizontal=True, key="spot_allocation",
                help="Proportional: the release's own proportions, so every case counts alike. Equal: "
                     "every family × authority cell alike; the rates are weighted back to the release, "
                     "at the cost of a smaller effective n.")
        f1, f2 = st.columns(2)
        f1.multiselect("Only these families", taxonomy.FAMILIES, format_func=taxonomy.family_label,
                       placeholder="all (control included)", key="spot_families")
        f2.multiselect("Only these authorities", taxonomy.authority_types(), format_func=taxonomy.authority_label,
                       placeholder="all", key="spot_authorities")
        st.radio("Cases", CASE_SETS, horizontal=True, key="spot_cases", format_func=CASE_SET_TEXT.get,
                 help="Fresh: the accepted cases of the Fresh cases page, and as many published cases in each of "
                      "their cells, for the contamination gap.")
        st.checkbox("Exclude dual-use cases", key="spot_dual")
        st.checkbox("Ask again (ignore answers already stored for these settings)", key="spot_fresh")
        st.number_input(
            "Paper models to re-judge with the same judge (blank: all 18 for the distilled judge, 6 for LLM judges)",
            min_value=0, max_value=18, step=1, key="spot_bridge",
            help="So that the models and the paper's are compared under one judge. Earlier runs' re-judged answers "
                 "are reused. Not needed for the paper judge (GPT-5.4 with the authors' prompt).")
        g1, g2 = st.columns(2)
        g1.selectbox("Gold labels on a random subset", list(GOLD_CHOICES), format_func=GOLD_CHOICES.get,
                     key="spot_gold", help="A gold judge labels a random m of the answers; every number then gets a "
                                           "prediction-powered interval that includes the cheap judge's error.")
        g2.number_input(f"How many gold labels (m, at least {MIN_GOLD})", min_value=MIN_GOLD,
                        max_value=max(MIN_GOLD, n_cases), step=10, key="spot_gold_n")
        return st.form_submit_button("Estimate and run", type="primary")


def form_params(judge_name: str) -> list[SpotCheckParams]:
    """The spot-checks the form and the judge picker describe now (read on every rerun, so that a choice made
    after the estimate is the one that runs)."""
    s = st.session_state
    bridge = s.get("spot_bridge")
    return [SpotCheckParams(model=m, n=int(s["spot_n"]), seed=int(s["spot_seed"]), judge=judge_name,
                            api_base=s["spot_api_base"].strip() or None, api_key=s["spot_api_key"].strip() or None,
                            allocation=s["spot_allocation"], exclude_dual_use=s["spot_dual"],
                            families=list(s["spot_families"]), authorities=list(s["spot_authorities"]),
                            bridge_models=None if bridge is None else int(bridge),
                            gold=s["spot_gold"] or None, gold_n=int(s["spot_gold_n"]) if s["spot_gold"] else None,
                            cases=s["spot_cases"])
            for m in parse_models(list(s["spot_models"]), s["spot_typed"])]


job = current_job(engine, "spot_job", "spot_check")
if job is None:
    submitted = spot_form(max(2, q.store_counts(engine)["paper_cases"]))
    judge_name = judge_picker("spot_judge")
    if submitted:
        st.session_state["spot_pending"] = True
        set_qp("n", str(int(st.session_state["spot_n"])))  # the form shows the same n (and seed) after the run
        set_qp("seed", str(int(st.session_state["spot_seed"])))
    if st.session_state.get("spot_pending"):
        all_params, fresh = form_params(judge_name), st.session_state["spot_fresh"]
        if not all_params:
            st.session_state.pop("spot_pending", None)
            st.error("Pick at least one model (or type a litellm model).")
            st.stop()
        try:
            plan = plan_spot_check(engine, all_params)
        except SpotCheckError as exc:
            st.session_state.pop("spot_pending", None)
            st.error(md_inline(str(exc)))
            st.stop()
        if plan.drawn_text():
            st.info(plan.drawn_text())
        st.info(plan.power.text())
        if plan.power.rank_warning:
            st.warning(plan.power.rank_warning)
        st.caption(f"Judged by {md_inline(judge_label(judge_name), 200)}. Change the judge or the form "
                   "(then press Estimate and run again) and the estimate follows.")
        for model, est in plan.estimates.items():
            st.markdown(f"**{md_inline(model_name(model))}** — {md_inline(est.text(), 2000)}")
        calls = plan.paid_calls()
        guard.password_box(calls)
        confirm = st.checkbox("I understand the cost; run it") if plan.paid else True
        blocked = guard.change_blocked("start a spot-check") or guard.check(engine, calls)
        if blocked:
            st.error(blocked)
        if st.button("Start the spot-check", disabled=not confirm or bool(blocked), type="primary"):
            st.session_state.pop("spot_pending", None)

            label = ", ".join(p.model for p in all_params)
            secrets = {"api_key": all_params[0].api_key} if all_params[0].api_key else None
            with guard.permit(engine):  # the job runs under the same permit, in this server or on a worker
                started("spot_job", jobs.start(engine, "spot_check", spot_check_params(all_params, fresh),
                                               f"spot-check {label}", visitor_id(), secrets))
            st.rerun()
else:
    def draw_progress(job) -> None:
        by_model = job.progress or {}
        if not by_model:
            st.progress(0.0, text="Sampling cases and starting the models…")
        for model, p in by_model.items():
            name = md_inline(model_name(model), 120)
            if p.waiting:
                st.progress(0.0, text=f"{name}: {md_inline(p.waiting_for)}")
            elif p.stage == "bridging":
                st.progress(1.0, text=f"{name}: judging the paper models' answers on these cases with the same "
                                      "judge (the bridge)…")
            elif p.stage == "judging":
                st.progress(1.0, text=f"{name}: judging the answers…")
            elif p.total:
                cost = "cost unknown" if p.cost_usd is None else f"${p.cost_usd:.4f}"
                st.progress(p.done / p.total, text=f"{name}: {p.done - p.errors} answered · {p.errors} failed · "
                                                   f"{p.total - p.done} to go (of {p.total} cases) · {cost}"
                            + (f" · {p.skipped} already answered" if p.skipped else ""))

    def finish(job) -> None:
        if job.result:
            set_qp("run", ",".join(map(str, job.result)))

    job_panel(engine, "spot_job", draw_progress, finish)

run_param = qp("run")
if run_param:
    ids = [int(x) for x in run_param.split(",") if x.strip().isdigit()]
    found = [i for i in ids if (r := q.get_run(engine, i)) and r["kind"] == "spot_check"]
    if not found or len(found) != len(run_param.split(",")):
        st.warning(f"No spot-check run {run_param}" + (": showing the runs that exist." if found else "."))
    if found:
        report_button(found)
        if len(found) > 1:
            compared_together(found)
            for tab, rid in zip(st.tabs([md_inline(model_name(results_params(i).get("model", str(i))), 60) for i in found]), found):
                with tab:
                    show_results(rid)
        else:
            show_results(found[0])
else:
    past = q.runs(engine, kinds=("spot_check",), limit=20)
    if past:
        st.subheader("Earlier spot-checks")
        for r in past:
            if st.button(f"Run {r['id']}: {r['label']} ({r['status']}, {r['n_judged']}/{r['n_responses']} judged)",
                         key=f"past{r['id']}"):
                set_qp("run", str(r["id"]))
                st.rerun()
    elif job is None and not st.session_state.get("spot_pending"):  # not under an estimate, nor during a run
        st.info("No spot-check yet. Pick models above and press “Estimate and run”.")
