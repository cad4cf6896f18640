"""What calls cost and what models can do: ``completion_cost`` and ``cost_per_token`` against
prices copied by hand from the providers' pricing pages, every usage shape ritellm returns,
``register_model``, the ``supports_*`` questions, ``token_counter`` against OpenAI's documented
counting with tiktoken, ``get_supported_openai_params`` against real calls, and the cost that
reaches results and callbacks."""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ritellm
from ritellm import _model_table
from tests import responses_formats as responses_wire
from tests import wire_formats
from tests.server import FakeServer, Reply

KEY = "sk-test-key"
M = 1_000_000

#: (model, usage, expected USD): each expectation written out from the provider's published
#: prices per million tokens, not from ritellm's table.
CASES: list[tuple[str, dict[str, Any], float]] = [
    # OpenAI (openai.com/api/pricing): cached input is part of prompt_tokens.
    (
        "openai/gpt-4o",
        {
            "prompt_tokens": 10_000,
            "completion_tokens": 500,
            "prompt_tokens_details": {"cached_tokens": 4_000},
        },
        (6_000 * 2.50 + 4_000 * 1.25 + 500 * 10.00) / M,
    ),
    (
        "openai/gpt-4o-mini",
        {"prompt_tokens": 2_000, "completion_tokens": 1_000},
        (2_000 * 0.15 + 1_000 * 0.60) / M,
    ),
    # Azure OpenAI (azure.microsoft.com/pricing, global deployments): OpenAI's prices.
    (
        "azure/gpt-4o",
        {"prompt_tokens": 3_000, "completion_tokens": 300, "prompt_tokens_details": {"cached_tokens": 1_000}},
        (2_000 * 2.50 + 1_000 * 1.25 + 300 * 10.00) / M,
    ),
    (
        "openai/gpt-4.1",
        {
            "prompt_tokens": 50_000,
            "completion_tokens": 2_000,
            "prompt_tokens_details": {"cached_tokens": 40_000},
        },
        (10_000 * 2.00 + 40_000 * 0.50 + 2_000 * 8.00) / M,
    ),
    (
        "openai/gpt-4.1-mini",
        {"prompt_tokens": 1_000, "completion_tokens": 1_000},
        (1_000 * 0.40 + 1_000 * 1.60) / M,
    ),
    # Reasoning tokens are output tokens, part of completion_tokens.
    (
        "openai/o3",
        {
            "prompt_tokens": 1_200,
            "completion_tokens": 3_000,
            "completion_tokens_details": {"reasoning_tokens": 2_500},
        },
        (1_200 * 2.00 + 3_000 * 8.00) / M,
    ),
    (
        "openai/gpt-5",
        {"prompt_tokens": 8_000, "completion_tokens": 900, "prompt_tokens_details": {"cached_tokens": 6_000}},
        (2_000 * 1.25 + 6_000 * 0.125 + 900 * 10.00) / M,
    ),
    (
        "openai/gpt-5-mini",
        {
            "prompt_tokens": 20_000,
            "completion_tokens": 4_000,
            "prompt_tokens_details": {"cached_tokens": 10_000},
        },
        (10_000 * 0.25 + 10_000 * 0.025 + 4_000 * 2.00) / M,
    ),
    (
        "openai/gpt-4.1-nano",
        {"prompt_tokens": 100_000, "completion_tokens": 10_000},
        (100_000 * 0.10 + 10_000 * 0.40) / M,
    ),
    (
        "openai/o4-mini",
        {
            "prompt_tokens": 3_000,
            "completion_tokens": 2_000,
            "prompt_tokens_details": {"cached_tokens": 1_000},
            "completion_tokens_details": {"reasoning_tokens": 1_500},
        },
        (2_000 * 1.10 + 1_000 * 0.275 + 2_000 * 4.40) / M,
    ),
    # Groq (groq.com/pricing): GPT-OSS 120B.
    (
        "groq/openai/gpt-oss-120b",
        {"prompt_tokens": 10_000, "completion_tokens": 2_000},
        (10_000 * 0.15 + 2_000 * 0.60) / M,
    ),
    ("openai/text-embedding-3-small", {"prompt_tokens": 10_000, "total_tokens": 10_000}, 10_000 * 0.02 / M),
    # A Responses usage, priced the same way.
    (
        "openai/o3",
        {
            "input_tokens": 1_000,
            "input_tokens_details": {"cached_tokens": 800},
            "output_tokens": 400,
            "output_tokens_details": {"reasoning_tokens": 300},
            "total_tokens": 1_400,
        },
        (200 * 2.00 + 800 * 0.50 + 400 * 8.00) / M,
    ),
    # Anthropic (claude.com/pricing): cache writes 1.25x, reads 0.1x; prompt_tokens their total.
    (
        "anthropic/claude-sonnet-4-5",
        {
            "prompt_tokens": 3_000 + 20_000 + 5_000,
            "completion_tokens": 700,
            "cache_read_input_tokens": 20_000,
            "cache_creation_input_tokens": 5_000,
            "prompt_tokens_details": {"cached_tokens": 20_000, "cache_creation_tokens": 5_000},
        },
        (3_000 * 3.00 + 20_000 * 0.30 + 5_000 * 3.75 + 700 * 15.00) / M,
    ),
    # Above 200k input tokens the whole request is billed at the long-context rates.
    (
        "anthropic/claude-sonnet-4-5",
        {"prompt_tokens": 250_000, "completion_tokens": 1_000},
        (250_000 * 6.00 + 1_000 * 22.50) / M,
    ),
    (
        "anthropic/claude-haiku-4-5",
        {"prompt_tokens": 10_000, "completion_tokens": 2_000},
        (10_000 * 1.00 + 2_000 * 5.00) / M,
    ),
    (
        "anthropic/claude-opus-4-5",
        {
            "prompt_tokens": 2_000 + 10_000,
            "completion_tokens": 100,
            "cache_read_input_tokens": 10_000,
            "prompt_tokens_details": {"cached_tokens": 10_000},
        },
        (2_000 * 5.00 + 10_000 * 0.50 + 100 * 25.00) / M,
    ),
    # Gemini (ai.google.dev/gemini-api/docs/pricing): thinking tokens are output.
    (
        "gemini/gemini-2.5-flash",
        {
            "prompt_tokens": 4_000,
            "completion_tokens": 1_500,
            "completion_tokens_details": {"reasoning_tokens": 1_000},
        },
        (4_000 * 0.30 + 1_500 * 2.50) / M,
    ),
    (
        "gemini/gemini-2.5-pro",
        {
            "prompt_tokens": 100_000,
            "completion_tokens": 2_000,
            "prompt_tokens_details": {"cached_tokens": 80_000},
        },
        (20_000 * 1.25 + 80_000 * 0.125 + 2_000 * 10.00) / M,
    ),
    (
        "gemini/gemini-2.5-pro",
        {"prompt_tokens": 300_000, "completion_tokens": 2_000},
        (300_000 * 2.50 + 2_000 * 15.00) / M,
    ),
    (
        "vertex_ai/gemini-2.5-pro",
        {"prompt_tokens": 10_000, "completion_tokens": 1_000},
        (10_000 * 1.25 + 1_000 * 10.00) / M,
    ),
    # Bedrock (aws.amazon.com/bedrock/pricing): Claude at Anthropic's list prices, by model id
    # or cross-region profile.
    (
        "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
        {"prompt_tokens": 5_000, "completion_tokens": 500},
        (5_000 * 3.00 + 500 * 15.00) / M,
    ),
    (
        "bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
        {"prompt_tokens": 5_000, "completion_tokens": 500},
        (5_000 * 3.00 + 500 * 15.00) / M,
    ),
    # DeepSeek (api-docs.deepseek.com/quick_start/pricing): cache hits at a tenth.
    (
        "deepseek/deepseek-chat",
        {
            "prompt_tokens": 10_000,
            "completion_tokens": 1_000,
            "prompt_tokens_details": {"cached_tokens": 6_000},
        },
        (4_000 * 0.28 + 6_000 * 0.028 + 1_000 * 0.42) / M,
    ),
    # Mistral Large 3 (docs.mistral.ai).
    (
        "mistral/mistral-large-latest",
        {"prompt_tokens": 10_000, "completion_tokens": 1_000},
        (10_000 * 0.50 + 1_000 * 1.50) / M,
    ),
]


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    yield
    _model_table.unregister_all()


@pytest.fixture
def tiktoken_offline(monkeypatch: pytest.MonkeyPatch) -> Any:
    """tiktoken reading its encodings from the copies LiteLLM's wheel carries: no download."""
    tiktoken = pytest.importorskip("tiktoken")
    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations, "the dev extra installs litellm"
    cache = Path(spec.submodule_search_locations[0]) / "litellm_core_utils" / "tokenizers"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    from ritellm import _tokens

    _tokens._encoding.cache_clear()
    yield tiktoken
    _tokens._encoding.cache_clear()


def test_the_cases_span_enough_models_and_providers() -> None:
    models = {model for model, _, _ in CASES}
    assert len(models) >= 20
    assert len({model.partition("/")[0] for model in models}) >= 8


@pytest.mark.parametrize(("model", "usage", "expected"), CASES)
def test_costs_are_the_published_prices(model: str, usage: dict[str, Any], expected: float) -> None:
    answer = ritellm.types.ChatCompletion({"model": model.partition("/")[2], "usage": usage})
    assert math.isclose(ritellm.completion_cost(answer, model=model), expected, rel_tol=1e-9)
    prompt, completion = ritellm.cost_per_token(model, usage_object=usage)
    assert math.isclose(prompt + completion, expected, rel_tol=1e-9)


def test_cost_per_token_takes_the_classes_by_name() -> None:
    prompt, completion = ritellm.cost_per_token(
        "anthropic/claude-sonnet-4-5",
        prompt_tokens=1_000 + 2_000 + 500,
        completion_tokens=100,
        cache_read_input_tokens=2_000,
        cache_creation_input_tokens=500,
    )
    assert math.isclose(prompt, (1_000 * 3.00 + 2_000 * 0.30 + 500 * 3.75) / M)
    assert math.isclose(completion, 100 * 15.00 / M)
    assert ritellm.cost_per_token("claude-sonnet-4-5", 1_000, 0, custom_llm_provider="anthropic")[
        0
    ] == pytest.approx(1_000 * 3.00 / M)


def test_an_unknown_model_is_a_typed_error_naming_register_model() -> None:
    with pytest.raises(ritellm.UnknownModelError, match="register_model") as raised:
        ritellm.cost_per_token("openai/my-fine-tune", 10, 10)
    assert isinstance(raised.value, LookupError)
    assert "openai/my-fine-tune" in str(raised.value)
    with pytest.raises(ritellm.UnknownModelError):
        ritellm.get_model_info("nope/nothing")
    assert ritellm.supports_vision("openai/my-fine-tune") is False


def test_register_model_adds_and_overrides(tmp_path: Path) -> None:
    ritellm.register_model(
        {
            "openai/my-fine-tune": {
                "input_cost_per_token": 3e-06,
                "output_cost_per_token": 1.2e-05,
                "max_output_tokens": 4096,
            }
        }
    )
    assert ritellm.cost_per_token("openai/my-fine-tune", 1_000, 1_000) == pytest.approx((0.003, 0.012))
    assert ritellm.get_max_tokens("openai/my-fine-tune") == 4096
    # A negotiated price: merged over the table's entry, which keeps its other fields.
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 1e-06}}))
    ritellm.register_model(str(path))
    info = ritellm.get_model_info("openai/gpt-4o")
    assert info["input_cost_per_token"] == 1e-06
    assert info["output_cost_per_token"] == 10.00 / M
    assert info["key"] == "openai/gpt-4o" and info["litellm_provider"] == "openai"
    for bad in ({"x/y": {"input_cost_per_token": -1}}, {"x/y": {"max_input_tokens": 1.5}}, {"x/y": 3}):
        with pytest.raises(ritellm.InvalidRequestError, match="register_model"):
            ritellm.register_model(bad)  # type: ignore[arg-type]


def test_the_supports_questions_come_from_the_table() -> None:
    assert ritellm.supports_vision("openai/gpt-4o")
    assert ritellm.supports_function_calling("anthropic/claude-sonnet-4-5")
    assert ritellm.supports_reasoning("openai/o3")
    assert not ritellm.supports_reasoning("openai/gpt-4o")
    assert ritellm.supports_prompt_caching("anthropic/claude-sonnet-4-5")
    assert ritellm.supports_response_schema("gemini/gemini-2.5-flash")
    assert ritellm.supports_parallel_function_calling("openai/gpt-4o")
    assert ritellm.supports_vision("gpt-4o", custom_llm_provider="openai")
    assert ritellm.get_max_tokens("anthropic/claude-sonnet-4-5") == 64_000
    assert ritellm.get_model_info("gemini/gemini-2.5-pro")["max_input_tokens"] == 1_048_576


# -- the cost of real calls -----------------------------------------------------------------------


def test_results_know_their_origin_and_cost(server: FakeServer) -> None:
    # Groq serves a model named like OpenAI's: its answer is priced as Groq's.
    ritellm.register_model(
        {"groq/openai/gpt-oss-120b": {"input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07}}
    )
    ritellm.register_model(
        {"openai/gpt-oss-120b": {"input_cost_per_token": 9.0, "output_cost_per_token": 9.0}}
    )
    answer = ritellm.completion(
        "groq/openai/gpt-oss-120b",
        [{"role": "user", "content": "hello there"}],
        base_url=server.base_url,
        api_key=KEY,
    )
    usage = answer.usage
    assert usage is not None
    expected = usage.prompt_tokens * 1.5e-07 + usage.completion_tokens * 6e-07
    assert answer._hidden_params["custom_llm_provider"] == "groq"
    assert answer._hidden_params["model"] == "groq/openai/gpt-oss-120b"
    assert answer._hidden_params["response_cost"] == pytest.approx(expected)
    assert ritellm.completion_cost(answer) == pytest.approx(expected)


def test_anthropic_answers_priced_with_their_cache_classes(server: FakeServer) -> None:
    server.queue(wire_formats.anthropic_message("text"), wire_formats.anthropic_stream("text"))
    options: dict[str, Any] = {"base_url": server.base_url.removesuffix("/v1"), "api_key": KEY}
    answer = ritellm.completion("anthropic/claude-sonnet-4-5", [{"role": "user", "content": "hi"}], **options)
    sent = wire_formats.ANTHROPIC_USAGE
    expected = (
        sent["input_tokens"] * 3.00
        + sent["cache_read_input_tokens"] * 0.30
        + sent["cache_creation_input_tokens"] * 3.75
        + sent["output_tokens"] * 15.00
    ) / M
    assert ritellm.completion_cost(answer) == pytest.approx(expected)
    chunks = list(
        ritellm.completion(
            "anthropic/claude-sonnet-4-5",
            [{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
            **options,
        )
    )
    assembled = ritellm.stream_chunk_builder(chunks)
    assert ritellm.completion_cost(assembled, custom_llm_provider="anthropic") == pytest.approx(expected)


def test_gemini_answers_priced_with_their_cached_tokens(server: FakeServer) -> None:
    server.queue(wire_formats.gemini_response("text"), wire_formats.gemini_stream("text"))
    options: dict[str, Any] = {"base_url": server.base_url.removesuffix("/v1"), "api_key": KEY}
    model = "gemini/gemini-2.5-flash"
    answer = ritellm.completion(model, [{"role": "user", "content": "hi"}], **options)
    sent = wire_formats.GEMINI_USAGE
    cached = sent["cachedContentTokenCount"]
    expected = (
        (sent["promptTokenCount"] - cached) * 0.30 + cached * 0.03 + sent["candidatesTokenCount"] * 2.50
    ) / M
    assert ritellm.completion_cost(answer) == pytest.approx(expected)
    chunks = list(
        ritellm.completion(
            model,
            [{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
            **options,
        )
    )
    assembled = ritellm.stream_chunk_builder(chunks)
    assert ritellm.completion_cost(assembled, custom_llm_provider="gemini") == pytest.approx(expected)


def test_responses_and_embeddings_are_priced(server: FakeServer) -> None:
    server.queue(Reply.json(responses_wire.RESPONSE_REASONING))
    response = ritellm.responses("openai/o3", "hi", base_url=server.base_url, api_key=KEY)
    usage = responses_wire.RESPONSE_REASONING["usage"]
    cached = usage["input_tokens_details"]["cached_tokens"]
    expected = ((usage["input_tokens"] - cached) * 2.00 + cached * 0.50 + usage["output_tokens"] * 8.00) / M
    assert ritellm.completion_cost(response) == pytest.approx(expected)
    vectors = ritellm.embedding("mock/embedding", ["one", "two"])
    assert vectors._hidden_params["model"] == "mock/embedding"
    assert vectors._hidden_params["response_cost"] is None  # the mock has no price


def test_callbacks_see_the_cost_and_a_missing_price_is_none(server: FakeServer) -> None:
    seen: list[ritellm.CallEvent] = []
    ritellm.callbacks.append(seen.append)
    try:
        ritellm.completion(
            "openai/gpt-4o", [{"role": "user", "content": "price me"}], base_url=server.base_url, api_key=KEY
        )
        ritellm.completion(
            "openai/unpriced-model", [{"role": "user", "content": "x"}], base_url=server.base_url, api_key=KEY
        )
    finally:
        ritellm.callbacks.remove(seen.append)
    priced, unpriced = seen
    assert priced.usage is not None
    assert priced.cost == pytest.approx(
        (priced.usage.prompt_tokens * 2.50 + priced.usage.completion_tokens * 10.00) / M
    )
    assert unpriced.cost is None and unpriced.exception is None


def test_an_answer_without_usage_says_how_to_get_one() -> None:
    with pytest.raises(ritellm.InvalidRequestError, match="include_usage"):
        ritellm.completion_cost(
            ritellm.types.ChatCompletion({"model": "gpt-4o", "choices": []}), model="openai/gpt-4o"
        )


def test_completion_cost_of_text_counts_it() -> None:
    cost = ritellm.completion_cost(model="openai/gpt-4o", prompt="x" * 40, completion="y" * 8)
    prompt = ritellm.token_counter("openai/gpt-4o", text="x" * 40)
    completion = ritellm.token_counter("openai/gpt-4o", text="y" * 8)
    assert cost == pytest.approx((prompt * 2.50 + completion * 10.00) / M)


# -- tokens ---------------------------------------------------------------------------------------


def cookbook_count(
    tiktoken: Any, model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> int:
    """OpenAI's own recipe ("How to count tokens with tiktoken", gpt-4o and later), as written
    there: messages, then function definitions."""
    encoding = tiktoken.encoding_for_model(model) if model != "gpt-5" else tiktoken.get_encoding("o200k_base")
    num_tokens = 0
    for message in messages:
        num_tokens += 3
        for key, value in message.items():
            num_tokens += len(encoding.encode(value))
            if key == "name":
                num_tokens += 1
    num_tokens += 3
    func_init, prop_init, prop_key, enum_init, enum_item, func_end = 7, 3, 3, -3, 3, 12
    if tools:
        for tool in tools:
            function = tool["function"]
            num_tokens += func_init
            line = function["name"] + ":" + function["description"].rstrip(".")
            num_tokens += len(encoding.encode(line))
            properties = function["parameters"]["properties"]
            if properties:
                num_tokens += prop_init
                for key, spec in properties.items():
                    num_tokens += prop_key
                    if "enum" in spec:
                        num_tokens += enum_init
                        for item in spec["enum"]:
                            num_tokens += enum_item + len(encoding.encode(item))
                    num_tokens += len(
                        encoding.encode(f"{key}:{spec['type']}:{spec['description'].rstrip('.')}")
                    )
        num_tokens += func_end
    return num_tokens


MESSAGES = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant."},
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location.",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    },
                    "unit": {
                        "type": "string",
                        "description": "The unit of temperature",
                        "enum": ["celsius", "fahrenheit"],
                    },
                },
                "required": ["location"],
            },
        },
    }
]


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4o-mini", "gpt-5"])
def test_token_counter_is_openais_count(tiktoken_offline: Any, model: str) -> None:
    expected = cookbook_count(tiktoken_offline, model, MESSAGES, TOOLS)
    assert ritellm.token_counter(f"openai/{model}", messages=MESSAGES, tools=TOOLS) == expected
    assert ritellm.token_counter(model, messages=MESSAGES, tools=TOOLS) == expected
    assert ritellm.token_counter(f"openai/{model}", messages=MESSAGES) == cookbook_count(
        tiktoken_offline, model, MESSAGES, []
    )
    text = "Grüße aus Köln 👋"
    assert ritellm.token_counter(f"openai/{model}", text=text) == len(
        tiktoken_offline.get_encoding("o200k_base").encode(text)
    )


def test_images_count_as_openai_documents(tiktoken_offline: Any) -> None:
    import base64
    import struct
    import zlib

    def png(width: int, height: int) -> str:
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        chunk = b"IHDR" + header
        data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
        return "data:image/png;base64," + base64.b64encode(data).decode()

    def count(url: str, detail: str) -> int:
        content = [{"type": "image_url", "image_url": {"url": url, "detail": detail}}]
        return ritellm.token_counter("openai/gpt-4o", messages=[{"role": "user", "content": content}]) - 7

    # The vision guide's examples: 1024x1024 high is 4 tiles (765), 2048x4096 scales to
    # 768x1536, 6 tiles (1105); low detail is 85 whatever the size.
    assert count(png(1024, 1024), "high") == 765
    assert count(png(2048, 4096), "high") == 1105
    assert count(png(4096, 4096), "low") == 85


def test_elsewhere_counts_are_estimates_and_say_so() -> None:
    counted = ritellm.count_tokens("mistral/mistral-large-latest", [{"role": "user", "content": "x" * 400}])
    assert counted == ritellm.TokenCount(3 + 1 + 100 + 3, False, "estimate")
    assert ritellm.token_counter("mistral/mistral-large-latest", text="x" * 401) == 101


def test_count_tokens_uses_tiktoken_for_openai(tiktoken_offline: Any) -> None:
    counted = ritellm.count_tokens("openai/gpt-4o", MESSAGES)
    assert counted == ritellm.TokenCount(
        cookbook_count(tiktoken_offline, "gpt-4o", MESSAGES, []), True, "tiktoken"
    )


# -- what a call takes and needs -------------------------------------------------------------------


@pytest.mark.parametrize("model", ["anthropic/claude-sonnet-4-5", "gemini/gemini-2.5-flash", "openai/gpt-4o"])
def test_supported_params_are_what_calls_take(server: FakeServer, model: str) -> None:
    supported = set(ritellm.get_supported_openai_params(model))
    assert {"temperature", "max_tokens", "tools"} <= supported
    server.answer = lambda recorded: (
        wire_formats.anthropic_message("text")
        if "messages" in recorded.path
        else wire_formats.gemini_response("text")
        if ":generateContent" in recorded.path
        else None
    )
    base_url = server.base_url.removesuffix("/v1") if not model.startswith("openai/") else server.base_url
    for name, value in ritellm._api._OPENAI_PARAMS.items():
        options = {"base_url": base_url, "api_key": KEY, "max_retries": 0, name: value}
        if name in supported:
            ritellm.completion(model, [{"role": "user", "content": "hi"}], **options)
        else:
            with pytest.raises(ritellm.InvalidRequestError, match=name):
                ritellm.completion(model, [{"role": "user", "content": "hi"}], **options)


def test_validate_environment_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ritellm.validate_environment("openai/gpt-4o") == {
        "keys_in_environment": False,
        "missing_keys": ["OPENAI_API_KEY"],
    }
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert ritellm.validate_environment("openai/gpt-4o") == {"keys_in_environment": True, "missing_keys": []}
    assert ritellm.validate_environment("ollama/llama3.2")["keys_in_environment"] is True
    assert ritellm.validate_environment("azure/dep")["missing_keys"] == ["AZURE_API_KEY", "AZURE_API_BASE"]
    assert "CLOUDFLARE_ACCOUNT_ID" in ritellm.validate_environment("cloudflare/@cf/x")["missing_keys"]
    assert ritellm.validate_environment("bedrock/anthropic.claude")["missing_keys"] == [
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ]
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "token")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert ritellm.validate_environment("bedrock/anthropic.claude")["missing_keys"] == []
    with pytest.raises(ritellm.UnsupportedProviderError):
        ritellm.validate_environment("nope/x")


# -- counting at the provider -------------------------------------------------------------------

COUNT_MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
]
COUNT_TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
    }
]


@pytest.mark.parametrize("sync", [True, False])
def test_anthropic_counts_at_its_endpoint(server: FakeServer, sync: bool) -> None:
    import asyncio

    server.queue(Reply.json({"input_tokens": 14}))
    options: dict[str, Any] = {
        "base_url": server.base_url.removesuffix("/v1"),
        "api_key": KEY,
        "tools": COUNT_TOOLS,
    }
    model = "anthropic/claude-sonnet-4-5"
    if sync:
        counted = ritellm.count_tokens(model, COUNT_MESSAGES, **options)
    else:
        counted = asyncio.run(ritellm.acount_tokens(model, COUNT_MESSAGES, **options))
    assert counted == ritellm.TokenCount(14, True, "provider")
    request = server.requests[-1]
    assert request.path == "/v1/messages/count_tokens"
    assert request.headers["x-api-key"] == KEY and request.headers["anthropic-version"]
    body = request.json()
    assert body["model"] == "claude-sonnet-4-5"
    assert body["system"] in ("Be brief.", [{"type": "text", "text": "Be brief."}])
    assert (
        body["messages"] == [{"role": "user", "content": "Weather in Paris?"}]
        or body["messages"][0]["role"] == "user"
    )
    assert body["tools"][0]["name"] == "get_weather"
    assert "max_tokens" not in body and "stream" not in body


def test_gemini_and_bedrock_count_at_theirs(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    root = server.base_url.removesuffix("/v1")
    server.queue(
        Reply.json({"totalTokens": 31, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 31}]})
    )
    counted = ritellm.count_tokens("gemini/gemini-2.5-flash", COUNT_MESSAGES, base_url=root, api_key=KEY)
    assert counted.tokens == 31 and counted.method == "provider"
    request = server.requests[-1]
    assert request.path == "/v1beta/models/gemini-2.5-flash:countTokens"
    generate = request.json()["generateContentRequest"]
    assert generate["model"] == "models/gemini-2.5-flash"
    assert generate["contents"][0]["parts"] == [{"text": "Weather in Paris?"}]
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-0123456789")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    server.queue(Reply.json({"inputTokens": 9}))
    model = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"
    assert ritellm.count_tokens(model, COUNT_MESSAGES, base_url=root).tokens == 9
    request = server.requests[-1]
    assert request.path.endswith("/count-tokens")
    assert request.json()["input"]["converse"]["messages"][0]["content"] == [{"text": "Weather in Paris?"}]


def test_a_refused_count_is_the_providers_typed_error(server: FakeServer) -> None:
    server.queue(wire_formats.anthropic_error(401, "authentication_error", "invalid x-api-key"))
    with pytest.raises(ritellm.AuthenticationError, match="invalid x-api-key"):
        ritellm.count_tokens(
            "anthropic/claude-sonnet-4-5",
            COUNT_MESSAGES,
            base_url=server.base_url.removesuffix("/v1"),
            api_key=KEY,
        )
