"""AppTest of every page: on the imported paper (or the synthetic release), and on the summary-only fallback."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import ROOT

PAGES = ["app_pages/home.py", "app_pages/heatmaps.py", "app_pages/cases.py", "app_pages/agreement.py",
         "app_pages/compose.py", "app_pages/spot_check.py", "app_pages/fresh_cases.py", "app_pages/history.py"]


def _app(page: str | None = None, params: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    if page:
        at.run()  # the entry point first, so st.navigation (not the file name) resolves the page
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [f"{m.label} {m.value} {m.proto.delta}" for m in at.metric] + [s.value for s in at.subheader]
    parts += [w.value for w in at.warning]
    return "\n".join(parts)


def _charts(at: AppTest) -> list[str]:
    """The plotly figures a page drew, as their JSON specs."""
    return [c.proto.spec for c in at.get("plotly_chart")]


def _param(at: AppTest, name: str) -> list[str]:
    """A query parameter of the page's link, as a list of its values."""
    value = at.query_params.get(name, [])
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_fixture_store(fixture_store, page):
    at = _app(page)
    assert _text(at)


@pytest.mark.parametrize("page", ["app_pages/home.py", "app_pages/heatmaps.py", "app_pages/cases.py"])
def test_the_pages_a_room_opens_draw_each_row_as_one_block(fixture_store, page):
    """st.columns draws a block per column and one around them, and every block is a message that each visitor's
    session sends: the pages a room opens together put their rows in one horizontal container (components.frame.row)
    instead (benchmarks/room.py: Heatmaps' 18 blocks → 5)."""
    at = _app(page)
    assert not at.columns


def test_heatmap_filters_hold_from_the_link_and_are_drawn_only_while_open(fixture_store):
    """The filters' four widgets are drawn only while their box is open (a room's plain link draws none); a link
    with filters opens the box, and closing it keeps them applied, in the chart and in the link."""
    plain = _app("app_pages/heatmaps.py")
    assert not plain.multiselect and not plain.radio
    assert "Labels from" in [s.label for s in plain.selectbox]  # beside Rows, Columns and Metric, always drawn
    at = _app("app_pages/heatmaps.py", {"model": "model-a", "family": "content_defeat"})
    assert {m.label: m.value for m in at.multiselect} == {"Source": ["paper"], "Families": ["content_defeat"],
                                                          "Models": ["model-a"]}
    filtered = _charts(at)
    assert filtered != _charts(plain)
    at.session_state["hm_filters"] = False  # the visitor closes the box
    at.run()
    assert not at.exception and not at.multiselect
    assert _charts(at) == filtered and _param(at, "model") == ["model-a"]
    at.selectbox(key="hm_metric").set_value("helps").run()  # another control, the box still closed
    assert _param(at, "family") == ["content_defeat"] and not at.multiselect
    at.session_state["hm_filters"] = True
    at.run()
    assert {m.label: m.value for m in at.multiselect}["Models"] == ["model-a"]


def test_home_names_a_running_spot_check_s_typed_model_as_text(fixture_store):
    from blindrefusal import store

    typed = "openai/x [Re-enter your password](http://e.test/phish) :red[alarm] ![i](http://e.test/i.png)"
    store.create_run(fixture_store, "spot_check", params={"model": typed, "n": 20, "judge": "distilled"},
                     status="running")
    line = next(m.value for m in _app().markdown if "is running: 0 of 20 cases answered" in m.value)
    assert not re.search(r"(?<!\\)\]\(", line), "a link or an image left live"
    assert ":red[" not in line and "\\[Re-enter your password\\]" in line


def test_home_and_heatmaps_on_the_paper(paper_store_url):
    at = _app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Refusal on defeated rules"] == "75.4%"
    assert metrics["Engages with the defeat"] == "57.5%"
    assert metrics["Help rate on control (just) rules"] == "4.2%"
    assert "n = 19,430" in _text(at) and "+20.3 pp" in _text(at)
    # pooled over 18 models answering the same cases: the interval clusters by case (Wilson's would be 74.8–76.0)
    assert "75.4% (73.8–77.0), n = 19,430" in _text(at) and "clustered by case" in _text(at)
    at = _app("app_pages/heatmaps.py", {"rows": "model", "cols": "authority", "metric": "helps", "cell_r": "grok-4",
                                    "cell_c": "workplace"})
    text = _text(at)
    assert "cases in this cell" in text and "Grok 4 × Workplace" in text
    assert at.dataframe and len(at.dataframe[-1].value) > 0
    assert at.get("download_button"), "the grid downloads as CSV"


def test_cases_filters_and_detail_on_the_paper(paper_store_url):
    at = _app("app_pages/cases.py", {"family": "control", "authority": "workplace", "lm": "grok-4", "label": "helps"})
    text = _text(at)
    assert "cases match" in text
    at = _app("app_pages/cases.py", {"page": "2"})
    assert "1,290 cases match (cases 201–400)" in _text(at)
    at = _app("app_pages/cases.py", {"case": "seed_application_defeat_club_1"})
    text = _text(at)
    assert "Responses (18)" in text and "the only text sent to the model" in text
    assert "Judge: gpt-5.4 (paper) — reasoning" in [e.label for e in at.expander]


def test_summary_fallback_shows_the_paper_numbers_and_explains_drill_down(store_url):
    at = _app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Refusal on defeated rules"] == "75.4%" and metrics["Help rate on control (just) rules"] == "4.2%"
    assert "shipped summary" in _text(at)
    at = _app("app_pages/heatmaps.py",
              {"rows": "model", "cols": "family", "cell_r": "grok-4", "cell_c": "content_defeat"})
    assert "Drill-down needs the full release" in _text(at)
    rows = next(s for s in at.selectbox if s.label == "Rows").options
    assert "Kind of rule (secondary)" not in rows and "Model" in rows  # only what the summary holds
    at = _app("app_pages/heatmaps.py", {"rows": "kind_of_rule"})
    assert "Ignored ?rows=kind_of_rule" in _text(at).replace("`", "")
    at = _app("app_pages/cases.py")
    assert "Import the paper's release" in _text(at)
    at = _app("app_pages/spot_check.py")
    assert "import the release first" in _text(at)


def test_a_human_label_survives_a_restart_shows_in_the_corrected_view_and_leaves_the_paper_alone(
        fixture_store, store_url):
    from blindrefusal import store as q
    from db.engine import dispose_all
    from vocabulary import EFFECTIVE

    before = q.totals(fixture_store, q.Filters(families=["content_defeat"]))["defeated"]
    home_before = _text(_app(None))
    heatmap_before = _charts(_app("app_pages/heatmaps.py", {"rows": "model", "cols": "family", "metric": "helps"}))
    at = _app("app_pages/cases.py", {"case": "fx_content_defeat_landlord_1"})
    at.session_state["reviewer"] = "alex"  # the sidebar's reviewer-name field
    # Model-a helped on this case (fixture); relabel it as a hard refusal.
    form_radio = at.radio[0]
    form_radio.set_value("hard_refusal")
    next(b for b in at.button if b.label == "Save label").click()
    at.run()
    assert not at.exception
    dispose_all()  # a "restart": new engines, state only from the database
    after = q.totals(fixture_store, q.Filters(families=["content_defeat"]), EFFECTIVE)["defeated"]
    assert after.n == before.n and after.helps == before.helps - 1 and after.hard_refusal == before.hard_refusal + 1
    assert q.totals(fixture_store, q.Filters(families=["content_defeat"]))["defeated"] == before  # as published
    home = _app(None)
    assert _text(home) == home_before and home_before.count("%") >= 4  # the default Home: numbers as published
    home.toggle[0].set_value(True).run()
    assert "corrections" in _text(home) and _text(home) != home_before
    at = _app("app_pages/heatmaps.py", {"rows": "model", "cols": "family", "metric": "helps"})
    assert heatmap_before and _charts(at) == heatmap_before  # the default heatmap too, cell by cell
    judges = next(s for s in at.selectbox if s.label == "Labels from").options
    assert "human:alex" in judges
    at = _app("app_pages/agreement.py")
    assert "` alex ` vs gpt-5.4 (paper)" in _text(at)  # the reviewer's name as a literal


HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def test_fresh_cases_show_hostile_generated_text_inert_and_review_needs_a_name(fixture_store):
    """A generated case and a gate's reason holding markup are shown as text; Accept waits for a reviewer name,
    and then stores the verdict with the name."""
    from blindrefusal import store
    from blindrefusal.evals.fresh.proposals import case_key

    query = "How do I get around this rule quietly? " * 8 + HOSTILE
    key = case_key("content_defeat", "landlord", query)
    gate = {"passed": True, "reason": HOSTILE, "error": None, "flagged": False}
    store.save_attempt(fixture_store, store.create_run(fixture_store, "generation"), {
        "family": "content_defeat", "authority_type": "landlord", "status": "ok", "raw_output": HOSTILE},
        [{"key": key, "family": "content_defeat", "subtype": "absurd_arbitrary", "authority_type": "landlord",
          "authority_group": "voluntary", "rule": HOSTILE, "defeat_condition": HOSTILE, "structural_facts": [HOSTILE],
          "user_query": query, "dimensions": {}, "provenance": {"gates": {g: gate for g in
                                                                          ("operational_validity", "reasonable_judge",
                                                                           "dual_use")}}}])
    at = _app("app_pages/fresh_cases.py")
    shown = "\n".join(m.value for m in at.markdown)
    assert "alert(1)" in shown and "<script>" not in shown and "<img" not in shown
    accept = next(b for b in at.button if b.label == "Accept")
    assert accept.disabled  # no reviewer name yet
    at.session_state["reviewer"] = "grace"
    at.run()
    next(b for b in at.button if b.label == "Accept").click().run()
    assert not at.exception
    case = store.get_case(fixture_store, key)
    assert case["review"] == "accepted" and case["provenance"]["review"]["by"] == "human:grace"
