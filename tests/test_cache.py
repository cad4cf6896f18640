"""Response caching: ``ritellm.cache = Cache(...)`` on each backend, sync and async, against the
local server (its ``requests`` prove a hit sent nothing) and a real redis-server."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ritellm
from ritellm import _cache
from ritellm._prepare import cache_key
from tests.conftest import USER, Caller
from tests.embedding_formats import EmbeddingAPI
from tests.redis_server import redis_server, redis_url  # noqa: F401
from tests.server import FakeServer, Reply

KEY = "sk-test-cache-0123456789"
REPO = Path(__file__).resolve().parent.parent


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture(params=["local", "disk", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ritellm.Cache]:
    """ritellm.cache on each backend, emptied for the test."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        cache = ritellm.Cache("redis", redis_url=url)
    elif request.param == "disk":
        cache = ritellm.Cache("disk", disk_cache_dir=tmp_path / "cache")
    else:
        cache = ritellm.Cache()
    ritellm.cache = cache
    try:
        yield cache
    finally:
        ritellm.cache = None
        cache.close()


@pytest.fixture
def local() -> Iterator[ritellm.Cache]:
    cache = ritellm.Cache()
    ritellm.cache = cache
    try:
        yield cache
    finally:
        ritellm.cache = None


@pytest.fixture
def events() -> Iterator[list[ritellm.CallEvent]]:
    seen: list[ritellm.CallEvent] = []
    ritellm.callbacks.append(seen.append)
    try:
        yield seen
    finally:
        ritellm.callbacks.remove(seen.append)


def chat(caller: Caller, server: FakeServer, messages: Any, **kwargs: Any) -> Any:
    return caller.completion("openai/gpt-4o-mini", messages, base_url=server.base_url, api_key=KEY, **kwargs)


def stream(caller: Caller, server: FakeServer, messages: Any, **kwargs: Any) -> list[Any]:
    return caller.stream("openai/gpt-4o-mini", messages, base_url=server.base_url, api_key=KEY, **kwargs)


def text_of(chunks: list[Any]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))


def test_a_hit_sends_nothing_costs_nothing_and_is_marked(
    caller: Caller, server: FakeServer, backend: ritellm.Cache, events: list[ritellm.CallEvent]
) -> None:
    first = chat(caller, server, USER)
    again = chat(caller, server, USER)
    assert len(server.requests) == 1
    assert again == first
    assert type(again) is ritellm.ChatCompletion
    assert again._hidden_params["cache_hit"] is True
    assert again._hidden_params["response_cost"] == 0
    assert "cache_hit" not in first._hidden_params
    assert [e.cache_hit for e in events] == [False, True]
    assert events[1].cost == 0 and events[1].exception is None
    assert events[1].usage is not None and events[1].usage["total_tokens"] == first["usage"]["total_tokens"]


def test_a_finished_stream_answers_a_complete_request_and_replays(
    caller: Caller, server: FakeServer, backend: ritellm.Cache, events: list[ritellm.CallEvent]
) -> None:
    chunks = stream(caller, server, user("streamed words here"))
    replayed = stream(caller, server, user("streamed words here"))
    answer = chat(caller, server, user("streamed words here"))
    assert len(server.requests) == 1
    assert replayed == chunks and type(replayed[0]) is ritellm.ChatCompletionChunk
    assert answer == ritellm.stream_chunk_builder(chunks)
    assert answer.choices[0].message.content == "echo: streamed words here"
    assert answer._hidden_params["cache_hit"] is True
    assert [e.cache_hit for e in events] == [False, True, True]
    assert events[1].stream and events[1].time_to_first_chunk is not None


def test_a_complete_answer_answers_a_stream(
    caller: Caller, server: FakeServer, backend: ritellm.Cache
) -> None:
    answer = chat(caller, server, user("complete first"))
    chunks = stream(caller, server, user("complete first"))
    assert len(server.requests) == 1
    assert text_of(chunks) == "echo: complete first"
    built = ritellm.stream_chunk_builder(chunks)
    assert built.choices[0].message == answer.choices[0].message
    assert built.choices[0].finish_reason == "stop" and built.usage == answer.usage


def test_replayed_streams_are_the_streams_classes(server: FakeServer, local: ritellm.Cache) -> None:
    stream(Caller("sync"), server, USER)
    with ritellm.completion(
        "openai/gpt-4o-mini", USER, base_url=server.base_url, api_key=KEY, stream=True
    ) as s:
        assert isinstance(s, ritellm.Stream)
        assert next(s)["object"] == "chat.completion.chunk"

    async def read() -> list[Any]:
        s = await ritellm.acompletion(
            "openai/gpt-4o-mini", USER, base_url=server.base_url, api_key=KEY, stream=True
        )
        assert isinstance(s, ritellm.AsyncStream)
        async with s:
            return [chunk async for chunk in s]

    assert text_of(asyncio.run(read())) == "echo: hello"
    assert len(server.requests) == 1


def test_a_stream_cut_short_or_failed_and_an_error_are_not_stored(
    caller: Caller, server: FakeServer, backend: ritellm.Cache
) -> None:
    words = user("one two three four")

    def stop(chunk: Any) -> None:
        raise RuntimeError("reader stopped")

    chunks, error = caller.stream_until_error(
        "openai/gpt-4o-mini", words, base_url=server.base_url, api_key=KEY, on_chunk=stop
    )
    assert isinstance(error, RuntimeError)
    server.queue(
        Reply.sse([{"id": "x", "object": "chat.completion.chunk", "choices": []}], done=False, drop=True)
    )
    with pytest.raises(ritellm.StreamInterruptedError):
        stream(caller, server, words)
    server.queue(Reply.json({"error": {"message": "bad", "type": "invalid_request_error"}}, status=400))
    with pytest.raises(ritellm.BadRequestError):
        chat(caller, server, words)
    assert chat(caller, server, words).choices[0].message.content == "echo: one two three four"
    assert len(server.requests) == 4
    chat(caller, server, words)
    assert len(server.requests) == 4


def test_embeddings_are_cached_per_input(
    caller: Caller, server: FakeServer, backend: ritellm.Cache, events: list[ritellm.CallEvent]
) -> None:
    server.answer = api = EmbeddingAPI()

    def embed(inputs: Any) -> Any:
        kwargs: dict[str, Any] = {"base_url": server.base_url, "api_key": KEY}
        if caller.is_async:
            return caller.run(lambda: ritellm.aembedding("openai/text-embedding-3-small", inputs, **kwargs))
        return ritellm.embedding("openai/text-embedding-3-small", inputs, **kwargs)

    first = embed(["alpha", "beta"])
    second = embed(["beta", "gamma", "alpha", "delta"])
    assert [r.json()["input"] for r in server.requests] == [["alpha", "beta"], ["gamma", "delta"]]
    assert [item["index"] for item in second.data] == [0, 1, 2, 3]
    assert second.data[0].embedding == first.data[1].embedding
    assert second.data[2].embedding == first.data[0].embedding
    fresh = api.parts[1]
    assert second.data[1].embedding != second.data[3].embedding
    assert len(fresh.texts) == 2
    assert second.usage["prompt_tokens"] > 0  # the fresh part's only
    third = embed("gamma")
    assert len(server.requests) == 2
    assert third.data[0].embedding == second.data[1].embedding
    assert third._hidden_params["cache_hit"] is True and third._hidden_params["response_cost"] == 0
    assert third.usage == {"prompt_tokens": 0, "total_tokens": 0}
    assert [e.cache_hit for e in events] == [False, False, True]
    assert events[2].inputs == 1 and events[2].cost == 0


def test_responses_calls_are_cached_both_ways(
    caller: Caller, server: FakeServer, local: ritellm.Cache
) -> None:
    options: dict[str, Any] = {"base_url": server.base_url, "api_key": KEY}

    def respond(text: str, stream: bool = False) -> Any:
        if caller.is_async:

            async def run() -> Any:
                answer: Any = await ritellm.aresponses("deepseek/m", text, stream=stream, **options)
                if not stream:
                    return answer
                return [event async for event in answer]

            return caller.run(run)
        answer = ritellm.responses("deepseek/m", text, stream=stream, **options)
        return answer if not stream else list(answer)

    complete = respond("complete first")
    events = respond("complete first", stream=True)
    assert len(server.requests) == 1
    assert [e["type"] for e in events] == ["response.completed"]
    assert events[0]["response"]["output"] == complete["output"]
    live = respond("streamed first", stream=True)
    assert respond("streamed first", stream=True) == live
    built = respond("streamed first")
    assert len(server.requests) == 2
    assert built.output_text == "echo: streamed first"
    assert built._hidden_params["cache_hit"] is True


def test_caching_false_and_the_per_call_controls(
    caller: Caller, server: FakeServer, local: ritellm.Cache
) -> None:
    chat(caller, server, USER, caching=False)
    chat(caller, server, USER, caching=False)
    assert len(server.requests) == 2  # neither read nor written
    chat(caller, server, USER, cache={"no-store": True})
    assert len(server.requests) == 3
    chat(caller, server, USER)
    chat(caller, server, USER)
    assert len(server.requests) == 4  # the plain call stored it
    chat(caller, server, USER, cache={"no-cache": True})
    assert len(server.requests) == 5
    assert chat(caller, server, USER, caching=True)._hidden_params["cache_hit"] is True
    assert len(server.requests) == 5
    assert server.requests[-1].json().keys().isdisjoint({"cache", "caching"})


def test_expiry_by_the_caches_clock(caller: Caller, server: FakeServer, tmp_path: Path) -> None:
    now = [1000.0]
    for cache in (
        ritellm.Cache(ttl=60),
        ritellm.Cache("disk", ttl=60, disk_cache_dir=tmp_path / caller.mode),
    ):
        cache.clock = lambda: now[0]
        server.reset()
        with _cache.using(cache):
            chat(caller, server, USER)
            chat(caller, server, USER, cache={"ttl": 5})  # a hit: the ttl is what is written's
            now[0] += 59
            chat(caller, server, USER)
            assert len(server.requests) == 1
            now[0] += 2
            chat(caller, server, USER, cache={"ttl": 5})
            assert len(server.requests) == 2
            now[0] += 4
            chat(caller, server, USER, cache={"s-maxage": 3})  # stored 4 s ago: too old
            assert len(server.requests) == 3
            chat(caller, server, USER, cache={"s-maxage": 3})
            now[0] += 59
            chat(caller, server, USER)
            assert len(server.requests) == 3
            now[0] += 2
            chat(caller, server, USER)
            assert len(server.requests) == 4
        cache.close()


def test_redis_stores_with_its_ttl_under_hashed_names(
    caller: Caller, server: FakeServer, request: pytest.FixtureRequest
) -> None:
    import redis

    url = request.getfixturevalue("redis_url")

    secret_prompt = "the launch code is 0000"
    cache = ritellm.Cache("redis", redis_url=url, ttl=30, namespace="team-a")
    with _cache.using(cache):
        chat(caller, server, user(secret_prompt))
        chat(caller, server, user(secret_prompt), cache={"ttl": 5})
        stream(caller, server, user("another prompt"), cache={"ttl": 7})
    client = redis.Redis.from_url(url)
    try:
        names = sorted(name.decode() if isinstance(name, bytes) else name for name in client.keys("*"))
        assert len(names) == 2
        for name in names:
            assert re.fullmatch(r"team-a:[0-9a-f]{64}", name)
            assert KEY not in name and "launch" not in name and "another" not in name
        ttls = sorted(client.pttl(name) for name in names)
        assert 0 < ttls[0] <= 7000 < ttls[1] <= 30000
    finally:
        client.close()
        cache.close()
    assert len(server.requests) == 2


def test_two_processes_share_answers_through_redis(
    server: FakeServer, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("redis_url")
    script = f"""
import json, ritellm
ritellm.cache = ritellm.Cache("redis", redis_url={url!r})
answer = ritellm.completion("openai/gpt-4o-mini", [{{"role": "user", "content": "shared"}}],
                            base_url={server.base_url!r}, api_key="sk-other-process")
print(json.dumps(answer._hidden_params.get("cache_hit", False)))
"""
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def run() -> bool:
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return bool(json.loads(done.stdout))

    assert run() is False
    assert run() is True
    with _cache.using(ritellm.Cache("redis", redis_url=url)):
        answer = ritellm.completion(
            "openai/gpt-4o-mini", user("shared"), base_url=server.base_url, api_key=KEY
        )
    assert answer._hidden_params["cache_hit"] is True
    assert len(server.requests) == 1


def test_a_redis_outage_never_fails_a_call(
    caller: Caller, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the probe is
    cache = ritellm.Cache("redis", redis_url=f"redis://127.0.0.1:{port}/0")
    with caplog.at_level(logging.WARNING, logger="ritellm"), _cache.using(cache):
        assert chat(caller, server, USER).choices[0].message.content == "echo: hello"
        assert text_of(stream(caller, server, USER)) == "echo: hello"
    cache.close()
    assert len(server.requests) == 2
    warnings = [r for r in caplog.records if r.name == "ritellm" and r.levelno == logging.WARNING]
    assert warnings and "redis cache failed" in warnings[0].getMessage()


def test_a_redis_that_goes_away_mid_run_is_a_miss(server: FakeServer, tmp_path: Path, caplog: Any) -> None:
    from tests.redis_server import RedisServer

    second = RedisServer(tmp_path)
    cache = ritellm.Cache("redis", redis_url=second.url)
    with _cache.using(cache):
        chat(Caller("sync"), server, USER)
        second.stop()
        with caplog.at_level(logging.WARNING, logger="ritellm"):
            chat(Caller("sync"), server, USER)
    cache.close()
    assert len(server.requests) == 2
    assert any("redis cache failed" in r.getMessage() for r in caplog.records)


def test_the_key_changes_with_what_changes_the_answer_only() -> None:
    def key(model: str = "openai/gpt-4o", messages: Any = USER, **params: Any) -> str:
        options = {name: params.pop(name, None) for name in ("base_url", "additional_params", "api_version")}
        return cache_key(model, messages, params=params, **options)

    base = key(temperature=0.5)
    changed = [
        key("openai/gpt-4o-mini", temperature=0.5),
        key("groq/gpt-4o", temperature=0.5),
        key(messages=user("hello!"), temperature=0.5),
        key(temperature=0.6),
        key(),
        key(temperature=0.5, max_tokens=10),
        key(temperature=0.5, tools=[{"type": "function", "function": {"name": "f"}}]),
        key(temperature=0.5, seed=1),
        key(temperature=0.5, response_format={"type": "json_object"}),
        key(temperature=0.5, base_url="http://127.0.0.1:9/v1"),
        key(temperature=0.5, additional_params='{"top_k": 3}'),
        key(temperature=0.5, drop_params=True),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
    same = [
        key(temperature=0.5, num_retries=5),
        key(temperature=0.5, stream_options={"include_usage": True}),
        key(temperature=0.5, api_base="https://api.openai.com/v1"),
        key(temperature=0.5, top_p=None),
    ]
    assert set(same) == {base}
    assert re.fullmatch(r"[0-9a-f]{64}", base)


def test_the_key_ignores_key_timeout_retries_and_headers(server: FakeServer, local: ritellm.Cache) -> None:
    chat(Caller("sync"), server, USER)
    for options in (
        {"api_key": "sk-another"},
        {"timeout": 3},
        {"max_retries": 0},
        {"extra_headers": {"x-a": "b"}},
    ):
        merged: dict[str, Any] = {"base_url": server.base_url, "api_key": KEY, **options}
        answer = ritellm.completion("openai/gpt-4o-mini", USER, **merged)
        assert answer._hidden_params["cache_hit"] is True, options
    assert len(server.requests) == 1


def test_a_malformed_call_is_refused_before_the_cache_is_read(
    server: FakeServer, local: ritellm.Cache
) -> None:
    with pytest.raises(ritellm.UnsupportedProviderError):
        ritellm.completion("nosuch/model", USER)
    with pytest.raises(ritellm.InvalidRequestError, match="not a cache control"):
        chat(Caller("sync"), server, USER, cache={"no_cache": True})
    with pytest.raises(ritellm.InvalidRequestError, match="caching must be True or False"):
        chat(Caller("sync"), server, USER, caching="yes")
    with pytest.raises(ritellm.InvalidRequestError, match="ttl"):
        chat(Caller("sync"), server, USER, cache={"ttl": -1})
    assert server.requests == []


def test_the_local_cache_is_bounded(server: FakeServer) -> None:
    cache = ritellm.Cache(max_size=2)
    with _cache.using(cache):
        for text in ("a", "b", "a", "c", "a", "b"):
            chat(Caller("sync"), server, user(text))
    # a, b sent; a hit; c sent (b evicted, a most recent); a hit; b sent again
    assert [r.json()["messages"][0]["content"] for r in server.requests] == ["a", "b", "c", "b"]


def test_disk_caches_share_a_file(server: FakeServer, tmp_path: Path) -> None:
    one = ritellm.Cache("disk", disk_cache_dir=tmp_path)
    other = ritellm.Cache("disk", disk_cache_dir=tmp_path)
    with _cache.using(one):
        chat(Caller("sync"), server, USER)
    with _cache.using(other):
        assert chat(Caller("sync"), server, USER)._hidden_params["cache_hit"] is True
    one.close()
    other.close()
    assert len(server.requests) == 1


def test_using_overrides_ritellm_cache(server: FakeServer, local: ritellm.Cache) -> None:
    assert _cache.current() is local
    with _cache.using(None):
        assert _cache.current() is None
        chat(Caller("sync"), server, USER)
        chat(Caller("sync"), server, USER)
    assert len(server.requests) == 2
    other = ritellm.Cache(namespace="router")
    with _cache.using(other):
        assert _cache.current() is other
        chat(Caller("sync"), server, USER)
        chat(Caller("sync"), server, USER)
    assert len(server.requests) == 3


def test_without_a_cache_the_options_are_taken_and_nothing_is_kept(server: FakeServer) -> None:
    assert ritellm.cache is None
    chat(Caller("sync"), server, USER, caching=True, cache={"ttl": 5})
    chat(Caller("sync"), server, USER)
    assert len(server.requests) == 2
    assert server.requests[0].json().keys().isdisjoint({"cache", "caching"})


def test_a_failed_response_is_never_stored(server: FakeServer, local: ritellm.Cache) -> None:
    from tests import responses_formats as wire

    options: dict[str, Any] = {"base_url": server.base_url, "api_key": "sk-test-key"}
    server.queue(Reply.json(wire.RESPONSE_FAILED), Reply.json(wire.RESPONSE_FAILED))
    assert ritellm.responses("openai/o3", "hi", **options).status == "failed"
    again = ritellm.responses("openai/o3", "hi", **options)
    assert again.status == "failed" and not again._hidden_params.get("cache_hit")
    assert len(server.requests) == 2
    server.queue(
        Reply(200, {"content-type": "text/event-stream"}, [wire.sse(wire.STREAM_FAILED)]),
        Reply.json(wire.RESPONSE_TEXT),
    )
    list(ritellm.responses("openai/o3", "stream me", stream=True, **options))
    assert ritellm.responses("openai/o3", "stream me", **options).status == "completed"
    assert len(server.requests) == 4
