"""The in-process ``mock/`` provider as a transport: the core answers the request body, so a
mock call goes through the same send policy and stream decoder as a real one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

from .base import Request

#: Request body in; content type and response body out.
Handler = Callable[[bytes], "tuple[str, bytes]"]


class MockResponse:
    status = 200

    def __init__(self, content_type: str, body: bytes) -> None:
        self.headers = {"content-type": content_type}
        self._body = body

    def iter_raw(self) -> Iterator[bytes]:
        yield self._body

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        yield self._body

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class MockTransport:
    """Both interfaces in one class; there is no connection to own."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    def handle_request(self, request: Request) -> MockResponse:
        return MockResponse(*self._handler(request.body))

    async def handle_async_request(self, request: Request) -> MockResponse:
        return MockResponse(*self._handler(request.body))

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass
