"""Identities and roles (blindrefusal.identity): BR_ROLES read strictly, exact names before domains before the
default, runner above reviewer above viewer, and a judge name per identity that no other identity shares."""

from __future__ import annotations

import pytest

from blindrefusal import identity
from blindrefusal.identity import REVIEWER, RUNNER, VIEWER, IdentityError, parse_roles


def test_exact_identities_win_over_domains_and_domains_over_the_default():
    roles = parse_roles("ada@example.org=runner, *@example.org=reviewer\nEve@Other.example=viewer", default=VIEWER)
    assert roles.role_of("ada@example.org") == RUNNER
    assert roles.role_of("ADA@example.org") == RUNNER  # e-mail addresses compare case-insensitively
    assert roles.role_of("bob@example.org") == REVIEWER
    assert roles.role_of("eve@other.example") == VIEWER
    assert roles.role_of("carol@elsewhere.example") == VIEWER  # the default
    assert roles.role_of("bob@sub.example.org") == VIEWER  # a wildcard names one domain, not its subdomains
    assert roles.role_of("1234567890") == VIEWER  # a `sub` without @ gets the default
    assert roles.role_of(None) == VIEWER and roles.role_of("") == VIEWER  # not signed in


def test_the_default_role_is_reviewer_and_empty_rules_are_fine():
    roles = parse_roles("")
    assert roles.role_of("anyone@example.org") == REVIEWER
    assert parse_roles(" , ,", default=" Runner ").role_of("x@example.org") == RUNNER


@pytest.mark.parametrize("rules", ["ada@example.org", "ada@example.org=admin", "=runner", "*.example.org=runner",
                                   "*@=runner", "a*@example.org=runner",
                                   "ada@example.org=runner,ADA@example.org=viewer"])
def test_an_unreadable_entry_is_an_error_naming_its_position_not_its_identity(rules):
    with pytest.raises(IdentityError) as err:
        parse_roles(rules)
    assert "BR_ROLES entry" in str(err.value) and "ada" not in str(err.value)


def test_a_repeated_entry_with_the_same_role_is_fine_and_a_bad_default_is_an_error():
    assert parse_roles("ada@example.org=runner,ada@example.org=runner").role_of("ada@example.org") == RUNNER
    with pytest.raises(IdentityError, match="BR_DEFAULT_ROLE"):
        parse_roles("", default="admin")


def test_roles_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("BR_ROLES", "ada@example.org=runner")
    monkeypatch.setenv("BR_DEFAULT_ROLE", "viewer")
    roles = identity.role_table()
    assert roles.role_of("ada@example.org") == RUNNER and roles.role_of("bob@example.org") == VIEWER
    monkeypatch.delenv("BR_DEFAULT_ROLE")
    assert identity.role_table().role_of("bob@example.org") == REVIEWER


def test_runner_implies_reviewer_and_only_a_runner_spends_or_deletes_runs():
    assert [identity.may_label(r) for r in (VIEWER, REVIEWER, RUNNER)] == [False, True, True]
    assert [identity.may_spend(r) for r in (VIEWER, REVIEWER, RUNNER)] == [False, False, True]
    assert [identity.may_delete_runs(r) for r in (VIEWER, REVIEWER, RUNNER)] == [False, False, True]
    assert not identity.may_label("admin") and not identity.may_spend("admin")


def test_the_identity_is_the_verified_email_else_the_sub():
    assert identity.identity_of({"email": " Ada@Example.org ", "email_verified": "true",
                                 "sub": "42"}) == "ada@example.org"
    assert identity.identity_of({"email": "ada@example.org", "sub": "42"}) == "42"  # not said verified: not trusted
    assert identity.identity_of({"email": "ada@example.org", "email_verified": True, "sub": "42"}) == "ada@example.org"
    assert identity.identity_of({"email": "ada@example.org", "email_verified": False, "sub": "42"}) == "42"
    assert identity.identity_of({"email": "ada@example.org", "email_verified": "false", "sub": "42"}) == "42"
    assert identity.identity_of({"sub": "42"}) == "42"
    assert identity.identity_of({"email": "", "sub": ""}) is None
    assert identity.identity_of({"email": "ada @example.org"}) is None  # no whitespace in an identity
    assert identity.identity_of({"sub": "x" * (identity.MAX_IDENTITY + 1)}) is None


def test_each_identity_has_its_own_judge_name_never_shortened():
    long_a, long_b = "a" * 70 + "@example.org", "a" * 70 + "@example.com"
    assert identity.judge_name("ada@example.org") == "human:ada@example.org"
    assert identity.judge_name(long_a) != identity.judge_name(long_b)  # a typed name is cut at 60, an identity never
    for bad in ("", "ada @example.org", "ada\n", "x" * (identity.MAX_IDENTITY + 1)):
        with pytest.raises(IdentityError):
            identity.judge_name(bad)


def test_missing_auth_settings_are_named():
    assert identity.missing_auth_settings({}) == list(identity.AUTH_SETTINGS)
    complete = {name: "x" for name in identity.AUTH_SETTINGS}
    assert identity.missing_auth_settings(complete) == []
    assert identity.missing_auth_settings({**complete, "client_secret": ""}) == ["client_secret"]
