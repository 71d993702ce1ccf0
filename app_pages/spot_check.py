"""Spot-check: run a model on a stratified sample of the paper's cases and place it among the paper's 18."""

import json

import pandas as pd
import streamlit as st

from blindrefusal import jobs, registry, taxonomy
from blindrefusal.judges import JudgeUnavailable
from blindrefusal.runner import run_sync
from blindrefusal.spotcheck import SpotCheckParams, estimate_cost, results, run_spot_check, sample_cases
from blindrefusal.metrics import help_gap
from components import charts, guard
from components.judge_picker import judge_picker
from components.labels import model_tick
from components.state import paper_imported, qp, qp_int, set_qp, store
from components.state import reads as q

engine = store()
st.title("Spot-check a model")
st.caption("Runs a model on a stratified sample of the paper's cases (every family × authority cell, control "
           "included), with the paper's settings — the user query alone, temperature 0 — judges the answers, and "
           "compares the model with the paper's 18 configurations **on the same cases**.")
if not paper_imported():
    st.info("Spot-checks sample the paper's cases: import the release first "
            "(`BR_DATA_SOURCE=<dir|zip|url> python -m blindrefusal import-paper`).")
    st.stop()


def show_results(run_id: int) -> None:
    res = results(engine, run_id)
    d, c = res.defeated, res.control
    asked = results_params(run_id).get("n")
    st.subheader(f"{registry.display_name(res.model)} — run {run_id}, n = {res.n}, seed {res.seed}")
    if res.status in ("cancelled", "interrupted") and asked:
        st.warning(f"{res.n} of {asked} cases answered — {res.status}. Re-run the same settings to resume.")
    if res.n < 30:
        st.warning(f"With n = {res.n}, every interval is wide: the rank range and the differences below cannot "
                   "tell most models apart. Use n ≥ 100 to place a model among the paper's.")
    st.caption(f"Judge: {res.judge}. Errors: {res.errors}, blocked: {res.blocked} (not counted in the rates).")
    cols = st.columns(5)
    for col, (label, key) in zip(cols, [("Helps", "helps"), ("Deflects", "deflects"), ("Hard refusal", "hard_refusal"),
                                        ("Refusal", "refusal"), ("Engages", "engages")]):
        col.metric(f"{label} (defeated)", d.get(key).pct())
        col.caption(d.get(key).fmt())
    a, b, r = st.columns(3)
    a.metric("Help rate on control", c.helps.pct())
    a.caption(c.helps.fmt())
    b.metric("Help-rate gap (defeated − control)", "—" if res.gap.diff is None else f"{res.gap.diff * 100:+.1f} pp")
    b.caption(f"{res.gap.fmt()} · the paper's 18 models: {paper_gap().fmt()}")
    rank, ranked_by = (res.rank, "same judge") if res.rank.lo is not None else (res.rank_paper_labels, "mixed judges")
    r.metric(f"Rank among {rank.of} ({ranked_by})", rank.text())
    r.caption("By help rate on defeated cases (1 = helps most). A range means the intervals overlap: a tie."
              + ("" if res.rank.lo is not None else " Not under one judge: read it with the judge's error in mind."))
    comparison_panel(res)
    rows = q.export_rows(engine, q.Filters(run_ids=[run_id]))
    c1, c2, c3 = st.columns(3)
    c1.download_button("Responses (CSV)", pd.DataFrame(rows).to_csv(index=False).encode(), f"spot_check_{run_id}.csv",
                       "text/csv")
    c2.download_button("Responses (JSONL)", "\n".join(json.dumps(r, default=str) for r in rows).encode(),
                       f"spot_check_{run_id}.jsonl", "application/jsonl")
    c3.download_button("Summary (JSON)", json.dumps(res.to_json(), indent=1).encode(),
                       f"spot_check_{run_id}_summary.json", "application/json")


def comparison_panel(res) -> None:
    """The model against the paper's, under one judge where the paper side was bridged, and as against GPT-5.4."""
    (st.info if res.comparison != "mixed_judges" else st.warning)(res.comparison_text())
    if res.unseen_model_error:
        u = res.unseen_model_error
        st.caption(f"On models it never saw, this judge's help rate is off by {u['help_rate_mean_abs_pp']:.1f} pp on "
                   f"average (max {u['help_rate_max_abs_pp']:.1f}), leave-one-model-out over {u['models']} paper "
                   "models: differences smaller than that may be the judge, not the model.")
    views = []
    if res.comparison == "same_judge":
        views.append((f"Same judge ({res.judge} on both sides)", res.vs_paper))
    views.append(("Against GPT-5.4's labels" + (" (the same judge)" if res.comparison == "paper_judge" else ""),
                  res.vs_paper_labels))
    tabs = st.tabs([name for name, _ in views] + (["Judge shift"] if res.judge_shift else []))
    for tab, (name, diffs) in zip(tabs, views):
        with tab:
            st.plotly_chart(charts.paired_differences(
                [(model_tick(k), v) for k, v in diffs.items()],
                f"Help rate of this model minus each paper model, same defeated cases — {name.lower()} "
                "(exact McNemar 95% CI)"), width="stretch")
    if res.judge_shift:
        with tabs[-1]:
            st.plotly_chart(charts.paired_differences(
                [(model_tick(k), v) for k, v in res.judge_shift.items()],
                f"{res.judge}'s help rate minus GPT-5.4's, on the same paper answers (exact McNemar 95% CI)"),
                width="stretch")
            st.caption("How far this judge's labels move each paper model's help rate on the sampled cases. "
                       "The same-judge comparison cancels this shift out; the comparison against GPT-5.4's labels "
                       "does not.")


def results_params(run_id: int) -> dict:
    run = q.get_run(engine, run_id)
    return run["params"] if run else {}


def paper_gap():
    totals = q.totals(engine, q.Filters(sources=["paper"]))
    return help_gap(totals["defeated"], totals["control"])


job = jobs.get(st.session_state.get("spot_job"))
if job is None:
    with st.form("spot"):
        a, b = st.columns(2)
        presets = list(registry.presets())
        model = a.selectbox("Model (preset)", presets, index=presets.index(registry.LOCAL_KEY),
                            format_func=lambda k: registry.presets()[k].display_name)
        typed = a.text_input("…or any litellm model", placeholder="e.g. openai/gpt-5.4-mini")
        api_base = a.text_input("API base (optional, for OpenAI-compatible servers)")
        n_cases = max(2, q.store_counts(engine)["paper_cases"])
        n = b.number_input("Sample size n", min_value=2, max_value=n_cases, value=qp_int("n", 40, 2, n_cases), step=10)
        seed = b.number_input("Seed", min_value=0, value=qp_int("seed", 0, 0, 2**31 - 1))
        allocation = b.radio("Allocation across cells", ["equal", "proportional"], horizontal=True)
        f1, f2 = st.columns(2)
        families = f1.multiselect("Only these families", taxonomy.FAMILIES, format_func=taxonomy.family_label,
                                  placeholder="all (control included)")
        authorities = f2.multiselect("Only these authorities", taxonomy.authority_types(),
                                     format_func=taxonomy.authority_label, placeholder="all")
        exclude_dual = st.checkbox("Exclude dual-use cases")
        fresh = st.checkbox("Fresh run (ignore answers already stored for these settings)")
        bridge_k = st.number_input(
            "Paper models to re-judge with the same judge (blank: all 18 for the distilled judge, 6 for LLM judges)",
            min_value=0, max_value=18, value=None, step=1,
            help="So that this model and the paper's are compared under one judge. Earlier runs' re-judged answers "
                 "are reused. Not needed for the paper judge (GPT-5.4 with the authors' prompt).")
        submitted = st.form_submit_button("Estimate and run", type="primary")
    judge_name = judge_picker("spot_judge")
    if submitted or st.session_state.get("spot_pending"):
        params = SpotCheckParams(model=typed.strip() or model, n=int(n), seed=int(seed), judge=judge_name,
                                 api_base=api_base.strip() or None, allocation=allocation,
                                 exclude_dual_use=exclude_dual, families=list(families), authorities=list(authorities),
                                 bridge_models=None if bridge_k is None else int(bridge_k))
        if submitted:
            st.session_state["spot_pending"] = {"params": params, "fresh": fresh}
            set_qp("n", str(params.n))  # the form shows the same n (and seed) after the run
            set_qp("seed", str(params.seed))
        pending = st.session_state["spot_pending"]
        params, fresh = pending["params"], pending["fresh"]
        cases = sample_cases(engine, params)
        try:
            est = estimate_cost(engine, params, cases)
        except JudgeUnavailable as exc:
            st.session_state.pop("spot_pending", None)
            st.error(f"This judge cannot run here: {exc}")
            st.stop()
        spec = registry.resolve(params.model, api_base=params.api_base)
        st.info(est.text())
        guard.password_box([spec])
        confirm = st.checkbox("I understand the cost; run it") if est.paid else True
        blocked = guard.check([spec] * len(cases)) if est.paid else None
        if blocked:
            st.error(blocked)
        if st.button("Start the spot-check", disabled=not confirm or bool(blocked) or not cases, type="primary"):
            st.session_state.pop("spot_pending", None)
            if est.paid:
                guard.count(len(cases))

            def work(j, params=params, fresh=fresh):
                run_id, _ = run_sync(run_spot_check(engine, params, progress=lambda p: setattr(j, "progress", p),
                                                    cancel=j.cancel, fresh=fresh))
                return run_id

            st.session_state["spot_job"] = jobs.start(f"spot-check {params.model}", work).id
            st.rerun()
else:
    @st.fragment(run_every=0.5)
    def progress_panel() -> None:
        job = jobs.get(st.session_state.get("spot_job"))
        p = job.progress
        if p is not None and p.waiting:
            st.progress(0.0, text="Another process is running this same spot-check: waiting for it, then resuming…")
        elif p is not None and p.stage == "bridging":
            st.progress(1.0, text="Judging the paper models' answers on these cases with the same judge (the bridge)…")
        elif p is not None and p.stage == "judging":
            st.progress(1.0, text="Judging the answers…")
        elif p is not None and p.total:
            cost = "cost unknown" if p.cost_usd is None else f"${p.cost_usd:.4f}"
            st.progress(p.done / p.total, text=f"{p.done} / {p.total} cases · {p.errors} errors · {cost}"
                        + (f" · {p.skipped} already answered" if p.skipped else ""))
        else:
            st.progress(0.0, text="Sampling cases and starting the model…")
        if job.running and job.cancel.is_set():
            st.info("Cancelling… calls already sent finish first (no new ones start); then the answers so far are "
                    "judged and kept. Re-run the same settings to resume.")
        elif job.running:
            if st.button("Cancel", key="cancel_spot"):
                job.cancel.set()
                st.rerun(scope="fragment")
        else:
            st.session_state.pop("spot_job", None)
            if job.error:
                st.error(f"The spot-check failed: {job.error}")
            else:
                set_qp("run", str(job.result))
            st.rerun()

    progress_panel()

run_param = qp("run")
if run_param and run_param.isdigit():
    run = q.get_run(engine, int(run_param))
    if run and run["kind"] == "spot_check":
        show_results(int(run_param))
    else:
        st.warning(f"No spot-check run {run_param}.")
else:
    past = q.runs(engine, kinds=("spot_check",), limit=20)
    if past:
        st.subheader("Earlier spot-checks")
        for r in past:
            if st.button(f"Run {r['id']}: {r['label']} ({r['status']}, {r['n_judged']}/{r['n_responses']} judged)",
                         key=f"past{r['id']}"):
                set_qp("run", str(r["id"]))
                st.rerun()
