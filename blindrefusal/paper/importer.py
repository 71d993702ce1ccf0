"""`import-paper`: read the release and store it in one transaction."""

from __future__ import annotations

import hashlib

from blindrefusal import store
from blindrefusal.models import presets
from blindrefusal.paper.release import ImportProgressFn, read_prompts, read_release
from blindrefusal.paper.release_records import Release


def release_rows(rel: Release) -> tuple[list[dict], list[dict], list[dict], list[dict], list[dict]]:
    """Turn a parsed release into row dicts for db.writes.import_paper."""
    dual: dict[str, bool] = {}
    for r in rel.responses:
        dual[r.case_id] = dual.get(r.case_id, False) or r.dual_use
    for e in rel.evaluations:
        dual[e.case_id] = dual.get(e.case_id, False) or e.dual_use
    cases = [{
        "key": c.case_id, "source": "paper", "family": c.family, "subtype": c.subtype, "subtype_raw": c.subtype_raw,
        "authority_type": c.authority_type, "authority_group": c.authority_group, "rule": c.rule,
        "defeat_condition": c.defeat_condition, "structural_facts": c.structural_facts, "user_query": c.user_query,
        "dual_use": dual.get(c.case_id, False), "dimensions": c.dimensions,
    } for c in rel.cases]
    models = []
    for slug, m in rel.models.items():
        spec = presets.presets().get(slug)
        models.append({
            "key": slug, "display_name": spec.display_name if spec else slug,
            "litellm_model": spec.litellm_model if spec else "openrouter/" + m.model_id,
            "provider": spec.provider if spec else presets.provider_of(m.model_id),
            "params": {"temperature": m.temperature, "max_tokens": m.max_tokens, "openrouter_id": m.model_id},
            "source": "paper",
        })
    known = {c.case_id for c in rel.cases}
    responses = []
    for r in rel.responses:
        if r.case_id not in known:
            continue
        responses.append({
            "case_key": r.case_id, "model_key": r.model_slug, "text": r.text,
            "status": "ok" if r.status == "success" else "error", "error": r.error,
            "prompt_tokens": r.usage.get("prompt_tokens"), "completion_tokens": r.usage.get("completion_tokens"),
        })
    judgments = [{
        "case_key": e.case_id, "model_key": e.model_slug, "evaluator": e.evaluator, "response_type": e.response_type,
        "engages_with_defeat": e.engages_with_defeat, "independent_harm": e.independent_harm, "reasoning": e.reasoning,
    } for e in rel.evaluations if e.case_id in known]
    reviews = [{
        "case_key": r.case_id, "model_key": r.model_slug, "reviewer": r.reviewer, "response_type": r.response_type,
        "engages_with_defeat": r.engages_with_defeat, "independent_harm": r.independent_harm, "note": r.note,
    } for r in rel.reviewer_labels if r.case_id in known and r.model_slug in rel.models]
    return cases, models, responses, judgments, reviews


def import_paper(source: str, engine=None, progress: ImportProgressFn | None = None) -> dict:
    """Read `source` fully (any error names the file) and only then write, atomically."""
    rel = read_release(source, progress=progress)
    cases, models, responses, judgments, reviews = release_rows(rel)
    engine = engine or store.open_default()
    return store.import_paper(engine, cases, models, responses, judgments, reviews,
                              prompts=_prompt_rows(rel.prompts, source))


def _prompt_rows(prompts: dict[str, str], source: str) -> list[dict]:
    return [{"name": name, "sha256": hashlib.sha256(text.encode()).hexdigest(), "text": text, "source": source}
            for name, text in prompts.items()]


def import_prompts(source: str, engine) -> list[str]:
    """Store only the release's prompts (for a store imported before prompts were kept); returns their names."""
    prompts = read_prompts(source)
    store.save_prompts(engine, _prompt_rows(prompts, source))
    return sorted(prompts)
