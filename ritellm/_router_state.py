"""A Router's shared state: each deployment's circuit breaker (failures, cooldown, the one trial
request after it) and its requests and tokens in the current minute.

:class:`LocalState` keeps them in the Router instance (a lock makes each operation atomic across
threads; the async twins run the same code, with no ``await`` inside an operation).
:class:`RedisState` keeps them in Redis, shared by every Router pointed at it in any process or
machine: each operation is one pipeline, read-check-write operations a Lua script (``EVAL``), so
concurrent routers never oversubscribe a limit; cooldowns are ``SET ... PX`` keys that expire on
their own. When Redis fails, the operation falls back to the instance's local state with a
warning on the ``ritellm`` logger, and Redis is tried again :data:`REDIS_RETRY_AFTER` seconds
later: an outage degrades sharing, never a call.

Keys (``{id}`` is a deployment's id, the same in every process for the same configuration)::

    ritellm:router:{id}:fails         failures in the current window (INCR, PEXPIRE)
    ritellm:router:{id}:cool          the cooldown's end, expiring with it (SET PX)
    ritellm:router:{id}:half          set from a cooldown until a trial request succeeds
    ritellm:router:{id}:probe         the trial request in flight (SET NX PX)
    ritellm:router:{id}:rpm:{minute}  requests in that minute
    ritellm:router:{id}:tpm:{minute}  tokens in that minute
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

if TYPE_CHECKING:
    import asyncio

_log = logging.getLogger("ritellm")

#: Failures are counted in windows of this many seconds.
FAIL_WINDOW = 60.0
#: rpm and tpm are counted in fixed windows of a minute.
USAGE_WINDOW = 60.0
#: After a Redis error, Redis is left alone for this many seconds.
REDIS_RETRY_AFTER = 5.0


class Health(NamedTuple):
    """A deployment's breaker: cooling down until ``until`` (a clock time), or, after it,
    ``half_open`` (the next request is a trial) with ``probing`` while that trial is in flight."""

    until: float | None
    half_open: bool
    probing: bool


HEALTHY = Health(None, False, False)


class LocalState:
    """The state of one Router instance."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._fails: dict[str, tuple[float, int]] = {}
        self._cool: dict[str, float] = {}
        self._half: set[str] = set()
        self._probe: dict[str, float] = {}
        self._usage: dict[tuple[str, int], list[int]] = {}

    def call(self, name: str, *args: Any) -> Any:
        return getattr(self, name)(*args)

    async def acall(self, name: str, *args: Any) -> Any:
        return getattr(self, name)(*args)

    def health(self, ids: list[str]) -> list[Health]:
        if not (self._cool or self._half or self._probe):  # nothing ever failed: every call's case
            return [HEALTHY] * len(ids)
        now = self.clock()
        with self._lock:
            return [
                Health(
                    self._cool[i] if self._cool.get(i, 0.0) > now else None,
                    i in self._half,
                    self._probe.get(i, 0.0) > now,
                )
                for i in ids
            ]

    def claim_probe(self, id: str, ttl: float) -> bool:
        now = self.clock()
        with self._lock:
            if self._probe.get(id, 0.0) > now:
                return False
            self._probe[id] = now + ttl
            return True

    def release_probe(self, id: str) -> None:
        with self._lock:
            self._probe.pop(id, None)

    def failed(self, id: str, allowed_fails: int, cooldown: float, at_once: bool) -> float | None:
        """Counts a failure; returns the end of the cooldown it started, if it started one."""
        now = self.clock()
        with self._lock:
            started, count = self._fails.get(id, (now, 0))
            if now - started >= FAIL_WINDOW:
                started, count = now, 0
            count += 1
            if not (at_once or count > allowed_fails or id in self._half):
                self._fails[id] = (started, count)
                return None
            self._fails.pop(id, None)
            self._probe.pop(id, None)
            self._half.add(id)
            until = self._cool[id] = now + cooldown
            return until

    def recovered(self, id: str) -> None:
        with self._lock:
            self._half.discard(id)
            self._probe.pop(id, None)
            self._fails.pop(id, None)

    def reserve(self, id: str, tokens: int, rpm: int | None, tpm: int | None) -> bool:
        """Counts a request of ``tokens`` in this minute if it fits ``rpm`` and ``tpm``. A
        request larger than ``tpm`` alone fits an empty minute, or it would never go."""
        minute = int(self.clock() // USAGE_WINDOW)
        with self._lock:
            for key in [key for key in self._usage if key[1] < minute]:
                del self._usage[key]
            used = self._usage.setdefault((id, minute), [0, 0])
            if rpm is not None and used[0] + 1 > rpm:
                return False
            if tpm is not None and used[1] > 0 and used[1] + tokens > tpm:
                return False
            used[0] += 1
            used[1] += tokens
            return True

    def adjust(self, id: str, tokens: int) -> None:
        """Corrects this minute's tokens by ``tokens`` (the answer's usage less the estimate)."""
        minute = int(self.clock() // USAGE_WINDOW)
        with self._lock:
            used = self._usage.get((id, minute))
            if used is not None:
                used[1] = max(0, used[1] + tokens)

    def used(self, ids: list[str]) -> list[tuple[int, int]]:
        """Each deployment's requests and tokens in this minute."""
        minute = int(self.clock() // USAGE_WINDOW)
        with self._lock:
            return [tuple(self._usage.get((i, minute), (0, 0))) for i in ids]  # type: ignore[misc]

    def next_minute(self) -> float:
        """Seconds until the next usage window."""
        now = self.clock()
        return (int(now // USAGE_WINDOW) + 1) * USAGE_WINDOW - now


_FAILED = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if ARGV[5] == '1' or n > tonumber(ARGV[1]) or redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
  redis.call('SET', KEYS[3], '1')
  redis.call('DEL', KEYS[1], KEYS[4])
  return 1
end
return 0
"""
_RESERVE = """
local r = tonumber(redis.call('GET', KEYS[1]) or '0')
local t = tonumber(redis.call('GET', KEYS[2]) or '0')
local n, rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if rpm >= 0 and r + 1 > rpm then return 0 end
if tpm >= 0 and t > 0 and t + n > tpm then return 0 end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('INCRBY', KEYS[2], n)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
"""
_KEEP_USAGE_MS = int(2 * USAGE_WINDOW * 1000)

#: A pipeline's commands, and how to read its answers.
Ops = tuple[Callable[[Any], None], Callable[[list[Any]], Any]]


class RedisState(LocalState):
    """State in Redis at ``url``, shared; the local state when Redis fails (see the module)."""

    def __init__(self, url: str, clock: Callable[[], float]) -> None:
        super().__init__(clock)
        try:
            import redis
        except ImportError as exc:
            from ._exceptions import InvalidRequestError

            raise InvalidRequestError(
                "Router(redis_url=...) needs redis-py: pip install 'ritellm[redis]'"
            ) from exc
        self.url = url
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        #: Each event loop's client, and the generator that closes it when the loop shuts down.
        self._aclients: dict[asyncio.AbstractEventLoop, tuple[Any, AsyncGenerator[None, None]]] = {}
        self._down_until = 0.0

    def _key(self, id: str, what: str) -> str:
        return f"ritellm:router:{id}:{what}"

    def call(self, name: str, *args: Any) -> Any:
        if self.clock() >= self._down_until:
            build, parse = getattr(self, f"_{name}_ops")(*args)
            try:
                with self._client.pipeline(transaction=False) as pipe:
                    build(pipe)
                    return parse(pipe.execute())
            except self._errors as exc:
                self._outage(exc)
        return getattr(super(), name)(*args)

    async def acall(self, name: str, *args: Any) -> Any:
        if self.clock() >= self._down_until:
            build, parse = getattr(self, f"_{name}_ops")(*args)
            try:
                async with (await self._aclient()).pipeline(transaction=False) as pipe:
                    build(pipe)
                    return parse(await pipe.execute())
            except self._errors as exc:
                self._outage(exc)
        return getattr(super(), name)(*args)

    def _outage(self, exc: BaseException) -> None:
        if self.clock() >= self._down_until:
            _log.warning(
                "the Router's Redis at %s failed (%s: %s); using this Router's own state for %g s",
                self.url.rpartition("@")[2],
                type(exc).__name__,
                exc,
                REDIS_RETRY_AFTER,
            )
        self._down_until = self.clock() + REDIS_RETRY_AFTER

    async def _aclient(self) -> Any:
        """The running loop's client, closed when the loop shuts down (as ``_pools`` does)."""
        import asyncio

        loop = asyncio.get_running_loop()
        found = self._aclients.get(loop)
        if found is None:
            import redis.asyncio

            for other in [other for other in self._aclients if other.is_closed()]:
                del self._aclients[other]
            client = redis.asyncio.Redis.from_url(self.url, socket_timeout=1.0, socket_connect_timeout=1.0)
            found = self._aclients[loop] = (client, self._close_at_shutdown(loop, client))
            await found[1].__anext__()
        return found[0]

    async def _close_at_shutdown(
        self, loop: asyncio.AbstractEventLoop, client: Any
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            if self._aclients.get(loop, (None,))[0] is client:
                del self._aclients[loop]
            await client.aclose()

    def _health_ops(self, ids: list[str]) -> Ops:
        def build(pipe: Any) -> None:
            for i in ids:
                pipe.get(self._key(i, "cool"))
                pipe.exists(self._key(i, "half"))
                pipe.exists(self._key(i, "probe"))

        def parse(answers: list[Any]) -> list[Health]:
            return [
                Health(
                    float(answers[n]) if answers[n] is not None else None,
                    bool(answers[n + 1]),
                    bool(answers[n + 2]),
                )
                for n in range(0, len(answers), 3)
            ]

        return build, parse

    def _claim_probe_ops(self, id: str, ttl: float) -> Ops:
        return (
            lambda pipe: pipe.set(self._key(id, "probe"), 1, nx=True, px=max(1, int(ttl * 1000))),
            lambda answers: bool(answers[0]),
        )

    def _release_probe_ops(self, id: str) -> Ops:
        return lambda pipe: pipe.delete(self._key(id, "probe")), lambda answers: None

    def _failed_ops(self, id: str, allowed_fails: int, cooldown: float, at_once: bool) -> Ops:
        until = self.clock() + cooldown
        keys = [self._key(id, what) for what in ("fails", "cool", "half", "probe")]
        args = [
            allowed_fails,
            int(FAIL_WINDOW * 1000),
            max(1, int(cooldown * 1000)),
            repr(until),
            int(at_once),
        ]
        return (
            lambda pipe: pipe.eval(_FAILED, len(keys), *keys, *args),
            lambda answers: until if answers[0] else None,
        )

    def _recovered_ops(self, id: str) -> Ops:
        keys = [self._key(id, what) for what in ("half", "probe", "fails")]
        return lambda pipe: pipe.delete(*keys), lambda answers: None

    def _usage_keys(self, id: str) -> list[str]:
        minute = int(self.clock() // USAGE_WINDOW)
        return [self._key(id, f"rpm:{minute}"), self._key(id, f"tpm:{minute}")]

    def _reserve_ops(self, id: str, tokens: int, rpm: int | None, tpm: int | None) -> Ops:
        keys = self._usage_keys(id)
        args = [tokens, -1 if rpm is None else rpm, -1 if tpm is None else tpm, _KEEP_USAGE_MS]
        return lambda pipe: pipe.eval(_RESERVE, 2, *keys, *args), lambda answers: bool(answers[0])

    def _adjust_ops(self, id: str, tokens: int) -> Ops:
        key = self._usage_keys(id)[1]

        def build(pipe: Any) -> None:
            pipe.incrby(key, tokens)
            pipe.pexpire(key, _KEEP_USAGE_MS)

        return build, lambda answers: None

    def _used_ops(self, ids: list[str]) -> Ops:
        keys = [key for i in ids for key in self._usage_keys(i)]

        def parse(answers: list[Any]) -> list[tuple[int, int]]:
            values = [int(v or 0) for v in answers[0]]
            return [(values[n], max(0, values[n + 1])) for n in range(0, len(values), 2)]

        return lambda pipe: pipe.mget(keys), parse
