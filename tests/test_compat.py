"""What people moving from LiteLLM and the openai SDK write: typed results with attribute access,
LiteLLM's options, stream_chunk_builder, callbacks, providers()."""

from __future__ import annotations

import copy
import json
import logging
import pickle
from typing import Any, Optional

import pytest

import ritellm
from tests.conftest import Caller
from tests.server import FakeServer, Reply
from tests.wire_formats import sse_reply

KEY = "sk-compat-0123456789abcdef"
USER = [{"role": "user", "content": "what is the weather"}]


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def tool_answer() -> dict[str, Any]:
    return {
        "id": "chatcmpl-tools",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "weather", "arguments": "{}"},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


# Typed results -------------------------------------------------------------------------------


def test_results_read_as_attributes_at_every_level_and_stay_dicts(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply.json(tool_answer()))
    answer = caller.completion("openai/gpt-4o-mini", USER, base_url=server.base_url)
    assert issubclass(ritellm.ChatCompletion, dict)
    assert isinstance(answer, ritellm.ChatCompletion)
    message = answer.choices[0].message
    assert message.tool_calls is not None
    call = message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == ("call_1", "weather", "{}")
    assert answer.usage is not None and answer.usage.total_tokens == 5
    assert answer.choices[0].message.content is None
    assert answer.choices[0].message.refusal is None  # a known field the provider left out
    assert answer == tool_answer() and json.loads(json.dumps(answer)) == tool_answer()
    assert answer["choices"][0]["message"]["tool_calls"][0]["id"] == "call_1"
    for copied in (pickle.loads(pickle.dumps(answer)), copy.deepcopy(answer)):
        assert copied == answer and copied["choices"][0].message.tool_calls[0].function.name == "weather"
    with pytest.raises(AttributeError, match="no field 'mesage'"):
        answer.choices[0].mesage  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(answer, "nonsense") and "choices" in dir(answer)


def test_stream_chunks_read_as_attributes(caller: Caller, server: FakeServer) -> None:
    chunks = caller.stream("openai/gpt-4o-mini", USER, base_url=server.base_url)
    assert all(isinstance(c, ritellm.ChatCompletionChunk) for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: what is the weather"
    assert chunks[-1].choices[0].finish_reason == "stop"


# LiteLLM's options ---------------------------------------------------------------------------


def test_api_base_and_num_retries_mean_what_they_mean_in_litellm(caller: Caller, server: FakeServer) -> None:
    server.queue(
        Reply.json({"error": {"message": "busy"}}, 503), Reply.json({"error": {"message": "busy"}}, 503)
    )
    with pytest.raises(ritellm.ServiceUnavailableError):
        caller.completion("openai/gpt-4o-mini", USER, api_base=server.base_url, num_retries=0)
    assert len(server.requests) == 1  # no retry
    assert "api_base" not in server.requests[0].json() and "num_retries" not in server.requests[0].json()
    answer = caller.completion("openai/gpt-4o-mini", USER, api_base=server.base_url, num_retries=1)
    assert answer.choices[0].message.content == "echo: what is the weather"
    with pytest.raises(ritellm.InvalidRequestError, match="disagree"):
        caller.completion("openai/m", USER, base_url=server.base_url, api_base="http://127.0.0.1:1/v1")


def test_mock_response_answers_without_network_or_key(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    answer = caller.completion("openai/gpt-4o", USER, mock_response="It is sunny.", base_url=server.base_url)
    assert answer.choices[0].message.content == "It is sunny." and answer.model == "gpt-4o"
    chunks = caller.stream("anthropic/claude-sonnet-4-5", USER, mock_response="It is sunny.")
    assert ritellm.stream_chunk_builder(chunks).choices[0].message.content == "It is sunny."
    assert len(chunks) > 3  # word by word, as a real stream
    assert server.requests == []
    with pytest.raises(ritellm.RateLimitError, match="slow down"):
        caller.completion("openai/gpt-4o", USER, mock_response=ritellm.RateLimitError("slow down"))
    with pytest.raises(ritellm.UnsupportedProviderError):
        caller.completion("nosuch/model", USER, mock_response="x")
    with pytest.raises(ritellm.InvalidRequestError, match="mock_response must be"):
        caller.completion("openai/gpt-4o", USER, mock_response=42)


@pytest.mark.parametrize(
    ("option", "named"),
    [
        ("deployment_id", "deployment_id"),
        ("logger_fn", "logger_fn"),
        ("custom_llm_provider", "custom_llm_provider (instead: the model's prefix"),
        ("request_timeout", "request_timeout (instead: timeout=)"),
    ],
)
def test_other_litellm_options_are_refused_by_name_before_sending(
    caller: Caller, server: FakeServer, option: str, named: str
) -> None:
    with pytest.raises(ritellm.InvalidRequestError, match="LiteLLM option") as raised:
        caller.completion("openai/gpt-4o-mini", USER, base_url=server.base_url, **{option: ["x"]})
    assert named in str(raised.value)
    assert server.requests == []


def test_drop_params_leaves_out_what_the_protocol_cannot_carry(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
    with pytest.raises(ritellm.InvalidRequestError, match=r"max_output_tokens \(use max_tokens\)") as raised:
        caller.completion("anthropic/claude", USER, base_url=server.base_url, seed=1, max_output_tokens=5)
    assert "seed" in str(raised.value) and "drop_params=True" in str(raised.value)
    assert server.requests == []
    server.queue(Reply.json({"error": {"type": "x", "message": "stop here"}}, 400))
    with pytest.raises(ritellm.BadRequestError):
        caller.completion(
            "anthropic/claude", USER, base_url=server.base_url, seed=1, temperature=0.5, drop_params=True
        )
    sent = server.requests[0].json()
    assert "seed" not in sent and "drop_params" not in sent and sent["temperature"] == 0.5


# stream_chunk_builder ------------------------------------------------------------------------


def test_stream_chunk_builder_gives_the_complete_answer(caller: Caller, server: FakeServer) -> None:
    def two_choices(request: dict[str, Any]) -> list[dict[str, Any]]:
        base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        return [
            {
                **base,
                "choices": [{"index": i, "delta": {"role": "assistant", "content": ""}} for i in (0, 1)],
            },
            {**base, "choices": [{"index": 1, "delta": {"content": "second "}}]},
            {**base, "choices": [{"index": 0, "delta": {"content": "first "}}]},
            {**base, "choices": [{"index": 0, "delta": {"content": "answer"}, "finish_reason": "stop"}]},
            {**base, "choices": [{"index": 1, "delta": {"content": "answer"}, "finish_reason": "length"}]},
            {**base, "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 4, "total_tokens": 5}},
        ]

    server.queue(Reply.sse(two_choices({})))
    built = ritellm.stream_chunk_builder(caller.stream("openai/m", USER, base_url=server.base_url, n=2))
    assert [(c.index, c.message.content, c.finish_reason) for c in built.choices] == [
        (0, "first answer", "stop"),
        (1, "second answer", "length"),
    ]
    assert built.usage is not None and built.usage.total_tokens == 5 and built.object == "chat.completion"
    complete = caller.completion("openai/m", USER, base_url=server.base_url)
    streamed = ritellm.stream_chunk_builder(caller.stream("openai/m", USER, base_url=server.base_url))
    assert streamed["choices"] == [{**complete["choices"][0], "logprobs": None}]


def _logprob(token: str) -> dict[str, Any]:
    """One token's entry as OpenAI sends it with ``logprobs=True, top_logprobs=1``."""
    entry = {"token": token, "logprob": -0.25, "bytes": list(token.encode())}
    return {**entry, "top_logprobs": [entry]}


def test_stream_chunk_builder_joins_the_logprobs_of_every_chunk(caller: Caller, server: FakeServer) -> None:
    tokens = ["It", " is", " sunny", "."]
    base = {"id": "chatcmpl-lp", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    chunks += [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": token},
                    "logprobs": {"content": [_logprob(token)], "refusal": None},
                    "finish_reason": None,
                }
            ],
        }
        for token in tokens
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    complete = {
        **base,
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "It is sunny."},
                "logprobs": {"content": [_logprob(token) for token in tokens], "refusal": None},
                "finish_reason": "stop",
            }
        ],
    }
    server.queue(Reply.json(complete), Reply.sse(chunks))
    options: dict[str, Any] = {"base_url": server.base_url, "logprobs": True, "top_logprobs": 1}
    answer = caller.completion("openai/gpt-4o-mini", USER, **options)
    built = ritellm.stream_chunk_builder(caller.stream("openai/gpt-4o-mini", USER, **options))
    assert built.choices[0].message.content == answer.choices[0].message.content == "It is sunny."
    logprobs = built["choices"][0]["logprobs"]
    assert [entry["token"] for entry in logprobs["content"]] == tokens  # every chunk's, in order
    assert logprobs == answer["choices"][0]["logprobs"]  # "refusal": null stays null, as OpenAI sends it


# Callbacks ---------------------------------------------------------------------------------


@pytest.fixture
def events() -> Any:
    seen: list[ritellm.CallEvent] = []
    ritellm.callbacks.append(seen.append)
    yield seen
    ritellm.callbacks.remove(seen.append)


def test_callbacks_see_each_call_once_with_timing_usage_and_retries(
    caller: Caller, server: FakeServer, events: list[ritellm.CallEvent]
) -> None:
    server.queue(Reply.json({"error": {"message": "busy"}}, 503, {"retry-after": "0"}))
    caller.completion("openai/gpt-4o-mini", USER, base_url=server.base_url)
    caller.stream(
        "openai/gpt-4o-mini", USER, base_url=server.base_url, stream_options={"include_usage": True}
    )
    server.queue(Reply.json({"error": {"message": "no such model"}}, 404))
    with pytest.raises(ritellm.NotFoundError):
        caller.completion("openai/gpt-nope", USER, base_url=server.base_url)
    complete, streamed, failed = events
    assert (complete.provider, complete.model, complete.stream) == ("openai", "gpt-4o-mini", False)
    assert complete.exception is None
    assert complete.attempts == 2 and complete.retries == 1
    assert complete.usage is not None
    assert complete.usage.total_tokens == 5
    assert complete.time_to_first_chunk is None and complete.latency > 0
    assert streamed.stream and streamed.exception is None and streamed.attempts == 1
    assert streamed.time_to_first_chunk is not None
    assert 0 < streamed.time_to_first_chunk <= streamed.latency
    assert isinstance(failed.exception, ritellm.NotFoundError) and failed.model == "gpt-nope"
    assert KEY not in repr(events)


def test_a_raising_callback_is_logged_and_the_call_goes_on(
    caller: Caller, server: FakeServer, events: list[ritellm.CallEvent], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: ritellm.CallEvent) -> None:
        raise RuntimeError("callback bug")

    ritellm.callbacks.insert(0, broken)
    try:
        with caplog.at_level(logging.WARNING, logger="ritellm"):
            answer = caller.completion("openai/gpt-4o-mini", USER, base_url=server.base_url)
    finally:
        ritellm.callbacks.remove(broken)
    assert answer.choices[0].message.content == "echo: what is the weather"
    assert len(events) == 1  # the next callback still ran
    assert "callback raised" in caplog.text


def test_a_failed_stream_is_reported_as_a_failure(
    caller: Caller, server: FakeServer, events: list[ritellm.CallEvent]
) -> None:
    first = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Sun"}}]}
    broken = Reply.sse([first], done=False)
    server.queue(Reply(200, broken.headers, broken.pieces, drop=True))  # the connection drops
    chunks, error = caller.stream_until_error("openai/gpt-4o-mini", USER, base_url=server.base_url)
    assert chunks == [first] and isinstance(error, ritellm.StreamInterruptedError)
    server.queue(Reply.json({"error": {"message": "no such model"}}, 404))  # refused while opening
    _, refused = caller.stream_until_error("openai/gpt-nope", USER, base_url=server.base_url)
    assert isinstance(refused, ritellm.NotFoundError)
    interrupted, not_found = events
    assert interrupted.stream and interrupted.exception is error
    assert interrupted.time_to_first_chunk is not None
    assert not_found.stream and not_found.exception is refused and not_found.time_to_first_chunk is None


def test_a_stream_reports_its_usage_and_a_stream_left_early_is_no_failure(
    caller: Caller, server: FakeServer, events: list[ritellm.CallEvent]
) -> None:
    usage = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
    base = {"id": "chatcmpl-u", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
    server.queue(
        Reply.sse(
            [
                {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Sunny."}}]},
                {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                {**base, "choices": [], "usage": usage},
            ]
        )
    )
    caller.stream(
        "openai/gpt-4o-mini", USER, base_url=server.base_url, stream_options={"include_usage": True}
    )
    [streamed] = events
    assert streamed.exception is None and streamed.usage == usage
    assert streamed.usage is not None and streamed.usage.total_tokens == 13

    if caller.is_async:

        async def first_only() -> None:
            stream = await ritellm.acompletion("openai/m", USER, base_url=server.base_url, stream=True)
            async with stream:
                async for _ in stream:
                    break

        caller.run(first_only)
    else:
        with ritellm.completion("openai/m", USER, base_url=server.base_url, stream=True) as stream:
            next(stream)
    assert len(events) == 2  # reported once, when the reader left
    assert events[1].exception is None and events[1].usage is None


# providers() and messages ------------------------------------------------------------------


def test_providers_lists_the_cores_table() -> None:
    table = {p.prefix: p for p in ritellm.providers()}
    assert table["openai"].key_env == "OPENAI_API_KEY" and table["openai"].key_required
    assert table["anthropic"].protocol == "anthropic"
    assert table["ollama"].base_url == "http://localhost:11434/v1" and not table["ollama"].key_required
    assert table["mock"].key_env is None
    with pytest.raises(ritellm.UnsupportedProviderError) as raised:
        ritellm.completion("nosuch/m", USER)
    assert all(prefix in str(raised.value) for prefix in table)


def test_messages_may_be_any_iterable_of_mappings(server: FakeServer) -> None:
    as_tuple = tuple(USER)
    as_generator = (message for message in USER)
    for messages in (as_tuple, as_generator):
        answer = ritellm.completion("openai/m", messages, base_url=server.base_url)
        assert answer.choices[0].message.content == "echo: what is the weather"


# Structured output and reasoning -----------------------------------------------------------


def test_response_format_takes_a_pydantic_model(caller: Caller, server: FakeServer) -> None:
    pydantic = pytest.importorskip("pydantic")

    class City(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        name: str
        population: Optional[int] = None  # noqa: UP045 (pydantic reads it on Python 3.9)

    caller.completion("openai/gpt-4o-mini", USER, base_url=server.base_url, response_format=City)
    sent = server.requests[0].json()["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "City"
    assert sent["json_schema"]["strict"] is True
    schema = sent["json_schema"]["schema"]
    assert schema["additionalProperties"] is False and schema["required"] == ["name", "population"]
    assert "default" not in schema["properties"]["population"]


ANTHROPIC_THINKING: dict[str, Any] = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "thinking", "thinking": "The user wants the weather.", "signature": "EqQBCkYIBxgCKkB"},
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Rome"}},
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 10, "output_tokens": 20},
}


def test_reasoning_effort_and_thinking_signatures_round_trip_on_anthropic(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
    server.queue(
        Reply.json(ANTHROPIC_THINKING),
        Reply.json(
            {**ANTHROPIC_THINKING, "content": [{"type": "text", "text": "Sunny."}], "stop_reason": "end_turn"}
        ),
    )
    answer = caller.completion(
        "anthropic/claude-sonnet-4-5", USER, base_url=server.base_url, reasoning_effort="medium"
    )
    sent = server.requests[0].json()
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048} and sent["max_tokens"] > 2048
    message = answer.choices[0].message
    assert message.reasoning_content == "The user wants the weather."
    assert message.thinking_blocks == [ANTHROPIC_THINKING["content"][0]]
    # The message goes back as it came, and Anthropic gets its signed thinking first.
    history = [*USER, message, {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"}]
    caller.completion(
        "anthropic/claude-sonnet-4-5", history, base_url=server.base_url, reasoning_effort="medium"
    )
    turn = server.requests[1].json()["messages"][1]
    assert turn["content"][0] == ANTHROPIC_THINKING["content"][0]
    assert turn["content"][1]["type"] == "tool_use"


def test_a_streamed_thinking_block_is_built_back_with_its_signature(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
    start = {
        "type": "message_start",
        "message": {"id": "msg_2", "model": "claude", "usage": {"input_tokens": 3}},
    }
    thinking = {"type": "thinking", "thinking": ""}
    events: list[tuple[str | None, dict[str, Any]]] = [
        ("message_start", start),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": thinking}),
        *[
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
            for delta in (
                {"type": "thinking_delta", "thinking": "Rome, "},
                {"type": "thinking_delta", "thinking": "so weather."},
                {"type": "signature_delta", "signature": "EqQBsig"},
            )
        ],
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}},
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    server.queue(sse_reply(events))
    built = ritellm.stream_chunk_builder(caller.stream("anthropic/claude", USER, base_url=server.base_url))
    message = built.choices[0].message
    assert message.reasoning_content == "Rome, so weather."
    assert message.thinking_blocks == [
        {"type": "thinking", "thinking": "Rome, so weather.", "signature": "EqQBsig"}
    ]
