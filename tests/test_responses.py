"""The Responses API: ``responses()`` on servers that have it, against OpenAI's wire data
(``tests/responses_formats.py``) and the openai SDK as the oracle for requests and shapes; the
calls on stored responses; and ``completion()`` on models that answer only through it."""

from __future__ import annotations

import json
from typing import Any

import openai
import pydantic
import pytest
from openai.types.chat import ChatCompletion as SdkChatCompletion
from openai.types.chat import ChatCompletionChunk as SdkChatCompletionChunk
from openai.types.responses import Response as SdkResponse
from openai.types.responses import ResponseStreamEvent as SdkStreamEvent

import ritellm
from tests import responses_formats as wire
from tests.conftest import Caller
from tests.server import FakeServer, Recorded, Reply

EVENTS: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(SdkStreamEvent)
KEY = "sk-test-key"


def sse_reply(events: list[dict[str, Any]]) -> Reply:
    """A stream as OpenAI writes it, an event a piece."""
    return Reply(200, {"content-type": "text/event-stream"}, [wire.sse([event]) for event in events])


def respond(caller: Caller, *args: Any, **kwargs: Any) -> Any:
    if caller.is_async:
        return caller.run(lambda: ritellm.aresponses(*args, **kwargs))
    return ritellm.responses(*args, **kwargs)


def respond_stream(caller: Caller, *args: Any, **kwargs: Any) -> tuple[list[Any], Exception | None]:
    """The events a streamed call yields, and the exception that ended it early, if any."""
    events: list[Any] = []
    if caller.is_async:

        async def collect() -> Exception | None:
            try:
                async with await ritellm.aresponses(*args, stream=True, **kwargs) as stream:
                    async for event in stream:
                        events.append(event)
            except Exception as exc:
                return exc
            return None

        return events, caller.run(collect)
    try:
        with ritellm.responses(*args, stream=True, **kwargs) as stream:
            for event in stream:
                events.append(event)
    except Exception as exc:
        return events, exc
    return events, None


def body_of(request: Recorded) -> Any:
    return json.loads(request.body)


# -- requests: the same body as the openai SDK ---------------------------------------------------


class Weather(pydantic.BaseModel):
    city: str
    temperature_c: int


REQUESTS = {
    "text": dict(
        input="Tell me about Paris.",
        instructions="Answer in one sentence.",
        temperature=0.2,
        max_output_tokens=200,
        metadata={"user": "u1"},
    ),
    "tools": dict(
        input=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[wire.WEATHER_TOOL, wire.TIME_TOOL],
        tool_choice="auto",
        parallel_tool_calls=True,
    ),
    "reasoning": dict(
        input="Why is the sky blue?",
        reasoning={"effort": "high", "summary": "auto"},
        include=["reasoning.encrypted_content"],
        store=False,
    ),
    "replay": dict(input=wire.REPLAY_REQUEST["input"], tools=[wire.WEATHER_TOOL], top_p=0.9, user="u2"),
    "chained": dict(input="And tomorrow?", previous_response_id=wire.RESPONSE_TEXT["id"], truncation="auto"),
}


@pytest.mark.parametrize("case", sorted(REQUESTS))
@pytest.mark.parametrize("stream", [False, True])
def test_requests_are_the_openai_sdks(server: FakeServer, case: str, stream: bool) -> None:
    arguments = REQUESTS[case]
    reply = (lambda: sse_reply(wire.STREAM_TEXT)) if stream else (lambda: Reply.json(wire.RESPONSE_TEXT))
    server.queue(reply(), reply())
    # Given only when set: the SDK sends what it is given, `"stream": false` included.
    streaming = {"stream": True} if stream else {}
    with openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0) as client:
        sdk = client.responses.create(model="gpt-4.1", **streaming, **arguments)  # type: ignore[call-overload]
        if stream:
            list(sdk)
    ours = ritellm.responses(
        "openai/gpt-4.1", stream=stream, base_url=server.base_url, api_key=KEY, **arguments
    )
    if stream:
        list(ours)
    sent_by_sdk, sent_by_us = server.requests[-2:]
    assert (
        (sent_by_us.method, sent_by_us.path)
        == (sent_by_sdk.method, sent_by_sdk.path)
        == ("POST", "/v1/responses")
    )
    assert body_of(sent_by_us) == body_of(sent_by_sdk)
    assert sent_by_us.headers["authorization"] == f"Bearer {KEY}"


def test_text_format_is_the_sdks_parse(server: FakeServer) -> None:
    server.queue(Reply.json(wire.RESPONSE_STRUCTURED), Reply.json(wire.RESPONSE_STRUCTURED))
    with openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0) as client:
        parsed = client.responses.parse(model="gpt-4.1", input="Weather in Paris?", text_format=Weather)
    ours = ritellm.responses(
        "openai/gpt-4.1", "Weather in Paris?", text_format=Weather, base_url=server.base_url, api_key=KEY
    )
    assert body_of(server.requests[-1]) == body_of(server.requests[-2])
    assert Weather.model_validate_json(ours.output_text) == parsed.output_parsed


def test_text_format_takes_only_a_model() -> None:
    with pytest.raises(ritellm.InvalidRequestError, match="text_format takes a Pydantic model"):
        ritellm.responses("openai/gpt-4.1", "x", text_format={"type": "json_schema"}, api_key=KEY)


# -- answers and streams, as OpenAI sends them ---------------------------------------------------


@pytest.mark.parametrize("case", sorted(wire.RESPONSES))
def test_answers_pass_through_and_are_the_sdks_response(
    caller: Caller, server: FakeServer, case: str
) -> None:
    sent = wire.RESPONSES[case]
    server.queue(Reply.json(sent))
    result = respond(caller, "openai/o3", "hi", base_url=server.base_url, api_key=KEY)
    assert isinstance(result, ritellm.Response)
    assert result == sent
    sdk = SdkResponse.model_validate(result)
    assert result.output_text == sdk.output_text
    assert result.usage == sent.get("usage")
    assert [item.type for item in result.output] == [item["type"] for item in sent["output"]]


@pytest.mark.parametrize("case", sorted(wire.STREAMS))
def test_streams_pass_through_and_add_up_to_the_response(
    caller: Caller, server: FakeServer, case: str
) -> None:
    sent = wire.STREAMS[case]
    server.queue(sse_reply(sent))
    events, error = respond_stream(caller, "openai/o3", "hi", base_url=server.base_url, api_key=KEY)
    assert error is None
    assert events == sent
    assert all(isinstance(event, ritellm.ResponseStreamEvent) for event in events)
    for event in events:
        EVENTS.validate_python(event)
    assert ritellm.response_from_events(events) == wire.final_response(sent)


def test_an_error_event_is_yielded_then_raised_typed(caller: Caller, server: FakeServer) -> None:
    server.queue(sse_reply(wire.STREAM_ERROR))
    events, error = respond_stream(caller, "openai/o3", "hi", base_url=server.base_url, api_key=KEY)
    assert events == wire.STREAM_ERROR
    assert events[-1].type == "error"
    assert isinstance(error, ritellm.InternalServerError)
    assert wire.STREAM_ERROR_MESSAGE in str(error)
    # What arrived before the error still adds up: the text so far, still in progress.
    partial = ritellm.response_from_events(events)
    assert partial.status == "in_progress"
    assert partial.output_text == "".join(
        e["delta"] for e in events if e["type"] == "response.output_text.delta"
    )


def test_a_stream_cut_before_its_terminal_event_is_interrupted(caller: Caller, server: FakeServer) -> None:
    cut = wire.STREAM_TEXT[:-1]
    server.queue(sse_reply(cut))
    events, error = respond_stream(caller, "openai/o3", "hi", base_url=server.base_url, api_key=KEY)
    assert events == cut
    assert isinstance(error, ritellm.StreamInterruptedError)
    assert "response.completed" in str(error)


def test_a_stream_request_answered_whole_is_its_terminal_event(server: FakeServer) -> None:
    server.queue(Reply.json(wire.RESPONSE_INCOMPLETE))
    events = list(ritellm.responses("openai/o3", "hi", stream=True, base_url=server.base_url, api_key=KEY))
    assert [event.type for event in events] == ["response.incomplete"]
    assert ritellm.response_from_events(events) == wire.RESPONSE_INCOMPLETE


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        (
            wire.PREVIOUS_RESPONSE_NOT_FOUND_STATUS,
            wire.PREVIOUS_RESPONSE_NOT_FOUND_ERROR,
            ritellm.BadRequestError,
        ),
        (wire.UNAUTHORIZED_STATUS, wire.UNAUTHORIZED_ERROR, ritellm.AuthenticationError),
    ],
)
def test_error_answers_are_typed(
    caller: Caller, server: FakeServer, status: int, body: Any, error_class: type[ritellm.APIError]
) -> None:
    server.queue(Reply.json(body, status=status))
    with pytest.raises(error_class) as raised:
        respond(caller, "openai/o3", "hi", base_url=server.base_url, api_key=KEY, num_retries=0)
    assert raised.value.status_code == status
    assert body["error"]["message"] in str(raised.value)


def test_callbacks_see_responses_calls(server: FakeServer) -> None:
    seen: list[ritellm.CallEvent] = []
    ritellm.callbacks.append(seen.append)
    try:
        server.queue(Reply.json(wire.RESPONSE_REASONING), sse_reply(wire.STREAM_REASONING))
        ritellm.responses("openai/o3", "hi", base_url=server.base_url, api_key=KEY)
        list(ritellm.responses("openai/o3", "hi", stream=True, base_url=server.base_url, api_key=KEY))
    finally:
        ritellm.callbacks.remove(seen.append)
    usage = wire.RESPONSE_REASONING["usage"]
    assert [(event.operation, event.stream) for event in seen] == [("responses", False), ("responses", True)]
    for event in seen:
        assert event.exception is None
        assert event.usage is not None
        assert (event.usage.prompt_tokens, event.usage.completion_tokens) == (
            usage["input_tokens"],
            usage["output_tokens"],
        )
        assert event.usage.completion_tokens_details == {
            "reasoning_tokens": usage["output_tokens_details"]["reasoning_tokens"]
        }


# -- stored responses -----------------------------------------------------------------------------


def test_stored_responses(caller: Caller, server: FakeServer) -> None:
    response_id = wire.RESPONSE_TEXT["id"]
    options = {"base_url": server.base_url, "api_key": KEY}
    server.queue(
        Reply.json(wire.RETRIEVED),
        Reply.json(wire.DELETED),
        Reply.json(wire.CANCELLED),
        Reply.json(wire.INPUT_ITEMS),
    )
    if caller.is_async:

        async def calls() -> list[Any]:
            return [
                await ritellm.aget_response(response_id, **options),
                await ritellm.adelete_response(response_id, **options),
                await ritellm.acancel_response(response_id, **options),
                await ritellm.alist_input_items(response_id, limit=2, order="asc", **options),
            ]

        results = caller.run(calls)
    else:
        results = [
            ritellm.get_response(response_id, **options),
            ritellm.delete_response(response_id, **options),
            ritellm.cancel_response(response_id, **options),
            ritellm.list_input_items(response_id, limit=2, order="asc", **options),
        ]
    assert results == [wire.RETRIEVED, wire.DELETED, wire.CANCELLED, wire.INPUT_ITEMS]
    assert isinstance(results[0], ritellm.Response)
    sent = [(request.method, request.path, request.body) for request in server.requests[-4:]]
    assert sent == [
        ("GET", f"/v1/responses/{response_id}", b""),
        ("DELETE", f"/v1/responses/{response_id}", b""),
        ("POST", f"/v1/responses/{response_id}/cancel", b""),
        ("GET", f"/v1/responses/{response_id}/input_items?limit=2&order=asc", b""),
    ]


@pytest.mark.parametrize("response_id", ["../models", "resp_1/cancel", "resp 1", "resp_1?x=1", ""])
def test_a_stored_response_id_can_only_name_a_response(server: FakeServer, response_id: str) -> None:
    with pytest.raises(ritellm.InvalidRequestError, match="a response id is"):
        ritellm.get_response(response_id, base_url=server.base_url, api_key=KEY)
    assert server.requests == []


def test_providers_without_the_api_store_no_responses(server: FakeServer) -> None:
    with pytest.raises(ritellm.UnsupportedProviderError, match="anthropic/ stores no responses"):
        ritellm.get_response("resp_1", provider="anthropic", base_url=server.base_url, api_key=KEY)
    assert server.requests == []


def test_the_provider_table_says_which_rows_have_the_api() -> None:
    native = {p.prefix for p in ritellm.providers() if p.native_responses}
    assert {"openai", "azure", "xai", "groq", "openrouter", "hosted_vllm"} <= native
    assert "anthropic" not in native
    for provider in ritellm.providers():
        assert ("responses" in provider.operations) == ("chat" in provider.operations)


def test_azure_speaks_its_v1_api(server: FakeServer) -> None:
    server.queue(Reply.json(wire.RESPONSE_TEXT))
    root = server.base_url.removesuffix("/v1")
    ritellm.responses("azure/my-deployment", "hi", base_url=root, api_key=KEY)
    request = server.requests[-1]
    assert request.path == "/openai/v1/responses"
    assert request.headers["api-key"] == KEY
    assert body_of(request)["model"] == "my-deployment"


# -- completion() on models that answer only through Responses -------------------------------------

MESSAGES = [{"role": "user", "content": "Weather in Paris?"}]
CHAT_TOOLS = [
    {"type": "function", "function": {k: v for k, v in tool.items() if k != "type"}}
    for tool in (wire.WEATHER_TOOL, wire.TIME_TOOL)
]


@pytest.mark.parametrize("model", ["openai/o3-pro", "openai/responses/gpt-4.1", "openai/gpt-5-codex"])
def test_completion_goes_through_responses(caller: Caller, server: FakeServer, model: str) -> None:
    server.queue(Reply.json(wire.RESPONSE_TEXT))
    result = caller.completion(model, MESSAGES, base_url=server.base_url, api_key=KEY, max_tokens=50)
    request = server.requests[-1]
    assert request.path == "/v1/responses"
    body = body_of(request)
    assert body["model"] == model.rpartition("/")[2]
    # Messages as typed items, as OpenAI's reference writes them and LiteLLM sends them.
    assert body["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]}
    ]
    assert body["max_output_tokens"] == 50 and body["stream"] is False
    SdkChatCompletion.model_validate(result)
    message = result.choices[0].message
    assert message.content == wire.output_text_of(wire.RESPONSE_TEXT)
    assert result.choices[0].finish_reason == "stop"
    assert result.usage.prompt_tokens == wire.RESPONSE_TEXT["usage"]["input_tokens"]


def test_a_model_refused_on_chat_is_sent_through_responses_once(caller: Caller, server: FakeServer) -> None:
    server.queue(
        Reply.json(wire.RESPONSES_ONLY_MODEL_ERROR, status=wire.RESPONSES_ONLY_MODEL_STATUS),
        Reply.json(wire.RESPONSE_TEXT),
    )
    result = caller.completion("openai/o9-pro-preview", MESSAGES, base_url=server.base_url, api_key=KEY)
    assert [request.path for request in server.requests] == ["/v1/chat/completions", "/v1/responses"]
    assert result.choices[0].message.content == wire.output_text_of(wire.RESPONSE_TEXT)
    # Refused there too: the error is the server's, and nothing is sent a third time.
    server.reset()
    server.queue(
        Reply.json(wire.RESPONSES_ONLY_MODEL_ERROR, status=wire.RESPONSES_ONLY_MODEL_STATUS),
        Reply.json(wire.RESPONSES_ONLY_MODEL_ERROR, status=wire.RESPONSES_ONLY_MODEL_STATUS),
    )
    with pytest.raises(ritellm.NotFoundError, match="only supported in v1/responses"):
        caller.completion("openai/o9-pro-preview", MESSAGES, base_url=server.base_url, api_key=KEY)
    assert len(server.requests) == 2


def test_reasoning_and_tool_calls_survive_the_round_trip(server: FakeServer) -> None:
    server.queue(Reply.json(wire.REPLAY_FIRST), Reply.json(wire.RESPONSE_REPLAY))
    options: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": KEY,
        "tools": CHAT_TOOLS[:1],
        "include": ["reasoning.encrypted_content"],
        "store": False,
    }
    first = ritellm.completion("openai/responses/o3", MESSAGES, **options)
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    reasoning = [item for item in wire.REPLAY_FIRST["output"] if item["type"] == "reasoning"]
    calls = [item for item in wire.REPLAY_FIRST["output"] if item["type"] == "function_call"]
    assert message.reasoning_items == reasoning
    assert [(call.id, call.function.name, call.function.arguments) for call in message.tool_calls] == [
        (call["call_id"], call["name"], call["arguments"]) for call in calls
    ]
    outputs = [
        {"role": "tool", "tool_call_id": call["call_id"], "content": '{"temperature_c": 18}'}
        for call in calls
    ]
    second = ritellm.completion("openai/responses/o3", [*MESSAGES, dict(message), *outputs], **options)
    sent = body_of(server.requests[-1])
    kinds = [item.get("type", "message") for item in sent["input"]]
    assert kinds == [
        "message",
        "reasoning",
        *["function_call"] * len(calls),
        *["function_call_output"] * len(calls),
    ]
    assert sent["input"][1] == reasoning[0]  # encrypted_content included, as it came
    assert sent["input"][-1] == {
        "type": "function_call_output",
        "call_id": calls[-1]["call_id"],
        "output": '{"temperature_c": 18}',
    }
    assert sent["tools"] == [wire.WEATHER_TOOL]
    assert second.choices[0].message.content == wire.REPLAY_TEXT


def test_the_preamble_is_never_the_answer(server: FakeServer) -> None:
    server.queue(Reply.json(wire.RESPONSE_PREAMBLE_FINAL), sse_reply(wire.STREAM_PREAMBLE_CALL))
    answer = ritellm.completion("openai/responses/gpt-5", MESSAGES, base_url=server.base_url, api_key=KEY)
    assert answer.choices[0].message.content == wire.FINAL_ANSWER_TEXT
    chunks = list(
        ritellm.completion(
            "openai/responses/gpt-5", MESSAGES, stream=True, base_url=server.base_url, api_key=KEY
        )
    )
    streamed = ritellm.stream_chunk_builder(chunks).choices[0]
    assert wire.PREAMBLE_TEXT not in (streamed.message.content or "")
    assert streamed.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    "case", ["text", "reasoning", "function_call", "parallel_calls", "refusal", "incomplete"]
)
def test_streams_through_responses_are_chat_chunks(caller: Caller, server: FakeServer, case: str) -> None:
    final = wire.RESPONSES[case]
    server.queue(sse_reply(wire.STREAMS[case]), Reply.json(final))
    options = {"base_url": server.base_url, "api_key": KEY, "stream_options": {"include_usage": True}}
    chunks = caller.stream("openai/responses/o3", MESSAGES, **options)
    for chunk in chunks:
        SdkChatCompletionChunk.model_validate(chunk)
    streamed = ritellm.stream_chunk_builder(chunks)
    whole = caller.completion("openai/responses/o3", MESSAGES, base_url=server.base_url, api_key=KEY)
    assert streamed.choices[0].finish_reason == whole.choices[0].finish_reason
    for field in ("content", "refusal", "reasoning_content", "tool_calls", "reasoning_items"):
        assert streamed.choices[0].message.get(field) == whole.choices[0].message.get(field), field
    assert streamed.usage == whole.usage
    assert "stream_options" not in body_of(server.requests[-2])


def test_a_failed_response_through_chat_is_a_typed_error(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply.json(wire.RESPONSE_FAILED), sse_reply(wire.STREAM_FAILED))
    with pytest.raises(ritellm.InternalServerError, match="server"):
        caller.completion(
            "openai/responses/o3", MESSAGES, base_url=server.base_url, api_key=KEY, max_retries=0
        )
    chunks, error = caller.stream_until_error(
        "openai/responses/o3", MESSAGES, base_url=server.base_url, api_key=KEY
    )
    assert isinstance(error, ritellm.InternalServerError)
    assert [chunk.choices[0].delta.role for chunk in chunks] == ["assistant"]  # what came before the failure


@pytest.mark.parametrize(
    ("model", "input", "needle"),
    [
        ("openai/gpt-4.1", 5, "input must be a string or a list of input items"),
        ("openai/gpt-4.1", [1, 2], "input must be a string or a list of input items"),
        (
            "openai/gpt-4.1",
            {"role": "user", "content": "hi"},
            "input must be a string or a list of input items",
        ),
        (
            "anthropic/claude-sonnet-4-5",
            [{"type": "item_reference", "id": "msg_1"}],
            "reference to a stored item",
        ),
        (
            "anthropic/claude-sonnet-4-5",
            [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}],
            "file_id",
        ),
    ],
)
def test_bad_input_is_refused_by_name_before_any_io(
    server: FakeServer, model: str, input: Any, needle: str
) -> None:
    with pytest.raises(ritellm.InvalidRequestError, match=needle):
        ritellm.responses(model, input, base_url=server.base_url, api_key=KEY)
    assert server.requests == []


def test_a_stream_with_built_in_tool_items_adds_up(server: FakeServer) -> None:
    search = {
        "id": "fs_1",
        "type": "file_search_call",
        "status": "completed",
        "queries": ["ritellm pricing"],
        "results": None,
    }
    final = {**wire.RESPONSE_TEXT, "output": [search, *wire.RESPONSE_TEXT["output"]]}
    events = [
        {
            "type": "response.created",
            "sequence_number": 0,
            "response": {**final, "status": "in_progress", "output": []},
        },
        {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0, "item": search},
        {"type": "response.output_item.done", "sequence_number": 2, "output_index": 0, "item": search},
        {"type": "response.completed", "sequence_number": 3, "response": final},
    ]
    assert ritellm.response_from_events(events) == final
    assert ritellm.response_from_events(events[:3]).output == [search]


def test_stored_calls_take_their_own_options_and_refuse_others(server: FakeServer) -> None:
    response_id = wire.RESPONSE_TEXT["id"]
    server.queue(Reply.json(wire.RETRIEVED))
    ritellm.get_response(
        response_id, include=["message.output_text.logprobs"], base_url=server.base_url, api_key=KEY
    )
    assert (
        server.requests[-1].path == f"/v1/responses/{response_id}?include%5B%5D=message.output_text.logprobs"
    )
    with pytest.raises(ritellm.InvalidRequestError, match="takes no options, not bogus"):
        ritellm.delete_response(response_id, bogus=1, base_url=server.base_url, api_key=KEY)
    assert len(server.requests) == 1


def test_max_retries_is_num_retries_and_never_a_body_field(server: FakeServer) -> None:
    server.queue(Reply.json(wire.UNAUTHORIZED_ERROR, status=500), Reply.json(wire.RESPONSE_TEXT))
    with pytest.raises(ritellm.InternalServerError):
        ritellm.responses("openai/o3", "hi", max_retries=0, base_url=server.base_url, api_key=KEY)
    assert "max_retries" not in body_of(server.requests[-1])
    assert len(server.requests) == 1


def test_callbacks_count_the_attempt_refused_on_chat(server: FakeServer) -> None:
    seen: list[ritellm.CallEvent] = []
    ritellm.callbacks.append(seen.append)
    try:
        server.queue(
            Reply.json(wire.RESPONSES_ONLY_MODEL_ERROR, status=wire.RESPONSES_ONLY_MODEL_STATUS),
            Reply.json(wire.RESPONSE_TEXT),
        )
        ritellm.completion("openai/o9-pro-preview", MESSAGES, base_url=server.base_url, api_key=KEY)
    finally:
        ritellm.callbacks.remove(seen.append)
    (event,) = seen
    assert (event.attempts, event.exception) == (2, None)
