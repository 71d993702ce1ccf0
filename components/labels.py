"""One visual language for labels, numbers and models across pages."""

from __future__ import annotations

from blindrefusal.figures import LABEL_COLORS, LABEL_TEXT, model_name, model_tick  # noqa: F401 - one language

_BADGE_COLOR = {"helps": "green", "deflects": "orange", "hard_refusal": "red", "unjudged": "gray",
                "error": "gray", "blocked": "violet"}


def outcome_of(status: str, response_type: str | None) -> str:
    if status == "error":
        return "error"
    if status == "blocked":
        return "blocked"
    return response_type or "unjudged"


def badge(outcome: str) -> str:
    """Markdown badge (Streamlit's :color-badge[...] syntax, no HTML)."""
    return f":{_BADGE_COLOR.get(outcome, 'gray')}-badge[{LABEL_TEXT.get(outcome, outcome)}]"


def engagement_badge(engages: bool | None) -> str:
    if engages is None:
        return ""
    return ":blue-badge[engages]" if engages else ":gray-badge[no engagement]"


def harm_flag(harm: bool | None) -> str:
    return ":red[⚑ independent harm]" if harm else ""


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
