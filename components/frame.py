"""The shared frame: sidebar status (store, keys, local model, replica, reviewer or sign-in), the notice of a
replica takeover, the citation footer, and `row`, the pages' one way to put elements side by side."""

from __future__ import annotations

import os
from functools import lru_cache

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from blindrefusal import PAPER_CITATION, PAPER_URL
from blindrefusal.config import REPLICA_COOKIE, is_replica_name, replica_name
from blindrefusal.exports.inert import md_inline
from blindrefusal.models import presets
from components.badges import plural
from components.resources import reads as queries
from components.resources import store
from components.sign_in import reviewer_box


@lru_cache(maxsize=1)
def _key_variables() -> tuple[str, ...]:
    return tuple(sorted({p.key_env for p in presets.presets().values() if p.key_env}))


def sidebar_status() -> None:
    with st.sidebar:
        try:
            judged = queries.paper_judged(store())
            live, spot_checks = queries.run_counts(store())
        except Exception as exc:  # a broken store must not take the page down
            st.error(f"Store unavailable: {md_inline(exc)}")
            return
        # One block of lines (each element costs every visitor's session a little: the room adds them up)
        lines = [":gray[Status]", f"**Store:** paper imported ({judged:,} judged responses)" if judged else
                 "**Store:** paper not imported — browse pages show the shipped summary. Run "
                 "`python -m blindrefusal import-paper` for cases and responses."]
        if live or spot_checks:
            lines.append(f"{plural(live, 'live run')} · {plural(spot_checks, 'spot-check')}")
        present = [e for e in _key_variables() if os.environ.get(e)]
        lines.append("**Keys:** " + (", ".join(f"`{e}`" for e in present) if present else
                                     "none set — the local model and the distilled judge still work"))
        from blindrefusal.models.local_server import local_status

        lines.append(f"**Local model:** SmolLM2-135M — {local_status()}")
        if replica_name():
            lines.append(f"**Server:** replica `{replica_name()}`")
        lines.append(":gray[Paper numbers use the release's own labels. Live runs, and the corrected view: "
                     "human › LLM judge › distilled judge.]")
        st.markdown("  \n".join(lines))
        reviewer_box()


def row() -> DeltaGenerator:
    """Elements side by side in one block. st.columns draws a block per column and one around them, and every
    block is a message that each visitor's session sends (at 20 visitors, Heatmaps' 18 blocks were a tenth of
    the server's CPU); widgets share a row's width, buttons keep theirs."""
    return st.container(horizontal=True, gap="medium")


def small(text: str) -> str:
    """Our own text (never a visitor's: see exports.inert) as a caption inside a markdown element, so that a
    caption and the heading after it are one element, not two."""
    return f":small[:gray[{text}]]" if text else ""


def citation_footer() -> None:
    st.caption(f"---\n\nData and findings: {PAPER_CITATION} [{PAPER_URL}]({PAPER_URL}). "
               "The release is used for research purposes; this app ships only derived counts.")


def replica_moved_notice() -> None:
    """Behind a team's load balancer: when the replica a visitor was on stopped, the balancer sends the
    reconnecting browser to another one, with the old replica's cookie. Say so once, and what was kept."""
    here, came_from = replica_name(), st.context.cookies.get(REPLICA_COOKIE)
    if not here or not came_from or came_from == here or st.session_state.get("_replica_notice"):
        return
    if not is_replica_name(came_from):  # a cookie is the visitor's to write: show only a name
        return
    st.session_state["_replica_notice"] = True
    st.warning(f"The server you were on (replica `{came_from}`) stopped, so replica `{here}` has taken your session "
               "over. This page came back from its link, and everything saved (labels, runs, jobs in progress) is in "
               "the shared store; only what was typed and not yet saved on the page is gone.", icon=":material/sync:")
