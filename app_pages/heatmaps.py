"""Heatmaps: any two dimensions × a metric, with intervals, thin-cell marks, drill-down and CSV download."""

import pandas as pd
import streamlit as st

from blindrefusal.analysis.clustered import CLUSTERED_DIFF_METHOD, CLUSTERED_METHOD
from blindrefusal.analysis.grid import build_cells
from blindrefusal.exports.html import Table
from blindrefusal.exports.inert import csv_bytes
from blindrefusal.exports.style import METRIC_NAMES as METRICS
from blindrefusal.paper import taxonomy
from components import charts
from components.badges import model_tick
from components.dims import DIM_LABELS, GRID_DIMS, SUMMARY_DIMS, value_label, value_order
from components.exports import export_view
from components.glossary import METRIC_TERMS, glossary_help
from components.navigation import came_from, restore_view
from components.queue import cell_queue_params
from components.resources import browse_engine
from components.resources import reads as q
from components.tables import cases_with_labels
from components.url_state import bind, publish, qp, qp_list
from vocabulary import CONTROL, EFFECTIVE

PAPER_VIEW = "(paper)"
VIEW_NAMES = {PAPER_VIEW: "The paper's labels (GPT-5.4), frozen", EFFECTIVE: "With our reviewers' corrections"}

engine, summary_only = browse_engine()
st.title("Heatmaps")
st.caption(f"Pick two dimensions and a metric. Every cell shows its rate; hover for n and the 95% interval — the "
           f"{CLUSTERED_METHOD}, since the models answer the same cases (the plain Wilson interval where each case "
           "gives one answer). Cells with fewer than 10 responses are outlined as thin.")
if summary_only:
    st.info("Showing the shipped summary (counts only): secondary dimensions and drill-down need the full release. "
            "It has no case ids either, so the intervals cluster by its cells (subtype × authority × dual use) and "
            "come out wider than on the release. Run `python -m blindrefusal import-paper`.")

restore_view("app_pages/heatmaps.py", foreign=("case",))
# The shipped summary holds counts by model, subtype, authority and dual-use only: offer what it can show.
dims = [d for d in GRID_DIMS if d in SUMMARY_DIMS] if summary_only else GRID_DIMS
c1, c2, c3 = st.columns(3)
bind("rows", "hm_rows", "model", dims, sticky=True)
row_dim = c1.selectbox("Rows", dims, key="hm_rows", format_func=DIM_LABELS.get)
col_choices = [d for d in dims if d != row_dim]
bind("cols", "hm_cols", "family" if row_dim != "family" else "authority", col_choices, sticky=True)
col_dim = c2.selectbox("Columns", col_choices, key="hm_cols", format_func=DIM_LABELS.get)
metric_keys = list(METRICS)
bind("metric", "hm_metric", "refusal", metric_keys, sticky=True)
metric = c3.selectbox("Metric", metric_keys, key="hm_metric", format_func=METRICS.get,
                      help=glossary_help(*METRIC_TERMS.values()))

with st.expander("Filters", expanded=bool(qp_list("model") or qp_list("family") or qp("dual") or qp_list("source"))):
    f1, f2, f3, f4 = st.columns(4)
    dual_opts = ["all", "exclude", "only"]
    bind("dual", "hm_dual", "all", dual_opts, sticky=True)
    dual = f1.radio("Dual-use cases", dual_opts, key="hm_dual", horizontal=True,
                    help="Dual-use: the knowledge needed is independently sensitive (the dataset's gate flag).")
    all_sources = sorted({r["source"] for r in q.aggregate(engine, ["source"])}) or ["paper"]
    bind("source", "hm_source", ["paper"], all_sources, many=True, sticky=True)
    sources = f2.multiselect("Source", all_sources, key="hm_source")
    fam_opts = list(taxonomy.FAMILIES)
    bind("family", "hm_family", [], fam_opts, many=True, sticky=True)
    families = f3.multiselect("Families", fam_opts, key="hm_family", format_func=taxonomy.family_label,
                              placeholder="all families")
    all_models = q.models_present(engine, sources or None)
    bind("model", "hm_model", [], all_models, many=True, sticky=True)
    models = f4.multiselect("Models", all_models, key="hm_model", format_func=lambda m: value_label("model", m),
                            placeholder="all models")
    judges = [PAPER_VIEW, EFFECTIVE] + q.judges_present(engine)
    bind("judge", "hm_judge", PAPER_VIEW, judges, sticky=True)
    judge = st.selectbox("Labels from", judges, key="hm_judge", format_func=lambda j: VIEW_NAMES.get(j, j),
                         help="Default: the paper's answers keep the release's GPT-5.4 labels (frozen) and live or "
                              "spot-check answers their run's judge. Or apply our reviewers' corrections "
                              "(human › LLM judge › distilled), or use one judge only.")

for name, key, default in (("rows", "hm_rows", "model"), ("cols", "hm_cols", None), ("metric", "hm_metric", "refusal"),
                           ("dual", "hm_dual", "all"), ("source", "hm_source", ["paper"]), ("family", "hm_family", []),
                           ("model", "hm_model", []), ("judge", "hm_judge", PAPER_VIEW)):
    publish(name, key, default)

fam_filter = list(families) or None
if metric == "gap":
    fam_filter = sorted(set(families or taxonomy.DEFEATED_FAMILIES) | {CONTROL})
filters = q.Filters(sources=sources or None, models=models or None, families=fam_filter,
                    dual_use={"all": None, "exclude": False, "only": True}[dual])
rows = q.aggregate(engine, [row_dim, col_dim], filters, None if judge == PAPER_VIEW else judge)
if metric == "gap" and {"family", "subtype"} & {row_dim, col_dim}:
    axis = DIM_LABELS["family" if "family" in (row_dim, col_dim) else "subtype"].lower()
    st.info("The help-rate gap compares each cell's defeated cases with the control cases of the same cell, so "
            f"it cannot have {axis} as an axis (control cases have a family and subtype of their own). Pick two "
            "other dimensions (e.g. Model × Authority group).")
    st.stop()
cells = build_cells(rows, row_dim, col_dim, metric)
if metric == "gap":
    cells = [c for c in cells if c.n_control and c.n]
if not cells:
    filtered = bool(models or families or sources != ["paper"] or dual != "all")
    st.info(("No cell has both defeated and control responses for these filters: widen them." if filtered else
             "No cell has both defeated and control responses for these two dimensions: pick others.")
            if metric == "gap" else
            "No judged responses match these filters. Widen the filters, or import the paper.")
    st.stop()

row_vals = value_order(row_dim, {c.row for c in cells})
col_vals = value_order(col_dim, {c.col for c in cells})
if row_dim == "model":  # models read best sorted by the metric
    means = {r: [c.value for c in cells if c.row == r and c.value is not None] for r in row_vals}
    row_vals.sort(key=lambda r: -(sum(means[r]) / len(means[r]) if means[r] else 0))
row_labels = {v: value_label(row_dim, v) for v in row_vals}
col_labels = {v: value_label(col_dim, v) for v in col_vals}
chart_rows = {v: model_tick(v) for v in row_vals} if row_dim == "model" else row_labels
chart_cols = {v: model_tick(v) for v in col_vals} if col_dim == "model" else col_labels

# A click on a cell (the chart's selection, read before the chart is drawn so the frame follows it) picks the
# cell for the drill-down below, as the two pickers do; a new click moves it, the pickers still work.
clicked = next((p.get("customdata") for p in ((st.session_state.get("hm_chart") or {}).get("selection") or {})
                .get("points", []) if len(p.get("customdata") or []) == 3), None)
if clicked is None:
    st.session_state.pop("_hm_clicked", None)
elif tuple(clicked[1:]) != st.session_state.get("_hm_clicked") and clicked[1] in row_vals and clicked[2] in col_vals:
    st.session_state["_hm_clicked"] = tuple(clicked[1:])
    st.session_state["hm_cell_r"], st.session_state["hm_cell_c"] = clicked[1], clicked[2]
framed = (st.session_state.get("hm_cell_r"), st.session_state.get("hm_cell_c"))
title = f"{METRICS[metric]} — {DIM_LABELS[row_dim]} × {DIM_LABELS[col_dim]}"
fig = charts.heatmap(cells, row_vals, col_vals, chart_rows, chart_cols, metric, title, picked=framed)
st.caption("Click a cell to list its cases below.")
st.plotly_chart(fig, key="hm_chart", on_select="rerun", selection_mode="points", width="content",
                config={"displaylogo": False})

grid = pd.DataFrame([{DIM_LABELS[row_dim]: row_labels.get(c.row, c.row), DIM_LABELS[col_dim]: col_labels.get(c.col, c.col),
                      row_dim + "_key": c.row, col_dim + "_key": c.col, "metric": metric, "value": c.value,
                      "ci_low": c.lo, "ci_high": c.hi, "n": c.n,
                      **({"n_control": c.n_control} if metric == "gap" else {"n_effective": c.n_eff})}
                     for c in cells])
whole = build_cells([{**r, "_all": ""} for r in q.aggregate(engine, [], filters, None if judge == PAPER_VIEW else judge)],
                    "_all", "_all", metric)  # its own query: the cells share cases, so their sums are not the grid's
settings = {"Rows": DIM_LABELS[row_dim], "Columns": DIM_LABELS[col_dim], "Metric": METRICS[metric],
            "Labels from": VIEW_NAMES.get(judge, judge), "Dual-use cases": dual, "Source": sources or ["paper"],
            "Families": [taxonomy.family_label(f) for f in families] or "all",
            "Models": [value_label("model", m) for m in models] or "all",
            "Whole grid": whole[0].fmt(metric) if whole and whole[0].value is not None else "—",
            "Cells": f"{len(cells):,}, n from {min(c.n for c in cells):,} to {max(c.n for c in cells):,} per cell "
                     f"({sum(c.thin for c in cells):,} thin, starred); each cell's 95% interval: in the HTML and CSV"}
stem = f"heatmap_{row_dim}_x_{col_dim}_{metric}"
e1, e2, e3, _ = st.columns([1, 1, 1, 2])
e1.download_button("Download grid (CSV)", csv_bytes(grid), f"{stem}.csv", "text/csv")
table = grid[[DIM_LABELS[row_dim], DIM_LABELS[col_dim]]].assign(**{
    f"{METRICS[metric]} (95% interval clustered by case), n"
    + (", control n" if metric == "gap" else ""): [c.fmt(metric) for c in cells],
    "thin (n < 10" + (" on either side)" if metric == "gap" else ")"): ["yes" if c.thin else "" for c in cells]})
export_view(e2, e3, stem, f"Blind Refusal Explorer — {title}", fig, settings,
            [Table(table, caption="Every cell with its n and 95% interval: "
                   f"{CLUSTERED_DIFF_METHOD if metric == 'gap' else CLUSTERED_METHOD}.")], engine)

st.subheader("Drill down into a cell")
p1, p2 = st.columns(2)
bind("cell_r", "hm_cell_r", "", [""] + row_vals, sticky=True)
cell_r = p1.selectbox(DIM_LABELS[row_dim], [""] + row_vals, key="hm_cell_r",
                      format_func=lambda v: "— pick —" if v == "" else row_labels.get(v, v))
bind("cell_c", "hm_cell_c", "", [""] + col_vals, sticky=True)
cell_c = p2.selectbox(DIM_LABELS[col_dim], [""] + col_vals, key="hm_cell_c",
                      format_func=lambda v: "— pick —" if v == "" else col_labels.get(v, v))
publish("cell_r", "hm_cell_r", "")
publish("cell_c", "hm_cell_c", "")
if cell_r and cell_c:
    cell = next((c for c in cells if c.row == cell_r and c.col == cell_c), None)
    if cell is not None and cell.value is not None:
        st.markdown(f"**{row_labels[cell_r]} × {col_labels[cell_c]}** — {METRICS[metric]}: {cell.fmt(metric)}")
    if summary_only:
        st.info("Drill-down needs the full release: run `python -m blindrefusal import-paper` "
                "(set BR_DATA_SOURCE to a directory, zip or URL of the release).")
    else:
        conds = {row_dim: cell_r, col_dim: cell_c}
        drill_filters = q.Filters(sources=filters.sources, models=filters.models, dual_use=filters.dual_use,
                                  families=list(families) or None)
        cases = q.cell_cases(engine, conds, drill_filters)
        st.caption(f"{len(cases)} cases in this cell; each column is one model's label. Select a row to open the case.")
        if st.button("Label this cell's responses one by one →", help="Opens a label queue on the Cases page: every "
                     "judged response in this cell, the next unlabelled one first, with your progress."):
            came_from("app_pages/heatmaps.py", "the heatmap")
            st.switch_page("app_pages/cases.py", query_params=cell_queue_params(
                row_dim, cell_r, col_dim, cell_c, drill_filters))
        picked = cases_with_labels(cases, key="cell_cases")
        if picked:
            came_from("app_pages/heatmaps.py", "the heatmap")
            st.switch_page("app_pages/cases.py", query_params={"case": picked})
else:
    st.caption("Click a cell in the heatmap, or pick a row and a column value, to list the cases in that cell.")
