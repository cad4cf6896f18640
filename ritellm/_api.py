"""The public calls: :func:`completion`, :func:`embedding` and :func:`responses`, the calls on
stored responses, and their async twins."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Callable, Literal, TypeVar, cast, overload

from . import _cache, _callbacks, _cloud, _embeddings, _instance, _pools, _responses, _transport
from ._answers import read
from ._callbacks import Watch
from ._exceptions import APIStatusError, InternalError
from ._limits import Limits
from ._models import HiddenParams, Prepared
from ._options import TimeoutTypes
from ._prepare import cache_key, prepare
from ._retries import DEFAULT_MAX_RETRIES
from ._streaming import AsyncResponseStream, AsyncStream, ResponseStream, Stream
from .types import ChatCompletion, EmbeddingResponse, Provider, Record, Response

if TYPE_CHECKING:
    from ._tokens import TokenCount

R = TypeVar("R", bound=Record)
SyncStreams = TypeVar("SyncStreams", Stream, ResponseStream)
AsyncStreams = TypeVar("AsyncStreams", AsyncStream, AsyncResponseStream)

#: A list of openai's ChatCompletionMessageParam, of TypedDicts or of plain dicts all fit.
Messages = Iterable[Mapping[str, Any]]


@overload
def completion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: Literal[False] = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion: ...


@overload
def completion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    *,
    stream: Literal[True],
    additional_params: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> Stream: ...


@overload
def completion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: bool = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion | Stream: ...


def completion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: bool = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion | Stream:
    """Sends a chat completion to the provider named by ``model``'s prefix.

    Args:
        model: ``"<provider>/<model>"``, for example ``"openai/gpt-4o-mini"``. The model part
            may contain slashes (``"openrouter/meta-llama/llama-3.1-70b"``).
        messages: OpenAI-style messages, sent as given.
        temperature, max_tokens: sent when not ``None``.
        base_url: the API base (``https://api.openai.com/v1``); ``/chat/completions`` is
            appended unless it is already there.
        stream: return a :class:`Stream` of chat.completion.chunk dicts.
        additional_params: a JSON object, as text, merged into the request body; its keys win.
        api_key: overrides the provider's environment variable (``OPENAI_API_KEY``, ...).
        timeout: seconds, or an ``httpx.Timeout``; default 600 s with a 5 s connect.
        extra_headers: added to the request's headers.
        api_version: for ``azure/``; default ``$AZURE_API_VERSION``, else a current GA version.
        max_retries: retries of a failed attempt (see ``ritellm._retries`` for which); default 2.
        limits: a :class:`Limits` with the answer size and nesting bounds.
        **params: any other body field (``top_p``, ``stop``, ``tools``, ``response_format``,
            ``stream_options``, ...), sent as given; and LiteLLM's ``fallbacks=[model, ...]``
            (models, or ``{"model": ..., **arguments}``, tried in turn by a
            :class:`~ritellm.Router`'s rules when the call fails) and ``caching`` / ``cache``
            (see :class:`~ritellm.Cache`).

    Returns:
        A chat.completion dict, or with ``stream=True`` a :class:`Stream`.

    A model that answers only through OpenAI's Responses API (``o3-pro``, ``gpt-5-codex``, ...,
    or any model written ``openai/responses/<model>``) is sent there and its answer read back as
    a chat.completion; so is a model the server refuses on chat with "only supported in
    v1/responses", once.

    Raises:
        UnsupportedProviderError: (a ``ValueError``) the model has no known provider prefix.
        InvalidRequestError: (a ``ValueError``) the call is malformed; nothing was sent.
        MissingAPIKeyError: the provider needs a key and none was found.
        APIError: the provider failed the call; see the subclasses in ``ritellm``.
    """

    def prepared(model: str) -> Prepared:
        return prepare(
            model,
            messages,
            stream=stream,
            base_url=base_url,
            additional_params=additional_params,
            api_key=api_key,
            timeout=timeout,
            extra_headers=extra_headers,
            api_version=api_version,
            max_retries=max_retries,
            limits=limits,
            params={"temperature": temperature, "max_tokens": max_tokens, **params},
        )

    fallbacks = params.pop("fallbacks", None)
    if fallbacks:
        follow, _ = _followers()
        return cast(
            "ChatCompletion | Stream", follow(model, messages, fallbacks, **_call_options(locals(), params))
        )
    use, params = _cache.take(params)
    watch = _callbacks.watch(model, stream)
    try:
        if use is not None:
            use.keyed(
                _chat_key(
                    model, messages, base_url, additional_params, api_version, temperature, max_tokens, params
                )
            )
            stored = use.get()
            if stored is not None:
                return cast(
                    "ChatCompletion | Stream",
                    _from_cache(stored, stream, ChatCompletion, Stream, watch, model),
                )
        try:
            result = _sent(prepared(model), stream, ChatCompletion, Stream, watch)
        except APIStatusError as exc:
            through_responses = _responses.through_responses(model, exc)
            if through_responses is None:
                raise
            if watch is not None:
                watch.earlier_attempts = exc.attempts
            result = _sent(prepared(through_responses), stream, ChatCompletion, Stream, watch)
        return result if use is None else cast("ChatCompletion | Stream", _kept(use, result))
    except Exception as exc:
        if watch is not None:
            watch.end(exception=exc)
        raise


def _chat_key(
    model: str,
    messages: Messages,
    base_url: str | None,
    additional_params: str | None,
    api_version: str | None,
    temperature: float | None,
    max_tokens: int | None,
    params: Mapping[str, Any],
) -> str:
    return cache_key(
        model,
        messages,
        base_url=base_url,
        additional_params=additional_params,
        api_version=api_version,
        params={"temperature": temperature, "max_tokens": max_tokens, **params},
    )


def _from_cache(
    stored: dict[str, Any],
    stream: bool,
    kind: type[R],
    stream_class: type[Any],
    watch: Watch | None,
    model: str,
) -> Any:
    """A cache hit as the call answers: a stream replayed, or the complete answer."""
    if stream:
        return _cache.replayed(_cache.chunks(stored, stream_class._kind), stream_class, watch)
    result = _cache.answer(stored, kind, model)
    _cache.hit(watch, result)
    return result


def _kept(use: _cache.Use, result: Any) -> Any:
    """``result``, stored: a complete answer now, a stream once it ends normally."""
    if isinstance(result, (Stream, ResponseStream)):
        stream: Any = result
        stream._chunks = _cache.recording(stream._chunks, use)
    elif _cache.storable(result):
        use.put("answer", result)
    return result


async def _akept(use: _cache.Use, result: Any) -> Any:
    """The async twin of `_kept`."""
    if isinstance(result, (AsyncStream, AsyncResponseStream)):
        stream: Any = result
        stream._chunks = _cache.arecording(stream._chunks, use)
    elif _cache.storable(result):
        await use.aput("answer", result)
    return result


#: How completion() follows LiteLLM's per-call ``fallbacks=``: the Router's rules, sync and
#: async, installed by ``ritellm._router`` when it is imported (on first use of fallbacks= or of
#: ``ritellm.Router``), so that this module, whose calls the Router makes, does not import it.
follow_fallbacks: tuple[Callable[..., Any], Callable[..., Awaitable[Any]]] | None = None


def _followers() -> tuple[Callable[..., Any], Callable[..., Awaitable[Any]]]:
    if follow_fallbacks is None:
        import importlib

        importlib.import_module(f"{__package__}._router")  # loaded on first use; it installs them
    if follow_fallbacks is None:
        raise InternalError("ritellm._router did not install the per-call fallbacks")
    return follow_fallbacks


#: completion()'s own arguments, handed on whole to the calls that per-call fallbacks make.
_COMPLETION_ARGUMENTS = (
    "temperature",
    "max_tokens",
    "base_url",
    "stream",
    "additional_params",
    "api_key",
    "timeout",
    "extra_headers",
    "api_version",
    "max_retries",
    "limits",
)


def _call_options(arguments: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    return {**{name: arguments[name] for name in _COMPLETION_ARGUMENTS}, **params}


def _sent(
    prepared: Prepared, stream: bool, kind: type[R], stream_class: type[SyncStreams], watch: Watch | None
) -> R | SyncStreams:
    """Sends a prepared call: its answer, read as ``kind``, or its stream."""
    prepared = _cloud.authorize(prepared)
    sent = _transport.request(_pools.sync_pools(), prepared, stream=stream)
    if sent.body is None:
        return stream_class(sent, watch)
    result = read(sent, kind)
    _keep_origin(result, f"{prepared.provider}/{prepared.model}")
    if watch is not None:
        watch.answered(result, sent.attempts)
    return result


def _keep_origin(result: Record, model: str) -> None:
    """Notes on a result where it came from, as LiteLLM's results do (``_hidden_params``), so
    that it is priced as the provider's model that answered it. (Plain records, a stored
    response's list or deletion, have no attributes of their own and no cost.)"""
    if type(result) is Record:
        return
    result._hidden_params = HiddenParams(model.partition("/")[0], model, result)  # type: ignore[attr-defined]


async def _asent(
    prepared: Prepared, stream: bool, kind: type[R], stream_class: type[AsyncStreams], watch: Watch | None
) -> R | AsyncStreams:
    """The async twin of `_sent`."""
    import asyncio

    if _cloud.needs_authorizing(prepared):  # may do I/O: not on the event loop
        prepared = await asyncio.get_running_loop().run_in_executor(None, _cloud.authorize, prepared)
    sent = await _transport.arequest(await _pools.async_pools(), prepared, stream=stream)
    if sent.body is None:
        return stream_class(sent, watch)
    result = read(sent, kind)
    _keep_origin(result, f"{prepared.provider}/{prepared.model}")
    if watch is not None:
        watch.answered(result, sent.attempts)
    return result


@overload
async def acompletion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: Literal[False] = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion: ...


@overload
async def acompletion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    *,
    stream: Literal[True],
    additional_params: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> AsyncStream: ...


@overload
async def acompletion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: bool = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion | AsyncStream: ...


async def acompletion(
    model: str,
    messages: Messages,
    temperature: float | None = None,
    max_tokens: int | None = None,
    base_url: str | None = None,
    stream: bool = False,
    additional_params: str | None = None,
    *,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    limits: Limits | None = None,
    **params: Any,
) -> ChatCompletion | AsyncStream:
    """The async twin of :func:`completion`, with the same arguments.

    With ``stream=True`` it returns an :class:`AsyncStream` once the provider has accepted the
    request (an error answer raises here, as with :func:`completion`).
    """
    import asyncio  # here, not at the top: importing it costs sync-only users ~20 ms

    def prepared(model: str) -> Prepared:
        return prepare(
            model,
            messages,
            stream=stream,
            base_url=base_url,
            additional_params=additional_params,
            api_key=api_key,
            timeout=timeout,
            extra_headers=extra_headers,
            api_version=api_version,
            max_retries=max_retries,
            limits=limits,
            params={"temperature": temperature, "max_tokens": max_tokens, **params},
        )

    fallbacks = params.pop("fallbacks", None)
    if fallbacks:
        _, afollow = _followers()
        return cast(
            "ChatCompletion | AsyncStream",
            await afollow(model, messages, fallbacks, **_call_options(locals(), params)),
        )
    use, params = _cache.take(params)
    watch = _callbacks.watch(model, stream)
    try:
        if not _instance.loaded():
            await asyncio.get_running_loop().run_in_executor(None, _instance.load)
        if use is not None:
            use.keyed(
                _chat_key(
                    model, messages, base_url, additional_params, api_version, temperature, max_tokens, params
                )
            )
            stored = await use.aget()
            if stored is not None:
                return cast(
                    "ChatCompletion | AsyncStream",
                    _from_cache(stored, stream, ChatCompletion, AsyncStream, watch, model),
                )
        try:
            result = await _asent(prepared(model), stream, ChatCompletion, AsyncStream, watch)
        except APIStatusError as exc:
            through_responses = _responses.through_responses(model, exc)
            if through_responses is None:
                raise
            if watch is not None:
                watch.earlier_attempts = exc.attempts
            result = await _asent(prepared(through_responses), stream, ChatCompletion, AsyncStream, watch)
        return result if use is None else cast("ChatCompletion | AsyncStream", await _akept(use, result))
    except Exception as exc:
        if watch is not None:
            watch.end(exception=exc)
        raise


def embedding(
    model: str,
    input: str | Iterable[str] | Iterable[int] | Iterable[Iterable[int]],
    *,
    dimensions: int | None = None,
    encoding_format: Literal["float", "base64"] | None = None,
    input_type: str | None = None,
    user: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    num_retries: int | None = None,
    additional_params: str | None = None,
    api_version: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **provider_options: Any,
) -> EmbeddingResponse:
    """Embeds ``input`` with the model named by ``model``'s prefix (``"openai/text-embedding-3-small"``).

    Args:
        input: a string, a list of strings, a list of token ids (one input), or a list of lists
            of token ids, where the provider takes them.
        dimensions: the length of each vector, where the model can shorten them; refused by
            name where it cannot (or left out with ``drop_params=True``).
        encoding_format: ``"base64"`` returns each vector as base64 of little-endian float32,
            as OpenAI does; otherwise floats. (ritellm asks the provider for whatever is
            fastest to read, and never sends ``null``.)
        input_type: ``"query"`` or ``"document"`` (each provider's own word for them is sent),
            or the provider's own value.
        user, base_url, api_key, timeout, additional_params, api_version, extra_headers: as for
            :func:`completion`. ``num_retries``: retries of a failed request (default 2).
        **provider_options: other body fields, sent as given.

    Returns:
        An :class:`~ritellm.types.EmbeddingResponse`: one vector per input, in input order,
        with the usage summed over the requests the call was split into.

    Raises:
        As :func:`completion`. A call split into several requests fails when one fails, with
        that request's error, whose ``failed_inputs`` says which inputs it carried.
    """
    settings = {
        "base_url": base_url,
        "api_key": api_key,
        "timeout": timeout,
        "num_retries": num_retries,
        "additional_params": additional_params,
        "api_version": api_version,
        "extra_headers": extra_headers,
    }
    params = {
        "dimensions": dimensions,
        "encoding_format": encoding_format,
        "input_type": input_type,
        "user": user,
    }
    use, provider_options = _cache.take(provider_options)
    watch = _callbacks.watch(model, False, "embedding")
    try:
        cached = (
            None if use is None else _embeddings.keyed(model, input, settings, {**params, **provider_options})
        )
        if use is not None and cached is not None:
            if watch is not None:
                watch.inputs = len(cached.inputs)
            result, attempts, hit = _embeddings.cached_in_threads(cached, use)
            _embedded(result, model, hit, watch)
        else:
            plan = _embeddings.plan(model, input, settings, {**params, **provider_options})
            if watch is not None:
                watch.inputs = plan.total
            result, attempts = _embeddings.sent_in_threads(plan)
            _keep_origin(result, model)
    except Exception as exc:
        if watch is not None:
            watch.end(exception=exc)
        raise
    if watch is not None:
        watch.answered(result, attempts)
    return result


def _embedded(result: EmbeddingResponse, model: str, hit: bool, watch: Watch | None) -> None:
    """Marks an embedding call's answer: a hit when every input came from the cache."""
    if hit:
        _cache._marked(result, model)
        if watch is not None:
            watch.cache_hit = True
    else:
        _keep_origin(result, model)


async def aembedding(
    model: str,
    input: str | Iterable[str] | Iterable[int] | Iterable[Iterable[int]],
    *,
    dimensions: int | None = None,
    encoding_format: Literal["float", "base64"] | None = None,
    input_type: str | None = None,
    user: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    num_retries: int | None = None,
    additional_params: str | None = None,
    api_version: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **provider_options: Any,
) -> EmbeddingResponse:
    """The async twin of :func:`embedding`, with the same arguments; a split call's requests go
    out on the event loop, a few at a time."""
    import asyncio

    settings = {
        "base_url": base_url,
        "api_key": api_key,
        "timeout": timeout,
        "num_retries": num_retries,
        "additional_params": additional_params,
        "api_version": api_version,
        "extra_headers": extra_headers,
    }
    params = {
        "dimensions": dimensions,
        "encoding_format": encoding_format,
        "input_type": input_type,
        "user": user,
    }
    use, provider_options = _cache.take(provider_options)
    watch = _callbacks.watch(model, False, "embedding")
    try:
        if not _instance.loaded():
            await asyncio.get_running_loop().run_in_executor(None, _instance.load)
        cached = (
            None if use is None else _embeddings.keyed(model, input, settings, {**params, **provider_options})
        )
        if use is not None and cached is not None:
            if watch is not None:
                watch.inputs = len(cached.inputs)
            result, attempts, hit = await _embeddings.cached_on_the_loop(cached, use)
            _embedded(result, model, hit, watch)
        else:
            plan = _embeddings.plan(model, input, settings, {**params, **provider_options})
            if watch is not None:
                watch.inputs = plan.total
            result, attempts = await _embeddings.sent_on_the_loop(plan)
            _keep_origin(result, model)
    except Exception as exc:
        if watch is not None:
            watch.end(exception=exc)
        raise
    if watch is not None:
        watch.answered(result, attempts)
    return result


@overload
def responses(
    model: str, input: str | Iterable[Mapping[str, Any]], *, stream: Literal[False] = False, **options: Any
) -> Response: ...


@overload
def responses(
    model: str, input: str | Iterable[Mapping[str, Any]], *, stream: Literal[True], **options: Any
) -> ResponseStream: ...


@overload
def responses(
    model: str, input: str | Iterable[Mapping[str, Any]], *, stream: bool = False, **options: Any
) -> Response | ResponseStream: ...


def responses(
    model: str,
    input: str | Iterable[Mapping[str, Any]],
    *,
    instructions: str | None = None,
    tools: Iterable[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
    reasoning: Mapping[str, Any] | None = None,
    text: Mapping[str, Any] | None = None,
    text_format: Any = None,
    max_output_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    previous_response_id: str | None = None,
    store: bool | None = None,
    include: Iterable[str] | None = None,
    metadata: Mapping[str, str] | None = None,
    parallel_tool_calls: bool | None = None,
    truncation: str | None = None,
    user: str | None = None,
    stream: bool = False,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    num_retries: int | None = None,
    max_retries: int | None = None,
    additional_params: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    limits: Limits | None = None,
    **provider_options: Any,
) -> Response | ResponseStream:
    """Creates a response with OpenAI's Responses API, on any provider with chat.

    On ``openai/``, ``azure/`` and the OpenAI-compatible servers that have the API
    (``ritellm.providers()`` says ``native_responses``), the request goes to their
    ``/responses``. On the others (``anthropic/``, ``gemini/``, ``bedrock/``, ...) ritellm's core
    turns it into the provider's chat request and the answer into a response: there,
    ``previous_response_id``, ``store=True`` and OpenAI's built-in tools are refused by name.

    Args:
        input: a string, or a list of input items (messages, ``function_call`` and
            ``function_call_output`` items, reasoning items sent back, ...).
        text_format: a Pydantic model (anything with ``model_json_schema()``): the answer is
            JSON of that schema (``text.format``, strict). Read it with
            ``text_format.model_validate_json(response.output_text)``.
        instructions, tools, tool_choice, reasoning, text, max_output_tokens, temperature, top_p,
            previous_response_id, store, include, metadata, parallel_tool_calls, truncation,
            user: the Responses API's fields, sent when not None.
        stream: return a :class:`ResponseStream` of events as OpenAI sends them.
        base_url, api_key, timeout, additional_params, extra_headers, api_version, limits: as
            for :func:`completion`. ``num_retries`` (or ``max_retries``, its other name):
            retries of a failed request (default 2).
        **provider_options: other body fields, sent as given.

    Returns:
        A :class:`~ritellm.types.Response`, or with ``stream=True`` a :class:`ResponseStream`.

    Raises:
        As :func:`completion`.
    """
    arguments = locals()
    use, provider_options = _cache.take(provider_options)
    watch = _callbacks.watch(model, stream, "responses")
    try:
        if use is not None:
            stored = use.keyed(_responses_key(model, input, arguments, provider_options)).get()
            if stored is not None:
                return cast(
                    "Response | ResponseStream",
                    _from_cache(stored, stream, Response, ResponseStream, watch, model),
                )
        prepared = _responses.prepared(model, input, stream, arguments, provider_options)
        result = _sent(prepared, stream, Response, ResponseStream, watch)
        return result if use is None else cast("Response | ResponseStream", _kept(use, result))
    except Exception as exc:
        if watch is not None:
            watch.end(exception=exc)
        raise


@overload
async def aresponses(
    model: str, input: str | Iterable[Mapping[str, Any]], *, stream: Literal[False] = False, **options: Any
) -> Response: ...


@overload
async def aresponses(
    model: str, input: str | Iterable[Mapping[str, Any]], *, stream: Literal[True], **options: Any
) -> AsyncResponseStream: ...


@overload
async def aresponses(
    model: str, input: str | Iterable[Mapping[str, Any]], *, stream: bool = False, **options: Any
) -> Response | AsyncResponseStream: ...


async def aresponses(
    model: str,
    input: str | Iterable[Mapping[str, Any]],
    *,
    instructions: str | None = None,
    tools: Iterable[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
    reasoning: Mapping[str, Any] | None = None,
    text: Mapping[str, Any] | None = None,
    text_format: Any = None,
    max_output_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    previous_response_id: str | None = None,
    store: bool | None = None,
    include: Iterable[str] | None = None,
    metadata: Mapping[str, str] | None = None,
    parallel_tool_calls: bool | None = None,
    truncation: str | None = None,
    user: str | None = None,
    stream: bool = False,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    num_retries: int | None = None,
    max_retries: int | None = None,
    additional_params: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    api_version: str | None = None,
    limits: Limits | None = None,
    **provider_options: Any,
) -> Response | AsyncResponseStream:
    """The async twin of :func:`responses`, with the same arguments."""
    import asyncio

    arguments = locals()
    use, provider_options = _cache.take(provider_options)
    watch = _callbacks.watch(model, stream, "responses")
    try:
        if not _instance.loaded():
            await asyncio.get_running_loop().run_in_executor(None, _instance.load)
        if use is not None:
            stored = await use.keyed(_responses_key(model, input, arguments, provider_options)).aget()
            if stored is not None:
                return cast(
                    "Response | AsyncResponseStream",
                    _from_cache(stored, stream, Response, AsyncResponseStream, watch, model),
                )
        prepared = _responses.prepared(model, input, stream, arguments, provider_options)
        result = await _asent(prepared, stream, Response, AsyncResponseStream, watch)
        return result if use is None else cast("Response | AsyncResponseStream", await _akept(use, result))
    except Exception as exc:
        if watch is not None:
            watch.end(exception=exc)
        raise


def _responses_key(
    model: str, input: Any, arguments: Mapping[str, Any], provider_options: Mapping[str, Any]
) -> str:
    return cache_key(
        model,
        input,
        base_url=arguments["base_url"],
        additional_params=arguments["additional_params"],
        api_version=arguments["api_version"],
        params={**_responses.fields(arguments), **provider_options},
        operation="responses",
    )


def _stored(action: str, kind: type[R]) -> tuple[Callable[..., R], Callable[..., Awaitable[R]]]:
    """The sync and async calls that do ``action`` to a stored response, answering ``kind``."""

    def call(response_id: str, *, provider: str = "openai", **options: Any) -> R:
        prepared = _responses.stored(action, response_id, provider, options)
        return cast(R, _sent(prepared, False, kind, ResponseStream, None))

    async def acall(response_id: str, *, provider: str = "openai", **options: Any) -> R:
        import asyncio

        if not _instance.loaded():
            await asyncio.get_running_loop().run_in_executor(None, _instance.load)
        prepared = _responses.stored(action, response_id, provider, options)
        return cast(R, await _asent(prepared, False, kind, AsyncResponseStream, None))

    return call, acall


_get, _aget = _stored("get", Response)
_delete, _adelete = _stored("delete", Record)
_cancel, _acancel = _stored("cancel", Response)
_input_items, _ainput_items = _stored("input_items", Record)


def get_response(response_id: str, *, provider: str = "openai", **options: Any) -> Response:
    """The stored response ``response_id`` (``GET /responses/{id}``), on a provider that
    stores responses (``openai``, ``azure``, ...). ``options``: ``include``, and ``base_url``,
    ``api_key``, ``timeout``, ``num_retries``, ``extra_headers``, ``api_version`` as for
    :func:`responses`."""
    return _get(response_id, provider=provider, **options)


async def aget_response(response_id: str, *, provider: str = "openai", **options: Any) -> Response:
    """The async twin of :func:`get_response`."""
    return await _aget(response_id, provider=provider, **options)


def delete_response(response_id: str, *, provider: str = "openai", **options: Any) -> Record:
    """Deletes a stored response; answers ``{"id", "object": "response.deleted", "deleted"}``."""
    return _delete(response_id, provider=provider, **options)


async def adelete_response(response_id: str, *, provider: str = "openai", **options: Any) -> Record:
    """The async twin of :func:`delete_response`."""
    return await _adelete(response_id, provider=provider, **options)


def cancel_response(response_id: str, *, provider: str = "openai", **options: Any) -> Response:
    """Cancels a response created with ``background=True``; answers the response."""
    return _cancel(response_id, provider=provider, **options)


async def acancel_response(response_id: str, *, provider: str = "openai", **options: Any) -> Response:
    """The async twin of :func:`cancel_response`."""
    return await _acancel(response_id, provider=provider, **options)


def list_input_items(response_id: str, *, provider: str = "openai", **options: Any) -> Record:
    """The input items of a stored response: ``{"object": "list", "data": [...], "has_more",
    ...}``. ``options`` adds ``after``, ``limit``, ``order`` and ``include`` to the query."""
    return _input_items(response_id, provider=provider, **options)


async def alist_input_items(response_id: str, *, provider: str = "openai", **options: Any) -> Record:
    """The async twin of :func:`list_input_items`."""
    return await _ainput_items(response_id, provider=provider, **options)


def count_tokens(
    model: str,
    messages: Messages,
    *,
    tools: Iterable[Mapping[str, Any]] | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    num_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **params: Any,
) -> TokenCount:
    """The input tokens of a chat call of ``messages`` (and ``tools``) to ``model``, exactly:
    counted by the provider where it has a counting endpoint (``anthropic/``, ``gemini/``,
    ``vertex_ai/``, ``bedrock/``; a request, not billed as a call), else by
    :func:`token_counter` (exact for OpenAI's models with tiktoken, an estimate otherwise: the
    answer's ``exact`` and ``method`` say which). ``params`` are the call's other fields
    (``system``, ``thinking``, ...)."""
    from ._tokens import TokenCount, counted  # here: tokenizing loads only where counted

    messages = list(messages)
    if not _counts_tokens(model):
        return counted(model, messages, None, tools)
    prepared = _counting(
        model, messages, tools, base_url, api_key, timeout, num_retries, extra_headers, params
    )
    answer = cast(Record, _sent(prepared, False, Record, Stream, None))
    return TokenCount(answer["input_tokens"], True, "provider")


async def acount_tokens(
    model: str,
    messages: Messages,
    *,
    tools: Iterable[Mapping[str, Any]] | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: TimeoutTypes = None,
    num_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **params: Any,
) -> TokenCount:
    """The async twin of :func:`count_tokens`."""
    import asyncio

    from ._tokens import TokenCount, counted

    messages = list(messages)
    if not _instance.loaded():
        await asyncio.get_running_loop().run_in_executor(None, _instance.load)
    if not _counts_tokens(model):
        return counted(model, messages, None, tools)
    prepared = _counting(
        model, messages, tools, base_url, api_key, timeout, num_retries, extra_headers, params
    )
    answer = cast(Record, await _asent(prepared, False, Record, AsyncStream, None))
    return TokenCount(answer["input_tokens"], True, "provider")


def _counts_tokens(model: str) -> bool:
    """Whether ``model``'s provider has a token-counting endpoint."""
    prefix = model.partition("/")[0] if isinstance(model, str) else ""
    return any(
        p["prefix"] == prefix and "count_tokens" in p.get("operations", ())
        for p in _instance.core().describe["providers"]
    )


def _counting(
    model: str,
    messages: list[Mapping[str, Any]],
    tools: Iterable[Mapping[str, Any]] | None,
    base_url: str | None,
    api_key: str | None,
    timeout: TimeoutTypes,
    num_retries: int | None,
    extra_headers: Mapping[str, str] | None,
    params: Mapping[str, Any],
) -> Prepared:
    return prepare(
        model,
        messages,
        stream=False,
        base_url=base_url,
        additional_params=None,
        api_key=api_key,
        timeout=timeout,
        extra_headers=extra_headers,
        max_retries=DEFAULT_MAX_RETRIES if num_retries is None else num_retries,
        params={"tools": list(tools) if tools is not None else None, **params},
        operation="count_tokens",
    )


def validate_environment(model: str) -> dict[str, Any]:
    """Whether the environment holds what a call to ``model`` needs, as LiteLLM answers it:
    ``{"keys_in_environment": bool, "missing_keys": [...]}``, naming the provider's key
    variable and the settings its URL is built from (``AZURE_API_BASE``,
    ``CLOUDFLARE_ACCOUNT_ID``, ``VERTEXAI_PROJECT``, ...). Raises
    :class:`UnsupportedProviderError` for an unknown prefix."""
    import os

    prefix = model.partition("/")[0] if isinstance(model, str) else ""
    rows = {p["prefix"]: p for p in _instance.core().describe["providers"]}
    row = rows.get(prefix)
    if row is None:
        from ._exceptions import UnsupportedProviderError

        raise UnsupportedProviderError(
            f"unsupported provider {prefix!r} in model {model!r}; supported: {', '.join(rows)}"
        )
    missing = _cloud.missing_settings(prefix)
    auth = row["auth"]
    if auth is not None and auth["required"] and not os.environ.get(auth["env"]):
        missing.append(auth["env"])
    if row["base_url"] is None and not any(os.environ.get(name) for name in row["base_url_env"]):
        missing.append(row["base_url_env"][0])
    for name in row["extra_env"]:
        if "{" + name + "}" in (row["base_url"] or "") and not os.environ.get(name):
            missing.append(name)
    missing = list(dict.fromkeys(missing))
    return {"keys_in_environment": not missing, "missing_keys": missing}


#: OpenAI's chat parameters, each with a value of the shape OpenAI documents, for
#: :func:`get_supported_openai_params` to offer the core.
_OPENAI_PARAMS: dict[str, Any] = {
    "temperature": 0.5,
    "top_p": 0.5,
    "max_tokens": 16,
    "max_completion_tokens": 16,
    "stop": ["\n"],
    "n": 1,
    "seed": 1,
    "presence_penalty": 0.5,
    "frequency_penalty": 0.5,
    "logit_bias": {"50256": -100},
    "logprobs": True,
    "top_logprobs": 2,
    "user": "u",
    "tools": [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": True,
    "response_format": {"type": "json_object"},
    "reasoning_effort": "low",
    "stream_options": {"include_usage": True},
    "modalities": ["text"],
    "audio": {"voice": "alloy", "format": "wav"},
    "prediction": {"type": "content", "content": "x"},
    "service_tier": "auto",
    "store": False,
    "metadata": {"k": "v"},
    "web_search_options": {},
}
#: Settings a probe needs to build a URL for rows that take them from the environment.
_PROBE_ENV = {
    "AWS_REGION": "us-east-1",
    "VERTEXAI_PROJECT": "probe",
    "VERTEXAI_LOCATION": "us-central1",
    "CLOUDFLARE_ACCOUNT_ID": "0123abcd",
}


def get_supported_openai_params(model: str, custom_llm_provider: str | None = None) -> list[str]:
    """The OpenAI chat parameters a call to ``model`` takes: each offered alone to the core,
    which builds the provider's request or refuses it by name, exactly as a call would (the
    OpenAI-compatible rows pass every field to their server, which may still refuse some).
    Raises :class:`UnsupportedProviderError` for an unknown prefix."""
    from ._exceptions import InvalidRequestError

    if custom_llm_provider and not model.startswith(f"{custom_llm_provider}/"):
        model = f"{custom_llm_provider}/{model}"
    supported = []
    for name, value in _OPENAI_PARAMS.items():
        try:
            probed(model, {name: value})
        except InvalidRequestError as exc:
            if exc.__class__ is not InvalidRequestError or name not in str(exc):
                raise
            continue
        supported.append(name)
    return supported


def probed(model: str, params: Mapping[str, Any], drop_params: bool = False) -> dict[str, Any]:
    """The body the core builds for a chat call to ``model`` (a ritellm model string) with
    ``params``: no key, no I/O, settings a URL needs made up. Raises what the call would for
    a parameter the provider has no place for."""
    import json

    prefix = model.partition("/")[0]
    has_base_url = any(
        p["prefix"] == prefix and p["base_url"] for p in _instance.core().describe["providers"]
    )
    call: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "x"}],
        "params": dict(params),
        "env": _PROBE_ENV,
        "base_url": None if has_base_url else "http://probe.invalid",
    }
    if drop_params:
        call["drop_params"] = True
    _, body = _instance.core().prepare(json.dumps(call).encode())
    return json.loads(body)  # type: ignore[no-any-return]


def providers() -> list[Provider]:
    """The providers ritellm knows, from the core's own table, in its order."""
    described = _instance.core().describe
    native = set(described.get("native_responses", ()))
    return [
        Provider(
            prefix=p["prefix"],
            protocol=p["protocol"],
            base_url=p["base_url"],
            base_url_env=tuple(p["base_url_env"]),
            key_env=p["auth"]["env"] if p["auth"] else None,
            key_required=bool(p["auth"] and p["auth"]["required"]),
            operations=tuple(p.get("operations", ("chat",))),
            native_responses=p["prefix"] in native,
        )
        for p in described["providers"]
    ]
