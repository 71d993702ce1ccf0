"""One visual language for labels, numbers and models across pages."""

from __future__ import annotations

from blindrefusal import registry

# helps = green, deflects = amber, hard refusal = red, unjudged/error = grey, blocked = purple
LABEL_COLORS = {
    "helps": "#2E9E5B",
    "deflects": "#E6A117",
    "hard_refusal": "#D1453B",
    "unjudged": "#9E9E9E",
    "error": "#9E9E9E",
    "blocked": "#8E5BD0",
}
LABEL_TEXT = {"helps": "helps", "deflects": "deflects", "hard_refusal": "hard refusal",
              "unjudged": "unjudged", "error": "error", "blocked": "blocked by filter"}
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


def model_name(key: str, sample_n: int | None = None) -> str:
    name = registry.display_name(key)
    return f"{name} (spot-check, n = {sample_n})" if sample_n else name


def model_tick(key: str, sample_n: int | None = None) -> str:
    """A model's name for a plotly axis, with its colour dot (one colour per model on every page)."""
    return f'<span style="color:{registry.color(key)}">●</span> {model_name(key, sample_n)}'
