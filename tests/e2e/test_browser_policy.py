"""Policy teams and reviewers, end to end in Debian's chromium: a click on a heatmap cell drills in, the view
exports as self-contained HTML and PNG, and a label queue works through a cell or the judges' disagreements.

Runs against the real app (`streamlit run app.py`) on a real SQLite store: the imported paper when
BR_DATA_SOURCE is set, else the synthetic fixture release."""

from __future__ import annotations

import html
import re
import sqlite3

import pytest
from playwright.sync_api import expect

from blindrefusal.exports import html as report_html
from tests.support.browser import OUT, goto, idle, no_exception, pick, shot

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def _cell_point(page, row: str, col: str):
    """The marker of the heatmap cell (row key, column key), found through the figure's own customdata."""
    index = page.evaluate("""([row, col]) => {
        const gd = document.querySelector('.js-plotly-plot');
        return gd.data[0].customdata.findIndex(d => d[1] === row && d[2] === col);
    }""", [row, col])
    assert index >= 0, (row, col)
    return page.locator(".js-plotly-plot .scatterlayer .trace").first.locator("path.point").nth(index)


def _click_cell(page, row: str, col: str) -> None:
    idle(page)
    point = _cell_point(page, row, col)
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_click_on_a_heatmap_cell_drills_in_a_second_click_moves_it_and_back_restores(page, app, browser_store):
    paper = browser_store[1]
    first, second = (("grok-4", "content_defeat"), ("gpt-5-4-mini-base", "illegitimate_authority")) if paper else \
        (("model-a", "content_defeat"), ("model-b", "application_defeat"))
    goto(page, app, "/heatmaps?rows=model&cols=family&metric=helps")
    page.locator(".js-plotly-plot").first.wait_for()
    _click_cell(page, *first)
    page.wait_for_url(re.compile(rf".*cell_r={first[0]}.*cell_c={first[1]}|.*cell_c={first[1]}.*cell_r={first[0]}"))
    page.get_by_text("cases in this cell").wait_for()
    page.get_by_text(re.compile(r"× Content defeat — Help rate: \d")).first.wait_for()  # the cell's rate, n, interval
    shot(page, "policy_heatmap_click")

    _click_cell(page, *second)  # a second click on another cell moves the selection
    page.wait_for_url(re.compile(rf".*cell_c={second[1]}.*"))
    assert f"cell_r={second[0]}" in page.url
    page.get_by_text("cases in this cell").wait_for()

    pick(page, "Defeat family", "Content defeat")  # the pickers still work after a click
    page.wait_for_url(re.compile(r".*cell_c=content_defeat.*"))
    assert f"cell_r={second[0]}" in page.url
    _click_cell(page, *second)  # and a click on the cell clicked before the pickers moved away counts again
    page.wait_for_url(re.compile(rf".*cell_c={second[1]}.*"))
    pick(page, "Defeat family", "Content defeat")
    page.wait_for_url(re.compile(r".*cell_c=content_defeat.*"))
    heatmap_url = page.url

    grid = page.locator('[data-testid="stDataFrame"]').last
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 52)  # open the cell's first case
    page.wait_for_url(re.compile(r".*/cases\?case=.*"), timeout=60_000)
    page.get_by_role("button", name="← Back to the heatmap").click()
    page.wait_for_url(re.compile(r".*/heatmaps\?.*"))
    page.get_by_text("cases in this cell").wait_for()
    assert "cell_c=content_defeat" in page.url and f"cell_r={second[0]}" in page.url and "case=" not in page.url
    assert set(re.findall(r"[?&]([^=&]+)=", page.url)) == set(re.findall(r"[?&]([^=&]+)=", heatmap_url))

    _click_cell(page, *first)  # and a click after coming back still moves it
    page.wait_for_url(re.compile(rf".*cell_r={first[0]}.*"))
    no_exception(page)
    shot(page, "policy_heatmap_after_back")


def _download(page, button: str, tmp_path) -> bytes:
    idle(page)
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name=button).first.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_bytes()


def _markup(doc: str) -> str:
    """The HTML without the inlined plotly.js bundle (whose code mentions URLs it never loads here)."""
    start = doc.index('<script type="text/javascript">')
    return doc[:start] + doc[doc.index("</script>", start):]


def _check_png_or_reason(page, tmp_path, name: str) -> None:
    problem = report_html.png_export_problem()
    if problem:
        page.get_by_text(re.compile(r"PNG export needs .*(kaleido|Chromium)")).first.wait_for()  # one line instead
        return
    png = _download(page, "Download view (PNG)", tmp_path)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    (OUT / f"{name}.png").write_bytes(png)


def _open_offline(page, doc: str, tmp_path, name: str) -> None:
    """Open the exported file in a new tab with every network request refused: it must draw all the same."""
    path = tmp_path / f"{name}.html"
    path.write_text(doc, encoding="utf-8")
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    requests = []
    tab.route(re.compile(r"^(?!file:).*"), lambda route: (requests.append(route.request.url), route.abort()))
    tab.goto(path.as_uri())
    tab.locator(".js-plotly-plot .main-svg").first.wait_for()
    tab.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    context.close()
    assert requests == []


def test_the_heatmap_and_a_case_export_as_self_contained_html_and_png(page, app, browser_store, tmp_path):
    paper = browser_store[1]
    model = "grok-4" if paper else "model-a"
    goto(page, app, f"/heatmaps?rows=authority_group&cols=family&metric=helps&model={model}&dual=exclude")
    page.locator(".js-plotly-plot").first.wait_for()
    doc = _download(page, "Download view (HTML)", tmp_path).decode()
    markup = _markup(doc)
    assert not EXTERNAL.search(markup), EXTERNAL.search(markup)
    assert doc.count("<script") == 2  # plotly.js once, and the figure
    assert "Filters and settings" in markup and "Help rate" in markup and "exclude" in markup
    assert ("Grok 4" if paper else "model-a") in markup  # the model filter
    assert re.search(r"\d+\.\d% \(\d+\.\d–\d+\.\d\), n = [\d,]+", markup)  # every cell's interval and n
    assert "Pattison" in markup and "2604.06233" in markup and "store data version" in markup
    _open_offline(page, doc, tmp_path, "policy_export_heatmap_html")
    _check_png_or_reason(page, tmp_path, "policy_export_heatmap")
    no_exception(page)

    if paper:  # a case whose answer holds markup (read from the store at run time, never committed)
        store = sqlite3.connect(browser_store[0].removeprefix("sqlite:///"))
        key, text = store.execute("""SELECT c.key, r.text FROM response r JOIN "case" c ON c.id = r.case_id
                                     WHERE r.text LIKE '%<meta %' ORDER BY c.key LIMIT 1""").fetchone()
        store.close()
    else:
        key, text = "fx_application_defeat_workplace_1", None
    goto(page, app, f"/cases?case={key}")
    page.get_by_text("the only text sent to the model").wait_for()
    doc = _download(page, "Download view (HTML)", tmp_path).decode()
    markup = _markup(doc)
    assert not EXTERNAL.search(markup)
    assert key in markup and "User query" in markup and re.search(r"<h2>Responses \(\d+\)</h2>", markup)
    assert re.search(r"<dt>Outcome</dt><dd>(helps|deflects|hard refusal)</dd>", markup)
    if text:
        line = next(ln for ln in text.splitlines() if "<meta " in ln)
        assert html.escape(line, quote=True) in markup and line not in markup  # the answer's markup is inert
    _open_offline(page, doc, tmp_path, "policy_export_case_html")
    _check_png_or_reason(page, tmp_path, "policy_export_case")
    no_exception(page)
    shot(page, "policy_case_export")


def _progress(page) -> tuple[int, int]:
    label = page.get_by_text(re.compile(r"[\d,]+ of [\d,]+ labelled")).first.inner_text()
    done, total = re.search(r"([\d,]+) of ([\d,]+) labelled", label).groups()
    return int(done.replace(",", "")), int(total.replace(",", ""))


def _save_label(page, kind: str) -> None:
    page.get_by_role("radiogroup", name="Response type").last.get_by_text(kind, exact=True).click()
    page.get_by_role("button", name="Save label").last.click()


def test_a_label_queue_moves_to_the_next_unlabelled_response_and_remembers_the_reviewer(page, app, browser_store):
    paper = browser_store[1]
    model = "grok-4" if paper else "model-a"
    goto(page, app, f"/heatmaps?rows=model&cols=authority&metric=helps&cell_r={model}&cell_c=workplace&reviewer=quinn")
    page.get_by_text("cases in this cell").wait_for()
    page.get_by_role("button", name="Label this cell's responses one by one →").click()
    page.wait_for_url(re.compile(r".*/cases\?.*queue=cell.*"))
    page.get_by_text("Label queue").first.wait_for()
    page.get_by_text(re.compile(r"labelled by you \(human:quinn\)")).wait_for()
    done, total = _progress(page)
    assert total > 1 and done == 0
    page.wait_for_url(re.compile(r".*qat=\d+.*"))
    first = re.search(r"qat=(\d+)", page.url).group(1)
    shot(page, "policy_queue_start")

    _save_label(page, "hard refusal")
    page.get_by_text(re.compile(r"Saved your label for .* as human:quinn")).first.wait_for()
    page.get_by_text(re.compile(rf"^1 of {total:,} labelled")).wait_for()
    page.wait_for_url(re.compile(r".*qat=(?!" + first + r"\b)\d+.*"))  # on to the next one, not the labelled one
    second = re.search(r"qat=(\d+)", page.url).group(1)
    assert second != first and "reviewer=quinn" in page.url
    page.get_by_role("button", name="Skip →").click()  # skipping moves on too, and labels nothing
    page.wait_for_url(re.compile(r".*qat=(?!" + second + r"\b)\d+.*"))
    assert _progress(page) == (1, total)
    no_exception(page)
    shot(page, "policy_queue_after_save")

    # The name is remembered for the session: another page of the sidebar (its link has no ?reviewer=) keeps it.
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Home").click()
    page.wait_for_url(re.compile(r".*/home.*|.*/\?.*|.*/$"))
    expect(page.get_by_label("Reviewer name (for human labels)", exact=True)).to_have_value("quinn")
    page.wait_for_url(re.compile(r".*reviewer=quinn.*"))

    if not paper:
        return
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name=re.compile(r"(^|\s)Cases$")).click()
    button = page.get_by_role("button", name=re.compile(r"Label queue: [\d,]+ responses where the judges disagree"))
    button.click()
    page.wait_for_url(re.compile(r".*queue=disagree.*"))
    page.get_by_text("where the judges disagree on the response type").wait_for()
    done, total = _progress(page)
    assert total >= 1 and done <= 1  # (the cell above may share a response with this queue)
    labels = page.get_by_text(re.compile(r"Labels so far: .*gpt-5\.4 \(paper\)")).first.inner_text()
    assert len(set(re.findall(r"(helps|deflects|hard refusal)", labels))) > 1, labels  # the disagreement, up front
    page.get_by_role("button", name="← Back to the list of cases").wait_for()
    no_exception(page)
    shot(page, "policy_queue_disagree")


def test_garbage_in_a_queue_link_falls_back_with_a_message(page, app):
    for path, text in (("/cases?queue=nonsense", "Ignored ?queue=nonsense"),
                       ("/cases?queue=cell&qr=%3Cscript%3E&qc=family:x", "Ignored the label queue in the link"),
                       ("/cases?queue=disagree&qat=abc", "Ignored ?qat=abc"),
                       ("/cases?queue=cell&qr=model:x&qc=family:content_defeat&qdual=maybe&qfam=nope",
                        "Ignored ?qdual=maybe")):
        goto(page, app, path)
        page.get_by_text(text).first.wait_for()
        no_exception(page)
        assert "Traceback" not in page.inner_text("body")


def test_a_linked_cell_of_one_case_is_thin_framed_and_says_1_case(page, app, browser_store):
    """The shared link of a one-case cell: its rate is of one case's answers, so thin by cases (whatever its n
    of answers), "1 case" in the singular, and the cell framed on the chart as a click would frame it."""
    if not browser_store[1]:
        pytest.skip("the cell is one of the paper's release; needs BR_DATA_SOURCE")
    goto(page, app, "/heatmaps?rows=authority&cols=subtype&metric=refusal&cell_r=supranational_body"
                    "&cell_c=unjust_policies_illegitimate_power")
    page.get_by_text("1 case in this cell").wait_for()
    page.get_by_text(re.compile(r"Supranational body × unjust policies illegitimate power — Refusal rate: .*"
                                r"n = 17, 1 case — thin cell: fewer than 10 cases")).first.wait_for()
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')?.data")
    framed = page.evaluate("""() => document.querySelector('.js-plotly-plot').data
        .filter(t => t.name === 'picked cell').map(t => [t.y[0], t.x[0]])""")
    assert framed == [["Supranational body", "unjust policies illegitimate power"]]
    no_exception(page)
