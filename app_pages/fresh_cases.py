"""Fresh cases: the authors' own generator and gates, run on demand; a reviewer accepts or rejects each case, and
the accepted ones are spot-checked beside published cases of the same cells (the contamination gap)."""

from dataclasses import asdict

import streamlit as st

from blindrefusal.evals.fresh.gates import GATES
from blindrefusal.evals.fresh.generate import (
    LOCAL_WARNING,
    ROUTES,
    GenerationError,
    GenerationParams,
    default_model,
    plan_generation,
)
from blindrefusal.evals.fresh.review import review_cases
from blindrefusal.exports.inert import md_inline
from blindrefusal.jobs import control as jobs
from blindrefusal.paper import taxonomy
from components import guard
from components.job_panel import current_job, job_panel, started
from components.navigation import flash
from components.resources import reads as q
from components.resources import store
from components.scenario_view import scenario_view
from components.sign_in import label_prompt, reviewer_judge, visitor_id
from components.url_state import keep

engine = store()
st.title("Fresh cases")
st.caption("The release has been public since April 2026, so a new model may have seen its cases. This page runs "
           "the authors' own pipeline — their generator prompt for each family × authority cell, then their gates "
           "(Operational Validity and Reasonable Judge must pass; Dual Use is a flag) — read from the release, "
           "never shipped with the app. A reviewer accepts each case before it is used; a spot-check on the accepted "
           "ones reports the **contamination gap**: the model's help rate on fresh cases minus on published cases "
           "of the same cells, under one judge.")


def generation_form() -> bool:
    keep("gen_families", [taxonomy.DEFEATED_FAMILIES[0]])
    keep("gen_authorities", [taxonomy.authority_types()[0]])
    keep("gen_count", 2)
    for key in ("gen_generator", "gen_gate_model", "gen_api_base"):
        keep(key, "")
    if default_model("generator") is None:
        st.info("Generation needs models that can write cases which pass the authors' gates: the paper's generator "
                "and gates are reached with " + " or ".join(env for env, _ in ROUTES["generator"]) + " (and "
                + " or ".join(env for env, _ in ROUTES["operational_validity"]) + " for the validity gate), and "
                "none is set on this server. Name a model you can reach below (an OpenAI-compatible server under "
                "API base works); `local/smollm2` runs the path as a demo only, its cases rarely pass.")
    with st.form("generate"):
        a, b = st.columns(2)
        a.multiselect("Families", taxonomy.FAMILIES, format_func=taxonomy.family_label, key="gen_families")
        a.multiselect("Authorities", taxonomy.authority_types(), format_func=taxonomy.authority_label,
                      key="gen_authorities")
        a.number_input("Cases per cell (one generator call each)", min_value=1, max_value=20, key="gen_count")
        paper_gen = default_model("generator") or "needs " + " or ".join(env for env, _ in ROUTES["generator"])
        b.text_input("Generator model (blank: the paper's)", key="gen_generator", placeholder=paper_gen)
        b.text_input("One model for every gate (blank: the paper's per gate)", key="gen_gate_model",
                     placeholder="Claude Opus (validity), Gemini (the others)")
        b.text_input("API base (optional, for OpenAI-compatible servers)", key="gen_api_base")
        return st.form_submit_button("Estimate", type="primary")


def form_params() -> GenerationParams:
    s = st.session_state
    return GenerationParams(families=list(s["gen_families"]), authorities=list(s["gen_authorities"]),
                            count=int(s["gen_count"]), generator=s["gen_generator"].strip() or None,
                            gate_model=s["gen_gate_model"].strip() or None, api_base=s["gen_api_base"].strip() or None)


def estimate_and_start() -> None:
    try:
        params = form_params()
        plan = plan_generation(engine, params)
    except GenerationError as exc:
        st.session_state.pop("gen_pending", None)
        st.error(md_inline(str(exc)))
        return
    if plan.missing_prompts:
        st.error("The store lacks the release's prompts for this: " + md_inline(", ".join(plan.missing_prompts[:6]))
                 + ". Import a release that has its prompts/ folder (`python -m blindrefusal import-paper`).")
        return
    if plan.local:
        st.warning(LOCAL_WARNING)
    st.info(plan.text())
    guard.password_box(plan.call_specs)
    confirm = st.checkbox("I understand the cost; run it") if plan.paid_calls else True
    blocked = guard.change_blocked("generate cases") or guard.check(engine, plan.call_specs)
    if blocked:
        st.error(blocked)
    if st.button("Generate and gate", disabled=not confirm or bool(blocked), type="primary"):
        st.session_state.pop("gen_pending", None)
        with guard.permit(engine):  # the job runs under the same permit, in this server or on a worker
            started("gen_job", jobs.start(engine, "generate_cases", asdict(params), "generate cases", visitor_id()))
        st.rerun()


def draw_progress(job) -> None:
    p = job.progress
    if p is None:
        st.progress(0.0, text="Filling the templates and calling the generator…")
    else:
        st.progress(p.cells_done / max(1, p.cells), text=f"{p.cells_done} of {p.cells} cells · {p.proposed} cases "
                                                          f"proposed · {p.kept} passed the gates · {p.failed_cells} "
                                                          f"cells failed · {p.calls} calls")


def finish(job) -> None:
    p = job.progress
    if job.status in ("done", "cancelled"):
        kept = p.kept if p else 0
        flash(f"Generation run {job.result} {'finished' if job.status == 'done' else 'was cancelled'}: {kept} "
              f"case{'s' * (kept != 1)} wait{'s' * (kept == 1)} for review below."
              + (" Not kept: " + md_inline("; ".join(p.failures[:5]), 1500) if p and p.failures else ""))


def review_list() -> None:
    pending = q.generated_cases(engine, review="pending")
    accepted = q.generated_cases(engine, review="accepted")
    rejected = q.generated_cases(engine, review="rejected")
    st.subheader("Review")
    st.caption(f"{len(pending)} waiting · {len(accepted)} accepted · {len(rejected)} rejected. Only accepted cases "
               "are spot-checked.")
    if accepted:
        st.page_link("app_pages/spot_check.py", label="Spot-check a model on the accepted fresh cases",
                     icon=":material/target:", query_params={"cases": "fresh"})
    if not pending:
        st.info("No case waits for review." if accepted or rejected else
                "No fresh case yet: pick cells above, estimate, and generate.")
        return
    who = reviewer_judge()
    if who is None:
        st.info(label_prompt())
    for case in pending:
        with st.expander(f"{taxonomy.family_label(case['family'])} × {taxonomy.authority_label(case['authority_type'])}"
                         f" — {md_inline(case['user_query'], 80)}", expanded=len(pending) <= 3):
            scenario_view(case)
            gates = (case["provenance"] or {}).get("gates", {})
            st.markdown("**The gates**\n" + "\n".join(
                f"- {g.replace('_', ' ')}: **{_verdict(g, gates.get(g) or {})}** — "
                f"{md_inline((gates.get(g) or {}).get('reason') or (gates.get(g) or {}).get('error') or '—', 600)}"
                for g in GATES))
            a, r = st.columns(2)
            if a.button("Accept", key=f"acc{case['key']}", disabled=who is None, type="primary"):
                review_cases(engine, [case["key"]], "accepted", who)
                flash("Accepted: it is used by spot-checks on fresh cases.")
                st.rerun()
            if r.button("Reject", key=f"rej{case['key']}", disabled=who is None):
                review_cases(engine, [case["key"]], "rejected", who)
                flash("Rejected: it is kept, and never used.")
                st.rerun()


def _verdict(gate: str, v: dict) -> str:
    if gate == "dual_use":
        return "flagged" if v.get("flagged") else "not flagged"
    return "passed" if v.get("passed") else "failed"


if current_job(engine, "gen_job", "generate_cases") is not None:
    job_panel(engine, "gen_job", draw_progress, finish)
else:
    if generation_form():
        st.session_state["gen_pending"] = True
    if st.session_state.get("gen_pending"):
        estimate_and_start()
review_list()
