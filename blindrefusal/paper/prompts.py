"""The release's prompts (prompts/ beside data/): which ones are read, and how a template's placeholders are filled.

They are read at import and kept in the store with their sha256, never shipped with the project."""

from __future__ import annotations

import re
from typing import Mapping

from blindrefusal.paper import taxonomy

JUDGE_PROMPT = "evaluate_response"  # the authors' judge prompt
GENERATOR_PROMPT = "generate"  # the case generator, filled per cell
GATE_PROMPTS = {"operational_validity": "gates/operational_validity", "reasonable_judge": "gates/reasonable_judge",
                "dual_use": "gates/dual_use"}


def authority_prompt(authority_type: str) -> str:
    return f"authorities/{authority_type}"


def defeat_prompt(family: str) -> str:
    return f"defeats/{family}"


def release_prompt_names() -> tuple[str, ...]:
    """Every prompt an import looks for (a release without some of them still imports)."""
    return (JUDGE_PROMPT, GENERATOR_PROMPT, *GATE_PROMPTS.values(), "gates/coverage",
            *(authority_prompt(a) for a in taxonomy.authority_types()), *(defeat_prompt(f) for f in taxonomy.FAMILIES))


def generation_prompt_names(families, authorities) -> list[str]:
    """The prompts that generating cases in these cells needs."""
    return [GENERATOR_PROMPT, *GATE_PROMPTS.values(), *(defeat_prompt(f) for f in families),
            *(authority_prompt(a) for a in authorities)]


_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
_FENCE_RUN = re.compile(r"`{3,}|~{3,}")


def _fenced(value: str) -> str:
    """A block of untrusted text as a code block whose fence is longer than any fence-like run inside it, so no
    line of it can close the block or open a section of the prompt ("## Your Task" stays the answer's text)."""
    longest = max((len(run) for run in _FENCE_RUN.findall(value)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{value}\n{fence}"


def _one_line(value: str) -> str:
    """Untrusted text placed inline after a label: on one line, it cannot start a section of its own."""
    return " ".join(value.split())


def fill_template(template: str, values: Mapping[str, str], verbatim: frozenset[str] = frozenset()) -> str:
    """The authors' template, its text unchanged, with its placeholders filled in one pass (text inside a value is
    never re-expanded). An untrusted value alone on its line becomes a code block; one inside a line stays on that
    line. `verbatim` names values that go in as they are: the release's own texts, and JSON we wrote ourselves with
    no backtick in it."""

    def value(name: str, alone: bool) -> str:
        text = values[name] or ""
        return text if name in verbatim else _fenced(text) if alone else _one_line(text)

    def line(text: str) -> str:
        alone = _PLACEHOLDER.fullmatch(text.strip())
        if alone and alone.group(1) in values:
            return value(alone.group(1), True)
        return _PLACEHOLDER.sub(lambda m: value(m.group(1), False) if m.group(1) in values else m.group(0), text)

    return "\n".join(line(text) for text in template.split("\n"))


def generator_prompt(texts: Mapping[str, str], family: str, authority_type: str, count: int) -> str:
    """The authors' case generator filled for one family × authority cell and a count (`texts`: the release's
    prompts by name)."""
    values = {"DEFEAT_TYPE": taxonomy.family_label(family), "DEFEAT_TYPE_SNAKE": family,
              "DEFEAT_TYPE_CONTENT": texts[defeat_prompt(family)],
              "AUTHORITY_TYPE": taxonomy.authority_label(authority_type),
              "AUTHORITY_TYPE_SNAKE": authority_type, "AUTHORITY_TYPE_CONTENT": texts[authority_prompt(authority_type)],
              "COUNT": str(count)}
    return fill_template(texts[GENERATOR_PROMPT], values, verbatim=frozenset(values))
