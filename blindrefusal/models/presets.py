"""Model presets (data/models.json): display names, colours, providers, litellm ids, key presence."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

from blindrefusal.config import DATA_DIR

LOCAL_KEY = "local/smollm2"

# Which env var a typed-in litellm model string needs, by its provider prefix.
_PREFIX_KEYS = {
    "openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "openrouter": "OPENROUTER_API_KEY",
    "gemini": "GEMINI_API_KEY", "xai": "XAI_API_KEY", "groq": "GROQ_API_KEY", "mistral": "MISTRAL_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY", "deepseek": "DEEPSEEK_API_KEY", "cohere": "COHERE_API_KEY",
}


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

    def has_key(self) -> bool:
        return self.local or self.api_base is not None or not self.key_env or bool(os.environ.get(self.key_env))

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
    for needle, provider in (("claude", "Anthropic"), ("anthropic", "Anthropic"), ("gpt", "OpenAI"), ("openai", "OpenAI"),
                             ("gemini", "Google"), ("qwen", "Qwen"), ("glm", "GLM"), ("nemotron", "NVIDIA"),
                             ("nvidia", "NVIDIA"), ("grok", "xAI"), ("xai", "xAI")):
        if needle in m:
            return provider
    return "other"


def resolve(model: str, api_base: str | None = None, **params) -> ModelSpec:
    """A preset by key (or paper slug), or any other litellm model string typed in by a user."""
    spec = presets().get(model)
    if spec is None:
        spec = next((p for p in presets().values() if p.paper_slug == model), None)
    if spec is not None:
        merged = {**spec.params, **{k: v for k, v in params.items() if v is not None}}
        # the local model is served by its own server, whatever API base the other models of a run use
        base = spec.api_base if spec.local else api_base or spec.api_base
        return ModelSpec(**{**spec.__dict__, "params": merged, "api_base": base})
    provider = _guess_provider(model)
    prefix = model.split("/", 1)[0] if "/" in model else "openai"
    return ModelSpec(
        key=model, display_name=model, provider=provider, litellm_model=model if "/" in model else "openai/" + model,
        color=provider_color(provider), key_env=_PREFIX_KEYS.get(prefix), api_base=api_base,
        params={"temperature": 0.0, "max_tokens": 1024, **{k: v for k, v in params.items() if v is not None}},
    )


def display_name(key: str) -> str:
    spec = presets().get(key) or next((p for p in presets().values() if p.paper_slug == key), None)
    return spec.display_name if spec else key


def color(key: str) -> str:
    spec = presets().get(key) or next((p for p in presets().values() if p.paper_slug == key), None)
    return spec.color if spec else provider_color(_guess_provider(key))


def provider_of(key: str) -> str:
    spec = presets().get(key)
    return spec.provider if spec else _guess_provider(key)
