"""aiohttp under the transport interface: the default async stack on CPython.

One ``ClientSession`` per event loop (aiohttp's sessions belong to the loop that made them),
with no cookie jar and no automatic decompression: ritellm decodes bodies itself, in bounded
slices. Proxies come from the environment, routed per request as the sync stack routes them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Mapping

import aiohttp
import yarl

from .base import Proxies, Request, Timeouts, TransportError, TransportTimeout

MAX_CONNECTIONS = 1000


@functools.lru_cache(maxsize=64)
def _timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    # aiohttp's `connect` covers waiting for a pooled connection and connecting; `sock_connect`
    # the connect alone. It has no write timeout.
    return aiohttp.ClientTimeout(
        total=None, connect=timeouts.pool, sock_connect=timeouts.connect, sock_read=timeouts.read
    )


@functools.lru_cache(maxsize=256)
def _url(url: str) -> yarl.URL:
    # encoded=True: the core sends URLs already percent-encoded; parsing them again costs time.
    return yarl.URL(url, encoded=True)


def _error(exc: BaseException) -> TransportError:
    cls = TransportTimeout if isinstance(exc, asyncio.TimeoutError) else TransportError
    return cls(str(exc) or type(exc).__name__)


class AsyncResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while True:
                data = await content.readany()
                if not data:
                    return
                yield data
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _error(exc) from exc

    async def aclose(self) -> None:
        response = self._response
        if response.content.at_eof():
            response.release()  # the connection goes back to the pool
        else:
            response.close()  # unread bytes would corrupt the next request on it


class AiohttpTransport:
    def __init__(self) -> None:
        self._proxies = Proxies()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
        )

    async def handle_async_request(self, request: Request) -> AsyncResponse:
        url = _url(request.url)
        try:
            response = await self._session.request(
                request.method,
                url,
                data=request.body,
                headers=request.headers,
                timeout=_timeout(request.timeouts),
                proxy=self._proxies.for_url(url.scheme, url.host or ""),
                allow_redirects=False,
            )
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _error(exc) from exc
        except ValueError as exc:  # a proxy scheme aiohttp does not speak (socks5://)
            raise TransportError(str(exc)) from exc
        return AsyncResponse(response)

    async def aclose(self) -> None:
        await self._session.close()
