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
_KEY_LIKE = re.compile(r"\b(sk|rk|pk|xai|gsk|AIza)[-_A-Za-z0-9]{12,}")


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


def max_calls_per_session() -> int | None:
    raw = os.environ.get("BR_MAX_CALLS_PER_SESSION")
    return int(raw) if raw and raw.strip().isdigit() else None


def app_password() -> str | None:
    return os.environ.get("APP_PASSWORD") or None


def role_rules() -> str:
    """BR_ROLES: who has which role once sign-in is configured (see blindrefusal.identity)."""
    return os.environ.get("BR_ROLES", "")


def default_role() -> str | None:
    """BR_DEFAULT_ROLE: the role of a signed-in user BR_ROLES does not name (reviewer when unset)."""
    return os.environ.get("BR_DEFAULT_ROLE") or None
