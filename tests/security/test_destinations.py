"""Paid is decided by where a key would go (issue 36): with the host's keys set and the providers' endpoints
pointed at a local recorder, no model string litellm accepts delivers a host credential without a spending
permit; a base gets only the key passed for it; and no key follows a redirect to another origin. Real HTTP
through litellm, to servers on loopback."""

from __future__ import annotations

import pytest

from tests.support.recorder import Recorder, RunningRecorder

# The host's credentials, one per variable, each distinct so that a leak names its source.
HOST_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "AZURE_API_KEY", "LITELLM_PROXY_API_KEY",
             "HOSTED_VLLM_API_KEY", "GROQ_API_KEY", "DEEPSEEK_API_KEY", "XAI_API_KEY", "GEMINI_API_KEY",
             "MISTRAL_API_KEY", "TOGETHERAI_API_KEY", "COHERE_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
# Where litellm sends each provider's calls, pointed at the recorder (the positive control shows they arrive).
BASE_VARS = {"OPENAI_API_BASE": "/v1", "OPENAI_BASE_URL": "/v1", "ANTHROPIC_API_BASE": "", "ANTHROPIC_BASE_URL": "",
             "OPENROUTER_API_BASE": "/v1", "AZURE_API_BASE": "", "LITELLM_PROXY_API_BASE": "/v1",
             "HOSTED_VLLM_API_BASE": "/v1", "GROQ_API_BASE": "", "DEEPSEEK_API_BASE": "", "XAI_API_BASE": "",
             "GEMINI_API_BASE": ""}
# The strings of the report, and one per common provider; every provider litellm lists is added below.
ATTACKS = ("text-completion-openai/gpt-3.5-turbo-instruct", "custom_openai/judge1", "litellm_proxy/x", "azure/gpt",
           "openai/gpt-4o", "gpt-4o", "anthropic/claude", "openrouter/x", "hosted_vllm/x", "groq/x", "deepseek/x",
           "xai/grok", "gemini/x", "bedrock/x", "vertex_ai/x", "ollama/x")


def _secret(var: str) -> str:
    return f"sk-HOST-{var}-0123456789abcdef"


@pytest.fixture
def recorder():
    with RunningRecorder() as rec:
        yield rec


@pytest.fixture
def host_everywhere(recorder, monkeypatch):
    """Every host credential set, every endpoint litellm reads from the environment pointed at the recorder."""
    for var in HOST_VARS:
        monkeypatch.setenv(var, _secret(var))
    for var, path in BASE_VARS.items():
        monkeypatch.setenv(var, recorder.base + path)
    monkeypatch.setenv("AZURE_API_VERSION", "2024-02-01")
    for var in ("BR_ALLOWED_API_BASES", "BR_MAX_PAID_CALLS", "BR_JUDGE_API_BASE", "BR_JUDGE_MODEL"):
        monkeypatch.delenv(var, raising=False)
    return recorder


def _fast():
    from blindrefusal.models.calls import RunSettings

    return RunSettings(timeout_s=10, max_retries=0, stream=False)


def _leaks(rec: Recorder) -> list[tuple[str, str]]:
    return [(r.path, var) for r in rec.requests for var in HOST_VARS if r.carries(_secret(var))]


def _every_model_string() -> list[str]:
    from blindrefusal.models.lm import litellm_module

    providers = sorted({getattr(p, "value", p) for p in litellm_module().provider_list})
    assert len(providers) > 100, "litellm's provider list looks wrong"
    return list(ATTACKS) + [f"{p}/some-model" for p in providers]


def test_no_model_string_litellm_accepts_sends_a_host_key_without_a_permit(host_everywhere, engine):
    from blindrefusal.models.presets import resolve
    from blindrefusal.models.runner import call_model
    from blindrefusal.models.spending import spending
    from blindrefusal.models.sync import run_sync

    rec = host_everywhere

    async def every(strings):
        import asyncio

        return await asyncio.gather(*(call_model(resolve(s), "hello", settings=_fast()) for s in strings))

    strings = _every_model_string()
    results = run_sync(every(strings))
    assert rec.requests == [], [(r.method, r.path) for r in rec.requests][:5]
    for model, res in zip(strings, results, strict=True):
        assert res.status == "error" and res.error.startswith("refused"), (model, res.error)
        assert resolve(model).uses_host_key, f"{model} goes to its provider with the host's credential: paid"

    # The positive control: with a permit, the same strings do reach the recorder, with the host's key. So the
    # silence above is the guard's doing, not a misdirected endpoint.
    with spending(engine, "test"):
        for model, var in (("text-completion-openai/gpt-3.5-turbo-instruct", "OPENAI_API_KEY"),
                           ("custom_openai/judge1", "OPENAI_API_KEY"), ("anthropic/claude", "ANTHROPIC_API_KEY"),
                           ("azure/gpt", "AZURE_API_KEY"), ("litellm_proxy/x", "LITELLM_PROXY_API_KEY")):
            before = len(rec.requests)
            run_sync(call_model(resolve(model), "hello", settings=_fast()))
            assert any(r.carries(_secret(var)) for r in rec.requests[before:]), model


def test_every_provider_litellm_lists_is_paid_at_its_endpoint_and_only_known_ones_go_to_a_base():
    """The enumeration: a provider litellm adds in an upgrade is paid (no base) and refused at a typed base until
    it is shown to send only the key it is given (BASE_PROVIDERS, each tested below)."""
    from blindrefusal.models.destination import BASE_PROVIDERS, provider, refusal
    from blindrefusal.models.presets import resolve

    for model in _every_model_string():
        assert resolve(model).uses_host_key, model
        at_base = resolve(model, api_base="http://127.0.0.1:9/v1")
        assert not at_base.uses_host_key
        why = refusal(at_base)
        if why is None:
            assert provider(at_base) in BASE_PROVIDERS, model


@pytest.mark.parametrize("prefix", ["openai", "custom_openai", "hosted_vllm", "litellm_proxy", "openrouter",
                                    "anthropic"])
def test_a_base_provider_sends_a_typed_base_no_host_credential(host_everywhere, prefix):
    from blindrefusal.models.destination import BASE_PROVIDERS
    from blindrefusal.models.presets import resolve
    from blindrefusal.models.runner import call_model
    from blindrefusal.models.sync import run_sync

    assert prefix in BASE_PROVIDERS
    rec = host_everywhere
    with RunningRecorder() as visitors_server:
        spec = resolve(f"{prefix}/x", api_base=visitors_server.base + "/v1")
        assert not spec.uses_host_key
        res = run_sync(call_model(spec, "hello", settings=_fast()))
        assert visitors_server.requests, res.error  # it went to the visitor's server, without permit or charge
        assert _leaks(visitors_server) == [] and rec.requests == []


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("prefix,header", [("openai", "authorization"), ("anthropic", "x-api-key")])
def test_no_key_follows_a_redirect_to_another_origin(engine, monkeypatch, status, prefix, header):
    """An allowlisted base that redirects: the call fails once, naming the redirect, and the other server gets
    nothing (before: 80 requests with the x-api-key after a 307 loop)."""
    from blindrefusal.models.calls import RunSettings
    from blindrefusal.models.presets import resolve
    from blindrefusal.models.runner import call_model
    from blindrefusal.models.spending import spending
    from blindrefusal.models.sync import run_sync

    key = "sk-gateway-" + "G" * 30
    monkeypatch.setenv("GATEWAY_KEY", key)
    with RunningRecorder() as elsewhere, RunningRecorder(Recorder(redirect_status=status)) as gateway:
        gateway.redirect_to = elsewhere.base
        monkeypatch.setenv("BR_ALLOWED_API_BASES", f"{gateway.base}/v1=GATEWAY_KEY")
        spec = resolve(f"{prefix}/x", api_base=gateway.base + "/v1")
        assert spec.uses_host_key
        with spending(engine, "test"):
            res = run_sync(call_model(spec, "hello", settings=RunSettings(timeout_s=10, stream=True)))
        assert gateway.requests and gateway.requests[0].headers.get(header, "").endswith(key)
        assert elsewhere.requests == []
        assert res.status == "error" and "redirect refused" in res.error and res.attempts == 1, res.error
