"""litellm, imported once per process (its import costs seconds) with the settings this project needs:
network-free, quiet, no fallbacks, and no credential carried across a redirect (`redirects`)."""

from __future__ import annotations

import logging
import os
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

_litellm: Any = None


def litellm_module() -> Any:
    """Import litellm once per process with network-free, quiet, fallback-free, redirect-safe settings."""
    global _litellm
    if _litellm is None:
        import litellm

        litellm.suppress_debug_info = True
        litellm.drop_params = True  # unsupported params (e.g. reasoning_effort) are dropped, not fatal
        litellm.set_verbose = False
        # Per-call overhead matters for fan-out: no streaming success-logging, no message logging
        # (prompts and keys never reach a log), no client-side token counting.
        litellm.disable_streaming_logging = True
        litellm.turn_off_message_logging = True
        litellm.disable_token_counter = True
        for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx"):
            logging.getLogger(name).setLevel(logging.ERROR)
        from blindrefusal.models.redirects import guard_redirects

        guard_redirects()
        _litellm = litellm
    return _litellm
