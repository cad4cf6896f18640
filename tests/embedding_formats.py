"""Answers in each provider's embedding wire format, written from their API references, for
the local test server to send; and :class:`EmbeddingAPI`, a server that answers every request
in its provider's format with vectors derived from the texts it was sent.

Formats (fields as the references spell them):

* OpenAI ``POST /v1/embeddings``
  (https://platform.openai.com/docs/api-reference/embeddings): ``{"object": "list", "data":
  [{"object": "embedding", "index": i, "embedding": [...] | "<base64>"}], "model": ...,
  "usage": {"prompt_tokens": n, "total_tokens": n}}``; base64 is the vector's little-endian
  float32 bytes. Azure OpenAI, Mistral, Together, Fireworks, NVIDIA NIM, Ollama, LM Studio,
  vLLM and llama.cpp's ``/v1/embeddings`` answer the same way.
* Voyage ``POST /v1/embeddings`` (https://docs.voyageai.com/reference/embeddings-api): the same
  list, its usage ``{"total_tokens": n}`` only.
* Gemini ``models/{model}:batchEmbedContents``
  (https://ai.google.dev/api/embeddings#method:-models.batchembedcontents): ``{"embeddings":
  [{"values": [...]}]}`` in request order; newer models add ``usageMetadata``.
* Vertex AI ``publishers/google/models/{model}:predict``
  (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api):
  ``{"predictions": [{"embeddings": {"values": [...], "statistics": {"token_count": n,
  "truncated": false}}}], "metadata": {"billableCharacterCount": n}}``.
* Bedrock ``InvokeModel``: Titan Text Embeddings V2 (one text)
  (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html)
  ``{"embedding": [...], "inputTextTokenCount": n, "embeddingsByType": {"float": [...]}}``;
  Cohere Embed v3/v4 (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed-v3.html)
  ``{"id", "embeddings": [[...]], "response_type": "embeddings_floats", "texts"}``, or with
  ``embedding_types`` asked (always on v4) ``{"embeddings": {"float": [[...]]}, "response_type":
  "embeddings_by_type", ...}``. Bedrock counts tokens in the ``X-Amzn-Bedrock-Input-Token-Count``
  response header.
* llama.cpp's own ``/embedding`` (tools/server/README.md, "non-OpenAI-compatible embeddings
  API"): a bare list ``[{"index": 0, "embedding": [[...]]}]``, one pooled vector in the list.
"""

from __future__ import annotations

import base64
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote

# One definition of the vectors, there because the Pyodide checks can import only their file.
from tests.browser.checks import f32 as f32
from tests.browser.checks import vector_for as vector_for
from tests.server import Recorded, Reply

# Vectors ---------------------------------------------------------------------------------


#: float32 values at the edges: the largest, the smallest normal, a subnormal, negative zero,
#: and values whose shortest decimal form is long.
EDGE_VECTOR = [
    f32(3.4028234663852886e38),
    f32(1.1754943508222875e-38),
    f32(1.401298464324817e-45),
    -0.0,
    f32(0.1),
    f32(-1 / 3),
    f32(0.0023064255),
    f32(-0.009327292),
]


def encode(vector: Sequence[float]) -> str:
    """A vector as OpenAI's base64: its little-endian float32 bytes, standard base64."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def decode(text: str) -> list[float]:
    """OpenAI's base64 back to floats, without numpy."""
    raw = base64.b64decode(text, validate=True)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def tokens_for(text: Any) -> int:
    """The token count the test servers report for one input."""
    return len(text) if isinstance(text, list) else len(text.split()) + 1


# One answer in each format -----------------------------------------------------------------


def openai_embeddings(
    vectors: Sequence[Any],
    model: str = "text-embedding-3-small",
    prompt_tokens: int = 8,
    as_base64: bool = False,
) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": encode(v) if as_base64 else list(v)}
            for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def openai_error(status: int, message: str, type: str, code: str | None = None) -> Reply:
    headers = {"x-request-id": "req_7f3c2b1a9e8d4c6b"}
    if status == 429:
        headers["retry-after"] = "0"
    return Reply.json(
        {"error": {"message": message, "type": type, "param": None, "code": code}}, status, headers
    )


RATE_LIMITED = (
    429,
    "Rate limit reached for text-embedding-3-small in organization org-x on tokens per min (TPM): "
    "Limit 1000000, Used 999800, Requested 400.",
    "tokens",
    "rate_limit_exceeded",
)


def voyage_embeddings(vectors: Sequence[Any], total_tokens: int, as_base64: bool = False) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "embedding": encode(v) if as_base64 else list(v), "index": i}
            for i, v in enumerate(vectors)
        ],
        "model": "voyage-3.5",
        "usage": {"total_tokens": total_tokens},
    }


def gemini_embeddings(vectors: Sequence[Sequence[float]], prompt_tokens: int | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"embeddings": [{"values": list(v)} for v in vectors]}
    if prompt_tokens is not None:
        answer["usageMetadata"] = {
            "promptTokenCount": prompt_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        }
    return answer


def gemini_error(status: int, canonical: str, message: str) -> Reply:
    return Reply.json({"error": {"code": status, "message": message, "status": canonical}}, status)


def vertex_predictions(vectors: Sequence[Sequence[float]], texts: Sequence[str]) -> dict[str, Any]:
    return {
        "predictions": [
            {
                "embeddings": {
                    "values": list(v),
                    "statistics": {"token_count": tokens_for(t), "truncated": False},
                }
            }
            for v, t in zip(vectors, texts)
        ],
        "metadata": {"billableCharacterCount": sum(len(t.replace(" ", "")) for t in texts)},
    }


def bedrock_headers(input_tokens: int) -> dict[str, str]:
    return {
        "x-amzn-requestid": "9d3f1a52-6c1e-4b8e-a0f4-3c2d7e5b1a90",
        "x-amzn-bedrock-invocation-latency": "112",
        "x-amzn-bedrock-input-token-count": str(input_tokens),
    }


def titan_embedding(vector: Sequence[float], text: str) -> Reply:
    tokens = tokens_for(text)
    body = {
        "embedding": list(vector),
        "inputTextTokenCount": tokens,
        "embeddingsByType": {"float": list(vector)},
    }
    return Reply.json(body, headers=bedrock_headers(tokens))


def cohere_embeddings(vectors: Sequence[Sequence[float]], texts: Sequence[str], by_type: bool) -> Reply:
    embeddings: Any = [list(v) for v in vectors]
    body = {
        "id": "5b6f0c2e-8a4d-4e57-9c1b-2f7d3a9e6c10",
        "embeddings": {"float": embeddings} if by_type else embeddings,
        "response_type": "embeddings_by_type" if by_type else "embeddings_floats",
        "texts": [t.lower() for t in texts],  # Cohere echoes the texts as it read them
    }
    return Reply.json(body, headers=bedrock_headers(sum(tokens_for(t) for t in texts)))


def bedrock_error(status: int, error_type: str, message: str) -> Reply:
    headers = {"x-amzn-errortype": f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    if status == 429:
        headers["retry-after"] = "0"
    return Reply.json({"message": message}, status, headers)


def llamacpp_bare(vectors: Sequence[Sequence[float]], nested: bool = True) -> list[dict[str, Any]]:
    """llama.cpp's non-OpenAI answer: a bare list, each pooled vector inside a list of its own
    (``nested``), as its ``/embedding`` sends it."""
    return [{"index": i, "embedding": [list(v)] if nested else list(v)} for i, v in enumerate(vectors)]


# A server answering each provider's format -------------------------------------------------


class Part:
    """One request the API answered: its texts and its vectors."""

    def __init__(self, recorded: Recorded, texts: list[Any], dims: int) -> None:
        self.recorded = recorded
        self.texts = texts
        self.dims = dims
        self.body: Any = recorded.json() if recorded.body else {}
        #: The reply made for it, once made.
        self.reply: Reply | None = None


class EmbeddingAPI:
    """A ``server.answer`` for embedding requests of any provider's format: vectors from
    :func:`vector_for` of each text, ``dims`` long unless the request asks for a length, in
    base64 where the request asks for it (and ``honours_base64``), with the provider's token
    counts.

    ``before(part)`` runs first and may return a reply of its own (an error), or wait;
    ``after(part)`` runs once the part's reply is made (``part.reply``), before it is sent;
    ``shuffle`` sends an OpenAI-format answer's items in reverse order (each with its index).
    """

    def __init__(
        self,
        dims: int = 8,
        *,
        honours_base64: bool = True,
        voyage: bool = False,
        shuffle: bool = False,
        model: str = "text-embedding-3-small",
        before: Callable[[Part], Reply | None] | None = None,
        after: Callable[[Part], None] | None = None,
    ) -> None:
        self.dims = dims
        self.honours_base64 = honours_base64
        self.voyage = voyage
        self.shuffle = shuffle
        self.model = model
        self.before = before
        self.after = after
        self.parts: list[Part] = []
        self._lock = threading.Lock()

    def __call__(self, recorded: Recorded) -> Reply:
        path = recorded.path.split("?")[0]
        body = recorded.json() if recorded.body else {}
        if path.endswith(":batchEmbedContents"):
            texts = [r["content"]["parts"][0]["text"] for r in body["requests"]]
            dims = {r.get("outputDimensionality", self.dims) for r in body["requests"]}
            assert len(dims) == 1, body
            part = self._part(recorded, texts, dims.pop())
            return self._reply(
                part, lambda: Reply.json(gemini_embeddings(self._vectors(part), self._tokens(part)))
            )
        if path.endswith(":predict"):
            texts = [i["content"] for i in body["instances"]]
            part = self._part(
                recorded, texts, body.get("parameters", {}).get("outputDimensionality", self.dims)
            )
            return self._reply(part, lambda: Reply.json(vertex_predictions(self._vectors(part), texts)))
        if unquote(path).startswith("/model/") and path.endswith("/invoke"):
            if "inputText" in body:
                part = self._part(recorded, [body["inputText"]], body.get("dimensions", self.dims))
                return self._reply(part, lambda: titan_embedding(self._vectors(part)[0], part.texts[0]))
            part = self._part(recorded, list(body["texts"]), body.get("output_dimension", self.dims))
            by_type = "embedding_types" in body or "embed-v4" in unquote(path)
            return self._reply(part, lambda: cohere_embeddings(self._vectors(part), part.texts, by_type))
        assert path.endswith("/embeddings"), recorded.path
        given = body["input"]
        if isinstance(given, str):
            texts = [given]
        elif given and all(isinstance(i, int) for i in given):
            texts = [given]
        else:
            texts = list(given)
        dims = body.get("dimensions", body.get("output_dimension", self.dims))
        part = self._part(recorded, texts, dims)
        as_base64 = self.honours_base64 and body.get("encoding_format") == "base64"

        def answer() -> Reply:
            vectors = self._vectors(part)
            if self.voyage:
                payload = voyage_embeddings(vectors, self._tokens(part), as_base64)
            else:
                payload = openai_embeddings(vectors, self.model, self._tokens(part), as_base64)
            if self.shuffle:
                payload["data"].reverse()
            return Reply.json(payload)

        return self._reply(part, answer)

    def _part(self, recorded: Recorded, texts: list[Any], dims: int) -> Part:
        part = Part(recorded, texts, dims)
        with self._lock:
            self.parts.append(part)
        return part

    def _reply(self, part: Part, make: Callable[[], Reply]) -> Reply:
        reply = self.before(part) if self.before is not None else None
        part.reply = reply if reply is not None else make()
        if self.after is not None:
            self.after(part)
        return part.reply

    @staticmethod
    def _vectors(part: Part) -> list[list[float]]:
        return [vector_for(text, part.dims) for text in part.texts]

    @staticmethod
    def _tokens(part: Part) -> int:
        return sum(tokens_for(text) for text in part.texts)
