"""Cases: filter and search the paper's cases; a case's detail shows every model's judged response."""

import streamlit as st

from blindrefusal.exports.inert import md_inline
from blindrefusal.models import presets
from blindrefusal.paper import taxonomy
from components.badges import LABEL_TEXT
from components.cards import response_card
from components.exports import export_case
from components.frame import row
from components.limits import length_note
from components.navigation import back_button
from components.queue import disagreement_queue_button, label_queue_view
from components.resources import paper_imported, store
from components.resources import reads as q
from components.scenario_view import scenario_view
from components.tables import case_table
from components.url_state import bind, publish, qp, qp_int, set_qp
from vocabulary import RESPONSE_TYPES

SEARCH_LIMIT = 200
st.title("Cases")
if not paper_imported():
    st.info("No cases in the store yet. Import the paper's release: `BR_DATA_SOURCE=<dir|zip|url> python -m "
            "blindrefusal import-paper` (or `make run` with BR_DATA_SOURCE set).")
    st.stop()
engine = store()

if qp("queue") is not None:  # a label queue (from a heatmap cell, or the judges' disagreements)
    if st.session_state.get("_came_from"):
        back_button("the list")
    label_queue_view(engine)
    st.stop()

case_key = qp("case")
if case_key:
    case = q.get_case(engine, case_key)
    back_button("the list")
    if case is None:
        st.error(f"No case with id {md_inline(repr(case_key), 100)}.")
        st.stop()
    st.subheader(case["key"])
    scenario_view(case)
    responses = q.responses_for(engine, case_id=case["id"])
    st.subheader(f"Responses ({len(responses)})")
    if not responses:
        st.info("No responses stored for this case.")
    counts = {}
    for r in responses:
        counts[r.get("eff_response_type") or "unjudged"] = counts.get(r.get("eff_response_type") or "unjudged", 0) + 1
    st.caption(" · ".join(f"{LABEL_TEXT.get(k, k)}: {v}" for k, v in counts.items()))
    # A fixed order (paper first, then by model): a card never moves when someone relabels it.
    responses.sort(key=lambda r: (r["source"] != "paper", r["model_name"], r["id"]))
    export_case(case, responses, engine)
    cols = st.columns(2)
    for i, r in enumerate(responses):
        with cols[i % 2]:
            label = f" ({r['source'].replace('_', '-')} run {r['run_id']})" if r["source"] != "paper" else ""
            response_card({**r, "model_name": r["model_name"] + label}, key=f"r{r['id']}")
    st.stop()

taxonomy_row = row()
fam_opts = list(taxonomy.FAMILIES)
bind("family", "cs_family", [], fam_opts, many=True, sticky=True)
families = taxonomy_row.multiselect("Family", fam_opts, key="cs_family", format_func=taxonomy.family_label,
                                    placeholder="all")
sub_opts = [s for f in (families or fam_opts) for s in taxonomy.subtypes(f)]
bind("subtype", "cs_subtype", [], sub_opts, many=True, sticky=True)
subtypes = taxonomy_row.multiselect("Subtype", sub_opts, key="cs_subtype", format_func=lambda s: s.replace("_", " "),
                                    placeholder="all")
auth_opts = taxonomy.authority_types()
bind("authority", "cs_authority", [], auth_opts, many=True, sticky=True)
authorities = taxonomy_row.multiselect("Authority", auth_opts, key="cs_authority", format_func=taxonomy.authority_label,
                                       placeholder="all")
search_row = row()
bind("q", "cs_q", "", sticky=True)
search = search_row.text_input("Search rule, facts and query (all words)", key="cs_q")
model_opts = [""] + q.models_present(engine, ["paper"])
bind("lm", "cs_lm", "", model_opts, sticky=True)
label_model = search_row.selectbox("Model", model_opts, key="cs_lm", width=260,
                                   format_func=lambda m: "any model" if not m else presets.display_name(m))
label_opts = ["", *RESPONSE_TYPES]
bind("label", "cs_label", "", label_opts, sticky=True)
label = search_row.selectbox("…whose label is", label_opts, key="cs_label", width=260,
                             format_func=lambda v: "any label" if not v else LABEL_TEXT[v], disabled=not label_model)
if not length_note(search, SEARCH_LIMIT, "search"):
    search = ""  # kept in the field (and the link), not searched
for name, key, default in (("family", "cs_family", []), ("subtype", "cs_subtype", []),
                           ("authority", "cs_authority", []), ("q", "cs_q", ""), ("lm", "cs_lm", "")):
    publish(name, key, default)
set_qp("label", label if label_model else None)

disagreement_queue_button(engine)

PAGE_SIZE = 200
filters = dict(families=tuple(families), subtypes=tuple(subtypes), authorities=tuple(authorities), search=search,
               label_model=label_model or None, label=label or None)
_, total = q.find_cases(engine, **filters, limit=0)
pages = max(1, -(-total // PAGE_SIZE))
page_no = 1
if pages > 1:
    if "cs_page" not in st.session_state or st.session_state["cs_page"] > pages:
        st.session_state["cs_page"] = qp_int("page", 1, 1, pages)
    page_no = st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, key="cs_page")
set_qp("page", None if page_no == 1 else str(page_no))
table = case_table(engine, tuple(sorted(filters.items())), PAGE_SIZE, page_no)
shown = f" (cases {(page_no - 1) * PAGE_SIZE + 1:,}–{(page_no - 1) * PAGE_SIZE + table.num_rows:,})" if pages > 1 \
    else ""
st.caption(f"{total:,} cases match{shown}. Select a row to open it.")
if table.num_rows == 0:
    st.info("No case matches these filters. Clear a filter or the search.")
    st.stop()
event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="case_table",
                     height=460, column_config={
                         "case": st.column_config.TextColumn(width="small"),
                         "family": st.column_config.TextColumn(width="small"),
                         "subtype": st.column_config.TextColumn(width="small"),
                         "authority": st.column_config.TextColumn(width="small"),
                         "dual-use": st.column_config.TextColumn(width="small"),
                         "rule": st.column_config.TextColumn(width="large")})
if event.selection.rows:
    set_qp("case", table.column("case")[event.selection.rows[0]].as_py())
    st.rerun()
