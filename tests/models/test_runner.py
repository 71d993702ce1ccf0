"""The runner over real HTTP against the local fault server: overlap, faults, retries, adaptive concurrency."""

from __future__ import annotations

import asyncio

from blindrefusal.models.calls import RunSettings
from blindrefusal.models.limiter import AdaptiveLimiter
from blindrefusal.models.presets import resolve
from blindrefusal.models.runner import call_model, fan_out

FAST = RunSettings(timeout_s=2.0, max_retries=2, backoff_base_s=0.02, backoff_max_s=0.1)


def _specs(srv, names):
    return [resolve("openai/" + n, api_base=srv.api_base) for n in names]


def test_fan_out_overlaps_calls(fault_server):
    names = [f"overlap{i};delay=0.5" for i in range(8)]
    results = asyncio.run(fan_out(_specs(fault_server, names), "hello", settings=FAST))
    assert [r.status for r in results] == ["ok"] * 8
    served = [fault_server.requests_for(n.split(";")[0])[-1] for n in names]
    # Every call was in flight at the same moment: the latest start precedes the earliest end.
    assert max(r.start for r in served) < min(r.end for r in served)
    assert max(r.started for r in results) < min(r.ended for r in results)
    assert all(r.prompt_tokens == 12 and r.completion_tokens and r.ttft_ms is not None for r in results)
    assert not any(r.usage_counted for r in results)  # a provider's own usage is kept as reported
    assert all(r.cost_usd is None for r in results)  # unknown price: unknown, not zero


def test_each_fault_gets_its_own_outcome_and_the_others_finish(fault_server):
    names = ["f_ok;delay=0.2", "f_429;fail429=1", "f_500;status=500", "f_503;status=503", "f_hang;hang",
             "f_cut;cut", "f_bad;malformed", "f_filter;filter", "f_empty;empty", "f_auth;status=401",
             "f_400;status=400"]
    events: list[tuple[str, str]] = []
    results = asyncio.run(fan_out(_specs(fault_server, names), "hello", settings=FAST,
                                  on_event=lambda k, e, _p: events.append((k.split(";")[0][7:], e))))
    by = {r.model_key.split(";")[0][len("openai/"):]: r for r in results}
    assert by["f_ok"].status == "ok" and by["f_ok"].attempts == 1
    assert by["f_429"].status == "ok" and by["f_429"].attempts == 2 and by["f_429"].error is None
    assert "429" in by["f_429"].retry_statuses[0]
    for name in ("f_500", "f_503"):
        assert by[name].status == "error" and by[name].attempts == 3, by[name]
        assert len(fault_server.requests_for(name)) == 3  # our retries only: the SDK does not retry behind us
    assert by["f_hang"].status == "error" and by["f_hang"].error == "timed out"
    assert by["f_cut"].status == "error" and "broke off" in by["f_cut"].error
    assert by["f_cut"].text  # what arrived before the cut is kept
    assert by["f_bad"].status == "error"
    assert by["f_filter"].status == "blocked" and by["f_filter"].text == ""
    assert by["f_empty"].status == "error" and "empty" in by["f_empty"].error
    for name in ("f_auth", "f_400"):  # never retried
        assert by[name].status == "error" and by[name].attempts == 1
        assert len(fault_server.requests_for(name)) == 1
    assert ("f_429", "retry") in events
    assert {k for k, e in events if e == "done"} == set(by)


def test_missing_key_is_an_error_without_a_call(monkeypatch):
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    res = asyncio.run(call_model(resolve("grok-4"), "hello", settings=FAST))
    assert res.status == "error" and "OPENROUTER_API_KEY" in res.error and res.attempts == 0


def test_adaptive_limiter_backs_off_on_429_without_losing_work(fault_server):
    async def go():
        limiter = AdaptiveLimiter(initial=32, cap=64)
        spec = resolve("openai/capped;cap=4;delay=0.05", api_base=fault_server.api_base)
        settings = RunSettings(timeout_s=5, max_retries=8, backoff_base_s=0.01, backoff_max_s=0.05)
        results = await asyncio.gather(*(call_model(spec, f"q{i}", settings=settings, limiter=limiter)
                                         for i in range(40)))
        return limiter, results

    limiter, results = asyncio.run(go())
    assert all(r.status == "ok" for r in results), [r.error for r in results if r.status != "ok"]
    sent = fault_server.requests_for("capped")
    rejected = [r for r in sent if r.status == 429]
    assert len(sent) - len(rejected) == 40  # every case answered exactly once
    assert limiter.rate_limited == len(rejected)
    assert len(rejected) < 80  # no retry storm: well under two rejections per case
    assert limiter.limit < 32  # it backed off
