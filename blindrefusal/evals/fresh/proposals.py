"""Reading what the authors' generator returns: a JSON array of cases in the release's case shape, each checked
(the same fields, the cell it was asked for, a query of 30 to 300 words, coded dimensions from the taxonomy)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from blindrefusal.paper import taxonomy
from vocabulary import CONTROL

MIN_QUERY_WORDS, MAX_QUERY_WORDS = 30, 300  # the authors' bounds on a case's query
MAX_FIELD_CHARS = 5_000  # any one text field; a longer one is a malformed case, not stored
TEXT_FIELDS = ("unjust_policy", "defeat_condition", "user_query", "defeat_subtype")


class GeneratorOutputError(ValueError):
    """The generator's output holds no readable list of cases; the message says why."""


@dataclass
class Candidate:
    """One case the generator proposed: the case as the store would keep it, or the problem that rules it out."""

    index: int
    proposed: dict  # what the generator wrote (as parsed)
    case: dict | None = None  # store row dict (key, family, subtype, …) when the shape is right
    problem: str | None = None
    gates: dict = field(default_factory=dict)  # gate name -> GateVerdict.as_dict()

    @property
    def valid(self) -> bool:
        return self.case is not None


def _array(raw: str) -> list:
    text = (raw or "").strip()
    if not text:
        raise GeneratorOutputError("the generator returned nothing")
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1).strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("["), text.rfind("]")
        try:
            value = json.loads(text[start:end + 1]) if 0 <= start < end else None
        except json.JSONDecodeError as exc:
            raise GeneratorOutputError(f"the generator's output is not valid JSON ({exc.msg})") from None
        if value is None:
            raise GeneratorOutputError("the generator's output holds no JSON array of cases") from None
    if isinstance(value, dict):  # JSON mode wraps an array in an object: {"cases": [...]}
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else [value] if "user_query" in value else None
    if not isinstance(value, list) or not value:
        raise GeneratorOutputError("the generator's output holds no JSON array of cases")
    return value


def case_key(family: str, authority_type: str, user_query: str) -> str:
    """A generated case's name: the same case text in the same cell is the same case (a rerun adds no copy)."""
    digest = hashlib.sha256(f"{family}\x1f{authority_type}\x1f{user_query}".encode()).hexdigest()[:16]
    return f"gen-{digest}"


def _check(obj: dict, family: str, authority_type: str) -> tuple[dict | None, str | None]:
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    for name in TEXT_FIELDS:
        value = obj.get(name)
        if not isinstance(value, str) or not value.strip():
            return None, f"{name} is missing or empty"
        if len(value) > MAX_FIELD_CHARS:
            return None, f"{name} is longer than {MAX_FIELD_CHARS:,} characters"
    if obj.get("defeat_type") != family:
        return None, f"defeat_type is {str(obj.get('defeat_type'))[:40]!r}, not the cell's {family!r}"
    if obj.get("authority_type") != authority_type:
        return None, f"authority_type is {str(obj.get('authority_type'))[:40]!r}, not the cell's {authority_type!r}"
    words = len(obj["user_query"].split())
    if not MIN_QUERY_WORDS <= words <= MAX_QUERY_WORDS:
        return None, f"user_query has {words} words (the authors' bounds: {MIN_QUERY_WORDS}–{MAX_QUERY_WORDS})"
    facts = obj.get("structural_facts")
    if not isinstance(facts, list) or not facts or not all(isinstance(f, str) and f.strip() for f in facts):
        return None, "structural_facts is not a list of facts"
    subtype = taxonomy.canonical_subtype(family, obj["defeat_subtype"])
    if subtype == taxonomy.UNMAPPED:
        return None, f"defeat_subtype {obj['defeat_subtype'][:60]!r} is not a subtype of {family}"
    coding = obj.get("dimensional_coding")
    if not isinstance(coding, dict):
        return None, "dimensional_coding is missing"
    for dim, allowed in taxonomy.secondary_dimensions().items():
        if coding.get(dim) not in allowed:
            return None, f"dimensional_coding.{dim} is {str(coding.get(dim))[:40]!r}, not one of the taxonomy's values"
    return {
        "key": case_key(family, authority_type, obj["user_query"]), "family": family, "subtype": subtype,
        "subtype_raw": obj["defeat_subtype"] if family != CONTROL else "", "authority_type": authority_type,
        "authority_group": taxonomy.normalise_group(obj.get("authority_group"), authority_type),
        "rule": obj["unjust_policy"], "defeat_condition": obj["defeat_condition"],
        "structural_facts": [f[:MAX_FIELD_CHARS] for f in facts[:50]], "user_query": obj["user_query"],
        "dimensions": {dim: coding[dim] for dim in taxonomy.secondary_dimensions()},
    }, None


def read_candidates(raw: str, family: str, authority_type: str) -> list[Candidate]:
    """Every case in the generator's output, each with its store row or its problem. Raises GeneratorOutputError
    when the output holds no list of cases at all."""
    out = []
    for i, obj in enumerate(_array(raw)):
        case, problem = _check(obj, family, authority_type)
        out.append(Candidate(index=i, proposed=obj if isinstance(obj, dict) else {"value": obj}, case=case,
                             problem=problem))
    return out


def case_json(case: dict) -> str:
    """A stored case in the release's shape, as the gates read it. Backticks are written as JSON escapes, so the
    text can sit inside the gate prompt's code block without closing it."""
    shaped = {
        "id": case["key"], "defeat_type": case["family"], "defeat_subtype": case.get("subtype_raw") or case["subtype"],
        "authority_type": case["authority_type"], "authority_group": case["authority_group"],
        "unjust_policy": case["rule"], "defeat_condition": case["defeat_condition"],
        "structural_facts": case["structural_facts"], "user_query": case["user_query"],
        "dimensional_coding": case["dimensions"],
    }
    return json.dumps(shaped, indent=2, ensure_ascii=False).replace("`", "\\u0060")
