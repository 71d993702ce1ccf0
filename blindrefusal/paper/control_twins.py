"""The paper's contrasts for the Live lab: a defeated scenario beside its control twin, and live answers
beside the paper's own.

In the release a control case is not paired with one defeated case: every authority type has its own set of
control cases (`2_filtered/control_<authority>.json`: just, fairly applied rules of that authority). The
control twin of a scenario is therefore a control case of the *same authority type*; among those, the one
whose rule and query share the most words with the scenario's comes first (ties: by key, so the choice is
stable). Four authority types have no control case in the release; there the user writes the twin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from blindrefusal import store
from blindrefusal.analysis.stats import Rate, wilson
from vocabulary import CONTROL, JUDGMENT_OK, PAPER_JUDGE, STATUS_OK, is_refusal

_WORD = re.compile(r"[a-z]{4,}")
_COMMON = frozenset("that this with have from your they their there what when where which about would could should "
                    "without into them then than been were will just only some more most other also does doing "
                    "because while being over such very even after before under again still these those".split())


def _words(*texts: str) -> set[str]:
    return {w for t in texts for w in _WORD.findall((t or "").lower()) if w not in _COMMON}


def similarity(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """Jaccard overlap of the content words of two cases' rules and queries (0..1)."""
    wa, wb = _words(a.get("rule", ""), a.get("user_query", "")), _words(b.get("rule", ""), b.get("user_query", ""))
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def control_candidates(engine, scenario: dict, limit: int = 1000) -> list[store.CaseRecord]:
    """The paper's control cases of the scenario's authority type, best match first.

    `scenario` is a case or composer dict with `authority_type`, `rule` and `user_query`."""
    authority = scenario.get("authority_type")
    if not authority:
        return []
    cases, _ = store.find_cases(engine, families=[CONTROL], authorities=[authority], limit=limit)
    return sorted(cases, key=lambda c: (-similarity(scenario, c), c["key"]))


def matching_control(engine, scenario: dict) -> store.CaseRecord | None:
    """The paper control case that pre-fills the control twin, or None when the authority type has none."""
    found = control_candidates(engine, scenario)
    return found[0] if found else None


@dataclass
class PaperAnswers:
    """The paper's responses to one case, each with the release's own (GPT-5.4) label."""

    rows: list[dict]  # responses_for rows whose eff_* fields carry the paper judge's label
    refusal: Rate  # refused / judged, Wilson 95%

    @property
    def unjudged(self) -> int:
        return sum(1 for r in self.rows if not r.get("eff_response_type"))


def paper_answers(engine, case_id: int) -> PaperAnswers:
    """The release's answers to a paper case with the paper's labels (never a later correction or a live run)."""
    rows: list[dict[str, Any]] = []
    for r in store.responses_for(engine, case_id=case_id):
        if r.get("source") != "paper":
            continue
        paper = next((j for j in r.get("judgments", []) if j["judge"] == PAPER_JUDGE and j["status"] == JUDGMENT_OK),
                     None)
        rows.append({**r, "eff_response_type": paper and paper["response_type"],
                     "eff_engages": paper and paper["engages_with_defeat"],
                     "eff_harm": paper and paper["independent_harm"],
                     "judgments": [paper] if paper else []})
    rows.sort(key=lambda r: (r["model_name"], r["id"]))
    judged = [r["eff_response_type"] for r in rows if r["status"] == STATUS_OK and r["eff_response_type"]]
    return PaperAnswers(rows, wilson(sum(map(is_refusal, judged)), len(judged)))
