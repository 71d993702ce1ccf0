"""Judges: stage 3 of the pipeline. A judge takes a `JudgeInput` (the case's rule, defeat, query and one
answer, never the model's name) and returns a `Verdict` (the three labels) or a `JudgeFailure` (kept,
re-judgeable). `registry.JUDGE_TYPES` is the table of judges; `get_judge(name)` builds one.

- `base`: the records and the `Judge` Protocol.
- `registry`: names, the default, the table.
- `llm`: our rubric on any litellm model. `paper`: the authors' prompt (read from the release).
- `human`: a reviewer's own labels. `distilled/`: the offline classifier, its training and measurements."""

from blindrefusal.judges.base import Judge, JudgeFailure, JudgeInput, JudgeResult, JudgeUnavailable, Verdict
from blindrefusal.judges.registry import (
                                          DISTILLED,
                                          JUDGE_TYPES,
                                          LOCAL_LLM,
                                          PAPER,
                                          default_judge_name,
                                          distilled_available,
                                          get_judge,
                                          is_paper_prompt,
                                          judge_all,
                                          judge_label,
                                          judgment_record,
                                          usable_judge,
)

__all__ = ["DISTILLED", "JUDGE_TYPES", "LOCAL_LLM", "PAPER", "Judge", "JudgeFailure", "JudgeInput", "JudgeResult",
           "JudgeUnavailable", "Verdict", "default_judge_name", "distilled_available", "get_judge", "is_paper_prompt",
           "judge_all", "judge_label", "judgment_record", "usable_judge"]
