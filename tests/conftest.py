from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any, Callable

import pytest

import ritellm
from ritellm._pools import ASYNC_TRANSPORT_ENV
from tests.server import FakeServer

#: Environment variables that would change what a call does; tests start without them.
_CONFIG_ENV_PREFIXES = (
    "OPENAI",
    "GROQ",
    "MISTRAL",
    "DEEPSEEK",
    "XAI",
    "OPENROUTER",
    "TOGETHER",
    "FIREWORKS",
    "CEREBRAS",
    "PERPLEXITY",
    "DEEPINFRA",
    "OLLAMA",
    "LM_STUDIO",
    "HOSTED_VLLM",
    "ANTHROPIC",
    "GEMINI",
    "AZURE",
    "RITELLM_MODEL",
    "LLAMAFILE",
    "HF_TOKEN",
    "HUGGINGFACE",
    "NVIDIA_NIM",
    "SAMBANOVA",
    "NEBIUS",
    "NOVITA",
    "MOONSHOT",
    "DASHSCOPE",
    "GITHUB",
    "HYPERBOLIC",
    "LAMBDA",
    "FEATHERLESS",
    "COHERE",
    "DATABRICKS",
    "CLOUDFLARE",
    "AWS_",
    "VERTEXAI",
    "GOOGLE_CLOUD",
    "GOOGLE_APPLICATION_CREDENTIALS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in list(os.environ):
        if name.startswith(_CONFIG_ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RITELLM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
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
        self, *args: Any, **kwargs: Any
    ) -> tuple[list[ritellm.ChatCompletionChunk], Exception | None]:
        """The chunks delivered, and the exception that ended the stream early, if any."""
        chunks: list[ritellm.ChatCompletionChunk] = []
        if self.is_async:

            async def collect() -> Exception | None:
                try:
                    stream = await ritellm.acompletion(*args, stream=True, **kwargs)
                    async with stream:
                        async for chunk in stream:
                            chunks.append(chunk)
                except Exception as exc:
                    return exc
                return None

            return chunks, self.run(collect)
        try:
            with ritellm.completion(*args, stream=True, **kwargs) as stream:
                for chunk in stream:
                    chunks.append(chunk)
        except Exception as exc:
            return chunks, exc
        return chunks, None


@pytest.fixture(params=["sync", "async-aiohttp", "async-httpx"])
def caller(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Caller:
    if request.param.startswith("async"):
        monkeypatch.setenv(ASYNC_TRANSPORT_ENV, request.param.removeprefix("async-"))
    return Caller(request.param)
