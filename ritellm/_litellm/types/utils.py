"""LiteLLM's result types by its names (``litellm.types.utils``): ritellm's records, each also
of the LiteLLM-named class, with their nested records of LiteLLM's classes too.

They are dicts with attribute access and Pydantic's methods (``model_dump()``, ...) as all of
ritellm's results are; LiteLLM's keyword construction (``Message(content="hi",
role="assistant")``) makes the same record.
"""

# No `from __future__ import annotations`: records read their annotations at runtime. The
# narrower nested types below are what make nested records LiteLLM's classes too; a list's
# type is invariant to a checker, hence its ignores.
from typing import Any, Callable, Optional

from ... import types as ours

try:  # with Pydantic (LiteLLM's clients all have it), streamed tool calls are models, as LiteLLM's
    import pydantic
except ImportError:  # pragma: no cover - they stay records
    pydantic = None  # type: ignore[assignment]

__all__ = [
    "ChatCompletionDeltaToolCall",
    "DeltaFunction",
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


class _DeltaToolCallRecord(ours.ToolCall):
    function: Function


_delta_tool_call: Optional[Callable[[Any], Any]] = None

if pydantic is not None:

    class _Model(pydantic.BaseModel):
        """LiteLLM's OpenAIObject: a Pydantic model that also reads as a mapping."""

        model_config = pydantic.ConfigDict(extra="allow")

        def __contains__(self, key: str) -> bool:
            return hasattr(self, key)

        def get(self, key: str, default: Any = None) -> Any:
            return getattr(self, key, default)

        def __getitem__(self, key: str) -> Any:
            return getattr(self, key)

        def __setitem__(self, key: str, value: Any) -> None:
            setattr(self, key, value)

    class DeltaFunction(_Model):
        """A streamed tool call's function: its name (None after a call's first fragment) and a
        piece of its arguments."""

        name: Optional[str] = None
        arguments: str = ""

    class ChatCompletionDeltaToolCall(_Model):
        """A streamed tool-call fragment, as LiteLLM's: ``id`` and ``type`` None after a call's
        first fragment."""

        id: Optional[str] = None
        function: DeltaFunction = pydantic.Field(default_factory=DeltaFunction)
        type: Optional[str] = None
        index: int = 0

    def _made_delta_tool_call(item: dict[str, Any]) -> Any:
        function = item.get("function") or {}
        return ChatCompletionDeltaToolCall.model_validate(
            {**item, "function": {**function, "arguments": function.get("arguments") or ""}}
        )

    _delta_tool_call = _made_delta_tool_call

else:  # pragma: no cover
    ChatCompletionDeltaToolCall = _DeltaToolCallRecord  # type: ignore[misc]
    DeltaFunction = Function  # type: ignore[misc]


class Usage(ours.Usage):
    total_tokens: int


class Message(ours.Message):
    tool_calls: Optional[list[ChatCompletionMessageToolCall]]  # type: ignore[assignment]


class Delta(ours.Delta):
    tool_calls: Optional[list[_DeltaToolCallRecord]]  # type: ignore[assignment]

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if key == "tool_calls" and _delta_tool_call is not None and isinstance(value, list):
            # LiteLLM's are Pydantic models, not dicts: LangChain merges dict fragments key by
            # key (and fails on dict subclasses) but appends models. Made at each access, not
            # stored: the chunk stays JSON (DSPy serialises it), and equal to what was sent.
            return [_delta_tool_call(item) if isinstance(item, dict) else item for item in value]
        return value


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
