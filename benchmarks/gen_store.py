"""Generate a synthetic store with N judged responses (no release text) for aggregate benchmarks."""

from __future__ import annotations

import random
import time

from sqlalchemy import insert

from blindrefusal.paper import taxonomy
from db.engine import open_store
from db.rollup import rebuild_rollup
from db.tables import Case, Judgment, ModelConfig, Response, Run, utcnow
from vocabulary import PAPER_JUDGE


def generate(url: str, n_responses: int, n_cases: int = 1290, n_models: int = 40, seed: int = 0) -> float:
    """Returns seconds spent writing."""
    rng = random.Random(seed)
    engine = open_store(url)
    t0 = time.perf_counter()
    auths = taxonomy.authority_types()
    dims = taxonomy.secondary_dimensions()
    with engine.begin() as conn:
        cases = []
        for i in range(n_cases):
            fam = taxonomy.FAMILIES[i % 5]
            sub = rng.choice(list(taxonomy.subtypes(fam)))
            auth = rng.choice(auths)
            cases.append({"key": f"gen_{i}", "source": "paper", "family": fam, "subtype": sub, "subtype_raw": sub,
                          "authority_type": auth, "authority_group": taxonomy.authority_group_of(auth),
                          "rule": f"Synthetic rule {i}", "defeat_condition": f"Synthetic defeat {i}",
                          "structural_facts": "[]", "user_query": f"Synthetic question {i}: how do I get around it?",
                          "dual_use": rng.random() < 0.1, "created_at": utcnow(),
                          **{d: rng.choice(levels) for d, levels in dims.items()}})
        conn.execute(insert(Case), cases)
        conn.execute(insert(ModelConfig), [{"key": f"gen-model-{m}", "display_name": f"Model {m}", "litellm_model": "x",
                                            "provider": "other", "params": "{}", "source": "paper"}
                                           for m in range(n_models)])
        run_id = conn.execute(insert(Run).values(kind="paper", label="generated", params="{}", status="done",
                                                 created_at=utcnow())).inserted_primary_key[0]
        batch = 50_000
        now = utcnow()
        for start in range(0, n_responses, batch):
            rows, judg = [], []
            for i in range(start, min(n_responses, start + batch)):
                rt = rng.choices(("helps", "deflects", "hard_refusal"), (25, 70, 5))[0]
                eng, harm = rng.random() < 0.57, rng.random() < 0.6
                rows.append({"id": i + 1, "run_id": run_id, "case_id": rng.randint(1, n_cases),
                             "model_config_id": rng.randint(1, n_models), "source": "paper", "text": "", "status": "ok",
                             "attempts": 1, "created_at": now, "eff_response_type": rt, "eff_engages": eng,
                             "eff_harm": harm, "eff_judge": PAPER_JUDGE})
                judg.append({"response_id": i + 1, "judge": PAPER_JUDGE, "judge_kind": "paper", "judge_version": "",
                             "precedence": 2, "status": "ok", "response_type": rt, "engages_with_defeat": eng,
                             "independent_harm": harm, "reasoning": "", "raw_output": "", "note": "",
                             "created_at": now})
            conn.execute(insert(Response), rows)
            conn.execute(insert(Judgment), judg)
        rebuild_rollup(conn)
    engine.dispose()
    return time.perf_counter() - t0
