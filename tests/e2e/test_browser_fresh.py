"""Fresh cases in a real browser: generate with the fault server as the authors' generator and gates (the
release's real prompts, read from the store), review and accept, then spot-check on the accepted cases and read
the contamination gap. Real SQLite, real Chromium; fixtures come from tests/e2e/conftest.py."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import goto, idle, no_exception, shot


def test_generate_review_accept_and_spot_check_fresh_cases(page, app, browser_store, fault_server):
    if not browser_store[1]:
        pytest.skip("the generator's prompts come from the release; needs BR_DATA_SOURCE")
    goto(page, app, "/fresh-cases")
    page.get_by_text("No fresh case yet").wait_for()
    page.get_by_label("Generator model (blank: the paper's)").fill("openai/browser_gen;reply=cases;fail=2")
    page.get_by_label("One model for every gate (blank: the paper's per gate)").fill("openai/browser_gate;reply=gate")
    page.get_by_label("API base (optional, for OpenAI-compatible servers)").fill(fault_server.api_base)
    page.get_by_label("API base (optional, for OpenAI-compatible servers)").press("Tab")
    page.get_by_role("button", name="Estimate").click()
    page.get_by_text(re.compile(r"1 cell × 2 cases: at most 7 model calls")).wait_for()
    page.get_by_role("button", name="Generate and gate").click()
    page.get_by_text(re.compile(r"1 waiting · 0 accepted")).wait_for(timeout=300_000)
    assert "failed operational validity" in page.inner_text("body")  # the dropped case is said, with its gate
    page.get_by_label("Reviewer name (for human labels)", exact=True).fill("grace")
    page.get_by_label("Reviewer name (for human labels)", exact=True).press("Enter")
    idle(page)
    page.get_by_text("the only text sent to the model").first.wait_for()
    shot(page, "fresh_cases")
    page.get_by_role("button", name="Accept").first.click()
    page.get_by_text(re.compile(r"0 waiting · 1 accepted")).wait_for()
    page.get_by_role("link", name="Spot-check a model on the accepted fresh cases").click()
    page.get_by_text("Spot-check models").wait_for()
    idle(page)
    assert page.get_by_role("radio", name="fresh cases (generated, accepted)").is_checked()
    page.get_by_label("…and/or any litellm models, comma-separated").fill("openai/browser_fresh;reply=help")
    page.get_by_label("API base (optional, for OpenAI-compatible servers)").fill(fault_server.api_base)
    page.get_by_label("API base (optional, for OpenAI-compatible servers)").press("Tab")
    page.get_by_role("button", name="Estimate and run").click()
    page.get_by_role("button", name="Start the spot-check").click()
    page.get_by_text("Gap in help rate").first.wait_for(timeout=600_000)
    body = page.inner_text("body")
    assert "Help rate, fresh cases" in body and "Newcombe" in body and "cases=fresh" in page.url
    no_exception(page)
    page.get_by_text("Contamination gap").first.scroll_into_view_if_needed()
    shot(page, "spot_check_fresh")
