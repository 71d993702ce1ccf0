"""Stratified samples of the paper's cases across family × authority cells (control included)."""

from __future__ import annotations

import random
from typing import Any, Mapping, Sequence, TypeVar

from blindrefusal.paper.taxonomy import FAMILIES

Case = TypeVar("Case", bound=Mapping[str, Any])  # a stored case, or any mapping with its key, family and authority


def eligible_cases(cases: Sequence[Case], exclude_dual_use: bool = False, families: Sequence[str] | None = None,
                   authorities: Sequence[str] | None = None) -> list[Case]:
    """The population a sample with these filters is drawn from (and claims to stand for), by key."""
    return sorted((c for c in cases
                   if (not exclude_dual_use or not c.get("dual_use"))
                   and (not families or c["family"] in families)
                   and (not authorities or c["authority_type"] in authorities)), key=lambda c: c["key"])


def _cells_by_family(cells, rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """Cells grouped by family in the release's family order, in a seeded order within each family."""
    per_family: dict[str, list[tuple[str, str]]] = {}
    for cell in sorted(cells):
        per_family.setdefault(cell[0], []).append(cell)
    for cell_list in per_family.values():
        rng.shuffle(cell_list)
    order = [f for f in FAMILIES if f in per_family] + sorted(set(per_family) - set(FAMILIES))
    return {f: per_family[f] for f in order}


def _proportional_take(cells: dict[tuple[str, str], list[str]], n: int, rng: random.Random) -> dict:
    """Cases per cell: the whole part of n × the cell's share, and the fractions by systematic sampling along the
    cells in family order (random start), so that every case has inclusion probability n / N and each family
    gets its own quota to within one case."""
    total = sum(len(v) for v in cells.values())
    quotas = {k: n * len(v) / total for k, v in cells.items()} if total else {}
    take = {k: int(q) for k, q in quotas.items()}
    point, cumulative = rng.random() * 0.999999, 0.0  # below 1, so float error never drops the last pick
    for cell in (c for group in _cells_by_family(cells, rng).values() for c in group):
        cumulative += quotas[cell] - take[cell]
        if cumulative > point:
            take[cell] += 1
            point += 1.0
    return take


def stratified_sample(cases: Sequence[Mapping[str, Any]], n: int, seed: int = 0, allocation: str = "proportional",
                      exclude_dual_use: bool = False, families: Sequence[str] | None = None,
                      authorities: Sequence[str] | None = None) -> list[str]:
    """Case keys, deterministic for a seed.

    equal: cells take turns (families interleaved, so even a small sample covers control and every
    family), one case per turn, until n cases are drawn or the cells run dry.
    proportional: each cell gets n × its share of the eligible cases, the fractions drawn systematically (every
    case equally likely to be drawn; each family within one case of its share).
    """
    if allocation not in ("equal", "proportional"):
        raise ValueError("allocation must be 'equal' or 'proportional'")
    rng = random.Random(seed)
    eligible = eligible_cases(cases, exclude_dual_use, families, authorities)
    cells: dict[tuple[str, str], list[str]] = {}
    for c in eligible:
        cells.setdefault((c["family"], c["authority_type"]), []).append(c["key"])
    for keys in cells.values():
        rng.shuffle(keys)
    n = max(0, min(n, len(eligible)))
    if allocation == "proportional":
        take = _proportional_take(cells, n, rng)
        return sorted(key for cell, keys in cells.items() for key in keys[: take[cell]])
    per_family = _cells_by_family(cells, rng)
    order: list[tuple[str, str]] = []
    for i in range(max((len(v) for v in per_family.values()), default=0)):
        order += [cells_[i] for cells_ in per_family.values() if i < len(cells_)]
    picked: list[str] = []
    depth = 0
    while len(picked) < n:
        progressed = False
        for cell in order:
            if depth < len(cells[cell]) and len(picked) < n:
                picked.append(cells[cell][depth])
                progressed = True
        if not progressed:
            break
        depth += 1
    return sorted(picked)
