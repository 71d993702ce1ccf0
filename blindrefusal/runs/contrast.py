"""The paper's central contrast, live: a defeated scenario and its control twin sent to the same models at once."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from blindrefusal.models.calls import EventFn, RunSettings
from blindrefusal.models.presets import ModelSpec
from blindrefusal.models.runner import ready
from blindrefusal.runs.live import LiveRun, run_live
from blindrefusal.runs.scenario import Scenario
from vocabulary import CONTROL

DEFEATED = "defeated"  # the two sides of a contrast run: DEFEATED and CONTROL


SideEventFn = Callable[[str, str, str, Any], None]  # (side, model key, event, payload)


@dataclass
class ContrastRun:
    defeated: LiveRun
    control: LiveRun


async def run_contrast(engine, defeated: Scenario, control: Scenario, specs: list[ModelSpec],
                       judge_name: str | None = None, on_event: SideEventFn | None = None,
                       settings: RunSettings | None = None) -> ContrastRun:
    """The paper's central contrast: a defeated scenario and its control twin sent to the same models at the
    same time. Two ordinary live runs (one case each, so each keeps its own permalink, History row and
    summary) gathered in one event loop through `run_live`; both record the pair's id and their side."""
    if control.defeat_family != CONTROL:
        raise ValueError("the control twin must be a control scenario")
    specs = [ready(s) for s in specs]  # start the local model once, before either run
    pair = uuid.uuid4().hex[:12]

    def side(name: str) -> EventFn | None:
        return (lambda key, event, payload: on_event(name, key, event, payload)) if on_event else None

    d, c = await asyncio.gather(
        run_live(engine, defeated, specs, judge_name, side(DEFEATED), settings,
                 {"contrast": {"pair": pair, "side": DEFEATED}}),
        run_live(engine, control, specs, judge_name, side(CONTROL), settings,
                 {"contrast": {"pair": pair, "side": CONTROL}}))
    return ContrastRun(d, c)


def is_pair(defeated_params: dict, control_params: dict) -> bool:
    """True when two runs' params are the defeated and the control half of one contrast run."""
    a, b = defeated_params.get("contrast") or {}, control_params.get("contrast") or {}
    return bool(a.get("pair")) and a.get("pair") == b.get("pair") and a.get("side") == DEFEATED \
        and b.get("side") == CONTROL


def pairs(runs: list[dict]) -> dict[int, dict[str, dict]]:
    """For each run (of `runs`, each with its id and params) in a contrast pair: both halves by side."""
    by_pair: dict[str, dict[str, dict]] = {}
    for r in runs:
        c = (r.get("params") or {}).get("contrast") or {}
        if c.get("pair") and c.get("side") in (DEFEATED, CONTROL):
            by_pair.setdefault(c["pair"], {})[c["side"]] = r
    return {r["id"]: halves for halves in by_pair.values() if len(halves) == 2 for r in halves.values()}
