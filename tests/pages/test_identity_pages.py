"""Sign-in on the pages (AppTest, st.user seeded): with `[auth]` a label is stored under the signed-in account
whatever the link or the session holds, a viewer or a visitor who is not signed in gets no label form, a broken
setting locks labelling instead of opening it; without `[auth]` the local app works as before.
The real OIDC flow, in Chromium, is tests/e2e/test_sign_in.py."""

from __future__ import annotations

import html
import json

import pytest
from streamlit.testing.v1 import AppTest

from blindrefusal import store as q
from tests.support import ROOT

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "a-test-secret-of-32-characters!!",
        "client_id": "blind-refusal", "client_secret": "test", "server_metadata_url":
        "http://localhost:9/.well-known/openid-configuration"}
ADA = {"is_logged_in": True, "email": "ada@example.org", "email_verified": True, "name": "Ada **Lovelace**",
       "sub": "ada-sub"}
CASE = "fx_content_defeat_landlord_1"


def _app(page: str, params: dict | None = None, user: dict | None = None, auth: dict | None = AUTH,
         state: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if auth is not None:
        at.secrets["auth"] = auth
    at.user = user if user is not None else {"is_logged_in": False}
    for k, v in (params or {}).items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
                     + [e.value for e in at.error] + [w.value for w in at.warning] + [t.value for t in at.text])


def _buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def _save(at: AppTest, response_type: str = "hard_refusal") -> None:
    at.radio[0].set_value(response_type)
    next(b for b in at.button if b.label == "Save label").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def _human_judges(engine) -> list[str]:
    return [j for j in q.judges_present(engine) if j.startswith("human:")]


def test_a_signed_in_reviewer_labels_under_their_account_whatever_the_link_or_session_says(fixture_store):
    at = _app("app_pages/cases.py", {"case": CASE, "reviewer": "bob"}, user=ADA, state={"reviewer": "bob"})
    assert not [t for t in at.text_input if t.label.startswith("Reviewer name")]  # no typed name with sign-in
    assert "Signed in as Ada **Lovelace** (ada@example.org)" in [t.value for t in at.text]  # st.text: no markdown
    assert "Role: reviewer" in _texts(at) and "Sign out" in _buttons(at)
    assert "reviewer" not in at.query_params
    _save(at)
    assert _human_judges(fixture_store) == ["human:ada@example.org"]
    _save(at, "helps")  # a second label replaces the first: one per reviewer and answer
    assert _human_judges(fixture_store) == ["human:ada@example.org"]
    assert len(q.judgment_pairs(fixture_store, "human:ada@example.org", "gpt-5.4 (paper)")) == 1


def test_the_link_s_reviewer_is_ignored_with_a_message(fixture_store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["auth"] = AUTH
    at.user = ADA
    at.query_params["reviewer"] = "bob"
    at.run()
    assert any("Ignored `?reviewer=`" in i.value for i in at.info)
    assert "reviewer" not in at.query_params
    at.run()
    assert not any("Ignored `?reviewer=`" in i.value for i in at.info)  # said once


@pytest.mark.parametrize("user, env, expected", [
    ({"is_logged_in": False}, {}, "Sign in (sidebar) to label"),
    (ADA, {"BR_DEFAULT_ROLE": "viewer"}, "Your role (viewer)"),
    (ADA, {"BR_ROLES": "ada@example.org=viewer,*@example.org=runner"}, "Your role (viewer)"),
    (ADA, {"BR_ROLES": "ada@example.org=admin"}, "Your role (viewer)"),  # an unreadable setting locks labelling
])
def test_no_label_form_for_a_viewer_or_a_visitor_not_signed_in(fixture_store, monkeypatch, user, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = _app("app_pages/cases.py", {"case": CASE}, user=user)
    assert "Save label" not in _buttons(at)
    assert ("Sign in" in _buttons(at)) == (not user.get("is_logged_in"))
    if "admin" in env.get("BR_ROLES", ""):
        assert "BR_ROLES entry 1" in _texts(at) and "every visitor is a viewer" in _texts(at)
    cell = _app("app_pages/cases.py", {"queue": "cell", "qr": "model:model-a", "qc": "family:content_defeat"},
                user=user)
    assert expected in _texts(cell) and "Save label" not in _buttons(cell)
    assert _human_judges(fixture_store) == []


@pytest.mark.parametrize("auth, missing", [
    ({"client_id": "x", "redirect_uri": "y"}, "lacks cookie_secret, client_secret, server_metadata_url"),
    ({}, "lacks redirect_uri, cookie_secret, client_id, client_secret, server_metadata_url"),  # an empty [auth]
])
def test_an_empty_or_incomplete_auth_section_locks_the_app_and_names_what_is_missing(fixture_store, auth, missing):
    for page in ("app_pages/cases.py", "app_pages/history.py"):
        at = _app(page, {"case": CASE}, user=ADA, auth=auth)
        assert "This app is locked" in _texts(at) and missing in _texts(at)
        assert _buttons(at) == [] and not at.text_input and not at.get("plotly_chart")


def test_without_sign_in_the_local_app_keeps_the_typed_name_and_lets_everyone_label(fixture_store, monkeypatch):
    monkeypatch.setenv("BR_DEFAULT_ROLE", "viewer")
    at = _app("app_pages/cases.py", {"case": CASE, "reviewer": "quinn"}, user={}, auth=None)
    assert "roles do not apply" in _texts(at)
    field = next(t for t in at.text_input if t.label.startswith("Reviewer name"))
    assert field.value == "quinn" and at.query_params.get("reviewer") == "quinn"
    _save(at)
    assert _human_judges(fixture_store) == ["human:quinn"]


def _who():
    import streamlit as st

    from components.sign_in import can_label, can_spend, current_identity, current_role, visitor_id

    st.text(f"{current_identity()}|{current_role()}|{can_label()}|{can_spend()}|{visitor_id()}")


@pytest.mark.parametrize("user, env, expected", [
    (ADA, {"BR_ROLES": "ada@example.org=runner"}, "ada@example.org|runner|True|True|ada@example.org"),
    ({**ADA, "email": "bob@example.org"}, {"BR_ROLES": "*@example.org=reviewer", "BR_DEFAULT_ROLE": "viewer"},
     "bob@example.org|reviewer|True|False|bob@example.org"),
    ({"is_logged_in": True, "sub": "carol-sub"}, {}, "carol-sub|reviewer|True|False|carol-sub"),
    ({"is_logged_in": False}, {}, "None|viewer|False|False|session:"),
])
def test_what_the_spending_guard_reads(monkeypatch, user, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_function(_who)
    at.secrets["auth"] = AUTH
    at.user = user
    at.run()
    first = at.text[0].value
    assert first.startswith(expected)
    at.run()
    assert at.text[0].value == first  # the visitor id is stable across reruns of the session


def test_without_sign_in_everyone_is_a_runner_with_a_session_visitor_id():
    at = AppTest.from_function(_who)
    at.run()
    assert at.text[0].value.startswith("None|runner|True|True|session:")


@pytest.mark.parametrize("user, env, may_delete", [
    (ADA, {"BR_ROLES": "ada@example.org=runner"}, True),
    (ADA, {}, False),  # a reviewer labels, but deleting a run takes every reviewer's labels with it
    ({"is_logged_in": False}, {}, False),
])
def test_only_a_runner_deletes_runs(fixture_store, monkeypatch, user, env, may_delete):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    q.create_run(fixture_store, "live", label="a run to keep")
    at = _app("app_pages/history.py", user=user)
    assert ("Delete for good" in _buttons(at)) == may_delete
    assert "Live run" in _texts(at)


def test_judge_agreement_shows_a_reviewer_s_name_as_text(fixture_store):
    from blindrefusal.judges.human import set_human_label

    name = "<b>x</b> [link](https://example.org) %{z}"
    rid = next(r["id"] for r in q.responses_for(fixture_store) if r["eff_response_type"])
    set_human_label(fixture_store, rid, "human:" + name, "helps", False, False)
    at = _app("app_pages/agreement.py", auth=None, user={})
    assert f"` {name} ` vs gpt-5.4 (paper)" in [s.value for s in at.subheader]  # inline code: no markdown
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert "<b>x</b>" not in json.dumps(figures)
    mine = [f for f in figures if f["data"][0].get("meta", [None])[0] == html.escape(name)]
    assert len(mine) == 3  # one per label, the name escaped for plotly's HTML-like labels
    for figure in mine:  # and handed to the hover as data, never as its template
        assert figure["layout"]["yaxis"]["title"]["text"] == html.escape(name)
        hover = figure["data"][0]["hovertemplate"]
        assert "%{meta[0]}" in hover and "link" not in hover


def test_with_a_demo_password_a_stranger_reads_but_changes_nothing_until_they_give_it(fixture_store, monkeypatch):
    """No sign-in, APP_PASSWORD set: no Delete, no label form, no job started or cancelled (issue 36)."""
    monkeypatch.setenv("APP_PASSWORD", "letmein")
    q.create_run(fixture_store, "live", label="a run to keep")
    history = _app("app_pages/history.py", user={}, auth=None)
    assert "Delete for good" not in _buttons(history) and "Live run" in _texts(history)
    cases = _app("app_pages/cases.py", {"case": CASE, "reviewer": "quinn"}, user={}, auth=None)
    assert "Save label" not in _buttons(cases)
    queue = _app("app_pages/cases.py", {"queue": "cell", "qr": "model:model-a", "qc": "family:content_defeat"},
                 user={}, auth=None)
    assert "Save label" not in _buttons(queue) and "enter the demo password in the sidebar to label" in _texts(queue)
    spot = _app("app_pages/spot_check.py", user={}, auth=None)
    assert "Estimate and run" in _buttons(spot)

    history.text_input(key="demo_password_sidebar").set_value("wrong").run()
    assert "Wrong password." in _texts(history) and "Delete for good" not in _buttons(history)
    history.text_input(key="demo_password_sidebar").set_value("letmein").run()
    assert "Delete for good" in _buttons(history) and not history.exception


def test_a_job_s_start_and_cancel_need_the_runner(monkeypatch):
    from components.sign_in import change_prompt

    monkeypatch.setenv("APP_PASSWORD", "letmein")
    at = AppTest.from_function(_who)
    at.run()
    assert at.text[0].value.startswith("None|viewer|False|False|session:")
    at.session_state["unlocked"] = True
    at.run()
    assert at.text[0].value.startswith("None|runner|True|True|session:")
    assert "password" in change_prompt("start a spot-check")
