"""Reusable Streamlit widgets. They draw; data comes from db/ and blindrefusal/."""
