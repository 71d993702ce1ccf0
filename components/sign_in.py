"""Sign-in and roles on the page, and the reviewer a label is stored under.

With `[auth]` in .streamlit/secrets.toml, visitors sign in through Streamlit's OIDC (st.login / st.user /
st.logout), a label is stored under the signed-in identity, and BR_ROLES decides who may label and who may
run paid models. Without it the app is a single-user local app, as before: a typed reviewer name (also taken
from ?reviewer=), and everyone may label and run models."""

from __future__ import annotations

import hmac
import uuid
from typing import Mapping

import streamlit as st

from blindrefusal import identity
from blindrefusal.config import app_password, default_role, role_rules
from blindrefusal.judges.human import REVIEWER_LIMIT, LabelError, reviewer_judge_name
from components.limits import length_note
from components.resources import once_per_run
from components.url_state import bind, publish, qp, set_qp

_VISITOR = "_visitor_id"
_UNLOCKED = "unlocked"  # session state: this browser session gave the demo password


def _auth_section() -> Mapping | None:
    """`[auth]` of secrets.toml (an empty mapping when the section is there but empty), or None when there is
    no secrets file or no such section. Looked up once per script run."""
    return once_per_run("auth_section", _read_auth_section)


def _read_auth_section() -> Mapping | None:
    if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
        return None
    section = st.secrets.get("auth")
    return section if isinstance(section, Mapping) else {}


def sign_in_configured() -> bool:
    """Whether the host set up sign-in: an `[auth]` section, even an empty or incomplete one, so a typo locks the
    app (`auth_lock`) instead of opening it to everyone."""
    return _auth_section() is not None


def auth_lock() -> str | None:
    """Why the app is locked (an `[auth]` section that sign-in cannot use), or None."""
    section = _auth_section()
    missing = identity.missing_auth_settings(section) if section is not None else []
    if not missing:
        return None
    return ("This app is locked: its sign-in is set up incompletely (`[auth]` in .streamlit/secrets.toml lacks "
            + ", ".join(missing) + "). Until the host fixes it, nobody can read, sign in, label or run anything.")


def unlocked() -> bool:
    """Whether this browser session gave the demo password (APP_PASSWORD), or none is set."""
    return not app_password() or bool(st.session_state.get(_UNLOCKED))


def current_identity() -> str | None:
    """The signed-in user's e-mail address (or `sub`), or None: not signed in, or sign-in not configured or
    incomplete."""
    section = _auth_section()
    if section is None or identity.missing_auth_settings(section) or st.user.get("is_logged_in") is not True:
        return None
    return identity.identity_of(st.user.to_dict())


def _roles() -> identity.RoleTable | None:
    """The host's roles, or None when BR_ROLES or BR_DEFAULT_ROLE cannot be read (the sidebar says why)."""
    try:
        return identity.role_table()
    except identity.IdentityError:
        return None


def current_role() -> str:
    """With sign-in, the signed-in user's role (a visitor who is not signed in, or any visitor while the roles
    setting is broken, is a viewer). Without it, a local app: everyone is a runner, unless the host set a demo
    password (APP_PASSWORD), which a visitor must give first; until then they are a viewer and only read."""
    if not sign_in_configured():
        return identity.RUNNER if unlocked() else identity.VIEWER
    roles = _roles()
    return roles.role_of(current_identity()) if roles else identity.VIEWER


def can_label() -> bool:
    """Whether this visitor may label answers."""
    return identity.may_label(current_role())


def can_spend() -> bool:
    """Whether this visitor may run paid models."""
    return identity.may_spend(current_role())


def can_delete_runs() -> bool:
    """Whether this visitor may delete runs (and every reviewer's labels on them)."""
    return identity.may_delete_runs(current_role())


def can_run_jobs() -> bool:
    """Whether this visitor may start or cancel long jobs (spot-checks, case generation, re-judging)."""
    return identity.may_run_jobs(current_role())


def change_prompt(what: str) -> str:
    """What to do before `what` (e.g. "start a spot-check"), for a visitor who may not."""
    if not sign_in_configured():
        return f"This server is password-protected: enter the demo password in the sidebar to {what}."
    if current_identity() is None:
        return f"Sign in (sidebar) to {what}."
    return f"Your role ({current_role()}) may read but not {what}; the host gives that to runners (BR_ROLES)."


def visitor_id() -> str:
    """The signed-in identity, else an id kept for this browser session (a reload starts a new one)."""
    who = current_identity()
    if who:
        return who
    if _VISITOR not in st.session_state:
        st.session_state[_VISITOR] = f"session:{uuid.uuid4().hex}"
    return st.session_state[_VISITOR]


def reviewer_judge() -> str | None:
    """The judge this visitor's labels are stored under (`human:<identity>` when signed in, `human:<name>` in a
    local app), or None when they may not label yet. With sign-in, nothing typed or in the link counts."""
    if sign_in_configured():
        who = current_identity()
        return identity.judge_name(who) if who and can_label() else None
    try:
        return reviewer_judge_name(st.session_state.get("reviewer", ""))
    except LabelError:
        return None


def label_prompt() -> str:
    """What to do before labelling, for a visitor whose reviewer_judge() is None."""
    if not sign_in_configured():
        return ("Enter your reviewer name in the sidebar to label." if unlocked() else
                "This server is password-protected: enter the demo password in the sidebar to label.")
    if current_identity() is None:
        return "Sign in (sidebar) to label answers."
    return f"Your role ({current_role()}) may read but not label; the host sets roles in BR_ROLES."


def password_box(where: str = "sidebar") -> None:
    """The demo password (APP_PASSWORD), asked once per browser session; nothing when none is set or it was given."""
    password = app_password()
    if not password or st.session_state.get(_UNLOCKED):
        return
    entered = st.text_input("Demo password", type="password", key=f"demo_password_{where}",
                            help="Without it you may read every page and run the local model. With it you may also "
                                 "label answers, run paid models and judges, start or cancel jobs, and delete runs.")
    if entered:
        if hmac.compare_digest(entered.encode(), password.encode()):
            st.session_state[_UNLOCKED] = True
            st.rerun()
        st.error("Wrong password.")


def reviewer_box() -> None:
    """The sidebar's reviewer block: sign-in when configured, else the demo password (when one is set) and the
    typed reviewer name."""
    if sign_in_configured():
        _sign_in_box()
        return
    if not unlocked():
        st.caption("Reading is open to all. To label, run paid models, start jobs or delete runs:")
        password_box()
        return
    if role_rules() or default_role():
        st.warning("BR_ROLES / BR_DEFAULT_ROLE are set, but sign-in is not configured (`[auth]` in "
                   ".streamlit/secrets.toml): roles do not apply, and every visitor may label and run models.")
    bind("reviewer", "reviewer", "", sticky=True)  # remembered for the browser session
    st.text_input("Reviewer name (for human labels)", key="reviewer", placeholder="e.g. alex",
                  help="Labels you set on a response card are stored as judge `human:<name>`. They show in the "
                       "corrected view and in live runs; the paper's published numbers never change.")
    length_note(st.session_state.get("reviewer") or "", REVIEWER_LIMIT, "label")
    publish("reviewer", "reviewer", "")  # kept in the link, so a shared review link keeps the name


def _sign_in_box() -> None:
    if auth_lock():
        return  # the page says why (app.py stops every page)
    try:
        identity.role_table()
    except identity.IdentityError as exc:
        st.error(f"{exc} Until the host fixes it, every visitor is a viewer.")
    if st.user.get("is_logged_in") is not True:
        st.caption("Sign in to label answers (and, with the runner role, to run paid models).")
        if st.button("Sign in", key="sign_in"):
            st.login()
        return
    who = current_identity()
    name = st.user.get("name")
    name = name.strip()[:80] if isinstance(name, str) else ""
    st.text(f"Signed in as {name} ({who})" if name and who else
            f"Signed in as {who or 'an account with no usable e-mail address or subject'}")
    st.caption(f"Role: {current_role()}. " + ("Your labels are stored under this account." if can_label() else
                                              "You may read; the host sets roles in BR_ROLES."))
    if st.button("Sign out", key="sign_out"):
        st.logout()


def ignore_reviewer_link() -> None:
    """With sign-in, ?reviewer= in a link never names the reviewer: drop it and say so (once)."""
    if sign_in_configured() and qp("reviewer") is not None:
        set_qp("reviewer", None)
        st.info("Ignored `?reviewer=` in the link: with sign-in, your labels are stored under the account you "
                "signed in with.")
