# The clients live in their own venv (`just clients`), not where mypy runs.
# mypy: disable-error-code="import-not-found"
"""DSPy on LiteLLM: ``dspy.LM("openai/...", engine="litellm")`` through its modules and adapters.

DSPy 3.4 has a native engine of its own and takes it by default for ``openai/`` models; only
``engine="litellm"`` sends the calls through LiteLLM, so every LM here asks for it. DSPy's
response cache is off twice over (``cache=False`` on each LM, and no disk or memory cache at
all), so every call reaches the server; steps that make one call check that it did.

Run as ``python tests/clients/scenario_dspy.py --mode litellm|ritellm --out FILE``
(``tests/clients/harness.py`` says what the steps record).
"""

import sys

if sys.argv[sys.argv.index("--mode") + 1] == "ritellm":
    import ritellm

    ritellm.install_as_litellm()

import json  # noqa: E402
import pathlib  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
from typing import Any, Callable  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.clients.harness import Scenario  # noqa: E402
from tests.clients.server import (  # noqa: E402
    Error,
    Reply,
    Request,
    ScriptedServer,
    context_length_exceeded,
    embeddings,
    invalid_api_key,
    rate_limited,
    text,
    tool_calls,
)

scenario = Scenario()

import dspy  # noqa: E402

# Nothing may come from a cache: not DSPy's disk cache (which would outlive this process and
# answer the next run), not its memory cache.
dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)

MODEL = "openai/gpt-4o-mini"
CAPITALS = {
    "What is the capital of France?": "Paris",
    "What is the capital of Italy?": "Rome",
    "What is the capital of Spain?": "Madrid",
    "What is the capital of Japan?": "Tokyo",
}
LONG_ANSWER = "The capital of Spain is Madrid, on the Manzanares, at the very centre of the country."


def make_lm(server: ScriptedServer, **options: Any) -> Any:
    """An LM on LiteLLM, pointed at the server, that neither caches nor retries (a retry would
    wait, and would hide what the first answer did)."""
    settings: dict[str, Any] = {
        "api_base": server.base_url,
        "api_key": "sk-test",
        "cache": False,
        "engine": "litellm",
        "num_retries": 0,
    }
    settings.update(options)
    return dspy.LM(MODEL, **settings)


# -- answering as DSPy's adapters expect -----------------------------------------------------


def system_text(request: Request) -> str:
    for message in request.messages:
        if message.get("role") == "system":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def output_fields(request: Request) -> list[str]:
    """The output fields DSPy's system message lists, in order."""
    section = system_text(request).split("Your output fields are:", 1)
    if len(section) < 2:
        return []
    listed = section[1].split("All interactions will be structured", 1)[0]
    return re.findall(r"^\d+\. `([^`]+)`", listed, flags=re.MULTILINE)


def field_value(request: Request, field: str) -> Any:
    """A value in DSPy's input format: ``[[ ## field ## ]]`` then the value."""
    found = re.search(
        rf"\[\[ ## {re.escape(field)} ## \]\]\n(.*?)(?=\n\n\[\[ ## |\n\nRespond with|\Z)",
        request.last_user_text(),
        flags=re.DOTALL,
    )
    return found.group(1).strip() if found else None


def adapter_answer(request: Request, values: dict[str, Any]) -> Reply:
    """``values`` for the fields the request asks for, as JSON when the request asks for JSON
    (JSONAdapter's ``response_format``), else in ChatAdapter's ``[[ ## field ## ]]`` format."""
    fields = output_fields(request)
    missing = [name for name in fields if name not in values]
    assert not missing, f"no scripted value for {missing} (asked for {fields})"
    if request.body.get("response_format"):
        return text(json.dumps({name: values[name] for name in fields}))
    parts = []
    for name in fields:
        value = values[name]
        rendered = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"[[ ## {name} ## ]]\n{rendered}")
    parts.append("[[ ## completed ## ]]")
    return text("\n\n".join(parts))


def capital_answer(request: Request) -> Reply:
    question = field_value(request, "question") or ""
    city = CAPITALS.get(question)
    assert city is not None, f"unexpected question {question!r}"
    return adapter_answer(
        request, {"reasoning": f"It is well known that the answer is {city}.", "answer": city}
    )


def answering(values: dict[str, Any]) -> Callable[[Request], Reply]:
    return lambda request: adapter_answer(request, values)


def error_summary(error: BaseException) -> dict[str, Any]:
    """What a DSPy caller can read off an LM error: its DSPy class and its structured fields
    (``provider_code`` apart: the step ``error_provider_codes`` is about it alone)."""
    return {
        "type": type(error).__name__,
        "is_lm_error": isinstance(error, dspy.LMError),
        "status": getattr(error, "status", None),
        "provider": getattr(error, "provider", None),
        "has_request_id": bool(getattr(error, "request_id", None)),
    }


def predict_error(server: ScriptedServer, responder: Callable[[Request], Reply]) -> BaseException:
    server.responder = responder
    with dspy.context(lm=make_lm(server)):
        try:
            dspy.Predict("question -> answer")(question="What is the capital of France?")
        except dspy.LMError as error:
            return error
    raise AssertionError("no error")


# -- steps -----------------------------------------------------------------------------------


@scenario.step("predict")
def predict(server: ScriptedServer) -> Any:
    start = server.mark()
    server.responder = capital_answer
    with dspy.context(lm=make_lm(server), adapter=dspy.ChatAdapter()):
        prediction = dspy.Predict("question -> answer")(question="What is the capital of France?")
    assert prediction.answer == "Paris", prediction
    assert len(server.since(start)) == 1, "the call did not reach the server"
    return prediction.toDict()


@scenario.step("predict_twice_reaches_server_twice")
def predict_twice_reaches_server_twice(server: ScriptedServer) -> Any:
    start = server.mark()
    # The same question twice: with caching off both go to the server.
    server.responder = capital_answer
    start = server.mark()
    with dspy.context(lm=make_lm(server)):
        program = dspy.Predict("question -> answer")
        answers = [program(question="What is the capital of Italy?").answer for _ in range(2)]
    assert answers == ["Rome", "Rome"], answers
    assert len(server.since(start)) == 2, "a call was answered from a cache"
    return answers


@scenario.step("chain_of_thought")
def chain_of_thought(server: ScriptedServer) -> Any:
    server.responder = capital_answer
    with dspy.context(lm=make_lm(server)):
        prediction = dspy.ChainOfThought("question -> answer")(question="What is the capital of Spain?")
    assert prediction.answer == "Madrid", prediction
    assert prediction.reasoning.startswith("It is well known"), prediction
    return prediction.toDict()


@scenario.step("typed_signature")
def typed_signature(server: ScriptedServer) -> Any:
    class Facts(dspy.Signature):
        """Give facts about a country."""

        country: str = dspy.InputField()
        capital: str = dspy.OutputField()
        population_millions: float = dspy.OutputField()
        languages: list[str] = dspy.OutputField()

    server.responder = answering({"capital": "Paris", "population_millions": 68.4, "languages": ["French"]})
    with dspy.context(lm=make_lm(server, temperature=0.0, max_tokens=300)):
        prediction = dspy.Predict(Facts)(country="France")
    assert prediction.population_millions == 68.4 and prediction.languages == ["French"], prediction
    return prediction.toDict()


@scenario.step("json_adapter")
def json_adapter(server: ScriptedServer) -> Any:
    start = server.mark()
    # JSONAdapter asks LiteLLM whether the model takes response_format and a JSON schema
    # (get_supported_openai_params, supports_response_schema); the answers decide the body.
    server.responder = capital_answer
    with dspy.context(lm=make_lm(server), adapter=dspy.JSONAdapter()):
        prediction = dspy.ChainOfThought("question -> answer")(question="What is the capital of Japan?")
    assert prediction.answer == "Tokyo", prediction
    (request,) = server.since(start)
    return {
        "prediction": prediction.toDict(),
        "response_format_type": (request.body.get("response_format") or {}).get("type"),
    }


@scenario.step("chat_adapter_falls_back_to_json")
def chat_adapter_falls_back_to_json(server: ScriptedServer) -> Any:
    start = server.mark()

    # An answer ChatAdapter cannot parse makes it try again through JSONAdapter.
    def respond(request: Request) -> Reply:
        if request.body.get("response_format"):
            return adapter_answer(request, {"answer": "Paris"})
        return text("Paris, I think.")

    server.responder = respond
    with dspy.context(lm=make_lm(server), adapter=dspy.ChatAdapter()):
        prediction = dspy.Predict("question -> answer")(question="What is the capital of France?")
    assert prediction.answer == "Paris", prediction
    assert len(server.since(start)) == 2, server.since(start)
    return prediction.toDict()


@scenario.step("lm_direct_call")
def lm_direct_call(server: ScriptedServer) -> Any:
    server.responder = lambda request: text("Hello from the server.")
    lm = make_lm(server, temperature=0.5, max_tokens=50)
    outputs = lm("Say hello.")
    assert outputs == ["Hello from the server."], outputs
    # What DSPy keeps of the call: the provider's own response object, read by attribute.
    entry = lm.history[-1]
    response = entry["response"]
    assert response.choices[0].message.content == "Hello from the server."
    assert response.choices[0].finish_reason == "stop"
    assert (
        entry["usage"]["total_tokens"]
        == entry["usage"]["prompt_tokens"] + entry["usage"]["completion_tokens"]
    )
    return {
        "outputs": outputs,
        "response_model": entry["response_model"],
        "usage": {key: entry["usage"][key] for key in ("prompt_tokens", "completion_tokens", "total_tokens")},
    }


@scenario.step("lm_forward_raw_response")
def lm_forward_raw_response(server: ScriptedServer) -> Any:
    server.responder = lambda request: text("Raw hello.")
    response = make_lm(server).forward(messages=[{"role": "user", "content": "Say hello."}])
    choice = response.choices[0]
    return {
        "content": choice.message.content,
        "role": choice.message.role,
        "finish_reason": choice.finish_reason,
        "model": response.model,
        "total_tokens": response.usage.total_tokens,
    }


@scenario.step("history_cost")
def history_cost(server: ScriptedServer) -> Any:
    # DSPy records the call's price from LiteLLM's hidden params (response_cost).
    server.responder = capital_answer
    lm = make_lm(server)
    with dspy.context(lm=lm):
        dspy.Predict("question -> answer")(question="What is the capital of France?")
    cost = lm.history[-1]["cost"]
    assert isinstance(cost, float) and cost > 0, f"no price recorded: {cost!r}"
    # Compared between the runs: both price gpt-4o-mini from the same published rates.
    return {"cost": round(cost, 12)}


def cached_twice(server: ScriptedServer, **cache_settings: Any) -> Any:
    """The same call twice with DSPy's response cache on, in a cache made for this call alone
    (so nothing from an earlier run can answer): the first reaches the server, the second is
    answered by DSPy from what it kept of LiteLLM's response, copied or pickled."""
    server.responder = capital_answer
    start = server.mark()
    with tempfile.TemporaryDirectory(prefix="dspy-cache-") as folder:
        dspy.configure_cache(disk_cache_dir=folder, **cache_settings)
        try:
            lm = make_lm(server, cache=True)
            with dspy.context(lm=lm):
                program = dspy.ChainOfThought("question -> answer")
                first = program(question="What is the capital of Japan?")
                second = program(question="What is the capital of Japan?")
        finally:
            dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    assert len(server.since(start)) == 1, "the second call was not answered from DSPy's cache"
    assert second.toDict() == first.toDict(), (first, second)
    return {
        "prediction": second.toDict(),
        "cache_hit": bool(getattr(lm.history[-1]["response"], "cache_hit", False)),
    }


@scenario.step("response_cache_memory")
def response_cache_memory(server: ScriptedServer) -> Any:
    # The memory cache deep-copies the response and marks the copy (usage = {}, cache_hit).
    return cached_twice(server, enable_disk_cache=False, enable_memory_cache=True)


@scenario.step("response_cache_disk")
def response_cache_disk(server: ScriptedServer) -> Any:
    # The disk cache pickles the response and unpickles it for the second call.
    return cached_twice(server, enable_disk_cache=True, enable_memory_cache=False)


@scenario.step("response_cache_disk_restricted_pickle")
def response_cache_disk_restricted_pickle(server: ScriptedServer) -> Any:
    # DSPy's safe mode unpickles only classes from litellm.types.* and openai.types.*.
    return cached_twice(server, enable_disk_cache=True, enable_memory_cache=False, restrict_pickle=True)


@scenario.step("track_usage")
def track_usage(server: ScriptedServer) -> Any:
    start = server.mark()
    server.responder = capital_answer
    with dspy.context(lm=make_lm(server), track_usage=True):
        program = dspy.ChainOfThought("question -> answer")
        prediction = program(question="What is the capital of Italy?")
    usage = prediction.get_lm_usage()[MODEL]
    (request,) = server.since(start)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"], usage
    return {key: usage[key] for key in ("prompt_tokens", "completion_tokens", "total_tokens")}


@scenario.step("predict_acall")
async def predict_acall(server: ScriptedServer) -> Any:
    start = server.mark()
    server.responder = capital_answer
    with dspy.context(lm=make_lm(server)):
        prediction = await dspy.ChainOfThought("question -> answer").acall(
            question="What is the capital of Italy?"
        )
    assert prediction.answer == "Rome", prediction
    assert len(server.since(start)) == 1, "the call did not reach the server"
    return prediction.toDict()


@scenario.step("asyncify")
async def asyncify(server: ScriptedServer) -> Any:
    server.responder = capital_answer
    with dspy.context(lm=make_lm(server)):
        program = dspy.asyncify(dspy.Predict("question -> answer"))
        prediction = await program(question="What is the capital of Japan?")
    assert prediction.answer == "Tokyo", prediction
    return prediction.toDict()


@scenario.step("lm_acall")
async def lm_acall(server: ScriptedServer) -> Any:
    server.responder = lambda request: text("Async hello.")
    lm = make_lm(server)
    outputs = await lm.acall("Say hello.")
    assert outputs == ["Async hello."], outputs
    return outputs


async def collect_stream(program: Any, **inputs: Any) -> dict[str, Any]:
    chunks: list[dict[str, Any]] = []
    final = None
    other: list[str] = []
    async for value in program(**inputs):
        if isinstance(value, dspy.streaming.StreamResponse):
            chunks.append(
                {"field": value.signature_field_name, "chunk": value.chunk, "last": value.is_last_chunk}
            )
        elif isinstance(value, dspy.Prediction):
            final = value
        else:
            other.append(type(value).__name__)
    assert final is not None, "the stream ended without its prediction"
    return {"chunks": chunks, "prediction": final.toDict(), "other": other}


@scenario.step("streamify_listener")
async def streamify_listener(server: ScriptedServer) -> Any:
    start = server.mark()
    # The answer streams in OpenAI's small pieces; the listener gives back the answer field's
    # text piece by piece, without the [[ ## ... ## ]] markers around it.
    server.responder = answering({"answer": LONG_ANSWER})
    with dspy.context(lm=make_lm(server)):
        program = dspy.streamify(
            dspy.Predict("question -> answer"),
            stream_listeners=[dspy.streaming.StreamListener(signature_field_name="answer")],
        )
        streamed = await collect_stream(program, question="Where is the capital of Spain?")
    (request,) = server.since(start)
    assert request.stream, "the program did not stream"
    pieces = [c["chunk"] for c in streamed["chunks"] if c["field"] == "answer"]
    assert len(pieces) > 1, f"the answer came in {len(pieces)} piece(s): {streamed}"
    assert "".join(pieces).strip() == LONG_ANSWER, pieces
    assert streamed["chunks"][-1]["last"], streamed
    assert streamed["prediction"]["answer"] == LONG_ANSWER, streamed
    return streamed


@scenario.step("streamify_chain_of_thought_sync")
def streamify_chain_of_thought_sync(server: ScriptedServer) -> Any:
    # A sync stream (DSPy runs the async one in a thread) with listeners on two fields.
    server.responder = answering({"reasoning": "Spain's government sits in Madrid.", "answer": LONG_ANSWER})
    with dspy.context(lm=make_lm(server)):
        program = dspy.streamify(
            dspy.ChainOfThought("question -> answer"),
            stream_listeners=[
                dspy.streaming.StreamListener(signature_field_name="reasoning"),
                dspy.streaming.StreamListener(signature_field_name="answer"),
            ],
            async_streaming=False,
        )
        chunks = []
        final = None
        for value in program(question="Where is the capital of Spain?"):
            if isinstance(value, dspy.streaming.StreamResponse):
                chunks.append({"field": value.signature_field_name, "chunk": value.chunk})
            elif isinstance(value, dspy.Prediction):
                final = value
    assert final is not None and final.answer == LONG_ANSWER, final
    by_field = {
        field: "".join(c["chunk"] for c in chunks if c["field"] == field).strip()
        for field in ("reasoning", "answer")
    }
    assert by_field == {"reasoning": "Spain's government sits in Madrid.", "answer": LONG_ANSWER}, by_field
    return {"chunks": chunks, "prediction": final.toDict()}


@scenario.step("streamify_with_usage")
async def streamify_with_usage(server: ScriptedServer) -> Any:
    start = server.mark()
    # With usage tracking on, DSPy asks for the stream's usage chunk and counts it.
    server.responder = answering({"answer": LONG_ANSWER})
    with dspy.context(lm=make_lm(server), track_usage=True):
        program = dspy.streamify(
            dspy.Predict("question -> answer"),
            stream_listeners=[dspy.streaming.StreamListener(signature_field_name="answer")],
        )
        final = None
        async for value in program(question="Where is the capital of Spain?"):
            if isinstance(value, dspy.Prediction):
                final = value
    (request,) = server.since(start)
    assert request.include_usage, request.body
    assert final is not None
    usage = final.get_lm_usage()[MODEL]
    return {
        "answer": final.answer,
        "usage": {key: usage[key] for key in ("prompt_tokens", "completion_tokens", "total_tokens")},
    }


@scenario.step("streamify_without_listeners")
async def streamify_without_listeners(server: ScriptedServer) -> Any:
    # Without listeners DSPy hands out the LM's own chunks, as LiteLLM made them.
    server.responder = answering({"answer": "Rome"})
    with dspy.context(lm=make_lm(server)):
        program = dspy.streamify(dspy.Predict("question -> answer"))
        contents = []
        final = None
        async for value in program(question="What is the capital of Italy?"):
            if isinstance(value, dspy.Prediction):
                final = value
            else:
                contents.append(value.choices[0].delta.content)
    assert final is not None and final.answer == "Rome", final
    assert "".join(c or "" for c in contents).startswith("[[ ## answer ## ]]"), contents
    return {"answer": final.answer, "text": "".join(c or "" for c in contents)}


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def typed_request(prompt: str, tools: bool = False) -> Any:
    """DSPy 3.4's typed call: an lm15 Request in, an lm15 Response out. Under
    engine="litellm" DSPy converts it to LiteLLM's arguments and converts the response (or
    each streamed chunk, strictly) back."""
    return dspy.lm15.Request(
        model=MODEL,
        messages=(dspy.lm15.Message.user(prompt),),
        system="Be brief.",
        tools=(dspy.lm15.FunctionTool(**WEATHER_TOOL),) if tools else (),
    )


def typed_summary(response: Any) -> dict[str, Any]:
    return {
        "text": response.text,
        "finish_reason": response.finish_reason,
        "tool_calls": [{"name": call.name, "input": call.input} for call in response.tool_calls],
        "usage": [response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens],
    }


@scenario.step("typed_request")
def typed_request_step(server: ScriptedServer) -> Any:
    server.responder = lambda request: text("Typed hello.")
    response = make_lm(server)(typed_request("Say hello."))
    assert response.text == "Typed hello.", response
    return typed_summary(response)


@scenario.step("typed_request_tool_call")
async def typed_request_tool_call(server: ScriptedServer) -> Any:
    server.responder = lambda request: tool_calls(("get_weather", {"city": "Paris"}))
    response = await make_lm(server).acall(typed_request("Weather in Paris?", tools=True))
    assert [(call.name, call.input) for call in response.tool_calls] == [("get_weather", {"city": "Paris"})]
    return typed_summary(response)


@scenario.step("typed_request_stream")
async def typed_request_stream(server: ScriptedServer) -> Any:
    # A module making a typed call, streamed: DSPy reads LiteLLM's chunks into lm15 events
    # (refusing any delta field it has no mapping for) and assembles them with
    # stream_chunk_builder; the listeners' side gets DSPy's own chunks.
    server.responder = lambda request: tool_calls(
        ("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"}), content="Checking."
    )
    lm = make_lm(server)

    class Ask(dspy.Module):
        def forward(self) -> Any:
            return dspy.Prediction(response=lm(typed_request("Weather in Paris and Rome?", tools=True)))

    deltas = []
    final = None
    async for value in dspy.streamify(Ask())():
        if isinstance(value, dspy.Prediction):
            final = value
        else:
            deltas.append(value.choices[0].delta)
    assert final is not None
    summary = typed_summary(final.response)
    assert [call["input"] for call in summary["tool_calls"]] == [{"city": "Paris"}, {"city": "Rome"}], summary
    assert "".join(delta.get("content") or "" for delta in deltas) == "Checking.", deltas
    return {**summary, "deltas": len(deltas)}


def get_weather(city: str) -> str:
    """Get the weather in a city."""
    return f"Sunny in {city}"


@scenario.step("native_tool_calls")
def native_tool_calls(server: ScriptedServer) -> Any:
    start = server.mark()

    # ChatAdapter(use_native_function_calling=True) sends the tools as OpenAI tools (if LiteLLM
    # says the model supports function calling) and reads the calls off the message.
    class Plan(dspy.Signature):
        """Call tools to answer the question."""

        question: str = dspy.InputField()
        tools: list[dspy.Tool] = dspy.InputField()
        calls: dspy.ToolCalls = dspy.OutputField()

    server.responder = lambda request: tool_calls(("get_weather", {"city": "Paris"}))
    with dspy.context(lm=make_lm(server), adapter=dspy.ChatAdapter(use_native_function_calling=True)):
        prediction = dspy.Predict(Plan)(question="Weather in Paris?", tools=[dspy.Tool(get_weather)])
    (request,) = server.since(start)
    assert [t["function"]["name"] for t in request.body.get("tools", [])] == ["get_weather"], request.body
    calls = [{"name": c.name, "args": c.args} for c in prediction.calls.tool_calls]
    assert calls == [{"name": "get_weather", "args": {"city": "Paris"}}], calls
    assert [c.execute() for c in prediction.calls.tool_calls] == ["Sunny in Paris"]
    return calls


@scenario.step("react")
def react(server: ScriptedServer) -> Any:
    start = server.mark()

    def respond(request: Request) -> Reply:
        if "next_tool_name" in output_fields(request):
            if "observation_0" not in request.last_user_text():
                return adapter_answer(
                    request,
                    {
                        "next_thought": "I need the weather.",
                        "next_tool_name": "get_weather",
                        "next_tool_args": {"city": "Paris"},
                    },
                )
            return adapter_answer(
                request, {"next_thought": "I have it.", "next_tool_name": "finish", "next_tool_args": {}}
            )
        assert "Sunny in Paris" in request.last_user_text(), request.last_user_text()
        return adapter_answer(request, {"reasoning": "The tool said so.", "answer": "Sunny"})

    server.responder = respond
    with dspy.context(lm=make_lm(server)):
        prediction = dspy.ReAct("question -> answer", tools=[get_weather], max_iters=4)(
            question="What is the weather in Paris?"
        )
    assert prediction.answer == "Sunny", prediction
    assert prediction.trajectory["observation_0"] == "Sunny in Paris", prediction.trajectory
    assert len(server.since(start)) == 3, server.since(start)
    return {"answer": prediction.answer, "trajectory": prediction.trajectory}


@scenario.step("react_truncates_on_context_window")
def react_truncates_on_context_window(server: ScriptedServer) -> Any:
    start = server.mark()

    # ReAct catches dspy.ContextWindowExceededError (DSPy's name for LiteLLM's), drops the
    # oldest tool call from its trajectory and asks again.
    def respond(request: Request) -> Reply:
        said = request.last_user_text()
        if "next_tool_name" in output_fields(request):
            if "observation_0" in said and "observation_1" in said:
                return context_length_exceeded(request)
            if "observation_1" in said:
                return adapter_answer(
                    request, {"next_thought": "Enough.", "next_tool_name": "finish", "next_tool_args": {}}
                )
            city = "Lyon" if "observation_0" in said else "Paris"
            return adapter_answer(
                request,
                {
                    "next_thought": f"Now {city}.",
                    "next_tool_name": "get_weather",
                    "next_tool_args": {"city": city},
                },
            )
        return adapter_answer(request, {"reasoning": "Both are sunny.", "answer": "Sunny in both"})

    server.responder = respond
    with dspy.context(lm=make_lm(server)):
        prediction = dspy.ReAct("question -> answer", tools=[get_weather], max_iters=5)(
            question="Weather in Paris and Lyon?"
        )
    statuses = [request.status for request in server.since(start)]
    assert statuses == [200, 200, 400, 200, 200], statuses
    assert "observation_0" not in prediction.trajectory, prediction.trajectory
    return {"answer": prediction.answer, "trajectory": prediction.trajectory, "statuses": statuses}


@scenario.step("context_window_error")
def context_window_error(server: ScriptedServer) -> Any:
    server.responder = context_length_exceeded
    with dspy.context(lm=make_lm(server)):
        try:
            dspy.Predict("question -> answer")(question="What is the capital of France?")
        except dspy.ContextWindowExceededError as error:
            summary = error_summary(error)
        else:
            raise AssertionError("no error")
    assert summary["status"] == 400, summary
    return summary


@scenario.step("auth_error")
def auth_error(server: ScriptedServer) -> Any:
    server.responder = invalid_api_key
    with dspy.context(lm=make_lm(server)):
        try:
            dspy.Predict("question -> answer")(question="What is the capital of France?")
        except dspy.LMAuthError as error:
            summary = error_summary(error)
        else:
            raise AssertionError("no error")
    assert summary["status"] == 401, summary
    return summary


@scenario.step("rate_limit_error")
def rate_limit_error(server: ScriptedServer) -> Any:
    start = server.mark()
    # num_retries=0: DSPy would otherwise wait and retry a rate limit itself.
    server.responder = rate_limited
    with dspy.context(lm=make_lm(server)):
        try:
            dspy.Predict("question -> answer")(question="What is the capital of France?")
        except dspy.LMRateLimitError as error:
            summary = error_summary(error)
        else:
            raise AssertionError("no error")
    assert len(server.since(start)) == 1, "the rate limit was retried"
    return summary


@scenario.step("async_auth_error")
async def async_auth_error(server: ScriptedServer) -> Any:
    server.responder = invalid_api_key
    with dspy.context(lm=make_lm(server)):
        try:
            await dspy.Predict("question -> answer").acall(question="What is the capital of France?")
        except dspy.LMAuthError as error:
            return error_summary(error)
    raise AssertionError("no error")


@scenario.step("stream_context_window_error")
async def stream_context_window_error(server: ScriptedServer) -> Any:
    server.responder = context_length_exceeded
    with dspy.context(lm=make_lm(server)):
        program = dspy.streamify(
            dspy.Predict("question -> answer"),
            stream_listeners=[dspy.streaming.StreamListener(signature_field_name="answer")],
        )
        try:
            async for _ in program(question="What is the capital of France?"):
                pass
        except dspy.ContextWindowExceededError as error:
            return error_summary(error)
    raise AssertionError("no error")


@scenario.step("rate_limit_retry_after")
def rate_limit_retry_after(server: ScriptedServer) -> Any:
    # DSPy reads the wait it is told from the error (retry_after) or its response's headers.
    def respond(request: Request) -> Reply:
        limited = rate_limited(request)
        return Error(limited.status, limited.body, {**limited.headers, "retry-after": "7"})

    error = predict_error(server, respond)
    assert isinstance(error, dspy.LMRateLimitError), error
    return {**error_summary(error), "retry_after": error.retry_after}


@scenario.step("error_provider_codes")
def error_provider_codes(server: ScriptedServer) -> Any:
    # DSPy takes provider_code from the LiteLLM error's body (body["code"]); which errors carry
    # a body decides what DSPy callers see.
    return {
        responder.__name__: getattr(predict_error(server, responder), "provider_code", None)
        for responder in (context_length_exceeded, invalid_api_key, rate_limited)
    }


@scenario.step("embedder")
def embedder(server: ScriptedServer) -> Any:
    server.responder = embeddings
    embed = dspy.Embedder(
        "openai/text-embedding-3-small", caching=False, api_base=server.base_url, api_key="sk-test"
    )
    vectors = embed(["first text", "second text"])
    assert vectors.shape == (2, 8), vectors.shape
    return [[round(float(x), 6) for x in row] for row in vectors]


scenario.run()
