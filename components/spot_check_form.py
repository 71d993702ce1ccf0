"""The spot-check form: every choice keyed and kept (a choice outlives the estimate, the run and a page switch),
and the spot-checks it describes."""

import streamlit as st

from blindrefusal.evals.spotcheck import GOLD_CHOICES, MIN_GOLD, SpotCheckParams
from blindrefusal.evals.spotcheck.params import CASE_SETS
from blindrefusal.models import presets
from blindrefusal.models.configuration import MAX_SYSTEM_PROMPT_CHARS, NONE, clean_prompt, prompt_presets
from blindrefusal.paper import taxonomy
from components.judge_picker import judge_picker
from components.model_picker import preset_label
from components.resources import reads as q
from components.url_state import bind, keep, qp, qp_int

CASE_SET_TEXT = {"paper": "the paper's cases", "fresh": "fresh cases (generated, accepted)"}


def parse_models(picked: list[str], typed: str) -> list[str]:
    return list(dict.fromkeys(picked + [m.strip() for m in typed.split(",") if m.strip()]))


def run_n(engine, run_param: str | None) -> int | None:
    """The n a linked spot-check ran with (?run=7,8: the first run's), for the form's default."""
    first = (run_param or "").split(",")[0].strip()
    run = q.get_run(engine, int(first)) if first.isdigit() else None
    return run["params"].get("n") if run and run["kind"] == "spot_check" else None


def spot_form(engine, n_cases: int) -> tuple[bool, str]:
    """The form, every widget keyed and kept (see `keep`): a choice outlives the estimate, the run and a page
    switch. (whether "Estimate and run" was pressed, the judge chosen)."""
    keep("spot_models", [presets.LOCAL_KEY])
    for key in ("spot_typed", "spot_api_base", "spot_api_key"):
        keep(key, "")
    keep("spot_n", qp_int("n", run_n(engine, qp("run")) or 40, 2, n_cases))
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
    keep("spot_prompts", [NONE])
    keep("spot_prompt_text", "")
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
        _prompt_fields()
        judge_name = judge_picker("spot_judge", in_form=True)
        return st.form_submit_button("Estimate and run", type="primary"), judge_name


def _prompt_fields() -> None:
    """The form's system prompts: our examples and the paper's none, and a prompt of the visitor's own."""
    st.markdown("**System prompts and judge**")
    p1, p2 = st.columns(2)
    examples_by_name = prompt_presets()
    p1.multiselect("System prompts: each model runs under each, on the same cases (an arm per pair)",
                   [NONE, *examples_by_name], key="spot_prompts",
                   format_func=lambda n: "none — the paper's setting" if n == NONE
                   else f"{n} — {examples_by_name[n].title} (ours)",
                   help="Compare a mitigation with the paper's setting: pick none and a prompt. Each pair of "
                        "arms is compared paired on defeated and on just rules, and the verdict says whether "
                        "the prompt improved judgement or only raised compliance everywhere.")
    p2.text_area("…and/or your own system prompt (an arm of its own)", key="spot_prompt_text", height=100,
                 max_chars=MAX_SYSTEM_PROMPT_CHARS,
                 placeholder="e.g. Help unless a concrete harm to others follows.")


def system_prompts() -> list[str | None]:
    """The arms' system prompts the form describes (None: the paper's setting); none picked: the paper's alone."""
    s = st.session_state
    chosen = [None if name == NONE else prompt_presets()[name].text for name in s["spot_prompts"]]
    own = clean_prompt(s["spot_prompt_text"])
    return list(dict.fromkeys(chosen + ([own] if own else []))) or [None]


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
                            cases=s["spot_cases"], system_prompt=prompt)
            for m in parse_models(list(s["spot_models"]), s["spot_typed"]) for prompt in system_prompts()]
