"""The Live lab's composer: a scenario (from an example, a paper case, a random case of a cell, or a link), its
control twin in Contrast mode, the models and the judge, and the Run button's checks before anything is sent."""

import random

import streamlit as st

from blindrefusal.models.configuration import MAX_SYSTEM_PROMPT_CHARS, clean_prompt, prompt_name, prompt_presets
from blindrefusal.models.presets import configured
from blindrefusal.paper import taxonomy
from blindrefusal.paper.control_twins import control_candidates, matching_control
from blindrefusal.runs.scenario import ScenarioError, control_twin, examples, from_case, validate
from components import draft, guard
from components.judge_picker import judge_picker
from components.model_picker import model_picker
from components.resources import paper_imported
from components.resources import reads as q
from components.scenario_view import (
    control_form,
    control_from_state,
    load_control_into_form,
    load_into_form,
    scenario_form,
    scenario_from_state,
)
from components.url_state import qp, set_qp
from vocabulary import CONTROL


def load_scenario(engine, raw: dict) -> None:
    """Fill the composer, and the control twin: the example's own, else the paper's matching control case."""
    load_into_form(raw)
    twin = raw.get("control")
    if twin is None and raw.get("paper_case_id") and paper_imported():
        match = matching_control(engine, raw)
        twin = from_case(match) if match else None
    load_control_into_form(twin)


def load_linked(engine, param: str, loader, draft_linked: bool) -> None:
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


def send(engine, specs: list, judge_name: str) -> None:
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
    if control_raw is not None and scenario is not None and scenario.defeat_family == CONTROL:
        problems.append(CONTRAST_OF_A_CONTROL)
    elif control_raw is not None and scenario is not None:
        try:
            control = control_twin(control_raw, scenario)
        except ScenarioError as exc:
            problems += exc.problems
    sides = 2 if control_raw is not None else 1
    calls = specs * sides + guard.judge_calls(judge_name, len(specs) * sides)
    blocked = None if problems else guard.check(engine, calls)
    if problems or blocked:
        st.session_state["_send_problem"] = blocked or "Please fix the scenario:\n" + "\n".join(
            f"- {p}" for p in problems)
        return
    st.session_state["_pending"] = {"scenario": scenario, "control": control, "specs": specs, "judge": judge_name}
    st.session_state["_scroll"] = True


CONTRAST_OF_A_CONTROL = ("Contrast mode sets a defeated rule beside its just twin, but this scenario's family is "
                         "Control (a just rule) already: pick the defeat family for the left side, or turn Contrast "
                         "off to send the control case alone.")


def composer(engine) -> None:
    st.caption("Compose a rule scenario, send it to several models at once, and watch each answer arrive and get "
               "judged. As in the paper, **only the user query is sent** — temperature 0, and no system prompt unless "
               "you add one under *Models and judge*. The other fields are what the judge and the records see.")
    ex1, ex2, ex3 = st.columns([4, 1, 1])
    titles = [e["title"] for e in examples()]
    example = ex1.selectbox("Start from an example", titles, index=None, placeholder="pick an example scenario…",
                            key="example_pick", label_visibility="collapsed")
    ex2.button("Load example", disabled=example is None, key="load_example",
               on_click=lambda: load_scenario(engine, next(e for e in examples() if e["title"] == example)))
    ex3.button("New scenario", key="new_scenario", on_click=draft.clear,
               help="Clear every field of the scenario and its control twin (the models and the judge stay)")
    paper_case_picker(engine)

    raw = scenario_form()
    st.toggle("**Contrast mode** — also send a control twin (a just version of the same rule) and show both side by "
              "side: the paper's central contrast", key="contrast_on")
    control_raw = None
    if st.session_state["contrast_on"] and raw.get("defeat_family") == CONTROL:
        st.warning(CONTRAST_OF_A_CONTROL)
    if st.session_state["contrast_on"]:
        st.subheader("Control twin")
        control_raw = control_twin_picker(engine, raw)
    if control_raw is None:
        set_qp("control", None)
    elif st.session_state.get("c_paper_case"):  # a paper control case; a written one gets its key when it runs
        set_qp("control", st.session_state["c_paper_case"])
    st.subheader("Models and judge")
    system_prompt = system_prompt_field()
    specs = [configured(s, system_prompt) for s in model_picker("live")]
    judge_name = judge_picker("live_judge")
    guard.password_box(specs + guard.judge_calls(judge_name, 1))
    st.button("Run", type="primary", disabled=not specs, on_click=send, args=(engine, specs, judge_name))


def paper_case_picker(engine) -> None:
    """Load one of the paper's cases into the composer: by id or words, or at random from a family × authority."""
    with st.expander("Start from a paper case", expanded=False):
        if not paper_imported():
            st.info("Import the paper to start from one of its 1,290 cases: `python -m blindrefusal import-paper`.")
        else:
            a, b = st.columns(2)
            with a:
                term = st.text_input("Case id or words to search", key="pick_search")
                found, total = q.find_cases(engine, search=term, limit=50) if term.strip() else ([], 0)
                if term.strip():
                    pick = (st.selectbox(f"{total} matches", [c["key"] for c in found], key="pick_case")
                            if found else None)
                    if not found:
                        st.caption("No case matches.")
                    st.button("Load this case", disabled=not pick, key="load_pick",
                              on_click=lambda: load_scenario(engine, from_case(q.get_case(engine, pick))))
            with b:
                fam = st.selectbox("Family", taxonomy.FAMILIES, format_func=taxonomy.family_label, key="rand_family")
                auth = st.selectbox("Authority", taxonomy.authority_types(), format_func=taxonomy.authority_label,
                                    key="rand_auth")

                def draw() -> None:
                    cell, _ = q.find_cases(engine, families=[fam], authorities=[auth], limit=1000)
                    if cell:
                        load_scenario(engine, from_case(random.choice(cell)))
                    else:
                        st.session_state["_no_cell"] = True

                st.button("Draw a random case from this cell", on_click=draw, key="draw_random")
                if st.session_state.pop("_no_cell", False):
                    st.caption("The paper has no case in that cell.")


def control_twin_picker(engine, raw: dict) -> dict:
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


def system_prompt_field() -> str | None:
    """A system prompt for every model of the run (folded; none, the paper's setting, by default)."""
    text = clean_prompt(st.session_state.get("live_system_prompt"))
    with st.expander(f"System prompt: {prompt_name(text)}" + (" (the paper's setting)" if text is None else ""),
                     expanded=False):
        st.caption("Sent before the user query, as a system message, to every model of this run; each model's "
                   "name then says which prompt it ran under. The examples are ours, not the paper's: each was "
                   "written to test one idea of a mitigation.")
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        examples_by_name = prompt_presets()
        pick = c1.selectbox("Start from an example prompt", list(examples_by_name), index=None, key="sp_pick",
                            format_func=lambda n: f"{n} — {examples_by_name[n].title}",
                            placeholder="pick an example prompt…")
        c2.button("Use it", key="sp_load", disabled=pick is None,
                  on_click=lambda: st.session_state.update(live_system_prompt=examples_by_name[pick].text))
        if pick is not None:
            st.caption(f"What it tests: {examples_by_name[pick].tests}")
        st.text_area("System prompt", key="live_system_prompt", max_chars=MAX_SYSTEM_PROMPT_CHARS, height=110,
                     placeholder="none: the paper's setting (the user query alone)")
    return text
