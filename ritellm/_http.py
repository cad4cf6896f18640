"""Network I/O: the shared transports, sending with retries and redirects, reading bounded
bodies, and the in-process mock provider.

Everything that touches the network lives here, so a different HTTP stack (an aiohttp-backed
transport, say) replaces the pools :class:`Transports` makes and nothing else. The sync and
async twins are kept line for line parallel over the pure helpers.
"""

from __future__ import annotations

import functools
import threading
import time
import urllib.request
import weakref
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Generic, TypeVar, Union, cast

import httpx

from ._calls import Prepared, core, raise_error
from ._exceptions import APIConnectionError, APIError, APIStatusError, APITimeoutError, LimitExceededError
from ._retries import retry_delay, should_retry
from ._version import __version__

if TYPE_CHECKING:
    import asyncio

DEFAULT_POOL_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
USER_AGENT = f"ritellm/{__version__}"
#: Only encodings ritellm decodes itself, in bounded slices (see :class:`Decompressor`).
ACCEPT_ENCODING = "gzip, deflate"
#: Same-origin 307/308 redirects followed per call; every other redirect is refused.
MAX_REDIRECTS = 5


def _mock_handler(request: httpx.Request) -> httpx.Response:
    content_type, body = core().mock(request.content)
    # A stream, not `content=`: httpx marks content given up front as already read.
    return httpx.Response(200, headers={"content-type": content_type}, stream=httpx.ByteStream(body))


Transport = TypeVar("Transport", httpx.BaseTransport, httpx.AsyncBaseTransport)


class Transports(Generic[Transport]):
    """What ritellm sends through: a connection pool, a pool per proxy the environment names
    (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY`` and ``NO_PROXY``, read as urllib reads
    them), and the in-process mock provider.

    Requests go straight to httpx's transports: ``Client.send`` adds auth flows, redirect
    handling, a cookie jar and event hooks that ritellm does not use, at a quarter of a raw
    request's cost. Any ``httpx`` transport fits, so another HTTP stack plugs in here.
    """

    def __init__(self, pool: Callable[..., Transport]) -> None:
        self.direct: Transport = pool(limits=DEFAULT_POOL_LIMITS)
        self.proxied: dict[str, Transport] = {
            scheme: pool(limits=DEFAULT_POOL_LIMITS, proxy=url)
            for scheme, url in urllib.request.getproxies().items()
            if scheme in ("http", "https", "all")
        }
        self.mock: Transport = cast(Transport, httpx.MockTransport(_mock_handler))
        # NO_PROXY, read once per host: urllib reads the environment on every call.
        self._bypasses_proxy = functools.lru_cache(maxsize=256)(urllib.request.proxy_bypass)

    def route(self, url: httpx.URL) -> Transport:
        if url.scheme == "mock":
            return self.mock
        if self.proxied:
            proxy = self.proxied.get(url.scheme) or self.proxied.get("all")
            if proxy is not None and not self._bypasses_proxy(url.host):
                return proxy
        return self.direct

    def pools(self) -> list[Transport]:
        return [self.direct] + list(self.proxied.values())


_sync_transports: Transports[httpx.BaseTransport] | None = None
_sync_lock = threading.Lock()
_async_transports: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, Transports[httpx.AsyncBaseTransport]
] = weakref.WeakKeyDictionary()


def sync_transports() -> Transports[httpx.BaseTransport]:
    """The process's shared transports (connections are reused across calls and threads)."""
    global _sync_transports
    if _sync_transports is None:
        with _sync_lock:
            if _sync_transports is None:
                _sync_transports = Transports(httpx.HTTPTransport)
    return _sync_transports


def async_transports() -> Transports[httpx.AsyncBaseTransport]:
    """The running event loop's transports: async connections belong to one loop."""
    import asyncio  # only async callers pay for importing it

    loop = asyncio.get_running_loop()
    transports = _async_transports.get(loop)
    if transports is None:
        transports = _async_transports[loop] = Transports(httpx.AsyncHTTPTransport)
    return transports


async def aclose_async_transports() -> None:
    """Closes the running loop's connections, if it has any."""
    import asyncio

    transports = _async_transports.pop(asyncio.get_running_loop(), None)
    for pool in transports.pools() if transports else []:
        await pool.aclose()


@functools.lru_cache(maxsize=256)
def _url(url: str) -> httpx.URL:
    # Parsing a URL is a third of the cost of making a request; calls repeat a few URLs.
    return httpx.URL(url)


def _request(prepared: Prepared) -> httpx.Request:
    """The httpx request, made directly: ``Client.build_request`` merges client defaults
    (headers, cookies, base URL) that ritellm does not use, at twice the cost."""
    return httpx.Request(
        prepared.method,
        _url(prepared.url),
        headers={"user-agent": USER_AGENT, "accept-encoding": ACCEPT_ENCODING, **prepared.headers},
        content=prepared.body,
        extensions={"timeout": prepared.timeout},
    )


def transport_error(exc: httpx.TransportError, prepared: Prepared) -> APIError:
    """The ritellm error for an httpx transport failure (raise it ``from exc``)."""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "failed"
    error = cls(
        f"request to {prepared.url} {what}: {exc or type(exc).__name__}",
        provider=prepared.provider,
        model=prepared.model,
    )
    error.redact(prepared.secrets)
    return error


def deadline_error(prepared: Prepared) -> APITimeoutError:
    return APITimeoutError(
        f"the call to {prepared.url} took longer than its {prepared.deadline:g} s deadline",
        provider=prepared.provider,
        model=prepared.model,
    )


class Decompressor:
    """Decodes a ``content-encoding`` in slices of at most :data:`SLICE` bytes.

    httpx decodes each network read in one piece, so a few kilobytes of gzip can become
    gigabytes at once; slicing lets the caller stop at its limit.
    """

    SLICE = 64 << 10

    def __init__(self, encoding: str, prepared: Prepared) -> None:
        self._provider = prepared.provider
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise APIError(
                f"the answer has content-encoding {encoding!r}, which was not asked for",
                provider=prepared.provider,
                model=prepared.model,
            )

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            yield data
            return
        try:
            while data:
                yield self._zlib.decompress(data, self.SLICE)
                data = self._zlib.unconsumed_tail
        except zlib.error as exc:
            raise APIError(
                f"the answer's compressed body is corrupt: {exc}", provider=self._provider
            ) from exc


def _too_large(prepared: Prepared) -> LimitExceededError:
    return LimitExceededError(
        f"the answer from {prepared.provider}/{prepared.model} is larger than the max_response_bytes "
        f"limit of {prepared.limits.max_response_bytes} bytes"
    )


def _redirect(prepared: Prepared, response: httpx.Response) -> Prepared | None:
    """The call re-aimed at a redirect's target, if ritellm follows it: only 307 and 308 (which
    keep the method and body) within the same scheme, host and port, so credentials never go
    anywhere else. Other redirects are refused with an error."""
    location = response.headers.get("location")
    if response.status_code not in (301, 302, 303, 307, 308) or location is None:
        return None
    source = _url(prepared.url)
    target = source.join(location)
    if response.status_code in (307, 308) and (target.scheme, target.host, target.port) == (
        source.scheme,
        source.host,
        source.port,
    ):
        return prepared._replace(url=str(target))
    raise APIStatusError(
        f"refused to follow the HTTP {response.status_code} redirect to {target.scheme}://{target.host}: "
        "ritellm follows only 307 and 308 redirects within the same origin, so keys stay with it",
        provider=prepared.provider,
        model=prepared.model,
        status_code=response.status_code,
    )


Response = tuple[Prepared, httpx.Response, Union[bytes, None]]


def _retry_wait(
    prepared: Prepared, attempt: int, started: float, response: httpx.Response | None = None
) -> float | None:
    """Seconds to wait before trying again after a failed attempt (a connection failure, or
    ``response``), or None when the call must fail now: no retries left, an answer not worth
    retrying, or too little time left before the call's deadline."""
    if attempt >= prepared.max_retries:
        return None
    if response is not None and not should_retry(response.status_code, response.headers):
        return None
    wait = retry_delay(attempt, response.headers if response is not None else None)
    if time.monotonic() - started + wait >= prepared.deadline:
        return None
    return wait


class _Body:
    """A complete answer's body as it arrives: decompressed in slices, within
    ``max_response_bytes`` and the call's deadline."""

    def __init__(self, response: httpx.Response, prepared: Prepared, started: float) -> None:
        self._decompressor = Decompressor(response.headers.get("content-encoding", ""), prepared)
        self._prepared = prepared
        self._started = started
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, data: bytes) -> None:
        prepared = self._prepared
        for part in self._decompressor.decode(data):
            self._size += len(part)
            if self._size > prepared.limits.max_response_bytes:
                raise _too_large(prepared)
            self._parts.append(part)
        if time.monotonic() - self._started > prepared.deadline:
            raise deadline_error(prepared)

    def whole(self) -> bytes:
        return b"".join(self._parts)


def read_body(response: httpx.Response, prepared: Prepared, started: float) -> bytes:
    """The whole body; see :class:`_Body`."""
    try:
        body = _Body(response, prepared, started)
        for data in response.iter_raw():
            body.add(data)
        return body.whole()
    except httpx.TransportError as exc:
        raise transport_error(exc, prepared) from exc
    finally:
        response.close()


async def aread_body(response: httpx.Response, prepared: Prepared, started: float) -> bytes:
    """The whole body; see :class:`_Body`."""
    try:
        body = _Body(response, prepared, started)
        async for data in response.aiter_raw():
            body.add(data)
        return body.whole()
    except httpx.TransportError as exc:
        raise transport_error(exc, prepared) from exc
    finally:
        await response.aclose()


def request(transports: Transports[httpx.BaseTransport], prepared: Prepared, *, stream: bool) -> Response:
    """Sends the call, retrying and following redirects as allowed, until a success.

    Returns the call as last aimed, the response, and its body, which is ``None`` for a stream
    (its body is left to read). Raises the provider's error for a final error answer.
    """
    started = time.monotonic()
    attempt = redirects = 0
    while True:
        try:
            try:
                outgoing = _request(prepared)
                response = transports.route(outgoing.url).handle_request(outgoing)
            except httpx.TransportError as exc:
                raise transport_error(exc, prepared) from exc
            if stream and response.is_success:
                return prepared, response, None
            body = read_body(response, prepared, started)
        except APIConnectionError:
            wait = _retry_wait(prepared, attempt, started)
            if wait is None:
                raise
            time.sleep(wait)
            attempt += 1
            continue
        if response.is_success:
            return prepared, response, body
        redirected = _redirect(prepared, response)
        if redirected is not None and redirects < MAX_REDIRECTS:
            prepared, redirects = redirected, redirects + 1
            continue
        wait = _retry_wait(prepared, attempt, started, response)
        if wait is None:
            raise_error(prepared, response.status_code, response.headers, body)
        time.sleep(wait)
        attempt += 1


async def arequest(
    transports: Transports[httpx.AsyncBaseTransport], prepared: Prepared, *, stream: bool
) -> Response:
    """The async twin of :func:`request`."""
    import asyncio

    started = time.monotonic()
    attempt = redirects = 0
    while True:
        try:
            try:
                outgoing = _request(prepared)
                response = await transports.route(outgoing.url).handle_async_request(outgoing)
            except httpx.TransportError as exc:
                raise transport_error(exc, prepared) from exc
            if stream and response.is_success:
                return prepared, response, None
            body = await aread_body(response, prepared, started)
        except APIConnectionError:
            wait = _retry_wait(prepared, attempt, started)
            if wait is None:
                raise
            await asyncio.sleep(wait)
            attempt += 1
            continue
        if response.is_success:
            return prepared, response, body
        redirected = _redirect(prepared, response)
        if redirected is not None and redirects < MAX_REDIRECTS:
            prepared, redirects = redirected, redirects + 1
            continue
        wait = _retry_wait(prepared, attempt, started, response)
        if wait is None:
            raise_error(prepared, response.status_code, response.headers, body)
        await asyncio.sleep(wait)
        attempt += 1


def iter_decoded(response: httpx.Response, prepared: Prepared) -> Iterator[bytes]:
    """A stream's body, decompressed in bounded slices."""
    decompressor = Decompressor(response.headers.get("content-encoding", ""), prepared)
    for data in response.iter_raw():
        yield from decompressor.decode(data)


async def aiter_decoded(response: httpx.Response, prepared: Prepared) -> AsyncIterator[bytes]:
    """A stream's body, decompressed in bounded slices."""
    decompressor = Decompressor(response.headers.get("content-encoding", ""), prepared)
    async for data in response.aiter_raw():
        for part in decompressor.decode(data):
            yield part
