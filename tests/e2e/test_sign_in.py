"""Sign-in for teams, end to end in Debian's chromium: a real OIDC provider (oidc-provider-mock on loopback), the
app (`streamlit run app.py`) with `[auth]` in a temporary secrets file and roles in BR_ROLES, and a real store.

A reviewer signs in through the provider's own form and labels an answer: the store holds the label under the
signed-in account (a `?reviewer=` in the link changes nothing), Judge agreement shows it under that account, as
text, and signing out ends it. A viewer signs in and gets no label form, nor does a visitor not signed in."""

from __future__ import annotations

import re
import secrets
import sqlite3
import warnings
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.app_server import AppServer
from tests.support.browser import OUT, goto, idle, no_exception, shot

ROLES = "ada@example.org=runner,*@example.org=reviewer,eve@example.org=viewer"
NAMES = {"ada@example.org": "Ada <b>Lovelace</b> **bold**", "eve@example.org": "Eve Viewer"}


@pytest.fixture(scope="module")
def provider():
    """The OIDC provider on a free loopback port, with our two users' claims."""
    with warnings.catch_warnings():  # oidc-provider-mock 0.3.4 imports authlib.jose, deprecated in Authlib 1.9
        from authlib.deprecate import AuthlibDeprecationWarning  # (whose import sets "always" for its warnings)

        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        host, port = server.server_address[:2]
        url = f"http://{host}:{port}"
        for email, name in NAMES.items():
            claims = {"email": email, "email_verified": True, "name": name}
            assert httpx.put(f"{url}/users/{quote(email)}", json=claims).status_code == 204
        yield url


@pytest.fixture(scope="module")
def signed_app(browser_store, provider, tmp_path_factory):
    """The app with sign-in: `[auth]` in a secrets file outside the repository, passed with --secrets.files."""
    OUT.mkdir(parents=True, exist_ok=True)
    env = {"BR_DATABASE_URL": browser_store[0], "BR_ROLES": ROLES, "BR_DEFAULT_ROLE": "viewer"}
    secrets_file = tmp_path_factory.mktemp("sign_in") / "secrets.toml"
    server = AppServer(env, OUT / "streamlit_sign_in.log", args=["--secrets.files", str(secrets_file)])
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{server.url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "blind-refusal-test"\n'
        'client_secret = "test-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n', encoding="utf-8")
    with server:
        yield server


def _signed_in_page(browser, app, email: str):
    """A fresh browser (its own cookies) signed in as `email` through the provider's login form."""
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    goto(page, app, "/")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("button", name="Sign in").click()
    page.get_by_placeholder("sub").fill(email)  # the provider's own page
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(app.url) + r"/.*"))
    sidebar.get_by_text(f"Signed in as {NAMES[email]} ({email})", exact=True).wait_for()
    return page


def _case_of(store_url: str) -> tuple[str, str, str]:
    """(case key, model key, family) of an answer the paper's judge labelled and no reviewer has yet."""
    db = sqlite3.connect(store_url.removeprefix("sqlite:///"))
    row = db.execute("""SELECT c.key, m.key, c.family FROM response r JOIN "case" c ON c.id = r.case_id
                        JOIN model_config m ON m.id = r.model_config_id JOIN judgment j ON j.response_id = r.id
                        WHERE r.status = 'ok' AND j.judge = 'gpt-5.4 (paper)' AND NOT EXISTS (
                            SELECT 1 FROM judgment h WHERE h.response_id = r.id AND h.judge_kind = 'human')
                        ORDER BY c.key, m.key LIMIT 1""").fetchone()
    db.close()
    return row


def _human_labels(store_url: str) -> list[tuple[int, str, str]]:
    """(response id, judge, response type) of every reviewer's label in the store."""
    db = sqlite3.connect(store_url.removeprefix("sqlite:///"))
    rows = db.execute("SELECT response_id, judge, response_type FROM judgment WHERE judge_kind = 'human' "
                      "ORDER BY response_id").fetchall()
    db.close()
    return rows


def test_a_reviewer_signs_in_labels_under_their_account_and_sees_it_on_judge_agreement(browser, signed_app,
                                                                                         browser_store):
    store_url = browser_store[0]
    case_key, model, family = _case_of(store_url)
    page = _signed_in_page(browser, signed_app, "ada@example.org")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Role: runner").wait_for()
    assert sidebar.get_by_role("textbox", name="Reviewer name (for human labels)").count() == 0
    assert sidebar.locator("b, strong").filter(has_text="Lovelace").count() == 0  # the name is text, not markup
    shot(page, "sign_in_signed_in")

    goto(page, signed_app, f"/cases?case={case_key}&reviewer=mallory")
    page.get_by_text("Ignored ?reviewer= in the link").wait_for()
    page.wait_for_url(lambda url: "reviewer=" not in url)
    shot(page, "sign_in_reviewer_link_ignored")
    page.get_by_role("button", name="Set your own label").first.click()
    page.get_by_role("radiogroup", name="Response type").last.get_by_text("hard refusal", exact=True).click()
    page.get_by_role("button", name="Save label").last.click()
    page.get_by_text(re.compile(r"Saved your label for .* as human:ada@example\.org")).first.wait_for()
    no_exception(page)
    shot(page, "sign_in_labelled")
    labels = _human_labels(store_url)
    assert [(judge, rt) for _, judge, rt in labels] == [("human:ada@example.org", "hard_refusal")]

    # The label queue, opened from a link naming someone else, counts and stores this account's labels.
    goto(page, signed_app, f"/cases?queue=cell&qr=model:{model}&qc=family:{family}&reviewer=mallory")
    page.get_by_text(re.compile(r"labelled by you \(human:ada@example\.org\)")).wait_for()
    page.wait_for_url(re.compile(r".*qat=\d+.*"))
    page.get_by_role("radiogroup", name="Response type").last.get_by_text("deflects", exact=True).click()
    page.get_by_role("button", name="Save label").last.click()
    page.get_by_text(re.compile(r"Saved your label for .* as human:ada@example\.org")).first.wait_for()
    labels = _human_labels(store_url)
    assert len(labels) == 2 and {judge for _, judge, _ in labels} == {"human:ada@example.org"}
    assert "mallory" not in str(labels)

    goto(page, signed_app, "/agreement")
    heading = page.locator('[data-testid="stHeading"]').filter(has_text="ada@example.org vs gpt-5.4 (paper)")
    heading.first.wait_for()
    assert heading.first.locator("code").inner_text() == "ada@example.org"  # the identity as literal text
    assert heading.first.locator('a[href^="mailto:"]').count() == 0
    idle(page)
    heading.first.scroll_into_view_if_needed()
    no_exception(page)
    shot(page, "sign_in_agreement")

    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()  # the provider's own page
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign in").wait_for()
    page.context.close()


def test_a_viewer_signs_in_and_gets_no_label_form(browser, signed_app, browser_store):
    case_key, model, family = _case_of(browser_store[0])
    page = _signed_in_page(browser, signed_app, "eve@example.org")
    page.locator('[data-testid="stSidebar"]').get_by_text("Role: viewer. You may read").wait_for()
    goto(page, signed_app, f"/cases?case={case_key}")
    page.get_by_text("the only text sent to the model").wait_for()
    expect(page.get_by_role("button", name="Set your own label")).to_have_count(0)
    goto(page, signed_app, f"/cases?queue=cell&qr=model:{model}&qc=family:{family}")
    page.get_by_text("Your role (viewer) may read but not label").wait_for()
    page.get_by_text(re.compile(r"Response \d+ of \d+ in the queue")).wait_for()  # an answer on screen, no form
    expect(page.get_by_role("button", name="Save label")).to_have_count(0)
    no_exception(page)
    shot(page, "sign_in_viewer")
    page.context.close()


def test_a_visitor_not_signed_in_may_read_but_not_label(browser, signed_app, browser_store):
    case_key = _case_of(browser_store[0])[0]
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    goto(page, signed_app, f"/cases?case={case_key}&reviewer=ada%40example.org")
    page.get_by_text("the only text sent to the model").wait_for()
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign in").wait_for()
    expect(page.get_by_role("button", name="Set your own label")).to_have_count(0)
    no_exception(page)
    shot(page, "sign_in_not_signed_in")
    context.close()
