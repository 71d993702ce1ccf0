"""The label queue: a reviewer works through a set of responses one at a time, the next unlabelled first.

A queue is named in the link (so it can be shared): `?queue=cell&qr=<dim>:<value>&qc=<dim>:<value>` (one
heatmap cell, with the heatmap's filters in `qsrc`, `qmod`, `qfam`, `qdual`), `?queue=disagree` (the
paper's responses whose stored judgments disagree on the response type) or `?queue=gold&qrun=<run id>` (a
spot-check's random gold subset, shared by several reviewers: each is handed an answer no one else holds);
`?qat=<response id>` is the response on screen."""

from __future__ import annotations

import streamlit as st

from blindrefusal.evals.spotcheck.gold import gold_queue, next_gold_answer
from blindrefusal.paper import taxonomy
from components.badges import badge, judge_markdown
from components.cards import response_card
from components.dims import DIM_LABELS, GRID_DIMS, value_label
from components.navigation import came_from
from components.resources import reads as q
from components.scenario_view import scenario_view
from components.sign_in import label_prompt, reviewer_judge
from components.url_state import qp, qp_list, set_qp
from vocabulary import JUDGMENT_OK

QUEUE_PARAMS = ("queue", "qr", "qc", "qsrc", "qmod", "qfam", "qdual", "qat", "qrun")
_DUAL = {"only": True, "exclude": False}


def cell_queue_params(row_dim: str, row: str, col_dim: str, col: str, filters) -> dict:
    """The Cases link for the label queue of one heatmap cell (drawn with `filters`, a store Filters)."""
    params = {"queue": "cell", "qr": f"{row_dim}:{row}", "qc": f"{col_dim}:{col}"}
    for name, values in (("qsrc", filters.sources), ("qmod", filters.models), ("qfam", filters.families)):
        if values:
            params[name] = list(values)
    if filters.dual_use is not None:
        params["qdual"] = "only" if filters.dual_use else "exclude"
    return params  # the reviewer's name follows on its own (remembered for the session)


def disagreement_queue_button(engine) -> None:
    """On the list of cases: open the queue of the paper's answers whose judges disagree (when there are any)."""
    items = q.label_queue(engine, reviewer_judge(), disagree=True)
    if not items:
        return
    left = sum(not i["labelled"] for i in items)
    if st.button(f"Label queue: {len(items):,} responses where the judges disagree ({left:,} unlabelled) →",
                 help="The paper's answers whose stored labels (GPT-5.4, the paper's reviewers, other judges or "
                      "reviewers) disagree on the response type, one at a time."):
        came_from("app_pages/cases.py", "the list of cases")
        st.switch_page("app_pages/cases.py", query_params={"queue": "disagree"})


def leave_queue() -> None:
    for name in QUEUE_PARAMS:
        set_qp(name, None)


def _bad(message: str) -> None:
    st.warning(message)
    if st.button("Back to the list of cases"):
        leave_queue()
        st.rerun()


def _cell(raw: str | None) -> tuple[str, str] | None:
    dim, _, value = (raw or "").partition(":")
    return (dim, value) if dim in GRID_DIMS and value else None


def _valid(name: str, allowed) -> list[str] | None:
    """The values of ?name= that are among `allowed` (None: no filter); the first bad one is named."""
    values = qp_list(name)
    bad = [v for v in values if v not in allowed]
    if bad:
        st.warning(f"Ignored `?{name}={bad[0][:40]}` in the link: not one of the choices here.")
    return [v for v in values if v in allowed] or None


def _next_unlabelled(items: list[dict], after: int | None) -> int | None:
    """The next unlabelled response after `after` in the queue's order (wrapping round), else None."""
    order = [i["response_id"] for i in items]
    start = order.index(after) + 1 if after in order else 0
    for item in items[start:] + items[:start]:
        if not item["labelled"] and item["response_id"] != after:
            return item["response_id"]
    return None


def _remember_saved(r: dict) -> None:
    st.session_state["_queue_saved"] = r["id"]


def _queue_items(engine, judge: str | None) -> tuple[str, list[dict]] | None:
    """(what the queue works through, its items) for the queue named in the link; None after saying it is bad."""
    kind = qp("queue")
    if kind == "disagree":
        return "responses where the judges disagree on the response type", q.label_queue(engine, judge, disagree=True)
    if kind == "gold":
        run = qp("qrun") or ""
        answers = gold_queue(engine, int(run)) if run.isdigit() else []
        if not answers:
            return _bad(f"Ignored `?qrun={run[:40]}` in the link: not a spot-check run whose gold labels are "
                        "asked of our reviewers.")
        return (f"the gold labels of spot-check run {run}: a random {len(answers)} of its answers, each labelled "
                "once by one of you (no skipping: the subset must stay random)", q.label_queue(engine, None,
                                                                                           response_ids=answers))
    if kind != "cell":
        return _bad(f"Ignored `?queue={str(kind)[:40]}` in the link: expected `cell`, `disagree` or `gold`.")
    row, col = _cell(qp("qr")), _cell(qp("qc"))
    if row is None or col is None or row[0] == col[0]:
        return _bad(f"Ignored the label queue in the link (`?qr={str(qp('qr'))[:40]}&qc={str(qp('qc'))[:40]}`): "
                    "expected two different dimensions as `dimension:value`.")
    dual = qp("qdual")
    if dual is not None and dual not in _DUAL:
        st.warning(f"Ignored `?qdual={dual[:40]}` in the link: expected `only` or `exclude`.")
    sources = {r["source"] for r in q.aggregate(engine, ["source"])}
    filters = q.Filters(sources=_valid("qsrc", sources), models=_valid("qmod", q.models_present(engine)),
                        families=_valid("qfam", taxonomy.FAMILIES), dual_use=_DUAL.get(dual or ""))
    title = (f"the cell {DIM_LABELS[row[0]]} = {value_label(row[0], row[1])} × "
             f"{DIM_LABELS[col[0]]} = {value_label(col[0], col[1])}")
    if filters.families:
        title += " (families: " + ", ".join(taxonomy.family_label(f) for f in filters.families) + ")"
    return title, q.label_queue(engine, judge, dict([row, col]), filters)


def _current_response(engine, items: list[dict]) -> int | None:
    """The response to show: after a save the next unlabelled one (never back to the one just labelled), else
    the one in ?qat=, else the first unlabelled one. In a gold queue, the next is the one handed to this
    reviewer (and ?qat= opens a labelled answer only when asked for by name)."""
    order = [i["response_id"] for i in items]
    saved = st.session_state.pop("_queue_saved", None)
    if qp("queue") == "gold":
        raw = qp("qat")
        if saved is None and raw is not None and raw.isdigit() and int(raw) in order:
            return int(raw)
        reviewer = reviewer_judge()
        return next_gold_answer(engine, order, reviewer) if reviewer else None
    if saved in order:
        return _next_unlabelled(items, saved)
    raw = qp("qat")
    if raw is not None:
        if raw.isdigit() and int(raw) in order:
            return int(raw)
        st.warning(f"Ignored `?qat={raw[:40]}` in the link: not a response in this queue. "
                   "Showing the next unlabelled one.")
    return _next_unlabelled(items, None)


def label_queue_view(engine) -> None:
    """Draw the queue named in the link: its progress, then the current response with the label form open."""
    judge = reviewer_judge()
    found = _queue_items(engine, judge)
    if found is None:
        return
    title, items = found

    st.subheader("Label queue")
    st.markdown(f"Working through {title}.")
    top = st.columns([3, 1])
    if top[1].button("Leave the queue"):
        leave_queue()
        st.rerun()
    if not items:
        st.info("No judged responses in this queue. Widen the heatmap's filters, or pick another cell.")
        return
    done = sum(i["labelled"] for i in items)
    gold = qp("queue") == "gold"
    who = "by one of our reviewers" if gold else f"by you ({judge_markdown(judge)})" if judge else \
        "by any of our reviewers"
    top[0].progress(done / len(items), text=f"{done:,} of {len(items):,} labelled {who}")
    if judge is None:
        st.info(f"{label_prompt()} Until then the progress counts every reviewer.")

    order = [i["response_id"] for i in items]
    current = _current_response(engine, items)
    if current is None and gold and (judge is None or done < len(items)):
        if judge is not None:
            st.info("Every answer left is with another reviewer right now. Come back in a few minutes: an answer "
                    "not labelled within 15 minutes is handed on.")
        return  # without a name, the label prompt above says what to do
    if current is None:
        st.success(f"All {len(items):,} responses in this queue are labelled {who}.")
        set_qp("qat", None)
        return
    set_qp("qat", str(current))
    item = items[order.index(current)]
    nav = st.columns([3, 1])
    nav[0].caption(f"Response {order.index(current) + 1:,} of {len(items):,} in the queue"
                   + (" — already labelled" if item["labelled"] else ""))
    if qp("queue") != "gold" and nav[1].button("Skip →",
                                                help="The next unlabelled response; this one stays in the queue."):
        following = _next_unlabelled(items, current)
        set_qp("qat", str(following) if following else None)
        st.rerun()
    case = q.get_case(engine, item["case_key"])
    responses = q.responses_for(engine, response_ids=[current])
    if case is None or not responses:
        st.error("This response is no longer in the store.")
        return
    judged = [j for j in responses[0].get("judgments", []) if j["status"] == JUDGMENT_OK]
    st.markdown("**Labels so far:** " + " · ".join(f"{judge_markdown(j['judge'])}: {badge(j['response_type'])}"
                                                  for j in judged) if judged else "**Labels so far:** none")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Case {case['key']}**")
        scenario_view(case, show_dimensions=False)
    with right:
        response_card(responses[0], key=f"queue{current}", inline_form=True, on_saved=_remember_saved)
