"""``responses()`` on providers that speak only chat: Anthropic's, Gemini's and Bedrock's own
answers and streams (``tests/wire_formats.py``, ``tests/test_cloud_providers.py``) become
Responses objects and events that the openai SDK's types accept, and a conversation of
Responses items (thinking and tool calls included) becomes the provider's chat request."""

from __future__ import annotations

import json
from typing import Any, Callable

import pydantic
import pytest
from openai.types.responses import Response as SdkResponse
from openai.types.responses import ResponseStreamEvent as SdkStreamEvent

import ritellm
from tests import wire_formats
from tests.conftest import Caller
from tests.server import FakeServer, Reply
from tests.test_cloud_providers import converse_answer, converse_stream
from tests.test_responses import respond, respond_stream

EVENTS: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(SdkStreamEvent)
KEY = "sk-test-key"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}

#: provider -> (model, how to answer completely, how to stream, where its requests go)
PROVIDERS: dict[str, tuple[str, Callable[[str], Reply], Callable[[str], Reply]]] = {
    "anthropic": (
        "anthropic/claude-sonnet-4-5",
        wire_formats.anthropic_message,
        wire_formats.anthropic_stream,
    ),
    "gemini": ("gemini/gemini-2.5-flash", wire_formats.gemini_response, wire_formats.gemini_stream),
}


def summary(response: Any) -> list[Any]:
    """What a response says, without ids (Gemini's calls come without: each call invents its own)."""
    said: list[Any] = [response["status"], response["usage"]]
    for item in response["output"]:
        if item["type"] == "message":
            said.append(("message", [part.get("text") for part in item["content"]]))
        elif item["type"] == "function_call":
            said.append(("call", item["name"], json.loads(item["arguments"])))
        else:
            said.append((item["type"], item.get("encrypted_content")))
    return said


@pytest.mark.parametrize("scenario", sorted(wire_formats.SCENARIOS))
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_answers_and_streams_become_responses(
    caller: Caller, server: FakeServer, provider: str, scenario: str
) -> None:
    model, complete, stream = PROVIDERS[provider]
    server.queue(complete(scenario), stream(scenario))
    options = {"base_url": server.base_url.removesuffix("/v1"), "api_key": KEY, "tools": [WEATHER]}
    answer = respond(caller, model, "Weather in Paris?", **options)
    events, error = respond_stream(caller, model, "Weather in Paris?", **options)
    assert error is None
    SdkResponse.model_validate(answer)
    for event in events:
        EVENTS.validate_python(event)
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    assembled = ritellm.response_from_events(events)
    assert assembled == events[-1].response
    assert summary(assembled) == summary(answer)
    text, calls = wire_formats.SCENARIOS[scenario]
    assert answer.output_text == text
    called = [item for item in answer.output if item.type == "function_call"]
    assert [item.name for item in called] == [name for name, _ in calls]
    if provider == "anthropic":  # the provider's own ids, which its tool results name
        assert [item.call_id for item in called] == [f"toolu_{i}" for i in range(len(calls))]
    assert answer.tools == [WEATHER]  # the request's fields, repeated as OpenAI's responses do
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert deltas == text


def test_bedrock_answers_and_streams_become_responses(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-0123456789")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    server.queue(Reply.json(converse_answer("Sunny.", tool=True)), converse_stream())
    model = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"
    options = {"base_url": server.base_url.removesuffix("/v1"), "tools": [WEATHER]}
    answer = respond(caller, model, "Weather in Rome?", **options)
    SdkResponse.model_validate(answer)
    assert answer.output_text == "Sunny."
    (call,) = [item for item in answer.output if item.type == "function_call"]
    assert (call.call_id, call.name, json.loads(call.arguments)) == ("tooluse_1", "weather", {"city": "Rome"})
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (12, 3)
    events, error = respond_stream(caller, model, "Weather in Rome?", **options)
    assert error is None
    for event in events:
        EVENTS.validate_python(event)
    assert ritellm.response_from_events(events).output_text == "Sunny today."
    assert server.requests[-1].path.endswith("/converse-stream")


def test_a_conversation_of_items_becomes_the_providers_turns(server: FakeServer) -> None:
    server.queue(wire_formats.anthropic_message("text"))
    conversation: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
        {
            "type": "function_call",
            "call_id": "toolu_0",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        },
        {"type": "function_call_output", "call_id": "toolu_0", "output": '{"temperature_c": 18}'},
    ]
    ritellm.responses(
        "anthropic/claude-sonnet-4-5",
        conversation,
        instructions="Be brief.",
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
        max_output_tokens=300,
        base_url=server.base_url.removesuffix("/v1"),
        api_key=KEY,
    )
    sent = server.requests[-1].json()
    assert server.requests[-1].path == "/v1/messages"
    assert sent["system"] in ("Be brief.", [{"type": "text", "text": "Be brief."}])
    assert sent["max_tokens"] == 300
    assert sent["tools"][0]["name"] == "get_weather"
    assert sent["tool_choice"] == {"type": "tool", "name": "get_weather"}
    user, assistant, result = sent["messages"]
    assert user["role"] == "user"
    assert assistant["content"] == [
        {"type": "tool_use", "id": "toolu_0", "name": "get_weather", "input": {"city": "Paris"}}
    ]
    assert result["content"][0]["type"] == "tool_result"
    assert result["content"][0]["tool_use_id"] == "toolu_0"


def test_claudes_thinking_goes_on_across_turns(server: FakeServer) -> None:
    signature = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
    thinking = {
        "type": "thinking",
        "thinking": "The user wants Paris weather; call the tool.",
        "signature": signature,
    }
    tool_use = {"type": "tool_use", "id": "toolu_7", "name": "get_weather", "input": {"city": "Paris"}}
    server.queue(
        Reply.json(
            {
                "id": "msg_02",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [thinking, tool_use],
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": wire_formats.ANTHROPIC_USAGE,
            }
        ),
        wire_formats.anthropic_message("text"),
    )
    options: dict[str, Any] = {
        "base_url": server.base_url.removesuffix("/v1"),
        "api_key": KEY,
        "tools": [WEATHER],
        "reasoning": {"effort": "low"},
        "max_output_tokens": 4096,
    }
    question = [{"role": "user", "content": "Weather in Paris?"}]
    first = ritellm.responses("anthropic/claude-sonnet-4-5", question, **options)
    reasoning, call = first.output
    assert reasoning.type == "reasoning"
    assert reasoning.encrypted_content == signature
    assert reasoning.content == [{"type": "reasoning_text", "text": thinking["thinking"]}]
    assert (call.type, call.call_id) == ("function_call", "toolu_7")
    # The next turn: the answer's items sent back, and the tool's output.
    output = {"type": "function_call_output", "call_id": "toolu_7", "output": "18 °C"}
    ritellm.responses("anthropic/claude-sonnet-4-5", [*question, *first.output, output], **options)
    sent = server.requests[-1].json()
    assistant = sent["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == [thinking, tool_use]
    assert sent["thinking"]["type"] == "enabled"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("previous_response_id", "resp_123"),
        ("store", True),
        ("tools", [{"type": "web_search"}]),
    ],
)
def test_what_needs_a_server_that_stores_responses_is_refused_by_name(
    server: FakeServer, field: str, value: Any
) -> None:
    with pytest.raises(ritellm.InvalidRequestError, match=field if field != "tools" else "web_search"):
        ritellm.responses(
            "anthropic/claude-sonnet-4-5", "hi", base_url=server.base_url, api_key=KEY, **{field: value}
        )
    assert server.requests == []


def test_the_mock_provider_answers_through_its_chat_api() -> None:
    first = ritellm.responses("mock/echo", "hello")
    second = ritellm.responses("mock/echo", "hello")
    assert first.output_text == "hello"
    assert first.id != second.id  # ids derive from each call's nonce
    assert first.id.startswith("resp_")
