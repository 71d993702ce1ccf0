"""Live cards: one placeholder per model that fills in as tokens arrive, then the judged result; and the
blocks of a finished run (its summary, the paper's answers beside it, the share link)."""

from __future__ import annotations

import html
import json

import streamlit as st

from blindrefusal.analysis.rates import rates
from blindrefusal.exports.inert import md_inline
from blindrefusal.exports.markdown import safe_markdown
from blindrefusal.judges import Verdict
from blindrefusal.models.calls import CallResult
from blindrefusal.models.configuration import prompt_name
from blindrefusal.models.failures import failures_by_model
from blindrefusal.models.presets import ModelSpec
from blindrefusal.paper import taxonomy
from blindrefusal.paper.control_twins import paper_answers
from blindrefusal.runs.live import demo_only, refusal_rate, summarise
from components.cards import demo_note, label_line, response_card
from components.resources import paper_imported
from components.resources import reads as q
from components.url_state import current_url
from vocabulary import CONTROL, STATUS_BLOCKED, STATUS_OK


class LiveBoard:
    """Draws a grid of cards and is the runner's event callback (it runs in the script thread)."""

    def __init__(self, specs: list[ModelSpec], columns: int = 3, judge: str | None = None):
        self.specs = {s.key: s for s in specs}
        self.judge = judge
        self.slots: dict[str, dict] = {}
        cols = st.columns(min(columns, max(1, len(specs))))
        for i, spec in enumerate(specs):
            with cols[i % len(cols)]:
                box = st.container(border=True)
                with box:
                    st.markdown(f"**{md_inline(spec.display_name, 120)}**")
                    note = demo_note(spec.key, judge)
                    if note:
                        st.caption(note)
                    self.slots[spec.key] = {"status": st.empty(), "text": st.empty(), "meta": st.empty()}
                    self.slots[spec.key]["status"].caption("waiting…")

    def __call__(self, model_key: str, event: str, payload) -> None:
        slot = self.slots.get(model_key)
        if slot is None:
            return
        if event == "start":
            slot["status"].caption("streaming…")
        elif event == "token":
            slot["text"].markdown(safe_markdown(payload))
        elif event == "retry":
            slot["status"].caption(f"retrying: {payload}")
        elif event == "done":
            res: CallResult = payload
            if res.text:
                slot["text"].markdown(safe_markdown(res.text))
            if res.status == STATUS_OK:
                slot["status"].caption("judging…")
            elif res.status == STATUS_BLOCKED:
                slot["status"].markdown(label_line("blocked", None, None, None) + f" {md_inline(res.error or '')}")
            else:
                slot["status"].markdown(label_line("error", None, None, None))
                slot["meta"].error(res.error or "failed")
        elif event == "judged":
            if isinstance(payload, Verdict):
                slot["status"].markdown(label_line("ok", payload.response_type, payload.engages_with_defeat,
                                                   payload.independent_harm))
            else:
                slot["status"].markdown(label_line("ok", None, None, None) + " judge output unusable — re-judge below")


def run_summary(responses: list[dict]) -> None:
    """'4 of 6 judged models refused …', the refusal rate with n and its interval, and a mark when the tiny
    local model answered or judged (its labels mean nothing)."""
    outcomes = [(r["status"], r.get("eff_response_type"), r.get("eff_engages")) for r in responses]
    rate = refusal_rate(outcomes)
    st.markdown(f"**{summarise(outcomes)}**" + (f" · refusal {rate.fmt()}" if rate.n else ""))
    failure_panel(responses)
    if any(demo_only(r.get("model_key"), (r.get("judgments") or [{}])[0].get("judge")) for r in responses):
        st.caption(":gray[Demo labels: SmolLM2-135M answered or judged here, so this summary proves the path "
                   "works and means nothing.]")


def failure_panel(rows: list[dict]) -> bool:
    """Why calls failed or were blocked, model by model, and what to do (a live run or a spot-check). True when
    no call at all came back with an answer: there is nothing to rate."""
    failed = failures_by_model(rows)
    if not failed:
        return False
    every = all(r["status"] != STATUS_OK for r in rows)
    lines = []
    for f in failed:
        for c, n in f.causes.items():
            lines.append(f"- **{md_inline(f.model, 120)}**: {n} of {f.total} calls — {md_inline(c.why, 200)}. "
                         f"What to do: {md_inline(c.what_to_do, 300)}.")
    head = "Every call failed, so there is nothing to rate:" if every else "Some calls failed or were blocked:"
    (st.error if every else st.warning)(head + "\n" + "\n".join(lines))
    return every


def paper_cell(engine, case: dict | None) -> None:
    """The paper's refusal and engagement rates for the case's family × authority cell."""
    if not (case and case.get("family") and paper_imported()):
        return
    paper = q.totals(engine, q.Filters(sources=["paper"], families=[case["family"]],
                                       authorities=[case["authority_type"]]))
    cell = paper["control" if case["family"] == CONTROL else "defeated"]
    if cell.n:
        rs = rates(cell)
        st.caption(f"In the paper, {taxonomy.family_label(case['family'])} × "
                   f"{taxonomy.authority_label(case['authority_type'])}: "
                   f"refusal {rs.refusal.fmt()}; engagement {rs.engages.fmt()}.")
    else:
        st.caption("The paper has no responses for this family × authority cell.")


def paper_answers_block(engine, case: dict | None, key: str, columns: int = 3) -> None:
    """For a paper case: the release's answers with the paper's own (GPT-5.4) labels, collapsed."""
    if not case or case.get("source") != "paper":
        return
    pa = paper_answers(engine, case["id"])
    if not pa.rows:
        return
    with st.expander(f"The paper's {len(pa.rows)} answers to {case['key']} — refusal {pa.refusal.fmt()} "
                     "(GPT-5.4 labels)", expanded=False):
        st.caption("The release's own answers to this very case, each with the paper judge's (GPT-5.4) label"
                   + (f"; {pa.unjudged} without one" if pa.unjudged else "") + ".")
        cols = st.columns(min(columns, len(pa.rows)))
        for i, r in enumerate(pa.rows):
            with cols[i % len(cols)]:
                response_card(r, key=f"{key}_paper{r['id']}", human_form=False, height=240)


def share_link() -> None:
    """The full address of this view, shown (with the code block's own copy icon) and copied by a button."""
    url = current_url()
    c1, c2 = st.columns([5, 1], vertical_alignment="center")
    with c1:
        st.code(url, language=None, wrap_lines=True)
    with c2:
        # st.html keeps <script> but strips on* attributes, so the script wires the button. The clipboard API
        # needs a secure context (https or loopback); elsewhere a selected textarea and execCommand copy it.
        st.html(f"""<button class="br-copy-link" data-url="{html.escape(url, quote=True)}"
            style="padding:.45rem .9rem;border-radius:.5rem;border:1px solid rgba(49,51,63,.2);background:white;
                   cursor:pointer;font:inherit">Copy link</button>
            <script>
            document.querySelectorAll("button.br-copy-link").forEach(b => b.onclick = async () => {{
              const url = b.dataset.url;
              try {{ await navigator.clipboard.writeText(url); }}
              catch (e) {{
                const t = document.createElement("textarea"); t.value = url; document.body.appendChild(t);
                t.select(); document.execCommand("copy"); t.remove();
              }}
              b.textContent = "Copied ✓";
            }});
            </script>""", unsafe_allow_javascript=True)


def scroll_to(anchor: str, nonce: str) -> None:
    """Bring the element with this id to the top of the window (`nonce` makes each call run). The page keeps
    changing for a moment after a rerun (new blocks arrive, the previous run's go away), so it scrolls again
    whenever the layout changes, for five seconds or until the user scrolls, clicks or types."""
    st.html(f"""<script>/* {html.escape(nonce)} */
        (() => {{
          const main = document.querySelector('[data-testid="stMain"]') || document.body;
          const go = () => document.getElementById({json.dumps(anchor)})?.scrollIntoView({{block: "start"}});
          const watch = new ResizeObserver(go);
          const stop = () => watch.disconnect();
          Array.from(main.children).forEach(c => watch.observe(c));
          ["wheel", "touchmove", "keydown", "mousedown"].forEach(e => window.addEventListener(e, stop, {{once: true}}));
          setTimeout(stop, 5000);
          go();
        }})();
        </script>""", unsafe_allow_javascript=True)


def system_prompt_note(params: dict) -> None:
    """Above a run's answers: the system prompt its models were sent (nothing for the paper's setting)."""
    text = params.get("system_prompt")
    if not text:
        return
    with st.expander(f"System prompt: {prompt_name(text)} — sent before the user query to every model of this run"):
        st.code(text, language=None, wrap_lines=True)
