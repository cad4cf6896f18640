"""The interface between ritellm's send policy and an HTTP stack.

A transport sends one :class:`Request` and returns a response whose status and headers have
arrived and whose body is read as raw byte chunks (still compressed, if the server compressed
it), then closed. It follows no redirects, retries nothing and decodes nothing: that is
policy, written once above every transport. The sync and async methods have different names
(``handle_request``, ``handle_async_request``, as httpx names them), so one class may serve
both. Failures are :class:`TransportError`, so the policy
never sees a library's own exceptions.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Protocol

from .._models import Request as Request
from .._models import Timeouts as Timeouts


class TransportError(Exception):
    """The request could not be sent, or its answer could not be read to the end."""


class TransportTimeout(TransportError):
    """A phase of the request took longer than its timeout."""


class Response(Protocol):
    @property
    def status(self) -> int: ...

    #: Looked up case-insensitively.
    @property
    def headers(self) -> Mapping[str, str]: ...

    def iter_raw(self) -> Iterator[bytes]: ...

    def close(self) -> None:
        """Releases the connection: back to the pool if the body was read to its end."""


class AsyncResponse(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def aiter_raw(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class Transport(Protocol):
    def handle_request(self, request: Request) -> Response: ...

    def close(self) -> None: ...


class AsyncTransport(Protocol):
    async def handle_async_request(self, request: Request) -> AsyncResponse: ...

    async def aclose(self) -> None: ...


class Proxies:
    """The proxies the environment names (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, minus
    the hosts in ``NO_PROXY``), read as urllib reads them, once, when a pool is made."""

    def __init__(self) -> None:
        import urllib.request  # here: importing it costs every `import ritellm` 15 ms

        self.by_scheme = {
            scheme: url
            for scheme, url in urllib.request.getproxies().items()
            if scheme in ("http", "https", "all")
        }
        # urllib reads the environment on every call; a pool asks about a few hosts again and again.
        self._bypassed = functools.lru_cache(maxsize=256)(urllib.request.proxy_bypass)

    def for_url(self, scheme: str, host: str) -> str | None:
        """The proxy to reach ``host`` through, or None to connect directly."""
        if not self.by_scheme:
            return None
        proxy = self.by_scheme.get(scheme) or self.by_scheme.get("all")
        if proxy is None or self._bypassed(host):
            return None
        return proxy
