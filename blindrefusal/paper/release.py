"""Read the paper's public release (upstream layout) from a directory, a .zip or a URL to a zip.

Everything here is parsing only: it never touches the database. Errors name the offending file.
"""

from __future__ import annotations

import ast
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from blindrefusal.paper import taxonomy
from blindrefusal.paper.prompts import release_prompt_names
from blindrefusal.paper.release_records import (
    PaperCase,
    PaperEvaluation,
    PaperModel,
    PaperResponse,
    Release,
    ReviewerLabel,
)
from blindrefusal.paper.source import MATRIX, ReleaseError, ReleaseFiles
from vocabulary import RESPONSE_TYPES, is_response_type


def parse_repr(value: Any, *, file: str = "?", field_name: str = "?") -> Any:
    """Fields may be JSON values or Python-repr strings ('None', "{'a': 1}"). Never eval."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text or text[0] not in "{[('\"" and text not in ("None", "True", "False"):
        return value
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        if text[0] in "{[":
            raise ReleaseError(f"{file}: field {field_name!r} is not a valid literal: {exc}") from exc
        return value


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("yes", "true", "1")


def _dual_use(gate_flags: Any, file: str) -> tuple[bool, str | None]:
    flags = parse_repr(gate_flags, file=file, field_name="gate_flags") or {}
    du = flags.get("dual_use") if isinstance(flags, dict) else None
    du = parse_repr(du, file=file, field_name="dual_use") if du is not None else None
    if isinstance(du, dict):
        return bool(du.get("flagged")), du.get("category")
    return bool(du), None


def _require(obj: Any, key: str, rel: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise ReleaseError(f"{rel}: missing key {key!r}")
    return obj[key]


def _parse_case(c: dict, rel: str) -> PaperCase:
    try:
        family = c["defeat_type"]
        authority = c["authority_type"]
        facts = parse_repr(c.get("structural_facts") or [], file=rel, field_name="structural_facts")
        dims = parse_repr(c.get("dimensional_coding") or {}, file=rel, field_name="dimensional_coding")
        return PaperCase(
            case_id=c["id"],
            family=family,
            subtype_raw=c.get("defeat_subtype") or "",
            subtype=taxonomy.canonical_subtype(family, c.get("defeat_subtype")),
            authority_type=authority,
            authority_group_raw=c.get("authority_group") or "",
            authority_group=taxonomy.normalise_group(c.get("authority_group"), authority),
            rule=c.get("unjust_policy") or "",
            defeat_condition=c.get("defeat_condition") or "",
            structural_facts=[str(f) for f in facts] if isinstance(facts, list) else [str(facts)],
            user_query=c["user_query"],
            dimensions={k: str(v) for k, v in dims.items()} if isinstance(dims, dict) else {},
        )
    except KeyError as exc:
        raise ReleaseError(f"{rel}: case is missing field {exc}") from exc


def _slug_of(filename: str) -> str:
    stem = filename[:-5]
    for fam in taxonomy.FAMILIES:
        marker = "_" + fam + "_"
        if marker in stem:
            return stem.split(marker)[0]
    raise ReleaseError(f"{filename}: file name does not follow <model>_<family>_<authority>.json")


ImportProgressFn = Callable[[int, int, str], None]  # (files done, files in all, file name)


def read_release(source: str, progress: ImportProgressFn | None = None) -> Release:
    """Parse the whole release into memory; raise ReleaseError naming the file on any problem."""
    files = ReleaseFiles(source)
    try:
        return _read(files, progress)
    finally:
        files.close()


def read_prompts(source: str) -> dict[str, str]:
    """Only the release's prompts (name -> text); empty when it has no prompts/ folder."""
    files = ReleaseFiles(source)
    try:
        return _prompts(files)
    finally:
        files.close()


def _prompts(files: ReleaseFiles) -> dict[str, str]:
    found = {name: files.read_prompt(name) for name in release_prompt_names()}
    return {name: text for name, text in found.items() if text and text.strip()}


@contextmanager
def _malformed(path: str) -> Iterator[None]:
    """Any wrong shape inside one file becomes a ReleaseError naming that file."""
    try:
        yield
    except ReleaseError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ReleaseError(f"{path}: malformed entry ({type(exc).__name__}: {str(exc)[:120]})") from None


def _case_id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ReleaseError(f"{path}: a case id must be a non-empty string, not {type(value).__name__}")
    return value


def _read_cases(files: ReleaseFiles, paths: list[str], rel: Release, tick: Callable[[str], None]) -> None:
    seen: set[str] = set()
    for path in paths:
        doc = files.read_json(path)
        with _malformed(path):
            for c in _require(doc, "cases", path):
                case = _parse_case(c, path)
                _case_id(case.case_id, path)
                if case.case_id not in seen:
                    seen.add(case.case_id)
                    rel.cases.append(case)
        tick(path)


def _read_responses(files: ReleaseFiles, paths: list[str], rel: Release, tick: Callable[[str], None]) -> None:
    for path in paths:
        doc = files.read_json(path)
        with _malformed(path):
            meta = _require(doc, "metadata", path)
            slug = meta.get("model_slug") or _slug_of(path.split("/")[-1])
            if slug not in rel.models:
                rel.models[slug] = PaperModel(slug=slug, model_id=meta.get("model_id") or slug,
                                              temperature=float(meta.get("temperature") or 0.0),
                                              max_tokens=int(meta.get("max_tokens") or 0))
            for r in _require(doc, "responses", path):
                err = parse_repr(r.get("error_message"), file=path, field_name="error_message")
                usage = parse_repr(r.get("usage"), file=path, field_name="usage")
                du, cat = _dual_use(r.get("gate_flags"), path)
                rel.responses.append(PaperResponse(
                    case_id=_case_id(r["case_id"], path), model_slug=slug,
                    model_id=r.get("model") or rel.models[slug].model_id,
                    text=str(r.get("response") or ""), status=r.get("status") or "success",
                    error=str(err) if err not in (None, "") else None,
                    usage=usage if isinstance(usage, dict) else {},
                    dual_use=du, dual_use_category=cat, timestamp=r.get("timestamp"),
                ))
        tick(path)


def _read_evaluations(files: ReleaseFiles, paths: list[str], rel: Release, tick: Callable[[str], None]) -> None:
    for path in paths:
        doc = files.read_json(path)
        with _malformed(path):
            meta = _require(doc, "metadata", path)
            slug = meta.get("evaluated_model") or _slug_of(path.split("/")[-1])
            evaluator = meta.get("evaluator_model") or "unknown"
            for e in _require(doc, "evaluations", path):
                ev = parse_repr(e["evaluation"], file=path, field_name="evaluation")
                rt = ev["response_type"]
                if rt not in RESPONSE_TYPES:
                    raise ReleaseError(f"{path}: unknown response_type {rt!r} for {e['case_id']}")
                du, _ = _dual_use(e.get("gate_flags"), path)
                rel.evaluations.append(PaperEvaluation(
                    case_id=_case_id(e["case_id"], path), model_slug=slug, evaluator=evaluator, response_type=rt,
                    engages_with_defeat=_yes_no(ev.get("engages_with_defeat")),
                    independent_harm=_yes_no(ev.get("independent_harm")),
                    reasoning=str(ev.get("reasoning") or ""), dual_use=du, source_file=path,
                ))
        tick(path)


def _read(files: ReleaseFiles, progress: ImportProgressFn | None) -> Release:
    rel = Release(source=files.source)
    folders = {f: [f"{f}/{n}" for n in files.list(f)] for f in ("2_filtered", "3_responses", "4_evaluated")}
    for folder, found in folders.items():
        if not found:
            raise ReleaseError(f"{folder}/: no files found; the release is incomplete")
    files.read_json(MATRIX)  # must exist and parse
    total = sum(len(v) for v in folders.values())
    done = 0

    def tick(name: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total, name)

    _read_cases(files, folders["2_filtered"], rel, tick)
    _read_responses(files, folders["3_responses"], rel, tick)
    _read_evaluations(files, folders["4_evaluated"], rel, tick)
    answered = {(r.case_id, r.model_slug) for r in rel.responses}
    orphan = next((e for e in rel.evaluations if (e.case_id, e.model_slug) not in answered), None)
    if orphan is not None:
        raise ReleaseError(f"{orphan.source_file}: evaluation of {orphan.case_id} / {orphan.model_slug} "
                           "has no response in 3_responses/; the release is incomplete")
    if "eval_reviews.json" in files.list("human_validation"):
        doc = files.read_json("human_validation/eval_reviews.json")
        with _malformed("human_validation/eval_reviews.json"):
            rel.reviewer_labels = _reviewer_labels(doc)
    rel.prompts = _prompts(files)
    return rel


def _reviewer_labels(doc: Any) -> list[ReviewerLabel]:
    path = "human_validation/eval_reviews.json"
    if not isinstance(doc, dict):
        raise ReleaseError(f"{path}: expected an object keyed by <case_id>__<model_slug>")
    out = []
    for key, reviewers in doc.items():
        case_id, sep, slug = key.rpartition("__")
        if not sep or not isinstance(reviewers, dict):
            raise ReleaseError(f"{path}: malformed entry {key[:60]!r}")
        for reviewer, lab in reviewers.items():
            rt = (lab or {}).get("human_response_type")
            if not is_response_type(rt):
                continue  # an unfinished review
            out.append(ReviewerLabel(case_id=case_id, model_slug=slug, reviewer=reviewer, response_type=rt,
                                     engages_with_defeat=_yes_no(lab.get("human_engages_with_defeat")),
                                     independent_harm=_yes_no(lab.get("human_independent_harm")),
                                     note=str(lab.get("human_notes") or "")))
    return out
