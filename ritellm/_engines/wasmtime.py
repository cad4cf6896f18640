"""wasmtime-py: the engine on CPython. The only module that imports wasmtime.

Calls go through ``wasmtime_func_call_unchecked`` with argument slots made once per instance
(``Func.__call__`` re-derives the function type on every call, about ten times the call's own
cost), and memory is read and written through a view of the instance's linear memory rather
than with a foreign call per access. The view stays valid because memory is not allowed to
move (``memory_may_move = False``, and wasmtime's default static reservation on older
releases); it is remade only when memory grows past the size it covers. So a stream feed is one
foreign call.

Work is bounded with fuel (about one unit per instruction). Setting fuel is itself a foreign
call, so the allowance is prepaid: one refill covers :data:`PREPAID_BYTES` of input or
:data:`CALLS_PER_REFILL` calls, whichever ends first, and a call with more input than is left
gets a refill sized to it. A call that runs away still stops within one allowance.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi

from .base import Settings, Trap

#: Fuel of one allowance: a fixed part, and a part per input byte it covers.
FUEL_PER_CALL = 50_000_000
FUEL_PER_BYTE = 2_000
PREPAID_BYTES = 16 << 10
CALLS_PER_REFILL = 64
#: Compiled modules kept in the cache directory; the least recently used go first.
CACHE_ENTRIES = 8

_U64 = (1 << 64) - 1
#: WASMTIME_TRAP_CODE_OUT_OF_FUEL of wasmtime's C API (trap.h). Older wasmtime-py releases
#: have no TrapCode member for it, so the raw code is read.
_TRAP_OUT_OF_FUEL = 11
# The C function itself, not wasmtime-py's Python wrapper around it.
_call_unchecked = ffi.dll.wasmtime_func_call_unchecked
_set_fuel = ffi.dll.wasmtime_context_set_fuel


def _c_function(name: str, restype: Any) -> Any:
    """A private binding of a C function of wasmtime that returns a plain int: wasmtime-py's
    own bindings return pointer objects, which cost a cast on every call."""
    function = type(ffi.dll.wasmtime_memory_data)((name, ffi.dll))
    function.argtypes = [ctypes.POINTER(ffi.wasmtime_context_t), ctypes.POINTER(ffi.wasmtime_memory_t)]
    function.restype = restype
    return function


_memory_data = _c_function("wasmtime_memory_data", ctypes.c_void_p)
_memory_size = _c_function("wasmtime_memory_data_size", ctypes.c_size_t)


def _engine_identity() -> str:
    """Names the wasmtime build: its package version and library size. Not its path or
    modification time, so every virtual environment with the same wasmtime shares one entry;
    wasmtime itself refuses compiled code from another version or configuration."""
    try:
        from importlib.metadata import version

        release = version("wasmtime")
    except Exception:  # no metadata (a vendored copy): the library alone names it
        release = "unknown"
    return f"{release}-{os.stat(ffi.filename).st_size:x}"


def _compile(engine: wasmtime.Engine, wasm: bytes, cache_dir: Path) -> wasmtime.Module:
    """Loads the compiled module from the disk cache, or compiles it and fills the cache.

    A cache file is the SHA-256 of its payload, then ``Module.serialize()``'s bytes. Any
    failure to read, verify or load it falls back to compiling.
    """
    path = compiled_path(wasm, cache_dir)
    try:
        blob = path.read_bytes()
        digest, payload = blob[:32], blob[32:]
        if hashlib.sha256(payload).digest() == digest:
            module = wasmtime.Module.deserialize(engine, payload)
            os.utime(path)  # recently used: kept by _prune
            return module
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
        _prune(cache_dir)
    except OSError:
        pass  # an unwritable cache only costs the next process a compile
    return module


def _prune(cache_dir: Path) -> None:
    """Removes all but the :data:`CACHE_ENTRIES` most recently used compiled modules."""
    entries = []
    for path in cache_dir.glob("ritellm_core-*.bin"):
        try:
            entries.append((path.stat().st_mtime, path))
        except OSError:
            pass
    for _, path in sorted(entries, reverse=True)[CACHE_ENTRIES:]:
        try:
            path.unlink()
        except OSError:
            pass


def compiled_path(wasm: bytes, cache_dir: Path) -> Path:
    """Where the compiled module for ``wasm`` is cached."""
    return cache_dir / f"ritellm_core-{hashlib.sha256(wasm).hexdigest()[:16]}-{_engine_identity()}.bin"


class WasmtimeEngine:
    def __init__(self, wasm: bytes, settings: Settings) -> None:
        config = wasmtime.Config()
        config.consume_fuel = True
        if hasattr(config, "memory_may_move"):
            config.memory_may_move = False  # the memory views rely on it
        self._engine = wasmtime.Engine(config)
        self._module = _compile(self._engine, wasm, settings.cache_dir)
        self._settings = settings
        names = {export.name for export in self._module.exports}
        expected = set(settings.exports) | {"memory"}
        if names != expected:
            raise Trap(f"the module exports {sorted(names)}, expected {sorted(expected)}", out_of_work=False)

    def instantiate(self) -> WasmtimeInstance:
        return WasmtimeInstance(self._engine, self._module, self._settings)


class WasmtimeInstance:
    def __init__(self, engine: wasmtime.Engine, module: wasmtime.Module, settings: Settings) -> None:
        store = wasmtime.Store(engine)
        store.set_limits(memory_size=settings.memory_limit)
        exports = wasmtime.Instance(store, module, []).exports(store)
        for name, (param_count, result) in settings.exports.items():
            func = exports[name]
            if not isinstance(func, wasmtime.Func):
                raise Trap(f"the module's export {name} is not a function", out_of_work=False)
            ty = func.type(store)
            params_ok = [str(p) for p in ty.params] == ["i32"] * param_count
            results_ok = [str(r) for r in ty.results] == ([result] if result else [])
            if not (params_ok and results_ok):
                raise Trap(f"the module's export {name} has the wrong signature", out_of_work=False)
        self._store = store  # owns the context pointer below
        self._context = store._context()
        memory = exports["memory"]
        assert isinstance(memory, wasmtime.Memory)
        self._memory = ctypes.pointer(memory._memory)
        self._funcs = {name: ctypes.pointer(exports[name]._func) for name in settings.exports}  # type: ignore[union-attr]
        self._args = (ffi.wasmtime_val_raw * 3)()
        self._arg_slots = tuple(self._args)  # element views, made once
        self._trap = ctypes.POINTER(ffi.wasm_trap_t)()  # stays null until a trap, which breaks us
        self._trap_ref = ctypes.byref(self._trap)
        self._prepaid_bytes = 0
        self._calls_before_refill = 0
        self._size = 0
        self._view = memoryview(b"")
        self._remap()

    def _remap(self) -> None:
        self._size = _memory_size(self._context, self._memory)
        base = _memory_data(self._context, self._memory)
        self._view = memoryview((ctypes.c_ubyte * self._size).from_address(base)).cast("B")

    def call(self, export: str, *args: int, input_size: int = 0) -> int:
        if input_size > self._prepaid_bytes or not self._calls_before_refill:
            prepaid = max(input_size, PREPAID_BYTES)
            if _set_fuel(self._context, FUEL_PER_CALL + FUEL_PER_BYTE * prepaid):
                raise Trap("wasmtime refused to set the work allowance", out_of_work=False)
            self._prepaid_bytes, self._calls_before_refill = prepaid, CALLS_PER_REFILL
        self._prepaid_bytes -= input_size
        self._calls_before_refill -= 1
        slots = self._arg_slots
        for i, value in enumerate(args):
            slots[i].i64 = value
        error = _call_unchecked(self._context, self._funcs[export], self._args, 3, self._trap_ref)
        if error:
            raise Trap(f"{export} failed: {wasmtime.WasmtimeError._from_ptr(error)}", out_of_work=False)
        if self._trap:
            code = ffi.wasmtime_trap_code_t()
            has_code = ffi.wasmtime_trap_code(self._trap, ctypes.byref(code))
            message = wasmtime.Trap._from_ptr(self._trap).message
            raise Trap(
                f"{export} trapped: {message}", out_of_work=bool(has_code) and code.value == _TRAP_OUT_OF_FUEL
            )
        result: int = slots[0].i64
        return result & _U64

    def write(self, address: int, data: bytes) -> None:
        end = address + len(data)
        if end > self._size:
            self._remap()
            if end > self._size:
                raise Trap("a write past the end of the module's memory", out_of_work=False)
        self._view[address:end] = data

    def read(self, address: int, length: int) -> bytes:
        end = address + length
        if end > self._size:
            self._remap()
            if end > self._size:
                raise Trap("the module answered outside its memory", out_of_work=False)
        return bytes(self._view[address:end])
