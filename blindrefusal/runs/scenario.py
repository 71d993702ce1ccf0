"""A user-composed scenario and its validation. Only `user_query` is ever sent to a model."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from blindrefusal.paper import taxonomy
from vocabulary import CONTROL, BlindRefusalError

LIMITS = {"rule": 1_000, "defeat_condition": 2_000, "user_query": 4_000, "fact": 500, "facts": 20}
# C0/C1 controls, zero-width and bidi controls, and lone surrogates (which cannot be stored as UTF-8).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


class ScenarioError(BlindRefusalError):
    """Raised with every problem found, as a list of user-facing messages."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def clean_text(value) -> str:
    """Strip control and bidi-override characters and surrounding whitespace; whitespace-only becomes empty."""
    if value is None:
        return ""
    text = re.sub(r"\r\n?", "\n", _CONTROL.sub("", str(value)))
    return unicodedata.normalize("NFC", text).strip()


@dataclass
class Scenario:
    authority_type: str
    defeat_family: str
    defeat_subtype: str
    rule: str
    defeat_condition: str
    user_query: str
    structural_facts: list[str] = field(default_factory=list)
    paper_case_id: str | None = None  # set when it started from (and still equals) a paper case

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    def content_key(self) -> str:
        """A stable id for the scenario's content (used for custom case keys and permalinks)."""
        d = asdict(self)
        d.pop("paper_case_id")
        return "custom-" + hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]

    def case_row(self) -> dict:
        return {
            "key": self.content_key(), "source": "custom", "family": self.defeat_family, "subtype": self.defeat_subtype,
            "subtype_raw": self.defeat_subtype, "authority_type": self.authority_type,
            "authority_group": taxonomy.authority_group_of(self.authority_type) or taxonomy.UNMAPPED,
            "rule": self.rule, "defeat_condition": self.defeat_condition, "structural_facts": self.structural_facts,
            "user_query": self.user_query, "dual_use": False, "dimensions": {},
        }


def validate(raw: dict) -> Scenario:
    """Build a Scenario from untrusted input or raise ScenarioError listing every problem."""
    if not isinstance(raw, dict):
        raise ScenarioError(["The scenario must be a JSON object."])
    problems: list[str] = []
    names = {"authority_type": "The authority type", "defeat_family": "The defeat family",
             "defeat_subtype": "The defeat subtype", "rule": "The rule", "defeat_condition": "The defeat condition",
             "user_query": "The user query", "paper_case_id": "The paper case id"}
    mistyped = {k for k in names if raw.get(k) is not None and not isinstance(raw[k], str)}
    problems += [f"{names[k]} must be text, not {type(raw[k]).__name__}." for k in names if k in mistyped]
    raw = {k: (None if k in mistyped else v) for k, v in raw.items()}
    authority = clean_text(raw.get("authority_type"))
    family = clean_text(raw.get("defeat_family"))
    subtype = clean_text(raw.get("defeat_subtype"))
    if authority not in taxonomy.authority_types():
        problems.append("Pick an authority type." if not authority else f"Unknown authority type {authority[:40]!r}.")
    if family not in taxonomy.FAMILIES:
        problems.append("Pick a defeat family." if not family else f"Unknown defeat family {family[:40]!r}.")
    elif family == CONTROL:
        subtype = taxonomy.CONTROL_SUBTYPE
    elif subtype not in taxonomy.subtypes(family):
        problems.append("Pick a defeat subtype." if not subtype else
                        f"{subtype[:40]!r} is not a subtype of {taxonomy.family_label(family)}.")
    texts = {k: clean_text(raw.get(k)) for k in ("rule", "defeat_condition", "user_query")}
    for k, v in texts.items():
        if k in mistyped:
            continue
        if not v and (k != "defeat_condition" or family != CONTROL):
            problems.append(f"{names[k]} is required.")
        elif len(v) > LIMITS[k]:
            problems.append(f"{names[k]} is {len(v):,} characters; the limit is {LIMITS[k]:,}.")
    facts_raw = raw.get("structural_facts") or []
    if isinstance(facts_raw, str):
        facts_raw = facts_raw.splitlines()
    if not isinstance(facts_raw, list):
        problems.append("Structural facts must be a list of short statements.")
        facts_raw = []
    if any(isinstance(x, (list, dict)) for x in facts_raw):
        problems.append("Each structural fact must be a short statement, not a list or an object.")
        facts_raw = [x for x in facts_raw if not isinstance(x, (list, dict))]
    facts = [f for f in (clean_text(x) for x in facts_raw) if f]
    if len(facts) > LIMITS["facts"]:
        problems.append(f"{len(facts)} facts given; the limit is {LIMITS['facts']}.")
    long_facts = [i + 1 for i, f in enumerate(facts) if len(f) > LIMITS["fact"]]
    if long_facts:
        problems.append(f"Fact {long_facts[0]} is longer than {LIMITS['fact']} characters.")
    if problems:
        raise ScenarioError(problems)
    paper_id = clean_text(raw.get("paper_case_id")) or None
    return Scenario(authority_type=authority, defeat_family=family, defeat_subtype=subtype, rule=texts["rule"],
                    defeat_condition=texts["defeat_condition"], user_query=texts["user_query"],
                    structural_facts=facts, paper_case_id=paper_id)


def control_twin(raw: dict, defeated: Scenario) -> Scenario:
    """The control twin of `defeated`: a just, fairly applied version of the rule under the same authority.

    `raw` holds the twin's own texts (rule, optional defeat condition, facts, user query, paper case id);
    its authority is the defeated scenario's and its family is control, whatever `raw` says. Problems are
    reported like `validate`'s, each marked as the control's."""
    if not isinstance(raw, dict):
        raise ScenarioError(["Control: the scenario must be a JSON object."])
    try:
        return validate({**raw, "authority_type": defeated.authority_type, "defeat_family": CONTROL,
                         "defeat_subtype": taxonomy.CONTROL_SUBTYPE})
    except ScenarioError as exc:
        raise ScenarioError([f"Control: {p}" for p in exc.problems]) from None


def examples() -> list[dict]:
    """The app's own example scenarios (data/scenarios.json), ready for the composer."""
    from blindrefusal.config import DATA_DIR

    with open(DATA_DIR / "scenarios.json", encoding="utf-8") as fh:
        return json.load(fh)["scenarios"]


def from_case(case: Mapping[str, Any]) -> dict:
    """A composer-ready dict from a stored case (paper or custom)."""
    return {"authority_type": case["authority_type"], "defeat_family": case["family"],
            "defeat_subtype": case["subtype"], "rule": case.get("rule", ""),
            "defeat_condition": case.get("defeat_condition", ""),
            "structural_facts": list(case.get("structural_facts") or []), "user_query": case.get("user_query", ""),
            "paper_case_id": case["key"] if case.get("source") == "paper" else None}
