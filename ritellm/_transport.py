"""Sending a call: retries, the call's deadline, redirects, bounded and decompressed bodies, and
redaction, written once above every HTTP stack (``_transports/``). The sync and async twins are
kept line for line parallel over the pure helpers.

The policy hands back the final response (a success, or an error answer with its body read), or
raises a transport error; it never reads what an answer means. Turning an error answer into
its typed exception happens once, above it (``_answers.read``).
"""

from __future__ import annotations

import logging
import time
import urllib.parse
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Generic, TypeVar

from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    InvalidResponseError,
    LimitExceededError,
    RitellmError,
)
from ._models import Prepared, has_credentials
from ._pools import Pools
from ._retries import retry_delay, should_retry
from ._transports.base import (
    AsyncResponse,
    AsyncTransport,
    Request,
    Response,
    Transport,
    TransportError,
    TransportTimeout,
)
from ._version import __version__

USER_AGENT = f"ritellm/{__version__}"
#: Only encodings ritellm decodes itself, in bounded slices (see :class:`Decompressor`).
ACCEPT_ENCODING = "gzip, deflate"
#: Same-origin 307/308 redirects followed per call; every other redirect is refused.
MAX_REDIRECTS = 5

#: Each attempt at DEBUG, each retry and final failure at INFO; silent unless configured.
#: Records carry URLs and redacted errors, never keys or bodies.
_log = logging.getLogger("ritellm")
_log.addHandler(logging.NullHandler())


def _outgoing(prepared: Prepared) -> Request:
    headers = prepared.headers
    if prepared.sign is not None:  # signed per attempt: a retry or a redirect is a new request
        headers = prepared.sign(prepared.method, prepared.url, headers, prepared.body)
    return Request(
        prepared.method,
        prepared.url,
        {"user-agent": USER_AGENT, "accept-encoding": ACCEPT_ENCODING, **headers},
        prepared.body,
        prepared.timeouts,
    )


#: How to start the local servers that providers run on this machine.
_START_LOCAL = {
    "ollama": "start it with `ollama serve`",
    "lm_studio": "start LM Studio's server (`lms server start`)",
    "hosted_vllm": "start it with `vllm serve <model>`",
}


def transport_error(exc: TransportError, prepared: Prepared) -> APIError:
    """The ritellm error for a transport failure (raise it ``from exc``)."""
    cls = APITimeoutError if isinstance(exc, TransportTimeout) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "failed"
    message = f"request to {prepared.url} {what}: {exc}"
    host = urllib.parse.urlsplit(prepared.url).hostname or ""
    if cls is APIConnectionError and (host in ("localhost", "::1") or host.startswith("127.")):
        start = _START_LOCAL.get(prepared.provider, "start it, or pass the base_url where it listens")
        message += f". Is the server on this machine running? If not, {start}"
    error = cls(message, provider=prepared.provider, model=prepared.model)
    error.redact(prepared.secrets)
    return error


def deadline_error(prepared: Prepared) -> APITimeoutError:
    return APITimeoutError(
        f"the call to {prepared.url} took longer than its {prepared.deadline:g} s deadline",
        provider=prepared.provider,
        model=prepared.model,
    )


class Decompressor:
    """Decodes a ``content-encoding`` in slices of at most :data:`SLICE` bytes, so that a few
    kilobytes of gzip cannot become gigabytes at once: the caller stops at its limit.

    ``deflate`` is zlib-wrapped as HTTP says; a body that is raw deflate instead (some servers
    send that) is read as such, as httpx and browsers read it."""

    SLICE = 64 << 10

    def __init__(self, encoding: str, prepared: Prepared) -> None:
        self._provider, self._model = prepared.provider, prepared.model
        name = encoding.strip().lower()
        self._raw_deflate_allowed = name == "deflate"
        if name in ("", "identity"):
            self._zlib = None
        elif name in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise APIError(
                f"the answer has content-encoding {encoding!r}, which was not asked for",
                provider=prepared.provider,
                model=prepared.model,
            )
        self.identity = self._zlib is None

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            yield data
            return
        try:
            if self._raw_deflate_allowed:  # the first bytes tell whether it has zlib's wrapping
                self._raw_deflate_allowed = False
                try:
                    first = self._zlib.decompress(data, self.SLICE)
                except zlib.error:
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    first = self._zlib.decompress(data, self.SLICE)
                yield first
                data = self._zlib.unconsumed_tail
            while data:
                yield self._zlib.decompress(data, self.SLICE)
                data = self._zlib.unconsumed_tail
        except zlib.error as exc:
            raise APIError(
                f"the answer's compressed body is corrupt: {exc}", provider=self._provider, model=self._model
            ) from exc


def _too_large(prepared: Prepared) -> LimitExceededError:
    return LimitExceededError(
        f"the answer from {prepared.provider}/{prepared.model} is larger than the max_response_bytes "
        f"limit of {prepared.limits.max_response_bytes} bytes"
    )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: urllib.parse.SplitResult) -> tuple[str, str, int | None]:
    return url.scheme, url.hostname or "", url.port or _DEFAULT_PORTS.get(url.scheme)


def _redirect(prepared: Prepared, response: Response | AsyncResponse) -> Prepared | None:
    """The call re-aimed at a redirect's target, if ritellm follows it: only 307 and 308 (which
    keep the method and body) within the same scheme, host and port, so credentials never go
    anywhere else. Other redirects are refused with an error."""
    location = response.headers.get("location")
    if response.status not in (301, 302, 303, 307, 308) or location is None:
        return None
    try:
        target = urllib.parse.urljoin(prepared.url, location)
        source_parts, target_parts = urllib.parse.urlsplit(prepared.url), urllib.parse.urlsplit(target)
        same_origin = _origin(target_parts) == _origin(source_parts) and not has_credentials(target)
    except ValueError as exc:  # a port out of range, a malformed IPv6 host
        raise InvalidResponseError(
            f"the HTTP {response.status} redirect's location is not a valid URL: {exc}",
            provider=prepared.provider,
            model=prepared.model,
        ) from None
    if response.status in (307, 308) and same_origin:
        return prepared._replace(url=target)
    raise APIStatusError(
        f"refused to follow the HTTP {response.status} redirect to "
        f"{target_parts.scheme}://{target_parts.hostname}: ritellm follows only 307 and 308 redirects "
        "within the same origin, so keys stay with it",
        provider=prepared.provider,
        model=prepared.model,
        status_code=response.status,
    )


def _counted(redirects: int, prepared: Prepared, response: Response | AsyncResponse) -> int:
    """One more redirect followed; past :data:`MAX_REDIRECTS` the call fails."""
    if redirects >= MAX_REDIRECTS:
        raise APIStatusError(
            f"stopped after {MAX_REDIRECTS} redirects; the last, HTTP {response.status}, was to {prepared.url}",
            provider=prepared.provider,
            model=prepared.model,
            status_code=response.status,
        )
    return redirects + 1


def _wait_after_failure(prepared: Prepared, attempt: int, started: float, exc: APIError) -> float:
    """Seconds to wait before trying again after ``exc``; raises ``exc`` when the call must fail."""
    wait = _retry_wait(prepared, attempt, started)
    if wait is None:
        gave_up(exc, attempt + 1, started)
        raise exc
    _log.info("retrying %s in %.2f s: %s", prepared.url, wait, exc)
    return wait


def _wait_after_error_answer(
    prepared: Prepared, attempt: int, started: float, response: Response | AsyncResponse
) -> float | None:
    """Seconds to wait before trying again after an error answer, or None when it is final."""
    wait = _retry_wait(prepared, attempt, started, response)
    if wait is not None:
        _log.info("retrying %s in %.2f s: HTTP %d", prepared.url, wait, response.status)
    return wait


def gave_up(exc: APIError, attempts: int, started: float) -> None:
    """Notes on the final error how many attempts the call made, when it made more than one."""
    if attempts > 1:
        exc.after_attempts(attempts, time.monotonic() - started)
    _log.info("%s", exc)


def _retry_wait(
    prepared: Prepared, attempt: int, started: float, response: Response | AsyncResponse | None = None
) -> float | None:
    """Seconds to wait before trying again after a failed attempt (a connection failure, or
    ``response``), or None when the call must fail now: no retries left, an answer not worth
    retrying, or too little time left before the call's deadline."""
    if attempt >= prepared.max_retries:
        return None
    if response is not None and not should_retry(response.status, response.headers):
        return None
    wait = retry_delay(attempt, response.headers if response is not None else None)
    if time.monotonic() - started + wait >= prepared.deadline:
        return None
    return wait


class _Body:
    """A complete answer's body as it arrives: decompressed in slices, within
    ``max_response_bytes`` and the call's deadline."""

    def __init__(self, response: Response | AsyncResponse, prepared: Prepared, started: float) -> None:
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


def read_body(response: Response, prepared: Prepared, started: float) -> bytes:
    """The whole body; see :class:`_Body`."""
    try:
        body = _Body(response, prepared, started)
        for data in response.iter_raw():
            body.add(data)
        return body.whole()
    except TransportError as exc:
        raise transport_error(exc, prepared) from exc
    finally:
        response.close()


async def aread_body(response: AsyncResponse, prepared: Prepared, started: float) -> bytes:
    """The whole body; see :class:`_Body`."""
    try:
        body = _Body(response, prepared, started)
        async for data in response.aiter_raw():
            body.add(data)
        return body.whole()
    except TransportError as exc:
        raise transport_error(exc, prepared) from exc
    finally:
        await response.aclose()


R = TypeVar("R", Response, AsyncResponse)


class Sent(Generic[R]):
    """Where the send policy stopped: a success, or an error answer not worth another attempt.

    (Not a generic named tuple: Python before 3.11 has none.)
    """

    __slots__ = ("prepared", "response", "body", "attempts", "started")

    def __init__(
        self, prepared: Prepared, response: R, body: bytes | None, attempts: int, started: float
    ) -> None:
        #: The call as last aimed (a redirect re-aims it).
        self.prepared = prepared
        self.response: R = response
        #: The whole body; None for a stream's success, whose body is left to read.
        self.body = body
        self.attempts = attempts
        #: ``time.monotonic()`` when the first attempt began.
        self.started = started


def request(pools: Pools[Transport], prepared: Prepared, *, stream: bool) -> Sent[Response]:
    """Sends the call, retrying and following redirects as allowed; see :class:`Sent`."""
    try:
        return _request(pools, prepared, stream=stream)
    except RitellmError as exc:  # every message built from the server's bytes included
        exc.redact(prepared.secrets)
        raise


async def arequest(pools: Pools[AsyncTransport], prepared: Prepared, *, stream: bool) -> Sent[AsyncResponse]:
    """The async twin of :func:`request`."""
    try:
        return await _arequest(pools, prepared, stream=stream)
    except RitellmError as exc:
        exc.redact(prepared.secrets)
        raise


def _request(pools: Pools[Transport], prepared: Prepared, *, stream: bool) -> Sent[Response]:
    started = time.monotonic()
    attempt = redirects = 0
    while True:
        try:
            try:
                _log.debug("%s %s, attempt %d", prepared.method, prepared.url, attempt + 1)
                response = pools.route(prepared.url).handle_request(_outgoing(prepared))
            except TransportError as exc:
                raise transport_error(exc, prepared) from exc
            success = 200 <= response.status < 300
            if stream and success:
                return Sent(prepared, response, None, attempt + 1, started)
            body = read_body(response, prepared, started)
        except APIConnectionError as exc:
            time.sleep(_wait_after_failure(prepared, attempt, started, exc))
            attempt += 1
            continue
        if not success:
            redirected = _redirect(prepared, response)
            if redirected is not None:
                prepared, redirects = redirected, _counted(redirects, prepared, response)
                continue
            wait = _wait_after_error_answer(prepared, attempt, started, response)
            if wait is not None:
                time.sleep(wait)
                attempt += 1
                continue
        return Sent(prepared, response, body, attempt + 1, started)


async def _arequest(pools: Pools[AsyncTransport], prepared: Prepared, *, stream: bool) -> Sent[AsyncResponse]:
    import asyncio

    started = time.monotonic()
    attempt = redirects = 0
    while True:
        try:
            try:
                _log.debug("%s %s, attempt %d", prepared.method, prepared.url, attempt + 1)
                response = await pools.route(prepared.url).handle_async_request(_outgoing(prepared))
            except TransportError as exc:
                raise transport_error(exc, prepared) from exc
            success = 200 <= response.status < 300
            if stream and success:
                return Sent(prepared, response, None, attempt + 1, started)
            body = await aread_body(response, prepared, started)
        except APIConnectionError as exc:
            await asyncio.sleep(_wait_after_failure(prepared, attempt, started, exc))
            attempt += 1
            continue
        if not success:
            redirected = _redirect(prepared, response)
            if redirected is not None:
                prepared, redirects = redirected, _counted(redirects, prepared, response)
                continue
            wait = _wait_after_error_answer(prepared, attempt, started, response)
            if wait is not None:
                await asyncio.sleep(wait)
                attempt += 1
                continue
        return Sent(prepared, response, body, attempt + 1, started)


def iter_decoded(response: Response, prepared: Prepared) -> Iterator[bytes]:
    """A stream's body, decompressed in bounded slices."""
    decompressor = Decompressor(response.headers.get("content-encoding", ""), prepared)
    if decompressor.identity:
        return response.iter_raw()
    return (part for data in response.iter_raw() for part in decompressor.decode(data))


def aiter_decoded(response: AsyncResponse, prepared: Prepared) -> AsyncIterator[bytes]:
    """A stream's body, decompressed in bounded slices."""
    decompressor = Decompressor(response.headers.get("content-encoding", ""), prepared)
    if decompressor.identity:
        return response.aiter_raw()
    return (part async for data in response.aiter_raw() for part in decompressor.decode(data))
