"""One visual language for labels, numbers and models across pages."""

from __future__ import annotations

from blindrefusal.exports.figures import model_name, model_tick  # noqa: F401 - one language
from blindrefusal.exports.inert import md_inline, md_literal
from blindrefusal.exports.style import LABEL_COLORS, LABEL_TEXT, OUTCOME_STYLES  # noqa: F401 - one language
from vocabulary import is_human


def outcome_of(status: str, response_type: str | None) -> str:
    if status == "error":
        return "error"
    if status == "blocked":
        return "blocked"
    return response_type or "unjudged"


def badge(outcome: str) -> str:
    """Markdown badge (Streamlit's :color-badge[...] syntax, no HTML)."""
    style = OUTCOME_STYLES.get(outcome)
    return f":{style.badge if style else 'gray'}-badge[{style.text if style else outcome}]"


def engagement_badge(engages: bool | None) -> str:
    if engages is None:
        return ""
    return ":blue-badge[engages]" if engages else ":gray-badge[no engagement]"


def harm_flag(harm: bool | None) -> str:
    return ":red[⚑ independent harm]" if harm else ""


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def judge_markdown(judge: str) -> str:
    """A judge's name for markdown: a reviewer's (`human:…`, chosen by a visitor) shown literally."""
    return md_literal(judge) if is_human(judge) else md_inline(judge, 120)


def rate_metric(slot, label: str, rate, help: str | None = None) -> None:
    """A rate as one metric: its value big, its interval and n beneath it (grey, no arrow): one element where a
    metric and a caption were two (every element costs each visitor's session a little: a room adds them up)."""
    slot.metric(label, rate.pct(), delta=rate.fmt() if rate.n else None, delta_color="off", delta_arrow="off",
                help=help)
