"""A configuration: a model with its settings (system prompt, temperature, reasoning effort, max tokens). The paper
ran each model with the user query alone and no system prompt; a team building on a model can change what it
is told, and a spot-check or a live run can compare configurations of one model as arms.

A configuration is named by its model's key plus a short hash of its system prompt (`model+sp:1a2b3c4d`), so that
runs, answers, exports and links tell arms apart; the prompt's text is stored with the run and with the model's
row, one click away on every page. The example prompts (data/system_prompts.json) are ours, not the paper's."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from blindrefusal.config import DATA_DIR

NONE = "none"  # the paper's setting: no system prompt
MAX_SYSTEM_PROMPT_CHARS = 8_000


@dataclass(frozen=True)
class PromptPreset:
    name: str
    title: str
    tests: str  # what it was meant to test
    text: str


@lru_cache(maxsize=1)
def prompt_presets() -> dict[str, PromptPreset]:
    """The example mitigation prompts, by name (ours: see data/system_prompts.json)."""
    doc = json.loads((DATA_DIR / "system_prompts.json").read_text(encoding="utf-8"))
    return {p["name"]: PromptPreset(p["name"], p["title"], p["tests"], p["text"]) for p in doc["prompts"]}


def prompt_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def prompt_name(text: str | None) -> str:
    """How a system prompt is named beside its model: none, an example's name, or its hash."""
    return NONE if not text else _name_of_hash(prompt_hash(text))


def _name_of_hash(digest: str) -> str:
    preset = next((p for p in prompt_presets().values() if prompt_hash(p.text) == digest), None)
    return preset.name if preset is not None else f"prompt {digest}"


_SEPARATOR = "+sp:"


def config_key(model_key: str, system_prompt: str | None) -> str:
    """The key a configuration is stored and linked under: the model's own for the paper's setting."""
    return model_key if not system_prompt else f"{model_key}{_SEPARATOR}{prompt_hash(system_prompt)}"


def split_config_key(key: str) -> tuple[str, str | None]:
    """(the model's key, the name of its system prompt or None) of a configuration's key."""
    model, sep, digest = key.rpartition(_SEPARATOR)
    return (model, _name_of_hash(digest)) if sep and model else (key, None)


def clean_prompt(text: str | None) -> str | None:
    """A system prompt as sent: None for none (blank, or the word `none`), else the text without outer blanks."""
    if text is None:
        return None
    text = text.strip()
    return None if not text or text.lower() == NONE else text
