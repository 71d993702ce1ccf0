"""The shared frame: sidebar status (store, keys, local model, reviewer or sign-in) and the citation footer."""

from __future__ import annotations

import os

import streamlit as st

from blindrefusal.exports.inert import md_inline
from blindrefusal import PAPER_CITATION, PAPER_URL
from blindrefusal.models import presets


from .badges import plural
from components.resources import store
from components.identity import reviewer_box
from components.resources import reads as queries


def sidebar_status() -> None:
    with st.sidebar:
        st.caption("Status")
        try:
            counts = queries.store_counts(store())
        except Exception as exc:  # a broken store must not take the page down
            st.error(f"Store unavailable: {md_inline(exc)}")
            return
        if counts["paper_responses"]:
            st.markdown(f"**Store:** paper imported ({counts['paper_judged']:,} judged responses)")
        else:
            st.markdown("**Store:** paper not imported — browse pages show the shipped summary. "
                        "Run `python -m blindrefusal import-paper` for cases and responses.")
        if counts["live_runs"] or counts["spot_check_runs"]:
            st.markdown(f"{plural(counts['live_runs'], 'live run')} · {plural(counts['spot_check_runs'], 'spot-check')}")
        envs = sorted({p.key_env for p in presets.presets().values() if p.key_env})
        present = [e for e in envs if os.environ.get(e)]
        st.markdown("**Keys:** " + (", ".join(f"`{e}`" for e in present) if present else
                                    "none set — the local model and the distilled judge still work"))
        from blindrefusal.models.local_server import local_status

        st.markdown(f"**Local model:** SmolLM2-135M — {local_status()}")
        reviewer_box()
        st.caption("Paper numbers use the release's own labels. Live runs, and the corrected view: "
                   "human › LLM judge › distilled judge.")


def citation_footer() -> None:
    st.divider()
    st.caption(f"Data and findings: {PAPER_CITATION} [{PAPER_URL}]({PAPER_URL}). "
               "The release is used for research purposes; this app ships only derived counts.")
