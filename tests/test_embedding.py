"""``embedding()`` and ``aembedding()`` against loopback servers speaking each provider's
embedding wire format (``tests/embedding_formats.py``), sync and async on both transports."""

from __future__ import annotations

import base64
import io
import json
import math
import pickle
import sys
import threading
import time
from typing import Any, Callable

import pytest

import ritellm
from tests.conftest import Caller
from tests.embedding_formats import (
    EDGE_VECTOR,
    RATE_LIMITED,
    EmbeddingAPI,
    Part,
    bedrock_error,
    decode,
    encode,
    f32,
    gemini_embeddings,
    gemini_error,
    llamacpp_bare,
    openai_embeddings,
    openai_error,
    tokens_for,
    vector_for,
)
from tests.server import FakeServer, Reply
from tests.test_cloud_providers import KEY_ID, SECRET, assert_signed_as_sent

OPENAI_KEY = "sk-embed-0123456789abcdef"
TITAN = "amazon.titan-embed-text-v2:0"
COHERE_V3 = "cohere.embed-english-v3"
COHERE_V4 = "cohere.embed-v4:0"
TEXTS = ["The food was delicious and the waiter...", "Das Essen war köstlich 🍝", "東京の天気は晴れ"]

#: The core's provider table: rows that serve embeddings, and those that do not.
PROVIDERS = {p.prefix: p for p in ritellm.providers()}
EMBEDDING_ROWS = sorted(p for p, row in PROVIDERS.items() if "embedding" in row.operations)
CHAT_ONLY_ROWS = sorted(p for p in PROVIDERS if p not in EMBEDDING_ROWS)


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "AZURE_API_KEY",
        "MISTRAL_API_KEY",
        "NVIDIA_NIM_API_KEY",
        "DASHSCOPE_API_KEY",
    ):
        monkeypatch.setenv(name, OPENAI_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSy-gemini-embed-0123")
    monkeypatch.setenv("VOYAGE_API_KEY", "pa-voyage-0123456789")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("VERTEXAI_ACCESS_TOKEN", "ya29.vertex-embed-0123456789")


def embed(caller: Caller, *args: Any, **kwargs: Any) -> Any:
    """``embedding``, or ``aembedding`` on the caller's async transport."""
    if caller.is_async:
        return caller.run(lambda: ritellm.aembedding(*args, **kwargs))
    return ritellm.embedding(*args, **kwargs)


def root(server: FakeServer) -> str:
    return server.base_url.removesuffix("/v1")


def no_nulls(value: Any, where: str = "body") -> None:
    """No field of a request body is null, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert item is not None, f"{where}.{key} is null"
            no_nulls(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            no_nulls(item, f"{where}[{i}]")


def vectors(answer: Any) -> list[Any]:
    """The answer's vectors, checked to be in input order (``index`` is the position)."""
    assert [item["index"] for item in answer["data"]] == list(range(len(answer["data"])))
    assert all(item["object"] == "embedding" for item in answer["data"])
    return [item["embedding"] for item in answer["data"]]


def assert_floats(got: Any, expected: list[float]) -> None:
    assert isinstance(got, list) and all(type(x) is float for x in got), got[:3]
    assert got == expected


# The answer ----------------------------------------------------------------------------


def test_a_single_input_gives_openais_embedding_list(caller: Caller, server: FakeServer) -> None:
    server.answer = api = EmbeddingAPI(dims=1536)
    answer = embed(caller, "openai/text-embedding-3-small", TEXTS[0], base_url=server.base_url)
    assert isinstance(answer, ritellm.EmbeddingResponse) and issubclass(ritellm.EmbeddingResponse, dict)
    assert ritellm.types.EmbeddingResponse is ritellm.EmbeddingResponse
    assert answer["object"] == "list" and answer.model == "text-embedding-3-small"
    [vector] = vectors(answer)
    assert_floats(vector, vector_for(TEXTS[0], 1536))
    assert answer.data[0].embedding == vector and answer.data[0].index == 0
    assert answer.usage.prompt_tokens == answer.usage.total_tokens == tokens_for(TEXTS[0])
    assert json.loads(json.dumps(answer)) == answer and pickle.loads(pickle.dumps(answer)) == answer
    [part] = api.parts
    assert part.recorded.path == "/v1/embeddings"
    assert part.recorded.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    sent = part.body
    no_nulls(sent)
    assert sent["model"] == "text-embedding-3-small"
    assert sent["input"] in (TEXTS[0], [TEXTS[0]])
    assert sent.get("encoding_format", "float") in ("float", "base64")


def test_a_batch_keeps_the_input_order(caller: Caller, server: FakeServer) -> None:
    server.answer = api = EmbeddingAPI()
    answer = embed(caller, "openai/text-embedding-3-small", TEXTS, base_url=server.base_url)
    for got, text in zip(vectors(answer), TEXTS):
        assert_floats(got, vector_for(text, 8))
    assert len(answer.data) == 3
    assert answer.usage.total_tokens == sum(tokens_for(t) for t in TEXTS)
    assert api.parts[0].body["input"] == TEXTS


def test_items_sent_out_of_order_are_put_back_by_their_index(caller: Caller, server: FakeServer) -> None:
    server.answer = EmbeddingAPI(shuffle=True)
    answer = embed(caller, "openai/text-embedding-3-small", TEXTS, base_url=server.base_url)
    assert vectors(answer) == [vector_for(text, 8) for text in TEXTS]


@pytest.mark.parametrize(
    ("given", "inputs"),
    [
        ([9906, 1917, 0], [[9906, 1917, 0]]),
        ([[9906, 1917], [15339, 1070, 11]], [[9906, 1917], [15339, 1070, 11]]),
    ],
    ids=["one-list-of-ids", "lists-of-ids"],
)
def test_token_ids_are_inputs(
    caller: Caller, server: FakeServer, given: Any, inputs: list[list[int]]
) -> None:
    server.answer = api = EmbeddingAPI()
    answer = embed(caller, "openai/text-embedding-3-small", given, base_url=server.base_url)
    assert vectors(answer) == [vector_for(ids, 8) for ids in inputs]
    assert api.parts[0].body["input"] in (given, inputs)
    assert answer.usage.prompt_tokens == sum(len(ids) for ids in inputs)


@pytest.mark.parametrize(
    "model",
    [
        "gemini/gemini-embedding-001",
        "vertex_ai/text-embedding-005",
        f"bedrock/{TITAN}",
        f"bedrock/{COHERE_V3}",
    ],
)
def test_token_ids_are_refused_where_the_provider_takes_text_only(server: FakeServer, model: str) -> None:
    options: dict[str, Any] = {"vertex_project": "p"} if model.startswith("vertex_ai/") else {}
    with pytest.raises(ritellm.InvalidRequestError):
        ritellm.embedding(model, [[9906, 1917]], base_url=root(server), **options)
    assert server.requests == []


@pytest.mark.parametrize("given", [None, 42, {"text": "a"}, ["a", 1], [1.5, 2.5], [["a"]], [[1, "a"]]])
def test_inputs_of_other_types_are_refused_before_sending(
    caller: Caller, server: FakeServer, given: Any
) -> None:
    with pytest.raises(ritellm.InvalidRequestError):
        embed(caller, "openai/text-embedding-3-small", given, base_url=server.base_url)
    assert server.requests == []


# Floats and base64 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "honours_base64", [True, False], ids=["server-honours-base64", "server-sends-floats"]
)
@pytest.mark.parametrize("encoding_format", [None, "float", "base64"])
def test_floats_or_base64_whatever_the_server_sends(
    caller: Caller, server: FakeServer, encoding_format: str | None, honours_base64: bool
) -> None:
    """LM Studio ignores ``encoding_format`` and sends floats; OpenAI honours it. Either way
    the caller gets what it asked for, the float32 values exactly."""
    server.answer = api = EmbeddingAPI(dims=16, honours_base64=honours_base64)
    answer = embed(
        caller,
        "openai/text-embedding-3-small",
        TEXTS[:2],
        base_url=server.base_url,
        encoding_format=encoding_format,
    )
    expected = [vector_for(text, 16) for text in TEXTS[:2]]
    if encoding_format == "base64":
        assert vectors(answer) == [encode(v) for v in expected]
        assert [decode(s) for s in vectors(answer)] == expected
    else:
        for got, want in zip(vectors(answer), expected):
            assert_floats(got, want)
    sent = api.parts[0].body
    no_nulls(sent)
    assert sent.get("encoding_format", "float") in ("float", "base64")


@pytest.mark.parametrize("encoding_format", [None, "base64"])
def test_edge_float32_values_come_back_exactly(
    caller: Caller, server: FakeServer, encoding_format: str | None
) -> None:
    """The largest float32, the smallest normal, a subnormal and negative zero, sent in
    base64 (when asked) and as JSON."""
    for as_base64 in (True, False):
        server.queue(Reply.json(openai_embeddings([EDGE_VECTOR], as_base64=as_base64)))
        answer = embed(
            caller,
            "openai/text-embedding-3-small",
            "edge",
            base_url=server.base_url,
            encoding_format=encoding_format,
        )
        [got] = vectors(answer)
        if encoding_format == "base64":
            assert got == encode(EDGE_VECTOR), as_base64  # byte for byte: -0.0 keeps its sign
        else:
            assert_floats(got, EDGE_VECTOR)
            assert math.copysign(1.0, got[3]) == -1.0, "negative zero lost its sign"


def test_json_floats_come_back_as_the_server_wrote_them(caller: Caller, server: FakeServer) -> None:
    """OpenAI's own example values, which are not float32 numbers: as sent, not rounded."""
    sent = [0.0023064255, -0.009327292, -0.0028842222, 0.021070, 1e-7]
    server.queue(Reply.json(openai_embeddings([sent], model="text-embedding-ada-002")))
    answer = embed(
        caller, "openai/text-embedding-ada-002", "The food was delicious", base_url=server.base_url
    )
    assert_floats(vectors(answer)[0], sent)


# Malformed answers ------------------------------------------------------------------------------


def malformed(case: str) -> Reply:
    good = [vector_for("a", 8), vector_for("b", 8)]
    answer = openai_embeddings(good)
    if case == "one vector for two inputs":
        answer["data"] = answer["data"][:1]
    elif case == "three vectors for two inputs":
        answer["data"].append({"object": "embedding", "index": 2, "embedding": vector_for("c", 8)})
    elif case == "an index twice":
        answer["data"][1]["index"] = 0
    elif case == "an index out of range":
        answer["data"][1]["index"] = 7
    elif case == "vectors of two lengths":
        answer["data"][1]["embedding"] = good[1][:7]
    elif case == "an empty vector":  # ik_llama.cpp issue 915 answered this way
        answer["data"][0]["embedding"] = []
        answer["data"][1]["embedding"] = []
    elif case == "NaN in JSON":
        return Reply.json(openai_embeddings([good[0], [*good[1][:3], float("nan"), *good[1][4:]]]))
    elif case == "Infinity in JSON":
        return Reply.json(openai_embeddings([good[0], [*good[1][:3], float("-inf"), *good[1][4:]]]))
    elif case == "NaN in base64":
        answer = openai_embeddings([good[0], [*good[1][:3], float("nan"), *good[1][4:]]], as_base64=True)
    elif case == "not base64":
        answer["data"][1]["embedding"] = "not base64 at all!"
    elif case == "base64 of 8 floats and 2 bytes":
        raw = base64.b64decode(encode(good[1])) + b"\0\0"
        answer["data"][1]["embedding"] = base64.b64encode(raw).decode()
    elif case == "a string in the vector":
        answer["data"][1]["embedding"] = [*good[1][:7], "0.5"]
    elif case == "a null vector":
        answer["data"][1]["embedding"] = None
    elif case == "no data":
        del answer["data"]
    elif case == "a chat completion":
        answer = {"id": "chatcmpl-1", "object": "chat.completion", "choices": []}
    elif case == "HTML":
        return Reply(200, {"content-type": "text/html"}, [b"<html><body>Bad gateway</body></html>"])
    return Reply.json(answer)


MALFORMED = [
    "one vector for two inputs",
    "three vectors for two inputs",
    "an index twice",
    "an index out of range",
    "vectors of two lengths",
    "an empty vector",
    "NaN in JSON",
    "Infinity in JSON",
    "NaN in base64",
    "not base64",
    "base64 of 8 floats and 2 bytes",
    "a string in the vector",
    "a null vector",
    "no data",
    "a chat completion",
    "HTML",
]


@pytest.mark.parametrize("case", MALFORMED)
@pytest.mark.parametrize("encoding_format", [None, "base64"])
def test_malformed_answers_are_invalid_responses(
    caller: Caller, server: FakeServer, case: str, encoding_format: str | None
) -> None:
    server.queue(malformed(case))
    with pytest.raises(ritellm.InvalidResponseError):
        embed(
            caller,
            "openai/text-embedding-3-small",
            ["a", "b"],
            base_url=server.base_url,
            encoding_format=encoding_format,
            num_retries=0,
        )


@pytest.mark.parametrize("nested", [True, False], ids=["pooled-in-a-list", "flat"])
def test_llama_cpps_bare_list_is_read(caller: Caller, server: FakeServer, nested: bool) -> None:
    expected = [vector_for(t, 8) for t in TEXTS[:2]]
    server.queue(Reply.json(llamacpp_bare(expected, nested)))
    answer = embed(caller, "llamafile/nomic-embed-text-v1.5", TEXTS[:2], base_url=server.base_url)
    for got, want in zip(vectors(answer), expected):
        assert_floats(got, want)
    assert isinstance(answer.usage.prompt_tokens, int) and isinstance(answer.usage.total_tokens, int)


def test_an_answer_without_usage_still_has_usage(caller: Caller, server: FakeServer) -> None:
    payload = openai_embeddings([vector_for("a", 8)])
    del payload["usage"]
    server.queue(Reply.json(payload))
    answer = embed(caller, "hosted_vllm/BAAI/bge-m3", "a", base_url=server.base_url)
    usage = answer["usage"]
    assert isinstance(usage["prompt_tokens"], int) and isinstance(usage["total_tokens"], int)
    assert usage["total_tokens"] >= usage["prompt_tokens"] >= 0


# Dimensions ------------------------------------------------------------------------------------

#: model, base URL ("v1" or "root"), extra options, and where the length goes in each request.
PROVIDER_CALLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "openai": ("openai/text-embedding-3-large", "v1", {}),
    "azure": ("azure/embed-3-large", "v1", {}),
    "mistral": ("mistral/codestral-embed", "v1", {}),
    "nvidia_nim": ("nvidia_nim/nvidia/llama-3.2-nv-embedqa-1b-v2", "v1", {}),
    "gemini": ("gemini/gemini-embedding-001", "v1", {}),
    "vertex_ai": ("vertex_ai/text-embedding-005", "root", {"vertex_project": "my-project"}),
    "titan": (f"bedrock/{TITAN}", "root", {}),
    "cohere_v4": (f"bedrock/{COHERE_V4}", "root", {}),
    "voyage": ("voyage/voyage-3.5", "v1", {}),
    "cohere_v3": (f"bedrock/{COHERE_V3}", "root", {}),
}


def call_args(server: FakeServer, name: str) -> tuple[str, dict[str, Any]]:
    model, where, options = PROVIDER_CALLS[name]
    return model, {"base_url": server.base_url if where == "v1" else root(server), **options}


def length_sent(name: str, body: dict[str, Any]) -> Any:
    """Where each provider's reference puts the vectors' length."""
    if name == "gemini":
        return {r.get("outputDimensionality") for r in body["requests"]}.pop()
    if name == "vertex_ai":
        return body.get("parameters", {}).get("outputDimensionality")
    if name in ("mistral", "cohere_v4", "voyage"):
        assert "dimensions" not in body, body
        return body.get("output_dimension")
    return body.get("dimensions")


@pytest.mark.parametrize("name", sorted(set(PROVIDER_CALLS) - {"cohere_v3"}))
def test_dimensions_go_in_each_providers_field(caller: Caller, server: FakeServer, name: str) -> None:
    server.answer = api = EmbeddingAPI(voyage=name == "voyage")
    model, options = call_args(server, name)
    answer = embed(caller, model, TEXTS[:2], dimensions=256, **options)
    assert [len(v) for v in vectors(answer)] == [256, 256]
    assert vectors(answer) == [vector_for(t, 256) for t in TEXTS[:2]]
    for part in api.parts:
        no_nulls(part.body)
        assert length_sent(name, part.body) == 256


@pytest.mark.parametrize("name", ["openai", "gemini", "vertex_ai", "titan", "voyage"])
def test_vectors_of_another_length_than_asked_are_invalid(
    caller: Caller, server: FakeServer, name: str
) -> None:
    def ignores_dimensions(part: Part) -> None:
        part.dims = 1024  # the server answers with its model's full length

    server.answer = EmbeddingAPI(voyage=name == "voyage", before=ignores_dimensions)
    model, options = call_args(server, name)
    with pytest.raises(ritellm.InvalidResponseError, match="256|1024"):
        embed(caller, model, TEXTS[:2], dimensions=256, num_retries=0, **options)


@pytest.mark.parametrize(
    ("model", "dimensions"),
    [(f"bedrock/{COHERE_V3}", 256), (f"bedrock/{TITAN}", 768)],
    ids=["cohere-v3-fixed-length", "titan-v2-256-512-1024-only"],
)
def test_dimensions_a_model_cannot_honour_are_refused_or_dropped(
    caller: Caller, server: FakeServer, model: str, dimensions: int
) -> None:
    with pytest.raises(ritellm.InvalidRequestError, match="dimensions") as raised:
        embed(caller, model, TEXTS[:2], dimensions=dimensions, base_url=root(server))
    assert "drop_params" in str(raised.value)
    assert server.requests == []
    server.answer = api = EmbeddingAPI()
    answer = embed(caller, model, TEXTS[:2], dimensions=dimensions, drop_params=True, base_url=root(server))
    assert vectors(answer) == [vector_for(t, 8) for t in TEXTS[:2]]
    for part in api.parts:
        assert not {"dimensions", "output_dimension", "drop_params"} & set(part.body), part.body


# Input types ----------------------------------------------------------------------------------

INPUT_TYPES = [
    ("cohere_v3", "query", "search_query"),
    ("cohere_v3", "document", "search_document"),
    ("cohere_v3", "clustering", "clustering"),
    ("nvidia_nim", "query", "query"),
    ("nvidia_nim", "document", "passage"),
    ("gemini", "query", "RETRIEVAL_QUERY"),
    ("gemini", "document", "RETRIEVAL_DOCUMENT"),
    ("gemini", "CLASSIFICATION", "CLASSIFICATION"),
    ("vertex_ai", "query", "RETRIEVAL_QUERY"),
    ("vertex_ai", "document", "RETRIEVAL_DOCUMENT"),
    ("vertex_ai", "SEMANTIC_SIMILARITY", "SEMANTIC_SIMILARITY"),
    ("voyage", "query", "query"),
    ("voyage", "document", "document"),
]


def input_types_sent(name: str, body: dict[str, Any]) -> set[Any]:
    if name == "gemini":
        return {r.get("taskType") for r in body["requests"]}
    if name == "vertex_ai":
        return {i.get("task_type") for i in body["instances"]}
    return {body.get("input_type")}


@pytest.mark.parametrize(("name", "given", "sent"), INPUT_TYPES)
def test_input_types_in_each_providers_words(
    caller: Caller, server: FakeServer, name: str, given: str, sent: str
) -> None:
    server.answer = api = EmbeddingAPI(voyage=name == "voyage")
    model, options = call_args(server, name)
    answer = embed(caller, model, TEXTS, input_type=given, **options)
    assert vectors(answer) == [vector_for(t, 8) for t in TEXTS]
    for part in api.parts:
        no_nulls(part.body)
        assert input_types_sent(name, part.body) == {sent}


def test_cohere_gets_the_input_type_it_requires_when_none_is_given(
    caller: Caller, server: FakeServer
) -> None:
    server.answer = api = EmbeddingAPI()
    embed(caller, f"bedrock/{COHERE_V3}", TEXTS, base_url=root(server))
    assert api.parts[0].body["input_type"] in {
        "search_document",
        "search_query",
        "classification",
        "clustering",
    }


def test_input_type_is_not_sent_to_openai(caller: Caller, server: FakeServer) -> None:
    server.answer = api = EmbeddingAPI()
    try:
        embed(caller, "openai/text-embedding-3-small", TEXTS, input_type="query", base_url=server.base_url)
    except ritellm.InvalidRequestError as refused:
        assert "input_type" in str(refused) and server.requests == []
    else:
        assert "input_type" not in api.parts[0].body


# Each native format ---------------------------------------------------------------------------


def test_azure_deployment_path_api_version_and_key(caller: Caller, server: FakeServer) -> None:
    server.answer = api = EmbeddingAPI(model="text-embedding-3-large")
    answer = embed(
        caller,
        "azure/embed-3-large",
        TEXTS,
        base_url=server.base_url,
        api_version="2024-06-01",
        encoding_format="base64",
    )
    assert [decode(v) for v in vectors(answer)] == [vector_for(t, 8) for t in TEXTS]
    [part] = api.parts
    assert part.recorded.path == "/v1/openai/deployments/embed-3-large/embeddings?api-version=2024-06-01"
    assert part.recorded.headers["api-key"] == OPENAI_KEY and "authorization" not in part.recorded.headers


@pytest.mark.parametrize("with_usage", [True, False], ids=["usageMetadata", "no-usage"])
def test_gemini_batch_embed_contents(caller: Caller, server: FakeServer, with_usage: bool) -> None:
    server.answer = api = EmbeddingAPI(dims=3072)
    if not with_usage:
        expected = [vector_for(t, 3072) for t in TEXTS]
        server.queue(Reply.json(gemini_embeddings(expected)))
    answer = embed(caller, "gemini/gemini-embedding-001", TEXTS, base_url=server.base_url)
    assert vectors(answer) == [vector_for(t, 3072) for t in TEXTS]
    recorded = server.requests[0]
    assert recorded.path == "/v1/models/gemini-embedding-001:batchEmbedContents"
    assert recorded.headers["x-goog-api-key"] == "AIzaSy-gemini-embed-0123"
    sent = recorded.json()
    no_nulls(sent)
    assert "encoding_format" not in json.dumps(sent)
    assert [r["model"] for r in sent["requests"]] == ["models/gemini-embedding-001"] * 3
    assert [r["content"] for r in sent["requests"]] == [{"parts": [{"text": t}]} for t in TEXTS]
    if with_usage:
        assert answer.usage.prompt_tokens == sum(tokens_for(t) for t in TEXTS)
        assert len(api.parts) == 1
    assert answer.usage.total_tokens >= answer.usage.prompt_tokens >= 0


def test_gemini_vectors_in_base64_on_request(caller: Caller, server: FakeServer) -> None:
    server.answer = EmbeddingAPI()
    answer = embed(
        caller, "gemini/gemini-embedding-001", TEXTS, base_url=server.base_url, encoding_format="base64"
    )
    assert vectors(answer) == [encode(vector_for(t, 8)) for t in TEXTS]
    assert "encoding_format" not in server.requests[0].json()


def test_vertex_predict_with_project_location_and_token(caller: Caller, server: FakeServer) -> None:
    server.answer = EmbeddingAPI(dims=768)
    answer = embed(
        caller,
        "vertex_ai/text-embedding-005",
        TEXTS,
        base_url=root(server),
        vertex_project="my-project",
        vertex_location="europe-west4",
    )
    assert vectors(answer) == [vector_for(t, 768) for t in TEXTS]
    assert answer.usage.prompt_tokens == sum(tokens_for(t) for t in TEXTS)  # statistics.token_count, summed
    recorded = server.requests[0]
    assert recorded.path == (
        "/v1/projects/my-project/locations/europe-west4/publishers/google/models/text-embedding-005:predict"
    )
    assert recorded.headers["authorization"] == "Bearer ya29.vertex-embed-0123456789"
    sent = recorded.json()
    no_nulls(sent)
    assert [i["content"] for i in sent["instances"]] == TEXTS
    assert not {"vertex_project", "vertex_location", "encoding_format"} & set(sent)


def test_vertex_project_from_the_environment(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    server.answer = EmbeddingAPI()
    embed(caller, "vertex_ai/text-multilingual-embedding-002", "hola", base_url=root(server))
    assert server.requests[0].path == (
        "/v1/projects/env-project/locations/us-central1/publishers/google/models/"
        "text-multilingual-embedding-002:predict"
    )


def test_bedrock_titan_one_signed_invoke_per_text(caller: Caller, server: FakeServer) -> None:
    server.answer = api = EmbeddingAPI(dims=1024)
    answer = embed(caller, f"bedrock/{TITAN}", TEXTS, base_url=root(server))
    assert vectors(answer) == [vector_for(t, 1024) for t in TEXTS]
    assert answer.usage.prompt_tokens == sum(tokens_for(t) for t in TEXTS)  # inputTextTokenCount, summed
    assert sorted(p.texts[0] for p in api.parts) == sorted(TEXTS) and len(api.parts) == 3
    for part in api.parts:
        assert part.recorded.path == "/model/amazon.titan-embed-text-v2%3A0/invoke"
        assert_signed_as_sent(part.recorded, root(server) + part.recorded.path)
        no_nulls(part.body)
        assert set(part.body) <= {"inputText", "dimensions", "normalize", "embeddingTypes"}
        assert part.body.get("embeddingTypes", ["float"]) == ["float"]


@pytest.mark.parametrize("model", [COHERE_V3, COHERE_V4])
def test_bedrock_cohere_texts_in_one_signed_invoke(caller: Caller, server: FakeServer, model: str) -> None:
    server.answer = api = EmbeddingAPI(dims=1024)
    answer = embed(caller, f"bedrock/{model}", TEXTS, input_type="document", base_url=root(server))
    assert vectors(answer) == [vector_for(t, 1024) for t in TEXTS]
    # Bedrock's X-Amzn-Bedrock-Input-Token-Count header: Cohere's body has no count.
    assert answer.usage.prompt_tokens == sum(tokens_for(t) for t in TEXTS)
    [part] = api.parts
    assert part.recorded.path == "/model/" + model.replace(":", "%3A") + "/invoke"
    assert_signed_as_sent(part.recorded, root(server) + part.recorded.path)
    no_nulls(part.body)
    assert part.body["texts"] == TEXTS and part.body["input_type"] == "search_document"
    assert "model" not in part.body
    assert part.body.get("embedding_types", ["float"]) == ["float"]


@pytest.mark.parametrize("model", [TITAN, COHERE_V3, COHERE_V4])
def test_bedrock_vectors_in_base64_on_request(caller: Caller, server: FakeServer, model: str) -> None:
    """Bedrock's "binary" embeddings are one bit a value: never what base64 asks for."""
    server.answer = api = EmbeddingAPI()
    answer = embed(caller, f"bedrock/{model}", TEXTS[:2], base_url=root(server), encoding_format="base64")
    assert vectors(answer) == [encode(vector_for(t, 8)) for t in TEXTS[:2]]
    for part in api.parts:
        assert part.body.get("embeddingTypes", ["float"]) == ["float"]
        assert part.body.get("embedding_types", ["float"]) == ["float"]
        assert "encoding_format" not in part.body


def test_bedrock_models_of_no_known_embedding_family_are_refused(server: FakeServer) -> None:
    with pytest.raises(ritellm.InvalidRequestError):
        ritellm.embedding("bedrock/meta.llama3-8b-instruct-v1:0", "hi", base_url=root(server))
    assert server.requests == []


def test_voyage(caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.answer = api = EmbeddingAPI(voyage=True, dims=1024)
    answer = embed(caller, "voyage/voyage-3.5", TEXTS, base_url=server.base_url, encoding_format="float")
    assert vectors(answer) == [vector_for(t, 1024) for t in TEXTS]
    total = sum(tokens_for(t) for t in TEXTS)
    assert answer.usage.prompt_tokens == answer.usage.total_tokens == total  # Voyage sends total_tokens only
    [part] = api.parts
    assert part.recorded.path == "/v1/embeddings"
    assert part.recorded.headers["authorization"] == "Bearer pa-voyage-0123456789"
    no_nulls(part.body)
    # Voyage's encoding_format is null (lists) or "base64"; "float" is refused (cocoindex-code#148).
    assert part.body.get("encoding_format", "base64") == "base64"
    monkeypatch.delenv("VOYAGE_API_KEY")
    with pytest.raises(ritellm.MissingAPIKeyError, match="VOYAGE_API_KEY"):
        embed(caller, "voyage/voyage-3.5", "x", base_url=server.base_url)
    assert len(server.requests) == 1


def test_voyage_has_its_default_url() -> None:
    assert PROVIDERS["voyage"].base_url == "https://api.voyageai.com/v1"
    assert PROVIDERS["voyage"].key_env == "VOYAGE_API_KEY"


@pytest.mark.parametrize(
    "name",
    ["openai", "azure", "gemini", "vertex_ai", "titan", "cohere_v3", "cohere_v4", "voyage", "nvidia_nim"],
)
@pytest.mark.parametrize("encoding_format", [None, "float", "base64"])
def test_no_field_is_ever_null(
    caller: Caller, server: FakeServer, name: str, encoding_format: str | None
) -> None:
    """vLLM, DeepInfra and TEI refuse ``"encoding_format": null`` (LiteLLM 1.80.11's bug)."""
    server.answer = api = EmbeddingAPI(voyage=name == "voyage")
    model, options = call_args(server, name)
    embed(caller, model, TEXTS[:2], encoding_format=encoding_format, user=None, input_type=None, **options)
    assert api.parts
    for part in api.parts:
        no_nulls(part.body)


# Every row of the table ----------------------------------------------------------------------------

#: A model for each protocol's rows, and its options.
ROW_MODELS = {
    "openai": ("org/embed-model-1", {}),
    "azure": ("embed-deployment", {}),
    "gemini": ("gemini-embedding-001", {}),
    "vertex_ai": ("text-embedding-005", {"vertex_project": "p"}),
    "bedrock": (TITAN, {}),
    "voyage": ("voyage-3.5", {}),
}


def test_the_table_says_who_serves_embeddings() -> None:
    """Rows whose providers document an embeddings endpoint (issue 16 lists them), and one
    that has none."""
    for prefix in (
        "openai", "azure", "mistral", "together_ai", "fireworks_ai", "nvidia_nim", "ollama", "lm_studio",
        "hosted_vllm", "llamafile", "gemini", "vertex_ai", "bedrock", "voyage", "mock",
    ):  # fmt: skip
        assert prefix in EMBEDDING_ROWS, prefix
    assert "anthropic" in CHAT_ONLY_ROWS
    assert {PROVIDERS[p].protocol for p in EMBEDDING_ROWS} <= set(ROW_MODELS)


@pytest.mark.parametrize("prefix", [p for p in EMBEDDING_ROWS if p != "mock"])
def test_every_embedding_row_calls_its_server(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    row = PROVIDERS[prefix]
    if row.key_env:
        monkeypatch.setenv(row.key_env, "key-0123456789")
    protocol = row.protocol
    model, options = ROW_MODELS.get(protocol, ROW_MODELS["openai"])
    base = root(server) if protocol in ("vertex_ai", "bedrock") else server.base_url
    server.answer = api = EmbeddingAPI(voyage=prefix == "voyage")
    answer = embed(caller, f"{prefix}/{model}", TEXTS[:2], base_url=base, num_retries=0, **options)
    assert vectors(answer) == [vector_for(t, 8) for t in TEXTS[:2]]
    assert api.parts
    for part in api.parts:
        no_nulls(part.body)
        assert part.recorded.path.startswith("/v1/") or protocol == "bedrock"
        if protocol == "openai":
            assert part.recorded.path == "/v1/embeddings"
            assert part.body["model"] == model


@pytest.mark.parametrize("prefix", CHAT_ONLY_ROWS)
def test_rows_without_embeddings_refuse_before_sending(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    if PROVIDERS[prefix].key_env:
        monkeypatch.setenv(PROVIDERS[prefix].key_env or "", "key-0123456789")
    with pytest.raises(ritellm.InvalidRequestError) as raised:
        embed(caller, f"{prefix}/some-model", "hello", base_url=server.base_url)
    assert prefix in str(raised.value) and "embedding" in str(raised.value).lower()
    assert server.requests == []


# Batches over the limit -------------------------------------------------------------------------

#: model, the provider's limit of inputs per request, how many inputs the test sends.
SPLITS = {
    "openai": ("openai/text-embedding-3-small", 2048, 4097),
    "gemini": ("gemini/gemini-embedding-001", 100, 201),
    "vertex_ai": ("vertex_ai/text-embedding-005", 250, 501),
    "cohere_v3": (f"bedrock/{COHERE_V3}", 96, 193),
    "titan": (f"bedrock/{TITAN}", 1, 5),
    "voyage": ("voyage/voyage-3.5", 1000, 2001),
    "dashscope": ("dashscope/text-embedding-v4", 10, 21),  # 10 rows a request on v3 and v4
}


def split_call(server: FakeServer, name: str) -> tuple[str, int, list[str], dict[str, Any]]:
    model, limit, count = SPLITS[name]
    base = root(server) if name in ("vertex_ai", "cohere_v3", "titan") else server.base_url
    options: dict[str, Any] = {"base_url": base}
    if name == "vertex_ai":
        options["vertex_project"] = "p"
    return model, limit, [f"input {i}: {'word ' * (i % 5)}" for i in range(count)], options


def first_inputs(api: EmbeddingAPI, inputs: list[str]) -> list[int]:
    """The position of each answered request's first input, in the order the server saw them."""
    position = {text: i for i, text in enumerate(inputs)}
    return [position[part.texts[0]] for part in api.parts]


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_a_batch_over_the_limit_is_split_and_put_back_in_order(
    caller: Caller, server: FakeServer, name: str
) -> None:
    """The request with the first inputs is answered last, after the last request's answer
    went out entirely (both in flight at once: the async call on its loop, the sync call on
    its threads); the answer is still in input order."""
    model, limit, inputs, options = split_call(server, name)
    last_start = (len(inputs) - 1) // limit * limit
    last_sent = threading.Event()
    waited: list[bool] = []

    def before(part: Part) -> None:
        if part.texts[0] == inputs[0]:
            waited.append(last_sent.wait(10))

    def after_last_reply(part: Part) -> None:
        if part.texts[0] == inputs[last_start]:
            reply = part.reply
            assert reply is not None

            def once_sent() -> None:
                if reply.sent_all.wait(10):
                    last_sent.set()

            threading.Thread(target=once_sent, daemon=True).start()

    server.answer = api = EmbeddingAPI(voyage=name == "voyage", before=before, after=after_last_reply)
    answer = embed(caller, model, inputs, **options)
    assert waited == [True], "the first request was not in flight while the last was answered"
    assert vectors(answer) == [vector_for(text, 8) for text in inputs]
    sizes = sorted((first, len(part.texts)) for first, part in zip(first_inputs(api, inputs), api.parts))
    assert sizes == [(start, min(limit, len(inputs) - start)) for start in range(0, len(inputs), limit)]
    assert (
        sum((part.texts for part in sorted(api.parts, key=lambda p: inputs.index(p.texts[0]))), []) == inputs
    )
    assert answer.usage.prompt_tokens == sum(tokens_for(text) for text in inputs)
    if name in ("cohere_v3", "titan"):
        for part in api.parts:
            assert_signed_as_sent(part.recorded, root(server) + part.recorded.path)


FAILURES: dict[str, Callable[[], Reply]] = {
    "openai": lambda: openai_error(*RATE_LIMITED),
    "voyage": lambda: openai_error(*RATE_LIMITED),
    "dashscope": lambda: openai_error(*RATE_LIMITED),
    "gemini": lambda: gemini_error(
        429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."
    ),
    "titan": lambda: bedrock_error(
        429, "ThrottlingException", "Too many requests, please wait before trying again."
    ),
    "cohere_v3": lambda: bedrock_error(
        429, "ThrottlingException", "Too many requests, please wait before trying again."
    ),
    "vertex_ai": lambda: gemini_error(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model",
    ),
}


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_one_failed_part_fails_the_call_naming_its_inputs(
    caller: Caller, server: FakeServer, name: str, events: list[ritellm.CallEvent]
) -> None:
    model, limit, inputs, options = split_call(server, name)

    def second_part_fails(part: Part) -> Reply | None:
        return FAILURES[name]() if part.texts[0] == inputs[limit] else None

    server.answer = api = EmbeddingAPI(voyage=name == "voyage", before=second_part_fails)
    with pytest.raises(ritellm.RateLimitError) as raised:
        embed(caller, model, inputs, num_retries=0, **options)
    error = raised.value
    assert error.failed_inputs == range(limit, 2 * limit)
    said = " ".join([str(error), *getattr(error, "__notes__", [])])
    assert str(limit) in said and str(2 * limit - 1) in said, said
    [event] = events
    assert event.operation == "embedding" and event.exception is error
    assert [p.texts[0] for p in api.parts].count(inputs[limit]) == 1  # num_retries=0: not retried


@pytest.mark.parametrize("name", ["openai", "titan"])
def test_a_failed_part_is_retried_alone(caller: Caller, server: FakeServer, name: str) -> None:
    model, limit, inputs, options = split_call(server, name)
    refused: list[str] = []

    def fails_once(part: Part) -> Reply | None:
        if part.texts[0] == inputs[limit] and not refused:
            refused.append(part.texts[0])
            return FAILURES[name]()
        return None

    server.answer = api = EmbeddingAPI(before=fails_once)
    answer = embed(caller, model, inputs, num_retries=1, **options)
    assert vectors(answer) == [vector_for(text, 8) for text in inputs]
    firsts = [part.texts[0] for part in api.parts]
    assert firsts.count(inputs[limit]) == 2 and firsts.count(inputs[0]) == 1
    assert answer.usage.prompt_tokens == sum(tokens_for(text) for text in inputs)


# LiteLLM's options and the call's other arguments ----------------------------------------------


def test_api_base_num_retries_and_drop_params(caller: Caller, server: FakeServer) -> None:
    server.queue(openai_error(503, "The server is overloaded", "server_error"))
    with pytest.raises(ritellm.ServiceUnavailableError):
        embed(caller, "openai/text-embedding-3-small", "a", api_base=server.base_url, num_retries=0)
    assert len(server.requests) == 1
    server.queue(openai_error(503, "The server is overloaded", "server_error"))
    server.answer = EmbeddingAPI()
    answer = embed(caller, "openai/text-embedding-3-small", "a", api_base=server.base_url, num_retries=1)
    assert vectors(answer) == [vector_for("a", 8)]
    assert len(server.requests) == 3
    for recorded in server.requests:
        assert not {"api_base", "num_retries", "drop_params"} & set(recorded.json())
    with pytest.raises(ritellm.InvalidRequestError, match="disagree"):
        embed(caller, "openai/m", "a", base_url=server.base_url, api_base="http://127.0.0.1:1/v1")


@pytest.mark.parametrize("option", ["caching", "fallbacks", "custom_llm_provider", "logger_fn", "client"])
def test_other_litellm_options_are_refused_by_name(caller: Caller, server: FakeServer, option: str) -> None:
    with pytest.raises(ritellm.InvalidRequestError, match=option):
        embed(caller, "openai/text-embedding-3-small", "a", base_url=server.base_url, **{option: ["x"]})
    assert server.requests == []


def test_litellms_max_retries_is_never_sent_as_a_body_field(caller: Caller, server: FakeServer) -> None:
    """LiteLLM's embedding() takes ``max_retries``: honoured or refused, not sent on."""
    server.answer = api = EmbeddingAPI()
    try:
        embed(caller, "openai/text-embedding-3-small", "a", base_url=server.base_url, max_retries=0)
    except ritellm.InvalidRequestError as refused:
        assert "max_retries" in str(refused) and server.requests == []
    else:
        assert "max_retries" not in api.parts[0].body


def test_mock_response_answers_without_network_or_key(
    caller: Caller, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LiteLLM's ``mock_response`` for embeddings is the vector itself (litellm's
    ``mock_embedding``); an exception is raised."""
    monkeypatch.delenv("OPENAI_API_KEY")
    answer = embed(
        caller,
        "openai/text-embedding-3-small",
        "a",
        mock_response=[0.25, -0.5, 0.125],
        base_url=server.base_url,
    )
    assert vectors(answer) == [[0.25, -0.5, 0.125]]
    assert server.requests == []
    with pytest.raises(ritellm.RateLimitError, match="slow down"):
        embed(caller, "openai/text-embedding-3-small", "a", mock_response=ritellm.RateLimitError("slow down"))


def test_user_extra_headers_additional_params_and_provider_options(
    caller: Caller, server: FakeServer
) -> None:
    server.answer = api = EmbeddingAPI()
    embed(
        caller,
        "hosted_vllm/BAAI/bge-m3",
        "a",
        base_url=server.base_url,
        user="user-1234",
        extra_headers={"X-Tenant": "acme"},
        additional_params='{"priority": 5}',
        truncate_prompt_tokens=512,
    )
    [part] = api.parts
    assert part.recorded.headers["x-tenant"] == "acme"
    sent = part.body
    assert (sent["user"], sent["priority"], sent["truncate_prompt_tokens"]) == ("user-1234", 5, 512)


def test_a_slow_answer_times_out(caller: Caller, server: FakeServer) -> None:
    server.queue(Reply(200, {"content-type": "application/json"}, [b"{}"], delay=30.0))
    started = time.monotonic()
    with pytest.raises(ritellm.APITimeoutError):
        embed(
            caller, "openai/text-embedding-3-small", "a", base_url=server.base_url, timeout=0.5, num_retries=0
        )
    assert time.monotonic() - started < 5


# mock/ ---------------------------------------------------------------------------------------------


def test_mock_vectors_are_deterministic_and_need_nothing(caller: Caller, server: FakeServer) -> None:
    first = embed(caller, "mock/embedding", ["a", "b", "a"])
    again = embed(caller, "mock/embedding", ["a", "b", "a"])
    a, b, a_again = vectors(first)
    assert a == a_again == vectors(again)[0] and a != b
    assert all(type(x) is float and math.isfinite(x) for x in a) and a == [f32(x) for x in a]
    assert first.usage.total_tokens >= first.usage.prompt_tokens > 0
    short = embed(caller, "mock/embedding", ["a", "b"], dimensions=64)
    assert [len(v) for v in vectors(short)] == [64, 64]
    encoded = embed(caller, "mock/embedding", ["a", "b"], encoding_format="base64")
    assert [decode(v) for v in vectors(encoded)] == [a, b]
    assert server.requests == []


# The openai SDK as an oracle ------------------------------------------------------------------------


def test_the_loopback_openai_format_is_what_the_openai_sdk_reads(server: FakeServer) -> None:
    """The fixtures' own check: the SDK (which asks for base64 and decodes it) reads the test
    server's answers as the vectors the tests expect."""
    import openai  # a dev dependency: the SDK is the oracle

    server.answer = EmbeddingAPI(dims=16)
    client = openai.OpenAI(base_url=server.base_url, api_key=OPENAI_KEY, max_retries=0)
    answer = client.embeddings.create(model="text-embedding-3-small", input=TEXTS)
    assert server.requests[0].json()["encoding_format"] == "base64"
    assert [item.embedding for item in answer.data] == [vector_for(t, 16) for t in TEXTS]
    shorter = client.embeddings.create(model="m", input=TEXTS[0], dimensions=4, encoding_format="float")
    assert shorter.data[0].embedding == vector_for(TEXTS[0], 4)
    assert answer.usage.prompt_tokens == sum(tokens_for(t) for t in TEXTS)
    client.close()


@pytest.mark.parametrize("name", ["openai", "gemini", "vertex_ai", "titan", "cohere_v4", "voyage", "mock"])
def test_answers_validate_as_the_openai_sdks_create_embedding_response(
    caller: Caller, server: FakeServer, name: str
) -> None:
    import openai.types as openai_types

    if name == "mock":
        answer = embed(caller, "mock/embedding", TEXTS)
    else:
        server.answer = EmbeddingAPI(voyage=name == "voyage")
        model, options = call_args(server, name)
        answer = embed(caller, model, TEXTS, **options)
    typed = openai_types.CreateEmbeddingResponse.model_validate(answer)
    assert typed.object == "list" and len(typed.data) == 3
    assert [item.embedding for item in typed.data] == vectors(answer)
    assert typed.usage.prompt_tokens == answer.usage.prompt_tokens
    assert typed.model == answer.model
    assert typed.model_dump(exclude_unset=True) == answer


# Callbacks and the command ----------------------------------------------------------------------


@pytest.fixture
def events() -> Any:
    seen: list[ritellm.CallEvent] = []
    ritellm.callbacks.append(seen.append)
    yield seen
    ritellm.callbacks.remove(seen.append)


def test_callbacks_get_one_embedding_event_per_call(
    caller: Caller, server: FakeServer, events: list[ritellm.CallEvent]
) -> None:
    server.queue(openai_error(503, "The server is overloaded", "server_error"))
    server.answer = EmbeddingAPI()
    answer = embed(caller, "openai/text-embedding-3-small", TEXTS, base_url=server.base_url)
    server.answer = lambda recorded: openai_error(
        404, "The model `nope` does not exist", "invalid_request_error"
    )
    with pytest.raises(ritellm.NotFoundError) as raised:
        embed(caller, "openai/nope", "a", base_url=server.base_url)
    done, failed = events
    assert (done.provider, done.model, done.operation, done.stream) == (
        "openai",
        "text-embedding-3-small",
        "embedding",
        False,
    )
    assert done.usage == answer.usage and done.attempts == 2 and done.exception is None
    assert (done.inputs, failed.inputs) == (len(TEXTS), 1)
    assert done.latency > 0 and done.time_to_first_chunk is None
    assert failed.operation == "embedding" and failed.exception is raised.value
    assert OPENAI_KEY not in repr(events)


def test_the_command_embeds_an_argument_or_lines_of_stdin(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ritellm._cli import main

    assert main(["embed", "hello from the terminal"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["object"] == "list" and len(printed["data"]) == 1
    assert printed == ritellm.embedding("mock/embedding", "hello from the terminal")

    monkeypatch.setattr(sys, "stdin", io.StringIO("first line\nsecond line\n"))
    server.answer = api = EmbeddingAPI()
    args = ["embed", "-m", "hosted_vllm/BAAI/bge-m3", "--base-url", server.base_url, "--dimensions", "4"]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [item["embedding"] for item in printed["data"]] == [
        vector_for(t, 4) for t in ("first line", "second line")
    ]
    assert api.parts[0].body["input"] == ["first line", "second line"]

    assert main(["embed", "-m", "anthropic/claude-sonnet-4-5", "x"]) == 1
    assert capsys.readouterr().err.startswith("ritellm: error:")
