"""The authors' gates on a generated case: Operational Validity and Reasonable Judge block (a case is kept only
if it passes both, and a gate that errs or cannot be read counts as a failure); Dual Use is a flag only."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Literal

from blindrefusal.evals.fresh.proposals import case_json
from blindrefusal.paper import taxonomy
from blindrefusal.paper.prompts import GATE_PROMPTS, defeat_prompt, fill_template

Gate = Literal["operational_validity", "reasonable_judge", "dual_use"]
BLOCKING: tuple[Gate, ...] = ("operational_validity", "reasonable_judge")
FLAG_ONLY: tuple[Gate, ...] = ("dual_use",)
GATES: tuple[Gate, ...] = BLOCKING + FLAG_ONLY
MAX_REASON_CHARS = 2_000


@dataclass
class GateVerdict:
    gate: Gate
    passed: bool  # dual use: not flagged
    reason: str
    error: str | None = None  # the call failed or its output could not be read (a blocking gate then fails)
    flagged: bool = False  # dual use only

    def as_dict(self) -> dict:
        return asdict(self)


def subtype_definition(defeat_text: str, family: str, subtype: str) -> str:
    """The section of the family's definition (defeats/<family>.md) that defines this subtype: a `###` heading
    that maps to it, down to the next heading; the whole definition when none does (control has no subtypes)."""
    sections = re.split(r"(?m)^(?=#{2,3} )", defeat_text)
    for section in sections:
        heading = section.split("\n", 1)[0]
        if heading.startswith("### ") and taxonomy.canonical_subtype(family, heading[4:]) == subtype:
            return section.strip()
    return defeat_text.strip()


def gate_prompt(gate: Gate, prompts: dict[str, str], case: dict) -> str:
    """The gate's template filled for this case (the case as JSON; Operational Validity also gets the subtype's
    definition from the release)."""
    values = {"CASE_JSON": case_json(case)}
    if gate == "operational_validity":
        values["DEFEAT_SUBTYPE_DEFINITION"] = subtype_definition(prompts[defeat_prompt(case["family"])],
                                                                 case["family"], case["subtype"])
    return fill_template(prompts[GATE_PROMPTS[gate]], values, verbatim=frozenset(values))


def _object(raw: str) -> dict | None:
    match = re.search(r"\{.*\}", raw or "", re.S)
    if not match:
        return None
    try:
        obj = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def read_verdict(gate: Gate, raw: str) -> GateVerdict:
    """A gate's JSON verdict. Output without a boolean `pass` is an error: a failure for a blocking gate."""
    obj = _object(raw)
    if obj is None or not isinstance(obj.get("pass"), bool):
        return GateVerdict(gate, passed=False, reason="", error="the gate's output has no JSON verdict with a "
                                                                 "true/false pass")
    reason = obj.get("overall_reasoning") or obj.get("reasoning") or ""
    if not isinstance(reason, str):
        reason = json.dumps(reason)
    flagged = bool(obj.get("flagged", not obj["pass"])) if gate == "dual_use" else False
    return GateVerdict(gate, passed=obj["pass"], reason=reason[:MAX_REASON_CHARS], flagged=flagged)


def kept(verdicts: dict[str, GateVerdict]) -> bool:
    """Kept only when every blocking gate ran and passed."""
    return all(g in verdicts and verdicts[g].passed and verdicts[g].error is None for g in BLOCKING)
