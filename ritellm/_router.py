"""``Router``: one model name over several deployments, with retries across them, fallbacks to
other model groups, a circuit breaker per deployment and rpm/tpm limits, in LiteLLM's names.

Each error is classified once, from its class (never its message):

- **Moves on** to the group's next deployment, then to ``fallbacks``: ``RateLimitError``,
  ``InternalServerError`` (5xx), ``RequestTimeoutError`` (408), ``ConflictError`` (409),
  ``APIConnectionError`` and ``APITimeoutError``, ``InvalidResponseError``, and a stream that
  broke before its first chunk. Each attempt has already had its own retries
  (``max_retries=num_retries``, honouring ``Retry-After``).
- **Context window** (``ContextWindowExceededError``) goes to ``context_window_fallbacks``, and
  only to deployments whose window is larger than the one that refused (or unknown). Before any
  request, a deployment whose window (``max_input_tokens`` from the model table, or the entry's
  ``model_info``) cannot hold the prompt as ``token_counter`` counts it is skipped; a deployment
  whose window is unknown is tried.
- **Content policy** (``ContentPolicyError``) goes to ``content_policy_fallbacks``.
- **The deployment's own configuration**: ``AuthenticationError``, ``PermissionDeniedError``
  and ``NotFoundError`` move to another deployment of the same group, since each has its own key,
  base URL or deployment name, but never to one with the same credentials (provider, key and
  base URL) as one that failed so, and never to ``fallbacks``: a wrong key should be seen, not
  hidden behind another model that answers differently and costs differently. The deployment
  cools down at once: a key does not mend in seconds.
- **Anything else** (``BadRequestError``, ``UnprocessableEntityError``, an invalid call, ...)
  is the request's fault, the same on every deployment: it raises at once.

The breaker: a failure that moves on counts against its deployment; more than ``allowed_fails``
within a minute cool it down for ``cooldown_time`` seconds (a ``RateLimitError`` at once, for its
``Retry-After`` when the provider gave one; the configuration errors above at once). A cooling
deployment is skipped; after its cooldown ONE request tries it (half-open) while the others skip
it; that request's success closes the breaker and its failure opens it again. Groups of one
deployment have a breaker too. When every deployment of a group is cooling down, the call goes to
the group's fallbacks, or raises :class:`~ritellm.NoDeploymentAvailableError` naming each
deployment and when it is free again.

Every choice is written into the route: each attempt runs inside
``_callbacks.routing(label, route)``, so its :class:`~ritellm.CallEvent` says which deployment
(``"gpt-4o[1]"``) and what happened before (``"gpt-4o[0]: RateLimitError, cooling down 60 s"``).

A stream is opened and its first chunk read inside the router: failing before it, the call moves
on like any other; after it reached the caller, errors propagate (``StreamInterruptedError`` with
``delivered_chunks``), never a second answer spliced into the first.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, Callable

from . import _api, _cache, _callbacks, _model_table
from ._exceptions import (
    APIConnectionError,
    AuthenticationError,
    ConflictError,
    ContentPolicyError,
    ContextWindowExceededError,
    InternalServerError,
    InvalidRequestError,
    InvalidResponseError,
    NoDeploymentAvailableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    StreamInterruptedError,
)
from ._options import DEFAULT_TIMEOUTS, timeouts
from ._router_state import HEALTHY, Health, LocalState, RedisState
from ._tokens import token_counter

STRATEGIES = ("simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing")
_STRATEGY_NAMES = {
    "simple-shuffle": "simple-shuffle",
    "least-busy": "least-busy",
    "latency-based": "latency-based-routing",
    "latency-based-routing": "latency-based-routing",
    "usage-based": "usage-based-routing",
    "usage-based-routing": "usage-based-routing",
    "usage-based-routing-v2": "usage-based-routing",
}
#: What a failure means for the call (see the module's docs).
MOVE_ON, CONFIGURATION, CONTEXT_WINDOW, CONTENT_POLICY, RAISE = (
    "move on",
    "configuration",
    "context window",
    "content policy",
    "raise",
)
_MOVE_ON = (
    RateLimitError,
    InternalServerError,
    RequestTimeoutError,
    ConflictError,
    APIConnectionError,
    InvalidResponseError,
    StreamInterruptedError,
)
#: Which fallbacks each verdict goes to.
_FALLBACK_KIND = {
    MOVE_ON: "fallbacks",
    CONTEXT_WINDOW: "context_window_fallbacks",
    CONTENT_POLICY: "content_policy_fallbacks",
}
_FALLBACK_NOTE = {
    "fallbacks": "fallback",
    "context_window_fallbacks": "context-window fallback",
    "content_policy_fallbacks": "content-policy fallback",
}
#: Keys of a model_list entry's litellm_params that are the router's, not the call's.
_ROUTER_PARAMS = ("model", "rpm", "tpm", "weight", "max_input_tokens")
#: How much of each new latency the running average takes.
_LATENCY_WEIGHT = 0.3


def verdict(exc: BaseException) -> str:
    """What ``exc`` means for a routed call: one of the module's five verdicts."""
    if isinstance(exc, ContextWindowExceededError):
        return CONTEXT_WINDOW
    if isinstance(exc, ContentPolicyError):
        return CONTENT_POLICY
    if isinstance(exc, StreamInterruptedError):
        return MOVE_ON if exc.delivered_chunks == 0 else RAISE
    if isinstance(exc, _MOVE_ON):
        return MOVE_ON
    if isinstance(exc, (AuthenticationError, PermissionDeniedError, NotFoundError)):
        return CONFIGURATION
    return RAISE


class Deployment:
    """One entry of a model list."""

    def __init__(self, entry: Mapping[str, Any], index: int) -> None:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("litellm_params"), Mapping):
            raise InvalidRequestError(
                f"model_list entries are {{'model_name': ..., 'litellm_params': {{'model': ...}}}}; got {entry!r}"
            )
        params = dict(entry["litellm_params"])
        self.group: str = entry.get("model_name") or params.get("model")  # type: ignore[assignment]
        self.model: str = params.get("model")  # type: ignore[assignment]
        if not isinstance(self.model, str) or not isinstance(self.group, str):
            raise InvalidRequestError(
                f"a model_list entry needs model_name and litellm_params.model: {entry!r}"
            )
        self.label = f"{self.group}[{index}]"
        info = entry.get("model_info") or {}
        self.rpm: int | None = entry.get("rpm", params.get("rpm"))
        self.tpm: int | None = entry.get("tpm", params.get("tpm"))
        self.weight = float(params.get("weight") or self.rpm or self.tpm or 1)
        self._window: int | None = info.get("max_input_tokens", params.get("max_input_tokens"))
        self._window_known = self._window is not None
        if "api_base" in params:
            params["base_url"] = params.pop("api_base")
        self.params = {k: v for k, v in params.items() if k not in _ROUTER_PARAMS}
        self.credentials = (self.model.partition("/")[0], params.get("api_key"), params.get("base_url"))
        # Every parameter that says where and how the request goes (a region, a project, a key).
        identity = info.get("id") or json.dumps(
            [self.group, self.model, self.params], sort_keys=True, default=str
        )
        import hashlib  # here: loading OpenSSL's costs every import of ritellm 2 ms

        self.id = hashlib.sha256(str(identity).encode()).hexdigest()[:16]

    @property
    def window(self) -> int | None:
        """The most prompt tokens the deployment takes; None where nobody knows."""
        if not self._window_known:
            found = _model_table.lookup(self.model)
            value = found.get("max_input_tokens") if found else None
            self._window = int(value) if value else None
            self._window_known = True
        return self._window


class _Call:
    """One call through the router: what it sends, and the route so far. No I/O."""

    def __init__(
        self,
        router: Router,
        operation: str,
        model: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        fallbacks: Sequence[str] | None,
    ) -> None:
        if model not in router.groups:
            raise InvalidRequestError(
                f"no model_name {model!r} in the Router's model_list; it has: {', '.join(router.groups)}"
            )
        self.router = router
        self.operation = operation
        self.stream = bool(kwargs.get("stream"))
        self.model = model
        self.args = args
        self.kwargs = kwargs
        self.call_fallbacks = fallbacks
        self.route: list[str] = []
        self.tried: set[str] = {model}
        self.errors: list[BaseException] = []
        self.cooling: dict[str, float | None] = {}
        self.refused_credentials: dict[tuple[Any, ...], str] = {}
        #: After a context-window error: the window that refused (0 when unknown).
        self.refused_window: int | None = None
        self._tokens: dict[str, int | None] = {}
        self._most_tokens: int | None = None
        timeout = kwargs.get("timeout", router.timeout)
        self.seconds = timeouts(timeout)[1] if timeout is not None else DEFAULT_TIMEOUTS[1]
        self.deadline = time.monotonic() + self.seconds

    def note(self, text: str) -> None:
        self.route.append(text)

    def arguments(self, deployment: Deployment) -> dict[str, Any]:
        kwargs = {**deployment.params, **self.kwargs}
        if "max_retries" not in kwargs and "num_retries" not in kwargs:
            kwargs["num_retries"] = self.router.num_retries
        if "timeout" not in kwargs and self.router.timeout is not None:
            kwargs["timeout"] = self.router.timeout
        return kwargs

    def tokens(self, deployment: Deployment) -> int | None:
        """The prompt's tokens for ``deployment``'s model (None when they cannot be counted)."""
        model = deployment.model
        if model not in self._tokens:
            self._tokens[model] = self._count(model)
        return self._tokens[model]

    def may_exceed(self, window: int) -> bool:
        """Whether the prompt could be more than ``window`` tokens: a bound found in a pass of
        C code (a token is at least a byte of text; an image at most 50,000 tokens), so that the
        exact count, a tokenizer's work, is paid only by prompts near a window."""
        if self._most_tokens is None:
            prompt = [self.args[0] if self.args else None, self.kwargs.get("tools")]
            text = json.dumps(prompt, ensure_ascii=False, default=str)
            images = text.count('"image_url"') + text.count('"input_image"')
            self._most_tokens = len(text.encode()) + 50_000 * images + 100
        return self._most_tokens > window

    def _count(self, model: str) -> int | None:
        first = self.args[0] if self.args else None
        try:
            if self.operation == "chat":
                return token_counter(model, messages=first, tools=self.kwargs.get("tools"))
            if isinstance(first, str) or (
                isinstance(first, list) and all(isinstance(item, str) for item in first)
            ):
                return token_counter(model, text=first)
            if self.operation == "responses" and isinstance(first, list):
                return token_counter(
                    model, messages=[i for i in first if isinstance(i, Mapping) and "role" in i]
                )
        except Exception:
            return None
        return None

    def skip_reason(self, deployment: Deployment, health: Health, kinds: set[str]) -> str | None:
        """Why ``deployment`` is not tried, or None; adds the skip's kind to ``kinds``."""
        if health.until is not None or (health.half_open and health.probing):
            kinds.add("cooling")
        if health.until is not None:
            self.cooling[deployment.label] = health.until
            return f"skipped, cooling down until {_when(health.until, self.router.clock())}"
        if health.half_open and health.probing:
            self.cooling[deployment.label] = None
            return "skipped, a trial request after its cooldown is in flight"
        refused = self.refused_credentials.get(deployment.credentials)
        if refused is not None:
            return f"skipped, the same credentials failed on {refused}"
        if self.operation != "embedding" and deployment.window is not None:
            if self.refused_window is not None and deployment.window <= self.refused_window:
                kinds.add("window")
                return (
                    f"skipped, its window ({deployment.window} tokens) is no larger than the one that refused"
                )
            tokens = self.tokens(deployment) if self.may_exceed(deployment.window) else None
            if tokens is not None and tokens > deployment.window:
                kinds.add("window")
                return f"skipped, ~{tokens} prompt tokens exceed its {deployment.window}-token window"
        return None

    def failed(self, deployment: Deployment, exc: BaseException, cooled: float | None) -> str:
        """Notes a failed attempt; returns its verdict."""
        found = verdict(exc)
        self.errors.append(exc)
        what = f"{deployment.label}: {type(exc).__name__}"
        if cooled is not None:
            what += f", cooling down {cooled:g} s"
        if found == CONFIGURATION:
            self.refused_credentials[deployment.credentials] = deployment.label
        if found == CONTEXT_WINDOW:
            self.refused_window = max(self.refused_window or 0, deployment.window or 0)
        self.note(what)
        return found

    def next_group(self, reason: str) -> str | None:
        """The next model group to try after ``reason``, noted in the route; None when none."""
        kind = _FALLBACK_KIND.get(reason)
        if kind is None:
            return None
        if kind == "fallbacks" and self.call_fallbacks is not None:
            groups: Sequence[str] = self.call_fallbacks
        else:
            table = self.router.fallbacks[kind]
            groups = table.get(self.model) or table.get("*") or ()
        for group in groups:
            if group not in self.tried and group in self.router.groups:
                self.tried.add(group)
                self.note(f"{_FALLBACK_NOTE[kind]} to {group}")
                return group
        return None

    def exhausted(self) -> BaseException:
        """What the call raises when nothing is left to try."""
        if self.errors:
            error = self.errors[-1]
        elif self.cooling:
            now = self.router.clock()
            free = [until for until in self.cooling.values() if until is not None]
            names = ", ".join(
                f"{label} until {_when(until, now)}" if until is not None else f"{label} (trial in flight)"
                for label, until in self.cooling.items()
            )
            error = NoDeploymentAvailableError(f"no deployment of {self.model!r} is available: {names}")
            error.deployments = dict(self.cooling)
            error.retry_after = max(0.0, min(free) - now) if free else None
        else:
            error = ContextWindowExceededError(
                f"no deployment of {self.model!r} or its fallbacks can take this prompt"
            )
        if self.route:
            note = "ritellm.Router route: " + "; ".join(self.route)
            error.__notes__ = [*getattr(error, "__notes__", []), note]  # add_note: Python 3.11+
        return error


def _when(until: float, now: float) -> str:
    return f"{time.strftime('%H:%M:%S', time.localtime(until))} (in {max(0.0, until - now):.1f} s)"


class Router:
    """Routes calls to a model group over its deployments; see the module's documentation."""

    def __init__(
        self,
        model_list: Sequence[Mapping[str, Any]],
        routing_strategy: str = "simple-shuffle",
        fallbacks: Sequence[Mapping[str, Sequence[str]]] | None = None,
        context_window_fallbacks: Sequence[Mapping[str, Sequence[str]]] | None = None,
        content_policy_fallbacks: Sequence[Mapping[str, Sequence[str]]] | None = None,
        num_retries: int = 2,
        allowed_fails: int = 3,
        cooldown_time: float = 5.0,
        timeout: Any = None,
        cache: Any = None,
        redis_url: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
    ) -> None:
        """Args:
        model_list: LiteLLM's entries, ``{"model_name": "gpt-4o", "litellm_params": {"model":
            "openai/gpt-4o", "api_key": ..., "api_base": ..., ...}, "rpm": ..., "tpm": ...}``
            (``rpm``, ``tpm`` and ``weight`` may sit in ``litellm_params``; ``model_info``
            may give ``id`` and ``max_input_tokens``).
        routing_strategy: ``"simple-shuffle"`` (random, weighted by ``weight``, else rpm, else
            tpm), ``"least-busy"`` (fewest calls in flight from this Router),
            ``"latency-based-routing"`` (lowest recent latency, or time to first chunk) or
            ``"usage-based-routing"`` (fewest tokens this minute, as a share of its tpm).
        fallbacks, context_window_fallbacks, content_policy_fallbacks: ``[{"gpt-4o":
            ["claude", ...]}, ...]``; ``"*"`` stands for every group without its own.
        num_retries: each deployment attempt's own retries. allowed_fails, cooldown_time: the
            breaker. timeout: each attempt's, and the most a call waits for rpm/tpm room.
        cache: a :class:`~ritellm.Cache`, the cache of every call the Router makes, in place of
            ``ritellm.cache`` (None: ``ritellm.cache``). redis_url: share breakers and rpm/tpm usage.
        clock: wall-clock seconds (``time.time``) for cooldowns and minutes; tests inject one.
        seed: seeds the shuffle.
        """
        strategy = _STRATEGY_NAMES.get(routing_strategy)
        if strategy is None:
            raise InvalidRequestError(f"routing_strategy must be one of {', '.join(_STRATEGY_NAMES)}")
        self.routing_strategy = strategy
        self.groups: dict[str, list[Deployment]] = {}
        for entry in model_list:
            group = entry.get("model_name") if isinstance(entry, Mapping) else None
            index = len(self.groups.get(group, [])) if isinstance(group, str) else 0
            deployment = Deployment(entry, index)
            self.groups.setdefault(deployment.group, []).append(deployment)
        if not self.groups:
            raise InvalidRequestError("a Router needs a model_list of at least one deployment")
        self.fallbacks = {
            "fallbacks": _fallback_table(fallbacks, self.groups),
            "context_window_fallbacks": _fallback_table(context_window_fallbacks, self.groups),
            "content_policy_fallbacks": _fallback_table(content_policy_fallbacks, self.groups),
        }
        self.num_retries = num_retries
        self.allowed_fails = allowed_fails
        self.cooldown_time = cooldown_time
        self.timeout = timeout
        self.cache = cache
        self.clock = clock
        self.random = random.Random(seed)
        self.state: LocalState = RedisState(redis_url, clock) if redis_url else LocalState(clock)
        #: How to wait for room under rpm/tpm: replaced by tests.
        self.sleep: Callable[[float], Any] = time.sleep
        self.asleep: Callable[[float], Any] | None = None
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._latency: dict[str, float] = {}

    # Choosing

    def _ordered(self, group: str, used: list[tuple[int, int]] | None) -> tuple[list[Deployment], str | None]:
        """The group's deployments in the order the strategy would try them; for least-busy,
        also the first one's id, already counted in flight (in the same lock as the choice, so
        that calls choosing at once spread): :meth:`_started` does not count it again, and a
        route that passes it over releases it (:meth:`_release`)."""
        deployments = self.groups[group]
        if len(deployments) == 1:
            return list(deployments), None
        strategy = self.routing_strategy
        with self._lock:
            if strategy == "simple-shuffle":
                return _weighted_order(deployments, self.random), None
            ties = {d.id: self.random.random() for d in deployments}
            if strategy == "least-busy":
                order = sorted(deployments, key=lambda d: (self._in_flight.get(d.id, 0), ties[d.id]))
                self._in_flight[order[0].id] = self._in_flight.get(order[0].id, 0) + 1
                return order, order[0].id
            if strategy == "latency-based-routing":
                return sorted(deployments, key=lambda d: (self._latency.get(d.id, 0.0), ties[d.id])), None
        share = {d.id: (u[1] / d.tpm if d.tpm else u[1]) for d, u in zip(deployments, used or [])}
        return sorted(deployments, key=lambda d: (share.get(d.id, 0), ties[d.id])), None

    def _started(self, deployment: Deployment, claimed: str | None) -> float:
        if deployment.id != claimed:
            with self._lock:
                self._in_flight[deployment.id] = self._in_flight.get(deployment.id, 0) + 1
        return time.monotonic()

    def _falls_back(self, group: str, call: _Call) -> bool:
        """Whether a call out of ``group`` has a fallback to go to."""
        table = self.fallbacks["fallbacks"]
        return bool(call.call_fallbacks) or any(
            name not in call.tried for name in table.get(group, table.get("*", []))
        )

    def _release(self, claimed: str | None) -> None:
        """Gives back a least-busy claim the route did not use."""
        if claimed is not None:
            with self._lock:
                self._in_flight[claimed] -= 1

    def _ended(self, deployment: Deployment, started: float | None) -> None:
        with self._lock:
            self._in_flight[deployment.id] -= 1
            if started is not None:
                seconds = time.monotonic() - started
                old = self._latency.get(deployment.id)
                self._latency[deployment.id] = (
                    seconds if old is None else old + _LATENCY_WEIGHT * (seconds - old)
                )

    def _cooldown(self, deployment: Deployment, exc: BaseException, found: str) -> tuple[Any, ...] | None:
        """The arguments of the state's ``failed`` for a failure, if it counts against the
        deployment: ``(id, allowed_fails, cooldown seconds, at once)``."""
        if found not in (MOVE_ON, CONFIGURATION) and not isinstance(exc, StreamInterruptedError):
            return None
        seconds = self.cooldown_time
        at_once = found == CONFIGURATION or isinstance(exc, RateLimitError)
        if isinstance(exc, RateLimitError) and exc.retry_after:
            seconds = max(seconds, exc.retry_after)
        return (deployment.id, self.allowed_fails, seconds, at_once)

    def _usage_correction(self, deployment: Deployment, call: _Call, result: Any) -> int | None:
        if deployment.tpm is None:
            return None
        usage = dict.get(result, "usage") if isinstance(result, dict) else None
        total = usage.get("total_tokens") if isinstance(usage, Mapping) else None
        return int(total) - (call.tokens(deployment) or 0) if isinstance(total, int) else None

    def _cache(self) -> contextlib.AbstractContextManager[None]:
        """The Router's cache made the cache of the calls inside (``_cache.using``), if it has one."""
        return _cache.using(self.cache) if self.cache is not None else contextlib.nullcontext()

    # Calling, sync

    def _route(self, call: _Call) -> Any:
        state, group, reason = self.state, call.model, MOVE_ON
        while True:
            deployments = self.groups[group]
            ids = [d.id for d in deployments]
            used = state.call("used", ids) if self.routing_strategy == "usage-based-routing" else None
            healths = dict(zip(ids, state.call("health", ids)))
            full = []
            kinds: set[str] = set()
            order, claimed = self._ordered(group, used)
            for deployment in order:
                if claimed is not None and deployment.id != claimed:
                    self._release(claimed)  # passed over
                    claimed = None
                health = healths.get(deployment.id, HEALTHY)
                skip = call.skip_reason(deployment, health, kinds)
                if (
                    skip is None
                    and health.half_open
                    and not state.call("claim_probe", deployment.id, call.seconds)
                ):
                    skip = "skipped, a trial request after its cooldown is in flight"
                if skip is not None:
                    call.note(f"{deployment.label}: {skip}")
                    continue
                tokens = call.tokens(deployment) if deployment.tpm is not None else 0
                if (deployment.rpm is not None or deployment.tpm is not None) and not state.call(
                    "reserve", deployment.id, tokens or 0, deployment.rpm, deployment.tpm
                ):
                    if health.half_open:  # the trial claimed above is not sent: let another have it
                        state.call("release_probe", deployment.id)
                    call.note(f"{deployment.label}: skipped, at its rpm/tpm limit this minute")
                    full.append(deployment)
                    continue
                if health.half_open:
                    call.note(f"{deployment.label}: trial request after its cooldown")
                started = self._started(deployment, claimed)
                claimed = None
                try:
                    with _callbacks.routing(deployment.label, tuple(call.route)), self._cache():
                        result = self._send(call, deployment)
                except Exception as exc:
                    self._ended(deployment, None)
                    found = verdict(exc)
                    counted = self._cooldown(deployment, exc, found)
                    cooled = state.call("failed", *counted) if counted else None
                    if counted is None and health.half_open:
                        state.call("recovered", deployment.id)
                    call.failed(deployment, exc, counted[2] if counted and cooled is not None else None)
                    if found == RAISE:
                        raise
                    kinds.add(found)
                    if found in (MOVE_ON, CONFIGURATION):
                        continue
                    break
                if call.stream:
                    result = self._opened(call, deployment, result, started)
                else:
                    self._ended(deployment, started)
                if health.half_open:
                    state.call("recovered", deployment.id)
                correction = self._usage_correction(deployment, call, result)
                if correction:
                    state.call("adjust", deployment.id, correction)
                return result
            else:
                self._release(claimed)  # every deployment passed over
                # Waiting for room is the last resort: a fallback answers now.
                if full and not call.errors and not self._falls_back(group, call):
                    wait = state.next_minute()
                    if time.monotonic() + wait < call.deadline:
                        call.note(f"waited {wait:.1f} s for room under rpm/tpm")
                        self.sleep(wait)
                        continue
                    for deployment in full:
                        call.cooling[deployment.label] = self.clock() + wait
            reason = _group_verdict(kinds, reason)
            if reason == CONFIGURATION:
                raise call.exhausted()
            following = call.next_group(reason)
            if following is None:
                raise call.exhausted()
            group = following

    def _send(self, call: _Call, deployment: Deployment) -> Any:
        function = _SYNC[call.operation]
        result = function(deployment.model, *call.args, **call.arguments(deployment))
        if call.stream:  # its first chunk, read here: an error before it moves on
            try:
                first = [next(iter(result))]
            except StopIteration:
                first = []
            except BaseException:
                result.close()
                raise
            result._router_first = first
        return result

    def _opened(self, call: _Call, deployment: Deployment, stream: Any, started: float) -> Any:
        """``stream``, yielding the first chunk read already and then the rest; a failure after
        it counts against the deployment and propagates."""
        first = stream._router_first
        routed = copy.copy(stream)
        ended = [False]
        latency = time.monotonic() - started

        def end() -> None:
            if not ended[0]:
                ended[0] = True
                self._ended(deployment, time.monotonic() - latency)

        def chunks() -> Iterator[Any]:
            try:
                yield from first
                yield from stream._chunks
            except Exception as exc:
                counted = self._cooldown(deployment, exc, MOVE_ON)
                if counted is not None:
                    self.state.call("failed", *counted)
                raise
            finally:
                stream.close()
                end()

        routed._chunks = chunks()
        return routed

    # Calling, async

    async def _aroute(self, call: _Call) -> Any:
        state, group, reason = self.state, call.model, MOVE_ON
        while True:
            deployments = self.groups[group]
            ids = [d.id for d in deployments]
            used = await state.acall("used", ids) if self.routing_strategy == "usage-based-routing" else None
            healths = dict(zip(ids, await state.acall("health", ids)))
            full = []
            kinds: set[str] = set()
            order, claimed = self._ordered(group, used)
            for deployment in order:
                if claimed is not None and deployment.id != claimed:
                    self._release(claimed)  # passed over
                    claimed = None
                health = healths.get(deployment.id, HEALTHY)
                skip = call.skip_reason(deployment, health, kinds)
                if (
                    skip is None
                    and health.half_open
                    and not await state.acall("claim_probe", deployment.id, call.seconds)
                ):
                    skip = "skipped, a trial request after its cooldown is in flight"
                if skip is not None:
                    call.note(f"{deployment.label}: {skip}")
                    continue
                tokens = call.tokens(deployment) if deployment.tpm is not None else 0
                if (deployment.rpm is not None or deployment.tpm is not None) and not await state.acall(
                    "reserve", deployment.id, tokens or 0, deployment.rpm, deployment.tpm
                ):
                    if health.half_open:
                        await state.acall("release_probe", deployment.id)
                    call.note(f"{deployment.label}: skipped, at its rpm/tpm limit this minute")
                    full.append(deployment)
                    continue
                if health.half_open:
                    call.note(f"{deployment.label}: trial request after its cooldown")
                started = self._started(deployment, claimed)
                claimed = None
                try:
                    with _callbacks.routing(deployment.label, tuple(call.route)), self._cache():
                        result = await self._asend(call, deployment)
                except Exception as exc:
                    self._ended(deployment, None)
                    found = verdict(exc)
                    counted = self._cooldown(deployment, exc, found)
                    cooled = await state.acall("failed", *counted) if counted else None
                    if counted is None and health.half_open:
                        await state.acall("recovered", deployment.id)
                    call.failed(deployment, exc, counted[2] if counted and cooled is not None else None)
                    if found == RAISE:
                        raise
                    kinds.add(found)
                    if found in (MOVE_ON, CONFIGURATION):
                        continue
                    break
                if call.stream:
                    result = self._aopened(call, deployment, result, started)
                else:
                    self._ended(deployment, started)
                if health.half_open:
                    await state.acall("recovered", deployment.id)
                correction = self._usage_correction(deployment, call, result)
                if correction:
                    await state.acall("adjust", deployment.id, correction)
                return result
            else:
                self._release(claimed)  # every deployment passed over
                # Waiting for room is the last resort: a fallback answers now.
                if full and not call.errors and not self._falls_back(group, call):
                    wait = state.next_minute()
                    if time.monotonic() + wait < call.deadline:
                        import asyncio

                        call.note(f"waited {wait:.1f} s for room under rpm/tpm")
                        await (self.asleep or asyncio.sleep)(wait)
                        continue
                    for deployment in full:
                        call.cooling[deployment.label] = self.clock() + wait
            reason = _group_verdict(kinds, reason)
            if reason == CONFIGURATION:
                raise call.exhausted()
            following = call.next_group(reason)
            if following is None:
                raise call.exhausted()
            group = following

    async def _asend(self, call: _Call, deployment: Deployment) -> Any:
        function = _ASYNC[call.operation]
        result = await function(deployment.model, *call.args, **call.arguments(deployment))
        if call.stream:
            try:
                first = [await result.__anext__()]
            except StopAsyncIteration:
                first = []
            except BaseException:
                await result.aclose()
                raise
            result._router_first = first
        return result

    def _aopened(self, call: _Call, deployment: Deployment, stream: Any, started: float) -> Any:
        """The async twin of `_opened`."""
        first = stream._router_first
        routed = copy.copy(stream)
        ended = [False]
        latency = time.monotonic() - started

        def end() -> None:
            if not ended[0]:
                ended[0] = True
                self._ended(deployment, time.monotonic() - latency)

        async def chunks() -> AsyncIterator[Any]:
            try:
                for chunk in first:
                    yield chunk
                async for chunk in stream._chunks:
                    yield chunk
            except Exception as exc:
                counted = self._cooldown(deployment, exc, MOVE_ON)
                if counted is not None:
                    await self.state.acall("failed", *counted)
                raise
            finally:
                await stream.aclose()
                end()

        routed._chunks = chunks()
        return routed

    # The public calls

    def completion(
        self, model: str, messages: Any, *, fallbacks: Sequence[str] | None = None, **kwargs: Any
    ) -> Any:
        """:func:`ritellm.completion` on a deployment of the group ``model`` (a ``model_name``),
        with ``kwargs`` as its arguments; ``fallbacks=[group, ...]`` replaces the group's."""
        return self._route(_Call(self, "chat", model, (messages,), kwargs, fallbacks))

    async def acompletion(
        self, model: str, messages: Any, *, fallbacks: Sequence[str] | None = None, **kwargs: Any
    ) -> Any:
        """The async twin of :meth:`completion`."""
        return await self._aroute(_Call(self, "chat", model, (messages,), kwargs, fallbacks))

    def embedding(
        self, model: str, input: Any, *, fallbacks: Sequence[str] | None = None, **kwargs: Any
    ) -> Any:
        """:func:`ritellm.embedding` on a deployment of the group ``model``."""
        return self._route(_Call(self, "embedding", model, (input,), kwargs, fallbacks))

    async def aembedding(
        self, model: str, input: Any, *, fallbacks: Sequence[str] | None = None, **kwargs: Any
    ) -> Any:
        """The async twin of :meth:`embedding`."""
        return await self._aroute(_Call(self, "embedding", model, (input,), kwargs, fallbacks))

    def responses(
        self, model: str, input: Any, *, fallbacks: Sequence[str] | None = None, **kwargs: Any
    ) -> Any:
        """:func:`ritellm.responses` on a deployment of the group ``model``."""
        return self._route(_Call(self, "responses", model, (input,), kwargs, fallbacks))

    async def aresponses(
        self, model: str, input: Any, *, fallbacks: Sequence[str] | None = None, **kwargs: Any
    ) -> Any:
        """The async twin of :meth:`responses`."""
        return await self._aroute(_Call(self, "responses", model, (input,), kwargs, fallbacks))


_SYNC: dict[str, Callable[..., Any]] = {
    "chat": lambda *a, **k: _api.completion(*a, **k),
    "embedding": lambda *a, **k: _api.embedding(*a, **k),
    "responses": lambda *a, **k: _api.responses(*a, **k),
}
_ASYNC: dict[str, Callable[..., Any]] = {
    "chat": lambda *a, **k: _api.acompletion(*a, **k),
    "embedding": lambda *a, **k: _api.aembedding(*a, **k),
    "responses": lambda *a, **k: _api.aresponses(*a, **k),
}


def _group_verdict(kinds: set[str], incoming: str) -> str:
    """Where a call goes after a group, from what its failures and skips say: a refusal for the
    content or the window goes to those fallbacks; a move-on failure to the fallbacks; only
    configuration errors nowhere; only cooling deployments to the fallbacks; only windows too
    small to the context-window fallbacks; nothing (every deployment tried before) onwards."""
    for kind in (CONTENT_POLICY, CONTEXT_WINDOW, MOVE_ON, CONFIGURATION):
        if kind in kinds:
            return kind
    if "cooling" in kinds:
        return MOVE_ON
    return CONTEXT_WINDOW if "window" in kinds else incoming


def _weighted_order(deployments: list[Deployment], rng: random.Random) -> list[Deployment]:
    """The deployments in a random order, each next one drawn with chances by weight."""
    left, order = list(deployments), []
    while left:
        pick = rng.random() * sum(d.weight for d in left)
        for n, deployment in enumerate(left):
            pick -= deployment.weight
            if pick < 0 or n == len(left) - 1:
                order.append(left.pop(n))
                break
    return order


def _fallback_table(
    fallbacks: Sequence[Mapping[str, Sequence[str]]] | Mapping[str, Sequence[str]] | None,
    groups: Mapping[str, Any],
) -> dict[str, list[str]]:
    """LiteLLM's ``[{"gpt-4o": ["claude"]}, ...]`` as one mapping, every name checked."""
    table: dict[str, list[str]] = {}
    items = [fallbacks] if isinstance(fallbacks, Mapping) else list(fallbacks or ())
    for item in items:
        if not isinstance(item, Mapping):
            raise InvalidRequestError(
                f"fallbacks are [{{'model_name': ['fallback', ...]}}, ...]; got {item!r}"
            )
        for name, targets in item.items():
            targets = [targets] if isinstance(targets, str) else list(targets)
            unknown = [t for t in [name, *targets] if t not in groups and t != "*"]
            if unknown:
                raise InvalidRequestError(f"fallbacks name model groups not in the model_list: {unknown}")
            table.setdefault(name, []).extend(targets)
    return table


#: A call's options that say where it goes and with which credentials: the first model's
#: alone, never handed to a fallback, which goes where its own entry (or its provider) says.
_CONNECTION = ("api_key", "base_url", "api_base", "api_version", "extra_headers")


def _per_call_router(
    model: str, fallbacks: Sequence[str | Mapping[str, Any]], kwargs: dict[str, Any]
) -> Router:
    primary = {"model": model, **{name: kwargs.pop(name) for name in _CONNECTION if name in kwargs}}
    model_list: list[dict[str, Any]] = [{"model_name": model, "litellm_params": primary}]
    for index, fallback in enumerate(fallbacks, 1):
        params = {"model": fallback} if isinstance(fallback, str) else dict(fallback)
        # A group each, in the order given: "the same model with a backup key" is tried second,
        # not shuffled with the first.
        model_list.append({"model_name": f"fallback {index}: {params['model']}", "litellm_params": params})
    names = [entry["model_name"] for entry in model_list[1:]]
    table = [{model: names}]
    num_retries, max_retries = kwargs.pop("num_retries", None), kwargs.pop("max_retries", None)
    retries = num_retries if num_retries is not None else max_retries if max_retries is not None else 2
    return Router(
        model_list,
        fallbacks=table,
        context_window_fallbacks=table,
        content_policy_fallbacks=table,
        num_retries=retries,
        allowed_fails=1 << 30,
    )


def completion_with_fallbacks(
    model: str, messages: Any, fallbacks: Sequence[str | Mapping[str, Any]], /, **kwargs: Any
) -> Any:
    """``completion(model, messages, fallbacks=[...], **kwargs)`` as LiteLLM has it: ``model``,
    then each fallback (a model string, or ``{"model": ..., **arguments}``) in turn, by the
    Router's rules, with the same arguments. Context-window and content-policy errors go to the
    fallbacks too (never to a smaller window)."""
    kwargs = {k: v for k, v in kwargs.items() if v is not None or k == "stream"}
    router = _per_call_router(model, fallbacks, kwargs)
    return router.completion(model, messages, **kwargs)


async def acompletion_with_fallbacks(
    model: str, messages: Any, fallbacks: Sequence[str | Mapping[str, Any]], /, **kwargs: Any
) -> Any:
    """The async twin of :func:`completion_with_fallbacks`."""
    kwargs = {k: v for k, v in kwargs.items() if v is not None or k == "stream"}
    router = _per_call_router(model, fallbacks, kwargs)
    return await router.acompletion(model, messages, **kwargs)


# The per-call fallbacks= of completion() and acompletion() follow these rules (see _api).
_api.follow_fallbacks = (completion_with_fallbacks, acompletion_with_fallbacks)
