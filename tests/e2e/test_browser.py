"""End to end in a real browser: Debian's chromium driven by Playwright against `streamlit run app.py`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import compose, goto, idle, no_exception, pick, shot


def test_a_shared_deep_link_as_the_first_request_opens_inside_the_app_frame(page, app):
    """Runs first: the server's very first request is a deep link (a regression: with a `pages/` folder,
    Streamlit then fell back to its legacy navigation for every session)."""
    goto(page, app, "/heatmaps?rows=authority_group&cols=family&metric=helps")
    page.get_by_text("Drill down into a cell").wait_for()
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Status" in sidebar and "Live lab" in sidebar and "Judge agreement" in sidebar
    # the link's state is applied: the Rows picker shows the linked dimension
    page.get_by_text(re.compile(r"Help rate — Authority group × Defeat family")).first.wait_for()  # the chart's title
    assert "rows=authority_group" in page.url


def test_home_shows_the_headline_numbers(page, app, browser_store):
    goto(page, app, "/")
    page.get_by_text("Refusal on defeated rules").wait_for()
    page.get_by_text("Help-rate gap").wait_for()
    body = page.inner_text("body")
    if browser_store[1]:
        assert "75.4%" in body and "57.5%" in body and "4.2%" in body and "n = 19,430" in body
    assert re.search(r"\d+\.\d% \(\d+\.\d–\d+\.\d\), n = [\d,]+", body)  # "24.6% (23.9–25.2), n = 19,430"
    assert "Blind Refusal" in body and "arXiv" in body
    # the trade-off plane: every paper configuration a point with both intervals, and the diagonal
    page.get_by_text("Judgement or compliance? The trade-off plane").wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(g => (g.data || [])"
                           ".some(t => t.name === \"the paper's configurations\"))")
    plane = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(g => g.data)
        .find(d => d.some(t => t.name === "the paper's configurations"))
        .map(t => ({name: t.name, n: t.x.length, ex: !!(t.error_x && t.error_x.array),
                    ey: !!(t.error_y && t.error_y.array)}))""")
    points = next(t for t in plane if t["name"] == "the paper's configurations")
    assert points["n"] == (18 if browser_store[1] else points["n"]) and points["ex"] and points["ey"]
    assert any(t["name"].startswith("no discrimination") for t in plane)
    no_exception(page)
    shot(page, "home")


def test_heatmap_change_dimensions_drill_into_a_cell_and_open_a_case(page, app, browser_store):
    goto(page, app, "/heatmaps")
    page.get_by_text("Drill down into a cell").wait_for()
    pick(page, "Columns", "Authority type")
    page.wait_for_url(re.compile(r".*cols=authority.*"))
    page.locator(".js-plotly-plot").first.wait_for()
    model = "Grok 4" if browser_store[1] else "model-a"
    authority = "Workplace"
    pick(page, "Model", model)
    page.wait_for_url(re.compile(r".*cell_r=.*"))
    pick(page, "Authority type", authority)
    page.wait_for_url(re.compile(r".*cell_c=workplace.*"))
    page.get_by_text("cases in this cell").wait_for()
    shot(page, "heatmap_cell")
    grid = page.locator('[data-testid="stDataFrame"]').last
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 52)  # the first row's selection cell
    page.wait_for_url(re.compile(r".*/cases\?case=.*"), timeout=60_000)
    page.get_by_text("the only text sent to the model").wait_for()
    no_exception(page)
    shot(page, "heatmap_case")


def test_cases_search_then_detail(page, app, browser_store):
    goto(page, app, "/cases")
    search = page.get_by_label("Search rule, facts and query")
    search.fill("workplace" if browser_store[1] else "widget")
    search.press("Enter")
    page.wait_for_url(re.compile(r".*[?&]q=.*"))
    idle(page)  # the rerun has finished: the unfiltered caption is gone
    captions = page.get_by_text(re.compile(r"[\d,]+ cases match")).all_inner_texts()
    assert len(captions) == 1, captions
    count = int(re.search(r"([\d,]+) cases match", captions[0]).group(1).replace(",", ""))
    assert count > 0
    shot(page, "cases_search")
    key = "seed_application_defeat_club_1" if browser_store[1] else "fx_application_defeat_workplace_1"
    goto(page, app, f"/cases?case={key}")
    page.get_by_text("the only text sent to the model").wait_for()
    page.get_by_text(re.compile(r"^(helps|deflects|hard refusal)$")).first.wait_for()  # the response cards' badges
    body = page.inner_text("body")
    assert "Responses (" in body and "Rule:" in body and "Why the rule is defeated" in body
    assert re.search(r"(helps|deflects|hard refusal)", body)
    no_exception(page)
    shot(page, "case_detail")


def test_compose_runs_the_local_model_and_shows_a_judged_card(page, app):
    goto(page, app, "/live")
    compose(page)
    idle(page)  # the last field's value reaches the server before Run (a race: Run could see an empty form)
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text(re.compile(r"\d+ of \d+ judged models refused")).wait_for(timeout=600_000)
    page.get_by_text(re.compile(r"^(helps|deflects|hard refusal|unjudged)$")).first.wait_for()  # the card's badge
    assert "run=" in page.url and "scenario=custom-" in page.url
    page.get_by_text(re.compile("tiny demo model")).first.wait_for()  # its answer and label are marked meaningless
    body = page.inner_text("body")
    assert "SmolLM2-135M (local)" in body
    assert re.search(r"(helps|deflects|hard refusal|unjudged)", body)
    no_exception(page)
    shot(page, "compose_judged")
    goto(page, app, "/history")
    page.get_by_text(re.compile(r"Live run \d+")).first.wait_for()
    shot(page, "history")


def test_spot_check_small_sample(page, app, browser_store):
    if not browser_store[1]:
        pytest.skip("the spot-check samples paper cases; needs BR_DATA_SOURCE")
    goto(page, app, "/spot-check")
    n = page.get_by_label("Sample size n")
    n.fill("6")
    n.press("Tab")
    page.get_by_role("button", name="Estimate and run").click()
    page.get_by_text(re.compile(r"6 cases: ~")).wait_for()
    page.get_by_role("button", name="Start the spot-check").click()
    page.get_by_text(re.compile(r"Rank among \d+")).wait_for(timeout=300_000)
    body = page.inner_text("body")
    assert "Help-rate gap" in body and "n = " in body
    assert "With n = 6, every interval is wide" in body  # a rank from 6 cases is not read as a placement
    assert "n=6" in page.url or "n=6" in page.url.replace("%3D", "=")  # the form keeps the n it ran with
    assert page.get_by_label("Sample size n").input_value() == "6"
    no_exception(page)
    shot(page, "spot_check")
    run_id = re.search(r"[?&]run=(\d+)", page.url).group(1)
    goto(page, app, f"/live?run={run_id}")  # a spot-check opened in the Live lab is not summed up as one
    page.get_by_text(f"Run {run_id} is a spot-check, not a live run").wait_for()
    assert "judged models refused" not in page.inner_text("body")


def test_two_models_on_one_sample_compared_with_a_report(page, app, browser_store, fault_server):
    """The local model and a fault-server model on one sample: a power hint before, per-model tabs, the models
    against each other, the answers table opening an answer, and the report downloaded and offline."""
    if not browser_store[1]:
        pytest.skip("the spot-check samples paper cases; needs BR_DATA_SOURCE")
    goto(page, app, "/spot-check")
    page.get_by_label("Sample size n").fill("8")
    page.get_by_label("…and/or any litellm models, comma-separated").fill("openai/browser_refuser;reply=refuse")
    page.get_by_label("API base (optional, for OpenAI-compatible servers)").fill(fault_server.api_base)
    page.get_by_label("Sample size n").press("Tab")
    page.get_by_role("button", name="Estimate and run").click()
    page.get_by_text(re.compile(r"is detected 80% of the time"
                                r"|no paired help-rate difference is likely to be detected")).wait_for()
    page.get_by_text(re.compile(r"n is small for a rank")).wait_for()
    page.get_by_role("button", name="Start the spot-check").click()
    page.get_by_text("The models against each other").wait_for(timeout=600_000)
    assert re.search(r"[?&]run=\d+(%2C|,)\d+", page.url), page.url
    idle(page)
    tabs = page.get_by_role("tab")
    assert tabs.filter(has_text="SmolLM2").count() >= 1 and tabs.filter(has_text="browser_refuser").count() >= 1
    body = page.inner_text("body")
    assert "on both sides" in body and "Answers, case by case" in body
    no_exception(page)
    shot(page, "spot_check_two_models")
    # a row of the answers table opens that answer (the grid is a canvas: click the first row's selector); the
    # table is folded under the first tab's "Answers, case by case"
    summary = page.locator('[data-testid="stExpander"] summary').filter(has_text="Answers, case by case").first
    summary.click()
    grid = summary.locator("xpath=..").locator('[data-testid="stDataFrame"]').first  # in the same <details>
    grid.wait_for()
    grid.scroll_into_view_if_needed()
    grid.click(position={"x": 18, "y": 35 + 17})
    page.get_by_text(re.compile(r"Set your own label|Your label")).first.wait_for(timeout=60_000)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Report (HTML, opens offline)").click()
    html = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "browser_refuser" in html and "SmolLM2" in html and "The models against each other" in html
    outside_scripts = re.sub(r"<script.*?</script>", "", html, flags=re.S)  # plotly.js itself holds URLs as text
    assert not re.search(r"""(src|href)=["']https?://""", outside_scripts)


def test_every_page_renders(page, app):
    for path, text in [("/", "Models on defeated rules"), ("/heatmaps", "Drill down"), ("/cases", "cases match"),
                       ("/agreement", "Cohen"), ("/live", "Start from a paper case"), ("/history", "History"),
                       ("/spot-check", "Spot-check models")]:
        goto(page, app, path)
        page.get_by_text(text).first.wait_for()
        no_exception(page)
    shot(page, "agreement_last")


def test_every_second_change_holds_and_survives_a_reload(page, app, browser_store):
    """A regression: URL-backed widgets without a key reset on every second change."""
    goto(page, app, "/heatmaps")
    page.get_by_text("Drill down into a cell").wait_for()
    for metric, key in (("Help rate", "helps"), ("Engagement rate", "engages"), ("Deflection rate", "deflects")):
        pick(page, "Metric", metric)
        page.wait_for_url(re.compile(rf".*metric={key}.*"))
        page.get_by_text(re.compile(rf"^{metric} — ")).first.wait_for()  # the chart's title follows
    page.reload()
    page.wait_for_selector('[data-testid="stAppViewContainer"]')
    idle(page)
    page.get_by_text(re.compile(r"^Deflection rate — ")).first.wait_for()
    assert "metric=deflects" in page.url

    goto(page, app, "/cases")
    search = page.get_by_label("Search rule, facts and query (all words)")
    words = ("landlord", "dog") if browser_store[1] else ("widget", "landlord")
    for word in words:
        search.fill(word)
        search.press("Enter")
        page.wait_for_url(re.compile(rf".*[?&]q={word}.*"))
        idle(page)
    assert search.input_value() == words[-1]
    page.reload()
    page.get_by_text(re.compile(r"[\d,]+ cases match")).first.wait_for()
    expect(page.get_by_label("Search rule, facts and query (all words)")).to_have_value(words[-1])
    no_exception(page)


def test_back_from_a_drilled_case_restores_the_heatmap(page, app, browser_store):
    model = "Grok 4" if browser_store[1] else "model-a"
    goto(page, app, "/heatmaps?rows=model&cols=authority&metric=helps")
    page.get_by_text("Drill down into a cell").wait_for()
    pick(page, "Model", model)
    pick(page, "Authority type", "Workplace")
    page.get_by_text("cases in this cell").wait_for()
    heatmap_url = page.url
    grid = page.locator('[data-testid="stDataFrame"]').last
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 52)
    page.wait_for_url(re.compile(r".*/cases\?case=.*"), timeout=60_000)
    page.get_by_role("button", name="← Back to the heatmap").click()  # the page's own Back
    page.wait_for_url(re.compile(r".*/heatmaps\?.*"))
    page.get_by_text("cases in this cell").wait_for()  # the drilled cell is picked again
    assert "metric=helps" in page.url and "cols=authority" in page.url and "cell_c=workplace" in page.url
    assert "case=" not in page.url

    page.goto(heatmap_url)  # and the browser's Back after drilling again
    page.get_by_text("cases in this cell").wait_for()
    grid = page.locator('[data-testid="stDataFrame"]').last
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 52)
    page.wait_for_url(re.compile(r".*/cases\?case=.*"), timeout=60_000)
    page.go_back()
    page.wait_for_url(re.compile(r".*/heatmaps\?.*"))
    page.get_by_text("cases in this cell").wait_for()
    assert "metric=helps" in page.url and "cell_c=workplace" in page.url and "case=" not in page.url
    shot(page, "heatmap_after_back")
    no_exception(page)


def test_garbage_in_a_link_falls_back_with_a_message(page, app, browser_store):
    for path, text in (("/spot-check?n=abc&seed=-1", "Ignored ?n=abc"), ("/spot-check?n=99999", "Ignored ?n=99999"),
                       ("/heatmaps?metric=nonsense&rows=%3Cscript%3E", "Ignored ?rows=<script>"),
                       ("/cases?family=nope&page=-3", "Ignored ?family=nope")):
        if path.startswith("/spot-check") and not browser_store[1]:
            continue  # the spot-check form needs the paper's cases
        goto(page, app, path)
        page.get_by_text(text).first.wait_for()
        no_exception(page)
        assert "Traceback" not in page.inner_text("body")


def test_a_paste_over_the_limit_is_kept_and_explained(page, app):
    goto(page, app, "/live")
    query = page.get_by_label("User query — the only text sent to the model")
    query.fill("x" * 4_001)
    query.press("Control+Enter")
    page.get_by_text("4,001 characters: the limit is 4,000").wait_for()
    assert len(query.input_value()) == 4_001  # nothing was cut or dropped
    no_exception(page)


def _card_order(page) -> list[str]:
    """The models of a case's response cards, top to bottom (by where each name first appears on the page)."""
    from blindrefusal.models import presets

    body = page.locator('[data-testid="stMain"]').inner_text()
    names = {m.display_name for m in presets.presets().values()} | {"model-a", "model-b"}
    return sorted((n for n in names if n in body), key=body.index)


def test_a_saved_label_is_confirmed_stays_in_place_and_keeps_the_reviewer(page, app, browser_store):
    key = "seed_application_defeat_club_1" if browser_store[1] else "fx_application_defeat_workplace_1"
    goto(page, app, f"/cases?case={key}&reviewer=grace")
    page.get_by_text("the only text sent to the model").wait_for()
    reviewer = page.get_by_label("Reviewer name (for human labels)", exact=True)
    expect(reviewer).to_have_value("grace")  # from the link
    page.get_by_role("button", name="Set your own label").first.wait_for()  # the cards are drawn
    idle(page)
    order_before = _card_order(page)
    page.get_by_role("button", name="Set your own label").first.click()
    page.get_by_role("radiogroup", name="Response type").last.get_by_text("hard refusal", exact=True).click()
    page.get_by_role("button", name="Save label").last.click()
    page.get_by_text(re.compile(r"Saved your label for .* as human:grace")).first.wait_for()
    idle(page)
    assert _card_order(page) == order_before and len(order_before) >= 2  # no card jumped away
    assert "reviewer=grace" in page.url
    page.reload()
    page.get_by_text("the only text sent to the model").wait_for()
    expect(page.get_by_label("Reviewer name (for human labels)", exact=True)).to_have_value("grace")
    if browser_store[1]:  # the paper's headline stays as published after the label
        goto(page, app, "/")
        page.get_by_text("With our reviewers' corrections").wait_for()  # drawn before the numbers below it
        expect(page.locator("body")).to_contain_text("n = 14,656")
        expect(page.locator("body")).to_contain_text("n = 19,430")
    goto(page, app, "/agreement")
    page.get_by_text(re.compile(r"grace vs ")).first.wait_for()
    page.get_by_text(re.compile(r"Only 1 pair: too few for κ")).first.wait_for()  # no κ = 1.00 read as agreement
    no_exception(page)


def test_the_app_looks_right_offline(page, app, browser_store):
    """No Deploy button, a local favicon, the baseline named off the bars, headings inside answers kept small,
    the gap explained on a family axis, multi-word search, and display names, not raw keys, in History."""
    goto(page, app, "/")
    page.get_by_text("Models on defeated rules").wait_for()
    assert page.get_by_role("button", name="Deploy").count() == 0
    icon = page.evaluate("() => (document.querySelector('link[rel*=icon]') || {}).href || ''")
    assert icon.startswith(app.url), icon  # served by the app, never fetched from the internet
    page.get_by_text(re.compile(r"control help rate: \d")).first.wait_for()  # in the legend
    goto(page, app, "/heatmaps?rows=model&cols=family&metric=gap")
    page.get_by_text("cannot have defeat family as an axis").wait_for()
    goto(page, app, "/heatmaps?rows=model&cols=subtype&metric=helps")
    page.get_by_text("* thin cell (fewer than 10 cases or answers)").first.wait_for()  # named in the legend...
    assert re.search(r"\b\d+\*", page.locator(".js-plotly-plot").first.inner_text())  # ...and starred in place
    goto(page, app, "/cases")
    search = page.get_by_label("Search rule, facts and query (all words)")
    search.fill("landlord pets" if browser_store[1] else "landlord content")
    search.press("Enter")
    idle(page)
    count = int(re.search(r"([\d,]+) cases match", page.get_by_text(re.compile(r"cases match")).first.inner_text())
                .group(1).replace(",", ""))
    assert count > 0  # both words, anywhere: not the exact phrase
    goto(page, app, "/history")
    page.get_by_text(re.compile(r"(Live run|Spot-check) \d+|No live runs yet")).first.wait_for()
    body = page.inner_text("body")
    if "No live runs yet" not in body:  # the Live lab and Spot-check tests above left runs here
        assert "local/smollm2" not in body and "SmolLM2-135M" in body
    assert "1 live runs" not in page.locator('[data-testid="stSidebar"]').inner_text()
    no_exception(page)
