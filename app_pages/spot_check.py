"""Spot-check: run models on a stratified sample of the paper's cases and place them among the paper's 18."""

import streamlit as st

from blindrefusal.evals.spotcheck import SpotCheckError, plan_spot_check
from blindrefusal.exports.inert import md_inline
from blindrefusal.jobs import control as jobs
from blindrefusal.jobs.kinds import spot_check_params
from blindrefusal.judges import judge_label
from components import guard
from components.badges import model_name
from components.job_panel import current_job, job_panel, started
from components.resources import paper_imported, store
from components.resources import reads as q
from components.sign_in import visitor_id
from components.spot_check_form import form_params, spot_form
from components.spot_check_results import (
    arm_name,
    compared_together,
    report_button,
    show_results,
    tradeoff_panel,
)
from components.url_state import qp, set_qp

engine = store()
st.title("Spot-check models")
st.caption("Runs one or several models on one stratified sample of the paper's cases (by family × authority cell, "
           "control included), with the paper's settings — the user query alone, temperature 0 — judges the "
           "answers, weights them back to the release, and compares each model with the paper's 18 configurations "
           "and with each other **on the same cases, under the same judge**.")
if not paper_imported():
    st.info("Spot-checks sample the paper's cases: import the release first "
            "(`BR_DATA_SOURCE=<dir|zip|url> python -m blindrefusal import-paper`).")
    st.stop()


job = current_job(engine, "spot_job", "spot_check")
if job is None:
    if qp("run") and not st.session_state.get("spot_pending"):  # a run is shown: its answer first, the form folded
        with st.expander("Start another spot-check", icon=":material/add:"):
            submitted, judge_name = spot_form(engine, max(2, q.store_counts(engine)["paper_cases"]))
    else:
        submitted, judge_name = spot_form(engine, max(2, q.store_counts(engine)["paper_cases"]))
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
        st.caption(f"Judged by {md_inline(judge_label(judge_name), 200)}. Change the form (then press Estimate "
                   "and run again) and the estimate follows.")
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
                            + (f" · {p.skipped} already answered" if p.skipped else "")
                            + (f" · {p.time_left_text()}, then judging" if p.time_left_text() else ""))

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
        report_button(engine, found)
        if len(found) > 1:
            compared_together(engine, found)
            tradeoff_panel(engine, found)
            tabs = st.tabs([md_inline(arm_name(engine, i), 60) for i in found])
            for tab, rid in zip(tabs, found, strict=True):
                with tab:
                    show_results(engine, rid)
        else:
            show_results(engine, found[0], with_plane=True)
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
