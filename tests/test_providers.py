"""Every provider prefix: its default URL, key variable and header, and a real call."""

from __future__ import annotations

from typing import Any

import pytest

from ritellm import _instance, _models, _prepare
from tests.conftest import USER, Caller
from tests.server import FakeServer

#: prefix -> (default API base, key variable, key required)
PROVIDERS: dict[str, tuple[str | None, str | None, bool]] = {
    "openai": ("https://api.openai.com/v1", "OPENAI_API_KEY", True),
    "groq": ("https://api.groq.com/openai/v1", "GROQ_API_KEY", True),
    "mistral": ("https://api.mistral.ai/v1", "MISTRAL_API_KEY", True),
    "deepseek": ("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", True),
    "xai": ("https://api.x.ai/v1", "XAI_API_KEY", True),
    "openrouter": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", True),
    "together_ai": ("https://api.together.xyz/v1", "TOGETHER_API_KEY", True),
    "fireworks_ai": ("https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY", True),
    "cerebras": ("https://api.cerebras.ai/v1", "CEREBRAS_API_KEY", True),
    "perplexity": ("https://api.perplexity.ai", "PERPLEXITY_API_KEY", True),
    "deepinfra": ("https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY", True),
    "ollama": ("http://localhost:11434/v1", "OLLAMA_API_KEY", False),
    "lm_studio": ("http://localhost:1234/v1", "LM_STUDIO_API_KEY", False),
    "hosted_vllm": (None, "HOSTED_VLLM_API_KEY", False),
    "anthropic": ("https://api.anthropic.com/v1", "ANTHROPIC_API_KEY", True),
    "gemini": ("https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY", True),
    "azure": (None, "AZURE_API_KEY", True),
    "mock": ("mock://ritellm/v1", None, False),
    "llamafile": ("http://localhost:8080/v1", "LLAMAFILE_API_KEY", False),
    "huggingface": ("https://router.huggingface.co/v1", "HF_TOKEN", True),
    "nvidia_nim": ("https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_KEY", True),
    "sambanova": ("https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY", True),
    "nebius": ("https://api.tokenfactory.nebius.com/v1", "NEBIUS_API_KEY", True),
    "novita": ("https://api.novita.ai/v3/openai", "NOVITA_API_KEY", True),
    "moonshot": ("https://api.moonshot.ai/v1", "MOONSHOT_API_KEY", True),
    "dashscope": ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY", True),
    "github": ("https://models.github.ai/inference", "GITHUB_TOKEN", True),
    "hyperbolic": ("https://api.hyperbolic.xyz/v1", "HYPERBOLIC_API_KEY", True),
    "lambda_ai": ("https://api.lambda.ai/v1", "LAMBDA_API_KEY", True),
    "featherless_ai": ("https://api.featherless.ai/v1", "FEATHERLESS_API_KEY", True),
    "cohere": ("https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY", True),
    "databricks": (None, "DATABRICKS_API_KEY", True),
    # Its URL holds the account id (test_cloud_providers.py).
    "cloudflare": (None, "CLOUDFLARE_API_KEY", True),
    # Authorized by the host itself (test_cloud_providers.py); these keys are optional.
    "bedrock": (None, "AWS_BEARER_TOKEN_BEDROCK", False),
    "vertex_ai": (None, "VERTEXAI_ACCESS_TOKEN", False),
}
#: Providers with their own protocol and credentials, tested in test_cloud_providers.py.
CLOUD = {"bedrock", "vertex_ai"}

#: Providers with their own protocol: (endpoint after the base for model "m", key header, key prefix).
NATIVE = {
    "anthropic": ("/messages", "x-api-key", ""),
    "gemini": ("/models/m:generateContent", "x-goog-api-key", ""),
    "azure": ("/openai/deployments/m/chat/completions?api-version=2024-10-21", "api-key", ""),
}
OPENAI_COMPATIBLE = [p for p in PROVIDERS if p not in NATIVE and p not in CLOUD and p != "mock"]


def prepare(model: str, **kwargs: Any) -> _models.Prepared:
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


def test_the_table_covers_every_provider_of_the_core() -> None:
    described = {p["prefix"] for p in _instance.core().describe["providers"]}
    assert described == set(PROVIDERS)


@pytest.mark.parametrize("prefix", [p for p, (base, _, _) in PROVIDERS.items() if base and p not in NATIVE])
def test_default_url_and_key_header(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    base, key_env, _ = PROVIDERS[prefix]
    if key_env:
        monkeypatch.setenv(key_env, f"key-for-{prefix}")
    prepared = prepare(f"{prefix}/some/model")
    assert prepared.url == f"{base}/chat/completions"
    assert prepared.model == "some/model"
    if key_env:
        assert prepared.headers["authorization"] == f"Bearer key-for-{prefix}"
    else:
        assert "authorization" not in prepared.headers


@pytest.mark.parametrize("prefix", [p for p, (_, key_env, required) in PROVIDERS.items() if required])
def test_hosted_providers_need_their_key(prefix: str) -> None:
    with pytest.raises(ValueError, match=PROVIDERS[prefix][1] or ""):
        prepare(f"{prefix}/m", base_url="https://example.invalid/v1")


@pytest.mark.parametrize("prefix", ["ollama", "lm_studio", "hosted_vllm"])
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


@pytest.mark.parametrize("prefix", sorted(NATIVE))
def test_native_protocol_url_and_key_header(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path, header, value_prefix = NATIVE[prefix]
    monkeypatch.setenv(PROVIDERS[prefix][1] or "", "sk-native")
    base = PROVIDERS[prefix][0] or "https://res.openai.azure.com"
    prepared = prepare(f"{prefix}/m", base_url=None if PROVIDERS[prefix][0] else base)
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
    key_env = PROVIDERS[prefix][1]
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
