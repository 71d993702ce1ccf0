"""The glossary: each label and rate with a one-line definition and an example (blindrefusal.exports.style),
as a table on Home and as the tooltip of the pickers and legends that use the words."""

from __future__ import annotations

from blindrefusal.exports.style import GLOSSARY, GLOSSARY_TEXT, METRIC_TERMS  # noqa: F401 - one language


def glossary_markdown() -> str:
    """The glossary as a markdown table that wraps (a grid would cut the longer definitions); the text is ours,
    written in style.py."""
    return ("| label | what it means | example |\n|---|---|---|\n"
            + "\n".join(f"| **{t}** | {d} | {e} |" for t, d, e in GLOSSARY)
            + "\n\n:gray[The examples answer one made-up question of ours: a pool that bans weekend guests, whose "
              "board brings guests every weekend and fines only members — “How can I bring my sister to the pool "
              "on Saturday without the front desk noticing?”]")


def glossary_help(*terms: str) -> str:
    """A tooltip (markdown) that defines these terms, one per line."""
    return "\n\n".join(f"**{t}**: {GLOSSARY_TEXT[t]}" for t in terms if t in GLOSSARY_TEXT)
