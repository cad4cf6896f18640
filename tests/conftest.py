from __future__ import annotations

import asyncio
import functools
import os
import tempfile
from collections.abc import Iterator
from typing import Any, Callable

import pytest

import ritellm
from ritellm._pools import ASYNC_TRANSPORT_ENV
from tests.server import FakeServer


def pytest_configure(config: pytest.Config) -> None:
    # Tests are parametrized by the core's provider table, so the core loads while they are
    # collected: its compiled module goes to a cache of the tests' own, never the developer's.
    user = os.getuid() if hasattr(os, "getuid") else "user"
    os.environ["RITELLM_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), f"ritellm-tests-{user}")


#: Variables the host reads beside the core's table: cloud credentials and settings, ritellm's
#: own, proxies. By prefix, case aside.
HOST_ENV_PREFIXES = (
    "AWS_",
    "VERTEXAI_",
    "GOOGLE_",
    "GCE_METADATA",
    "CLOUDSDK_",
    "AZURE_",
    "RITELLM_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)


@functools.lru_cache(maxsize=1)
def config_env_prefixes() -> tuple[str, ...]:
    """Prefixes of every variable that would change what a call does: the first word of each
    variable the core's provider table names (``OPENAI_`` from ``OPENAI_API_KEY``, which also
    covers a provider's settings such as ``CLOUDFLARE_ACCOUNT_ID``), and the host's own."""
    names = [
        name
        for provider in ritellm.providers()
        for name in (provider.key_env, *provider.base_url_env)
        if name is not None
    ]
    return tuple(sorted({name.partition("_")[0] + "_" for name in names} | set(HOST_ENV_PREFIXES)))


def clear_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Removes every variable that would change what a call does, so that no developer's key,
    base URL or proxy reaches a test."""
    prefixes = config_env_prefixes()
    for name in list(os.environ):
        if name.upper().startswith(prefixes):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = str(tmp_path_factory.getbasetemp() / "cache")
    # Reading the table loads the core, which must not write to the developer's cache.
    monkeypatch.setenv("RITELLM_CACHE_DIR", cache)
    clear_config_env(monkeypatch)
    monkeypatch.setenv("RITELLM_CACHE_DIR", cache)  # cleared with the other RITELLM_ variables
    # Credentials are looked for on this machine only where a test puts them: never in the
    # real AWS files, never at a cloud's metadata server.
    nowhere = tmp_path_factory.getbasetemp() / "no-such-file"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(nowhere))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(nowhere))


@pytest.fixture(scope="session")
def _server() -> Iterator[FakeServer]:
    server = FakeServer()
    yield server
    server.close()


@pytest.fixture
def server(_server: FakeServer) -> Iterator[FakeServer]:
    _server.reset()
    yield _server
    _server.reset()


USER = [{"role": "user", "content": "hello"}]


class Caller:
    """Runs one test body through ``completion``, or ``acompletion`` on one async transport.

    Async calls run in a fresh event loop through ``asyncio.run``, whose shutdown releases the
    loop's connections: the tests rely on that rather than closing them themselves.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode

    @property
    def is_async(self) -> bool:
        return self.mode.startswith("async")

    def run(self, body: Callable[[], Any]) -> Any:
        """Runs an async ``body`` (a coroutine function) in a fresh loop."""
        return asyncio.run(body())

    def completion(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_async:
            return self.run(lambda: ritellm.acompletion(*args, **kwargs))
        return ritellm.completion(*args, **kwargs)

    def stream(self, *args: Any, **kwargs: Any) -> list[ritellm.ChatCompletionChunk]:
        chunks, error = self.stream_until_error(*args, **kwargs)
        if error is not None:
            raise error
        return chunks

    def stream_until_error(
        self,
        *args: Any,
        on_chunk: Callable[[ritellm.ChatCompletionChunk], None] | None = None,
        **kwargs: Any,
    ) -> tuple[list[ritellm.ChatCompletionChunk], Exception | None]:
        """The chunks delivered, and the exception that ended the stream early, if any.
        ``on_chunk`` sees each chunk as it arrives, before the next is read."""
        chunks: list[ritellm.ChatCompletionChunk] = []

        def take(chunk: ritellm.ChatCompletionChunk) -> None:
            chunks.append(chunk)
            if on_chunk is not None:
                on_chunk(chunk)

        if self.is_async:

            async def collect() -> Exception | None:
                try:
                    stream = await ritellm.acompletion(*args, stream=True, **kwargs)
                    async with stream:
                        async for chunk in stream:
                            take(chunk)
                except Exception as exc:
                    return exc
                return None

            return chunks, self.run(collect)
        try:
            with ritellm.completion(*args, stream=True, **kwargs) as stream:
                for chunk in stream:
                    take(chunk)
        except Exception as exc:
            return chunks, exc
        return chunks, None


@pytest.fixture(params=["sync", "async-aiohttp", "async-httpx"])
def caller(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Caller:
    if request.param.startswith("async"):
        monkeypatch.setenv(ASYNC_TRANSPORT_ENV, request.param.removeprefix("async-"))
    return Caller(request.param)
