"""The shared frame: sidebar status (store, keys, local model, replica, reviewer or sign-in), the notice of a
replica takeover, and the citation footer."""

from __future__ import annotations

import os

import streamlit as st

from blindrefusal import PAPER_CITATION, PAPER_URL
from blindrefusal.config import REPLICA_COOKIE, is_replica_name, replica_name
from blindrefusal.exports.inert import md_inline
from blindrefusal.models import presets
from components.badges import plural
from components.resources import reads as queries
from components.resources import store
from components.sign_in import reviewer_box


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
            st.markdown(f"{plural(counts['live_runs'], 'live run')} · "
                        f"{plural(counts['spot_check_runs'], 'spot-check')}")
        envs = sorted({p.key_env for p in presets.presets().values() if p.key_env})
        present = [e for e in envs if os.environ.get(e)]
        st.markdown("**Keys:** " + (", ".join(f"`{e}`" for e in present) if present else
                                    "none set — the local model and the distilled judge still work"))
        from blindrefusal.models.local_server import local_status

        st.markdown(f"**Local model:** SmolLM2-135M — {local_status()}")
        if replica_name():
            st.markdown(f"**Server:** replica `{replica_name()}`")
        reviewer_box()
        st.caption("Paper numbers use the release's own labels. Live runs, and the corrected view: "
                   "human › LLM judge › distilled judge.")


def citation_footer() -> None:
    st.divider()
    st.caption(f"Data and findings: {PAPER_CITATION} [{PAPER_URL}]({PAPER_URL}). "
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
