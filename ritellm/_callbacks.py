"""Callbacks: one :class:`CallEvent` per call, on success and on failure, to feed a log, metrics
or a tracer (Langfuse, OpenTelemetry). Events carry no key, messages or answer text.

A callback runs on the caller's thread (or event loop) when the call ends: when its answer
arrived, when its stream ended, failed or was closed, or when it failed. A callback that raises
is logged on the ``ritellm`` logger and does not affect the call or the other callbacks.
"""

from __future__ import annotations

import contextvars
import logging
import time
from typing import Any, Callable, NamedTuple

from .types import Usage

#: The hooks, called in order with each call's :class:`CallEvent`. Append to it.
callbacks: list[Callable[[CallEvent], Any]] = []

_log = logging.getLogger("ritellm")
#: The routing of the call being made, set by a Router around each attempt.
_routing: contextvars.ContextVar[tuple[str | None, tuple[str, ...]]] = contextvars.ContextVar(
    "ritellm_routing", default=(None, ())
)


class routing:
    """Marks the calls made inside as a Router's attempt on ``deployment``, after ``route``.
    (A class, not a generator: it is on every routed call's path.)"""

    __slots__ = ("_value", "_token")

    def __init__(self, deployment: str, route: tuple[str, ...]) -> None:
        self._value = (deployment, route)

    def __enter__(self) -> None:
        self._token = _routing.set(self._value)

    def __exit__(self, *exc_info: object) -> None:
        _routing.reset(self._token)


class CallEvent(NamedTuple):
    provider: str
    #: The provider's model name, without the prefix.
    model: str
    stream: bool
    #: When the call started, as ``time.time()``.
    started_at: float
    #: Seconds from the call to its end: the whole answer, the stream's end, or the failure.
    latency: float
    #: Seconds from the call to a stream's first chunk; None for complete calls, and for streams
    #: that ended before one.
    time_to_first_chunk: float | None
    #: The usage the provider reported (for a stream, its last usage), if any; a Responses
    #: call's in the same chat terms (``prompt_tokens`` for its ``input_tokens``, ...).
    usage: Usage | None
    #: Attempts made: 1, plus the retries.
    attempts: int
    #: What the call raised; None on success (a stream closed early by its reader included).
    exception: BaseException | None
    #: What the call was: ``"chat"`` (``completion``), ``"embedding"`` or ``"responses"``.
    operation: str = "chat"
    #: For an embedding call, how many inputs it had; None for chat.
    inputs: int | None = None
    #: What the call cost in USD, from its usage and ritellm's model table; None where either
    #: is missing (a model the table does not know, a stream without usage).
    cost: float | None = None
    #: The answer came from ritellm's cache: no request was sent (and ``cost`` is 0).
    cache_hit: bool = False
    #: For a call a :class:`~ritellm.Router` made: the deployment it chose (its model group and
    #: its place in the model list, ``"gpt-4o[1]"``), and every choice the router made for the
    #: caller's call before this one (``"gpt-4o[0]: rate limited, moving on"``, ...).
    deployment: str | None = None
    route: tuple[str, ...] = ()

    @property
    def retries(self) -> int:
        return self.attempts - 1


class Watch:
    """Times one call and reports it once. Made only when there are callbacks."""

    def __init__(self, model: Any, stream: bool, operation: str = "chat") -> None:
        self.operation = operation
        self.provider, _, self.model = model.partition("/") if isinstance(model, str) else ("", "", "")
        self.stream = stream
        self.started_at = time.time()
        self.started = time.monotonic()
        self.first_chunk: float | None = None
        self.usage: Any = None
        self.attempts = 1
        #: Attempts of an earlier request the call gave up for another (a chat call refused
        #: for a model that answers only through the Responses API, sent there instead).
        self.earlier_attempts = 0
        self.inputs: int | None = None
        self.cache_hit = False
        self.deployment, self.route = _routing.get()
        self._reported = False

    def chunk(self, chunk: Any) -> None:
        if self.first_chunk is None:
            self.first_chunk = time.monotonic() - self.started
        # A Responses stream's usage is in the response its last event carries. Read as dicts: a
        # record's own access would make nested records the caller has not asked for.
        usage = dict.get(chunk, "usage") or dict.get(dict.get(chunk, "response") or {}, "usage")
        if usage:
            self.usage = usage

    def answered(self, answer: Any, attempts: int) -> None:
        """A complete call's end: its answer arrived after ``attempts`` attempts."""
        self.attempts = attempts
        self.end(dict.get(answer, "usage"))

    def end(self, usage: Any = None, exception: BaseException | None = None) -> None:
        if self._reported:
            return
        self._reported = True
        if exception is not None:
            self.attempts = max(self.attempts, getattr(exception, "attempts", 1))
        from ._cost import usage_cost  # here: the model table's code loads only with callbacks

        usage = usage or self.usage
        model = f"{self.provider}/{self.model}"
        event = CallEvent(
            provider=self.provider,
            model=self.model,
            stream=self.stream,
            started_at=self.started_at,
            latency=time.monotonic() - self.started,
            time_to_first_chunk=self.first_chunk,
            usage=_chat_usage(usage) if isinstance(usage, dict) else None,
            attempts=self.attempts + self.earlier_attempts,
            exception=exception,
            operation=self.operation,
            inputs=self.inputs,
            cost=0.0 if self.cache_hit else usage_cost([model], usage),
            cache_hit=self.cache_hit,
            deployment=self.deployment,
            route=self.route,
        )
        for callback in list(callbacks):
            try:
                callback(event)
            except Exception:
                _log.warning("a ritellm callback raised; the call is unaffected", exc_info=True)


def _chat_usage(usage: dict[str, Any]) -> Usage:
    """A usage in chat terms: a Responses usage's fields renamed, chat's as they are."""
    if "input_tokens" not in usage:
        return Usage(usage)
    details = usage.get("input_tokens_details") or {}
    prompt_details = {
        "cached_tokens": details.get("cached_tokens"),
        "cache_creation_tokens": details.get("cache_write_tokens"),
    }
    reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
    return Usage(
        prompt_tokens=usage.get("input_tokens"),
        completion_tokens=usage.get("output_tokens"),
        total_tokens=usage.get("total_tokens"),
        prompt_tokens_details={name: n for name, n in prompt_details.items() if n is not None} or None,
        completion_tokens_details={"reasoning_tokens": reasoning} if reasoning is not None else None,
    )


def watch(model: Any, stream: bool, operation: str = "chat") -> Watch | None:
    """A watch for a call starting now, or None when nobody listens (the common case, free)."""
    return Watch(model, stream, operation) if callbacks else None
