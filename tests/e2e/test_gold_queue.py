"""Gold labels by our reviewers, end to end: a spot-check of the real local model on real SQLite asks our
reviewers for gold labels, and two reviewers in two browsers work through the one queue at once. Each is handed
an answer the other does not hold, neither labels an answer twice, and the spot-check page counts the labels."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest

from tests.support import ROOT
from tests.support.browser import goto, idle, no_exception, shot


def _gold_run(store_url: str, local_model_url: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(PYTHONPATH=str(ROOT), BR_DATABASE_URL=store_url, BR_LOCAL_MODEL_URL=local_model_url)
    proc = subprocess.run([sys.executable, "-m", "blindrefusal", "spot-check", "--model", "local/smollm2", "--n", "36",
                           "--max-tokens", "40", "--judge", "distilled", "--gold", "reviewers", "--gold-n", "36",
                           "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run_id = json.loads(proc.stdout)["run_id"]
    assert f"/cases?queue=gold&qrun={run_id}" in proc.stderr  # the CLI says where the reviewers go
    return run_id


def _human_labels(store_url: str, run_id: int) -> list[tuple[int, str]]:
    with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
        return db.execute("SELECT j.response_id, j.judge FROM judgment j JOIN response r ON r.id = j.response_id "
                          "WHERE r.run_id = ? AND j.judge LIKE 'human:%'", (run_id,)).fetchall()


def _handed(page, after: int | None = None) -> int:
    """The answer the queue hands this reviewer (a new one, once `after` is labelled)."""
    page.wait_for_url(re.compile(r".*qat=\d+.*" if after is None else rf".*qat=(?!{after}\b)\d+.*"))
    return int(re.search(r"qat=(\d+)", page.url).group(1))


def _label(page, kind: str, done: int) -> None:
    page.get_by_role("radiogroup", name="Response type").last.get_by_text(kind, exact=True).click()
    page.get_by_role("button", name="Save label").last.click()
    page.get_by_text(re.compile(rf"^{done} of 36 labelled by one of our reviewers")).wait_for()


def test_two_reviewers_share_a_gold_queue_without_labelling_one_answer_twice(page, app, browser_store, local_model_url):
    if not browser_store[1]:
        pytest.skip("the spot-check samples paper cases; needs BR_DATA_SOURCE")
    store_url = browser_store[0]
    run_id = _gold_run(store_url, local_model_url)
    other = page.context.browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
    other.set_default_timeout(60_000)
    queue = f"/cases?queue=gold&qrun={run_id}"
    goto(page, app, queue + "&reviewer=ada")
    goto(other, app, queue + "&reviewer=bo")
    first_a, first_b = _handed(page), _handed(other)
    assert first_a != first_b  # ada holds hers: bo is handed another
    page.get_by_text(re.compile(r"0 of 36 labelled by one of our reviewers")).wait_for()
    assert other.get_by_role("button", name="Skip →").count() == 0  # the subset stays random: no skipping
    idle(page)
    shot(page, "gold_queue_ada")

    _label(page, "hard refusal", 1)
    next_a = _handed(page, after=first_a)
    _label(other, "helps", 2)
    next_b = _handed(other, after=first_b)
    assert len({first_a, first_b, next_a}) == 3 and next_b not in (first_a, first_b)
    labels = _human_labels(store_url, run_id)
    assert sorted(labels) == sorted([(first_a, "human:ada"), (first_b, "human:bo")])  # once each, by whom

    goto(page, app, f"/spot-check?run={run_id}")  # the results count them as gold labels
    page.get_by_text("With the gold labels", exact=True).first.wait_for(timeout=120_000)
    page.get_by_role("link",
                     name=re.compile(r"The reviewers' label queue for this run \(\d+ labelled so far\)")).wait_for()
    no_exception(page)
    no_exception(other)
    shot(page, "gold_queue_results")
    other.context.close()
