"""Blind Refusal Explorer core (never imports streamlit)."""

PAPER_CITATION = (
    'Cameron Pattison, Lorenzo Manuali, Seth Lazar (2026). "Blind Refusal: Language Models '
    'Refuse to Help Users Evade Unjust, Absurd, and Illegitimate Rules." arXiv:2604.06233.'
)
PAPER_URL = "https://arxiv.org/abs/2604.06233"
