"""LiteLLM's result types by its names (``litellm.types.utils``): ritellm's records, each also
of the LiteLLM-named class, with their nested records of LiteLLM's classes too.

They are dicts with attribute access and Pydantic's methods (``model_dump()``, ...) as all of
ritellm's results are; LiteLLM's keyword construction (``Message(content="hi",
role="assistant")``) makes the same record.
"""

# No `from __future__ import annotations`: records read their annotations at runtime. The
# narrower nested types below are what make nested records LiteLLM's classes too; a list's
# type is invariant to a checker, hence its ignores.
from typing import Optional

from ... import types as ours

__all__ = [
    "ChatCompletionDeltaToolCall",
    "ChatCompletionMessageToolCall",
    "Choices",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "Function",
    "Message",
    "ModelResponse",
    "ModelResponseStream",
    "ResponsesAPIResponse",
    "StreamingChoices",
    "Usage",
]


class Function(ours.Function):
    name: Optional[str]


class ChatCompletionMessageToolCall(ours.ToolCall):
    function: Function


class ChatCompletionDeltaToolCall(ours.ToolCall):
    function: Function


class Usage(ours.Usage):
    total_tokens: int


class Message(ours.Message):
    tool_calls: Optional[list[ChatCompletionMessageToolCall]]  # type: ignore[assignment]


class Delta(ours.Delta):
    tool_calls: Optional[list[ChatCompletionDeltaToolCall]]  # type: ignore[assignment]


class Choices(ours.Choice):
    message: Message


class StreamingChoices(ours.ChunkChoice):
    delta: Delta


class ModelResponse(ours.ChatCompletion):
    choices: list[Choices]  # type: ignore[assignment]
    usage: Optional[Usage]


class ModelResponseStream(ours.ChatCompletionChunk):
    choices: list[StreamingChoices]  # type: ignore[assignment]
    usage: Optional[Usage]


class Embedding(ours.Embedding):
    index: int


class EmbeddingResponse(ours.EmbeddingResponse):
    data: list[Embedding]  # type: ignore[assignment]


class ResponsesAPIResponse(ours.Response):
    id: str


# Named as LiteLLM's are: clients recognise LiteLLM's types by module (DSPy's streaming checks
# that a chunk's class is ``ModelResponseStream`` from a ``litellm`` module).
for _name in __all__:
    globals()[_name].__module__ = __name__.replace("ritellm._litellm", "litellm", 1)
del _name

#: The LiteLLM class for each of ritellm's result classes.
AS_LITELLM: dict[type, type] = {
    ours.ChatCompletion: ModelResponse,
    ours.ChatCompletionChunk: ModelResponseStream,
    ours.EmbeddingResponse: EmbeddingResponse,
    ours.Response: ResponsesAPIResponse,
}
