"""Connection pools across fork, event loops and explicit close."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import warnings
import weakref
from pathlib import Path

import pytest

import ritellm
from ritellm import _pools
from tests.conftest import USER
from tests.server import FakeServer, Recorded, Reply, echo_chunks, echo_completion

PROGRAMS = Path(__file__).parent / "programs"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-lifecycle")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_forked_callers_each_get_their_own_answers(server: FakeServer, transport: str) -> None:
    def slow_echo(recorded: Recorded) -> Reply:
        # Slow enough that callers sharing a connection would overlap on it.
        request = recorded.json()
        if request.get("stream"):
            return Reply.sse(echo_chunks(request), delay=0.005)
        return Reply(
            200,
            {"content-type": "application/json"},
            [json.dumps(echo_completion(request)).encode()],
            delay=0.02,
        )

    server.answer = slow_echo
    env = {**os.environ, _pools.ASYNC_TRANSPORT_ENV: transport, "OPENAI_API_KEY": "sk-fork"}
    result = subprocess.run(
        [sys.executable, str(PROGRAMS / "fork_callers.py"), server.base_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 children failed" in result.stdout
    # 1 parent + 4 forked children + 8 pool tasks, each asking CALLS twice (sync, async).
    assert len(server.requests) >= 3 + 13 * 24 * 2


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_a_thousand_asyncio_runs_leak_nothing(
    server: FakeServer, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_pools.ASYNC_TRANSPORT_ENV, transport)

    def runs(count: int) -> None:
        for _ in range(count):
            answer = asyncio.run(ritellm.acompletion("openai/m", USER, base_url=server.base_url))
            assert answer["choices"][0]["message"]["content"] == "echo: hello"
        server.reset()  # the in-process test server keeps every request it saw

    runs(100)
    fds, rss = _open_fds(), _rss_bytes()
    runs(1000)
    assert _open_fds() <= fds + 2
    growth = _rss_bytes() - rss
    assert growth < 8 << 20, f"RSS grew {growth / 1e6:.1f} MB"
    assert _pools._async == {}  # every loop's pools were released when it shut down


def test_close_releases_sync_pools_and_calls_work_after(server: FakeServer) -> None:
    ritellm.completion("openai/m", USER, base_url=server.base_url)
    pools = _pools.sync_pools()
    connections = pools.network._direct._pool.connections  # type: ignore[attr-defined]
    assert connections
    ritellm.close()
    assert not connections or all(c.is_closed() for c in connections)
    assert _pools.sync_pools() is not pools
    assert ritellm.completion("openai/m", USER, base_url=server.base_url)["choices"]


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_aclose_releases_the_loops_pools_and_calls_work_after(
    server: FakeServer, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_pools.ASYNC_TRANSPORT_ENV, transport)

    async def main() -> None:
        await ritellm.acompletion("openai/m", USER, base_url=server.base_url)
        first = await _pools.async_pools()
        await ritellm.aclose()
        assert asyncio.get_running_loop() not in _pools._async
        assert _pools._sync is None
        answer = await ritellm.acompletion("openai/m", USER, base_url=server.base_url)
        assert answer["choices"][0]["message"]["content"] == "echo: hello"
        assert await _pools.async_pools() is not first

    asyncio.run(main())
    assert _pools._async == {}


def test_a_loop_closed_without_shutdown_is_forgotten_by_the_next_loop(server: FakeServer) -> None:
    loop = asyncio.new_event_loop()
    loop.run_until_complete(ritellm.acompletion("openai/m", USER, base_url=server.base_url))
    loop.run_until_complete(ritellm.aclose())  # what the module docs ask of such loops
    loop.close()
    assert loop not in _pools._async
    stale = asyncio.new_event_loop()
    stale.run_until_complete(_pools.async_pools())
    stale.run_until_complete(stale.shutdown_asyncgens())  # releases them, as asyncio.run would
    stale.close()
    assert _pools._async == {}


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_a_loop_closed_without_releasing_its_pools_is_not_kept_alive(
    transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loop closed without ``shutdown_asyncgens`` or ``aclose()`` (what the module docs warn
    against) is forgotten by the next loop's first call: its pools go to the collector, and
    so does the loop. ``mock/`` calls open no connection, so the collector has only the
    unclosed session to warn about."""
    monkeypatch.setenv(_pools.ASYNC_TRANSPORT_ENV, transport)
    loop = asyncio.new_event_loop()
    answer = loop.run_until_complete(ritellm.acompletion("mock/echo", USER))
    assert answer["choices"][0]["message"]["content"] == "hello"
    loop.close()
    closed = weakref.ref(loop)
    del loop
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the unclosed session, collected
        asyncio.run(ritellm.acompletion("mock/echo", USER))  # another loop's first call
        gc.collect()
    assert closed() is None


def test_an_unknown_async_transport_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_pools.ASYNC_TRANSPORT_ENV, "curl")
    with pytest.raises(ritellm.InvalidRequestError, match="RITELLM_ASYNC_TRANSPORT is 'curl'"):
        asyncio.run(ritellm.acompletion("mock/echo", USER))
