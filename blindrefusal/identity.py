"""Who a signed-in visitor is and what their role lets them do.

Sign-in itself is Streamlit's (OIDC, `[auth]` in .streamlit/secrets.toml); this module reads the provider's
claims, the host's roles (BR_ROLES, BR_DEFAULT_ROLE) and names the judge a reviewer's labels are stored under.
Roles: a viewer reads, a reviewer also labels answers, a runner also runs paid models and deletes runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from blindrefusal import config
from vocabulary import HUMAN_PREFIX, BlindRefusalError

VIEWER, REVIEWER, RUNNER = "viewer", "reviewer", "runner"
ROLES = (VIEWER, REVIEWER, RUNNER)  # each role may do everything the ones before it may
AUTH_SETTINGS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
MAX_IDENTITY = 320  # the longest e-mail address a mail server accepts, with room to spare for a `sub`
_UNUSABLE = re.compile(r"[\s\x00-\x1f\x7f]")


class IdentityError(BlindRefusalError):
    """A roles setting the app cannot use (the message says which entry, never whose)."""


@dataclass(frozen=True)
class RoleTable:
    """Roles by identity (case-insensitive), then by e-mail domain (`*@example.org`), then the default."""

    by_identity: dict[str, str]
    by_domain: dict[str, str]
    default: str

    def role_of(self, identity: str | None) -> str:
        """A visitor who is not signed in is a viewer."""
        if not identity:
            return VIEWER
        key = identity.lower()
        if key in self.by_identity:
            return self.by_identity[key]
        _, at, domain = key.rpartition("@")
        return self.by_domain.get(domain, self.default) if at else self.default


def _entry(position: int, text: str) -> tuple[bool, str, str]:
    """(is a domain wildcard, identity or domain, role) of one `identity=role` entry of BR_ROLES."""
    who, equals, role = (part.strip() for part in text.partition("="))
    role = role.lower()
    where = f"BR_ROLES entry {position}"
    if not equals or not who or role not in ROLES:
        raise IdentityError(f"{where}: expected `identity=role`, with a role of {', '.join(ROLES)}.")
    if who.startswith("*@"):
        domain = who[2:].lower()
        if not domain or "@" in domain or "*" in domain or _UNUSABLE.search(domain):
            raise IdentityError(f"{where}: a wildcard is written `*@domain`, e.g. `*@example.org`.")
        return True, domain, role
    if "*" in who:
        raise IdentityError(f"{where}: the only wildcard is a whole e-mail domain, e.g. `*@example.org`.")
    return False, who.lower(), role


def parse_roles(rules: str, default: str = REVIEWER) -> RoleTable:
    """BR_ROLES (`ada@example.org=runner,*@example.org=reviewer`, commas or new lines between entries) with
    BR_DEFAULT_ROLE. An entry that cannot be read is an error, not skipped: skipping it could hand its
    identity the default role instead of the one the host meant."""
    default = (default or REVIEWER).strip().lower()
    if default not in ROLES:
        raise IdentityError(f"BR_DEFAULT_ROLE: expected one of {', '.join(ROLES)}.")
    by_identity: dict[str, str] = {}
    by_domain: dict[str, str] = {}
    entries = [e.strip() for e in re.split(r"[,\n]", rules or "") if e.strip()]
    for position, text in enumerate(entries, 1):
        wildcard, key, role = _entry(position, text)
        table = by_domain if wildcard else by_identity
        if table.get(key, role) != role:
            raise IdentityError(f"BR_ROLES entry {position}: gives a second role to an identity named before.")
        table[key] = role
    return RoleTable(by_identity, by_domain, default)


def role_table() -> RoleTable:
    """The host's roles, from the environment."""
    return parse_roles(config.role_rules(), config.default_role() or REVIEWER)


def identity_of(claims: Mapping) -> str | None:
    """The identity of a signed-in user: the e-mail address (lower-cased) when the provider says it is verified,
    else the `sub` (an unverified or unconfirmed address could be anyone's); None when neither is usable."""
    email = claims.get("email")
    verified = str(claims.get("email_verified")).lower() == "true"  # only a provider's explicit yes counts
    if isinstance(email, str) and verified and _usable(email.strip()):
        return email.strip().lower()
    sub = claims.get("sub")
    return sub.strip() if isinstance(sub, str) and _usable(sub.strip()) else None


def _usable(identity: str) -> bool:
    return 0 < len(identity) <= MAX_IDENTITY and not _UNUSABLE.search(identity)


def judge_name(identity: str) -> str:
    """The judge a signed-in reviewer's labels are stored under: `human:<identity>`, never shortened, so two
    identities never share one."""
    if not _usable(identity):
        raise IdentityError("This account has no usable e-mail address or subject to store labels under.")
    return HUMAN_PREFIX + identity


def may_label(role: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(REVIEWER)


def may_spend(role: str) -> bool:
    """Whether the role may run paid models (spend the host's money)."""
    return role == RUNNER


def may_delete_runs(role: str) -> bool:
    """Whether the role may delete runs, with every reviewer's labels on them: a runner's, as spending is."""
    return role == RUNNER


def may_run_jobs(role: str) -> bool:
    """Whether the role may start or cancel long jobs (spot-checks, case generation, re-judging): a runner's."""
    return role == RUNNER


def missing_auth_settings(section: Mapping) -> list[str]:
    """The settings of `[auth]` in secrets.toml that sign-in needs and that are missing or empty."""
    return [name for name in AUTH_SETTINGS if not section.get(name)]
