"""Entry point: st.navigation router and the shared frame. Every page is registered here."""

import streamlit as st

from components.frame import citation_footer, sidebar_status

st.set_page_config(page_title="Blind Refusal Explorer", page_icon="🚦", layout="wide")

PAGES = {
    "Paper": [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True, url_path="home"),
        st.Page("pages/heatmaps.py", title="Heatmaps", icon="🗺️", url_path="heatmaps"),
        st.Page("pages/cases.py", title="Cases", icon="📂", url_path="cases"),
        st.Page("pages/agreement.py", title="Judge agreement", icon="⚖️", url_path="agreement"),
    ],
    "Live": [
        st.Page("pages/compose.py", title="Live lab", icon="🧪", url_path="live"),
        st.Page("pages/spot_check.py", title="Spot-check", icon="🎯", url_path="spot-check"),
        st.Page("pages/history.py", title="History", icon="🕘", url_path="history"),
    ],
}

nav = st.navigation(PAGES)
sidebar_status()
nav.run()
citation_footer()
