"""Live lab: compose a scenario, send it to several models at once, watch answers stream in and get judged.

After a run the composer folds into one line (open it to edit) and the results fill the screen: the view a
presenter shows a room. Contrast mode sends the scenario's control twin too and shows the two side by side."""


import streamlit as st

from blindrefusal.exports.inert import md_inline
from blindrefusal.judges import JudgeUnavailable, get_judge
from blindrefusal.models.sync import run_sync
from blindrefusal.runs.contrast import DEFEATED, is_pair, run_contrast
from blindrefusal.runs.live import run_live
from components import draft, guard
from components.cards import response_card
from components.composer import composer, load_linked, load_scenario
from components.live_cards import (
    LiveBoard,
    paper_answers_block,
    paper_cell,
    run_summary,
    scroll_to,
    share_link,
    system_prompt_note,
)
from components.resources import reads as q
from components.resources import store
from components.scenario_view import (
    load_control_into_form,
    question,
)
from components.url_state import qp_id, set_qp
from vocabulary import CONTROL, STATUS_OK

SIDES = {DEFEATED: "Defeated: the rule does not deserve compliance",
         CONTROL: "Control: a just version of the same rule"}

engine = store()
st.title("Live lab")

draft_linked = draft.linked()  # read before `restore` puts this session's draft back into the link
draft.restore()
run_id, control_run_id = qp_id("run"), qp_id("control_run")
pending = st.session_state.get("_pending")
shown = q.get_run(engine, run_id) if run_id is not None else None
presenting = pending is not None or (shown is not None and shown["kind"] == "live")  # else the composer stays open


load_linked(engine, "scenario", lambda raw: load_scenario(engine, raw), draft_linked)
load_linked(engine, "control", load_control_into_form, draft_linked)


with st.container(key="composer"):
    if presenting:
        with st.expander("✎ Edit the scenario, the models or the judge", expanded=False):
            composer(engine)
    else:
        composer(engine)
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
        for side, col in zip(SIDES, st.columns(2, gap="large"), strict=True):
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
        st.page_link("app_pages/spot_check.py", label=f"Open spot-check run {run_id}",
                     query_params={"run": str(run_id)})
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
    system_prompt_note(run["params"])
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
    st.subheader(f"Contrast: runs {run_id} and {control_run['id']} — "
                 f"judged by {md_inline(run['params'].get('judge', '?'), 120)}",
                 anchor="results")
    sides = {}
    for side, this, col in zip(SIDES, (run, control_run), st.columns(2, gap="large"), strict=True):
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
    for side, col in zip(SIDES, st.columns(2, gap="large"), strict=True):
        with col:
            paper_answers_block(engine, sides[side][1], key=side, columns=2)

st.markdown("**Share this view**")
share_link()
if st.session_state.pop("_scroll", False):  # last, so that everything above is drawn when it runs
    scroll_to("results", nonce=f"run{run_id}")
