"""Heatmaps: any two dimensions × a metric, with intervals, thin-cell marks, drill-down and CSV download."""

import streamlit as st

from blindrefusal.analysis.clustered import CLUSTERED_METHOD
from blindrefusal.exports.inert import csv_bytes, md_inline
from blindrefusal.exports.style import METRIC_NAMES as METRICS
from blindrefusal.paper import taxonomy
from components.dims import DIM_LABELS, GRID_DIMS, SUMMARY_DIMS, value_label
from components.exports import export_view
from components.frame import row, small
from components.glossary import METRIC_TERMS, glossary_help
from components.heatmap_view import PAPER_VIEW, VIEW_NAMES, HeatmapState, heatmap_figure, heatmap_view
from components.navigation import came_from, restore_view
from components.queue import cell_queue_params
from components.resources import browse_engine
from components.resources import reads as q
from components.tables import cases_with_labels
from components.url_state import bind, publish
from vocabulary import EFFECTIVE

engine, summary_only = browse_engine()
st.markdown("# Heatmaps\n\n" + small(
    "Pick two dimensions and a metric. Every cell shows its rate; hover for n and the 95% interval — the "
    f"{CLUSTERED_METHOD}, since the models answer the same cases (the plain Wilson interval where each case gives "
    "one answer). Cells with fewer than 10 cases (or 10 answers) are starred and outlined as thin: answers to one "
    "case are not independent, so a cell is worth about as much as its cases."))
if summary_only:
    st.info("Showing the shipped summary (counts only): secondary dimensions and drill-down need the full release. "
            "It has no case ids either, so the intervals cluster by its cells (subtype × authority × dual use) and "
            "come out wider than on the release. Run `python -m blindrefusal import-paper`.")

restore_view("app_pages/heatmaps.py", foreign=("case",))
# The shipped summary holds counts by model, subtype, authority and dual-use only: offer what it can show.
dims = [d for d in GRID_DIMS if d in SUMMARY_DIMS] if summary_only else GRID_DIMS
controls = row()
bind("rows", "hm_rows", "model", dims, sticky=True)
row_dim = controls.selectbox("Rows", dims, key="hm_rows", format_func=DIM_LABELS.get)
col_choices = [d for d in dims if d != row_dim]
default_cols = "family" if row_dim != "family" else "authority"
bind("cols", "hm_cols", default_cols, col_choices, sticky=True)
col_dim = controls.selectbox("Columns", col_choices, key="hm_cols", format_func=DIM_LABELS.get)
metric_keys = list(METRICS)
bind("metric", "hm_metric", "refusal", metric_keys, sticky=True)
metric = controls.selectbox("Metric", metric_keys, key="hm_metric", format_func=METRICS.get,
                            help=glossary_help(*METRIC_TERMS.values()))
judges = [PAPER_VIEW, EFFECTIVE] + q.judges_present(engine)
bind("judge", "hm_judge", PAPER_VIEW, judges, sticky=True)
judge = controls.selectbox("Labels from", judges, key="hm_judge", format_func=lambda j: VIEW_NAMES.get(j, j),
                           help="Default: the paper's answers keep the release's GPT-5.4 labels (frozen) and live "
                                "or spot-check answers their run's judge. Or apply our reviewers' corrections "
                                "(human › LLM judge › distilled), or use one judge only.")

# The filters hold their values (from the link, or this session) whether or not their widgets are drawn: the
# widgets are drawn only while the Filters box is open (four widgets fewer for each visitor of a plain link).
# While it is closed, a widget's leftover state is not the filter's value (Streamlit hands back an emptied one):
# bind takes it from the link, or from this session's copy.
FILTERS = (("dual", "hm_dual", "all"), ("source", "hm_source", ["paper"]), ("family", "hm_family", []),
           ("model", "hm_model", []))  # (link parameter, widget key, default)
FILTER_KEYS = tuple(key for _, key, _ in FILTERS)
if not st.session_state.get("hm_filters"):
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)
dual_opts = ["all", "exclude", "only"]
bind("dual", "hm_dual", "all", dual_opts, sticky=True)
all_sources = sorted({r["source"] for r in q.aggregate(engine, ["source"])}) or ["paper"]
bind("source", "hm_source", ["paper"], all_sources, many=True, sticky=True)
fam_opts = list(taxonomy.FAMILIES)
bind("family", "hm_family", [], fam_opts, many=True, sticky=True)
all_models = q.models_present(engine, st.session_state["hm_source"] or None)
bind("model", "hm_model", [], all_models, many=True, sticky=True)
filtered = any(st.session_state[key] != default for _, key, default in FILTERS)
if "hm_filters" not in st.session_state and filtered:
    st.session_state["hm_filters"] = True  # a link (or a return to the page) with filters shows them
filters_box = st.expander("Filters", key="hm_filters", on_change="rerun")
if filters_box.open:
    filters_row = filters_box.container(horizontal=True, gap="medium")
    filters_row.radio("Dual-use cases", dual_opts, key="hm_dual", horizontal=True,
                      help="Dual-use: the knowledge needed is independently sensitive (the dataset's gate flag).")
    filters_row.multiselect("Source", all_sources, key="hm_source")
    filters_row.multiselect("Families", fam_opts, key="hm_family", format_func=taxonomy.family_label,
                            placeholder="all families")
    filters_row.multiselect("Models", all_models, key="hm_model", format_func=lambda m: value_label("model", m),
                            placeholder="all models")
dual, sources, families, models = (st.session_state[key] for key in FILTER_KEYS)

for name, key, default in (("rows", "hm_rows", "model"), ("cols", "hm_cols", default_cols),
                           ("metric", "hm_metric", "refusal"), *FILTERS, ("judge", "hm_judge", PAPER_VIEW)):
    publish(name, key, default)

state = HeatmapState(row_dim, col_dim, metric, tuple(sources), tuple(models), tuple(families), dual, judge)
view = heatmap_view(engine, state)
if view.empty:
    st.info(view.empty)
    st.stop()
cells, row_vals, col_vals, row_labels, col_labels = view.cells, view.row_vals, view.col_vals, view.row_labels, \
    view.col_labels

# The drill-down's cell from the link, before the chart, so a shared link's cell is framed on it too.
bind("cell_r", "hm_cell_r", "", [""] + row_vals, sticky=True)
bind("cell_c", "hm_cell_c", "", [""] + col_vals, sticky=True)
# A click on a cell (the chart's selection, read before the chart is drawn so the frame follows it) picks the
# cell for the drill-down below, as the two pickers do; a new click moves it, the pickers still work.
clicked = next((p.get("customdata") for p in ((st.session_state.get("hm_chart") or {}).get("selection") or {})
                .get("points", []) if len(p.get("customdata") or []) == 3), None)
if clicked is None:
    st.session_state.pop("_hm_clicked", None)
elif tuple(clicked[1:]) != st.session_state.get("_hm_clicked") and clicked[1] in row_vals and clicked[2] in col_vals:
    st.session_state["_hm_clicked"] = tuple(clicked[1:])
    st.session_state["hm_cell_r"], st.session_state["hm_cell_c"] = clicked[1], clicked[2]
framed = (st.session_state.get("hm_cell_r") or "", st.session_state.get("hm_cell_c") or "")
fig = heatmap_figure(engine, state, framed if all(framed) else None)
st.caption("Click a cell to list its cases below.")
st.plotly_chart(fig, key="hm_chart", on_select="rerun", selection_mode="points", width="content",
                config={"displaylogo": False})

stem = f"heatmap_{row_dim}_x_{col_dim}_{metric}"
downloads = row()
downloads.download_button("Download grid (CSV)", lambda: csv_bytes(view.grid), f"{stem}.csv", "text/csv",
                          on_click="ignore")
export_view(downloads, stem, f"Blind Refusal Explorer — {view.title}", fig, view.settings, [view.table], engine)

st.subheader("Drill down into a cell")
pickers = row()
cell_r = pickers.selectbox(DIM_LABELS[row_dim], [""] + row_vals, key="hm_cell_r",
                           format_func=lambda v: "— pick —" if v == "" else row_labels.get(v, v))
cell_c = pickers.selectbox(DIM_LABELS[col_dim], [""] + col_vals, key="hm_cell_c",
                           format_func=lambda v: "— pick —" if v == "" else col_labels.get(v, v))
publish("cell_r", "hm_cell_r", "")
publish("cell_c", "hm_cell_c", "")
if cell_r and cell_c:
    cell = next((c for c in cells if c.row == cell_r and c.col == cell_c), None)
    if cell is not None and cell.value is not None:
        st.markdown(f"**{md_inline(row_labels[cell_r])} × {md_inline(col_labels[cell_c])}** — {METRICS[metric]}: "
                    f"{cell.fmt(metric)}" + (f", {cell.cases_text()}" if cell.cases is not None else "")
                    + (f" — **{cell.thin_reason()}**: read it as a handful of cases, not as a rate" if cell.thin
                       else ""))
    if summary_only:
        st.info("Drill-down needs the full release: run `python -m blindrefusal import-paper` "
                "(set BR_DATA_SOURCE to a directory, zip or URL of the release).")
    else:
        conds = {row_dim: cell_r, col_dim: cell_c}
        filters = state.filters()
        drill_filters = q.Filters(sources=filters.sources, models=filters.models, dual_use=filters.dual_use,
                                  families=list(families) or None)
        cases = q.cell_cases(engine, conds, drill_filters)
        st.caption(f"{len(cases)} case{'s' * (len(cases) != 1)} in this cell; each column is one model's label. "
                   "Select a row to open the case.")
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
