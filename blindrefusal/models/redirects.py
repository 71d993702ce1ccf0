"""No credential crosses a redirect: litellm's HTTP clients (httpx, for the OpenAI SDK and for its own provider
handlers) follow redirects, and httpx drops only the `Authorization` header on a change of origin, so an
`x-api-key` (Anthropic) or `api-key` (Azure) header went along to wherever a server redirected. Every
asynchronous transport litellm creates comes from `AsyncHTTPHandler.create_async_transport`; `guard_redirects`
wraps what it returns, so a redirect to another origin comes back as an error response naming it, before any
client can follow it. (httpx is imported here, not with the runner: it costs a cold start 0.2 s.)"""

from __future__ import annotations

from typing import Any

import httpx

# The words of the refusal, also how `failures.classify` knows it (a redirect is not worth retrying).
REDIRECT_REFUSED = "answered with a redirect to another origin"


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


class _NoCrossOriginRedirect(httpx.AsyncBaseTransport):
    """A transport that hands back a 3xx pointing at another origin as a 502 naming the redirect (the
    `Location` dropped), so no client follows it with the request's headers. Same-origin redirects pass."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        location = response.headers.get("location")
        if not (300 <= response.status_code < 400 and location):
            return response
        try:
            target = request.url.join(location)
        except httpx.InvalidURL:
            target = None
        here = (request.url.scheme, request.url.host, request.url.port)
        if target is not None and (target.scheme, target.host, target.port) == here:
            return response
        await response.aclose()
        where = _origin(target) if target is not None else "an invalid address"
        message = (f"the server at {_origin(request.url)} {REDIRECT_REFUSED} ({where}); "
                   "not followed, so that no key goes to a server it was not meant for")
        return httpx.Response(502, json={"error": {"message": message, "type": "redirect_refused"}}, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def guard_redirects() -> None:
    """Wrap every asynchronous transport litellm makes from now on (idempotent)."""
    from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler

    make = AsyncHTTPHandler.create_async_transport
    if getattr(make, "_no_cross_origin_redirect", False):
        return

    def guarded(*args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        inner = make(*args, **kwargs)
        return _NoCrossOriginRedirect(inner if inner is not None else httpx.AsyncHTTPTransport())

    guarded._no_cross_origin_redirect = True  # type: ignore[attr-defined]
    # litellm types these hooks with their full signature; the wrapper forwards whatever it is given
    AsyncHTTPHandler.create_async_transport = staticmethod(guarded)  # type: ignore[method-assign, assignment]
    AsyncHTTPHandler._create_async_transport = staticmethod(guarded)  # type: ignore[assignment]
