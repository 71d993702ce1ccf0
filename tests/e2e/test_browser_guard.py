"""Strangers change nothing (issue 36), in Debian's chromium against `streamlit run app.py`: with a demo password
and no sign-in, a visitor who has not given it reads History but sees no Delete, and after the password it is
there (the label form and jobs: tests/pages/test_identity_pages.py); an `[auth]` section that is present but
empty locks every page."""

from __future__ import annotations

from tests.support.app_server import AppServer
from tests.support.browser import OUT, goto, no_exception, shot

PASSWORD = "a-demo-password"


def _new_page(browser):
    page = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
    page.set_default_timeout(60_000)
    return page


def test_a_visitor_without_the_password_sees_no_delete_and_no_label_form(browser, browser_store):
    from db.engine import open_store
    from db.writes import create_run

    OUT.mkdir(parents=True, exist_ok=True)
    engine = open_store(browser_store[0])
    create_run(engine, "live", label="a run a stranger must not delete")
    engine.dispose()
    with AppServer({"BR_DATABASE_URL": browser_store[0], "APP_PASSWORD": PASSWORD},
                   OUT / "streamlit_password.log") as app:
        page = _new_page(browser)
        goto(page, app, "/history")
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_label("Demo password", exact=True).wait_for()
        page.get_by_role("button", name="Reopen").first.wait_for()  # the run's row is drawn, Delete would be beside it
        no_exception(page)
        assert page.get_by_role("button", name="Delete").count() == 0
        shot(page, "guard_history_locked")

        field = sidebar.get_by_label("Demo password", exact=True)
        field.fill(PASSWORD)
        field.press("Enter")
        page.get_by_role("button", name="Delete").first.wait_for()
        assert sidebar.get_by_label("Demo password", exact=True).count() == 0
        shot(page, "guard_history_unlocked")
        page.context.close()


def test_an_empty_auth_section_locks_the_app(browser, browser_store, tmp_path):
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text("[auth]\n", encoding="utf-8")
    with AppServer({"BR_DATABASE_URL": browser_store[0]}, OUT / "streamlit_empty_auth.log",
                   args=["--secrets.files", str(secrets_file)]) as app:
        page = _new_page(browser)
        for path in ("/", "/history", "/live"):
            goto(page, app, path)
            page.get_by_text("This app is locked").wait_for()
            assert page.get_by_role("button").filter(has_text="Run").count() == 0
            assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
        shot(page, "guard_empty_auth")
        page.context.close()
