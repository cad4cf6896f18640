"""Response caching, as LiteLLM users know it: ``ritellm.cache = Cache(...)`` caches the answers
of every ``completion``, ``embedding`` and ``responses`` call (and their async twins).

A call's key is SHA-256, in hex, of the core's canonical text of what determines its answer
(``_prepare.cache_key``; ``cache_material`` in ``core-rs/src/lib.rs`` lists it), after the
cache's namespace: ``"<namespace or ritellm>:<hex>"``. It holds neither key nor prompt.

What is stored is JSON: ``{"t": unix time, "answer": {...}}`` for a complete answer,
``{"t", "chunks": [...]}`` for a stream that ended normally, ``{"t", "embedding", "model"}`` for
one input of an embedding call. Either answers either kind of request: chunks are assembled
(``stream_chunk_builder``, ``response_from_events``) for a complete request, a complete answer
replayed as one chunk for a stream. Errors are never stored.

A cache outage never fails a call: the failure is logged as a warning on the ``ritellm`` logger
and the call goes on uncached; the backend is then left alone for :data:`RETRY_AFTER` seconds.

Per call: ``caching=False`` leaves the cache out; ``cache={"no-cache": True}`` does not read
it, ``{"no-store": True}`` does not write it, ``{"ttl": seconds}`` sets what is written's time
to live, ``{"s-maxage": seconds}`` reads only answers younger than that.

**The hook for a Router** (or any caller with a cache of its own): ``with using(cache):`` makes
``cache`` (a :class:`Cache`, or None for none) the cache of the calls made inside, in place of
``ritellm.cache``; a context variable, so it follows asyncio tasks. The per-call controls above
still apply. :func:`current` says which cache a call made now would use.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Literal, NamedTuple, TypeVar

from ._assembly import as_chunk, as_terminal_event
from ._callbacks import Watch
from ._exceptions import InvalidRequestError
from ._models import HiddenParams
from .types import ChatCompletion, Record, ResponseStreamEvent

_log = logging.getLogger("ritellm")
R = TypeVar("R", bound=Record)
T = TypeVar("T")

#: Seconds a backend that failed is left alone before it is tried again.
RETRY_AFTER = 10.0
#: Redis's connect and read timeouts, in seconds: an answer from the provider is the fallback.
REDIS_TIMEOUT = 2.0
#: Seconds a disk cache waits for another process's write before it counts as down.
DISK_TIMEOUT = 2.0
#: Writes to the disk cache between two prunings of its expired rows.
PRUNE_EVERY = 256
#: The per-call controls ``cache={...}`` takes.
CONTROLS = frozenset({"no-cache", "no-store", "ttl", "s-maxage"})

_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


class _Local:
    """An LRU of at most ``max_size`` entries in this process, with expiry."""

    def __init__(self, max_size: int, clock: Callable[[], float]) -> None:
        self.max_size = max_size
        self.clock = clock
        self._entries: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[1] is not None and entry[1] <= self.clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        expires = None if ttl is None else self.clock() + ttl
        with self._lock:
            self._entries[key] = (value, expires)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self.get(key) for key in keys]

    def set_many(self, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        for key, value in items:
            self.set(key, value, ttl)

    def close(self) -> None:
        pass


class _Disk:
    """A SQLite file, shared by processes (WAL, a busy timeout); expired rows are ignored, and
    pruned every :data:`PRUNE_EVERY` writes. One connection per process, behind a lock."""

    def __init__(self, directory: str | os.PathLike[str] | None, clock: Callable[[], float]) -> None:
        if directory is None:
            from ._core import cache_dir

            directory = cache_dir() / "responses"
        self.path = Path(directory) / "cache.sqlite3"
        self.clock = clock
        self._lock = threading.Lock()
        self._db: Any = None
        self._pid = 0
        self._writes = 0
        self._finalizer: Any = None

    def _connection(self) -> Any:
        if self._db is None or self._pid != os.getpid():
            import sqlite3

            self.path.parent.mkdir(parents=True, exist_ok=True)
            # A writer holding the file longer than this is an outage: the call goes on uncached.
            db = sqlite3.connect(
                self.path, timeout=DISK_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            db.execute(f"PRAGMA busy_timeout = {int(DISK_TIMEOUT * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL)"
            )
            self._db, self._pid = db, os.getpid()  # a parent's connection is left to the parent
            self._finalizer = weakref.finalize(self, db.close)
        return self._db

    def get(self, key: str) -> bytes | None:
        return self.get_many([key])[0]

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        found: dict[str, bytes] = {}
        with self._lock:
            db = self._connection()
            now = self.clock()
            # In batches under the variables a statement may have (999 in older SQLite).
            for start in range(0, len(keys), 900):
                batch = keys[start : start + 900]
                marks = ",".join("?" * len(batch))
                found.update(
                    db.execute(
                        f"SELECT key, value FROM responses WHERE key IN ({marks}) AND (expires IS NULL OR expires > ?)",
                        (*batch, now),
                    ).fetchall()
                )
        return [found.get(key) for key in keys]

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        self.set_many([(key, value)], ttl)

    def set_many(self, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        now = self.clock()
        expires = None if ttl is None else now + ttl
        with self._lock:
            db = self._connection()
            with db:  # one transaction
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT OR REPLACE INTO responses (key, value, expires) VALUES (?, ?, ?)",
                    [(key, value, expires) for key, value in items],
                )
                self._writes += len(items)
                if self._writes >= PRUNE_EVERY:
                    self._writes = 0
                    db.execute("DELETE FROM responses WHERE expires IS NOT NULL AND expires <= ?", (now,))

    def close(self) -> None:
        with self._lock:
            if self._finalizer is not None:
                self._finalizer()
            self._db = None


class _Redis:
    """redis-py: a client for sync calls, and one per event loop for async calls (released when
    the loop shuts down, as ``_pools`` releases its connections)."""

    def __init__(self, url: str, options: Mapping[str, Any]) -> None:
        try:
            import redis
        except ImportError:
            raise ImportError("Cache(type='redis') needs redis-py: pip install 'ritellm[redis]'") from None
        self._redis = redis
        self.url = url
        self.options = {
            "socket_timeout": REDIS_TIMEOUT,
            "socket_connect_timeout": REDIS_TIMEOUT,
            **options,
        }
        self._sync: Any = None
        self._async: weakref.WeakKeyDictionary[Any, tuple[Any, Any]] = weakref.WeakKeyDictionary()

    def _client(self) -> Any:
        if self._sync is None:
            self._sync = self._redis.Redis.from_url(self.url, **self.options)
        return self._sync

    async def _aclient(self) -> Any:
        import asyncio

        loop = asyncio.get_running_loop()
        held = self._async.get(loop)
        if held is None:
            import redis.asyncio

            client = redis.asyncio.Redis.from_url(self.url, **self.options)
            watcher = _release_at_shutdown(client, self._async, loop)
            self._async[loop] = held = (client, watcher)
            await watcher.__anext__()
        return held[0]

    def get(self, key: str) -> bytes | None:
        return self._client().get(key)  # type: ignore[no-any-return]

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return self._client().mget(keys)  # type: ignore[no-any-return]

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        self._client().set(key, value, px=_milliseconds(ttl))

    def set_many(self, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        with self._client().pipeline(transaction=False) as pipe:
            for key, value in items:
                pipe.set(key, value, px=_milliseconds(ttl))
            pipe.execute()

    async def aget(self, key: str) -> bytes | None:
        return await (await self._aclient()).get(key)  # type: ignore[no-any-return]

    async def aget_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return await (await self._aclient()).mget(keys)  # type: ignore[no-any-return]

    async def aset(self, key: str, value: bytes, ttl: float | None) -> None:
        await (await self._aclient()).set(key, value, px=_milliseconds(ttl))

    async def aset_many(self, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        async with (await self._aclient()).pipeline(transaction=False) as pipe:
            for key, value in items:
                pipe.set(key, value, px=_milliseconds(ttl))
            await pipe.execute()

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None


async def _release_at_shutdown(client: Any, held: Any, loop: Any) -> AsyncGenerator[None, None]:
    """Parks on the loop until ``loop.shutdown_asyncgens()`` closes it, then closes ``client``
    and forgets it (the client refers to its loop: left in ``held``, neither would be freed)."""
    try:
        yield
    finally:
        if held.get(loop, (None,))[0] is client:
            del held[loop]
        await client.aclose()


def _milliseconds(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))


class Cache:
    """Where answers are cached: ``ritellm.cache = Cache()`` switches caching on for every call,
    as in LiteLLM.

    Args:
        type: ``"local"`` (this process, an LRU of ``max_size`` entries), ``"disk"`` (a SQLite
            file in ``disk_cache_dir``, shared by the processes of a machine) or ``"redis"``
            (``redis_url``, else ``$REDIS_URL``; shared by every process that reaches it; needs
            ``pip install 'ritellm[redis]'``).
        ttl: seconds an answer stays, unless a call says otherwise; None: until evicted.
        namespace: the prefix of every key (``"ritellm"`` when None): caches with different
            namespaces on one Redis do not see each other's answers.
        disk_cache_dir: the disk cache's directory (default: ritellm's cache directory).
        redis_url: ``redis://[:password@]host:port/db``, or ``rediss://`` for TLS.
        max_size: the local cache's most entries.
        **redis_options: passed to ``redis.Redis.from_url``.
    """

    def __init__(
        self,
        type: Literal["local", "disk", "redis"] = "local",
        *,
        ttl: float | None = None,
        namespace: str | None = None,
        disk_cache_dir: str | os.PathLike[str] | None = None,
        redis_url: str | None = None,
        max_size: int = 1000,
        **redis_options: Any,
    ) -> None:
        if ttl is not None and not (isinstance(ttl, (int, float)) and ttl > 0):
            raise InvalidRequestError(f"Cache ttl must be a positive number of seconds, got {ttl!r}")
        self.type = type
        self.ttl = ttl
        self.namespace = namespace or "ritellm"
        #: The clock expiry and ``s-maxage`` are measured on (tests replace it).
        self.clock: Callable[[], float] = time.time
        self._down_until = 0.0
        self._backend: Any
        if type == "local":
            self._backend = _Local(max_size, lambda: self.clock())
        elif type == "disk":
            self._backend = _Disk(disk_cache_dir, lambda: self.clock())
        elif type == "redis":
            url = redis_url or os.environ.get("REDIS_URL") or "redis://localhost:6379/0"
            self._backend = _Redis(url, redis_options)
        else:
            raise InvalidRequestError(f"Cache type must be 'local', 'disk' or 'redis', got {type!r}")
        if redis_options and type != "redis":
            raise InvalidRequestError(f"{', '.join(redis_options)}: options of a Redis cache only")

    def __repr__(self) -> str:
        return f"Cache(type={self.type!r}, namespace={self.namespace!r}, ttl={self.ttl!r})"

    def close(self) -> None:
        """Closes the cache's connections (a disk cache's file, a Redis client)."""
        self._backend.close()

    def key(self, digest: str) -> str:
        """The stored key of a call's digest (``_prepare.cache_key``)."""
        return f"{self.namespace}:{digest}"

    # Each operation fails soft: see the module docs.

    def _up(self) -> bool:
        return not self._down_until or time.monotonic() >= self._down_until

    def _failed(self, doing: str, exc: BaseException) -> None:
        self._down_until = time.monotonic() + RETRY_AFTER
        _log.warning(
            "ritellm: the %s cache failed while %s (%s: %s); going on without it for %g s",
            self.type,
            doing,
            type(exc).__name__,
            exc,
            RETRY_AFTER,
        )

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not self._up():
            return [None] * len(keys)
        try:
            return list(self._backend.get_many(keys))
        except Exception as exc:
            self._failed("reading", exc)
            return [None] * len(keys)

    def set_many(self, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        if not self._up():
            return
        try:
            self._backend.set_many(items, ttl)
        except Exception as exc:
            self._failed("writing", exc)

    async def aget_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not isinstance(self._backend, _Redis):
            return self.get_many(keys)  # local or a file: no waiting worth a thread
        if not self._up():
            return [None] * len(keys)
        try:
            return list(await self._backend.aget_many(keys))
        except Exception as exc:
            self._failed("reading", exc)
            return [None] * len(keys)

    async def aset_many(self, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        if not isinstance(self._backend, _Redis):
            return self.set_many(items, ttl)
        if not self._up():
            return
        try:
            await self._backend.aset_many(items, ttl)
        except Exception as exc:
            self._failed("writing", exc)


_using: contextvars.ContextVar[tuple[Cache | None] | None] = contextvars.ContextVar(
    "ritellm_cache", default=None
)


@contextlib.contextmanager
def using(cache: Cache | None) -> Iterator[None]:
    """Makes ``cache`` (None: no cache) the cache of the calls made inside; see the module docs."""
    token = _using.set((cache,))
    try:
        yield
    finally:
        _using.reset(token)


def current() -> Cache | None:
    """The cache a call made now uses: a :func:`using` block's, else ``ritellm.cache``."""
    chosen = _using.get()
    if chosen is not None:
        return chosen[0]
    cache = getattr(sys.modules.get(__package__ or "ritellm"), "cache", None)
    return cache if isinstance(cache, Cache) else None


class Use:
    """One call's use of a cache: the cache, the controls, and (once known) the key."""

    __slots__ = ("cache", "read", "write", "ttl", "max_age", "key")

    def __init__(self, cache: Cache, controls: Mapping[str, Any]) -> None:
        self.cache = cache
        self.read = not controls.get("no-cache")
        self.write = not controls.get("no-store")
        ttl = controls.get("ttl", cache.ttl)
        max_age = controls.get("s-maxage")
        for name, value in (("ttl", ttl), ("s-maxage", max_age)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0
            ):
                raise InvalidRequestError(f"cache={{{name!r}: ...}} must be a positive number of seconds")
        self.ttl: float | None = ttl
        self.max_age: float | None = max_age
        self.key = ""

    def keyed(self, digest: str) -> Use:
        self.key = self.cache.key(digest)
        return self

    def _fresh(self, raw: bytes | None) -> dict[str, Any] | None:
        if raw is None:
            return None
        try:
            stored = json.loads(raw)
        except ValueError:
            return None  # not ours, or cut short: a miss
        if not isinstance(stored, dict):
            return None
        if self.max_age is not None and self.cache.clock() - stored.get("t", 0) > self.max_age:
            return None
        return stored

    def get(self) -> dict[str, Any] | None:
        """The stored answer, or None."""
        if not self.read:
            return None
        return self._fresh(self.cache.get_many([self.key])[0])

    async def aget(self) -> dict[str, Any] | None:
        if not self.read:
            return None
        return self._fresh((await self.cache.aget_many([self.key]))[0])

    def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        if not self.read:
            return [None] * len(keys)
        return [self._fresh(raw) for raw in self.cache.get_many([self.cache.key(k) for k in keys])]

    async def aget_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        if not self.read:
            return [None] * len(keys)
        found = await self.cache.aget_many([self.cache.key(k) for k in keys])
        return [self._fresh(raw) for raw in found]

    def _encoded(self, member: str, value: Any) -> bytes | None:
        try:
            return b'{"t":%r,"%s":%s}' % (self.cache.clock(), member.encode(), _encode_raw(value).encode())
        except (TypeError, ValueError):
            return None  # not JSON (a caller's own object in an answer): not stored

    def put(self, member: str, value: Any) -> None:
        if self.write and (encoded := self._encoded(member, value)) is not None:
            self.cache.set_many([(self.key, encoded)], self.ttl)

    async def aput(self, member: str, value: Any) -> None:
        if self.write and (encoded := self._encoded(member, value)) is not None:
            await self.cache.aset_many([(self.key, encoded)], self.ttl)

    def _many(self, items: Sequence[tuple[str, dict[str, Any]]]) -> list[tuple[str, bytes]]:
        now = b"%r" % self.cache.clock()
        return [
            (self.cache.key(k), b'{"t":' + now + b"," + _ENCODER.encode(v).encode()[1:]) for k, v in items
        ]

    def put_many(self, items: Sequence[tuple[str, dict[str, Any]]]) -> None:
        if self.write and items:
            self.cache.set_many(self._many(items), self.ttl)

    async def aput_many(self, items: Sequence[tuple[str, dict[str, Any]]]) -> None:
        if self.write and items:
            await self.cache.aset_many(self._many(items), self.ttl)


def take(params: dict[str, Any]) -> tuple[Use | None, dict[str, Any]]:
    """Takes LiteLLM's ``caching`` and ``cache`` out of a call's keyword arguments; returns the
    call's use of the cache (None when it uses none) and the other arguments."""
    if "caching" in params or "cache" in params:
        params = dict(params)
        caching = params.pop("caching", None)
        controls = params.pop("cache", None)
        if caching is not None and not isinstance(caching, bool):
            raise InvalidRequestError(f"caching must be True or False, got {caching!r}")
        if controls is None:
            controls = {}
        if not isinstance(controls, Mapping):
            raise InvalidRequestError(
                'cache= takes controls like {"no-cache": True, "no-store": True, "ttl": 60}, '
                f"got {type(controls).__name__}"
            )
        unknown = sorted(set(controls) - CONTROLS)
        if unknown:
            raise InvalidRequestError(
                f"cache={{{', '.join(map(repr, unknown))}: ...}}: not a cache control; they are "
                + ", ".join(sorted(CONTROLS))
            )
        if caching is False:
            return None, params
    else:
        controls = {}
    cache = current()
    if cache is None:
        return None, params
    return Use(cache, controls), params


# What a hit answers.


def _marked(result: R, model: str) -> R:
    """``result`` with LiteLLM's ``_hidden_params`` of a cache hit: no cost."""
    if type(result) is not Record:
        hidden = HiddenParams(model.partition("/")[0], model, result)
        hidden["cache_hit"] = True
        hidden["response_cost"] = 0.0
        result._hidden_params = hidden  # type: ignore[attr-defined]
    return result


def answer(stored: dict[str, Any], kind: type[R], model: str) -> R:
    """A complete request's answer from what was stored."""
    if "answer" in stored:
        result: Record = kind(stored["answer"])
    elif kind is ChatCompletion:
        from ._assembly import stream_chunk_builder

        result = stream_chunk_builder(stored["chunks"])
    else:
        from ._assembly import response_from_events

        result = response_from_events(stored["chunks"])
    return _marked(result, model)  # type: ignore[return-value]


def chunks(stored: dict[str, Any], kind: type[Record]) -> list[Any]:
    """A stream request's chunks (or events) from what was stored."""
    if "chunks" in stored:
        return [kind(chunk) for chunk in stored["chunks"]]
    answered = stored["answer"]
    if kind is ResponseStreamEvent:
        return [as_terminal_event(answered)]
    return [as_chunk(answered)]


#: A Responses answer in these states is an error or not an answer yet: never stored.
_NOT_STORED = frozenset({"failed", "queued", "in_progress", "cancelled"})


def storable(answer: Any) -> bool:
    """Whether an answer (or a stream's last chunk or event) may be stored."""
    response = answer.get("response") if answer.get("type") else answer
    return not (isinstance(response, Mapping) and response.get("status") in _NOT_STORED)


def recording(stream: Generator[T, None, None], use: Use) -> Generator[T, None, None]:
    """``stream``, stored once it ends normally (not when it fails or is closed early). Each
    chunk is encoded as it passes, so that a reader changing it changes nothing stored."""
    seen: list[str] = []
    try:
        for chunk in stream:
            seen.append(_ENCODER.encode(chunk))
            yield chunk
    finally:
        stream.close()
    if not seen or storable(json.loads(seen[-1])):
        use.put("chunks", _Raw(seen))


async def arecording(stream: AsyncGenerator[T, None], use: Use) -> AsyncGenerator[T, None]:
    """The async twin of :func:`recording`."""
    seen: list[str] = []
    try:
        async for chunk in stream:
            seen.append(_ENCODER.encode(chunk))
            yield chunk
    finally:
        await stream.aclose()
    if not seen or storable(json.loads(seen[-1])):
        await use.aput("chunks", _Raw(seen))


class _Raw(NamedTuple):
    """Chunks already encoded, spliced in as a JSON array."""

    encoded: list[str]


def _encode_raw(value: Any) -> str:
    if isinstance(value, _Raw):
        return "[" + ",".join(value.encoded) + "]"
    return _ENCODER.encode(value)


class _Nothing:
    """The response of a replayed stream: nothing to release."""

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


S = TypeVar("S")


def replayed(items: list[Any], stream_class: type[S], watch: Watch | None) -> S:
    """A stream of ``stream_class`` (sync or async) that yields ``items``: the same class a
    live stream has, so it iterates, closes and works as a context manager alike."""
    from ._streaming import _awatched, _watched

    stream: Any = stream_class.__new__(stream_class)
    stream._response = _Nothing()
    if watch is not None:
        watch.cache_hit = True
        watch.attempts = 0
    if hasattr(stream_class, "__aiter__"):
        stream._prepared = None
        stream._watch = watch
        stream._sync = None
        agen = _replay(items)
        stream._chunks = agen if watch is None else _awatched(agen, watch)
    else:
        gen = (item for item in items)
        stream._chunks = gen if watch is None else _watched(gen, watch)
    return stream  # type: ignore[no-any-return]


async def _replay(items: list[T]) -> AsyncGenerator[T, None]:
    for item in items:
        yield item


def hit(watch: Watch | None, result: Any) -> None:
    """Reports a complete call answered from the cache."""
    if watch is not None:
        watch.cache_hit = True
        watch.answered(result, 0)
