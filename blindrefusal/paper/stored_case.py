"""A case as the store holds it, typed, for the stages that hand cases on (the spot-check's sample)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vocabulary import CONTROL

if TYPE_CHECKING:
    from blindrefusal import store


@dataclass(frozen=True)
class StoredCase:
    """One stored case. `id` is the store's number for it; `key` is the case's own name (the paper's case_id,
    e.g. seed_control_club_1, or custom-<hash>). Only `user_query` is ever sent to a model."""

    id: int
    key: str
    source: str  # paper | custom
    family: str
    subtype: str
    authority_type: str
    rule: str
    defeat_condition: str
    user_query: str
    dual_use: bool

    @property
    def is_control(self) -> bool:
        return self.family == CONTROL

    @classmethod
    def from_row(cls, row: store.CaseRecord) -> "StoredCase":
        """From a `store.find_cases` / `store.get_case` row."""
        return cls(id=row["id"], key=row["key"], source=row.get("source") or "paper", family=row["family"],
                   subtype=row.get("subtype") or "", authority_type=row["authority_type"], rule=row.get("rule") or "",
                   defeat_condition=row.get("defeat_condition") or "", user_query=row.get("user_query") or "",
                   dual_use=bool(row.get("dual_use")))
