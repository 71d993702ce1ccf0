"""Model presets (data/models.json): display names, colours, providers, litellm ids, key presence; and how a
typed model name and API base resolve, and which key (if any) goes with them.

Keys go only where they belong: a provider's key (OPENAI_API_KEY, …) is sent only to that provider's own
endpoint, never to an API base a visitor typed. A typed base gets the key the host named for it in
BR_ALLOWED_API_BASES, or the visitor's own key for the session, or none."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache

from blindrefusal.config import DATA_DIR, allowed_api_bases, normalise_api_base
from blindrefusal.models.configuration import config_key, prompt_name, split_config_key
from vocabulary import BlindRefusalError

LOCAL_KEY = "local/smollm2"

# Which env var a typed-in litellm model string needs, by its provider prefix.
_PREFIX_KEYS = {
    "openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "openrouter": "OPENROUTER_API_KEY",
    "gemini": "GEMINI_API_KEY", "xai": "XAI_API_KEY", "groq": "GROQ_API_KEY", "mistral": "MISTRAL_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY", "deepseek": "DEEPSEEK_API_KEY", "cohere": "COHERE_API_KEY",
}


class ApiBaseRefused(BlindRefusalError):
    """An API base that this server does not allow (BR_ALLOWED_API_BASES); the message names the allowed ones."""


@dataclass(frozen=True)
class ModelSpec:
    key: str  # stable identifier stored in the DB (paper slug for the paper's 18)
    display_name: str
    provider: str
    litellm_model: str
    color: str
    key_env: str | None = None
    paper_slug: str | None = None
    local: bool = False
    api_base: str | None = None
    params: dict = field(default_factory=dict, hash=False, compare=False)
    # A visitor's own key for a base they typed: held for the session only, never stored, printed or logged.
    api_key: str | None = field(default=None, repr=False, hash=False, compare=False)

    def has_key(self) -> bool:
        return self.local or self.api_base is not None or not self.key_env or bool(os.environ.get(self.key_env))

    @property
    def uses_host_key(self) -> bool:
        """The call is paid for with a credential of the host's (see `blindrefusal.models.destination`): any call to
        a provider's own endpoint, whatever its prefix (litellm sends the host's credential for that provider
        if it finds one), and a call to an API base the host named a key for (BR_ALLOWED_API_BASES,
        BR_JUDGE_API_BASE) when that key is set. Such calls need the password and count against the server's
        budget; the local model, and a base with a visitor's own key or none, do not."""
        if self.local:
            return False
        if not self.api_base:
            return True
        return self.api_key is None and bool(self.key_env and os.environ.get(self.key_env))

    def credential(self) -> str | None:
        """The key sent with a call to `api_base` (None: no base, so litellm sends the provider's key to the
        provider). Never the provider's key: only the allowlist's named key, or the visitor's own."""
        if not self.api_base:
            return None
        return self.api_key or (os.environ.get(self.key_env) if self.key_env else None) or "sk-no-key-needed"

    @property
    def system_prompt(self) -> str | None:
        """The configuration's system prompt (None: the paper's setting, the user query alone)."""
        return self.params.get("system_prompt") or None

    @property
    def temperature(self) -> float:
        return float(self.params.get("temperature", 0.0))

    @property
    def max_tokens(self) -> int:
        return int(self.params.get("max_tokens", 1024))


@lru_cache(maxsize=1)
def _raw() -> dict:
    with open(DATA_DIR / "models.json", encoding="utf-8") as fh:
        return json.load(fh)


def provider_color(provider: str) -> str:
    return _raw()["providers"].get(provider, _raw()["providers"]["other"])["color"]


def provider_cap(provider: str) -> int:
    """The most concurrent requests a spot-check may send to one provider (the local server: one)."""
    return int(_raw()["providers"].get(provider, _raw()["providers"]["other"]).get("max_concurrency", 32))


@lru_cache(maxsize=1)
def presets() -> dict[str, ModelSpec]:
    out = {}
    for p in _raw()["presets"]:
        out[p["key"]] = ModelSpec(
            key=p["key"], display_name=p["display_name"], provider=p["provider"], litellm_model=p["litellm_model"],
            color=p.get("color") or provider_color(p["provider"]), key_env=p.get("key_env"),
            paper_slug=p.get("paper_slug"), local=bool(p.get("local")), params=dict(p.get("params", {})),
        )
    return out


def paper_models() -> list[ModelSpec]:
    return [m for m in presets().values() if m.paper_slug]


def _guess_provider(model: str) -> str:
    m = model.lower()
    for needle, provider in (("claude", "Anthropic"), ("anthropic", "Anthropic"), ("gpt", "OpenAI"),
                             ("openai", "OpenAI"),
                             ("gemini", "Google"), ("qwen", "Qwen"), ("glm", "GLM"), ("nemotron", "NVIDIA"),
                             ("nvidia", "NVIDIA"), ("grok", "xAI"), ("xai", "xAI")):
        if needle in m:
            return provider
    return "other"


def base_key_env(api_base: str) -> str | None:
    """The environment variable of the key the host sends to this typed base (None: no host key goes there).
    Raises ApiBaseRefused when an allowlist is set and the base is not on it."""
    allowed = allowed_api_bases()
    if allowed is None:
        return None
    base = normalise_api_base(api_base)
    if base not in allowed:
        names = ", ".join(sorted(allowed)) or "none"
        raise ApiBaseRefused(f"API base {api_base[:80]!r} is not allowed on this server "
                             f"(BR_ALLOWED_API_BASES: {names})")
    return allowed[base]


def resolve(model: str, api_base: str | None = None, api_key: str | None = None, **params) -> ModelSpec:
    """A preset by key (or paper slug), or any other litellm model string typed in by a user, served at its
    provider or at `api_base`, with the key that goes there (see the module's docstring). A `system_prompt` among
    the params makes it a configuration of its own (models/configuration.py): its key and name say which."""
    system_prompt = params.pop("system_prompt", None)
    return configured(_resolve(model, api_base, api_key, **params), system_prompt)


def configured(spec: ModelSpec, system_prompt: str | None) -> ModelSpec:
    """The model under a system prompt (None: as it is, the paper's setting): its own key and name."""
    if not system_prompt or spec.system_prompt:
        return spec
    return replace(spec, key=config_key(spec.key, system_prompt),
                   display_name=f"{spec.display_name} · {prompt_name(system_prompt)}",
                   params={**spec.params, "system_prompt": system_prompt})


def _resolve(model: str, api_base: str | None = None, api_key: str | None = None, **params) -> ModelSpec:
    spec = presets().get(model)
    if spec is None:
        spec = next((p for p in presets().values() if p.paper_slug == model), None)
    clean = {k: v for k, v in params.items() if v is not None}
    if spec is not None and spec.local:  # its own server, whatever API base the other models of a run use
        return ModelSpec(**{**spec.__dict__, "params": {**spec.params, **clean}})
    api_base = api_base.strip() if api_base and api_base.strip() else None
    key_env = base_key_env(api_base) if api_base else None
    api_key = (api_key or "").strip() or None if api_base else None  # a visitor's key goes only to their base
    if spec is not None:
        return ModelSpec(**{**spec.__dict__, "params": {**spec.params, **clean}, "api_base": api_base,
                            "key_env": key_env if api_base else spec.key_env, "api_key": api_key})
    provider = _guess_provider(model)
    prefix = model.split("/", 1)[0] if "/" in model else "openai"
    # At a base, a bare name is an OpenAI-compatible server's model; without one litellm places it, or refuses it.
    litellm_model = "openai/" + model if api_base and "/" not in model else model
    return ModelSpec(
        key=model, display_name=model, provider=provider, litellm_model=litellm_model,
        color=provider_color(provider), key_env=key_env if api_base else _PREFIX_KEYS.get(prefix), api_base=api_base,
        api_key=api_key, params={"temperature": 0.0, "max_tokens": 1024, **clean},
    )


def at_host_base(spec: ModelSpec, api_base: str | None, key_env: str) -> ModelSpec:
    """`spec` served at a base the host configured (BR_JUDGE_API_BASE), with the key the host named for it; the
    spec as it is when there is no such base."""
    if not api_base or spec.local:
        return spec
    return ModelSpec(**{**spec.__dict__, "api_base": api_base.strip(), "key_env": key_env, "api_key": None})


def _preset_of(key: str) -> ModelSpec | None:
    return presets().get(key) or next((p for p in presets().values() if p.paper_slug == key), None)


def display_name(key: str) -> str:
    """A model's (or configuration's) one display name: the preset's, or the key; a configuration's system prompt
    named after it."""
    model, prompt = split_config_key(key)
    spec = _preset_of(model)
    name = spec.display_name if spec else model
    return f"{name} · {prompt}" if prompt else name


def color(key: str) -> str:
    spec = _preset_of(split_config_key(key)[0])
    return spec.color if spec else provider_color(_guess_provider(key))


def provider_of(key: str) -> str:
    spec = presets().get(split_config_key(key)[0])
    return spec.provider if spec else _guess_provider(key)
