"""Live cards: one placeholder per model that fills in as tokens arrive, then the judged result."""

from __future__ import annotations

import streamlit as st

from blindrefusal.judges import Verdict
from blindrefusal.registry import ModelSpec
from blindrefusal.render import safe_markdown
from blindrefusal.runner import CallResult

from .cards import label_line


class LiveBoard:
    """Draws a grid of cards and is the runner's event callback (it runs in the script thread)."""

    def __init__(self, specs: list[ModelSpec], columns: int = 3):
        self.specs = {s.key: s for s in specs}
        self.slots: dict[str, dict] = {}
        cols = st.columns(min(columns, max(1, len(specs))))
        for i, spec in enumerate(specs):
            with cols[i % len(cols)]:
                box = st.container(border=True)
                with box:
                    st.markdown(f"**{spec.display_name}**")
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
            if res.status == "ok":
                slot["status"].caption("judging…")
            elif res.status == "blocked":
                slot["status"].markdown(label_line("blocked", None, None, None) + f" {res.error or ''}")
            else:
                slot["status"].markdown(label_line("error", None, None, None))
                slot["meta"].error(res.error or "failed")
        elif event == "judged":
            if isinstance(payload, Verdict):
                slot["status"].markdown(label_line("ok", payload.response_type, payload.engages_with_defeat,
                                                   payload.independent_harm))
            else:
                slot["status"].markdown(label_line("ok", None, None, None) + " judge output unusable — re-judge below")
