"""What clients written against LiteLLM rely on: results read by key and attribute in any mix,
Pydantic's methods on them, LiteLLM's options given None, ``headers=``, and
``install_as_litellm()`` with LiteLLM's exception classes, types and settings."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import ritellm
from tests.conftest import USER, Caller
from tests.server import FakeServer, Reply

TOOL_ANSWER = {
    "id": "chatcmpl-1",
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
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
                ],
                "refusal": None,
            },
            "finish_reason": "tool_calls",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
}


@pytest.fixture(autouse=True)
def openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


# Results: keys and attributes in any mix, at every level.


def test_complete_answers_mix_key_and_attribute_access_at_every_level(
    caller: Caller, server: FakeServer
) -> None:
    server.queue(Reply.json(TOOL_ANSWER))
    answer = caller.completion("openai/gpt-4o-mini", USER, base_url=server.base_url)
    assert answer["choices"][0].message.tool_calls[0]["function"].name == "f"
    assert answer.choices[0]["message"]["tool_calls"][0].function["arguments"] == '{"a": 1}'
    assert answer.get("usage").prompt_tokens == 5
    assert answer["choices"][0].get("message").get("tool_calls")[0].id == "call_1"
    assert answer.get("missing", "default") == "default"
    assert answer["choices"][0]["message"].content is None
    # Either way reaches the same record, made once.
    assert answer["choices"][0] is answer.choices[0]
    assert isinstance(answer["choices"][0]["message"], ritellm.types.Message)
    assert answer == TOOL_ANSWER


def test_chunks_mix_key_and_attribute_access(caller: Caller, server: FakeServer) -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    server.queue(
        Reply.sse(
            [
                {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]},
                {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            ]
        )
    )
    chunks = caller.stream("openai/m", USER, base_url=server.base_url)
    assert chunks[0]["choices"][0].delta.content == "Hi"
    assert chunks[0].choices[0]["delta"]["role"] == "assistant"
    assert chunks[-1].get("choices")[0].finish_reason == "stop"


def test_model_dump_and_its_kin_give_plain_dicts(server: FakeServer) -> None:
    server.queue(Reply.json(TOOL_ANSWER))
    answer: Any = ritellm.completion("openai/gpt-4o-mini", USER, base_url=server.base_url)
    message = answer.choices[0].message
    message.tool_calls[0].function.name  # noqa: B018  (makes the nested records)
    dumped = answer.model_dump()
    assert dumped == TOOL_ANSWER

    def plain(value: Any) -> bool:
        if isinstance(value, dict):
            return type(value) is dict and all(plain(v) for v in value.values())
        if isinstance(value, list):
            return type(value) is list and all(plain(v) for v in value)
        return True

    assert plain(dumped) and plain(answer.dict()) and plain(answer.to_dict())
    assert message.model_dump(exclude_none=True) == {
        "role": "assistant",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
        ],
    }
    assert answer.model_dump(include={"id", "model"}) == {"id": "chatcmpl-1", "model": "gpt-4o-mini"}
    assert "choices" not in answer.model_dump(exclude={"choices"})
    assert json.loads(answer.model_dump_json()) == TOOL_ANSWER == json.loads(answer.json())
    assert answer.to_json() == json.dumps(TOOL_ANSWER, indent=2, ensure_ascii=False)
    # The openai SDK's own types read what model_dump() gives.
    types = pytest.importorskip("openai.types.chat")
    assert types.ChatCompletion.model_validate(dumped).choices[0].message.tool_calls[0].id == "call_1"


# Options as LiteLLM's clients pass them.


@pytest.mark.parametrize(
    "option", ["custom_llm_provider", "base_model", "api_base", "num_retries", "headers"]
)
def test_litellm_options_given_none_are_not_given(caller: Caller, server: FakeServer, option: str) -> None:
    caller.completion("openai/m", USER, base_url=server.base_url, **{option: None})
    assert server.requests[0].json() == {"model": "m", "messages": USER}


def test_headers_are_sent_as_http_headers_below_extra_headers(caller: Caller, server: FakeServer) -> None:
    caller.completion(
        "openai/m",
        USER,
        base_url=server.base_url,
        headers={"User-Agent": "dspy/3", "x-both": "headers"},
        extra_headers={"X-Both": "extra_headers"},
    )
    sent = server.requests[0]
    assert sent.json() == {"model": "m", "messages": USER}
    assert sent.headers["user-agent"] == "dspy/3"
    assert sent.headers["x-both"] == "extra_headers"
    # One header of the name, whatever the case each gave it (the server's record keeps one).
    from ritellm._prepare import prepare

    prepared = prepare(
        "openai/m",
        USER,
        stream=False,
        base_url=server.base_url,
        additional_params=None,
        api_key="k",
        timeout=None,
        extra_headers={"X-Both": "extra_headers"},
        params={"headers": {"x-both": "headers"}},
    )
    assert [value for name, value in prepared.headers.items() if name.lower() == "x-both"] == [
        "extra_headers"
    ]


def test_retry_strategy_is_ritellms_backoff_or_refused_by_name(caller: Caller, server: FakeServer) -> None:
    caller.completion("openai/m", USER, base_url=server.base_url, retry_strategy="exponential_backoff_retry")
    assert server.requests[0].json() == {"model": "m", "messages": USER}
    with pytest.raises(ritellm.InvalidRequestError, match="retry_strategy='constant_retry'"):
        caller.completion("openai/m", USER, base_url=server.base_url, retry_strategy="constant_retry")
    assert len(server.requests) == 1


# install_as_litellm()


@pytest.fixture
def litellm() -> Iterator[Any]:
    """``litellm`` as install_as_litellm() makes it, for this test only: what was imported as
    litellm before is put back after, and the module's settings are reset."""
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "litellm"}
    for name in saved:
        del sys.modules[name]
    ritellm.install_as_litellm()
    import litellm as shim

    settings = {
        name: getattr(shim, name) for name in ("drop_params", "model_alias_map", "api_key", "api_base")
    }
    try:
        yield shim
    finally:
        for name, value in settings.items():
            setattr(shim, name, value)
        ritellm.cache = None
        for name in [name for name in sys.modules if name.split(".")[0] == "litellm"]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_import_ritellm_loads_nothing_of_it() -> None:
    code = (
        "import sys, ritellm; print(sorted(m for m in sys.modules if 'litellm' in m.replace('ritellm', '')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_litellm_and_its_submodules_are_ritellms_even_with_litellm_installed() -> None:
    code = """
import ritellm
ritellm.install_as_litellm()
ritellm.install_as_litellm()  # again: nothing more
import litellm, litellm.exceptions, litellm.types.utils, litellm.utils, litellm.main, litellm.router
from litellm import ModelResponse, ModelResponseStream, Router, completion
from litellm.types.utils import Delta, Usage
print(litellm.__name__, litellm.completion.__module__, litellm.router.Router.__mro__[1].__module__)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ritellm._litellm", "ritellm._litellm.main", "ritellm._router"]


def test_install_after_litellm_was_imported_is_refused() -> None:
    if importlib.util.find_spec("litellm") is None:  # the real one, a dev dependency; not imported here
        pytest.skip("LiteLLM is not installed")
    code = "import litellm, ritellm\nritellm.install_as_litellm()"
    offline = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # else LiteLLM fetches its prices
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=offline
    )
    assert result.returncode == 1
    assert "install_as_litellm() must be called before litellm is imported" in result.stderr


def test_results_and_chunks_are_litellms_types(litellm: Any, server: FakeServer) -> None:
    server.queue(Reply.json(TOOL_ANSWER))
    answer: Any = litellm.completion(
        model="openai/gpt-4o-mini", messages=USER, api_base=server.base_url, api_key="k"
    )
    call = answer.choices[0].message.tool_calls[0]
    assert isinstance(answer, litellm.ModelResponse) and isinstance(answer, ritellm.ChatCompletion)
    assert isinstance(call, litellm.types.utils.ChatCompletionMessageToolCall)
    assert isinstance(call.function, litellm.types.utils.Function)
    assert isinstance(answer.usage, litellm.Usage)
    stream = litellm.completion(
        model="openai/m", messages=USER, api_base=server.base_url, api_key="k", stream=True
    )
    assert isinstance(stream, litellm.CustomStreamWrapper)
    chunks = list(stream)
    assert chunks and all(type(c).__name__ == "ModelResponseStream" for c in chunks)
    # DSPy recognises LiteLLM's chunks by name and module.
    assert all(type(c).__module__.startswith("litellm") for c in chunks)
    assert isinstance(chunks[0].choices[0].delta, litellm.Delta)
    built = litellm.stream_chunk_builder(chunks)
    assert isinstance(built, litellm.ModelResponse) and built.choices[0].message.content == "echo: hello"
    assert litellm.stream_chunk_builder([]) is None
    # Results pickle with LiteLLM's classes only (DSPy's restricted cache reads no others),
    # their cost priced, as LiteLLM's are.
    assert type(answer._hidden_params) is dict and "response_cost" in answer._hidden_params
    again = _LiteLLMTypesOnly(io.BytesIO(pickle.dumps(answer))).load()
    assert again == answer and type(again) is type(answer)
    assert again._hidden_params == answer._hidden_params


@pytest.mark.parametrize(
    ("status", "litellm_name"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (403, "PermissionDeniedError"),
        (404, "NotFoundError"),
        (408, "Timeout"),
        (409, "APIError"),
        (413, "BadRequestError"),
        (418, "APIError"),
        (422, "BadRequestError"),
        (429, "RateLimitError"),
        (500, "InternalServerError"),
        (501, "APIError"),
        (502, "BadGatewayError"),
        (503, "ServiceUnavailableError"),
        (504, "Timeout"),
        (529, "InternalServerError"),
    ],
)
@pytest.mark.parametrize("sync", [True, False])
def test_errors_have_litellms_class_and_its_api_error_is_one_leaf(
    litellm: Any, server: FakeServer, status: int, litellm_name: str, sync: bool
) -> None:
    import asyncio

    body = {"error": {"message": "no", "type": "invalid_request_error", "param": None, "code": "c"}}
    server.answer = lambda recorded: Reply.json(body, status)
    arguments: dict[str, Any] = {
        "model": "openai/m",
        "messages": USER,
        "api_base": server.base_url,
        "api_key": "k",
        "num_retries": 0,
    }
    with pytest.raises(Exception) as raised:  # noqa: PT011, B017  (the class is what is checked)
        if sync:
            litellm.completion(**arguments)
        else:
            asyncio.run(litellm.acompletion(**arguments))
    error: Any = raised.value
    assert isinstance(error, getattr(litellm, litellm_name))
    assert error.llm_provider == "openai" and error.model == "m"
    # The provider's error object, where LiteLLM's class carries it.
    carried = {"message": "no", "type": "invalid_request_error", "param": None, "code": "c"}
    with_body = {"BadRequestError", "RateLimitError", "InternalServerError"}
    assert error.body == (carried if litellm_name in with_body else None)
    assert isinstance(error, ritellm.APIStatusError) and error.status_code == status
    # LiteLLM's APIError catches its own kind only: a client retrying on it retries no 401.
    assert isinstance(error, litellm.APIError) == (litellm_name == "APIError")
    # As LiteLLM's, each is the openai SDK's error too, for clients that catch those.
    openai = pytest.importorskip("openai")
    sdk_class = {"Timeout": openai.APITimeoutError, "APIError": openai.APIError}.get(litellm_name)
    assert isinstance(error, sdk_class or openai.APIStatusError)
    assert error.response.status_code == status
    assert len(server.requests) == 1


def test_errors_before_sending_and_mid_stream_have_litellms_classes(litellm: Any, server: FakeServer) -> None:
    with pytest.raises(litellm.BadRequestError) as raised:
        litellm.completion(model="nonesuch-model", messages=USER)
    assert "LLM Provider NOT provided" in str(raised.value)
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(
            model="openai/m", messages=USER, api_base=server.base_url, api_key="k", store=object()
        )
    context = {
        "error": {"message": "too long", "type": "invalid_request_error", "code": "context_length_exceeded"}
    }
    server.queue(Reply.json(context, 400))
    with pytest.raises(litellm.ContextWindowExceededError) as too_long:
        litellm.completion(model="openai/m", messages=USER, api_base=server.base_url, api_key="k")
    assert isinstance(too_long.value, litellm.BadRequestError)
    assert isinstance(too_long.value, ritellm.ContextWindowExceededError)
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    server.queue(Reply.sse([{**base, "choices": [{"index": 0, "delta": {"content": "Hi"}}]}], done=False))
    stream = litellm.completion(
        model="openai/m", messages=USER, api_base=server.base_url, api_key="k", stream=True
    )
    with pytest.raises(litellm.APIConnectionError) as cut:
        list(stream)
    # It says what happened, not the status LiteLLM's class carries (no HTTP error came).
    assert "HTTP 500" not in str(cut.value) and cut.value.status_code == 500
    with pytest.raises(litellm.BadRequestError, match="ritellm has no provider 'nonesuch'"):
        litellm.completion(model="nonesuch/m", messages=USER)


def test_streams_of_either_mode_are_custom_stream_wrappers(litellm: Any, server: FakeServer) -> None:
    import asyncio

    arguments = {
        "model": "openai/m",
        "messages": USER,
        "api_base": server.base_url,
        "api_key": "k",
        "stream": True,
    }
    with litellm.completion(**arguments) as stream:
        assert isinstance(stream, litellm.CustomStreamWrapper)
        assert next(stream).choices[0].delta.role == "assistant"

    async def read() -> list[Any]:
        stream = await litellm.acompletion(**arguments)
        assert isinstance(stream, litellm.CustomStreamWrapper)
        async with stream:
            return [chunk async for chunk in stream]

    assert (
        "".join(c.choices[0].delta.content or "" for c in asyncio.run(read()) if c.choices) == "echo: hello"
    )


def test_settings_are_read_at_each_call(litellm: Any, server: FakeServer) -> None:
    litellm.api_base, litellm.api_key = server.base_url, "sk-from-settings"
    litellm.model_alias_map = {"fast": "openai/gpt-4o-mini"}
    litellm.completion(model="fast", messages=USER)
    sent = server.requests[-1]
    assert (
        sent.json()["model"] == "gpt-4o-mini" and sent.headers["authorization"] == "Bearer sk-from-settings"
    )
    # A bare name of OpenAI's is OpenAI's, as in LiteLLM; custom_llm_provider puts its prefix.
    litellm.completion(model="gpt-4o-mini", messages=USER)
    litellm.completion(model="m", messages=USER, custom_llm_provider="openai")
    assert [r.json()["model"] for r in server.requests[-2:]] == ["gpt-4o-mini", "m"]
    assert litellm.get_llm_provider("gpt-4o-mini") == ("gpt-4o-mini", "openai", None, None)
    litellm.drop_params = True
    litellm.completion(model="anthropic/claude", messages=USER, api_key="sk-ant", seed=1, max_tokens=5)
    assert "seed" not in server.requests[-1].json()
    litellm.cache = litellm.Cache()
    assert ritellm.cache is litellm.cache
    first = litellm.completion(model="openai/m", messages=USER)
    again = litellm.completion(model="openai/m", messages=USER)
    assert again == first and again._hidden_params["cache_hit"] is True
    assert isinstance(again, litellm.ModelResponse)


def test_module_names_clients_read(litellm: Any) -> None:
    assert "tools" in litellm.OPENAI_CHAT_COMPLETION_PARAMS
    assert {"openai", "anthropic", "gemini", "bedrock"} <= set(litellm.provider_list)
    assert litellm.supports_function_calling("openai/gpt-4o-mini") is True
    assert litellm.get_model_info("openai/gpt-4o-mini")["litellm_provider"] == "openai"
    assert litellm.token_counter(model="gpt-4o-mini", text="hi there") == ritellm.token_counter(
        model="openai/gpt-4o-mini", text="hi there"
    )
    assert litellm.get_secret_bool("RITELLM_TEST_UNSET_VARIABLE") is None
    assert litellm._logging.verbose_logger.name == "LiteLLM"
    for name in ("suppress_debug_info", "set_verbose", "telemetry", "modify_params", "model_fallbacks"):
        assert hasattr(litellm, name)
    # LiteLLM's names for models work in its helpers as in its calls.
    assert litellm.supports_function_calling("gpt-4o") is True
    assert litellm.supports_reasoning("claude-sonnet-4-5") is ritellm.supports_reasoning(
        "anthropic/claude-sonnet-4-5"
    )
    assert litellm.get_model_info("gpt-4o-mini")["key"] == "openai/gpt-4o-mini"
    assert litellm.get_max_tokens("gpt-4o") == ritellm.get_max_tokens("openai/gpt-4o")
    assert "tools" in litellm.get_supported_openai_params(model="gpt-4o", custom_llm_provider="openai")
    assert litellm.validate_environment("gpt-4o") == ritellm.validate_environment("openai/gpt-4o")
    assert litellm.supports_function_calling("no-provider-knows-this") is False
    assert issubclass(litellm.Router, ritellm.Router)


def test_the_litellm_internals_langchain_litellm_asks(litellm: Any) -> None:
    # What a call would send, built by the core: Anthropic's thinking for a reasoning effort.
    mapped = litellm.get_optional_params(
        model="claude-sonnet-4-5", custom_llm_provider="anthropic", drop_params=True, reasoning_effort="high"
    )
    assert mapped["thinking"]["type"] == "enabled" and mapped["thinking"]["budget_tokens"] > 0
    assert "messages" not in mapped and "model" not in mapped
    fix = litellm.utils.validate_and_fix_thinking_param
    assert fix(True) == {"type": "enabled", "budget_tokens": 2048} and fix(False) is None
    assert fix({"type": "enabled", "budgetTokens": 10}) == {"type": "enabled", "budget_tokens": 10}
    configs = litellm.utils.ProviderConfigManager
    assert configs.get_provider_responses_api_config(provider="openai", model="gpt-4o") is not None
    assert configs.get_provider_responses_api_config(provider="anthropic", model="claude") is None
    bridge = litellm.main.responses_api_bridge_check
    assert bridge(model="o3-pro", custom_llm_provider="openai")[0]["mode"] == "responses"
    info, name = bridge(model="responses/gpt-4o", custom_llm_provider="openai")
    assert info["mode"] == "responses" and name == "gpt-4o"
    assert bridge(model="gpt-4o", custom_llm_provider="openai")[0]["mode"] == "chat"


def test_the_router_answers_and_fails_as_litellms(litellm: Any, server: FakeServer) -> None:
    router = litellm.Router(
        model_list=[
            {
                "model_name": "fast",
                "litellm_params": {"model": "openai/m", "api_base": server.base_url, "api_key": "k"},
            }
        ],
        num_retries=0,
    )
    answer = router.completion(model="fast", messages=USER)
    assert isinstance(answer, litellm.ModelResponse) and answer.choices[0].message.content == "echo: hello"
    chunks = list(router.completion(model="fast", messages=USER, stream=True))
    assert all(isinstance(chunk, litellm.ModelResponseStream) for chunk in chunks)
    server.answer = lambda recorded: Reply.json({"error": {"message": "bad key", "type": "x"}}, 401)
    with pytest.raises(litellm.AuthenticationError):
        router.completion(model="fast", messages=USER)


def test_a_responses_stream_fails_with_litellms_classes(litellm: Any, server: FakeServer) -> None:
    created = {
        "type": "response.created",
        "sequence_number": 0,
        "response": {"id": "resp_1", "status": "in_progress"},
    }
    server.queue(Reply.sse([created], done=False))
    stream = litellm.responses(
        input="Hi", model="openai/gpt-4o", api_base=server.base_url, api_key="k", stream=True
    )
    with pytest.raises(litellm.APIConnectionError):
        list(stream)


class _LiteLLMTypesOnly(pickle.Unpickler):
    """Reads back only LiteLLM's result classes, as DSPy's restricted disk cache does."""

    def find_class(self, module: str, name: str) -> Any:
        if not module.startswith("litellm.types."):
            raise pickle.UnpicklingError(f"{module}.{name} is not one of LiteLLM's types")
        return super().find_class(module, name)


def test_streamed_tool_calls_are_models_as_litellms(litellm: Any, server: FakeServer) -> None:
    pydantic = pytest.importorskip("pydantic")
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    first = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
    later = {"index": 0, "function": {"arguments": '{"a": 1}'}}
    server.queue(
        Reply.sse(
            [
                {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [first]}}]},
                {**base, "choices": [{"index": 0, "delta": {"tool_calls": [later]}}]},
                {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
            ]
        )
    )
    stream = litellm.completion(
        model="openai/m", messages=USER, api_base=server.base_url, api_key="k", stream=True
    )
    chunks = list(stream)
    fragments = [call for chunk in chunks for call in chunk.choices[0].delta.tool_calls or ()]
    # Not dicts (LangChain merges dicts key by key, and appends LiteLLM's models), yet read as
    # mappings too; every fragment has each key, None where the server did not repeat it.
    assert all(isinstance(f, pydantic.BaseModel) and not isinstance(f, dict) for f in fragments)
    assert [(f.id, f.type, f.function.name, f["function"]["arguments"]) for f in fragments] == [
        ("call_1", "function", "f", ""),
        (None, "function", None, '{"a": 1}'),
    ]
    # The chunks themselves stay JSON, as sent, and add up to the answer.
    assert json.loads(json.dumps(chunks[1]))["choices"][0]["delta"]["tool_calls"][0]["function"] == {
        "name": None,
        "arguments": '{"a": 1}',
    }
    built = litellm.stream_chunk_builder(chunks)
    assert built.choices[0].message.tool_calls[0].function.arguments == '{"a": 1}'


def test_errors_carry_the_answers_headers_without_the_key(litellm: Any, server: FakeServer) -> None:
    key = "sk-secret-0123456789abcdef"
    headers = {"x-request-id": "req_42", "retry-after": "7", "x-echo": f"Bearer {key}"}
    server.answer = lambda recorded: Reply.json({"error": {"message": "slow down"}}, 429, headers)
    with pytest.raises(litellm.RateLimitError) as raised:
        litellm.completion(
            model="openai/m", messages=USER, api_base=server.base_url, api_key=key, num_retries=0
        )
    error: Any = raised.value
    assert error.response_headers["x-request-id"] == "req_42" and key not in error.response_headers["x-echo"]
    # LiteLLM's errors carry the HTTP answer: clients read Retry-After and the request id there.
    assert error.response.status_code == 429
    assert error.response.headers["retry-after"] == "7" and error.response.headers["x-request-id"] == "req_42"
    assert key not in str(dict(error.response.headers))
