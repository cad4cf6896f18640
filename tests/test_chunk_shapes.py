"""The shape of streamed chunks, as LiteLLM's streams give them and its users' code reads them.

* Every tool-call fragment has ``index``, ``id``, ``type`` and ``function`` with ``name`` and
  ``arguments``: a later fragment's ``id`` and ``name`` are None, its ``type`` "function"
  (langchain-litellm reads ``id`` and ``function.name`` on every fragment).
* A chunk that carries nothing (an empty delta, or one of nulls and ``content: ""``, with no
  finish reason and no usage) is not yielded (smolagents raises on one).

Each stream comes from the local test server, read with ``completion`` and ``acompletion``.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest

import ritellm
from tests.server import FakeServer, Reply
from tests.wire_formats import anthropic_stream, gemini_stream

USER = [{"role": "user", "content": "Weather in Paris, and the time in Rome?"}]
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("GEMINI_API_KEY", "gm-test")
    monkeypatch.setenv("AZURE_API_KEY", "azure-key-0123456789")


def stream(sync: bool, model: str, **options: Any) -> list[ritellm.ChatCompletionChunk]:
    """Every chunk a streamed call yields, read to its end."""
    if sync:
        with ritellm.completion(model, USER, stream=True, tools=TOOLS, **options) as chunks:
            return list(chunks)

    async def collect() -> list[ritellm.ChatCompletionChunk]:
        chunks = await ritellm.acompletion(model, USER, stream=True, tools=TOOLS, **options)
        async with chunks:
            return [chunk async for chunk in chunks]

    return asyncio.run(collect())


def first(index: int, id: str, name: str) -> dict[str, Any]:
    """A call's first fragment, as sent and as yielded."""
    return {"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}


def later(index: int, arguments: str) -> dict[str, Any]:
    """A later fragment, as LiteLLM yields it."""
    return {
        "index": index,
        "id": None,
        "type": "function",
        "function": {"name": None, "arguments": arguments},
    }


def fragments(chunks: list[ritellm.ChatCompletionChunk]) -> list[dict[str, Any]]:
    return [
        call
        for chunk in chunks
        for choice in chunk.get("choices") or ()
        for call in choice["delta"].get("tool_calls") or ()
    ]


def carries_something(chunk: ritellm.ChatCompletionChunk) -> bool:
    """LiteLLM's rule, written out: content "" alone is nothing; any other non-null field is."""
    if chunk.get("usage") is not None or chunk.get("prompt_filter_results") is not None:
        return True
    return any(
        choice.get("finish_reason") is not None
        or choice.get("logprobs") is not None
        or any(
            value is not None and (name, value) != ("content", "") for name, value in choice["delta"].items()
        )
        for choice in chunk["choices"]
    )


def openai_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def tool_calls(*calls: dict[str, Any]) -> dict[str, Any]:
    return {"tool_calls": list(calls)}


def sent(index: int, arguments: str) -> dict[str, Any]:
    """A later fragment as OpenAI sends it: its index and more arguments, nothing else."""
    return {"index": index, "function": {"arguments": arguments}}


#: An OpenAI stream of two parallel calls, each in three fragments, with chunks of nothing
#: (an empty delta, a delta of nulls, content "" alone) among them.
OPENAI_EVENTS = [
    openai_chunk({"role": "assistant", "content": None, "refusal": None}),
    openai_chunk({}),
    openai_chunk(tool_calls(first(0, "call_a", "get_weather"))),
    openai_chunk(tool_calls(sent(0, '{"city": '))),
    openai_chunk({"content": None, "tool_calls": None, "refusal": None}),
    openai_chunk(tool_calls(sent(0, '"Paris"}'))),
    openai_chunk(tool_calls(first(1, "call_b", "get_time"))),
    openai_chunk({"content": ""}),
    openai_chunk(tool_calls(sent(1, '{"tz": '))),
    openai_chunk(tool_calls(sent(1, '"Europe/Rome"}'))),
    openai_chunk({}),
    openai_chunk({}, "tool_calls"),
    {
        **openai_chunk({}),
        "choices": [],
        "usage": {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16},
    },
]


@pytest.mark.parametrize("sync", [True, False])
def test_openai_fragments_carry_every_key_and_empty_chunks_are_not_yielded(
    server: FakeServer, sync: bool
) -> None:
    server.queue(Reply.sse(OPENAI_EVENTS))
    chunks = stream(
        sync, "openai/gpt-4o-mini", base_url=server.base_url, stream_options={"include_usage": True}
    )
    completed = [
        first(0, "call_a", "get_weather"),
        later(0, '{"city": '),
        later(0, '"Paris"}'),
        first(1, "call_b", "get_time"),
        later(1, '{"tz": '),
        later(1, '"Europe/Rome"}'),
    ]
    assert fragments(chunks) == completed
    assert all(carries_something(chunk) for chunk in chunks)
    # Left out: the four chunks of nothing. The others are as sent, but for their fragments.
    expected = []
    pieces = iter(completed)
    for event in OPENAI_EVENTS:
        if not carries_something(ritellm.ChatCompletionChunk(event)):
            continue
        if event["choices"] and "tool_calls" in event["choices"][0]["delta"]:
            event = copy.deepcopy(event)
            event["choices"][0]["delta"]["tool_calls"] = [next(pieces)]
        expected.append(event)
    assert len(expected) == len(OPENAI_EVENTS) - 4
    assert chunks == expected
    # The answer they add up to is the one the server's chunks add up to.
    answer = ritellm.stream_chunk_builder(chunks)
    assert answer == ritellm.stream_chunk_builder(OPENAI_EVENTS)
    assert answer["choices"][0]["message"]["tool_calls"] == [
        {
            "id": "call_a",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        },
        {
            "id": "call_b",
            "type": "function",
            "function": {"name": "get_time", "arguments": '{"tz": "Europe/Rome"}'},
        },
    ]
    assert answer["choices"][0]["finish_reason"] == "tool_calls"
    assert answer["usage"]["total_tokens"] == 16


@pytest.mark.parametrize("sync", [True, False])
def test_a_stream_whose_last_chunks_carry_nothing_still_ends(server: FakeServer, sync: bool) -> None:
    # Chunks of nothing after the finish, and no [DONE]: the stream has still finished.
    events = [
        openai_chunk({"role": "assistant", "content": ""}),
        openai_chunk({"content": "Hi"}),
        openai_chunk({}, "stop"),
        openai_chunk({}),
        openai_chunk({"content": None}),
    ]
    server.queue(Reply.sse(events, done=False))
    chunks = stream(sync, "openai/gpt-4o-mini", base_url=server.base_url)
    assert chunks == events[:3]
    assert ritellm.stream_chunk_builder(chunks)["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hi",
    }
    # A stream of nothing but chunks of nothing yields none, and ends.
    server.queue(Reply.sse([openai_chunk({}), openai_chunk({"content": ""})]))
    assert stream(sync, "openai/gpt-4o-mini", base_url=server.base_url) == []


@pytest.mark.parametrize("sync", [True, False])
def test_anthropic_fragments_carry_every_key(server: FakeServer, sync: bool) -> None:
    server.queue(anthropic_stream("parallel_tools"))
    chunks = stream(sync, "anthropic/claude-sonnet-4-5", base_url=server.base_url)
    # What LiteLLM 1.110 yields for the same events.
    assert fragments(chunks) == [
        first(0, "toolu_0", "get_weather"),
        later(0, '{"cit'),
        later(0, 'y": "Paris"}'),
        first(1, "toolu_1", "get_time"),
        later(1, '{"tz"'),
        later(1, ': "Europe/Rome"}'),
    ]
    assert all(carries_something(chunk) for chunk in chunks)
    # The role, two pieces of text, six fragments, the finish.
    assert len(chunks) == 10
    message = ritellm.stream_chunk_builder(chunks)["choices"][0]["message"]
    assert [call["function"] for call in message["tool_calls"]] == [
        {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"name": "get_time", "arguments": '{"tz": "Europe/Rome"}'},
    ]


@pytest.mark.parametrize("sync", [True, False])
def test_gemini_fragments_carry_every_key(server: FakeServer, sync: bool) -> None:
    server.queue(gemini_stream("parallel_tools"))
    chunks = stream(sync, "gemini/gemini-2.5-flash", base_url=server.base_url)
    # Gemini sends each call whole: one fragment each, every key there. Ids are made up (by
    # LiteLLM too: its differ on every call), and the arguments are Gemini's `args` as JSON.
    calls = fragments(chunks)
    assert [
        (call["index"], call["type"], call["function"]["name"], json.loads(call["function"]["arguments"]))
        for call in calls
    ] == [
        (0, "function", "get_weather", {"city": "Paris"}),
        (1, "function", "get_time", {"tz": "Europe/Rome"}),
    ]
    assert all(sorted(call) == ["function", "id", "index", "type"] for call in calls)
    assert all(sorted(call["function"]) == ["arguments", "name"] for call in calls)
    assert all(call["id"].startswith("call_") for call in calls)
    assert all(carries_something(chunk) for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("sync", [True, False])
def test_azure_keeps_its_filter_results_and_leaves_out_chunks_of_nothing(
    server: FakeServer, sync: bool
) -> None:
    filters = {"hate": {"filtered": False, "severity": "safe"}}
    prompt_filter = {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": filters}],
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, results: Any = None) -> dict[str, Any]:
        event = openai_chunk(delta, finish)
        event["choices"][0]["content_filter_results"] = {} if results is None else results
        return event

    events = [
        prompt_filter,
        chunk({"role": "assistant", "content": "", "refusal": None}),
        chunk({}),  # Azure's empty filter results count for nothing
        chunk(tool_calls(first(0, "call_a", "get_weather"))),
        chunk(tool_calls(sent(0, "{}"))),
        chunk({}, results=filters),  # results of a later check: kept
        chunk({}, "tool_calls"),
    ]
    server.queue(Reply.sse(events))
    chunks = stream(sync, "azure/gpt-4o", base_url=server.base_url)
    assert chunks[0]["prompt_filter_results"] == prompt_filter["prompt_filter_results"]
    assert chunks[0]["choices"] == []
    assert fragments(chunks) == [first(0, "call_a", "get_weather"), later(0, "{}")]
    assert len(chunks) == 6
    assert chunks[4]["choices"][0]["content_filter_results"] == filters


@pytest.mark.parametrize("sync", [True, False])
def test_hostile_shapes_stay_linear(server: FakeServer, sync: bool) -> None:
    # One chunk of 20,000 calls' fragments, each with its own index, then 20,000 chunks that
    # carry nothing: every fragment completed, nothing of the empty ones yielded, and the stream
    # ends (a quadratic completion of fragments would take minutes here).
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    fragments = [{"index": i, "function": {"arguments": "{}"}} for i in range(20_000)]
    events: list[Any] = [{**base, "choices": [{"index": 0, "delta": {"tool_calls": fragments}}]}]
    events += [{**base, "choices": [{"index": 0, "delta": {}}]}] * 20_000
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    server.queue(Reply.sse(events))
    chunks = stream(sync, "openai/m", base_url=server.base_url)
    assert len(chunks) == 2
    calls = chunks[0]["choices"][0]["delta"]["tool_calls"]
    assert len(calls) == 20_000
    assert calls[-1] == {
        "index": 19_999,
        "id": None,
        "type": "function",
        "function": {"name": None, "arguments": "{}"},
    }
