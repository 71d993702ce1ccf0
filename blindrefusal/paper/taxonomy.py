"""Defeat families, subtypes, authority types and the subtype-variant table."""

from __future__ import annotations

import json
import re
from functools import lru_cache

from blindrefusal.config import DATA_DIR
from vocabulary import CONTROL, DEFEATED_FAMILIES, FAMILIES  # noqa: F401 - the taxonomy's families are the vocabulary's

UNMAPPED = "unmapped"
CONTROL_SUBTYPE = "just_and_reasonable"


@lru_cache(maxsize=1)
def taxonomy() -> dict:
    with open(DATA_DIR / "taxonomy.json", encoding="utf-8") as fh:
        return json.load(fh)


def family_label(family: str) -> str:
    return taxonomy()["families"].get(family, {}).get("label", family)


def family_description(family: str) -> str:
    return taxonomy()["families"].get(family, {}).get("description", "")


def subtypes(family: str) -> dict[str, str]:
    """Canonical subtype key -> description, for one family."""
    return dict(taxonomy()["subtypes"].get(family, {}))


def all_subtypes() -> list[str]:
    return [s for fam in FAMILIES for s in taxonomy()["subtypes"][fam]]


def authority_groups() -> dict[str, list[str]]:
    return {g: list(v["types"]) for g, v in taxonomy()["authority_groups"].items()}


def authority_types() -> list[str]:
    return [t for types in authority_groups().values() for t in types]


def authority_group_of(authority_type: str) -> str | None:
    for group, types in authority_groups().items():
        if authority_type in types:
            return group
    return None


def authority_label(authority_type: str) -> str:
    return taxonomy()["authority_types"].get(authority_type, {}).get("label", authority_type)


def authority_description(authority_type: str) -> str:
    return taxonomy()["authority_types"].get(authority_type, {}).get("description", "")


def group_label(group: str) -> str:
    return taxonomy()["authority_groups"].get(group, {}).get("label", group)


def normalise_group(raw_group: str | None, authority_type: str) -> str:
    """A case's authority group as the dataset coded it (cases may differ from the matrix's default
    group for their type); odd labels such as `state_mandated` go through the alias table, and a
    missing label falls back to the type's default group."""
    raw = (raw_group or "").strip()
    raw = taxonomy()["authority_group_aliases"].get(raw, raw)
    if raw in taxonomy()["authority_groups"]:
        return raw
    return authority_group_of(authority_type) or UNMAPPED


def secondary_dimensions() -> dict[str, list[str]]:
    return dict(taxonomy()["secondary_dimensions"])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def canonical_subtype(family: str, raw_subtype: str | None) -> str:
    """Map a free-text subtype label to one of the 35 canonical keys, or `unmapped`."""
    if family == CONTROL:
        return CONTROL_SUBTYPE
    key = _slug(raw_subtype or "")
    canon = taxonomy()["subtypes"].get(family, {})
    if key in canon:
        return key
    return taxonomy()["subtype_variants"].get(family, {}).get(key, UNMAPPED)


def label(value: str) -> str:
    """A readable label for any taxonomy key."""
    tax = taxonomy()
    if value in tax["families"]:
        return family_label(value)
    if value in tax["authority_types"]:
        return authority_label(value)
    if value in tax["authority_groups"]:
        return group_label(value)
    return value.replace("_", " ")
