"""The operations over the core: calls, answers, stream decoders, and turning the core's errors
and an engine's traps into ritellm's exceptions.

The boundary itself (exports, buffers, the answer format) is documented once, in
``core-rs/src/abi.rs``, and driven by the engine (``_engines``): this module names an export,
hands it bytes and reads the JSON answer, and knows no address. The module is compiled once per
process; each thread gets its own instance, made on first use and again after a trap.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import weakref
from pathlib import Path
from typing import Any, Callable

from ._engines import Engine, Settings, load_engine
from ._engines.base import EngineUnavailable, Instance, Trap
from ._exceptions import (
    InternalError,
    InvalidResponseError,
    LimitExceededError,
    RitellmError,
    UnsupportedPlatformError,
    from_core,
)

#: The module's exports besides ``memory``: (parameter count, result type or None).
EXPORTS: dict[str, tuple[int, str | None]] = {
    "ritellm_input": (1, "i32"),
    "ritellm_describe": (0, "i64"),
    "ritellm_prepare": (1, "i64"),
    "ritellm_cache_material": (1, "i64"),
    "ritellm_parse": (3, "i64"),
    "ritellm_stream_open": (1, "i64"),
    "ritellm_stream_feed": (2, "i64"),
    "ritellm_stream_finish": (1, "i64"),
    "ritellm_stream_close": (1, None),
    "ritellm_mock": (1, "i64"),
}

#: Most linear memory one instance may use; past it an allocation fails and the call traps.
MEMORY_LIMIT = 512 << 20
#: The mock provider writes a chunk of a stream per word of its prompt: its work grows with
#: that output, up to this many times the request's size.
MOCK_OUTPUT_PER_BYTE = 32
#: Parsed request heads kept per instance (see `Core.prepare`).
HEADS_KEPT = 256
#: A stream decoder feeds the core at most this many bytes at a time: a read of many events
#: (a burst, a proxy relaying a finished answer) then becomes a few batches of a few dozen
#: chunks each rather than one of hundreds, which would stay in memory all at once.
FEED_SLICE = 16 << 10

_PACKAGE_DIR = Path(__file__).parent
#: Installed wheels carry the module inside the package; a source checkout keeps it in wasm/.
WASM_PATHS = (
    _PACKAGE_DIR / "ritellm_core.wasm",
    _PACKAGE_DIR.parent / "wasm" / "ritellm_core.wasm",
)


def wasm_path() -> Path:
    for path in WASM_PATHS:
        if path.is_file():
            return path
    raise InternalError(f"ritellm_core.wasm is missing (looked in {', '.join(map(str, WASM_PATHS))})")


def cache_dir() -> Path:
    configured = os.environ.get("RITELLM_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ritellm"


class _Loaded:
    """The engine with the module compiled, made once per process."""

    _lock = threading.Lock()
    engine: Engine | None = None

    @classmethod
    def get(cls) -> Engine:
        if cls.engine is None:
            with cls._lock:
                if cls.engine is None:
                    settings = Settings(EXPORTS, MEMORY_LIMIT, cache_dir(), quick_start=True)
                    try:
                        cls.engine = load_engine(wasm_path().read_bytes(), settings)
                    except EngineUnavailable as exc:
                        import platform

                        raise UnsupportedPlatformError(
                            f"ritellm cannot run its core on this platform ({sys.platform}, "
                            f"{platform.machine()}, Python {platform.python_version()}): {exc}. It runs "
                            "where wasmtime has a build: CPython on Linux, macOS and Windows, on x86_64 "
                            "and arm64"
                        ) from None
                    except Trap as exc:
                        raise InternalError(f"ritellm_core.wasm cannot be used: {exc}") from None
        return cls.engine


def load() -> None:
    """Compiles the module now (it is otherwise compiled by the first call). Where no compiled
    code is cached, the engine may start on code compiled quickly and finish the optimized code,
    which it caches, in the background, before the process exits."""
    _Loaded.get()


def loaded() -> bool:
    return _Loaded.engine is not None


#: What the module says of itself, per engine: it is the same in every instance.
_described: weakref.WeakKeyDictionary[Any, tuple[dict[str, Any], dict[str, list[str]]]] = (
    weakref.WeakKeyDictionary()
)

#: JSON's own scanner, called directly: ``json.loads`` would first look for a byte order mark
#: and the encoding of bytes, a sixth of the cost of reading a stream's batch.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _loads(answer: bytes) -> Any:
    """Reads an answer of the core: UTF-8 JSON. Raises ValueError (JSONDecodeError or
    UnicodeDecodeError) for anything else."""
    text = answer.decode()
    try:
        value, end = _scan(text, 0)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


class Core:
    """One instance of the core. Not shared between threads: see :func:`core`."""

    def __init__(self, engine: Engine | None = None) -> None:
        engine = engine or _Loaded.get()
        self._instance: Instance = engine.instantiate()
        # Streams may be read on another thread than the one that made the instance; two
        # threads inside one instance would crash the process.
        self._lock = threading.Lock()
        self._heads: dict[bytes, dict[str, Any]] = {}
        self.broken = False
        described = _described.get(engine)
        if described is None:
            describe: dict[str, Any] = self._op("ritellm_describe")
            #: The non-secret environment variables each provider's requests depend on.
            config_env = {p["prefix"]: [*p["base_url_env"], *p["extra_env"]] for p in describe["providers"]}
            described = _described[engine] = (describe, config_env)
        #: What the module says of itself (shared by every instance: do not change it).
        self.describe, self.config_env = described

    @property
    def stale(self) -> bool:
        """Broken by a trap, or superseded by an instance with better code."""
        return self.broken or self._instance.superseded

    def _call(self, name: str, *args: int) -> int:
        """Calls an export that answers with a number or nothing."""
        with self._lock:
            self._check()
            try:
                return self._instance.call(name, *args)
            except Trap as trap:
                raise self._failure(name, trap) from None

    def _check(self) -> None:
        if self.broken:
            raise InternalError("the core failed earlier in this thread")

    def _failure(self, name: str, trap: Trap) -> RitellmError:
        """The error for a trap in ``name``; the instance is broken from now on."""
        self.broken = True  # a trapped instance's memory is in an unknown state
        if trap.out_of_work:
            return LimitExceededError(f"the core ran out of its work limit (fuel) in {name}")
        if self._instance.allocation_failed():
            return LimitExceededError(
                f"the core ran out of its memory limit ({MEMORY_LIMIT >> 20} MiB) in {name}"
            )
        return InternalError(f"the core failed in {name}: {trap}")

    def _raw(
        self, name: str, *args: int, data: bytes | None = None, rest: bytes = b"", work: int | None = None
    ) -> bytes:
        """Calls export ``name`` with ``data`` then ``rest`` as its input, their length as the
        last argument; returns the answer's bytes. ``work`` is how many bytes the call
        processes, when that is not just its input: it sets the work the call is allowed."""
        if work is None:
            work = 0 if data is None else len(data) + len(rest)
        with self._lock:
            self._check()
            try:
                return self._instance.run(name, args, data, rest, work)
            except Trap as trap:
                raise self._failure(name, trap) from None

    def _op(self, name: str, *args: int, data: bytes | None = None) -> Any:
        """The answer's ``ok`` value, or the core's error raised."""
        return _unwrap(self._raw(name, *args, data=data))

    def prepare(self, call: bytes) -> tuple[dict[str, Any], bytes]:
        """Validates a call; returns the request head (shared by calls alike: do not change
        it) and its body. The context in the head is bytes, ready to hand back."""
        raw_head, _, body = self._raw("ritellm_prepare", data=call).partition(b"\n")
        head = self._heads.get(raw_head)
        if head is None:
            # Calls alike (same provider, model, URL, options) get the same head: parsing it
            # once saves a third of the cost of preparing a call.
            head = _unwrap(raw_head)
            head["context"] = head["context"].encode()
            if len(self._heads) >= HEADS_KEPT:
                self._heads.clear()
            self._heads[raw_head] = head
        return head, body

    def cache_material(self, call: bytes) -> str:
        """What determines a call's answer (the same call JSON as :meth:`prepare`), as canonical
        JSON text to hash into a cache key; raises what :meth:`prepare` would."""
        return self._op("ritellm_cache_material", data=call)  # type: ignore[no-any-return]

    def parse(self, context: bytes, status: int, body: bytes) -> dict[str, Any]:
        """Translates a complete answer; raises the provider's error for error answers."""
        answer = self._raw("ritellm_parse", status, len(context), data=context, rest=body)
        try:
            return _unwrap(answer)  # type: ignore[no-any-return]
        except RitellmError:
            raise
        except ValueError as exc:  # a pass-through answer the core scanned but Python cannot read
            raise InvalidResponseError(f"the provider's answer is not valid JSON: {exc}") from None

    def mock(self, request_body: bytes) -> tuple[str, bytes]:
        """The mock provider's answer to a request body: content type and body."""
        raw_head, _, body = self._raw(
            "ritellm_mock", data=request_body, work=MOCK_OUTPUT_PER_BYTE * len(request_body)
        ).partition(b"\n")
        head = _unwrap(raw_head)
        return head["content_type"], body

    def open_stream(self, context: bytes) -> StreamDecoder:
        return StreamDecoder(self, self._op("ritellm_stream_open", data=context))

    def close_stream(self, handle: int) -> None:
        with self._lock:
            if not self.broken:
                try:
                    self._instance.call("ritellm_stream_close", handle)
                except Trap as trap:
                    raise self._failure("ritellm_stream_close", trap) from None


def _unwrap(answer_json: bytes) -> Any:
    answer = _loads(answer_json)
    if "ok" in answer:
        return answer["ok"]
    raise from_core(answer["error"])


#: How a batch answer starts; its chunks follow as the elements of a JSON array.
_BATCH_HEAD = b'{"ok":{"chunks":['


def _salvage(answer: bytes, exc: ValueError) -> dict[str, Any]:
    """A batch that Python's parser refused. The core checks a pass-through chunk's shape and
    leaves parsing it to Python, so a chunk can still be invalid JSON (or not UTF-8): this
    returns the chunks before the bad one, and the error that ends the stream."""
    if isinstance(exc, UnicodeDecodeError):
        answer = answer[: exc.start]  # the chunks before the bad bytes
    text = answer.decode()
    decoder = json.JSONDecoder()
    chunks: list[Any] = []
    position = len(_BATCH_HEAD)
    while True:
        try:
            chunk, position = decoder.raw_decode(text, position)
        except ValueError:
            break
        chunks.append(chunk)
        if not text.startswith(",", position):
            break
        position += 1
    error = InvalidResponseError(f"the provider's stream chunk is not valid JSON: {exc}")
    return {"chunks": chunks, "done": True, "error": error}


class StreamDecoder:
    """A stream's state inside the core. Feed it the body as it arrives; close it when done.

    It stays with the instance that opened it, whichever thread reads the stream.
    """

    def __init__(self, core: Core, handle: int) -> None:
        self._core = core
        self._handle: int | None = handle
        #: Bytes the core may still hold of an event not yet complete: a call that completes
        #: it processes them too, so its work allowance counts them.
        self._pending = 0

    def feed(self, data: bytes) -> dict[str, Any]:
        """Returns a batch: ``{"chunks": [...], "done": bool, "error"?: RitellmError}``, where the
        chunks are those before the error, if any."""
        if len(data) > FEED_SLICE:
            return self._feed_slices(data)
        # The one crossing per network read, so `Core._raw` and the common case of `_batch` are
        # written out here: between reads of a slowly paced stream the CPU's caches go cold,
        # and every function on this path then costs about a microsecond.
        core = self._core
        handle = self._handle
        if handle is None:
            handle = self._live()  # raises
        with core._lock:
            if core.broken:
                core._check()
            try:
                answer = core._instance.run(
                    "ritellm_stream_feed", (handle,), data, b"", self._pending + len(data)
                )
            except Trap as trap:
                raise core._failure("ritellm_stream_feed", trap) from None
        try:
            text = answer.decode()
            value, end = _scan(text, 0)
            batch: dict[str, Any] = value["ok"]
        except (ValueError, StopIteration, KeyError, TypeError):
            batch = self._batch(answer)
        else:
            if end != len(text) or "error" in batch:
                batch = self._batch(answer)
        # After a chunk, what is held is at most the rest of this read.
        self._pending = len(data) if batch["chunks"] else self._pending + len(data)
        return batch

    def _feed_slices(self, data: bytes) -> dict[str, Any]:
        chunks: list[Any] = []
        for start in range(0, len(data), FEED_SLICE):
            batch = self.feed(data[start : start + FEED_SLICE])
            chunks += batch["chunks"]
            if batch["done"] or "error" in batch:
                break  # the core ignores what follows
        batch["chunks"] = chunks
        return batch

    def finish(self) -> dict[str, Any]:
        """Ends the input and releases the handle; the batch's error reports a cut-short stream."""
        handle = self._live()
        self._handle = None
        return self._batch(self._core._raw("ritellm_stream_finish", handle, work=self._pending))

    def _batch(self, answer: bytes) -> dict[str, Any]:
        try:
            batch: dict[str, Any] = _loads(answer)
        except ValueError as exc:
            if not answer.startswith(_BATCH_HEAD):
                raise InternalError(f"the core's answer is not JSON: {exc}") from None
            self.close()
            return _salvage(answer, exc)
        if "ok" not in batch:
            raise from_core(batch["error"])
        batch = batch["ok"]
        if "error" in batch:
            batch["error"] = from_core(batch["error"])
        return batch

    def close(self) -> None:
        if self._handle is not None:
            self._core.close_stream(self._handle)
            self._handle = None

    def _live(self) -> int:
        if self._handle is None:
            raise InternalError("the stream decoder is closed")
        return self._handle


_local = threading.local()


@atexit.register
def _release_at_exit() -> None:
    # Released while the engine's module is intact: at interpreter shutdown its finalizers can
    # find its globals already gone.
    _local.__dict__.pop("core", None)


def core() -> Core:
    """This thread's instance, made on first use, again after a trap, and again once the engine
    has better code (a stream keeps the instance it opened on)."""
    instance: Core | None = getattr(_local, "core", None)
    if instance is None or instance.stale:
        instance = _local.core = Core()
    return instance
