"""Entry point: st.navigation router and the shared frame. Every page is registered here."""

import streamlit as st

from blindrefusal.config import DATA_DIR
from blindrefusal.store import StoreError
from components.frame import citation_footer, replica_moved_notice, sidebar_status
from components.navigation import show_flash
from components.resources import new_run, store
from components.sign_in import auth_lock, ignore_reviewer_link
from components.timing import script_timer

# A local favicon (data/favicon.png, drawn by our own code): an icon name would be fetched from the internet.
st.set_page_config(page_title="Blind Refusal Explorer", page_icon=str(DATA_DIR / "favicon.png"), layout="wide")

PAGES = {
    "Paper": [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True, url_path="home"),
        st.Page("app_pages/heatmaps.py", title="Heatmaps", icon=":material/grid_on:", url_path="heatmaps"),
        st.Page("app_pages/cases.py", title="Cases", icon=":material/folder_open:", url_path="cases"),
        st.Page("app_pages/agreement.py", title="Judge agreement", icon=":material/balance:", url_path="agreement"),
    ],
    "Live": [
        st.Page("app_pages/compose.py", title="Live lab", icon=":material/science:", url_path="live"),
        st.Page("app_pages/spot_check.py", title="Spot-check", icon=":material/target:", url_path="spot-check"),
        st.Page("app_pages/fresh_cases.py", title="Fresh cases", icon=":material/auto_awesome:",
                url_path="fresh-cases"),
        st.Page("app_pages/history.py", title="History", icon=":material/history:", url_path="history"),
    ],
}

new_run()
nav = st.navigation(PAGES)
# a page can tell that it was just entered: the page of the previous run (an interrupted rerun counts as its own)
st.session_state["_previous_page"] = st.session_state.get("_this_page")
st.session_state["_this_page"] = nav.url_path
with script_timer(nav.url_path or "home"):
    locked = auth_lock()
    if locked:  # an [auth] section sign-in cannot use: closed, not open to everyone
        st.error(locked)
        st.stop()
    try:
        store()
    except StoreError as exc:  # a store that cannot be opened or upgraded: say why instead of failing on every page
        st.error(str(exc))
        st.stop()
    sidebar_status()
    replica_moved_notice()
    ignore_reviewer_link()
    show_flash()
    nav.run()
    citation_footer()
