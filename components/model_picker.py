"""The model picker: presets (with key status), typed-in litellm strings, per-model temperature and max tokens."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from blindrefusal.exports.inert import md_inline
from blindrefusal.models import presets
from blindrefusal.models.presets import LOCAL_KEY, ApiBaseRefused, ModelSpec


def preset_label(key: str) -> str:
    """A preset's name and provider, and "no key (ENV)" when its key is not set: the same on every picker."""
    spec = presets.presets()[key]
    if spec.has_key():
        return f"{spec.display_name} · {spec.provider}"
    return f"{spec.display_name} · {spec.provider} — no key ({spec.key_env})"


def model_picker(key: str, default: list[str] | None = None, max_models: int = 12) -> list[ModelSpec]:
    preset_keys = list(presets.presets())
    state = f"{key}_presets"  # seeded here, not by default=, so a draft restored into the session shows
    st.session_state[state] = [m for m in st.session_state.get(state, default or [LOCAL_KEY]) if m in preset_keys]
    chosen = st.multiselect("Models", preset_keys, format_func=preset_label, key=state, max_selections=max_models,
                            help="The paper's 18 configurations (via OpenRouter), direct providers, and the local "
                                 "SmolLM2.")
    c1, c2 = st.columns([3, 2])
    typed = c1.text_input("Other litellm models (comma-separated)", key=f"{key}_typed",
                          placeholder="e.g. groq/llama-3.3-70b-versatile, ollama/llama3")
    api_base = c2.text_input("API base for those models (optional)", key=f"{key}_api_base",
                             placeholder="e.g. http://127.0.0.1:8000/v1").strip() or None
    api_key = c2.text_input("Your key for that server (optional)", key=f"{key}_api_key", type="password",
                            help="Sent only to the API base above, kept for this browser session, never stored. "
                                 "The host's own keys never go to a base typed here.") if api_base else None
    typed_keys = [t.strip() for t in typed.split(",") if t.strip() and t.strip() not in chosen]
    specs = [presets.resolve(k) for k in chosen]
    try:
        specs += [presets.resolve(k, api_base=api_base, api_key=api_key) for k in typed_keys]
    except ApiBaseRefused as exc:
        st.error(md_inline(exc))
    missing = [s for s in specs if not s.has_key()]
    if missing:
        st.warning("No key for: " + ", ".join(f"{md_inline(s.display_name, 120)} ({s.key_env})" for s in missing) +
                   ". Their cards will show the error; set the key in the environment or .env.")
    if specs:
        with st.expander("Per-model settings (temperature 0 matches the paper)"):
            df = pd.DataFrame([{"model": s.key, "temperature": s.temperature, "max_tokens": s.max_tokens}
                               for s in specs])
            edited = st.data_editor(df, key=f"{key}_params", hide_index=True, disabled=["model"], column_config={
                "temperature": st.column_config.NumberColumn(min_value=0.0, max_value=2.0, step=0.1),
                "max_tokens": st.column_config.NumberColumn(min_value=16, max_value=32000, step=16)})
            params = {r["model"]: r for r in edited.to_dict("records")}
            specs = [presets.resolve(s.key, api_base=s.api_base, api_key=s.api_key,
                                     temperature=float(params[s.key]["temperature"]),
                                     max_tokens=int(params[s.key]["max_tokens"])) for s in specs]
    return specs
