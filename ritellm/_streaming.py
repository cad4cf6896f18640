"""Streams of chat.completion.chunk dicts, and of Responses stream events.

The core decodes each network read into a batch of chunks in one crossing. A stream closes
its response when it ends, fails, is closed, or is left by ``break`` (through generator
finalisation); use it as a context manager to close it at a point of your choosing.

Both twins are handed a response whose request was made (and retried, and found not to be an
error answer) by ``completion`` / ``acompletion``, as openai-python's streams are: a stream's
constructor does no I/O. Retries happen only while opening a stream, never after its first
chunk reached the caller. A server that keeps sending bytes without completing a chunk for
longer than the call's deadline gets an :class:`~ritellm.APITimeoutError`.

After the end marker the rest of the body (the chunked terminator, usually) is read, up to
:data:`DRAIN_BYTES`, so the connection goes back to the pool instead of being reset.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from . import _pools, _transport
from ._answers import annotated, answer_as_chunks, answer_as_events, is_event_stream, read
from ._callbacks import Watch
from ._exceptions import RitellmError, StreamInterruptedError
from ._instance import core
from ._models import Prepared
from ._transports.base import AsyncResponse, Response, TransportError, TransportTimeout
from .types import ChatCompletion, ChatCompletionChunk, ResponseStreamEvent

Chunk = ChatCompletionChunk
#: What a stream yields: chat.completion.chunk dicts, or Responses stream events.
T = TypeVar("T", ChatCompletionChunk, ResponseStreamEvent)
S = TypeVar("S")
#: The most of a body read after its end marker to keep the connection; past it, it is closed.
DRAIN_BYTES = 64 << 10


class _Progress(Generic[T]):
    """What a stream has delivered so far, shared by the sync and async readers."""

    def __init__(self, prepared: Prepared, kind: type[T]) -> None:
        self.prepared = prepared
        self.kind: type[T] = kind
        self.delivered = 0
        self.last_chunk = time.monotonic()
        #: The choices of the last chunk that had any, to tell a stream that finished but sent
        #: no end marker.
        self.last_choices: list[Any] = []

    def took(self, batch: dict[str, Any]) -> list[T]:
        """The batch's chunks (or events), counted."""
        chunks = list(map(self.kind, batch["chunks"]))
        if chunks:
            self.delivered += len(chunks)
            self.last_chunk = time.monotonic()
            for chunk in reversed(chunks):  # usually the first one looked at has choices
                # As a dict: a record's own access would make records the caller has not asked for.
                choices = dict.get(chunk, "choices")
                if choices:
                    self.last_choices = choices
                    break
        return chunks

    def finished(self, batch: dict[str, Any]) -> None:
        """The end of the body. A stream whose last choices all carry a finish reason has ended,
        end marker or not: servers have shipped without ``[DONE]`` (TGI, text-generation-webui,
        mistral.rs, llama.cpp forks). Anything else that stopped early is interrupted."""
        choices_finished = bool(self.last_choices) and all(
            isinstance(choice, dict) and choice.get("finish_reason") for choice in self.last_choices
        )
        if not (isinstance(batch.get("error"), StreamInterruptedError) and choices_finished):
            self.ended(batch)

    def ended(self, batch: dict[str, Any]) -> bool:
        """Whether the stream is over, once its chunks were delivered. Raises the batch's error,
        or a timeout when the stream has gone on past the deadline without a chunk."""
        error = batch.get("error")
        if error is not None:
            raise self.error(error)
        if batch["done"]:
            return True
        if time.monotonic() - self.last_chunk > self.prepared.deadline:
            raise self.error(_transport.deadline_error(self.prepared))
        return False

    def interrupted(self, exc: TransportError) -> RitellmError:
        if isinstance(exc, TransportTimeout):
            return self.error(_transport.transport_error(exc, self.prepared))
        return self.error(
            StreamInterruptedError(
                f"the stream from {self.prepared.url} broke off: {exc}",
                provider=self.prepared.provider,
                model=self.prepared.model,
            )
        )

    def error(self, exc: RitellmError) -> RitellmError:
        if isinstance(exc, StreamInterruptedError):
            exc.delivered_chunks = self.delivered
        return annotated(exc, self.prepared)


def _complete_as_stream(
    prepared: Prepared, response: Response | AsyncResponse, body: bytes, kind: type[T]
) -> list[Any]:
    """A stream request answered with a complete answer (proxies do this), as what the stream
    would have yielded."""
    as_stream = answer_as_chunks if kind is ChatCompletionChunk else answer_as_events
    return as_stream(prepared, response.status, response.headers, body)


def _chunks(prepared: Prepared, response: Response, kind: type[T]) -> Generator[T, None, None]:
    # A function, not a method: a generator holding its stream would make a reference cycle,
    # and a stream left by `break` would then wait for the garbage collector to close.
    try:
        if not is_event_stream(response.headers):
            body = _transport.read_body(response, prepared, time.monotonic())
            yield from _complete_as_stream(prepared, response, body, kind)
            return
        progress = _Progress(prepared, kind)
        decoder = core().open_stream(prepared.context)
        try:
            try:
                received = _transport.iter_decoded(response, prepared)
                for data in received:
                    batch = decoder.feed(data)
                    yield from progress.took(batch)
                    if progress.ended(batch):
                        _drain(received)
                        return
            except TransportError as exc:
                raise progress.interrupted(exc) from exc
            except RitellmError as exc:  # a corrupt compressed body: the server's bytes
                raise progress.error(exc) from None
            batch = decoder.finish()
            yield from progress.took(batch)
            progress.finished(batch)
        finally:
            decoder.close()
    finally:
        response.close()


async def _achunks(prepared: Prepared, response: AsyncResponse, kind: type[T]) -> AsyncGenerator[T, None]:
    """The async twin of `_chunks`."""
    try:
        if not is_event_stream(response.headers):
            body = await _transport.aread_body(response, prepared, time.monotonic())
            for chunk in _complete_as_stream(prepared, response, body, kind):
                yield chunk
            return
        progress = _Progress(prepared, kind)
        decoder = core().open_stream(prepared.context)
        try:
            try:
                received = _transport.aiter_decoded(response, prepared)
                async for data in received:
                    batch = decoder.feed(data)
                    for chunk in progress.took(batch):
                        yield chunk
                    if progress.ended(batch):
                        await _adrain(received)
                        return
            except TransportError as exc:
                raise progress.interrupted(exc) from exc
            except RitellmError as exc:  # a corrupt compressed body: the server's bytes
                raise progress.error(exc) from None
            batch = decoder.finish()
            for chunk in progress.took(batch):
                yield chunk
            progress.finished(batch)
        finally:
            decoder.close()
    finally:
        await response.aclose()


def _drain(received: Iterator[bytes]) -> None:
    """Reads the body after its end marker, up to :data:`DRAIN_BYTES`; see the module docs."""
    left = DRAIN_BYTES
    try:
        for data in received:
            left -= len(data)
            if left < 0:
                return
    except (TransportError, RitellmError):
        pass  # the stream itself is complete; the connection is closed, not reused


async def _adrain(received: AsyncIterator[bytes]) -> None:
    """The async twin of `_drain`."""
    left = DRAIN_BYTES
    try:
        async for data in received:
            left -= len(data)
            if left < 0:
                return
    except (TransportError, RitellmError):
        pass


def _watched(chunks: Generator[T, None, None], watch: Watch) -> Generator[T, None, None]:
    """``chunks``, reported to the callbacks when they end, fail or are closed."""
    try:
        for chunk in chunks:
            watch.chunk(chunk)
            yield chunk
    except Exception as exc:
        watch.end(exception=exc)
        raise
    finally:
        chunks.close()
        watch.end()


async def _awatched(chunks: AsyncGenerator[T, None], watch: Watch) -> AsyncGenerator[T, None]:
    """The async twin of `_watched`."""
    try:
        async for chunk in chunks:
            watch.chunk(chunk)
            yield chunk
    except Exception as exc:
        watch.end(exception=exc)
        raise
    finally:
        await chunks.aclose()
        watch.end()


class _SyncStream(Generic[T]):
    """An iterator of what a streamed call yields, ``kind`` records."""

    _kind: type[T]

    def __init__(self, sent: _transport.Sent[Response], watch: Watch | None = None) -> None:
        self._response = sent.response
        self._chunks: Generator[T, None, None] = _chunks(sent.prepared, sent.response, self._kind)
        if watch is not None:
            watch.attempts = sent.attempts
            self._chunks = _watched(self._chunks, watch)

    def __iter__(self) -> Iterator[T]:
        return self._chunks

    def __next__(self) -> T:
        return next(self._chunks)

    def close(self) -> None:
        """Stops the stream and releases its connection."""
        self._chunks.close()
        self._response.close()

    def __enter__(self: S) -> S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Stream(_SyncStream[ChatCompletionChunk]):
    """An iterator of chunk dicts for ``completion(..., stream=True)``."""

    _kind = ChatCompletionChunk


class ResponseStream(_SyncStream[ResponseStreamEvent]):
    """An iterator of Responses stream events for ``responses(..., stream=True)``. A stream
    that ends without a terminal event (``response.completed``, ``.incomplete`` or ``.failed``)
    raises :class:`~ritellm.StreamInterruptedError`, or after an ``error`` event that event's
    error, once the events before were yielded."""

    _kind = ResponseStreamEvent


class _AsyncStreamBase(Generic[T]):
    """An async iterator of what a streamed call yields, ``kind`` records."""

    _kind: type[T]

    def __init__(self, sent: _transport.Sent[AsyncResponse], watch: Watch | None = None) -> None:
        self._prepared = sent.prepared
        self._response = sent.response
        self._watch = watch
        self._chunks: AsyncGenerator[T, None] = _achunks(sent.prepared, sent.response, self._kind)
        if watch is not None:
            watch.attempts = sent.attempts
            self._chunks = _awatched(self._chunks, watch)

    def __aiter__(self) -> AsyncGenerator[T, None]:
        return self._chunks

    async def __anext__(self) -> T:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        """Stops the stream and releases its connection."""
        await self._chunks.aclose()
        await self._response.aclose()

    async def __aenter__(self: S) -> S:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncResponseStream(_AsyncStreamBase[ResponseStreamEvent]):
    """The async twin of :class:`ResponseStream`, for ``await aresponses(..., stream=True)``."""

    _kind = ResponseStreamEvent


class AsyncStream(_AsyncStreamBase[ChatCompletionChunk]):
    """An async iterator of chunk dicts for ``await acompletion(..., stream=True)``."""

    _kind = ChatCompletionChunk

    def __init__(self, sent: _transport.Sent[AsyncResponse], watch: Watch | None = None) -> None:
        super().__init__(sent, watch)
        self._sync: Stream | None = None

    def __iter__(self) -> Iterator[Chunk]:
        """Deprecated: read with ``async for``. Older releases sent an async stream's request
        when iteration began, so a plain ``for`` read it synchronously. The request went out on
        the event loop already: that response is closed when the loop next runs, and the call is
        sent again synchronously, blocking the loop."""
        if self._sync is None:
            import asyncio
            import warnings

            warnings.warn(
                "reading an AsyncStream with a plain `for` sends the request again and blocks the "
                "event loop; use `async for`, or ritellm.completion(..., stream=True)",
                DeprecationWarning,
                stacklevel=2,
            )
            asyncio.get_running_loop().create_task(self.aclose())
            sent = _transport.request(_pools.sync_pools(), self._prepared, stream=True)
            if sent.body is not None:
                read(sent, ChatCompletion)  # an error answer: raises it
            self._sync = Stream(sent, self._watch)
        return iter(self._sync)

    async def aclose(self) -> None:
        await super().aclose()
        if self._sync is not None:
            self._sync.close()
