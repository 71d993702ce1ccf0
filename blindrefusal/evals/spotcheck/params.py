"""What a spot-check is asked to do (its params, checked), and the sample of cases they draw."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field, replace

from blindrefusal import store
from blindrefusal.analysis.ppi import MIN_GOLD
from blindrefusal.analysis.weighted import Design
from blindrefusal.models import presets
from blindrefusal.models.configuration import MAX_SYSTEM_PROMPT_CHARS, config_key
from blindrefusal.paper import taxonomy
from blindrefusal.paper.sampler import eligible_cases, stratified_sample
from blindrefusal.paper.stored_case import StoredCase
from vocabulary import BlindRefusalError

PAPER_CASES, FRESH_CASES = CASE_SETS = ("paper", "fresh")


class SpotCheckError(BlindRefusalError):
    """Bad spot-check settings; the message names the setting."""


@dataclass
class SpotCheckParams:
    model: str
    n: int = 100
    seed: int = 0
    judge: str | None = None
    api_base: str | None = None
    allocation: str = "proportional"
    exclude_dual_use: bool = False
    families: list[str] = field(default_factory=list)
    authorities: list[str] = field(default_factory=list)
    temperature: float = 0.0
    max_tokens: int | None = None
    # A configuration's settings beyond the paper's: its system prompt (None: the query alone, as in the paper) and
    # reasoning effort. An arm of a spot-check is one model under one system prompt.
    system_prompt: str | None = None
    reasoning_effort: str | None = None
    # Paper models whose stored answers the spot-check's judge also labels (None: the judge's default).
    bridge_models: int | None = None
    # A gold judge for a random gold_n of the answers (prediction-powered intervals); added later as well as now.
    gold: str | None = None
    gold_n: int | None = None
    # paper: the release's cases; fresh: accepted generated cases, and as many published ones in each of their cells
    cases: str = "paper"
    # A visitor's own key for `api_base`, for this session only: never part of the run's stored key.
    api_key: str | None = field(default=None, repr=False, compare=False)

    def run_key(self) -> str:
        """What identifies a resumable run (concurrency, the bridge and the like are not part of it)."""
        key = asdict(self)
        for extra in ("bridge_models", "api_key", "gold", "gold_n"):
            key.pop(extra)
        for setting in ("system_prompt", "reasoning_effort"):  # the paper's setting keeps the key runs had before
            if key[setting] is None:
                key.pop(setting)
        if self.cases == PAPER_CASES:  # the key runs had before fresh cases existed, so that they still resume
            key.pop("cases")
        return json.dumps(key, sort_keys=True)

    @property
    def arm(self) -> str:
        """The arm's key: the model, and its system prompt's hash when it has one (models/configuration.py)."""
        return config_key(self.model, self.system_prompt)

    @classmethod
    def stored(cls, params: dict) -> "SpotCheckParams":
        """The params of a stored run (its `params` JSON)."""
        return cls(**{k: v for k, v in params.items() if k in cls.__dataclass_fields__})

    def check(self) -> "SpotCheckParams":
        """Raise SpotCheckError naming the first bad setting."""
        if not self.model or not self.model.strip():
            raise SpotCheckError("--model: give a preset key, a paper slug or a litellm model")
        if not 1 <= self.n <= 100_000:
            raise SpotCheckError(f"--n must be a positive number of cases (got {self.n})")
        if self.seed < 0:
            raise SpotCheckError(f"--seed must be 0 or more (got {self.seed})")
        if self.allocation not in ("equal", "proportional"):
            raise SpotCheckError(f"--allocation must be equal or proportional (got {self.allocation!r})")
        unknown = [f for f in self.families if f not in taxonomy.FAMILIES]
        if unknown:
            raise SpotCheckError(f"--family {unknown[0]!r} is not a defeat family ({', '.join(taxonomy.FAMILIES)})")
        unknown = [a for a in self.authorities if a not in taxonomy.authority_types()]
        if unknown:
            raise SpotCheckError(f"--authority {unknown[0]!r} is not an authority type")
        if self.cases not in CASE_SETS:
            raise SpotCheckError(f"--cases must be {' or '.join(CASE_SETS)} (got {str(self.cases)[:40]!r})")
        if self.system_prompt is not None and len(self.system_prompt) > MAX_SYSTEM_PROMPT_CHARS:
            raise SpotCheckError(f"--system-prompt: at most {MAX_SYSTEM_PROMPT_CHARS:,} characters "
                                 f"(got {len(self.system_prompt):,})")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise SpotCheckError(f"--max-tokens must be positive (got {self.max_tokens})")
        if self.bridge_models is not None and self.bridge_models < 0:
            raise SpotCheckError(f"--bridge-models must be 0 or more (got {self.bridge_models})")
        if (self.gold is None) != (self.gold_n is None):
            raise SpotCheckError("--gold and --gold-n go together: a gold judge and how many answers it labels")
        if self.gold_n is not None and not MIN_GOLD <= self.gold_n <= self.n:
            raise SpotCheckError(f"--gold-n must be between {MIN_GOLD} (fewer give no valid interval) and n = {self.n} "
                                 f"(got {self.gold_n})")
        if self.api_base and presets.resolve(self.model).local:
            self.api_base = None  # the local model has its own server: the API base of the others is not its
        if self.api_base:
            try:
                presets.base_key_env(self.api_base)
            except presets.ApiBaseRefused as exc:
                raise SpotCheckError(f"--api-base: {exc}") from None
        return self


def spec_for(params: SpotCheckParams) -> presets.ModelSpec:
    return presets.resolve(params.model, api_base=params.api_base, api_key=params.api_key,
                           temperature=params.temperature, max_tokens=params.max_tokens,
                           system_prompt=params.system_prompt, reasoning_effort=params.reasoning_effort)


def _fresh_sample(engine, params: SpotCheckParams, published: list[store.CaseRecord]) -> list[store.CaseRecord]:
    """Accepted generated cases drawn like a paper sample, then in each of their cells as many published cases
    (seeded; all of them where the cell has fewer): the two halves of a contamination gap."""
    fresh = store.generated_cases(engine, review="accepted")
    keys = set(stratified_sample(fresh, params.n, params.seed, params.allocation, params.exclude_dual_use,
                                 params.families or None, params.authorities or None))
    rng = random.Random(params.seed)
    out: list[store.CaseRecord] = []
    for cell in sorted({(c["family"], c["authority_type"]) for c in fresh if c["key"] in keys}):
        mine = [c for c in fresh if c["key"] in keys and (c["family"], c["authority_type"]) == cell]
        theirs = eligible_cases(published, params.exclude_dual_use, [cell[0]], [cell[1]])
        rng.shuffle(theirs)
        out += mine + theirs[:len(mine)]
    return out


def drawn_n(cases: list[StoredCase], params: SpotCheckParams) -> int:
    """The n a run records: the cases drawn (a fresh run's generated ones: its published half follows from them)."""
    return sum(c.source == "generated" for c in cases) if params.cases == FRESH_CASES else len(cases)


def sample_cases(engine, params: SpotCheckParams) -> list[StoredCase]:
    cases, _ = store.find_cases(engine, source="paper", limit=100_000)
    if params.cases == FRESH_CASES:
        return [StoredCase.from_row(c) for c in _fresh_sample(engine, params, cases)]
    keys = set(stratified_sample(cases, params.n, params.seed, params.allocation, params.exclude_dual_use,
                                 params.families or None, params.authorities or None))
    return [StoredCase.from_row(c) for c in cases if c["key"] in keys]


def sample_design(engine, params: dict | SpotCheckParams) -> Design:
    """The population these params sample (the release's cases their filters leave), cell by cell: what the
    spot-check's rates are weighted to. A fresh run's published half stands for the release's cases of the fresh
    cases' cells."""
    params = SpotCheckParams.stored(params) if isinstance(params, dict) else params
    cases, _ = store.find_cases(engine, source="paper", limit=100_000)
    families, authorities = params.families or None, params.authorities or None
    if params.cases == FRESH_CASES:
        fresh_cells = {(c.family, c.authority_type) for c in sample_cases(engine, params)}
        cases = [c for c in cases if (c["family"], c["authority_type"]) in fresh_cells]
    pool = eligible_cases(cases, params.exclude_dual_use, families, authorities)
    cells = {c["id"]: (c["family"], c["authority_type"]) for c in pool}
    population: dict[tuple[str, str], int] = {}
    for cell in cells.values():
        population[cell] = population.get(cell, 0) + 1
    return Design(cells, population, params.allocation)


def check_one_sample(models_params: list[SpotCheckParams]) -> SpotCheckParams:
    """Check the arms' params of one spot-check (one sample: only the model, its system prompt and where it is
    served may differ); returns the first. Raises SpotCheckError naming the problem."""
    if not models_params:
        raise SpotCheckError("--model: give at least one model")
    arms = [p.arm for p in models_params]
    if len(set(arms)) != len(arms):
        raise SpotCheckError(f"--model: {next(m for m in arms if arms.count(m) > 1)!r} is given twice (with the "
                             "same system prompt)")
    for p in models_params:
        p.check()
    first = models_params[0]
    same = replace(first, system_prompt=None).run_key()
    if any(replace(p, model=first.model, api_base=first.api_base, system_prompt=None).run_key() != same
           for p in models_params):
        raise SpotCheckError("the arms of one spot-check share one sample: only --model and --system-prompt may "
                             "differ")
    return first
