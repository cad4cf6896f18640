"""End-to-end calls against a real OpenAI-compatible server on 127.0.0.1, sync and async."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import ritellm
from tests.conftest import USER, Caller
from tests.server import FakeServer, Reply, echo_chunks


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")


def test_completion_returns_what_the_server_sent(caller: Caller, server: FakeServer) -> None:
    result = caller.completion("openai/gpt-4o-mini", USER, base_url=server.base_url)
    assert result == json.loads(server.sent[0])
    assert result["choices"][0]["message"]["content"] == "echo: hello"
    request = server.requests[0]
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer sk-test-key"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"model": "gpt-4o-mini", "messages": USER}


def test_stream_yields_every_chunk_the_server_sent(caller: Caller, server: FakeServer) -> None:
    chunks = caller.stream("openai/gpt-4o-mini", USER, base_url=server.base_url)
    expected = echo_chunks({"model": "gpt-4o-mini", "messages": USER})
    assert chunks == expected
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "echo: hello"
    request = server.requests[0]
    assert request.json()["stream"] is True
    assert request.headers["accept"] == "text/event-stream"


def test_stream_split_mid_line_and_mid_character(caller: Caller, server: FakeServer) -> None:
    events = [{"choices": [{"index": 0, "delta": {"content": "héllo → 世界 🎉"}}]}] * 3
    body = b"".join(Reply.sse(events).pieces)
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
    server.queue(Reply(200, {"content-type": "text/event-stream"}, pieces))
    chunks = caller.stream("openai/m", USER, base_url=server.base_url)
    assert chunks == events


def test_parameters_go_on_the_wire_as_given(caller: Caller, server: FakeServer) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    caller.completion(
        "openai/gpt-4o-mini",
        USER,
        temperature=0.7,
        max_tokens=50,
        base_url=server.base_url,
        top_p=0.5,
        stop=["\n"],
        n=1,
        seed=7,
        tools=tools,
        tool_choice="auto",
        response_format={"type": "json_object"},
        user="u1",
        presence_penalty=None,
    )
    body = server.requests[0].body
    assert b'"temperature":0.7' in body
    sent = json.loads(body)
    assert sent["max_tokens"] == 50
    assert sent["top_p"] == 0.5
    assert sent["stop"] == ["\n"]
    assert sent["tools"] == tools
    assert sent["response_format"] == {"type": "json_object"}
    assert "presence_penalty" not in sent


def test_additional_params_are_merged_and_win(caller: Caller, server: FakeServer) -> None:
    caller.completion(
        "openai/m",
        USER,
        temperature=0.1,
        base_url=server.base_url,
        additional_params='{"temperature": 0.9, "logit_bias": {"50256": -100}}',
    )
    sent = server.requests[0].json()
    assert sent["temperature"] == 0.9
    assert sent["logit_bias"] == {"50256": -100}


@pytest.mark.parametrize(
    ("additional_params", "message"),
    [("{oops", "additional_params is not valid JSON"), ("[1, 2]", "must be a JSON object, got an array")],
)
def test_bad_additional_params_raise_value_error(
    caller: Caller, server: FakeServer, additional_params: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        caller.completion("openai/m", USER, base_url=server.base_url, additional_params=additional_params)
    assert server.requests == []


def test_messages_pass_through_as_json(caller: Caller, server: FakeServer) -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    ]
    caller.completion("openai/m", messages, base_url=server.base_url)
    assert server.requests[0].json()["messages"] == messages


@pytest.mark.parametrize("suffix", ["", "/", "/chat/completions"])
def test_base_url_forms(caller: Caller, server: FakeServer, suffix: str) -> None:
    caller.completion("openai/m", USER, base_url=server.base_url + suffix)
    assert server.requests[0].path == "/v1/chat/completions"


def test_api_key_and_extra_headers(caller: Caller, server: FakeServer) -> None:
    caller.completion(
        "openai/m", USER, base_url=server.base_url, api_key="sk-given", extra_headers={"X-Trace": "abc"}
    )
    headers = server.requests[0].headers
    assert headers["authorization"] == "Bearer sk-given"
    assert headers["x-trace"] == "abc"
    assert headers["user-agent"].startswith("ritellm/")


def test_unsupported_prefix_is_a_value_error_naming_it(caller: Caller) -> None:
    with pytest.raises(ValueError, match='unsupported provider "nope".*openai, groq') as info:
        caller.completion("nope/model", USER)
    assert isinstance(info.value, ritellm.UnsupportedProviderError)
    with pytest.raises(ValueError, match="no provider prefix"):
        caller.completion("gpt-4o", USER)


def test_missing_key_names_the_variable_before_any_io(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ritellm.MissingAPIKeyError, match="OPENAI_API_KEY"):
        caller.completion("openai/m", USER, base_url=server.base_url)
    assert server.requests == []


def test_bad_messages_are_value_errors(caller: Caller) -> None:
    with pytest.raises(ValueError, match="messages must be a list"):
        caller.completion("openai/m", "hello")
    with pytest.raises(ValueError, match="cannot be sent as JSON"):
        caller.completion("openai/m", [{"role": "user", "content": object()}])


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ritellm.BadRequestError),
        (401, ritellm.AuthenticationError),
        (404, ritellm.NotFoundError),
        (429, ritellm.RateLimitError),
        (500, ritellm.InternalServerError),
        (503, ritellm.ServiceUnavailableError),
    ],
)
def test_error_status_raises_its_class(
    caller: Caller, server: FakeServer, status: int, cls: type[ritellm.APIStatusError]
) -> None:
    error = {"error": {"message": "nope", "type": "some_type", "code": "some_code", "param": None}}
    server.queue(Reply.json(error, status, headers={"x-request-id": "req_123"}))
    with pytest.raises(cls) as info:
        caller.completion("openai/gpt-x", USER, base_url=server.base_url, max_retries=0)
    exc = info.value
    assert (exc.status_code, exc.message, exc.type, exc.code) == (status, "nope", "some_type", "some_code")
    assert (exc.provider, exc.model, exc.request_id) == ("openai", "gpt-x", "req_123")
    assert "req_123" in str(exc) and f"HTTP {status}" in str(exc)


def test_error_status_on_a_stream_raises_before_any_chunk(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply.json({"error": {"message": "bad key"}}, 401))
    chunks, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url)
    assert chunks == []
    assert isinstance(error, ritellm.AuthenticationError)


def test_context_window_errors_are_recognised(caller: Caller, server: FakeServer) -> None:
    body = {
        "error": {
            "message": "This model's maximum context length is 8192 tokens.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    }
    server.queue(Reply.json(body, 400))
    with pytest.raises(ritellm.ContextWindowExceededError) as info:
        caller.completion("openai/m", USER, base_url=server.base_url)
    assert isinstance(info.value, ritellm.BadRequestError)


def test_error_event_inside_a_stream(caller: Caller, server: FakeServer) -> None:
    first = {"choices": [{"index": 0, "delta": {"content": "partial"}}]}
    server.queue(Reply.sse([first, {"error": {"message": "server melted", "type": "server_error"}}]))
    chunks, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url)
    assert chunks == [first]
    assert isinstance(error, ritellm.InternalServerError)
    assert "server melted" in str(error)


def test_stream_without_terminator_is_reported(caller: Caller, server: FakeServer) -> None:
    first = {"choices": [{"index": 0, "delta": {"content": "partial"}}]}
    server.queue(Reply.sse([first], done=False))
    chunks, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url)
    assert chunks == [first]
    assert isinstance(error, ritellm.StreamInterruptedError)


def test_dropped_stream_is_reported(caller: Caller, server: FakeServer) -> None:
    first = {"choices": [{"index": 0, "delta": {"content": "partial"}}]}
    reply = Reply.sse([first], done=False)
    reply.drop = True
    server.queue(reply)
    chunks, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url)
    assert chunks == [first]
    assert isinstance(error, ritellm.StreamInterruptedError)


def test_non_json_answer_is_an_invalid_response(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply(200, {"content-type": "text/html"}, [b"<html>hi</html>"]))
    with pytest.raises(ritellm.InvalidResponseError, match="not a JSON object"):
        caller.completion("openai/m", USER, base_url=server.base_url)


def test_connection_refused_is_a_connection_error(caller: Caller) -> None:
    with pytest.raises(ritellm.APIConnectionError, match="127.0.0.1:9") as info:
        caller.completion("openai/m", USER, base_url="http://127.0.0.1:9/v1", max_retries=0)
    assert info.value.__cause__ is not None


def test_timeout_is_a_timeout_error(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply(200, {"content-type": "application/json"}, [b"{}"], delay=1.0))
    with pytest.raises(ritellm.APITimeoutError):
        caller.completion("openai/m", USER, base_url=server.base_url, timeout=0.2, max_retries=0)


def test_concurrent_async_calls(server: FakeServer) -> None:
    async def many() -> list[dict[str, Any]]:
        calls = [
            ritellm.acompletion("openai/m", [{"role": "user", "content": f"n{i}"}], base_url=server.base_url)
            for i in range(50)
        ]
        return list(await asyncio.gather(*calls))

    results = asyncio.run(many())
    assert [r["choices"][0]["message"]["content"] for r in results] == [f"echo: n{i}" for i in range(50)]
    assert len(server.requests) == 50


def test_async_stream_iterates_with_plain_for_too(server: FakeServer) -> None:
    async def plain_for() -> list[dict[str, Any]]:
        stream = await ritellm.acompletion("openai/m", USER, base_url=server.base_url, stream=True)
        with pytest.warns(DeprecationWarning, match="sends the request again"):
            return list(stream)

    chunks = asyncio.run(plain_for())
    assert chunks == echo_chunks({"model": "m", "messages": USER})


def test_leaving_a_stream_early_closes_it(caller: Caller, server: FakeServer) -> None:
    if caller.is_async:

        async def first_only() -> dict[str, Any]:
            stream = await ritellm.acompletion("openai/m", USER, base_url=server.base_url, stream=True)
            async with stream:
                async for chunk in stream:
                    return chunk
            raise AssertionError("no chunk")

        first = caller.run(first_only)
    else:
        with ritellm.completion("openai/m", USER, base_url=server.base_url, stream=True) as stream:
            first = next(stream)
        with pytest.raises(StopIteration):
            next(stream)
    assert first["choices"][0]["delta"]["role"] == "assistant"


def test_mock_provider_needs_no_network_or_key(caller: Caller) -> None:
    result = caller.completion("mock/echo", [{"role": "user", "content": "ping pong"}])
    assert result["choices"][0]["message"]["content"] == "ping pong"
    assert result["usage"]["completion_tokens"] == 2
    chunks = caller.stream(
        "mock/echo", [{"role": "user", "content": "ping pong"}], stream_options={"include_usage": True}
    )
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "ping pong"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 4


def test_proxies_from_the_environment(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.base_url.removesuffix("/v1"))
    monkeypatch.setenv("NO_PROXY", "direct.invalid")
    ritellm.close()  # the environment is read when the pools are made
    try:
        result = caller.completion("openai/m", USER, base_url="http://api.example.invalid/v1")
        assert result["choices"][0]["message"]["content"] == "echo: hello"
        assert server.requests[0].path == "http://api.example.invalid/v1/chat/completions"  # proxy form
        with pytest.raises(ritellm.APIConnectionError):
            caller.completion("openai/m", USER, base_url="http://direct.invalid/v1", max_retries=0)
        assert len(server.requests) == 1
    finally:
        ritellm.close()


def test_calls_alike_reuse_the_cores_request_with_their_own_messages(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ritellm import _core, _templates

    crossings: list[bytes] = []
    real_prepare = _core.Core.prepare

    def counted(self: _core.Core, call: bytes) -> Any:
        crossings.append(call)
        return real_prepare(self, call)

    monkeypatch.setattr(_core.Core, "prepare", counted)
    monkeypatch.setattr(_templates, "_templates", {})
    conversations: list[list[dict[str, Any]]] = [
        [{"role": "user", "content": "first"}],
        [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": 'caf\u00e9 \U0001f600 "quoted"'},
        ],
        [
            {"role": "user", "content": [{"type": "text", "text": "parts"}]},
            {"role": "assistant", "content": None},
        ],
    ]
    for messages in conversations:
        ritellm.completion("openai/m", messages, base_url=server.base_url, temperature=0.25, stop=["\n"])
    assert len(crossings) == 1  # the later calls used the first one's template
    for messages, recorded in zip(conversations, server.requests):
        assert recorded.json() == {"model": "m", "messages": messages, "temperature": 0.25, "stop": ["\n"]}
    ritellm.completion("openai/m", USER, base_url=server.base_url, temperature=0.5)
    assert len(crossings) == 2  # not alike: another temperature
    not_templates: list[Any] = [
        [{"role": "user", "content": float("nan")}],
        "not a list",
        [["not", "a dict"]],
    ]
    for not_a_template in not_templates:
        with pytest.raises(ritellm.InvalidRequestError):
            ritellm.completion(
                "openai/m", not_a_template, base_url=server.base_url, temperature=0.25, stop=["\n"]
            )
    assert len(server.requests) == 4


def test_a_finished_stream_without_its_end_marker_is_complete(caller: Caller, server: FakeServer) -> None:
    request = {"model": "m", "messages": USER}
    usage = {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}
    for events in (echo_chunks(request), [*echo_chunks(request), usage]):
        server.queue(Reply.sse(events, done=False))  # as TGI before 2024, mistral.rs, ...
        assert caller.stream("openai/m", USER, base_url=server.base_url) == events
    unfinished = echo_chunks(request)[:-1]  # the body ends before the finish reason
    server.queue(Reply.sse(unfinished, done=False))
    chunks, error = caller.stream_until_error("openai/m", USER, base_url=server.base_url)
    assert chunks == unfinished and isinstance(error, ritellm.StreamInterruptedError)


def test_both_stream_twins_are_opened_before_the_call_returns(caller: Caller, server: FakeServer) -> None:
    """The request is made and an error answer raised by the call itself, sync or async."""
    denied = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
    server.queue(Reply.json(denied, status=401))

    def open_stream() -> Any:
        if caller.is_async:

            async def opened() -> Any:
                stream = await ritellm.acompletion("openai/m", USER, base_url=server.base_url, stream=True)
                sent_before_reading = len(server.requests)
                await stream.aclose()
                return sent_before_reading

            return caller.run(opened)
        with ritellm.completion("openai/m", USER, base_url=server.base_url, stream=True):
            return len(server.requests)

    with pytest.raises(ritellm.AuthenticationError, match="Incorrect API key"):
        open_stream()
    assert len(server.requests) == 1
    assert open_stream() == 2


def test_a_stream_returns_its_connection_to_the_pool(caller: Caller, server: FakeServer) -> None:
    """The chunked body's end arrives after ``[DONE]`` in a read of its own: the stream reads it
    (as openai-python does) instead of resetting the connection, so the next call reuses it."""
    for _ in range(2):
        # An empty last piece, after a pause: the terminator comes in a later write than [DONE].
        reply = Reply.sse(echo_chunks({"model": "m", "messages": USER}))
        reply.pieces.append(b"")
        reply.pauses[len(reply.pieces) - 1] = 0.05
        server.queue(reply)
    server.queue(
        Reply.json({"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": []})
    )

    async def three_calls() -> None:
        for _ in range(2):
            stream = await ritellm.acompletion("openai/m", USER, base_url=server.base_url, stream=True)
            async with stream:
                assert [chunk async for chunk in stream]
        await ritellm.acompletion("openai/m", USER, base_url=server.base_url)

    try:
        if caller.is_async:
            caller.run(three_calls)
        else:
            for _ in range(2):
                with ritellm.completion("openai/m", USER, base_url=server.base_url, stream=True) as stream:
                    assert list(stream)
            ritellm.completion("openai/m", USER, base_url=server.base_url)
    finally:
        ritellm.close()
    assert len({recorded.client for recorded in server.requests}) == 1, [r.client for r in server.requests]
