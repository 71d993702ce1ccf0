"""Dimension names, their readable labels and the natural order of their values."""

from __future__ import annotations

from blindrefusal.models import presets
from blindrefusal.paper import taxonomy
from blindrefusal.store import DIMENSIONS

DIM_LABELS = {
    "model": "Model", "family": "Defeat family", "subtype": "Defeat subtype", "authority": "Authority type",
    "authority_group": "Authority group", "source": "Source", "dual_use": "Dual-use",
    **{d: d.replace("_", " ").capitalize() + " (secondary)" for d in taxonomy.secondary_dimensions()},
}
GRID_DIMS = [d for d in DIM_LABELS if d in DIMENSIONS and d not in ("source", "dual_use")]
SUMMARY_DIMS = ("model", "family", "subtype", "authority", "authority_group")  # what data/paper_summary.csv holds


def value_label(dim: str, value) -> str:
    v = str(value)
    if dim == "model":
        return presets.display_name(v)
    if dim in ("family", "authority", "authority_group"):
        return taxonomy.label(v)
    return v.replace("_", " ")


def value_order(dim: str, values) -> list[str]:
    values = [str(v) for v in values]
    if dim == "family":
        ref = list(taxonomy.FAMILIES)
    elif dim == "subtype":
        ref = taxonomy.all_subtypes()
    elif dim == "authority":
        ref = taxonomy.authority_types()
    elif dim == "authority_group":
        ref = list(taxonomy.authority_groups())
    elif dim in taxonomy.secondary_dimensions():
        ref = taxonomy.secondary_dimensions()[dim]
    else:
        return sorted(set(values), key=lambda v: value_label(dim, v))
    known = [v for v in ref if v in values]
    return known + sorted(set(values) - set(known))
