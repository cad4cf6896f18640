"""Which HTTP stack a call goes through, and when its connection pools are made and released.

- **Sync**: one set of pools per process, shared by every thread.
- **Async**: one set per event loop, since async connections belong to the loop that opened
  them. aiohttp by default on CPython; ``RITELLM_ASYNC_TRANSPORT=httpx`` picks httpx instead.
- **Pyodide**: the JavaScript host's ``fetch``, sync and async (``_transports/fetch.py``).
  A loop's pools are released when the loop shuts down: a parked async generator on the loop is
  closed by ``loop.shutdown_asyncgens()``, which ``asyncio.run`` and ``asyncio.Runner`` call
  (uvicorn, pytest-asyncio and most frameworks run their loops that way), and it closes the
  pools on its way out. A loop closed without that call leaves its pools to the garbage
  collector: ``await ritellm.aclose()`` before closing such a loop.
- **Fork**: a child process forgets the pools it inherited (``os.register_at_fork``), so no
  connection is ever used by two processes: a child's first call opens its own.
- :func:`close` and :func:`aclose` release pools on demand; the next call makes new ones.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import warnings
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Generic, TypeVar

from ._exceptions import InvalidRequestError
from ._instance import core
from ._transports.base import AsyncTransport, Transport
from ._transports.mock import MockTransport

if TYPE_CHECKING:
    import asyncio

ASYNC_TRANSPORT_ENV = "RITELLM_ASYNC_TRANSPORT"

T = TypeVar("T", Transport, AsyncTransport)


class Pools(Generic[T]):
    """A transport for the network and one for the in-process ``mock/`` provider."""

    def __init__(self, network: T, mock: T) -> None:
        self.network: T = network
        self.mock: T = mock
        #: For async pools, the generator that releases them when their loop shuts down.
        self.watcher: AsyncGenerator[None, None] | None = None

    def route(self, url: str) -> T:
        return self.mock if url.startswith("mock:") else self.network


def _mock_answer(body: bytes) -> tuple[str, bytes]:
    return core().mock(body)


_sync: Pools[Transport] | None = None
_sync_lock = threading.Lock()
_async: dict[asyncio.AbstractEventLoop, Pools[AsyncTransport]] = {}
#: Async pools a forked child inherited: kept, never used, so that their sessions neither
#: close the parent's connections nor complain about being left open.
_inherited: list[Pools[AsyncTransport]] = []


def sync_pools() -> Pools[Transport]:
    global _sync
    pools = _sync
    if pools is None:
        with _sync_lock:
            if _sync is None:
                _sync = Pools(_sync_network(), MockTransport(_mock_answer))
            pools = _sync
    return pools


def _sync_network() -> Transport:
    if sys.platform == "emscripten":
        from ._transports.fetch import FetchTransport

        return FetchTransport()
    from ._transports.httpx import HttpxTransport

    return HttpxTransport()


def _async_network() -> AsyncTransport:
    if sys.platform == "emscripten":  # no sockets: the JavaScript host's fetch
        from ._transports.fetch import AsyncFetchTransport

        return AsyncFetchTransport()
    choice = os.environ.get(ASYNC_TRANSPORT_ENV, "").strip().lower()
    if choice not in ("", "aiohttp", "httpx"):
        raise InvalidRequestError(f"{ASYNC_TRANSPORT_ENV} is {choice!r}: use 'aiohttp' or 'httpx'")
    if choice != "httpx":
        try:
            from ._transports.aiohttp import AiohttpTransport
        except ImportError:
            if choice == "aiohttp":
                raise InvalidRequestError(
                    f"{ASYNC_TRANSPORT_ENV}=aiohttp, but aiohttp is not installed"
                ) from None
        else:
            return AiohttpTransport()
    from ._transports.httpx import AsyncHttpxTransport

    return AsyncHttpxTransport()


async def async_pools() -> Pools[AsyncTransport]:
    """The running loop's pools, made on its first call."""
    import asyncio  # only async callers pay for importing it

    loop = asyncio.get_running_loop()
    pools = _async.get(loop)
    if pools is None:
        for other in [other for other in _async if other.is_closed()]:
            del _async[other]  # closed without shutdown_asyncgens: the collector has them now
        # No await between the look-up and this assignment: concurrent first calls on one
        # loop share these pools.
        pools = _async[loop] = Pools(_async_network(), MockTransport(_mock_answer))
        pools.watcher = _release_at_shutdown(loop, pools)
        await pools.watcher.__anext__()
    return pools


async def _release_at_shutdown(
    loop: asyncio.AbstractEventLoop, pools: Pools[AsyncTransport]
) -> AsyncGenerator[None, None]:
    """Parks on the loop until ``loop.shutdown_asyncgens()`` closes it, then releases ``pools``.

    The loop holds its async generators weakly; ``pools.watcher`` holds this one.
    """
    try:
        yield
    finally:
        if _async.get(loop) is pools:
            del _async[loop]
        await pools.network.aclose()


def close() -> None:
    """Closes the process's sync connections, and forgets the pools of event loops that closed
    without releasing theirs. Calls after it open new connections."""
    global _sync
    with _sync_lock:
        pools, _sync = _sync, None
    if pools is not None:
        pools.network.close()
    for loop in [loop for loop in _async if loop.is_closed()]:
        del _async[loop]


async def aclose() -> None:
    """Closes the running event loop's connections and the process's sync connections."""
    import asyncio

    pools = _async.get(asyncio.get_running_loop())
    if pools is not None and pools.watcher is not None:
        await pools.watcher.aclose()
    close()


def _forget_after_fork() -> None:
    global _sync, _sync_lock
    _sync_lock = threading.Lock()  # another thread may have held it at the fork
    # Dropping the sync pools closes their sockets in this process only (no bytes are sent);
    # the parent keeps its connections.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        _sync = None
    _inherited.extend(_async.values())
    _async.clear()


if sys.platform != "emscripten" and hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
# Kept-alive connections are closed, not left to the collector at interpreter shutdown.
atexit.register(close)
