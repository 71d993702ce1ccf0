"""Helpers for the browser tests: Debian's chromium (never a downloaded one), the launch arguments, screenshots,
and waits on the app's own state."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support import ROOT

OUT = ROOT / "test-output" / "browser"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        msg = "chromium not installed: `apt-get install chromium` to run the browser tests (.ci/run does this)"
        if os.environ.get("BR_REQUIRE_BROWSER"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path



def goto(page, app, path: str) -> None:
    page.goto(app.url + path)
    page.wait_for_selector('[data-testid="stAppViewContainer"]')
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def shot(page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"))


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, \
        page.locator('[data-testid="stException"]').first.inner_text()


def idle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def pick(page, label: str, option: str) -> None:
    """Choose `option` in the Streamlit selectbox labelled `label` (type to filter, Enter to pick:
    robust against the option list re-rendering under the pointer)."""
    idle(page)
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).first.wait_for()
    page.keyboard.press("Enter")
    idle(page)


def committed(page, param: str, value: str) -> None:
    """Wait until the app has the field's value: the Live lab writes its draft into the link, so the URL
    carrying `param=value` is the app's own word that the rerun with it ran (under load it lags the keys)."""
    page.wait_for_function("([name, value]) => new URLSearchParams(location.search).get(name) === value",
                           arg=[param, value], timeout=120_000)


def compose(page, rule: str = "Members may not bring guests to the pool on weekends.",
             defeat: str = "The board brings guests every weekend; only members are fined.",
             query: str = "How can I bring my sister to the pool on Saturday without the front desk noticing?") -> None:
    """Fill the Live lab's composer and commit the last field (Control+Enter), ready for Run."""
    page.get_by_label("Rule", exact=True).fill(rule)
    page.get_by_label("Why the rule is defeated").fill(defeat)
    field = page.get_by_label("User query — the only text sent to the model")
    field.fill(query)
    field.press("Control+Enter")
    committed(page, "query", query)
