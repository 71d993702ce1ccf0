"""The response card: model, outcome badges, safe text, the judge's reasoning, and a human-label form."""

from __future__ import annotations

from typing import Callable

import streamlit as st

from blindrefusal.exports.inert import md_inline
from blindrefusal.exports.markdown import safe_markdown
from blindrefusal.judges.distilled.model import LOW_CONFIDENCE
from blindrefusal.judges.human import LabelError, set_human_label
from blindrefusal.models.presets import LOCAL_KEY
from blindrefusal.runs.live import demo_only
from components.badges import LABEL_TEXT, badge, engagement_badge, harm_flag, judge_markdown, outcome_of
from components.navigation import flash
from components.resources import store
from components.sign_in import can_label, label_prompt, reviewer_judge
from vocabulary import JUDGMENT_OK, RESPONSE_TYPES, STATUS_BLOCKED, STATUS_ERROR, STATUS_OK


def _meta_line(r: dict) -> str:
    bits = []
    if r.get("latency_ms") is not None:
        bits.append(f"{r['latency_ms'] / 1000:.2f} s")
    if r.get("ttft_ms") is not None:
        bits.append(f"first token {r['ttft_ms'] / 1000:.2f} s")
    if r.get("completion_tokens") is not None:
        bits.append(f"{r.get('prompt_tokens') or 0:,} → {r['completion_tokens']:,} tokens"
                    + (" (counted by us)" if r.get("usage_counted") else ""))
    if r.get("latency_ms") is not None or r.get("cost_usd") is not None:
        bits.append("cost unknown" if r.get("cost_usd") is None else f"${r['cost_usd']:.4f}")
    if (r.get("attempts") or 1) > 1:
        bits.append(f"{r['attempts']} attempts")
    if r.get("truncated"):
        bits.append(f"cut at {len(r.get('text') or ''):,} characters (BR_MAX_ANSWER_CHARS); the rest was not kept")
    return " · ".join(bits)


DEMO_NOTE = (":gray[SmolLM2-135M is a tiny demo model: it proves the path works; its answers, and any judge's "
             "labels of them, mean nothing.]")
DEMO_JUDGE_NOTE = (":gray[Labelled by the local demo judge (SmolLM2-135M): the path works, but these labels mean "
                   "nothing.]")


def demo_note(model_key: str | None, judge: str | None) -> str | None:
    """The caption that marks an answer or a label from the tiny local model as meaningless (None otherwise)."""
    if not demo_only(model_key, judge):
        return None
    return DEMO_NOTE if model_key == LOCAL_KEY else DEMO_JUDGE_NOTE


def label_line(status: str, response_type: str | None, engages: bool | None, harm: bool | None) -> str:
    parts = [badge(outcome_of(status, response_type))]
    if response_type:
        parts += [engagement_badge(engages), harm_flag(harm)]
    return " ".join(p for p in parts if p)


def response_card(r: dict, key: str, human_form: bool = True, height: int = 320, inline_form: bool = False,
                  on_saved: Callable[[dict], None] | None = None) -> None:
    """`r` is a stored response with its judgments (db.records.ResponseRecord). `inline_form` shows the label form
    open (a label queue) instead of behind a button; `on_saved(r)` runs after a label is saved."""
    with st.container(border=True):
        st.markdown(f"**{md_inline(r['model_name'], 160)}** " + label_line(r["status"], r.get("eff_response_type"),
                                                          r.get("eff_engages"), r.get("eff_harm")))
        meta = _meta_line(r)
        if meta:
            st.caption(meta)
        if r["status"] == STATUS_ERROR:
            st.error(f"The model call failed: {md_inline(r.get('error') or 'unknown error')}")
        elif r["status"] == STATUS_BLOCKED:
            st.warning(f"Blocked by the provider's content filter. {md_inline(r.get('error') or '')}")
        judgments = r.get("judgments") or []
        note = demo_note(r.get("model_key"), judgments[0]["judge"] if judgments else None)
        if note:
            st.caption(note)
        if r.get("text"):
            long = len(r["text"]) > 600
            whole = long and st.toggle(f"Show the whole answer ({len(r['text']):,} characters)", key=f"whole_{key}")
            with st.container(height=height if long and not whole else "content", border=False):
                st.markdown(safe_markdown(r["text"]))
        judged = [j for j in r.get("judgments", []) if j["status"] == JUDGMENT_OK]
        failed = [j for j in r.get("judgments", []) if j["status"] != JUDGMENT_OK]
        if judged:
            top = judged[0]
            sure = top.get("confidence")
            if sure is not None:
                st.markdown(f":gray[Judge's confidence in this label: {sure:.0%}]"
                            + (" :orange-badge[low confidence]" if sure < LOW_CONFIDENCE else ""))
            with st.expander(f"Judge: {judge_markdown(top['judge'])} — reasoning"):
                st.markdown(safe_markdown(top.get("reasoning") or "(no reasoning given)"))
                for j in judged[1:]:
                    st.caption(f"Also judged by {judge_markdown(j['judge'])}: "
                               f"{LABEL_TEXT.get(j['response_type'], j['response_type'])}, "
                               f"{'engages' if j['engages_with_defeat'] else 'no engagement'}"
                               f"{', independent harm' if j['independent_harm'] else ''}")
        elif failed and r["status"] == STATUS_OK:
            st.warning("Unjudged: the judge's output could not be parsed "
                       f"({judge_markdown(failed[0]['judge'])}). Use re-judge.")
        if human_form and r["status"] == STATUS_OK and can_label():
            _human_form(r, key, inline_form, on_saved)


def _human_form(r: dict, key: str, inline: bool = False, on_saved: Callable[[dict], None] | None = None) -> None:
    with st.container(border=True) if inline else st.popover("Set your own label"):
        with st.form(f"human_{key}"):
            current = r.get("eff_response_type") or "deflects"
            rt = st.radio("Response type", RESPONSE_TYPES, index=list(RESPONSE_TYPES).index(current),
                          format_func=LABEL_TEXT.get, horizontal=True)
            eng = st.checkbox("Engages with the defeat", value=bool(r.get("eff_engages")))
            harm = st.checkbox("Cites an independent harm", value=bool(r.get("eff_harm")))
            note = st.text_area("Note (optional)", max_chars=2000)
            if st.form_submit_button("Save label"):
                _save_label(r, rt, eng, harm, note, on_saved)


def _save_label(r: dict, response_type: str, engages: bool, harm: bool, note: str,
                on_saved: Callable[[dict], None] | None) -> None:
    judge = reviewer_judge()  # the signed-in account (or, in a local app, the typed name): nothing from the form
    if judge is None:
        st.error(label_prompt())
        return
    try:
        set_human_label(store(), r["id"], judge, response_type, engages, harm, note)
    except LabelError as exc:
        st.error(md_inline(exc))
        return
    flash(f"Saved your label for {r.get('model_name', 'this answer')} as {judge_markdown(judge)}. It shows in the "
          "corrected view; the paper's published numbers stay as they were.")
    if on_saved:
        on_saved(r)
    st.rerun()
