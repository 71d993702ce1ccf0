"""Models: stage 2 of the pipeline. The one way the project calls a model (litellm, lazily imported): presets
and how a typed model name resolves (`presets`), the streaming call with its typed retry decision
(`runner`, `failures`), the adaptive concurrency limit (`limiter`) and the local SmolLM2 server
(`local_server`). Hands on a `CallResult` per model: ok, error or blocked."""
