"""History: past live runs and spot-checks; reopen or re-run them."""

import streamlit as st

from blindrefusal.exports.inert import md_inline
from blindrefusal.jobs import control as jobs
from blindrefusal.models import presets
from blindrefusal.models.configuration import prompt_name
from blindrefusal.runs.contrast import DEFEATED, pairs
from blindrefusal.runs.deletion import RunBusy, delete_runs
from components import guard
from components.job_panel import current_job, job_panel, started
from components.navigation import flash
from components.resources import reads as q
from components.resources import store
from components.sign_in import can_delete_runs, visitor_id
from vocabulary import CONTROL

engine = store()
st.title("History")
pending = q.store_counts(engine)["unjudged"]
if current_job(engine, "rejudge_job", "rejudge") is not None:
    def draw_rejudging(job) -> None:
        st.progress(0.5, text="Judging the unlabelled answers…")

    def finish_rejudging(job) -> None:
        if job.status == "done":
            flash(f"{job.result['judged']} judged, {job.result['failed']} still unjudged.")

    job_panel(engine, "rejudge_job", draw_rejudging, finish_rejudging)
elif pending:
    from blindrefusal.judges import default_judge_name, judge_label

    st.info(f"{pending} stored answers have no label yet (made before a judge was available, or the judge's "
            "output could not be parsed).")
    guard.password_box(guard.judge_calls(None, 1))
    blocked = guard.change_blocked("judge them") or guard.check(engine, guard.judge_calls(None, pending))
    if blocked:
        st.warning(blocked)
    elif st.button(f"Judge them now with {judge_label(default_judge_name())}"):
        with guard.permit(engine):  # the job runs under the same permit, in this server or on a worker
            started("rejudge_job", jobs.start(engine, "rejudge", {"judge": None}, "re-judge unlabelled answers",
                                              visitor_id()))
        st.rerun()
runs = q.runs(engine, kinds=("live", "spot_check"), limit=200)
if not runs:
    st.info("No live runs yet. Compose a scenario in the Live lab and press Run.")
    st.stop()
halves = pairs(runs)


def reopen_params(r: dict) -> dict:
    """A live run's view: both halves of a contrast run, else the run alone."""
    pair = halves.get(r["id"])
    if pair is None:
        return {"run": str(r["id"]), "scenario": r["case_key"]}
    d, c = pair[DEFEATED], pair[CONTROL]
    return {"run": str(d["id"]), "control_run": str(c["id"]), "scenario": d["case_key"], "control": c["case_key"],
            "contrast": "1"}


for r in runs:
    pair = halves.get(r["id"])
    if pair is not None and pair[CONTROL]["id"] == r["id"]:
        continue  # shown with its defeated half, as one contrast run
    with st.container(border=True):
        a, b = st.columns([4, 1])
        kind = "Spot-check" if r["kind"] == "spot_check" else "Live run"
        if pair is not None:
            kind = f"Contrast run: defeated {r['id']} and control {pair[CONTROL]['id']} ·"
        models = ", ".join(presets.display_name(m) for m in r["params"].get("models", [])) or \
            presets.display_name(r["params"].get("model", ""))
        a.markdown(f"**{kind}{'' if pair else ' ' + str(r['id'])}** · {str(r['created_at'])[:16]} UTC · {r['status']}"
                   + (" (its process stopped: re-run the same settings to resume)"
                      if r["status"] == "interrupted" else ""))
        a.caption(f"Models: {md_inline(models)} · judge: {md_inline(r['params'].get('judge', '?'), 120)} · "
                  f"{r['n_judged']}/{r['n_responses']} judged, {r['n_refused']} refused")
        if r["params"].get("system_prompt"):
            a.caption(f"System prompt: {md_inline(prompt_name(r['params']['system_prompt']))}")
        if r.get("user_query"):
            a.text(("Defeated: " if pair else "") + (r["user_query"] or "")[:200])
        if pair is not None and pair[CONTROL].get("user_query"):
            a.text("Control: " + (pair[CONTROL]["user_query"] or "")[:200])
        if r["kind"] == "live":
            if b.button("Reopen", key=f"open{r['id']}"):
                st.switch_page("app_pages/compose.py", query_params=reopen_params(r))
            if b.button("Re-run", key=f"rerun{r['id']}", help="Fill the composer with this scenario"):
                st.switch_page("app_pages/compose.py", query_params={"scenario": r["case_key"]})
        else:
            if b.button("Open", key=f"open{r['id']}"):
                st.switch_page("app_pages/spot_check.py", query_params={"run": str(r["id"])})
        if can_delete_runs():  # with sign-in, only a runner: a deleted run takes every reviewer's labels with it
            with b.popover("Delete"):
                st.caption("Deletes this run's answers and labels (both halves of a contrast run); the scenario "
                           "stays.")
                if st.button("Delete for good", key=f"del{r['id']}", type="primary"):
                    try:
                        delete_runs(engine, [r["id"]] + ([pair[CONTROL]["id"]] if pair else []))
                    except RunBusy as exc:
                        st.error(str(exc))
                    else:
                        st.rerun()
