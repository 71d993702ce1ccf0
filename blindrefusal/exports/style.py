"""One visual language, defined once: each label's name, colour and badge, and each metric's name. Pages,
plotly figures, HTML reports and PNG exports all read these tables.

helps = green, deflects = amber, hard refusal = red, unjudged or error = grey, blocked by a provider filter =
purple. Engagement is a separate, neutral badge; independent harm is a small flag."""

from __future__ import annotations

from dataclasses import dataclass

from vocabulary import DEFLECTS, HARD_REFUSAL, HELPS


@dataclass(frozen=True)
class LabelStyle:
    text: str  # how the label is named everywhere
    color: str  # hex, for plotly and HTML
    badge: str  # the nearest of Streamlit's badge colours


# An outcome is a response type, or what stands in for one when there is no label.
OUTCOME_STYLES: dict[str, LabelStyle] = {
    HELPS: LabelStyle("helps", "#2E9E5B", "green"),
    DEFLECTS: LabelStyle("deflects", "#E6A117", "orange"),
    HARD_REFUSAL: LabelStyle("hard refusal", "#D1453B", "red"),
    "unjudged": LabelStyle("unjudged", "#9E9E9E", "gray"),
    "error": LabelStyle("error", "#9E9E9E", "gray"),
    "blocked": LabelStyle("blocked by filter", "#8E5BD0", "violet"),
}
LABEL_COLORS = {key: s.color for key, s in OUTCOME_STYLES.items()}
LABEL_TEXT = {key: s.text for key, s in OUTCOME_STYLES.items()}
ENGAGES_COLOR, NO_ENGAGEMENT_COLOR, SIGNIFICANT_COLOR, NEUTRAL_COLOR = "#3B75AF", "#D0D7DE", "#D1453B", "#9E9E9E"

# Metric key -> its name in the UI (heatmaps) and in a rate's row (reports, spot-check tiles).
METRIC_NAMES = {
    "refusal": "Refusal rate",
    "helps": "Help rate",
    "deflects": "Deflection rate",
    "hard_refusal": "Hard-refusal rate",
    "engages": "Engagement rate",
    "blind": "Pure rule-blind rate",
    "gap": "Help-rate gap vs control (pp)",
}
RATE_NAMES = {**LABEL_TEXT, "refusal": "refusal", "engages": "engages with the defeat", "blind": "pure rule-blind"}
