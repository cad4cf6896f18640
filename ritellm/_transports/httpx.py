"""httpx under the transport interface: the sync stack, and the async fallback
(``RITELLM_ASYNC_TRANSPORT=httpx``).

Requests go to httpx's transports directly: ``Client.send`` adds auth flows, redirect
handling, a cookie jar and event hooks that ritellm does not use, at a quarter of a raw
request's cost. One pool connects directly and one more per proxy the environment names.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Generic, TypeVar

import httpx

from .base import Proxies, Request, TransportError, TransportTimeout

POOL_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)


@functools.lru_cache(maxsize=256)
def _url(url: str) -> httpx.URL:
    # Parsing a URL is a third of the cost of making a request; calls repeat a few URLs.
    return httpx.URL(url)


def _request(request: Request) -> httpx.Request:
    return httpx.Request(
        request.method,
        _url(request.url),
        headers=request.headers,
        content=request.body,
        extensions={"timeout": request.timeouts._asdict()},
    )


def _error(exc: httpx.TransportError) -> TransportError:
    cls = TransportTimeout if isinstance(exc, httpx.TimeoutException) else TransportError
    return cls(str(exc) or type(exc).__name__)


@functools.lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle takes about 25 ms; without sharing it, every event loop's new
    # pool would pay that again.
    return httpx.create_ssl_context()


Pool = TypeVar("Pool", httpx.HTTPTransport, httpx.AsyncHTTPTransport)


class _Pools(Generic[Pool]):
    def __init__(self, pool: type[Pool]) -> None:
        self._pool: type[Pool] = pool
        self._proxies = Proxies()
        self._direct: Pool = pool(limits=POOL_LIMITS, verify=_tls())
        #: Made on first use: a proxy that needs what is not installed (SOCKS without socksio)
        #: fails only the calls that go through it.
        self._proxied: dict[str, Pool] = {}

    def _route(self, url: httpx.URL) -> Pool:
        proxy = self._proxies.for_url(url.scheme, url.host)
        if proxy is None:
            return self._direct
        pool = self._proxied.get(proxy)
        if pool is None:
            try:
                pool = self._proxied[proxy] = self._pool(limits=POOL_LIMITS, proxy=proxy, verify=_tls())
            except ImportError as exc:  # socks5:// without httpx[socks]
                raise TransportError(
                    f"the proxy {proxy} needs a package that is not installed: {exc}"
                ) from None
            except ValueError as exc:  # a scheme httpx does not proxy through
                raise TransportError(f"the proxy {proxy} cannot be used: {exc}") from None
        return pool

    def _all(self) -> list[Pool]:
        return [self._direct] + list(self._proxied.values())


class Response:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers

    def iter_raw(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_raw()
        except httpx.TransportError as exc:
            raise _error(exc) from exc

    def close(self) -> None:
        self._response.close()


class HttpxTransport(_Pools[httpx.HTTPTransport]):
    def __init__(self) -> None:
        super().__init__(httpx.HTTPTransport)

    def handle_request(self, request: Request) -> Response:
        outgoing = _request(request)
        try:
            return Response(self._route(outgoing.url).handle_request(outgoing))
        except httpx.TransportError as exc:
            raise _error(exc) from exc

    def close(self) -> None:
        for pool in self._all():
            pool.close()


class AsyncResponse:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._response.aiter_raw():
                yield data
        except httpx.TransportError as exc:
            raise _error(exc) from exc

    async def aclose(self) -> None:
        await self._response.aclose()


class AsyncHttpxTransport(_Pools[httpx.AsyncHTTPTransport]):
    def __init__(self) -> None:
        super().__init__(httpx.AsyncHTTPTransport)

    async def handle_async_request(self, request: Request) -> AsyncResponse:
        outgoing = _request(request)
        try:
            return AsyncResponse(await self._route(outgoing.url).handle_async_request(outgoing))
        except httpx.TransportError as exc:
            raise _error(exc) from exc

    async def aclose(self) -> None:
        for pool in self._all():
            await pool.aclose()
