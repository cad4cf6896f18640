"""Streams of chat.completion.chunk dicts.

The core decodes each network read into a batch of chunks in one crossing. A stream closes
its response when it ends, fails, is closed, or is left by ``break`` (through generator
finalisation); use it as a context manager to close it at a point of your choosing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterator
from types import TracebackType
from typing import Any

import httpx

from . import _http
from ._calls import Prepared, answer, core
from ._exceptions import APIError, StreamInterruptedError, from_core

Chunk = dict[str, Any]


def _check(batch: dict[str, Any]) -> None:
    error = batch.get("error")
    if error is not None:
        raise from_core(error)


def _interrupted(exc: httpx.TransportError, prepared: Prepared) -> APIError:
    if isinstance(exc, httpx.TimeoutException):
        return _http.transport_error(exc, prepared)
    return StreamInterruptedError(
        f"the stream from {prepared.url} broke off: {exc or type(exc).__name__}",
        provider=prepared.provider,
        model=prepared.model,
    )


class Stream:
    """An iterator of chunk dicts for ``completion(..., stream=True)``."""

    def __init__(self, prepared: Prepared, client: httpx.Client) -> None:
        self._prepared = prepared
        self._response = _http.send(client, prepared, stream=True)
        if self._response.status_code >= 300:
            try:
                self._response.read()
                answer(prepared, self._response)  # raises the provider's error
            finally:
                self._response.close()
        self._chunks = self._iterate()

    def _iterate(self) -> Generator[Chunk, None, None]:
        decoder = core().open_stream(self._prepared.context)
        try:
            try:
                for data in self._response.iter_bytes():
                    batch = decoder.feed(data)
                    yield from batch["chunks"]
                    _check(batch)
                    if batch["done"]:
                        return
            except httpx.TransportError as exc:
                raise _interrupted(exc, self._prepared) from exc
            batch = decoder.finish()
            yield from batch["chunks"]
            _check(batch)
        finally:
            decoder.close()
            self._response.close()

    def __iter__(self) -> Iterator[Chunk]:
        return self._chunks

    def __next__(self) -> Chunk:
        return next(self._chunks)

    def close(self) -> None:
        """Stops the stream and releases its connection."""
        self._chunks.close()
        self._response.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncStream:
    """An async iterator of chunk dicts for ``await acompletion(..., stream=True)``.

    The request is sent when iteration starts. ``async for`` reads it without blocking the
    event loop; a plain ``for`` also works, reading it synchronously (blocking), for code
    written against older ritellm releases.
    """

    def __init__(self, prepared: Prepared) -> None:
        self._prepared = prepared
        self._chunks: AsyncGenerator[Chunk, None] | None = None
        self._sync: Stream | None = None

    async def _aiterate(self) -> AsyncGenerator[Chunk, None]:
        prepared = self._prepared
        response = await _http.asend(_http.async_client(), prepared, stream=True)
        try:
            if response.status_code >= 300:
                await response.aread()
                answer(prepared, response)  # raises the provider's error
            decoder = core().open_stream(prepared.context)
            try:
                try:
                    async for data in response.aiter_bytes():
                        batch = decoder.feed(data)
                        for chunk in batch["chunks"]:
                            yield chunk
                        _check(batch)
                        if batch["done"]:
                            return
                except httpx.TransportError as exc:
                    raise _interrupted(exc, prepared) from exc
                batch = decoder.finish()
                for chunk in batch["chunks"]:
                    yield chunk
                _check(batch)
            finally:
                decoder.close()
        finally:
            await response.aclose()

    def __aiter__(self) -> AsyncGenerator[Chunk, None]:
        if self._chunks is None:
            self._chunks = self._aiterate()
        return self._chunks

    async def __anext__(self) -> Chunk:
        chunk: Chunk = await self.__aiter__().__anext__()
        return chunk

    def __iter__(self) -> Iterator[Chunk]:
        if self._sync is None:
            self._sync = Stream(self._prepared, _http.sync_client())
        return iter(self._sync)

    async def aclose(self) -> None:
        """Stops the stream and releases its connection."""
        if self._chunks is not None:
            await self._chunks.aclose()
        if self._sync is not None:
            self._sync.close()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
