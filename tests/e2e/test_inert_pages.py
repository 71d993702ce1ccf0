"""Markup that a visitor or a provider wrote stays text in the real app (issue 20): a model name and a provider's
error carrying a markdown image and a phishing link, shown on History and on the run's page in Chromium. The
image's host is a server of ours on loopback: it must never be asked for the picture."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.browser import goto, idle, no_exception, shot


@pytest.fixture
def tracker():
    """A loopback server that counts every request (a fetched image or a followed link would show here)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def _hostile_run(store_url: str, base: str) -> int:
    """A live run whose model name and provider error are markup, written as a run would be."""
    from blindrefusal import store

    engine = store.open_default(store_url)
    markup = f"![seen]({base}/track.png) [Re-enter your password]({base}/phish) :red[alarm] <b>bold</b>"
    case, _ = store.find_cases(engine, limit=1)
    key = "openai/evil-" + base[-5:]
    model_id = store.save_models(engine, [{"key": key, "display_name": markup, "litellm_model": key,
                                           "provider": "other", "params": {}, "source": "live"}])[key]
    run_id = store.create_run(engine, "live", label="hostile", case_id=case[0]["id"],
                              params={"models": [key], "judge": f"llm:{markup}"})
    store.save_responses(engine, run_id, "live", [store.ResponseRow(
        case_id=case[0]["id"], model_config_id=model_id, text="", status="error", error=f"HTTP 500: {markup}")])
    engine.dispose()
    return run_id


def test_markup_in_a_model_name_and_an_error_is_shown_as_text_and_fetches_nothing(page, app, browser_store, tracker):
    base, hits = tracker
    run_id = _hostile_run(browser_store[0], base)
    for path in ("/history", f"/live?run={run_id}"):
        goto(page, app, path)
        idle(page)
        page.get_by_text("Re-enter your password", exact=False).first.wait_for()
        no_exception(page)
        assert page.locator(f'img[src^="{base}"]').count() == 0, path
        assert page.locator(f'a[href^="{base}"]').count() == 0, path
        assert page.locator("b", has_text="bold").count() == 0, path
    shot(page, "inert_run_page")
    idle(page)
    assert hits == []  # the browser never asked our server for the "image"
