"""Settings read from the environment (and `.env`, via python-dotenv)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DATABASE_URL = "sqlite:///" + str(PROJECT_ROOT / "db" / "blindrefusal.sqlite")
DEFAULT_RELEASE_URL = (
    "https://github.com/mint-philosophy/mint-compliant-cameron/archive/"
    "650d95d1f6d448e82c705460b9f1b47c09b311f5.zip"
)
# litellm must never fetch its price map from the network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

load_dotenv(PROJECT_ROOT / ".env", override=False)


_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.I)
_BEARER = re.compile(r"(?i)\b(bearer|api[-_ ]?key|x-api-key)(\s*[:=]?\s*)([A-Za-z0-9._~+/=-]{8,})")
# A key, or a provider's masked echo of one ("sk-abc…****…XYZ", "sk-proj-*****abcd"): asterisks and ellipses too.
_KEY_LIKE = re.compile(r"\b(sk|rk|pk|xai|gsk|AIza)[-_A-Za-z0-9*…]{12,}"
                       r"|\b(sk|rk|pk|xai|gsk)-[-_A-Za-z0-9]{2,}(\*|…|\.\.\.)[-_A-Za-z0-9*…. ]*?[A-Za-z0-9]{2,}\b")


def redact(text: str | None) -> str | None:
    """Remove credentials from text that will be shown or stored (provider error messages echo them)."""
    if not text:
        return text
    for name, value in os.environ.items():
        if value and len(value) >= 8 and _SECRET_ENV.search(name) and value in text:
            text = text.replace(value, "[redacted]")
    text = _BEARER.sub(lambda m: m.group(1) + m.group(2) + "[redacted]", text)
    return _KEY_LIKE.sub("[redacted]", text)


def database_url() -> str:
    return os.environ.get("BR_DATABASE_URL") or DEFAULT_DATABASE_URL


def data_source() -> str:
    return os.environ.get("BR_DATA_SOURCE") or DEFAULT_RELEASE_URL


def judge_model() -> str | None:
    return os.environ.get("BR_JUDGE_MODEL") or None


def judge_api_base() -> str | None:
    """An OpenAI-compatible base URL for a self-hosted LLM judge (optional)."""
    return os.environ.get("BR_JUDGE_API_BASE") or None


def allowed_api_bases() -> dict[str, str | None] | None:
    """BR_ALLOWED_API_BASES: the OpenAI-compatible servers a visitor may name, each with the environment variable
    of the key the host sends there (`https://llm.example.org/v1=EXAMPLE_KEY,http://127.0.0.1:8000/v1`; a base
    without `=` gets no key). None when unset: any base may be named, and none gets a host key. `none`: no
    base but the allowlist's (that is, none)."""
    raw = os.environ.get("BR_ALLOWED_API_BASES")
    if raw is None:
        return None
    out: dict[str, str | None] = {}
    for item in raw.split(","):
        base, _, key_env = item.strip().partition("=")
        if base and base.lower() != "none":
            out[normalise_api_base(base)] = key_env.strip() or None
    return out


def normalise_api_base(base: str) -> str:
    """One spelling per server: no surrounding space, no trailing slash, a lower-case scheme and host."""
    base = base.strip().rstrip("/")
    scheme, sep, rest = base.partition("://")
    if not sep:
        return base
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


def max_paid_calls() -> int | None:
    """BR_MAX_PAID_CALLS: paid model and judge calls the whole server may make per budget window (None: no cap).
    BR_MAX_CALLS_PER_SESSION, its older name, is read when it is unset."""
    raw = os.environ.get("BR_MAX_PAID_CALLS") or os.environ.get("BR_MAX_CALLS_PER_SESSION")
    return int(raw) if raw and raw.strip().isdigit() else None


def budget_window_s() -> float:
    """BR_BUDGET_WINDOW_HOURS: how long the paid-call budget runs before it starts again (default 24 h)."""
    raw = os.environ.get("BR_BUDGET_WINDOW_HOURS", "24")
    try:
        return max(0.01, float(raw)) * 3600
    except ValueError:
        return 24 * 3600.0


def max_jobs() -> tuple[int, int]:
    """(BR_MAX_JOBS, BR_MAX_JOBS_PER_VISITOR): long jobs (spot-checks) running at once on this server, in all
    and per visitor; more wait in a queue. Defaults 2 and 1."""
    def read(name: str, default: int) -> int:
        raw = os.environ.get(name, "")
        return max(1, int(raw)) if raw.strip().isdigit() else default

    return read("BR_MAX_JOBS", 2), read("BR_MAX_JOBS_PER_VISITOR", 1)


def jobs_executor() -> str | None:
    """BR_JOBS: where long jobs run — `thread` (in the web server) or `queue` (on workers, PostgreSQL only).
    Unset: the queue on PostgreSQL, threads on SQLite."""
    raw = os.environ.get("BR_JOBS", "").strip().lower()
    return raw if raw in ("thread", "queue") else None


REPLICA_COOKIE = "BRREPLICA"  # the load balancer's sticky-session cookie (deploy/team.py writes its config)


def is_replica_name(raw: str) -> bool:
    """A replica's name: letters, digits, `_` and `-`, at most 32 (safe to show, in a cookie and on a page)."""
    return re.fullmatch(r"[A-Za-z0-9_-]{1,32}", raw) is not None


def replica_name() -> str | None:
    """BR_REPLICA_NAME: this web server's name behind a team's load balancer (its sticky cookie's value)."""
    raw = os.environ.get("BR_REPLICA_NAME", "").strip()
    return raw if is_replica_name(raw) else None


def max_answer_chars() -> int:
    """BR_MAX_ANSWER_CHARS: the longest answer kept (default 100,000 characters); a longer one is cut and marked."""
    raw = os.environ.get("BR_MAX_ANSWER_CHARS", "")
    return max(1000, int(raw)) if raw.strip().isdigit() else 100_000


def app_password() -> str | None:
    return os.environ.get("APP_PASSWORD") or None


def role_rules() -> str:
    """BR_ROLES: who has which role once sign-in is configured (see blindrefusal.identity)."""
    return os.environ.get("BR_ROLES", "")


def default_role() -> str | None:
    """BR_DEFAULT_ROLE: the role of a signed-in user BR_ROLES does not name (reviewer when unset)."""
    return os.environ.get("BR_DEFAULT_ROLE") or None
