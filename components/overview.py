"""Home's numbers and figures, built once per version of the data and shared by every visitor (`shared_view`):
the paper's headline rates, its models and families as figures, and the spot-checked models placed among the
paper's. A finished spot-check's placement is computed once per change to that run (its own answers, labels
and bridge); a running one shows its progress, never statistics recomputed per visitor."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import pyarrow as pa

from blindrefusal.analysis.rates import RateSet, help_gap, rates
from blindrefusal.analysis.stats import Diff
from blindrefusal.evals.spotcheck import results as spot_check_results
from blindrefusal.exports.figures import PlanePoint, tradeoff_plane
from blindrefusal.exports.inert import md_inline
from blindrefusal.paper import taxonomy
from components import charts
from components.badges import LABEL_COLORS, model_name, model_tick
from components.resources import reads as q
from components.resources import shared_view, shared_view_when_ready
from vocabulary import EFFECTIVE, HELPS

COMPARED_UNDER = {"paper_judge": "GPT-5.4 (one judge)", "same_judge": "one judge (bridged)",
                  "mixed_judges": "mixed judges"}


@dataclass(frozen=True)
class PaperOverview:
    defeated: RateSet
    control: RateSet
    gap: Diff
    models: go.Figure  # the paper's models on defeated rules, stacked labels
    families: go.Figure  # help rate by defeat family, with the control baseline
    plane: go.Figure  # the paper's configurations: help on just rules against help on defeated rules


def _paper_overview(engine, view: str | None) -> PaperOverview:
    paper = q.Filters(sources=["paper"])
    totals = q.totals(engine, paper, view)
    by_model = q.aggregate(engine, ["model"], q.Filters(sources=["paper"],
                                                        families=list(taxonomy.DEFEATED_FAMILIES)), view)
    rows = sorted(((model_tick(r["model"]), rates(r["counts"])) for r in by_model),
                  key=lambda x: -(x[1].helps.rate or 0))
    models = charts.stacked_label_bars(rows, "The paper's models on all its defeated cases, sorted by help rate; "
                                             "hover for n and 95% intervals")
    fam = q.by_dimension(engine, "family", paper, view)
    items = [(taxonomy.family_label(f), rates(fam[f]["defeated"]).helps, LABEL_COLORS[HELPS])
             for f in taxonomy.DEFEATED_FAMILIES if f in fam]
    base = rates(fam["control"]["control"]).helps if "control" in fam else None
    families = charts.rate_bars(items, "Help rate on defeated rules, with the control baseline", base,
                                "control help rate")
    on_control = {r["model"]: rates(r["counts"]).helps for r in q.aggregate(
        engine, ["model"], q.Filters(sources=["paper"], families=["control"]), view)}
    plane = tradeoff_plane([PlanePoint(r["model"], on_control[r["model"]], rates(r["counts"]).helps, reference=True)
                            for r in by_model if r["model"] in on_control],
                           "The paper's 18 configurations: help on just rules against help on defeated rules")
    return PaperOverview(rates(totals["defeated"]), rates(totals["control"]),
                         help_gap(totals["defeated"], totals["control"]), models, families, plane)


def paper_overview(engine, view: str | None) -> PaperOverview:
    """The paper's numbers as published (`view` None), or with our reviewers' corrections (EFFECTIVE)."""
    return shared_view(engine, "labels" if view == EFFECTIVE else "paper", _paper_overview, view)


def _placement(engine, run_id: int) -> dict[str, object]:
    res = spot_check_results(engine, run_id)
    side = res.placed
    paper = [r.rate for r in side.rates.values() if r.rate is not None]
    return {"run": run_id, "model": model_name(res.model), "judge": res.judge,
            "help rate (defeated, weighted to the release)": res.defeated.helps.fmt(),
            "paper models, same cases and judge": "—" if not paper
            else f"{min(paper) * 100:.1f}–{max(paper) * 100:.1f}%",
            "rank": "—" if side.rank.lo is None else f"{side.rank.text()} of {side.rank.of}",
            "compared under": COMPARED_UNDER[res.comparison]}


@dataclass
class SpotCheckLines:
    """Home's spot-checks: the finished ones placed among the paper's models (a table, or None), and a line per
    running one and per finished one whose placement is still being computed (`pending`)."""

    placed: pa.Table | None
    lines: list[str]  # markdown, its model names made inert
    pending: bool


def spot_check_overview(engine, limit: int = 5) -> SpotCheckLines:
    """The latest spot-checks for Home. The list of runs is read once per write to the store for every visitor; a
    finished run's placement once per run, in the background, so that no visitor waits for it as the run ends."""
    placed: list[tuple[int, tuple]] = []  # (run, version) of each finished run whose placement is built
    lines: list[str] = []
    pending = False
    for run in shared_view(engine, "all", _latest_spot_checks, limit):
        params = run["params"]
        model = md_inline(model_name(params.get("model", "?")))  # a typed model name is a visitor's text
        if run["status"] == "running":
            lines.append(f"Run {run['id']} ({model}) is running: {run['n_responses']:,} of {params.get('n', '?')} "
                         f"cases answered, {run['n_judged']:,} judged. Its placement shows here when it ends.")
            continue
        placement = shared_view_when_ready(engine, "paper", _placement, run["id"], version=run["version"])
        if placement is None:
            pending = True
            lines.append(f"Run {run['id']} ({model}) has ended: its placement among the paper's models is being "
                         "computed, and shows here in a moment.")
        else:
            placed.append((run["id"], run["version"]))
    return SpotCheckLines(shared_view(engine, "paper", _placed_table, tuple(placed)) if placed else None, lines,
                          pending)


def _placed_table(engine, placed: tuple[tuple[int, tuple], ...]) -> pa.Table:
    """The built placements of these runs as one table: once per set of placements, not once per visitor."""
    return pa.Table.from_pylist([shared_view(engine, "paper", _placement, run_id, version=version)
                                 for run_id, version in placed])


def _latest_spot_checks(engine, limit: int) -> list[dict]:
    """The latest spot-checks, each with the version of what its findings read (db.versions.run_version)."""
    return [{**run, "version": q.run_version(engine, run["id"], run["params"].get("judge"))}
            for run in q.runs(engine, kinds=("spot_check",), limit=limit)]
