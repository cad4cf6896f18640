# The clients live in their own venv (`just clients`), not where mypy runs.
# mypy: disable-error-code="import-not-found"
"""smolagents on LiteLLM: ``LiteLLMModel`` and ``LiteLLMRouterModel``, alone and driving agents.

``LiteLLMModel`` keeps the ``litellm`` module itself as its client and calls
``litellm.completion``; ``LiteLLMRouterModel`` builds a ``litellm.router.Router``. The agents
run here: a ToolCallingAgent (a tool call, then the ``final_answer`` tool) and a CodeAgent (a
``<code>`` block calling a tool, then one calling ``final_answer``), each with and without
streaming, and a CodeAgent asking for structured output.

Run as ``python tests/clients/scenario_smolagents.py --mode litellm|ritellm --out FILE``
(``tests/clients/harness.py`` says what the steps record).
"""

import sys

if sys.argv[sys.argv.index("--mode") + 1] == "ritellm":
    import ritellm

    ritellm.install_as_litellm()

import json  # noqa: E402
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
from smolagents import (  # noqa: E402
    CodeAgent,
    LiteLLMModel,
    LiteLLMRouterModel,
    ToolCallingAgent,
    tool,
)
from smolagents.agents import AgentGenerationError  # noqa: E402
from smolagents.models import ChatMessage, agglomerate_stream_deltas  # noqa: E402
from smolagents.monitoring import LogLevel  # noqa: E402

MODEL = "openai/gpt-4o-mini"
HELLO = [ChatMessage(role="user", content=[{"type": "text", "text": "Say hello in five words."}])]
HELLO_TEXT = "Hello there, it is nice."


@tool
def get_weather(city: str) -> str:
    """Get the weather in a city.

    Args:
        city: The city's name.
    """
    return f"Sunny in {city}"


def make_model(server: ScriptedServer, **options: Any) -> Any:
    # retry=False: smolagents waits a minute before retrying what looks like a rate limit.
    return LiteLLMModel(model_id=MODEL, api_base=server.base_url, api_key="sk-test", retry=False, **options)


def conversation_text(request: Request) -> str:
    """All the messages' text: smolagents sends tool results back as user messages."""
    parts = []
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(part.get("text", "") for part in content if isinstance(part, dict))
    return "\n".join(parts)


def usage_of(message: Any) -> Any:
    usage = message.token_usage
    return None if usage is None else {"input": usage.input_tokens, "output": usage.output_tokens}


def tool_call_records(message: Any) -> list[dict[str, Any]]:
    return [
        {"id": call.id, "type": call.type, "name": call.function.name, "arguments": call.function.arguments}
        for call in message.tool_calls or []
    ]


def error_summary(error: BaseException) -> dict[str, Any]:
    """How a caller of smolagents' model sees a provider error: LiteLLM's classes (and the
    openai SDK's, which LiteLLM's derive from), the status and the provider."""
    return {
        "litellm_class": next(
            (
                name
                for name in (
                    "ContextWindowExceededError",
                    "AuthenticationError",
                    "BadRequestError",
                    "APIError",
                )
                if isinstance(error, getattr(litellm, name))
            ),
            None,
        ),
        "openai_status_error": isinstance(error, openai.APIStatusError),
        "status_code": getattr(error, "status_code", None),
        "llm_provider": getattr(error, "llm_provider", None),
    }


# -- the model alone -------------------------------------------------------------------------


@scenario.step("generate")
def generate(server: ScriptedServer) -> Any:
    server.responder = lambda request: text(HELLO_TEXT)
    message = make_model(server).generate(HELLO)
    assert message.content == HELLO_TEXT, message
    assert message.role == "assistant", message.role
    assert message.token_usage is not None and message.token_usage.input_tokens > 0, message.token_usage
    return {"content": message.content, "role": message.role, "usage": usage_of(message)}


@scenario.step("generate_with_options")
def generate_with_options(server: ScriptedServer) -> Any:
    # Model options given at construction go into every call, beside the stop sequences.
    server.responder = lambda request: text(HELLO_TEXT)
    model = make_model(server, temperature=0.2, max_tokens=64)
    message = model.generate(HELLO, stop_sequences=["Observation:"])
    return {"content": message.content, "usage": usage_of(message)}


@scenario.step("generate_stream")
def generate_stream(server: ScriptedServer) -> Any:
    server.responder = lambda request: text(HELLO_TEXT)
    start = server.mark()
    deltas = list(make_model(server).generate_stream(HELLO))
    (request,) = server.since(start)
    assert request.stream and request.include_usage, request.body
    contents = [delta.content for delta in deltas if delta.content]
    assert len(contents) > 1, f"the text came in {len(contents)} piece(s)"
    assert "".join(contents) == HELLO_TEXT, contents
    usages = [usage_of(delta) for delta in deltas if delta.token_usage is not None]
    assert len(usages) == 1, usages
    joined = agglomerate_stream_deltas(deltas)
    return {"contents": contents, "usage": usages[0], "joined": joined.content}


@scenario.step("generate_tool_call")
def generate_tool_call(server: ScriptedServer) -> Any:
    server.responder = lambda request: tool_calls(("get_weather", {"city": "Paris"}))
    message = make_model(server).generate(HELLO, tools_to_call_from=[get_weather])
    calls = tool_call_records(message)
    assert [(c["name"], json.loads(c["arguments"])) for c in calls] == [("get_weather", {"city": "Paris"})], (
        calls
    )
    return {"calls": calls, "content": message.content, "usage": usage_of(message)}


@scenario.step("generate_parallel_tool_calls")
def generate_parallel_tool_calls(server: ScriptedServer) -> Any:
    server.responder = lambda request: tool_calls(
        ("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})
    )
    message = make_model(server).generate(HELLO, tools_to_call_from=[get_weather])
    calls = tool_call_records(message)
    assert [json.loads(c["arguments"])["city"] for c in calls] == ["Paris", "Rome"], calls
    return calls


@scenario.step("generate_stream_tool_calls")
def generate_stream_tool_calls(server: ScriptedServer) -> Any:
    # A streamed call comes in fragments: the first with id, type and name, the rest with only
    # the index and a piece of the arguments; smolagents puts them back together.
    server.responder = lambda request: tool_calls(
        ("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})
    )
    deltas = list(make_model(server).generate_stream(HELLO, tools_to_call_from=[get_weather]))
    fragments = sum(len(delta.tool_calls or []) for delta in deltas)
    assert fragments > 2, f"{fragments} fragment(s)"
    message = agglomerate_stream_deltas(deltas)
    calls = tool_call_records(message)
    assert [json.loads(c["arguments"]) for c in calls] == [{"city": "Paris"}, {"city": "Rome"}], calls
    return {"calls": calls, "usage": usage_of(message)}


@scenario.step("generate_stream_with_empty_chunks")
def generate_stream_with_empty_chunks(server: ScriptedServer) -> Any:
    # smolagents raises "No content or tool calls in event" on a chunk that carries nothing;
    # LiteLLM yields none, and neither may ritellm.
    server.responder = lambda request: with_empty_chunks(
        request, tool_calls(("get_weather", {"city": "Paris"}), content="Looking.")
    )
    deltas = list(make_model(server).generate_stream(HELLO, tools_to_call_from=[get_weather]))
    message = agglomerate_stream_deltas(deltas)
    calls = tool_call_records(message)
    assert message.content == "Looking." and [json.loads(c["arguments"]) for c in calls] == [
        {"city": "Paris"}
    ]
    return {"content": message.content, "calls": calls}


@scenario.step("router_model")
def router_model(server: ScriptedServer) -> Any:
    server.responder = lambda request: text(HELLO_TEXT)
    model = LiteLLMRouterModel(
        model_id="scripted-group",
        model_list=[
            {
                "model_name": "scripted-group",
                "litellm_params": {"model": MODEL, "api_base": server.base_url, "api_key": "sk-test"},
            }
        ],
        client_kwargs={"num_retries": 0},
        retry=False,
    )
    message = model.generate(HELLO)
    streamed = agglomerate_stream_deltas(list(model.generate_stream(HELLO)))
    assert message.content == streamed.content == HELLO_TEXT, (message, streamed)
    return {"content": message.content, "usage": usage_of(message), "streamed_usage": usage_of(streamed)}


@scenario.step("auth_error")
def auth_error(server: ScriptedServer) -> Any:
    server.responder = invalid_api_key
    try:
        make_model(server).generate(HELLO)
    except Exception as error:
        summary = error_summary(error)
    else:
        raise AssertionError("no error")
    assert summary["litellm_class"] == "AuthenticationError", summary
    return summary


@scenario.step("context_window_error")
def context_window_error(server: ScriptedServer) -> Any:
    server.responder = context_length_exceeded
    try:
        make_model(server).generate(HELLO)
    except Exception as error:
        summary = error_summary(error)
    else:
        raise AssertionError("no error")
    assert summary["litellm_class"] == "ContextWindowExceededError", summary
    return summary


@scenario.step("stream_auth_error")
def stream_auth_error(server: ScriptedServer) -> Any:
    server.responder = invalid_api_key
    try:
        list(make_model(server).generate_stream(HELLO))
    except Exception as error:
        summary = error_summary(error)
    else:
        raise AssertionError("no error")
    assert summary["litellm_class"] == "AuthenticationError", summary
    return summary


# -- agents ----------------------------------------------------------------------------------


def tool_calling_answer(request: Request) -> Reply:
    assert [t["function"]["name"] for t in request.body.get("tools", [])] == ["get_weather", "final_answer"]
    if "Sunny in Paris" in conversation_text(request):
        return tool_calls(("final_answer", {"answer": "It is sunny in Paris."}))
    return tool_calls(("get_weather", {"city": "Paris"}))


def code_answer(request: Request) -> Reply:
    """A CodeAgent's model: code calling the tool, then code giving the final answer. The code
    block is left open, as a model stopped at the ``</code>`` stop sequence leaves it."""
    if "Sunny in Rome" in conversation_text(request):
        thought, code = "I have the weather.", 'final_answer(f"The weather: {weather}")'
    else:
        thought, code = "I will ask for the weather.", 'weather = get_weather(city="Rome")\nprint(weather)'
    if request.body.get("response_format"):
        return text(json.dumps({"thought": thought, "code": code}))
    return text(f"Thought: {thought}\n<code>\n{code}\n")


def run_summary(result: Any) -> dict[str, Any]:
    usage = result.token_usage
    return {
        "output": result.output,
        "state": result.state,
        "steps": len(result.steps),
        "usage": None if usage is None else {"input": usage.input_tokens, "output": usage.output_tokens},
    }


@scenario.step("tool_calling_agent")
def tool_calling_agent(server: ScriptedServer) -> Any:
    server.responder = tool_calling_answer
    start = server.mark()
    agent = ToolCallingAgent(
        tools=[get_weather], model=make_model(server), max_steps=3, verbosity_level=LogLevel.OFF
    )
    result = agent.run("What is the weather in Paris?", return_full_result=True)
    assert result.output == "It is sunny in Paris.", result.output
    assert len(server.since(start)) == 2, server.since(start)
    return run_summary(result)


@scenario.step("tool_calling_agent_streaming")
def tool_calling_agent_streaming(server: ScriptedServer) -> Any:
    server.responder = tool_calling_answer
    start = server.mark()
    agent = ToolCallingAgent(
        tools=[get_weather],
        model=make_model(server),
        max_steps=3,
        verbosity_level=LogLevel.OFF,
        stream_outputs=True,
    )
    result = agent.run("What is the weather in Paris?", return_full_result=True)
    assert result.output == "It is sunny in Paris.", result.output
    assert all(request.stream for request in server.since(start)), "a call did not stream"
    return run_summary(result)


@scenario.step("code_agent")
def code_agent(server: ScriptedServer) -> Any:
    server.responder = code_answer
    start = server.mark()
    agent = CodeAgent(
        tools=[get_weather], model=make_model(server), max_steps=3, verbosity_level=LogLevel.OFF
    )
    result = agent.run("What is the weather in Rome?", return_full_result=True)
    assert result.output == "The weather: Sunny in Rome", result.output
    requests = server.since(start)
    assert len(requests) == 2, requests
    assert requests[0].body.get("stop") == ["Observation:", "Calling tools:", "</code>"], requests[0].body
    return run_summary(result)


@scenario.step("code_agent_streaming")
def code_agent_streaming(server: ScriptedServer) -> Any:
    server.responder = code_answer
    agent = CodeAgent(
        tools=[get_weather],
        model=make_model(server),
        max_steps=3,
        verbosity_level=LogLevel.OFF,
        stream_outputs=True,
    )
    result = agent.run("What is the weather in Rome?", return_full_result=True)
    assert result.output == "The weather: Sunny in Rome", result.output
    return run_summary(result)


@scenario.step("code_agent_structured_output")
def code_agent_structured_output(server: ScriptedServer) -> Any:
    # The agent asks for a JSON schema (response_format) and reads the code out of the JSON.
    server.responder = code_answer
    start = server.mark()
    agent = CodeAgent(
        tools=[get_weather],
        model=make_model(server),
        max_steps=3,
        verbosity_level=LogLevel.OFF,
        use_structured_outputs_internally=True,
    )
    result = agent.run("What is the weather in Rome?", return_full_result=True)
    assert result.output == "The weather: Sunny in Rome", result.output
    assert server.since(start)[0].body["response_format"]["type"] == "json_schema"
    return run_summary(result)


@scenario.step("agent_auth_error")
def agent_auth_error(server: ScriptedServer) -> Any:
    # The agent wraps the model's error in its own and keeps LiteLLM's as the cause.
    server.responder = invalid_api_key
    agent = ToolCallingAgent(
        tools=[get_weather], model=make_model(server), max_steps=1, verbosity_level=LogLevel.OFF
    )
    try:
        for _ in agent.run("What is the weather in Paris?", stream=True):
            pass
    except AgentGenerationError as error:
        assert error.__cause__ is not None
        return error_summary(error.__cause__)
    raise AssertionError("no error")


scenario.run()
