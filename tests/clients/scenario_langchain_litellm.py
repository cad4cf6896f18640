# The clients live in their own venv (`just clients`), not where mypy runs; litellm's exports are
# implicit.
# mypy: disable-error-code="import-not-found, untyped-decorator, attr-defined"
"""langchain-litellm on LiteLLM: ``ChatLiteLLM`` calls, streams, tools, structured output, errors.

Run as ``python tests/clients/scenario_langchain_litellm.py --mode litellm|ritellm --out FILE``
(``tests/clients/harness.py`` says what the steps record).
"""

import sys

if sys.argv[sys.argv.index("--mode") + 1] == "ritellm":
    import ritellm

    ritellm.install_as_litellm()

import functools  # noqa: E402
import json  # noqa: E402
import operator  # noqa: E402
import pathlib  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.clients.harness import Scenario  # noqa: E402
from tests.clients.server import (  # noqa: E402
    Reply,
    Request,
    ScriptedServer,
    context_length_exceeded,
    invalid_api_key,
    text,
    tool_calls,
    with_empty_chunks,
)

scenario = Scenario()

import litellm  # noqa: E402
import openai  # noqa: E402
from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage, ToolMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402
from langchain_litellm import ChatLiteLLM  # noqa: E402
from pydantic import BaseModel  # noqa: E402

MODEL = "gpt-4o-mini"
GREETING = "Hello! How can I help you today?"
PARIS = {"city": "Paris", "unit": "celsius"}
TOKYO = {"city": "Tokyo", "unit": "celsius"}


@tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """The current weather in a city."""
    return f"22 degrees {unit} in {city}"


class Person(BaseModel):
    """Someone named in the text."""

    name: str
    age: int


PERSON = {"name": "Grace Hopper", "age": 85}


def greet(request: Request) -> Reply:
    return text(GREETING)


def weather_calls(request: Request) -> Reply:
    """Two parallel calls on the first turn; a sentence once the tools have answered."""
    if request.tool_results():
        return text("Paris: 22C. Tokyo: 22C.")
    return tool_calls(("get_weather", PARIS), ("get_weather", TOKYO))


def person(request: Request) -> Reply:
    if request.body.get("tools"):
        return tool_calls((request.body["tools"][0]["function"]["name"], PERSON))
    return text(json.dumps(PERSON))


def usage_of(message: Any) -> Any:
    return dict(message.usage_metadata) if message.usage_metadata else None


def joined(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    return functools.reduce(operator.add, chunks)


@scenario.step("invoke")
def invoke(server: ScriptedServer) -> Any:
    server.responder = greet
    llm = ChatLiteLLM(model=MODEL, temperature=0.2, max_tokens=64)
    message = llm.invoke([SystemMessage("Be brief."), HumanMessage("Hi")])
    assert message.content == GREETING, message
    assert message.usage_metadata is not None and message.usage_metadata["total_tokens"] > 0, message
    return {"content": message.content, "usage": usage_of(message)}


@scenario.step("invoke_prefixed_model")
def invoke_prefixed_model(server: ScriptedServer) -> Any:
    server.responder = greet
    message = ChatLiteLLM(model="openai/gpt-4o-mini").invoke("Hi")
    assert message.content == GREETING, message
    return {"content": message.content}


@scenario.step("ainvoke")
async def ainvoke(server: ScriptedServer) -> Any:
    server.responder = greet
    message = await ChatLiteLLM(model=MODEL).ainvoke("Hi")
    assert message.content == GREETING, message
    return {"content": message.content, "usage": usage_of(message)}


@scenario.step("stream")
def stream(server: ScriptedServer) -> Any:
    server.responder = greet
    chunks = list(ChatLiteLLM(model=MODEL).stream("Hi"))
    assert len(chunks) > 2, chunks
    message = joined(chunks)
    assert message.content == GREETING, message
    return {"content": message.content}


@scenario.step("stream_with_empty_chunks")
def stream_with_empty_chunks(server: ScriptedServer) -> Any:
    server.responder = lambda request: with_empty_chunks(request, text(GREETING))
    chunks = list(ChatLiteLLM(model=MODEL).stream("Hi"))
    message = joined(chunks)
    assert message.content == GREETING, message
    return {"content": message.content, "chunks": len(chunks)}


@scenario.step("stream_with_usage")
def stream_with_usage(server: ScriptedServer) -> Any:
    server.responder = greet
    llm = ChatLiteLLM(model=MODEL, stream_options={"include_usage": True})
    message = joined(list(llm.stream("Hi")))
    assert message.content == GREETING, message
    assert message.usage_metadata is not None and message.usage_metadata["total_tokens"] > 0, message
    return {"content": message.content, "usage": usage_of(message)}


@scenario.step("astream")
async def astream(server: ScriptedServer) -> Any:
    server.responder = greet
    chunks = [chunk async for chunk in ChatLiteLLM(model=MODEL).astream("Hi")]
    message = joined(chunks)
    assert message.content == GREETING, message
    return {"content": message.content}


@scenario.step("bind_tools_invoke")
def bind_tools_invoke(server: ScriptedServer) -> Any:
    server.responder = weather_calls
    llm = ChatLiteLLM(model=MODEL).bind_tools([get_weather])
    message = llm.invoke("Weather in Paris and Tokyo?")
    calls = [(call["name"], call["args"]) for call in message.tool_calls]
    assert calls == [("get_weather", PARIS), ("get_weather", TOKYO)], message
    return calls


@scenario.step("bind_tools_stream")
def bind_tools_stream(server: ScriptedServer) -> Any:
    # The arguments arrive in pieces, the call's id and name with the first only: the joined
    # message must hold each call whole.
    server.responder = weather_calls
    llm = ChatLiteLLM(model=MODEL).bind_tools([get_weather])
    chunks = list(llm.stream("Weather in Paris and Tokyo?"))
    assert len(chunks) > 3, chunks
    message = joined(chunks)
    calls = [(call["name"], call["args"]) for call in message.tool_calls]
    assert calls == [("get_weather", PARIS), ("get_weather", TOKYO)], message
    assert all(call["id"] for call in message.tool_calls), message.tool_calls
    assert not message.invalid_tool_calls, message.invalid_tool_calls
    return calls


@scenario.step("tool_round_trip")
def tool_round_trip(server: ScriptedServer) -> Any:
    # The calls go back with the tools' answers: the second request carries both.
    server.responder = weather_calls
    llm = ChatLiteLLM(model=MODEL).bind_tools([get_weather])
    history: list[Any] = [HumanMessage("Weather in Paris and Tokyo?")]
    first = llm.invoke(history)
    history.append(first)
    for call in first.tool_calls:
        history.append(ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"]))
    second = llm.invoke(history)
    assert second.content == "Paris: 22C. Tokyo: 22C.", second
    return second.content


@scenario.step("with_structured_output_json_schema")
def with_structured_output_json_schema(server: ScriptedServer) -> Any:
    server.responder = person
    found = ChatLiteLLM(model=MODEL).with_structured_output(Person).invoke("Grace Hopper, 85")
    assert isinstance(found, Person) and found.model_dump() == PERSON, found
    return found.model_dump()


@scenario.step("with_structured_output_function_calling")
def with_structured_output_function_calling(server: ScriptedServer) -> Any:
    server.responder = person
    llm = ChatLiteLLM(model=MODEL).with_structured_output(Person, method="function_calling")
    found = llm.invoke("Grace Hopper, 85")
    assert isinstance(found, Person) and found.model_dump() == PERSON, found
    return found.model_dump()


@scenario.step("with_structured_output_json_mode")
def with_structured_output_json_mode(server: ScriptedServer) -> Any:
    server.responder = person
    found = (
        ChatLiteLLM(model=MODEL).with_structured_output(Person, method="json_mode").invoke("Grace Hopper, 85")
    )
    assert isinstance(found, Person) and found.model_dump() == PERSON, found
    return found.model_dump()


@scenario.step("use_responses_api_invoke")
def use_responses_api_invoke(server: ScriptedServer) -> Any:
    # LiteLLM carries the chat call over OpenAI's Responses API (/v1/responses) and back.
    server.responder = greet
    start = server.mark()
    message = ChatLiteLLM(model=MODEL, use_responses_api=True).invoke("Hi")
    assert message.text == GREETING, message
    assert [request.endpoint for request in server.since(start)] == ["responses"]
    return {"text": message.text}


@scenario.step("use_responses_api_stream")
def use_responses_api_stream(server: ScriptedServer) -> Any:
    server.responder = greet
    message = joined(list(ChatLiteLLM(model=MODEL, use_responses_api=True).stream("Hi")))
    assert message.text == GREETING, message
    return {"text": message.text}


@scenario.step("structured_output_for_claude_builds")
def structured_output_for_claude_builds(server: ScriptedServer) -> Any:
    # Binding a forced tool to a Claude model asks LiteLLM whether it would send thinking
    # (get_llm_provider, get_optional_params, validate_and_fix_thinking_param): no request.
    llm = ChatLiteLLM(model="anthropic/claude-sonnet-4-5", api_key="sk-ant-scripted")
    runnable = llm.with_structured_output(Person, method="function_calling")
    thinking = ChatLiteLLM(
        model="anthropic/claude-sonnet-4-5",
        api_key="sk-ant-scripted",
        model_kwargs={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    ).bind_tools([get_weather], tool_choice="required")
    return {"runnable": type(runnable).__name__, "tool_choice": thinking.kwargs.get("tool_choice")}


@scenario.step("authentication_error_not_retried")
def authentication_error_not_retried(server: ScriptedServer) -> Any:
    server.responder = invalid_api_key
    start = server.mark()
    # Retries allowed, so a 401 taken for a transient error would be sent again.
    llm = ChatLiteLLM(model=MODEL, api_key="sk-wrong-0000000000000000000000000000beef", max_retries=3)
    try:
        llm.invoke("Hi")
    except litellm.AuthenticationError as exc:
        error: Exception = exc
    else:
        raise AssertionError("a 401 did not raise")
    sent = server.since(start)
    assert len(sent) == 1, f"the 401 was sent {len(sent)} times"
    assert sent[0].headers["authorization"] == "Bearer sk-wrong-0000000000000000000000000000beef"
    assert getattr(error, "status_code", None) == 401, error
    assert "Incorrect API key provided" in str(error), error
    return {
        "type": type(error).__name__,
        "status_code": getattr(error, "status_code", None),
        "llm_provider": getattr(error, "llm_provider", None),
    }


@scenario.step("authentication_error_is_openais")
def authentication_error_is_openais(server: ScriptedServer) -> Any:
    # LiteLLM's exceptions subclass the openai SDK's: code written for either catches them.
    server.responder = invalid_api_key
    try:
        ChatLiteLLM(model=MODEL, max_retries=1).invoke("Hi")
    except openai.AuthenticationError as exc:
        return type(exc).__name__
    except Exception as exc:
        raise AssertionError(f"not an openai.AuthenticationError: {type(exc).__mro__}") from exc
    raise AssertionError("a 401 did not raise")


@scenario.step("context_window_error")
def context_window_error(server: ScriptedServer) -> Any:
    server.responder = context_length_exceeded
    start = server.mark()
    try:
        ChatLiteLLM(model=MODEL, max_retries=3).invoke("Hi")
    except litellm.ContextWindowExceededError as exc:
        error: Exception = exc
    else:
        raise AssertionError("a 400 context_length_exceeded did not raise")
    assert isinstance(error, litellm.BadRequestError), type(error).__mro__
    assert len(server.since(start)) == 1, server.since(start)
    return {"type": type(error).__name__, "status_code": getattr(error, "status_code", None)}


scenario.run()
