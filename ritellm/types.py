"""Typed views of ritellm's results.

A result is a plain ``dict`` (``response["choices"][0]["message"]["content"]``, ``==`` with a
dict, ``json.dumps``, pickling) whose keys also read as attributes, at every level:
``response.choices[0].message.content``, ``chunk.choices[0].delta.content``,
``response.usage.total_tokens``. The classes below declare the known fields of chat.completion
and chat.completion.chunk, so a type checker catches ``response.choices[0].mesage``.

A known field the provider left out reads as ``None`` (as in the openai SDK); any other missing
attribute raises ``AttributeError``. Keys and attributes mix at every level
(``response["choices"][0].message.content``): a nested dict becomes a record when first
reached either way, and is stored back, so results cost no more than dicts until read. Item
access stays untyped (``dict[str, Any]``), as the documented dict API always was.
"""

# No `from __future__ import annotations`: the annotations are read at runtime to know which
# fields hold nested records. Hence Optional, for Python 3.9.
import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Optional, get_args

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "Choice",
    "ChunkChoice",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "Function",
    "Message",
    "Provider",
    "Record",
    "Response",
    "ResponseError",
    "ResponseOutputItem",
    "ResponseStreamEvent",
    "ResponseUsage",
    "ToolCall",
    "Usage",
]


def _record_in(hint: Any) -> "Optional[type[Record]]":
    """The record class a field's annotation holds, directly or in a list or Optional."""
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint
    for arg in get_args(hint):
        found = _record_in(arg)
        if found is not None:
            return found
    return None


_item = dict.__getitem__
_get = dict.get
_store = dict.__setitem__
_ABSENT = object()


class Record(dict[str, Any]):
    """A dict whose keys also read as attributes; see the module's documentation."""

    __slots__ = ()
    #: Declared fields (read as None when absent), and those that hold records.
    _fields: ClassVar[frozenset[str]] = frozenset()
    _nested: ClassVar[dict[str, "type[Record]"]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The class's own annotations (every record declares some, so none are inherited;
        # Python 3.14 evaluates them here, on first access).
        own = {name: hint for name, hint in cls.__annotations__.items() if name[0] != "_"}
        cls._fields = cls._fields | frozenset(own)
        cls._nested = {**cls._nested, **{n: r for n, h in own.items() if (r := _record_in(h)) is not None}}

    def __getitem__(self, key: str) -> Any:
        value = _item(self, key)
        # A nested dict (or list of dicts) becomes a record when first reached, by key or by
        # attribute, and is stored back: made once, and every later access, either way, sees it.
        kind = type(value)
        if kind is dict:
            value = self._nested.get(key, Record)(value)
            _store(self, key, value)
        elif kind is list and value and type(value[0]) is dict:  # lists are of one kind of item
            record = self._nested.get(key, Record)
            value = [record(item) if type(item) is dict else item for item in value]
            _store(self, key, value)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        value = _get(self, key, _ABSENT)
        if value is _ABSENT:
            return default
        kind = type(value)
        return self[key] if kind is dict or kind is list else value

    if not TYPE_CHECKING:  # a checker would otherwise accept any attribute name

        def __getattr__(self, name: str) -> Any:
            if name in self:
                return self[name]
            if name in self._fields:
                return None
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._fields, *(key for key in self if key.isidentifier())})

    # The methods of Pydantic models and of the openai SDK's results, for code written against
    # LiteLLM's or the SDK's types. Each gives plain dicts and lists, never records.

    def model_dump(
        self,
        *,
        exclude_none: bool = False,
        include: "Optional[Collection[str]]" = None,
        exclude: "Optional[Collection[str]]" = None,
        **_: Any,
    ) -> dict[str, Any]:
        """The record as plain dicts and lists, as Pydantic's ``model_dump()``; ``include`` and
        ``exclude`` name top-level fields; ``exclude_none`` leaves out None values at every level.
        (Pydantic's other options, ``mode``, ``by_alias``, ``exclude_unset``, change nothing here:
        a record holds what the provider sent, in JSON's types.)"""
        return {
            key: _plain(value, exclude_none)
            for key, value in dict.items(self)
            if not (exclude_none and value is None)
            and (include is None or key in include)
            and (exclude is None or key not in exclude)
        }

    def model_dump_json(self, *, indent: "Optional[int]" = None, **options: Any) -> str:
        """The record as JSON text, as Pydantic's ``model_dump_json()``."""
        return json.dumps(self.model_dump(**options), indent=indent, ensure_ascii=False)

    def to_dict(self, *, exclude_none: bool = False, **_: Any) -> dict[str, Any]:
        """The openai SDK's name for :meth:`model_dump`."""
        return self.model_dump(exclude_none=exclude_none)

    def to_json(self, *, indent: "Optional[int]" = 2, exclude_none: bool = False, **_: Any) -> str:
        """The openai SDK's ``to_json()``: indented by 2 unless told."""
        return self.model_dump_json(indent=indent, exclude_none=exclude_none)

    # Last: in the class body below them, ``dict`` and ``json`` would name these methods.
    def dict(self, **options: Any) -> "dict[str, Any]":
        """Pydantic v1's name for :meth:`model_dump`."""
        return self.model_dump(**options)

    def json(self, **options: Any) -> str:
        """Pydantic v1's name for :meth:`model_dump_json`."""
        return self.model_dump_json(**options)


def _plain(value: Any, exclude_none: bool) -> Any:
    """``value`` with every record and list copied as a plain dict and list."""
    if isinstance(value, dict):
        return {
            key: _plain(item, exclude_none)
            for key, item in dict.items(value)
            if not (exclude_none and item is None)
        }
    if isinstance(value, list):
        return [_plain(item, exclude_none) for item in value]
    return value


class Function(Record):
    name: Optional[str]
    #: JSON text; in a stream, each chunk carries a piece of it.
    arguments: Optional[str]


class ToolCall(Record):
    id: Optional[str]
    type: Optional[str]
    function: Function
    #: In stream chunks: which call of the message this piece belongs to.
    index: Optional[int]


class Usage(Record):
    #: All input tokens: cache reads and writes included.
    prompt_tokens: int
    #: All output tokens: reasoning included.
    completion_tokens: int
    total_tokens: int
    #: ``cached_tokens`` (read from the cache) and, where billed apart, ``cache_creation_tokens``.
    prompt_tokens_details: Optional[dict[str, Any]]
    #: ``reasoning_tokens``.
    completion_tokens_details: Optional[dict[str, Any]]
    #: Anthropic's and Bedrock's cache writes and reads, as LiteLLM reports them.
    cache_creation_input_tokens: Optional[int]
    cache_read_input_tokens: Optional[int]


class Message(Record):
    role: str
    content: Optional[str]
    tool_calls: Optional[list[ToolCall]]
    refusal: Optional[str]
    #: The model's visible reasoning (Anthropic's thinking, Gemini's thoughts, DeepSeek's ...).
    reasoning_content: Optional[str]
    #: Anthropic's thinking blocks, signatures included: send the message back as it is and
    #: a conversation with thinking and tool calls goes on.
    thinking_blocks: Optional[list[dict[str, Any]]]
    #: OpenAI's reasoning items, from a model answered through the Responses API (their
    #: ``encrypted_content`` with ``include=["reasoning.encrypted_content"]``): send the message
    #: back as it is and they are sent back too.
    reasoning_items: Optional[list[dict[str, Any]]]


class Choice(Record):
    index: int
    message: Message
    finish_reason: Optional[str]
    logprobs: Optional[dict[str, Any]]


class ChatCompletion(Record):
    """A complete answer: an OpenAI chat.completion."""

    #: Where the result came from, as LiteLLM's results say it: ``custom_llm_provider``,
    #: ``model`` (the model string called) and ``response_cost`` (USD, or None when unknown).
    _hidden_params: dict[str, Any]

    id: str
    object: str
    created: int
    model: str
    choices: list[Choice]
    usage: Optional[Usage]
    system_fingerprint: Optional[str]
    service_tier: Optional[str]


class Delta(Record):
    role: Optional[str]
    content: Optional[str]
    tool_calls: Optional[list[ToolCall]]
    refusal: Optional[str]
    reasoning_content: Optional[str]
    #: A whole thinking block, sent when it ends (see ``Message.thinking_blocks``).
    thinking_blocks: Optional[list[dict[str, Any]]]
    #: A whole reasoning item, sent when it ends (see ``Message.reasoning_items``).
    reasoning_items: Optional[list[dict[str, Any]]]


class ChunkChoice(Record):
    index: int
    delta: Delta
    finish_reason: Optional[str]
    logprobs: Optional[dict[str, Any]]


class ChatCompletionChunk(Record):
    """One piece of a streamed answer: an OpenAI chat.completion.chunk. Some chunks have no
    choices (a usage chunk, Azure's prompt_filter_results): loop over ``choices``."""

    id: str
    object: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Optional[Usage]
    system_fingerprint: Optional[str]
    service_tier: Optional[str]


class Embedding(Record):
    object: str
    #: The position of the input this vector is for.
    index: int
    #: Floats, or with ``encoding_format="base64"`` the little-endian float32 values in base64.
    embedding: Any


class EmbeddingUsage(Record):
    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(Record):
    """An answer to ``embedding()``: OpenAI's embedding list, one vector per input, in order."""

    #: Where the result came from, as LiteLLM's results say it: ``custom_llm_provider``,
    #: ``model`` (the model string called) and ``response_cost`` (USD, or None when unknown).
    _hidden_params: dict[str, Any]

    object: str
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class ResponseUsage(Record):
    input_tokens: int
    #: ``cached_tokens``: of the input, how many were read from the prompt cache.
    input_tokens_details: Optional[dict[str, Any]]
    output_tokens: int
    #: ``reasoning_tokens``: of the output, how many the model spent reasoning.
    output_tokens_details: Optional[dict[str, Any]]
    total_tokens: int


class ResponseError(Record):
    code: Optional[str]
    message: str


class ResponseOutputItem(Record):
    """One item of a response's ``output``: a ``message``, a ``reasoning`` item, a
    ``function_call``, or one of OpenAI's built-in tools' calls. Fields of other types read as
    None."""

    type: str
    id: Optional[str]
    status: Optional[str]
    #: A message's: its role and its parts (``output_text``, ``refusal``), and its ``phase``
    #: (``commentary`` for a preamble, ``final_answer``) where the model gives one.
    role: Optional[str]
    content: Optional[list[dict[str, Any]]]
    phase: Optional[str]
    #: A function call's: the id its output is sent back with, the function and its JSON text.
    call_id: Optional[str]
    name: Optional[str]
    arguments: Optional[str]
    #: A reasoning item's: its summary parts, and its reasoning kept encrypted for the next turn
    #: (``include=["reasoning.encrypted_content"]``).
    summary: Optional[list[dict[str, Any]]]
    encrypted_content: Optional[str]


class Response(Record):
    """An answer to ``responses()``: an OpenAI Responses ``response`` object, of OpenAI's own
    Responses API or made by ritellm from a chat API's answer."""

    #: Where the result came from, as LiteLLM's results say it: ``custom_llm_provider``,
    #: ``model`` (the model string called) and ``response_cost`` (USD, or None when unknown).
    _hidden_params: dict[str, Any]

    id: str
    object: str
    created_at: float
    #: ``completed``, ``incomplete`` (see ``incomplete_details``), ``failed`` (see ``error``),
    #: ``in_progress``, ``queued`` or ``cancelled``.
    status: Optional[str]
    model: str
    output: list[ResponseOutputItem]
    usage: Optional[ResponseUsage]
    error: Optional[ResponseError]
    incomplete_details: Optional[dict[str, Any]]
    instructions: Any
    tools: list[dict[str, Any]]
    tool_choice: Any
    parallel_tool_calls: bool
    temperature: Optional[float]
    top_p: Optional[float]
    max_output_tokens: Optional[int]
    previous_response_id: Optional[str]
    reasoning: Optional[dict[str, Any]]
    text: Optional[dict[str, Any]]
    metadata: Optional[dict[str, Any]]
    store: Optional[bool]
    truncation: Optional[str]
    user: Optional[str]

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of the output's messages, joined, as the
        openai SDK's ``Response.output_text``."""
        return "".join(
            part.get("text") or ""
            for item in self.get("output") or ()
            if item.get("type") == "message"
            for part in item.get("content") or ()
            if part.get("type") == "output_text"
        )


class ResponseStreamEvent(Record):
    """One event of a streamed response, as OpenAI sends it: ``type`` says which
    (``response.created``, ``response.output_text.delta``, ``response.completed``, ``error``,
    ...), ``sequence_number`` where it falls; the other fields are those its type has."""

    type: str
    sequence_number: Optional[int]
    #: ``response.created``, ``.in_progress``, ``.completed``, ``.incomplete``, ``.failed``.
    response: Optional[Response]
    #: ``response.output_item.added`` and ``.done``.
    item: Optional[ResponseOutputItem]
    item_id: Optional[str]
    output_index: Optional[int]
    content_index: Optional[int]
    summary_index: Optional[int]
    #: The piece of text or of a function call's arguments that ``*.delta`` events carry.
    delta: Optional[str]
    #: The whole text (``*.text.done``) or arguments (``*.arguments.done``).
    text: Optional[str]
    arguments: Optional[str]
    part: Optional[dict[str, Any]]
    #: An ``error`` event's.
    code: Optional[str]
    message: Optional[str]
    param: Optional[str]


class Provider(NamedTuple):
    """A provider ritellm knows (see ``ritellm.providers()``)."""

    #: The model prefix that picks it: ``openai`` in ``openai/gpt-4o-mini``.
    prefix: str
    #: Its wire protocol: ``openai`` (OpenAI-compatible), ``anthropic``, ``gemini``, ...
    protocol: str
    #: Where calls go by default; None where there is none (Azure: your resource's URL).
    base_url: Optional[str]
    #: Environment variables that set the base URL, first set wins.
    base_url_env: tuple[str, ...]
    #: The environment variable the key is read from; None for providers without keys.
    key_env: Optional[str]
    #: Whether a call without a key is refused before it is sent.
    key_required: bool
    #: What it serves: ``"chat"``, ``"embedding"``, ``"responses"``.
    operations: tuple[str, ...] = ("chat",)
    #: Whether its server has OpenAI's Responses API (stored responses included); other
    #: providers with chat answer ``responses()`` through their chat API.
    native_responses: bool = False
