"""Every provider of the core's table (``ritellm.providers()``): its default URL, key variable
and header, its base-URL variables, and a real call; and the test suite's own environment."""

from __future__ import annotations

import os
from typing import Any

import pytest

import ritellm
from ritellm import _models, _prepare
from tests.conftest import USER, Caller, clear_config_env
from tests.server import FakeServer, Reply
from tests.wire_formats import SCENARIOS, anthropic_message, gemini_response

#: The core's provider table, as ritellm.providers() gives it: the one place it is written.
#: Chat calls are tested here (embeddings in test_embedding.py): the providers that serve chat.
PROVIDERS = {provider.prefix: provider for provider in ritellm.providers() if "chat" in provider.operations}

#: Providers with their own protocol: (endpoint after the base for model "m", key header, key prefix).
NATIVE = {
    "anthropic": ("/messages", "x-api-key", ""),
    "gemini": ("/models/m:generateContent", "x-goog-api-key", ""),
    "azure": ("/openai/deployments/m/chat/completions?api-version=2024-10-21", "api-key", ""),
}
OPENAI_COMPATIBLE = [p.prefix for p in PROVIDERS.values() if p.protocol == "openai" and p.prefix != "mock"]


def prepare(model: str, **kwargs: Any) -> _models.Prepared:
    """The request a call would send, without sending it (the one internal this file uses)."""
    options: dict[str, Any] = {
        "stream": False,
        "base_url": None,
        "additional_params": None,
        "api_key": None,
        "timeout": None,
        "extra_headers": None,
        "params": {},
    }
    options.update(kwargs)
    return _prepare.prepare(model, USER, **options)


@pytest.mark.parametrize(
    "prefix",
    [p for p in OPENAI_COMPATIBLE if PROVIDERS[p].base_url and "{" not in (PROVIDERS[p].base_url or "")],
)
def test_default_url_and_key_header(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = PROVIDERS[prefix]
    if provider.key_env:
        monkeypatch.setenv(provider.key_env, f"key-for-{prefix}")
    prepared = prepare(f"{prefix}/some/model")
    assert prepared.url == f"{provider.base_url}/chat/completions"  # where the table says
    assert prepared.model == "some/model"
    assert prepared.headers["authorization"] == f"Bearer key-for-{prefix}"


@pytest.mark.parametrize("prefix", [p.prefix for p in PROVIDERS.values() if p.key_required])
def test_hosted_providers_need_their_key(prefix: str) -> None:
    with pytest.raises(ritellm.MissingAPIKeyError, match=PROVIDERS[prefix].key_env or "no key variable"):
        prepare(f"{prefix}/m", base_url="https://example.invalid/v1")


@pytest.mark.parametrize("prefix", [p for p in OPENAI_COMPATIBLE if not PROVIDERS[p].key_required])
def test_local_providers_work_without_a_key(prefix: str) -> None:
    prepared = prepare(f"{prefix}/m", base_url="http://127.0.0.1:1/v1")
    assert "authorization" not in prepared.headers


def test_hosted_vllm_needs_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="needs base_url.*HOSTED_VLLM_API_BASE"):
        prepare("hosted_vllm/m")
    monkeypatch.setenv("HOSTED_VLLM_API_BASE", "http://127.0.0.1:8000/v1")
    assert prepare("hosted_vllm/m").url == "http://127.0.0.1:8000/v1/chat/completions"


def test_base_url_variables_yield_to_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_BASE", "http://127.0.0.1:9999/v1")
    assert prepare("ollama/llama3").url == "http://127.0.0.1:9999/v1/chat/completions"
    assert prepare("ollama/llama3", base_url="http://h/v1").url == "http://h/v1/chat/completions"


#: What a server of each protocol answers (None: the test server's OpenAI echo), and the text.
REPLIES: dict[str, tuple[Any, str]] = {
    "openai": (None, "echo: hello"),
    "azure": (None, "echo: hello"),
    "anthropic": (lambda: anthropic_message("text"), SCENARIOS["text"][0]),
    "gemini": (lambda: gemini_response("text"), SCENARIOS["text"][0]),
    "vertex_ai": (lambda: gemini_response("text"), SCENARIOS["text"][0]),
    "bedrock": (
        lambda: Reply.json(
            {
                "output": {"message": {"role": "assistant", "content": [{"text": "Sunny."}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            }
        ),
        "Sunny.",
    ),
}


def test_every_protocol_has_a_server_reply_here() -> None:
    assert {p.protocol for p in PROVIDERS.values()} == set(REPLIES)


@pytest.mark.parametrize(
    ("prefix", "variable"), [(p.prefix, name) for p in PROVIDERS.values() for name in p.base_url_env]
)
def test_each_base_url_variable_aims_calls_at_its_server(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch, prefix: str, variable: str
) -> None:
    provider = PROVIDERS[prefix]
    # Ollama's own variable is a host and port; the others are URLs.
    where = (
        server.base_url.removeprefix("http://").removesuffix("/v1")
        if variable == "OLLAMA_HOST"
        else server.base_url
    )
    monkeypatch.setenv(variable, where)
    if provider.key_env:  # a Bedrock API key and a Vertex AI token included: nothing to sign
        monkeypatch.setenv(provider.key_env, "key-0123456789")
    reply, text = REPLIES[provider.protocol]
    if reply is not None:
        server.queue(reply())
    options = {"vertex_project": "p"} if prefix == "vertex_ai" else {}
    answer = caller.completion(f"{prefix}/m", USER, max_retries=0, **options)
    assert answer.choices[0].message.content == text
    assert len(server.requests) == 1 and server.requests[0].path.startswith("/v1/")


@pytest.mark.parametrize("prefix", sorted(NATIVE))
def test_native_protocol_url_and_key_header(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path, header, value_prefix = NATIVE[prefix]
    default = PROVIDERS[prefix].base_url
    monkeypatch.setenv(PROVIDERS[prefix].key_env or "", "sk-native")
    base = default or "https://res.openai.azure.com"
    prepared = prepare(f"{prefix}/m", base_url=None if default else base)
    assert prepared.url == base + path
    assert prepared.headers[header] == value_prefix + "sk-native"
    assert "authorization" not in prepared.headers


def test_azure_needs_a_base_url_and_takes_an_api_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_API_KEY", "k")
    with pytest.raises(ValueError, match="needs base_url.*AZURE_API_BASE"):
        prepare("azure/dep")
    monkeypatch.setenv("AZURE_API_BASE", "https://res.openai.azure.com")
    monkeypatch.setenv("AZURE_API_VERSION", "2024-06-01")
    assert prepare("azure/dep").url.endswith(
        "/openai/deployments/dep/chat/completions?api-version=2024-06-01"
    )
    assert prepare("azure/dep", api_version="2025-01-01-preview").url.endswith(
        "api-version=2025-01-01-preview"
    )


@pytest.mark.parametrize("prefix", OPENAI_COMPATIBLE + ["azure"])
def test_every_openai_protocol_provider_end_to_end(
    prefix: str, caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_env = PROVIDERS[prefix].key_env
    if key_env:
        monkeypatch.setenv(key_env, "sk-e2e")
    result = caller.completion(f"{prefix}/org/model-1", USER, base_url=server.base_url)
    assert result["choices"][0]["message"]["content"] == "echo: hello"
    request = server.requests[0]
    assert request.json()["model"] == "org/model-1"
    if prefix == "azure":
        assert request.path.startswith("/v1/openai/deployments/org/model-1/chat/completions?api-version=")
        assert request.headers["api-key"] == "sk-e2e"
    else:
        assert request.headers["authorization"] == "Bearer sk-e2e"


@pytest.mark.parametrize(
    ("model", "options", "url"),
    [
        ("openai/m", {}, "https://h/v1/chat/completions?tenant=a"),
        ("anthropic/m", {}, "https://h/v1/messages?tenant=a"),
        ("gemini/m", {}, "https://h/v1/models/m:generateContent?tenant=a"),
        ("gemini/m", {"stream": True}, "https://h/v1/models/m:streamGenerateContent?alt=sse&tenant=a"),
        (
            "azure/dep",
            {},
            "https://h/v1/openai/deployments/dep/chat/completions?api-version=2024-10-21&tenant=a",
        ),
    ],
)
def test_a_query_in_base_url_stays_after_the_path(model: str, options: dict[str, Any], url: str) -> None:
    prepared = prepare(model, base_url="https://h/v1?tenant=a", api_key="sk-query-test", **options)
    assert prepared.url == url


def test_tests_start_without_any_variable_of_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """What conftest clears before each test: every key and base-URL variable of the table, and
    the settings that share their first word, so that no developer's key reaches a test."""
    named = [name for p in PROVIDERS.values() for name in (p.key_env, *p.base_url_env) if name]
    settings = ["CLOUDFLARE_ACCOUNT_ID", "OPENAI_ORGANIZATION", "AWS_PROFILE", "https_proxy", "RITELLM_MODEL"]
    for name in named + settings:
        monkeypatch.setenv(name, "from-the-developer")
    clear_config_env(monkeypatch)
    assert [name for name in named + settings if name in os.environ] == []
