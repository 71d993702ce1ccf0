"""Live lab: compose a scenario, send it to several models at once, watch answers stream in and get judged.

After a run the composer folds into one line (open it to edit) and the results fill the screen: the view a
presenter shows a room. Contrast mode sends the scenario's control twin too and shows the two side by side."""

import random

import streamlit as st

from blindrefusal.exports.inert import md_inline
from blindrefusal.judges import JudgeUnavailable, get_judge
from blindrefusal.models.runner import run_sync
from blindrefusal.paper import taxonomy
from blindrefusal.paper.control_twins import control_candidates, matching_control
from blindrefusal.runs.contrast import DEFEATED, is_pair, run_contrast
from blindrefusal.runs.live import run_live
from blindrefusal.runs.scenario import ScenarioError, control_twin, examples, from_case, validate
from components import draft, guard
from components.cards import response_card
from components.judge_picker import judge_picker
from components.live_cards import LiveBoard, paper_answers_block, paper_cell, run_summary, scroll_to, share_link
from components.model_picker import model_picker
from components.resources import paper_imported, store
from components.resources import reads as q
from components.scenario_view import (
    control_form,
    control_from_state,
    load_control_into_form,
    load_into_form,
    question,
    scenario_form,
    scenario_from_state,
)
from components.url_state import qp, qp_id, set_qp
from vocabulary import CONTROL, STATUS_OK

SIDES = {DEFEATED: "Defeated: the rule does not deserve compliance", CONTROL: "Control: a just version of the same rule"}

engine = store()
st.title("Live lab")

draft_linked = draft.linked()  # read before `restore` puts this session's draft back into the link
draft.restore()
run_id, control_run_id = qp_id("run"), qp_id("control_run")
pending = st.session_state.get("_pending")
shown = q.get_run(engine, run_id) if run_id is not None else None
presenting = pending is not None or (shown is not None and shown["kind"] == "live")  # else the composer stays open


def load_scenario(raw: dict) -> None:
    """Fill the composer, and the control twin: the example's own, else the paper's matching control case."""
    load_into_form(raw)
    twin = raw.get("control")
    if twin is None and raw.get("paper_case_id") and paper_imported():
        match = matching_control(engine, raw)
        twin = from_case(match) if match else None
    load_control_into_form(twin)


def load_linked(param: str, loader) -> None:
    """?scenario= / ?control= (a case key) fill their fields once (a shared permalink)."""
    key = qp(param)
    if key and st.session_state.get(f"_loaded_{param}") != key:
        st.session_state[f"_loaded_{param}"] = key
        if draft_linked:  # the link carries the draft itself (perhaps edited since): it wins
            return
        case = q.get_case(engine, key)
        if case:
            loader(from_case(case))
        else:
            st.warning(f"No saved scenario {key[:60]!r} (from `?{param}=` in the link); the composer keeps its text.")


load_linked("scenario", load_scenario)
load_linked("control", load_control_into_form)


def send(specs: list, judge_name: str) -> None:
    """The Run button's callback: validate before the rerun, so the composer can fold away while answers stream.
    The scenario is read from the session now, not from the render the button was drawn in (a value typed just
    before the click would be lost)."""
    raw = scenario_from_state()
    control_raw = control_from_state() if st.session_state.get("contrast_on") else None
    problems = []
    scenario = control = None
    try:
        scenario = validate(raw)
    except ScenarioError as exc:
        problems += exc.problems
    if control_raw is not None and scenario is not None:
        try:
            control = control_twin(control_raw, scenario)
        except ScenarioError as exc:
            problems += exc.problems
    sides = 2 if control_raw is not None else 1
    calls = specs * sides + guard.judge_calls(judge_name, len(specs) * sides)
    blocked = None if problems else guard.check(engine, calls)
    if problems or blocked:
        st.session_state["_send_problem"] = blocked or "Please fix the scenario:\n" + "\n".join(f"- {p}" for p in problems)
        return
    st.session_state["_pending"] = {"scenario": scenario, "control": control, "specs": specs, "judge": judge_name}
    st.session_state["_scroll"] = True


def composer() -> None:
    st.caption("Compose a rule scenario, send it to several models at once, and watch each answer arrive and get "
               "judged. As in the paper, **only the user query is sent** — no system prompt, temperature 0. The other "
               "fields are what the judge and the records see.")
    ex1, ex2 = st.columns([4, 1])
    titles = [e["title"] for e in examples()]
    example = ex1.selectbox("Start from an example", titles, index=None, placeholder="pick an example scenario…",
                            key="example_pick", label_visibility="collapsed")
    ex2.button("Load example", disabled=example is None, key="load_example",
               on_click=lambda: load_scenario(next(e for e in examples() if e["title"] == example)))
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
                              on_click=lambda: load_scenario(from_case(q.get_case(engine, pick))))
            with b:
                fam = st.selectbox("Family", taxonomy.FAMILIES, format_func=taxonomy.family_label, key="rand_family")
                auth = st.selectbox("Authority", taxonomy.authority_types(), format_func=taxonomy.authority_label,
                                    key="rand_auth")

                def draw() -> None:
                    cell, _ = q.find_cases(engine, families=[fam], authorities=[auth], limit=1000)
                    if cell:
                        load_scenario(from_case(random.choice(cell)))
                    else:
                        st.session_state["_no_cell"] = True

                st.button("Draw a random case from this cell", on_click=draw, key="draw_random")
                if st.session_state.pop("_no_cell", False):
                    st.caption("The paper has no case in that cell.")

    raw = scenario_form()
    st.toggle("**Contrast mode** — also send a control twin (a just version of the same rule) and show both side by "
              "side: the paper's central contrast", key="contrast_on")
    control_raw = None
    if st.session_state["contrast_on"]:
        st.subheader("Control twin")
        control_raw = control_twin_picker(raw)
    if control_raw is None:
        set_qp("control", None)
    elif st.session_state.get("c_paper_case"):  # a paper control case; a written one gets its key when it runs
        set_qp("control", st.session_state["c_paper_case"])
    st.subheader("Models and judge")
    specs = model_picker("live")
    judge_name = judge_picker("live_judge")
    guard.password_box(specs + guard.judge_calls(judge_name, 1))
    st.button("Run", type="primary", disabled=not specs, on_click=send, args=(specs, judge_name))


def control_twin_picker(raw: dict) -> dict:
    """The paper's control cases of the same authority (best match first) to start from, and the twin's form."""
    if paper_imported():
        found = control_candidates(engine, raw)
        if found:
            c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
            pick = c1.selectbox(f"The paper's control cases for {taxonomy.authority_label(raw['authority_type'])} "
                                f"({len(found)}, closest to your scenario first)", [c["key"] for c in found],
                                key="control_pick", format_func=lambda k: next(f"{k} — {c['rule'][:90]}" for c in found
                                                                               if c["key"] == k))
            c2.button("Load control case", key="load_control",
                      on_click=lambda: load_control_into_form(from_case(q.get_case(engine, pick))))
        else:
            st.caption(f"The paper has no control case for {taxonomy.authority_label(raw['authority_type'])}: "
                       "write the just version of the rule yourself.")
    return control_form(raw["authority_type"])


with st.container(key="composer"):
    if presenting:
        with st.expander("✎ Edit the scenario, the models or the judge", expanded=False):
            composer()
    else:
        composer()
draft.save()

problem = st.session_state.pop("_send_problem", None)
if problem:
    st.error(problem)


def start_local(specs: list) -> list:
    if not any(s.local for s in specs):
        return specs
    with st.spinner("Starting the local model (first use only)…"):
        from blindrefusal.models.runner import ready

        try:
            return [ready(s) for s in specs]
        except Exception as exc:  # noqa: BLE001 - shown, and the other models still run
            st.error(f"The local model could not start: {md_inline(exc)}")
            return [s for s in specs if not s.local]


if pending is not None:
    st.session_state.pop("_pending")
    specs, judge_name, scenario, control = pending["specs"], pending["judge"], pending["scenario"], pending["control"]
    try:
        get_judge(judge_name)  # a judge that cannot run here is said before any model is called
    except JudgeUnavailable as exc:
        st.error(f"This judge cannot run here: {md_inline(exc)}. Pick another judge and run again.")
        st.stop()
    st.subheader("Running…", anchor="results")
    scroll_to("results", nonce=f"pending{id(pending)}")
    specs = start_local(specs)
    if control is None:
        board = LiveBoard(specs, columns=4, judge=judge_name)
        with guard.permit(engine):
            run = run_sync(run_live(engine, scenario, specs, judge_name, on_event=board))
        set_qp("control_run", None)
    else:
        boards = {}
        for side, col in zip(SIDES, st.columns(2, gap="large")):
            with col:
                st.markdown(f"#### {SIDES[side]}")
                boards[side] = LiveBoard(specs, columns=2, judge=judge_name)
        with guard.permit(engine):
            pair = run_sync(run_contrast(engine, scenario, control, specs, judge_name,
                                         on_event=lambda side, *event: boards[side](*event)))
        run = pair.defeated
        set_qp("control", pair.control.case_key)
        set_qp("control_run", str(pair.control.run_id))
    st.session_state["last_run"] = run.run_id
    set_qp("scenario", run.case_key)
    set_qp("run", str(run.run_id))
    st.rerun()


def live_run(run_id: int | None) -> dict | None:
    """A live run by id, or None after saying why it cannot be shown here."""
    run = q.get_run(engine, run_id)
    if run is None:
        st.warning(f"No run {run_id}.")
        return None
    if run["kind"] != "live":
        st.info(f"Run {run_id} is a spot-check, not a live run: its answers are on the Spot-check page.")
        st.page_link("app_pages/spot_check.py", label=f"Open spot-check run {run_id}", query_params={"run": str(run_id)})
        return None
    return run


def rejudge_button(responses: list[dict], judge_name: str, key: str) -> None:
    unjudged = [r["id"] for r in responses if r["status"] == STATUS_OK and not r.get("eff_response_type")]
    if not unjudged:
        return
    blocked = guard.check(engine, guard.judge_calls(judge_name, len(unjudged)))
    if blocked:
        st.caption(f"{len(unjudged)} unjudged answer(s): {blocked}")
    elif st.button(f"Re-judge {len(unjudged)} unjudged answer(s)", key=key):
        from blindrefusal.runs.rejudge import rejudge

        with st.spinner("Judging…"), guard.permit(engine):
            out = run_sync(rejudge(engine, unjudged, judge_name))
        st.toast(f"{out['judged']} judged, {out['failed']} still unjudged")
        st.rerun()


def result_header(run: dict) -> tuple[list[dict], dict | None]:
    """The run's summary, the paper's rate for its cell and a re-judge button; returns its answers and case."""
    responses = q.responses_for(engine, run_id=run["id"])
    case = q.get_case_by_id(engine, run["case_id"]) if run.get("case_id") else None
    question(case)
    run_summary(responses)
    paper_cell(engine, case)
    rejudge_button(responses, run["params"].get("judge"), key=f"rejudge{run['id']}")
    return responses, case


if run_id is None:
    st.stop()
run = live_run(run_id)
if run is None:
    st.stop()
control_run = live_run(control_run_id) if control_run_id is not None else None
if control_run is not None and not is_pair(run["params"], control_run["params"]):
    st.error(f"Run {control_run['id']} is not the control twin of run {run_id} (`?control_run=` in the link): "
             f"showing run {run_id} alone. Reopen a contrast run from History to see both halves.")
    control_run = None
    set_qp("control_run", None)

if control_run is None:
    st.subheader(f"Run {run_id} — judged by {md_inline(run['params'].get('judge', '?'), 120)}", anchor="results")
    responses, case = result_header(run)
    cols = st.columns(min(4 if len(responses) >= 4 else 3, max(1, len(responses))))
    for i, r in enumerate(responses):
        with cols[i % len(cols)]:
            response_card(r, key=f"live{r['id']}")
    paper_answers_block(engine, case, key="single")
else:
    st.subheader(f"Contrast: runs {run_id} and {control_run['id']} — judged by {md_inline(run['params'].get('judge', '?'), 120)}",
                 anchor="results")
    sides = {}
    for side, this, col in zip(SIDES, (run, control_run), st.columns(2, gap="large")):
        with col:
            st.markdown(f"#### {SIDES[side]}")
            sides[side] = result_header(this)
    st.markdown("##### Model by model")
    by_model = {side: {r["model_key"]: r for r in rs} for side, (rs, _) in sides.items()}
    order = list(dict.fromkeys([r["model_key"] for rs, _ in sides.values() for r in rs]))
    for model_key in order:
        left, right = st.columns(2, gap="large")
        for side, col in ((DEFEATED, left), (CONTROL, right)):
            with col:
                r = by_model[side].get(model_key)
                if r:
                    response_card(r, key=f"{side}{r['id']}")
                else:
                    st.info("This model has no answer on this side.")
    for side, col in zip(SIDES, st.columns(2, gap="large")):
        with col:
            paper_answers_block(engine, sides[side][1], key=side, columns=2)

st.markdown("**Share this view**")
share_link()
if st.session_state.pop("_scroll", False):  # last, so that everything above is drawn when it runs
    scroll_to("results", nonce=f"run{run_id}")
