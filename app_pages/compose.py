"""Live lab: compose a scenario, send it to several models at once, watch answers stream in and get judged."""

import random

import streamlit as st

from blindrefusal import taxonomy
from blindrefusal.live import run_live, summarise
from blindrefusal.metrics import rates
from blindrefusal.runner import run_sync
from blindrefusal.scenario import ScenarioError, examples, from_case, validate
from components import guard
from components.cards import response_card
from components.judge_picker import judge_picker

from components.live import LiveBoard
from components.models import model_picker
from components.scenario import load_into_form, scenario_form
from components.state import paper_imported, qp, set_qp, store
from components.state import reads as q

engine = store()
st.title("Live lab")
st.caption("Compose a rule scenario, send it to several models at once, and watch each answer arrive and get judged. "
           "As in the paper, **only the user query is sent** — no system prompt, temperature 0. The other fields "
           "are what the judge and the records see.")

# ?scenario=<case id> fills the composer once (a shared permalink).
linked = qp("scenario")
if linked and st.session_state.get("_loaded_scenario") != linked:
    case = q.get_case(engine, linked)
    st.session_state["_loaded_scenario"] = linked
    if case:
        load_into_form(from_case(case))
    else:
        st.warning(f"No saved scenario {linked!r}.")

ex1, ex2 = st.columns([4, 1])
titles = [e["title"] for e in examples()]
example = ex1.selectbox("Start from an example", titles, index=None, placeholder="pick an example scenario…",
                        key="example_pick", label_visibility="collapsed")
ex2.button("Load example", disabled=example is None, key="load_example",
           on_click=lambda: load_into_form(next(e for e in examples() if e["title"] == example)))

with st.expander("Start from a paper case", expanded=False):
    if not paper_imported():
        st.info("Import the paper to start from one of its 1,290 cases: `python -m blindrefusal import-paper`.")
    else:
        a, b = st.columns(2)
        with a:
            term = st.text_input("Case id or words to search", key="pick_search")
            found, total = q.find_cases(engine, search=term, limit=50) if term.strip() else ([], 0)
            if term.strip():
                pick = st.selectbox(f"{total} matches", [c["key"] for c in found], key="pick_case") if found else None
                if not found:
                    st.caption("No case matches.")
                st.button("Load this case", disabled=not pick, key="load_pick",
                          on_click=lambda: load_into_form(from_case(q.get_case(engine, pick))))
        with b:
            fam = st.selectbox("Family", taxonomy.FAMILIES, format_func=taxonomy.family_label, key="rand_family")
            auth = st.selectbox("Authority", taxonomy.authority_types(), format_func=taxonomy.authority_label,
                                key="rand_auth")

            def draw() -> None:
                cell, _ = q.find_cases(engine, families=[fam], authorities=[auth], limit=1000)
                if cell:
                    load_into_form(from_case(random.choice(cell)))
                else:
                    st.session_state["_no_cell"] = True

            st.button("Draw a random case from this cell", on_click=draw, key="draw_random")
            if st.session_state.pop("_no_cell", False):
                st.caption("The paper has no case in that cell.")

raw = scenario_form()
st.subheader("Models and judge")
specs = model_picker("live")
judge_name = judge_picker("live_judge")
guard.password_box(specs)

if st.button("Run", type="primary", disabled=not specs):
    try:
        scenario = validate(raw)
    except ScenarioError as exc:
        st.error("Please fix the scenario:\n" + "\n".join(f"- {p}" for p in exc.problems))
        st.stop()
    blocked = guard.check(specs)
    if blocked:
        st.error(blocked)
        st.stop()
    guard.count(len(specs))
    if any(s.local for s in specs):
        with st.spinner("Starting the local model (first use only)…"):
            from blindrefusal.runner import ready

            try:
                specs = [ready(s) for s in specs]
            except Exception as exc:  # noqa: BLE001 - shown, and the other models still run
                st.error(f"The local model could not start: {exc}")
                specs = [s for s in specs if not s.local]
    board = LiveBoard(specs)
    run = run_sync(run_live(engine, scenario, specs, judge_name, on_event=board))
    st.session_state["last_run"] = run.run_id
    set_qp("scenario", run.case_key)
    set_qp("run", str(run.run_id))
    st.rerun()

run_id = qp("run")
if run_id and run_id.isdigit():
    run = q.get_run(engine, int(run_id))
    if run is None:
        st.warning(f"No run {run_id}.")
        st.stop()
    if run["kind"] != "live":
        st.info(f"Run {run_id} is a spot-check, not a live run: its answers are on the Spot-check page.")
        st.page_link("app_pages/spot_check.py", label=f"Open spot-check run {run_id}", query_params={"run": run_id})
        st.stop()
    responses = q.responses_for(engine, run_id=int(run_id))
    st.subheader(f"Run {run_id} — judged by {run['params'].get('judge', '?')}")
    st.markdown(f"**{summarise([(r['status'], r.get('eff_response_type'), r.get('eff_engages')) for r in responses])}**")
    case = q.get_case_by_id(engine, run["case_id"]) if run.get("case_id") else None
    if case and case["family"] and paper_imported():
        paper = q.totals(engine, q.Filters(sources=["paper"], families=[case["family"]], authorities=[case["authority_type"]]))
        cell = paper["control" if case["family"] == "control" else "defeated"]
        if cell.n:
            rs = rates(cell)
            st.caption(f"In the paper, {taxonomy.family_label(case['family'])} × {taxonomy.authority_label(case['authority_type'])}: "
                       f"refusal {rs.refusal.fmt()}; engagement {rs.engages.fmt()}.")
        else:
            st.caption("The paper has no responses for this family × authority cell.")
    unjudged = [r["id"] for r in responses if r["status"] == "ok" and not r.get("eff_response_type")]
    if unjudged and st.button(f"Re-judge {len(unjudged)} unjudged answer(s)"):
        from blindrefusal.live import rejudge

        with st.spinner("Judging…"):
            out = run_sync(rejudge(engine, unjudged, judge_name))
        st.toast(f"{out['judged']} judged, {out['failed']} still unjudged")
        st.rerun()
    cols = st.columns(min(3, max(1, len(responses))))
    for i, r in enumerate(responses):
        with cols[i % len(cols)]:
            response_card(r, key=f"live{r['id']}")
    st.caption(f"Permalink to this scenario: `?scenario={case['key'] if case else ''}` · this run: `?run={run_id}`")
