"""A team's server for real (deploy/team.py): two Streamlit replicas behind haproxy with sticky sessions, one
job worker, PostgreSQL. A label saved through replica A shows through replica B; a spot-check started through A
runs on the worker and its progress shows through B; replica A killed mid-job, its visitor's browser reconnects
to B, is told so, and finds the job and the label. Needs PostgreSQL (BR_TEST_POSTGRES_URL), haproxy, chromium
and the paper store (BR_DATA_SOURCE)."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

from blindrefusal import store
from blindrefusal.config import REPLICA_COOKIE
from deploy.team import Team
from tests.conftest import POSTGRES_ADMIN_URL
from tests.support.browser import ARGS, OUT, chromium, goto, idle, no_exception, shot

pytestmark = [pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="the team server needs PostgreSQL"),
              pytest.mark.postgres]
CASE = "seed_application_defeat_club_1"


def _on_replica(browser, team: Team, replica: str):
    """A browser whose sticky cookie pins it to `replica` (as the balancer's first answer would)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    context.add_cookies([{"name": REPLICA_COOKIE, "value": replica, "url": team.url}])
    page = context.new_page()
    page.set_default_timeout(90_000)
    return page


def _sidebar_replica(page) -> str:
    page.get_by_text(re.compile(r"Server: replica")).first.wait_for()
    return re.search(r"Server: replica (\w+)", page.locator('[data-testid="stSidebar"]').inner_text()).group(1)


def _label_via(page, team: Team) -> None:
    goto(page, team, f"/cases?case={CASE}&reviewer=grace")
    page.get_by_role("button", name="Set your own label").first.click()
    page.get_by_role("radiogroup", name="Response type").last.get_by_text("hard refusal", exact=True).click()
    page.get_by_role("button", name="Save label").last.click()
    page.get_by_text(re.compile(r"Saved your label for .* as human:grace")).first.wait_for()


def _start_spot_check(page, team: Team, fault_server) -> int:
    goto(page, team, "/spot-check")
    models = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Models (presets)").locator("input")
    models.click()
    models.press("Backspace")  # drop the default local model: this run's model is the fault server's
    models.press("Escape")
    page.get_by_label("…and/or any litellm models, comma-separated").fill("openai/team_refuser;delay=1.0;cap=2;"
                                                                           "reply=refuse")
    page.get_by_label("API base (optional, for OpenAI-compatible servers)").fill(fault_server.api_base)
    page.get_by_label("Sample size n").fill("16")
    page.get_by_label("Sample size n").press("Tab")
    page.get_by_role("button", name="Estimate and run").click()
    page.get_by_text(re.compile(r"16 cases: ~")).wait_for()
    page.get_by_role("button", name="Start the spot-check").click()
    page.wait_for_url(re.compile(r"[?&]job=\d+"))
    return int(re.search(r"[?&]job=(\d+)", page.url).group(1))


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_replicas_behind_haproxy_share_labels_and_jobs_and_a_killed_replica_hands_its_visitor_over(
        paper_store_url, fault_server, backend):
    if shutil.which("haproxy") is None:
        message = "haproxy not installed: `apt-get install haproxy` to run the team server's test (.ci/run does)"
        pytest.fail(message) if os.environ.get("BR_REQUIRE_BROWSER") else pytest.skip(message)
    engine = store.get_engine(paper_store_url)
    OUT.mkdir(parents=True, exist_ok=True)
    with Team(paper_store_url, replicas=2, workers=1) as team, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=ARGS)
        a, b = _on_replica(browser, team, "r1"), _on_replica(browser, team, "r2")

        _label_via(a, team)
        assert _sidebar_replica(a) == "r1"
        goto(b, team, f"/cases?case={CASE}")
        assert _sidebar_replica(b) == "r2"
        b.get_by_text("human:grace").first.wait_for()  # saved through A, read through B: one store

        job_id = _start_spot_check(a, team, fault_server)
        row = store.get_job(engine, job_id)
        assert row["executor"] == "queue"
        worker_pid = team.procs["worker1"].pid
        goto(b, team, f"/spot-check?job={job_id}")
        b.get_by_text(re.compile(r"team_refuser.*: \d+ answered · \d+ failed · \d+ to go")).first.wait_for()
        assert int(store.get_job(engine, job_id)["claimed_by"].split(":")[1]) == worker_pid  # on the worker
        shot(b, "team_progress_on_b")

        team.kill_replica("r1")  # mid-job: A's browser reconnects through the balancer, to B
        a.get_by_text(re.compile(r"replica r1\) stopped, so replica r2 has taken your session over")).wait_for()
        assert _sidebar_replica(a) == "r2"
        shot(a, "team_session_moved")
        for page in (a, b):  # the job went on, on the worker: both browsers see it end
            page.get_by_text(re.compile(r"Rank among \d+")).wait_for(timeout=300_000)
            idle(page)
            no_exception(page)
        assert store.get_job(engine, job_id)["status"] == "done"
        goto(a, team, f"/cases?case={CASE}")
        a.get_by_text("human:grace").first.wait_for()  # the label A saved before it died
        expect(a.get_by_text(re.compile(r"Server: replica r2"))).to_be_visible()
        browser.close()
