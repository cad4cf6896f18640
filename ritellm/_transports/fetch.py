"""``fetch`` under the transport interface: the HTTP stack under Pyodide (browsers, Node).

- **Async**: ``fetch``, with the body read as a stream, so chunks reach the caller as they arrive.
- **Sync**: the same, through JavaScript Promise Integration (``pyodide.ffi.run_sync``) where the
  runtime has it; else a browser's synchronous ``XMLHttpRequest``, which delivers the body whole
  and cannot time out; else :class:`UnsupportedPlatformError` saying to use ``acompletion``.

fetch decodes ``content-encoding`` itself, so both headers that describe the encoded body are
dropped from responses. Headers the browser owns are left out of requests. Cross-origin, a
browser shows only the response headers the server exposes (``Access-Control-Expose-Headers``):
without ``retry-after`` a retry waits its own backoff, and errors carry no request id.
Redirects are not followed by fetch: a browser hides a redirect's target, so the transport
reports it as an error; Node shows it, and the policy above decides.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, can_run_sync, run_sync, to_js

from .._exceptions import UnsupportedPlatformError
from .base import Request, TransportError, TransportTimeout

#: Request headers a browser sets itself and refuses from scripts.
BROWSER_OWNED = frozenset({"accept-encoding", "user-agent", "host", "connection", "content-length"})
#: Response headers that describe the body as sent, not the decoded body fetch hands over.
DECODED_AWAY = frozenset({"content-encoding", "content-length"})

_JS = run_js(Path(__file__).with_name("fetch.js").read_text())


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _sent_headers(request: Request) -> list[tuple[str, str]]:
    return [(name, value) for name, value in request.headers.items() if name.lower() not in BROWSER_OWNED]


def _received_headers(pairs: Any) -> dict[str, str]:
    return {name: value for name, value in pairs if name not in DECODED_AWAY}


def _error(exc: JsException) -> TransportError:
    if getattr(exc, "name", "") == "TimeoutError":  # see fetch.js
        return TransportTimeout(str(exc))
    message = str(exc) or type(exc).__name__
    cause = getattr(getattr(exc, "js_error", None), "cause", None)  # Node says why fetch failed here
    if cause is not None:
        message = f"{message} ({cause})"
    elif getattr(exc, "name", "") == "TypeError" and hasattr(js, "document"):
        # A browser says no more than this, whatever went wrong, and gives a refused
        # cross-origin call (CORS) the same words as an unreachable server.
        message += (
            " (the server is unreachable, or it does not allow calls from this page's origin: "
            "see the browser console)"
        )
    return TransportError(message)


class AsyncResponse:
    def __init__(self, response: Any, controller: Any, read_timeout: float | None) -> None:
        self._response = response
        self._controller = controller
        self._read_timeout = _ms(read_timeout)
        self._done = False
        self.status: int = response.status
        self.headers: Mapping[str, str] = _received_headers(response.headers.entries())

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        body = self._response.body
        if not body:  # jsnull: a response without a body
            self._done = True
            return
        reader = body.getReader()
        try:
            while True:
                result = await _JS.read(reader, self._read_timeout, self._controller)
                if result.done:
                    self._done = True
                    return
                yield result.value.to_bytes()
        except JsException as exc:
            raise _error(exc) from exc
        finally:
            reader.releaseLock()

    async def aclose(self) -> None:
        if not self._done:
            self._controller.abort()  # stops the download; fetch pools its own connections


class AsyncFetchTransport:
    async def handle_async_request(self, request: Request) -> AsyncResponse:
        controller = js.AbortController.new()
        options = to_js(
            {
                "method": request.method,
                "headers": _sent_headers(request),
                "body": to_js(request.body) if request.body else None,
                "redirect": "manual",
                "credentials": "omit",  # the page's cookies are not the provider's business
                "signal": controller.signal,
            },
            dict_converter=js.Object.fromEntries,
        )
        timeouts = request.timeouts
        wait = None if timeouts.connect is None else timeouts.connect + (timeouts.pool or 0)
        try:
            response = await _JS.fetch(request.url, options, _ms(wait), controller)
        except JsException as exc:
            controller.abort()
            raise _error(exc) from exc
        except BaseException:  # cancelled: the request must not go on without us
            controller.abort()
            raise
        if response.type == "opaqueredirect":
            controller.abort()
            raise TransportError(
                "the server answered with a redirect, and the browser hides where to; "
                "use the URL it redirects to"
            )
        return AsyncResponse(response, controller, timeouts.read)

    async def aclose(self) -> None:
        pass  # fetch owns its connections


class _Suspending:
    """A sync response over the async one, each wait suspended through ``run_sync``."""

    def __init__(self, response: AsyncResponse, run_sync: Any) -> None:
        self._response = response
        self._run_sync = run_sync
        self.status = response.status
        self.headers = response.headers

    def iter_raw(self) -> Iterator[bytes]:
        chunks = self._response.aiter_raw()
        while True:
            try:
                yield self._run_sync(chunks.__anext__())
            except StopAsyncIteration:
                return

    def close(self) -> None:
        self._run_sync(self._response.aclose())


class _Whole:
    """A sync XMLHttpRequest's response: the whole body, already read."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self._body = body

    def iter_raw(self) -> Iterator[bytes]:
        if self._body:
            yield self._body

    def close(self) -> None:
        pass


class FetchTransport:
    def __init__(self) -> None:
        self._async = AsyncFetchTransport()

    def handle_request(self, request: Request) -> _Suspending | _Whole:
        # Whether a call can suspend depends on how Python was entered (runPythonAsync can).
        if can_run_sync():
            return _Suspending(run_sync(self._async.handle_async_request(request)), run_sync)
        if not hasattr(js, "XMLHttpRequest"):
            raise UnsupportedPlatformError(
                "a synchronous call needs JavaScript Promise Integration (with Python entered through "
                "runPythonAsync) or a browser's XMLHttpRequest, and this runtime has neither: use "
                "`await ritellm.acompletion(...)`"
            )
        try:
            status, raw_headers, body = _JS.xhr(
                request.method,
                request.url,
                to_js(_sent_headers(request)),
                to_js(request.body) if request.body else None,
            )
        except JsException as exc:
            raise _error(exc) from exc
        pairs = (line.split(":", 1) for line in raw_headers.split("\r\n") if ":" in line)
        headers = _received_headers((name.strip().lower(), value.strip()) for name, value in pairs)
        return _Whole(status, headers, body.to_bytes())

    def close(self) -> None:
        pass
