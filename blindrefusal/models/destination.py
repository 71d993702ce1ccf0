"""Where a model call goes, and so which credential goes with it: decided before any request, from litellm's own
provider resolution, never from a list of prefixes.

- **The local model**: our own server on loopback; no key.
- **An API base** (typed by a visitor, or the host's for a judge): `completion_kwargs` passes the key that goes
  there explicitly (the visitor's own, the one the host named in BR_ALLOWED_API_BASES, or a placeholder).
  Only providers whose handler then sends that key and no other credential may be sent to a base
  (`BASE_PROVIDERS`, each shown by tests/security to deliver no host key); any other is refused.
- **A provider's own endpoint** (no base): litellm sends whatever credential of the host's it finds for that
  provider, a key in the environment or a cloud's credentials file, whatever the prefix. So such a call is
  always paid (`ModelSpec.uses_host_key`), and a model string that litellm cannot resolve to a provider is
  refused, never guessed.

`ModelSpec.uses_host_key` is the paid rule (it needs no litellm, so a page can ask it before a run);
`refusal` is the check `call_model` makes before the first attempt, for every model and judge call."""

from __future__ import annotations

from blindrefusal.models.lm import litellm_module
from blindrefusal.models.presets import ModelSpec

# litellm providers that send only the `api_key` they are given to the `api_base` they are given.
BASE_PROVIDERS = frozenset({"openai", "custom_openai", "hosted_vllm", "litellm_proxy", "openrouter", "anthropic"})


class UnknownProvider(Exception):
    """litellm cannot tell which provider serves a model string."""


def provider(spec: ModelSpec) -> str:
    """litellm's provider for the spec's model string (at its base, if any); raises UnknownProvider."""
    try:
        return str(litellm_module().get_llm_provider(spec.litellm_model, api_base=spec.api_base)[1])
    except Exception as exc:  # noqa: BLE001 - litellm raises BadRequestError, ValueError, … for strings it cannot place
        raise UnknownProvider(spec.litellm_model) from exc


def refusal(spec: ModelSpec) -> str | None:
    """Why a call to this spec may not go out at all (None: it may, paid or not as `uses_host_key` says)."""
    name = repr(spec.litellm_model[:120])
    try:
        served_by = provider(spec)
    except UnknownProvider:
        return (f"refused: litellm cannot tell which provider serves {name}; name one with a prefix "
                "(openai/…, anthropic/…, openrouter/…), or give an OpenAI-compatible API base")
    if spec.api_base and served_by not in BASE_PROVIDERS:
        return (f"refused: {served_by} models are not sent to an API base here, because their calls can carry "
                f"other credentials of the host's; use one of {', '.join(sorted(BASE_PROVIDERS))}/… at a base")
    return None
