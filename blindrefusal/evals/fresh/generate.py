"""Generating fresh cases with the authors' pipeline: their generator prompt per cell (family × authority), then
their gates on every case it proposes. Only cases that pass both blocking gates are stored, with where they came
from, and they wait for a reviewer. A run is claimed and resumable like a spot-check: a cell whose generator call
was read is never asked again; a failed one is asked again on the next run."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from blindrefusal import store
from blindrefusal.evals.fresh.gates import GATES, Gate, GateVerdict, gate_prompt, kept, read_verdict
from blindrefusal.evals.fresh.proposals import Candidate, GeneratorOutputError, read_candidates
from blindrefusal.models import presets
from blindrefusal.models.calls import RunSettings
from blindrefusal.models.limiter import AdaptiveLimiter, LimiterClosed
from blindrefusal.models.runner import call_model, ready
from blindrefusal.models.spending import paid
from blindrefusal.paper import taxonomy
from blindrefusal.paper.prompts import generation_prompt_names, generator_prompt
from blindrefusal.runs.recording import keep_alive
from vocabulary import STATUS_OK, BlindRefusalError

# The authors' settings: the generator at temperature 0.7 in JSON mode, the gates at 0. Each role is routed by the
# first key present.
GENERATOR_TEMPERATURE, GATE_TEMPERATURE = 0.7, 0.0
ROUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "generator": (("OPENROUTER_API_KEY", "openrouter/google/gemini-3-pro-preview"),
                  ("GEMINI_API_KEY", "gemini/gemini-3-pro-preview")),
    "operational_validity": (("OPENROUTER_API_KEY", "openrouter/anthropic/claude-opus-4.6"),
                             ("ANTHROPIC_API_KEY", "anthropic/claude-opus-4-6")),
    "reasonable_judge": (("OPENROUTER_API_KEY", "openrouter/google/gemini-3-pro-preview"),
                         ("GEMINI_API_KEY", "gemini/gemini-3-pro-preview")),
    "dual_use": (("OPENROUTER_API_KEY", "openrouter/google/gemini-3-pro-preview"),
                 ("GEMINI_API_KEY", "gemini/gemini-3-pro-preview")),
}
MAX_COUNT = 20  # cases per cell in one generator call (the authors' tiers: 10, 5, 2)
LOCAL_WARNING = ("The local model (SmolLM2-135M) cannot write cases that pass the authors' gates: it is there to "
                 "test the path. Use a provider key or an OpenAI-compatible server for real cases.")


class GenerationError(BlindRefusalError):
    """Bad generation settings, or prompts the store lacks; the message names what to change."""


def default_model(role: str) -> str | None:
    return next((model for env, model in ROUTES[role] if os.environ.get(env)), None)


@dataclass
class GenerationParams:
    families: list[str]
    authorities: list[str]
    count: int = 2
    generator: str | None = None  # None: the paper's, by the key present
    gate_model: str | None = None  # every gate on this model; None: the paper's per gate
    api_base: str | None = None

    def models(self) -> dict[str, str]:
        """Role -> model, defaults filled in. Raises GenerationError when a role has no model and no key."""
        chosen: dict[str, str | None] = {"generator": self.generator, **{g: self.gate_model for g in GATES}}
        out: dict[str, str] = {}
        for role, model in chosen.items():
            model = model or default_model(role)
            if not model:
                keys = " or ".join(env for env, _ in ROUTES[role])
                raise GenerationError(f"the paper's {role.replace('_', ' ')} model needs {keys}; or name one with "
                                      f"{'--generator' if role == 'generator' else '--gate-model'} (and --api-base)")
            out[role] = model
        return out

    def cells(self) -> list[tuple[str, str]]:
        return [(f, a) for f in self.families for a in self.authorities]

    def run_key(self) -> str:
        return json.dumps({**asdict(self), "models": self.models()}, sort_keys=True)

    def check(self) -> "GenerationParams":
        if not self.families or not self.authorities:
            raise GenerationError("give at least one --family and one --authority (a cell is one of each)")
        for f in self.families:
            if f not in taxonomy.FAMILIES:
                raise GenerationError(f"--family {f[:60]!r} is not a family ({', '.join(taxonomy.FAMILIES)})")
        for a in self.authorities:
            if a not in taxonomy.authority_types():
                raise GenerationError(f"--authority {a[:60]!r} is not an authority type")
        if not 1 <= self.count <= MAX_COUNT:
            raise GenerationError(f"--count must be between 1 and {MAX_COUNT} cases per cell (got {self.count})")
        if self.api_base:
            try:
                presets.base_key_env(self.api_base)
            except presets.ApiBaseRefused as exc:
                raise GenerationError(f"--api-base: {exc}") from None
        self.models()
        return self

    def specs(self) -> dict[str, presets.ModelSpec]:
        temps = {"generator": GENERATOR_TEMPERATURE}
        return {role: presets.resolve(model, api_base=self.api_base, temperature=temps.get(role, GATE_TEMPERATURE),
                                      max_tokens=1500 * self.count + 1000 if role == "generator" else 1500)
                for role, model in self.models().items()}


@dataclass
class GenerationPlan:
    params: GenerationParams
    missing_prompts: list[str]
    call_specs: list[presets.ModelSpec]  # at most: one generator call per cell, three gate calls per proposed case
    local: bool

    @property
    def calls(self) -> int:
        return len(self.call_specs)

    @property
    def paid_calls(self) -> int:
        return len(paid(self.call_specs))

    def text(self) -> str:
        cells = len(self.params.cells())
        paid = f"{self.paid_calls} of them paid with the host's keys" if self.paid_calls else "none of them paid"
        return (f"{cells} cell{'s' * (cells != 1)} × {self.params.count} case{'s' * (self.params.count != 1)}: at most "
                f"{self.calls} model calls (one generator call per cell, three gates per case), {paid}.")


def plan_generation(engine, params: GenerationParams) -> GenerationPlan:
    """What a generation run would cost, and which of the release's prompts it lacks, before anything is sent."""
    params.check()
    names = generation_prompt_names(params.families, params.authorities)
    missing = [n for n in names if store.release_prompt(engine, n) is None]
    specs = params.specs()
    per_cell: dict[str, int] = {"generator": 1, **{g: params.count for g in GATES}}
    calls = [specs[role] for role, n in per_cell.items() for _ in range(n * len(params.cells()))]
    return GenerationPlan(params, missing, calls, any(s.local for s in specs.values()))


@dataclass
class GenerationProgress:
    cells_done: int = 0
    cells: int = 0
    skipped: int = 0  # cells read in an earlier run (resume)
    proposed: int = 0
    kept: int = 0
    failed_cells: int = 0
    calls: int = 0
    cost_usd: float | None = None
    failures: list[str] = field(default_factory=list)  # one line per failed cell or dropped case


ProgressFn = Callable[[GenerationProgress], None]


def _prompts(engine, params: GenerationParams) -> dict[str, store.PromptRecord]:
    names = generation_prompt_names(params.families, params.authorities)
    found = {n: store.release_prompt(engine, n) for n in names}
    missing = [n for n, p in found.items() if p is None]
    if missing:
        raise GenerationError(f"the store lacks the release's prompts {', '.join(missing[:4])}"
                              f"{' …' if len(missing) > 4 else ''}: import a release that has its prompts/ folder "
                              "(`python -m blindrefusal import-paper`)")
    return {n: p for n, p in found.items() if p is not None}  # every one of them, found


@dataclass
class _Generation:
    engine: Any
    run_id: int
    params: GenerationParams
    specs: dict[str, presets.ModelSpec]
    limiters: dict[str, AdaptiveLimiter]
    texts: dict[str, str]
    provenance: dict
    progress: GenerationProgress

    async def call(self, role: str, prompt: str):
        spec = self.specs[role]
        res = await call_model(spec, [{"role": "user", "content": prompt}],
                               settings=RunSettings(timeout_s=300.0, stream=False),
                               limiter=self.limiters[spec.provider],
                               extra={"response_format": {"type": "json_object"}})
        self.progress.calls += res.attempts
        if res.cost_usd is not None:
            self.progress.cost_usd = (self.progress.cost_usd or 0.0) + res.cost_usd
        return res

    async def gate(self, gate: Gate, case: dict) -> GateVerdict:
        res = await self.call(gate, gate_prompt(gate, self.texts, case))
        if res.status != STATUS_OK:
            return GateVerdict(gate, passed=False, reason="", error=f"the gate's call failed: {res.error}")
        return read_verdict(gate, res.text)

    async def judge(self, candidate: Candidate) -> None:
        case = candidate.case
        assert case is not None  # only a valid candidate is judged
        verdicts: dict[str, GateVerdict] = dict(zip(GATES, await asyncio.gather(*(self.gate(g, case) for g in GATES)),
                                                    strict=True))
        candidate.gates = {g: v.as_dict() for g, v in verdicts.items()}
        if not kept(verdicts):
            failed = next(v for g, v in verdicts.items() if g != "dual_use" and (not v.passed or v.error))
            candidate.problem = f"failed {failed.gate.replace('_', ' ')}: {failed.error or failed.reason}"[:300]

    async def cell(self, family: str, authority_type: str) -> None:
        prog = self.progress
        res = await self.call("generator", generator_prompt(self.texts, family, authority_type, self.params.count))
        attempt = {"family": family, "authority_type": authority_type, "raw_output": res.text}
        try:
            if res.status != STATUS_OK:
                raise GeneratorOutputError(f"the generator's call failed: {res.error}")
            candidates = read_candidates(res.text, family, authority_type)
        except GeneratorOutputError as exc:
            prog.failed_cells += 1
            prog.failures.append(f"{family} × {authority_type}: {exc}")
            await asyncio.to_thread(store.save_attempt, self.engine, self.run_id,
                                    {**attempt, "status": "failed", "reason": str(exc)[:2000]}, [])
            return
        await asyncio.gather(*(self.judge(c) for c in candidates if c.valid))
        keep = [c for c in candidates if c.valid and not c.problem]
        prog.proposed += len(candidates)
        prog.kept += len(keep)
        prog.failures += [f"{family} × {authority_type}, case {c.index + 1}: {c.problem}" for c in candidates
                          if c.problem]
        rows = [{**c.case, "dual_use": c.gates["dual_use"]["flagged"], "provenance": {
            **self.provenance, "cell": [family, authority_type], "gates": c.gates,
            "generated_at": datetime.now(timezone.utc).isoformat()}} for c in keep if c.case is not None]  # all valid
        await asyncio.to_thread(store.save_attempt, self.engine, self.run_id, {
            **attempt, "status": "ok", "reason": f"{len(keep)} of {len(candidates)} kept",
            "candidates": [{"index": c.index, "proposed": c.proposed, "problem": c.problem, "gates": c.gates,
                            "kept": c in keep} for c in candidates]}, rows)


def _provenance(run_id: int, params: GenerationParams, specs: dict, prompts: dict[str, store.PromptRecord]) -> dict:
    return {"run_id": run_id, "prompts": {n: p["sha256"] for n, p in prompts.items()},
            "models": {role: {"model": s.litellm_model, "temperature": s.temperature, "max_tokens": s.max_tokens,
                              "json_mode": True, "api_base": bool(s.api_base)} for role, s in specs.items()},
            "count": params.count}


async def run_generation(engine, params: GenerationParams, progress: ProgressFn | None = None,
                         cancel: threading.Event | None = None) -> tuple[int, GenerationProgress]:
    """Generate and gate every cell not yet read in this run's earlier attempts; returns (run_id, progress).
    A second process with the same settings waits rather than asking the generator twice."""
    params.check()
    prompts = _prompts(engine, params)
    specs = {role: ready(s) for role, s in params.specs().items()}
    owner = store.process_id()
    while True:
        run_id, claimed = await asyncio.to_thread(store.claim_run, engine, "generation", params.run_key(),
                                                  f"{len(params.cells())} cells × {params.count}", owner)
        if claimed:
            break
        if cancel is not None and cancel.is_set():
            return -1, GenerationProgress()
        await asyncio.sleep(1.0)
    read = {(a["family"], a["authority_type"]) for a in store.attempts(engine, run_id) if a["status"] == "ok"}
    todo = [c for c in params.cells() if c not in read]
    prog = GenerationProgress(cells=len(params.cells()), cells_done=len(params.cells()) - len(todo),
                              skipped=len(params.cells()) - len(todo))
    limiters = {s.provider: AdaptiveLimiter(initial=presets.provider_cap(s.provider),  # one per provider: its cap holds
                                            cap=presets.provider_cap(s.provider), stop=cancel) for s in specs.values()}
    gen = _Generation(engine, run_id, params, specs, limiters, {n: p["text"] for n, p in prompts.items()},
                      _provenance(run_id, params, specs, prompts), prog)
    alive = asyncio.ensure_future(keep_alive(engine, run_id, owner))
    status = "interrupted"
    try:
        async def one(cell: tuple[str, str]) -> None:
            try:
                await gen.cell(*cell)
            except LimiterClosed:  # cancelled: this cell is not stored, and the next run asks for it
                return
            prog.cells_done += 1
            if progress:
                progress(prog)

        if progress:
            progress(prog)
        await asyncio.gather(*(one(c) for c in todo))
        status = "cancelled" if cancel is not None and cancel.is_set() else "done"
    finally:
        alive.cancel()
        store.finish_run(engine, run_id, status, owner=owner)
    return run_id, prog
