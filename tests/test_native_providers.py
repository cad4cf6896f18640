"""Anthropic, Gemini and Azure against a local server speaking their own wire formats, sync and async."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

import ritellm
from tests.conftest import Caller
from tests.server import FakeServer, Reply
from tests.wire_formats import (
    AZURE_FILTERED,
    SCENARIOS,
    anthropic_error,
    anthropic_message,
    anthropic_stream,
    azure_content_filtered,
    gemini_blocked,
    gemini_error,
    gemini_response,
    gemini_stream,
    same_answer,
    streamed_tool_call_ids,
    tool_call_ids,
)

MODELS = {"anthropic": "anthropic/claude-sonnet-4-5", "gemini": "gemini/gemini-2.5-flash"}
COMPLETE: dict[str, Callable[[str], Reply]] = {"anthropic": anthropic_message, "gemini": gemini_response}
STREAMED: dict[str, Callable[[str], Reply]] = {"anthropic": anthropic_stream, "gemini": gemini_stream}
PATHS = {
    "anthropic": ("/v1/messages", "/v1/messages"),
    "gemini": (
        "/v1/models/gemini-2.5-flash:generateContent",
        "/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    ),
}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
USER = [{"role": "user", "content": "What's the weather?"}]


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("GEMINI_API_KEY", "gm-test")


@pytest.mark.parametrize("provider", sorted(MODELS))
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_complete_and_streamed_answers_agree(
    caller: Caller, server: FakeServer, provider: str, scenario: str
) -> None:
    server.queue(COMPLETE[provider](scenario), STREAMED[provider](scenario))
    complete = caller.completion(MODELS[provider], USER, base_url=server.base_url, tools=TOOLS)
    chunks = caller.stream(
        MODELS[provider], USER, base_url=server.base_url, tools=TOOLS, stream_options={"include_usage": True}
    )

    text, tools = SCENARIOS[scenario]
    message = complete["choices"][0]["message"]
    assert complete["object"] == "chat.completion"
    assert message["content"] == (text or None)
    assert [
        (c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message.get("tool_calls", [])
    ] == [(name, args) for name, args in tools]
    assert complete["choices"][0]["finish_reason"] == ("tool_calls" if tools else "stop")
    assert complete["usage"]["prompt_tokens"] == 20 + (0 if provider == "gemini" else 5)
    assert complete["usage"]["prompt_tokens_details"]["cached_tokens"] == 5

    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == complete["usage"]
    # The public builder puts the stream back together into the complete answer, field for field.
    built = ritellm.stream_chunk_builder(chunks)
    assert same_answer(built, complete)
    # Tool-call ids: one per call and distinct in each answer, a stream's the same in its
    # chunks and built answer; Anthropic's passed through, Gemini's (it sends none) made per call.
    ids, streamed_ids = tool_call_ids(complete), streamed_tool_call_ids(chunks)
    assert len(ids) == len(streamed_ids) == len(tools)
    assert tool_call_ids(built) == streamed_ids
    if provider == "anthropic":
        assert ids == streamed_ids == [f"toolu_{i}" for i in range(len(tools))]

    first, second = server.requests
    assert (first.path, second.path) == PATHS[provider]
    if provider == "anthropic":
        assert first.headers["x-api-key"] == "sk-ant-test"
        assert first.headers["anthropic-version"] == "2023-06-01"
        assert first.json()["tools"][0]["input_schema"] == {"type": "object"}
        assert second.json()["stream"] is True
    else:
        assert first.headers["x-goog-api-key"] == "gm-test"
        assert "key=" not in first.path
        assert first.json()["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"
    assert "authorization" not in first.headers


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_stream_split_at_every_byte_gives_the_same_chunks(server: FakeServer, provider: str) -> None:
    whole = STREAMED[provider]("parallel_tools")
    body = b"".join(whole.pieces)
    bytewise = Reply(200, whole.headers, [body[i : i + 1] for i in range(len(body))])
    server.queue(whole, bytewise)
    caller = Caller("sync")
    first, second = (caller.stream(MODELS[provider], USER, base_url=server.base_url) for _ in range(2))
    assert len(streamed_tool_call_ids(first)) == len(streamed_tool_call_ids(second)) == 2
    assert per_call_left_out(first) == per_call_left_out(second)


def per_call_left_out(chunks: list[Any]) -> list[Any]:
    """The chunks without what two calls may differ in for all their bytes being the same:
    ``created`` (the host's clock) and the tool-call ids ritellm makes per call."""
    kept = []
    for chunk in chunks:
        choices = [
            {
                **choice,
                "delta": {
                    **choice["delta"],
                    "tool_calls": [
                        {**piece, "id": None} for piece in choice["delta"].get("tool_calls") or []
                    ],
                },
            }
            for choice in chunk["choices"]
        ]
        kept.append({**chunk, "created": None, "choices": choices})
    return kept


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_images_and_tool_history_reach_the_provider_in_its_format(server: FakeServer, provider: str) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "clear"}'},
    ]
    server.queue(COMPLETE[provider]("text"))
    ritellm.completion(MODELS[provider], messages, base_url=server.base_url, temperature=0.3, max_tokens=64)
    sent = server.requests[0].json()
    if provider == "anthropic":
        assert sent["system"] == "Be brief."
        assert sent["max_tokens"] == 64 and sent["temperature"] == 0.3
        assert sent["messages"][0]["content"][1] == {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        }
        assert sent["messages"][1]["content"][0]["type"] == "tool_use"
        assert sent["messages"][2]["content"][0] == {
            "type": "tool_result",
            "tool_use_id": "call_1",
            "content": '{"sky": "clear"}',
        }
    else:
        assert sent["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert sent["generationConfig"] == {"temperature": 0.3, "maxOutputTokens": 64}
        assert sent["contents"][0]["parts"][1] == {
            "inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}
        }
        assert sent["contents"][1] == {
            "role": "model",
            "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
        }
        assert sent["contents"][2]["parts"][0] == {
            "functionResponse": {"name": "get_weather", "response": {"sky": "clear"}}
        }


@pytest.mark.parametrize(
    ("reply", "cls"),
    [
        (anthropic_error(529, "overloaded_error", "Overloaded"), ritellm.OverloadedError),
        (anthropic_error(429, "rate_limit_error", "Slow down"), ritellm.RateLimitError),
        (anthropic_error(401, "authentication_error", "invalid x-api-key"), ritellm.AuthenticationError),
        (
            anthropic_error(
                400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"
            ),
            ritellm.ContextWindowExceededError,
        ),
    ],
)
def test_anthropic_errors(
    caller: Caller, server: FakeServer, reply: Reply, cls: type[ritellm.APIError]
) -> None:
    server.queue(reply)
    with pytest.raises(cls) as info:
        caller.completion(MODELS["anthropic"], USER, base_url=server.base_url, max_retries=0)
    assert info.value.provider == "anthropic"
    assert info.value.request_id == "req_err"


def test_gemini_errors(caller: Caller, server: FakeServer) -> None:
    server.queue(gemini_error(400, "INVALID_ARGUMENT", "Invalid JSON payload"))
    with pytest.raises(ritellm.BadRequestError, match="Invalid JSON payload") as info:
        caller.completion(MODELS["gemini"], USER, base_url=server.base_url)
    assert info.value.type == "INVALID_ARGUMENT"
    server.queue(gemini_error(503, "UNAVAILABLE", "The model is overloaded."))
    with pytest.raises(ritellm.ServiceUnavailableError):
        caller.completion(MODELS["gemini"], USER, base_url=server.base_url, max_retries=0)


@pytest.mark.parametrize("stream", [False, True])
def test_azure_content_filter_is_a_content_policy_error(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    monkeypatch.setenv("AZURE_API_KEY", "azure-key-0123456789")
    server.queue(azure_content_filtered())
    if stream:
        chunks, error = caller.stream_until_error("azure/gpt-4o", USER, base_url=server.base_url)
        assert chunks == []
    else:
        with pytest.raises(ritellm.RitellmError) as raised:
            caller.completion("azure/gpt-4o", USER, base_url=server.base_url)
        error = raised.value
    assert type(error) is ritellm.ContentPolicyError, repr(error)
    assert isinstance(error, ritellm.BadRequestError)  # caught where a 400 is caught
    assert (error.status_code, error.code, error.param) == (400, "content_filter", "prompt")
    assert error.message == AZURE_FILTERED["error"]["message"] and error.request_id == "apim-0f1e2d"
    assert len(server.requests) == 1  # not retried: the same prompt would be refused again


@pytest.mark.parametrize("stream", [False, True])
def test_a_gemini_prompt_blocked_for_safety_is_a_content_policy_error(
    caller: Caller, server: FakeServer, stream: bool
) -> None:
    server.queue(gemini_blocked(stream))
    if stream:
        chunks, error = caller.stream_until_error(MODELS["gemini"], USER, base_url=server.base_url)
        assert chunks == []
    else:
        with pytest.raises(ritellm.RitellmError) as raised:
            caller.completion(MODELS["gemini"], USER, base_url=server.base_url)
        error = raised.value
    assert type(error) is ritellm.ContentPolicyError, repr(error)
    assert "SAFETY" in str(error) and error.provider == "gemini"


def test_overloaded_mid_stream_raises_what_http_529_raises(caller: Caller, server: FakeServer) -> None:
    stream = anthropic_stream("text")
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    error = b"event: error\ndata: " + json.dumps(overloaded).encode() + b"\n\n"
    server.queue(Reply(200, stream.headers, stream.pieces[:4] + [error]))
    chunks, exc = caller.stream_until_error(MODELS["anthropic"], USER, base_url=server.base_url)
    assert isinstance(exc, ritellm.OverloadedError)
    assert [c["choices"][0]["delta"].get("content") for c in chunks] == ["", "Hello, "]


def test_unsupported_parameters_are_named_before_sending(caller: Caller, server: FakeServer) -> None:
    with pytest.raises(ValueError, match="anthropic/ does not support the parameter logit_bias"):
        caller.completion(MODELS["anthropic"], USER, base_url=server.base_url, logit_bias={"1": 2})
    assert server.requests == []


def test_anthropic_json_schema_comes_back_as_content(server: FakeServer) -> None:
    answer = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "stop_reason": "tool_use",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "city", "input": {"name": "Paris"}}],
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    server.queue(Reply.json(answer))
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    result = ritellm.completion(
        MODELS["anthropic"],
        USER,
        base_url=server.base_url,
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}},
    )
    assert json.loads(result["choices"][0]["message"]["content"]) == {"name": "Paris"}
    assert result["choices"][0]["finish_reason"] == "stop"
    sent = server.requests[0].json()
    assert sent["tool_choice"] == {"type": "tool", "name": "city"}
    assert sent["tools"][-1]["input_schema"] == schema


def test_anthropic_base_url_from_the_environment_as_a_server_root(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url.removesuffix("/v1"))  # as the SDK takes it
    server.queue(anthropic_message("text"))
    answer = caller.completion("anthropic/claude", [{"role": "user", "content": "hi"}])
    assert answer["object"] == "chat.completion"
    assert server.requests[0].path == "/v1/messages"
