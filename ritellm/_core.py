"""The one module that knows the core is WebAssembly.

It imports wasmtime, compiles the module once per process (cached on disk), keeps one Store
and Instance per thread, and does all pointer arithmetic. The boundary itself (exports, who
owns which buffer, the answer format) is documented once, in ``core-rs/src/abi.rs``.

Calls go through ``wasmtime_func_call_unchecked`` with argument buffers made once per
instance: ``Func.__call__`` re-derives the function type on every call, which costs about
ten times the call itself. The signatures are checked once, when the instance is made.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi

from ._exceptions import InternalError, LimitExceededError, from_core

#: The module's exports besides ``memory``: (parameter count, result type or None).
EXPORTS: dict[str, tuple[int, str | None]] = {
    "ritellm_input": (1, "i32"),
    "ritellm_describe": (0, "i64"),
    "ritellm_prepare": (1, "i64"),
    "ritellm_parse": (3, "i64"),
    "ritellm_stream_open": (1, "i64"),
    "ritellm_stream_feed": (2, "i64"),
    "ritellm_stream_finish": (1, "i64"),
    "ritellm_stream_close": (1, None),
    "ritellm_mock": (1, "i64"),
}

#: Most linear memory one instance may use; past it an allocation fails and the call traps.
MEMORY_LIMIT = 512 << 20
#: Work allowed for one call into the core, in wasm fuel (about one unit per instruction):
#: a fixed allowance plus an amount per input byte, so a hostile payload cannot spin forever.
FUEL_PER_CALL = 50_000_000
FUEL_PER_BYTE = 2_000

_PACKAGE_DIR = Path(__file__).parent
#: Installed wheels carry the module inside the package; a source checkout keeps it in wasm/.
WASM_PATHS = (
    _PACKAGE_DIR / "ritellm_core.wasm",
    _PACKAGE_DIR.parent / "wasm" / "ritellm_core.wasm",
)

_U64 = (1 << 64) - 1
#: WASMTIME_TRAP_CODE_OUT_OF_FUEL of wasmtime's C API (trap.h). Older wasmtime-py releases
#: have no TrapCode member for it, so the raw code is read.
_TRAP_OUT_OF_FUEL = 11
# The C function itself, not wasmtime-py's Python wrapper around it.
_call_unchecked = ffi.dll.wasmtime_func_call_unchecked


def _c_function(name: str, restype: Any) -> Any:
    """A private binding of a C function of wasmtime that returns a plain int: wasmtime-py's
    own bindings return pointer objects, which cost a cast on every call."""
    function = type(ffi.dll.wasmtime_memory_data)((name, ffi.dll))
    function.argtypes = [ctypes.POINTER(ffi.wasmtime_context_t), ctypes.POINTER(ffi.wasmtime_memory_t)]
    function.restype = restype
    return function


_memory_data = _c_function("wasmtime_memory_data", ctypes.c_void_p)
_memory_size = _c_function("wasmtime_memory_data_size", ctypes.c_size_t)
_set_fuel = ffi.dll.wasmtime_context_set_fuel


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


def _compile(engine: wasmtime.Engine, wasm: bytes) -> wasmtime.Module:
    """Loads the compiled module from the disk cache, or compiles it and fills the cache.

    A cache file is the SHA-256 of its payload, then ``Module.serialize()``'s bytes. Its name
    holds the module's hash and the wasmtime library's identity, and wasmtime itself refuses
    payloads from another version or configuration; any failure falls back to compiling.
    """
    library = os.stat(ffi.filename)
    key = hashlib.sha256(wasm).hexdigest()[:16]
    name = f"ritellm_core-{key}-{library.st_size:x}-{library.st_mtime_ns:x}.bin"
    path = cache_dir() / name
    try:
        blob = path.read_bytes()
        digest, payload = blob[:32], blob[32:]
        if hashlib.sha256(payload).digest() == digest:
            return wasmtime.Module.deserialize(engine, payload)
    except (OSError, wasmtime.WasmtimeError):
        pass
    module = wasmtime.Module(engine, wasm)
    payload = bytes(module.serialize())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as tmp:
            try:
                tmp.write(hashlib.sha256(payload).digest() + payload)
            except OSError:
                os.unlink(tmp.name)
                raise
        os.replace(tmp.name, path)  # atomic: readers see the old file or the whole new one
    except OSError:
        pass  # an unwritable cache only costs the next process a compile
    return module


class _Compiled:
    """The engine and compiled module, made once per process."""

    _lock = threading.Lock()
    _value: tuple[wasmtime.Engine, wasmtime.Module] | None = None

    @classmethod
    def get(cls) -> tuple[wasmtime.Engine, wasmtime.Module]:
        if cls._value is None:
            with cls._lock:
                if cls._value is None:
                    config = wasmtime.Config()
                    config.consume_fuel = True
                    engine = wasmtime.Engine(config)
                    cls._value = (engine, _compile(engine, wasm_path().read_bytes()))
        return cls._value


def load() -> None:
    """Compiles the module now (it is otherwise compiled by the first call)."""
    _Compiled.get()


def loaded() -> bool:
    return _Compiled._value is not None


class Core:
    """One instance of the core. Not shared between threads: see :func:`core`."""

    def __init__(self) -> None:
        engine, module = _Compiled.get()
        store = wasmtime.Store(engine)
        store.set_limits(memory_size=MEMORY_LIMIT)
        instance = wasmtime.Instance(store, module, [])
        exports = instance.exports(store)
        _check_exports(store, module, exports)
        self._store = store  # owns the context pointer below
        self._context = store._context()
        memory = exports["memory"]
        assert isinstance(memory, wasmtime.Memory)
        self._memory = ctypes.pointer(memory._memory)
        self._funcs = {name: ctypes.pointer(exports[name]._func) for name in EXPORTS}  # type: ignore[union-attr]
        self._args = (ffi.wasmtime_val_raw * 3)()
        self._arg_slots = tuple(self._args)  # element views, made once
        self._trap = ctypes.POINTER(ffi.wasm_trap_t)()  # stays null until a trap, which breaks us
        self._trap_ref = ctypes.byref(self._trap)
        self._input_address = 0
        self._input_capacity = 0
        # Streams may be read on another thread than the one that made the instance; two
        # threads inside one Store would crash the process.
        self._lock = threading.Lock()
        self.broken = False
        self.describe: dict[str, Any] = self._op("ritellm_describe")
        #: The non-secret environment variables each provider's requests depend on.
        self.config_env: dict[str, list[str]] = {
            p["prefix"]: [name for name in (p["base_url_env"], *p["extra_env"]) if name]
            for p in self.describe["providers"]
        }

    def _call(self, name: str, *args: int, input_size: int = 0) -> int:
        if self.broken:
            raise InternalError("the core failed earlier in this thread")
        slots = self._arg_slots
        for i, value in enumerate(args):
            slots[i].i64 = value
        error = _set_fuel(self._context, FUEL_PER_CALL + FUEL_PER_BYTE * input_size)
        if not error:
            error = _call_unchecked(self._context, self._funcs[name], self._args, 3, self._trap_ref)
        if error or self._trap:
            self.broken = True  # a trapped instance's memory is in an unknown state
            if error:
                raise InternalError(f"the core failed in {name}: {wasmtime.WasmtimeError._from_ptr(error)}")
            code = ffi.wasmtime_trap_code_t()
            has_code = ffi.wasmtime_trap_code(self._trap, ctypes.byref(code))
            trap = wasmtime.Trap._from_ptr(self._trap)
            if has_code and code.value == _TRAP_OUT_OF_FUEL:
                raise LimitExceededError(f"the core ran out of its work limit (fuel) in {name}")
            raise InternalError(f"the core trapped in {name}: {trap.message}")
        result: int = slots[0].i64
        return result & _U64

    def _base(self) -> int:
        # Fetched after every call: memory may move when it grows.
        base: int = _memory_data(self._context, self._memory)
        return base

    def _write(self, *parts: bytes) -> int:
        total = sum(map(len, parts))
        if total > self._input_capacity:
            capacity = max(total, 2 * self._input_capacity, 64 << 10)
            # An i32 result fills only the low half of the i64 slot.
            self._input_address = self._call("ritellm_input", capacity, input_size=capacity) & 0xFFFFFFFF
            self._input_capacity = capacity
        address = self._base() + self._input_address
        for part in parts:
            ctypes.memmove(address, part, len(part))
            address += len(part)
        return total

    def _read(self, packed: int) -> bytes:
        address, length = packed >> 32, packed & 0xFFFFFFFF
        if address + length > _memory_size(self._context, self._memory):
            self.broken = True
            raise InternalError("the core answered outside its memory")
        return ctypes.string_at(self._base() + address, length)

    def _op(self, name: str, *args: int, data: tuple[bytes, ...] = (), payload: bool = False) -> Any:
        """Calls export ``name``, with ``data`` in the input buffer and its length as the last
        argument; returns the answer's ``ok`` value (and the payload after it) or raises."""
        with self._lock:
            size = 0
            if data:
                size = self._write(*data)
                args = (*args, size)
            raw = self._read(self._call(name, *args, input_size=size))
        if payload:
            head, _, body = raw.partition(b"\n")
            return _unwrap(head), body
        return _unwrap(raw)

    def prepare(self, call: bytes) -> tuple[dict[str, Any], bytes]:
        """Validates a call; returns the request head and its body."""
        return self._op("ritellm_prepare", data=(call,), payload=True)  # type: ignore[no-any-return]

    def parse(self, context: bytes, status: int, body: bytes) -> dict[str, Any]:
        """Translates a complete answer; raises the provider's error for error answers."""
        return self._op("ritellm_parse", status, len(context), data=(context, body))  # type: ignore[no-any-return]

    def mock(self, request_body: bytes) -> tuple[str, bytes]:
        """The mock provider's answer to a request body: content type and body."""
        head, body = self._op("ritellm_mock", data=(request_body,), payload=True)
        return head["content_type"], body

    def open_stream(self, context: bytes) -> StreamDecoder:
        return StreamDecoder(self, self._op("ritellm_stream_open", data=(context,)))

    def close_stream(self, handle: int) -> None:
        with self._lock:
            if not self.broken:
                self._call("ritellm_stream_close", handle)


def _unwrap(answer_json: bytes) -> Any:
    answer = json.loads(answer_json)
    if "ok" in answer:
        return answer["ok"]
    raise from_core(answer["error"])


class StreamDecoder:
    """A stream's state inside the core. Feed it the body as it arrives; close it when done.

    It stays with the instance that opened it, whichever thread reads the stream.
    """

    def __init__(self, core: Core, handle: int) -> None:
        self._core = core
        self._handle: int | None = handle

    def feed(self, data: bytes) -> dict[str, Any]:
        """Returns a batch: ``{"chunks": [...], "done": bool, "error"?: {...}}``."""
        return self._core._op("ritellm_stream_feed", self._live(), data=(data,))  # type: ignore[no-any-return]

    def finish(self) -> dict[str, Any]:
        """Ends the input and releases the handle; the batch's error reports a cut-short stream."""
        handle = self._live()
        self._handle = None
        return self._core._op("ritellm_stream_finish", handle)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._handle is not None:
            self._core.close_stream(self._handle)
            self._handle = None

    def _live(self) -> int:
        if self._handle is None:
            raise InternalError("the stream decoder is closed")
        return self._handle


def _check_exports(store: wasmtime.Store, module: wasmtime.Module, exports: Any) -> None:
    names = {export.name for export in module.exports}
    expected = set(EXPORTS) | {"memory"}
    if names != expected:
        raise InternalError(f"ritellm_core.wasm exports {sorted(names)}, expected {sorted(expected)}")
    for name, (param_count, result) in EXPORTS.items():
        func = exports[name]
        ty = func.type(store)
        params_ok = [str(p) for p in ty.params] == ["i32"] * param_count
        results_ok = [str(r) for r in ty.results] == ([result] if result else [])
        if not (params_ok and results_ok):
            raise InternalError(f"ritellm_core.wasm export {name} has the wrong signature")


_local = threading.local()


def core() -> Core:
    """This thread's instance, made on first use and again after a trap."""
    instance: Core | None = getattr(_local, "core", None)
    if instance is None or instance.broken:
        instance = _local.core = Core()
    return instance
