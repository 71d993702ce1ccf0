"""Fixtures of the browser tests: a store (the imported paper, or the fixture release), the app served by
`streamlit run app.py` with the real local model, and one Chromium page per module.

Skipped (with a message) where chromium is missing; CI installs it and sets BR_REQUIRE_BROWSER=1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.app_server import AppServer
from tests.support.browser import ARGS, OUT, chromium


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:  # the hook sees every item of the session: mark only this folder's
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser_store(tmp_path_factory, request) -> tuple[str, bool]:
    """The imported paper when BR_DATA_SOURCE is available, else the synthetic fixture release."""
    from blindrefusal.paper.importer import import_paper
    from db.engine import open_store
    from tests.support.release_fixture import write_fixture_release

    tmp = tmp_path_factory.mktemp("browser")
    src = os.environ.get("BR_DATA_SOURCE")
    is_paper = bool(src and Path(src).exists())
    if is_paper:
        path = request.getfixturevalue("paper_store_path")
        shutil.copy(path, tmp / "store.sqlite")
    else:
        eng = open_store(f"sqlite:///{tmp / 'store.sqlite'}")
        import_paper(str(write_fixture_release(tmp / "release")), engine=eng)
        eng.dispose()
    return f"sqlite:///{tmp / 'store.sqlite'}", is_paper


@pytest.fixture(scope="module")
def app(browser_store, local_model_url):
    OUT.mkdir(parents=True, exist_ok=True)
    env = {"BR_DATABASE_URL": browser_store[0], "BR_LOCAL_MODEL_URL": local_model_url}
    with AppServer(env, OUT / "streamlit.log") as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def patient_assertions():
    """Playwright's `expect` waits 5 s by default, whatever the page's own timeout: too short for a page that is
    still replacing its elements on a loaded machine (a fresh clone's run beside `stress-ng` failed on it). The
    pages' 60 s, for every assertion of the browser tests."""
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, one per module (a module that serves its own app opens its own pages on it)."""
    from playwright.sync_api import sync_playwright

    exe = chromium()
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=exe, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(app, browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 1800})
    pg.set_default_timeout(60_000)
    yield pg
    pg.close()
