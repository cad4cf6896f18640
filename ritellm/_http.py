"""Network I/O: the shared httpx clients, sending, and the in-process mock provider.

Everything that touches httpx's clients lives here, so a different transport (an
aiohttp-backed one, say) replaces this module's client factories and nothing else.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import TYPE_CHECKING

import httpx

from ._calls import Prepared, core
from ._exceptions import APIConnectionError, APIError, APITimeoutError
from ._version import __version__

if TYPE_CHECKING:
    import asyncio

#: Like the official SDKs: a long read allowance for slow generations, a short connect.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
USER_AGENT = f"ritellm/{__version__}"


def _mock_handler(request: httpx.Request) -> httpx.Response:
    content_type, body = core().mock(request.content)
    return httpx.Response(200, headers={"content-type": content_type}, content=body)


def _client_options() -> dict[str, object]:
    return {
        "timeout": DEFAULT_TIMEOUT,
        "limits": DEFAULT_LIMITS,
        "follow_redirects": False,
        "mounts": {"mock://": httpx.MockTransport(_mock_handler)},
    }


_sync_client: httpx.Client | None = None
_sync_lock = threading.Lock()
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def sync_client() -> httpx.Client:
    """The process's shared client (connections are reused across calls and threads)."""
    global _sync_client
    if _sync_client is None:
        with _sync_lock:
            if _sync_client is None:
                _sync_client = httpx.Client(**_client_options())  # type: ignore[arg-type]
    return _sync_client


def async_client() -> httpx.AsyncClient:
    """The running event loop's client: async connections belong to one loop."""
    import asyncio  # only async callers pay for importing it

    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = httpx.AsyncClient(**_client_options())  # type: ignore[arg-type]
    return client


async def aclose_async_client() -> None:
    """Closes the running loop's client, if it has one."""
    import asyncio

    client = _async_clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


@functools.lru_cache(maxsize=256)
def _url(url: str) -> httpx.URL:
    # Parsing a URL is a third of the cost of making a request; calls repeat a few URLs.
    return httpx.URL(url)


_DEFAULT_TIMEOUT_EXTENSION = DEFAULT_TIMEOUT.as_dict()


def _request(prepared: Prepared) -> httpx.Request:
    """The httpx request, made directly: ``Client.build_request`` merges client defaults
    (headers, cookies, base URL) that ritellm does not use, at twice the cost."""
    timeout = (
        _DEFAULT_TIMEOUT_EXTENSION if prepared.timeout is None else httpx.Timeout(prepared.timeout).as_dict()
    )
    return httpx.Request(
        prepared.method,
        _url(prepared.url),
        headers={"user-agent": USER_AGENT, **prepared.headers},
        content=prepared.body,
        extensions={"timeout": timeout},
    )


def transport_error(exc: httpx.TransportError, prepared: Prepared) -> APIError:
    """The ritellm error for an httpx transport failure (raise it ``from exc``)."""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "failed"
    detail = str(exc) or type(exc).__name__
    return cls(
        f"request to {prepared.url} {what}: {detail}",
        provider=prepared.provider,
        model=prepared.model,
    )


def send(client: httpx.Client, prepared: Prepared, *, stream: bool = False) -> httpx.Response:
    try:
        return client.send(_request(prepared), stream=stream)
    except httpx.TransportError as exc:
        raise transport_error(exc, prepared) from exc


async def asend(client: httpx.AsyncClient, prepared: Prepared, *, stream: bool = False) -> httpx.Response:
    try:
        return await client.send(_request(prepared), stream=stream)
    except httpx.TransportError as exc:
        raise transport_error(exc, prepared) from exc
