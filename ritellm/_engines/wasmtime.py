"""wasmtime: the engine on CPython, through the C library that the ``wasmtime`` package ships.

This is the one place on CPython that drives the module's boundary (``core-rs/src/abi.rs``):
it writes the input buffer, decodes the packed answers and reads the allocation-failure flag.

ritellm binds the C functions it uses itself (:data:`_SIGNATURES`) rather than importing
wasmtime-py, whose import (the ctypes bindings of the whole C API) costs about 40 ms and 5 MB of
every process's first call. These functions and structures are the same across the supported
wasmtime releases (see ``pyproject.toml``); the tests run against both ends of that range.

Calls go through ``wasmtime_func_call_unchecked``, with argument slots and foreign arguments
made once per instance, and memory is read and written through a view of the instance's linear
memory rather than a foreign call per access. The view stays valid because memory may not move
(``memory_may_move`` off); it is remade only when memory grows past the size it covers. So an
operation, a stream feed say, is one foreign call. Export names and signatures are checked when
the module is compiled; a cached compilation is that same module (its key is the module's hash).

Work is bounded with fuel (about one unit per instruction). Setting fuel is itself a foreign
call, so the allowance is prepaid: one refill covers :data:`PREPAID_BYTES` of input or
:data:`CALLS_PER_REFILL` calls, whichever ends first, and a call with more input than is left
gets a refill sized to it. A call that runs away still stops within one allowance.

Compiled code is cached on disk and mapped from there. When it is not cached (a fresh container,
a serverless cold start, a CI job) and ``Settings.quick_start`` is set, the module is compiled
by Winch, wasmtime's baseline compiler, in a tenth of Cranelift's time (where Winch is used:
:func:`_winch_available`; elsewhere Cranelift compiles it at once), and Cranelift compiles
the optimized code in a background thread: it goes into the cache, and instances made after it
is ready use it. Fuel and the memory limit hold under both compilers. The process waits for the
background compile at exit, so that the next process finds it cached.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import importlib.util
import json
import mmap
import os
import platform
import sys
import tempfile
import threading
import weakref
from ctypes import POINTER, byref, c_bool, c_char_p, c_int64, c_size_t, c_uint8, c_uint64, c_void_p
from pathlib import Path
from typing import Any

from .base import DESCRIBE_EXPORT, INPUT_EXPORT, EngineUnavailable, Settings, Trap

#: Fuel of one allowance: a fixed part, and a part per input byte it covers.
FUEL_PER_CALL = 50_000_000
FUEL_PER_BYTE = 2_000
PREPAID_BYTES = 16 << 10
CALLS_PER_REFILL = 64
#: The least the input buffer grows to, in bytes (wasm/ritellm_core.mjs uses the same).
MIN_INPUT_CAPACITY = 64 << 10
#: Compiled modules kept in the cache directory; the least recently used go first.
CACHE_ENTRIES = 8

#: WASMTIME_TRAP_CODE_OUT_OF_FUEL in wasmtime's trap.h.
_TRAP_OUT_OF_FUEL = 11
#: wasm_valkind_t of i32 and i64 in wasm.h.
_VALKINDS = {0: "i32", 1: "i64"}
#: WASMTIME_EXTERN_FUNC and WASMTIME_EXTERN_MEMORY in extern.h; WASM_EXTERN_FUNC and
#: WASM_EXTERN_MEMORY in wasm.h have the same values.
_EXTERN_FUNC, _EXTERN_MEMORY = 0, 3
#: What of a result slot is the result: an i32 leaves garbage in the upper half.
_RESULT_MASKS = {"i64": (1 << 64) - 1, "i32": 0xFFFFFFFF, None: 0}
#: wasmtime_strategy_t in config.h.
_CRANELIFT, _WINCH = 1, 2
#: Where Winch, the quick compiler, has been checked with fuel and the memory limit; elsewhere a
#: cache miss compiles with Cranelift at once.
_QUICK_PLATFORMS = {("linux", "x86_64")}
#: The first wasmtime release whose C API has WASMTIME_STRATEGY_WINCH.
_WINCH_SINCE = 45


class _Vec(ctypes.Structure):
    """wasm_byte_vec_t and every other wasm_*_vec_t: a size and a pointer."""

    _fields_ = [("size", c_size_t), ("data", c_void_p)]


class _Extern(ctypes.Structure):
    """wasmtime_extern_t: a kind, then a union whose members (a wasmtime_func_t, a
    wasmtime_memory_t, ...) are 16 bytes at offset 8. Kept opaque beyond that."""

    _fields_ = [("kind", c_uint8), ("of", c_uint64 * 2)]


class _ValRaw(ctypes.Union):
    """wasmtime_val_raw_t: 16 bytes (a v128 is the largest member)."""

    _fields_ = [("i64", c_int64), ("v128", c_uint8 * 16)]


def _machine() -> tuple[str, str]:
    machine = {"AMD64": "x86_64", "amd64": "x86_64", "arm64": "aarch64", "ARM64": "aarch64"}.get(
        platform.machine(), platform.machine()
    )
    return ("android" if hasattr(sys, "getandroidapilevel") else sys.platform), machine


def _library_path() -> Path:
    """The C library inside the installed ``wasmtime`` package, found without importing it."""
    spec = importlib.util.find_spec("wasmtime")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("the wasmtime package is not installed")
    system, machine = _machine()
    name = {"win32": "_wasmtime.dll", "darwin": "_libwasmtime.dylib"}.get(system, "_libwasmtime.so")
    path = Path(next(iter(spec.submodule_search_locations))) / f"{system}-{machine}" / name
    if not path.is_file():
        raise EngineUnavailable(f"the installed wasmtime has no library for {system}-{machine}")
    return path


_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "wasm_config_new": (c_void_p, []),
    "wasmtime_config_consume_fuel_set": (None, [c_void_p, c_bool]),
    "wasmtime_config_memory_may_move_set": (None, [c_void_p, c_bool]),
    "wasmtime_config_strategy_set": (None, [c_void_p, c_uint8]),
    "wasmtime_config_parallel_compilation_set": (None, [c_void_p, c_bool]),
    "wasm_engine_new_with_config": (c_void_p, [c_void_p]),
    "wasm_engine_delete": (None, [c_void_p]),
    "wasmtime_module_new": (c_void_p, [c_void_p, c_char_p, c_size_t, POINTER(c_void_p)]),
    "wasmtime_module_deserialize_file": (c_void_p, [c_void_p, c_char_p, POINTER(c_void_p)]),
    "wasmtime_module_serialize": (c_void_p, [c_void_p, POINTER(_Vec)]),
    "wasmtime_module_delete": (None, [c_void_p]),
    "wasmtime_module_exports": (None, [c_void_p, POINTER(_Vec)]),
    "wasm_exporttype_name": (POINTER(_Vec), [c_void_p]),
    "wasm_exporttype_type": (c_void_p, [c_void_p]),
    "wasm_exporttype_vec_delete": (None, [POINTER(_Vec)]),
    "wasm_externtype_kind": (c_uint8, [c_void_p]),
    "wasm_externtype_as_functype_const": (c_void_p, [c_void_p]),
    "wasm_functype_params": (POINTER(_Vec), [c_void_p]),
    "wasm_functype_results": (POINTER(_Vec), [c_void_p]),
    "wasm_valtype_kind": (c_uint8, [c_void_p]),
    "wasm_byte_vec_delete": (None, [POINTER(_Vec)]),
    "wasmtime_store_new": (c_void_p, [c_void_p, c_void_p, c_void_p]),
    "wasmtime_store_delete": (None, [c_void_p]),
    "wasmtime_store_context": (c_void_p, [c_void_p]),
    "wasmtime_store_limiter": (None, [c_void_p, c_int64, c_int64, c_int64, c_int64, c_int64]),
    "wasmtime_instance_new": (
        c_void_p,
        [c_void_p, c_void_p, c_void_p, c_size_t, c_void_p, POINTER(c_void_p)],
    ),
    "wasmtime_instance_export_get": (c_bool, [c_void_p, c_void_p, c_char_p, c_size_t, POINTER(_Extern)]),
    "wasmtime_memory_data": (c_void_p, [c_void_p, c_void_p]),
    "wasmtime_memory_data_size": (c_size_t, [c_void_p, c_void_p]),
    "wasmtime_context_set_fuel": (c_void_p, [c_void_p, c_uint64]),
    "wasmtime_trap_code": (c_bool, [c_void_p, POINTER(c_uint8)]),
    "wasm_trap_message": (None, [c_void_p, POINTER(_Vec)]),
    "wasm_trap_delete": (None, [c_void_p]),
    "wasmtime_error_message": (None, [c_void_p, POINTER(_Vec)]),
    "wasmtime_error_delete": (None, [c_void_p]),
}


class _C:
    """The C functions, bound on first use of the engine."""

    def __init__(self) -> None:
        self.path = _library_path()
        try:
            library = ctypes.CDLL(str(self.path))
        except OSError as exc:
            raise EngineUnavailable(f"wasmtime's library does not load here: {exc}") from None
        for name, (restype, argtypes) in _SIGNATURES.items():
            function = getattr(library, name)
            function.restype, function.argtypes = restype, argtypes
            setattr(self, name, function)
        # The call on every crossing, without argtypes: its arguments are made once per instance
        # as ctypes objects, which pass without conversion (a third of the cost of a call).
        self.call_unchecked = library["wasmtime_func_call_unchecked"]
        self.call_unchecked.restype = c_void_p

    def __getattr__(self, name: str) -> Any:  # for the type checker: set in __init__
        raise AttributeError(name)

    def text(self, vec: _Vec, delete: Any) -> str:
        text = ctypes.string_at(vec.data, vec.size).decode("utf-8", "replace")
        delete(byref(vec))
        return text

    def error(self, error: int) -> str:
        message = _Vec()
        self.wasmtime_error_message(error, byref(message))
        self.wasmtime_error_delete(error)
        return self.text(message, self.wasm_byte_vec_delete)

    def check(self, error: int | None, doing: str) -> None:
        if error:
            raise Trap(f"{doing}: {self.error(error)}", out_of_work=False)

    def trap(self, export: str, trap: int) -> Trap:
        """The :class:`Trap` for a ``wasm_trap_t``, which this deletes."""
        code = c_uint8()
        out_of_fuel = bool(self.wasmtime_trap_code(trap, byref(code))) and code.value == _TRAP_OUT_OF_FUEL
        message = _Vec()
        self.wasm_trap_message(trap, byref(message))
        self.wasm_trap_delete(trap)
        return Trap(
            f"{export} trapped: {self.text(message, self.wasm_byte_vec_delete)}", out_of_work=out_of_fuel
        )


_c: _C | None = None


def _bound() -> _C:
    global _c
    if _c is None:
        _c = _C()
    return _c


def _release(c: _C) -> str:
    """wasmtime's release, from the name of its ``.dist-info`` folder (found without
    importlib.metadata, which costs milliseconds), or "unknown" (a vendored copy)."""
    try:
        with os.scandir(c.path.parent.parent.parent) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("wasmtime-") and name.endswith(".dist-info"):
                    return name[len("wasmtime-") : -len(".dist-info")]
    except OSError:
        pass
    return "unknown"


def _engine_identity(c: _C) -> str:
    """Names the wasmtime build: its release and its library's size. Not its path or
    modification time, so every virtual environment with the same wasmtime shares one entry;
    wasmtime itself refuses compiled code from another version or configuration."""
    return f"{_release(c)}-{c.path.stat().st_size:x}"


def _winch_available(c: _C) -> bool:
    """Whether Winch is used for a quick start here: where it was checked (see
    :data:`_QUICK_PLATFORMS`), and from wasmtime 45, whose C API first names it (an unknown
    strategy is undefined behaviour in earlier releases)."""
    major = _release(c).partition(".")[0]
    return _machine() in _QUICK_PLATFORMS and major.isdigit() and int(major) >= _WINCH_SINCE


def _cache_prefix(wasm: bytes) -> str:
    return f"ritellm_core-{hashlib.sha256(wasm).hexdigest()[:16]}-{_engine_identity(_bound())}-"


def compiled_path(wasm: bytes, cache_dir: Path) -> Path:
    """Where the compiled module for ``wasm`` is cached: the newest entry for it, or where one
    would go (its name then lacks the checksum of the compiled code)."""
    prefix = _cache_prefix(wasm)
    entries = _entries(cache_dir, prefix)
    return entries[0][1] if entries else cache_dir / f"{prefix}.bin"


def _entries(cache_dir: Path, prefix: str) -> list[tuple[float, Path]]:
    """The cache entries whose names start with ``prefix``, most recently used first."""
    found = []
    try:
        with os.scandir(cache_dir) as scan:
            for entry in scan:
                if entry.name.startswith(prefix) and entry.name.endswith(".bin"):
                    try:
                        found.append((entry.stat().st_mtime, Path(entry.path)))
                    except OSError:
                        pass
    except OSError:
        pass
    return sorted(found, reverse=True)


def _file_digest(path: Path) -> str:
    """SHA-256 of a file, hashed through a mapping of it rather than a copy in this process."""
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        return hashlib.sha256(mapped).hexdigest()


def _config(c: _C, strategy: int, parallel: bool) -> int:
    config = c.wasm_config_new()
    c.wasmtime_config_consume_fuel_set(config, True)
    c.wasmtime_config_memory_may_move_set(config, False)  # the memory views rely on it
    c.wasmtime_config_strategy_set(config, strategy)
    c.wasmtime_config_parallel_compilation_set(config, parallel)
    return c.wasm_engine_new_with_config(config)  # type: ignore[no-any-return]  # takes the config


class _Compiled:
    """A wasmtime engine (a configuration) and the module compiled for it. Freed when the last
    instance that uses it is gone; ``superseded`` once better code is ready."""

    def __init__(self, c: _C, engine: int, module: int) -> None:
        self.c, self.engine, self.module = c, engine, module
        self.superseded = False
        #: Where the allocation-failure flag is, learnt on the first trap (`_flag_address`).
        self.flag: int | None = None
        weakref.finalize(self, _free, c, engine, module)

    @classmethod
    def compile(cls, c: _C, wasm: bytes, strategy: int, parallel: bool) -> _Compiled:
        engine = _config(c, strategy, parallel)
        module = c_void_p()
        error = c.wasmtime_module_new(engine, wasm, len(wasm), byref(module))
        if error:
            c.wasm_engine_delete(engine)
            c.check(error, "compiling ritellm_core.wasm")
        return cls(c, engine, module.value or 0)

    def serialize(self) -> bytes:
        serialized = _Vec()
        self.c.check(self.c.wasmtime_module_serialize(self.module, byref(serialized)), "serializing")
        payload = ctypes.string_at(serialized.data, serialized.size)
        self.c.wasm_byte_vec_delete(byref(serialized))
        return payload


def _free(c: _C, engine: int, module: int) -> None:
    c.wasmtime_module_delete(module)
    c.wasm_engine_delete(engine)


def _load_cached(c: _C, cache_dir: Path, prefix: str) -> _Compiled | None:
    """The cached compilation, mapped from its file, if an entry's checksum (in its name) holds
    and wasmtime accepts it."""
    for _, path in _entries(cache_dir, prefix)[:1]:
        try:
            if _file_digest(path) != path.name[len(prefix) : -len(".bin")]:
                return None  # damaged: compiled again and replaced
        except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
            return None
        engine = _config(c, _CRANELIFT, parallel=True)
        module = c_void_p()
        error = c.wasmtime_module_deserialize_file(engine, str(path).encode(), byref(module))
        if error:
            c.error(error)  # another version's or configuration's entry: compile instead
            c.wasm_engine_delete(engine)
            return None
        try:
            os.utime(path)  # recently used: kept by _prune
        except OSError:
            pass
        return _Compiled(c, engine, module.value or 0)
    return None


def _store(cache_dir: Path, prefix: str, payload: bytes) -> None:
    """Adds a compilation to the cache; an unwritable cache only costs the next process a compile."""
    path = cache_dir / f"{prefix}{hashlib.sha256(payload).hexdigest()}.bin"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as tmp:
            try:
                tmp.write(payload)
            except OSError:
                os.unlink(tmp.name)
                raise
        os.replace(tmp.name, path)  # atomic: readers see no file or the whole one
        _prune(cache_dir)
    except OSError:
        pass


def _prune(cache_dir: Path) -> None:
    """Removes all but the :data:`CACHE_ENTRIES` most recently used compiled modules."""
    for _, path in _entries(cache_dir, "ritellm_core-")[CACHE_ENTRIES:]:
        try:
            path.unlink()
        except OSError:
            pass


def _check_exports(c: _C, module: int, expected: dict[str, tuple[int, str | None]]) -> None:
    """Refuses a module whose exports are not ``memory`` and ``expected`` with their signatures."""
    exports = _Vec()
    c.wasmtime_module_exports(module, byref(exports))
    try:
        found: dict[str, Any] = {}
        for exporttype in (c_void_p * exports.size).from_address(exports.data) if exports.size else []:
            name = c.wasm_exporttype_name(exporttype).contents
            found[ctypes.string_at(name.data, name.size).decode()] = c.wasm_exporttype_type(exporttype)
        if set(found) != set(expected) | {"memory"}:
            raise Trap(
                f"the module exports {sorted(found)}, expected {sorted([*expected, 'memory'])}",
                out_of_work=False,
            )
        if c.wasm_externtype_kind(found["memory"]) != _EXTERN_MEMORY:
            raise Trap("the module's export memory is not a memory", out_of_work=False)
        for name, (param_count, result) in expected.items():
            functype = c.wasm_externtype_as_functype_const(found[name])
            kinds = []
            for vec in (
                (c.wasm_functype_params(functype).contents, c.wasm_functype_results(functype).contents)
                if functype
                else ()
            ):
                types = (c_void_p * vec.size).from_address(vec.data) if vec.size else []
                kinds.append([_VALKINDS.get(c.wasm_valtype_kind(t), "other") for t in types])
            if kinds != [["i32"] * param_count, [result] if result else []]:
                raise Trap(f"the module's export {name} has the wrong signature", out_of_work=False)
    finally:
        c.wasm_exporttype_vec_delete(byref(exports))


class WasmtimeEngine:
    def __init__(self, wasm: bytes, settings: Settings) -> None:
        c = self._c = _bound()
        self._settings = settings
        self._lock = threading.Lock()
        prefix = _cache_prefix(wasm)
        compiled = _load_cached(c, settings.cache_dir, prefix)
        quick = compiled is None and settings.quick_start and _winch_available(c)
        if quick:
            try:
                compiled = _Compiled.compile(c, wasm, _WINCH, parallel=False)
            except Trap:
                quick = False  # Cranelift alone, as where Winch is not used
        if compiled is None:
            compiled = _Compiled.compile(c, wasm, _CRANELIFT, parallel=True)
            _check_exports(c, compiled.module, settings.exports)
            _store(settings.cache_dir, prefix, compiled.serialize())
        elif quick:
            _check_exports(c, compiled.module, settings.exports)
        self._compiled = compiled
        if quick:
            thread = threading.Thread(target=self._optimize, args=(wasm, prefix), name="ritellm-compile")
            thread.daemon = True  # the process exits without it if it must (os._exit, a signal)
            thread.start()
            atexit.register(thread.join)  # and otherwise waits, so the next process finds it cached

    def _optimize(self, wasm: bytes, prefix: str) -> None:
        """Compiles the optimized code in the background, on one core and at the lowest
        priority (Linux sets a thread's priority by its id), caches it, and hands it to the
        instances made next. A failure leaves the quick code in use."""
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError):
            pass
        try:
            optimized = _Compiled.compile(self._c, wasm, _CRANELIFT, parallel=False)
            _store(self._settings.cache_dir, prefix, optimized.serialize())
        except Exception:  # never the caller's problem: it has working code
            return
        with self._lock:
            self._compiled.superseded = True
            self._compiled = optimized

    def instantiate(self) -> WasmtimeInstance:
        with self._lock:
            compiled = self._compiled
        return WasmtimeInstance(compiled, self._settings)


class WasmtimeInstance:
    def __init__(self, compiled: _Compiled, settings: Settings) -> None:
        c = self._c = compiled.c
        self._compiled = compiled  # keeps the engine and module alive as long as the store
        self._settings = settings
        store = c.wasmtime_store_new(compiled.engine, None, None)
        self._finalizer = weakref.finalize(self, c.wasmtime_store_delete, store)
        c.wasmtime_store_limiter(store, settings.memory_limit, -1, -1, -1, -1)
        self._context = context = c.wasmtime_store_context(store)
        instance = (c_uint64 * 4)()  # wasmtime_instance_t is 16 bytes; room to spare
        trap = c_void_p()
        error = c.wasmtime_instance_new(context, compiled.module, None, 0, instance, byref(trap))
        c.check(error, "instantiating ritellm_core.wasm")
        if trap.value:
            raise c.trap("instantiating ritellm_core.wasm", trap.value)
        self._memory = self._export(instance, "memory", _EXTERN_MEMORY)
        # Argument slots, as unsigned 64-bit integers: slot n is at index 2n.
        args = (_ValRaw * 3)()
        self._slots = memoryview(args).cast("B").cast("Q")
        self._trap = c_void_p()  # stays null until a trap, which breaks us
        context_arg, args_arg, trap_arg = c_void_p(context), byref(args), byref(self._trap)
        #: Per export: the foreign call's arguments, and the mask of its result.
        self._calls = {
            name: (
                context_arg,
                byref(self._export(instance, name, _EXTERN_FUNC)),
                args_arg,
                c_size_t(3),
                trap_arg,
            )
            for name in settings.exports
        }
        self._results = {name: _RESULT_MASKS[result] for name, (_, result) in settings.exports.items()}
        self._call = c.call_unchecked
        self._prepaid_bytes = 0
        self._calls_before_refill = 0
        self._input = 0
        self._capacity = 0
        self._size = 0
        self._view = memoryview(b"")
        self._remap(0)

    @property
    def superseded(self) -> bool:
        return self._compiled.superseded

    def _export(self, instance: Any, name: str, kind: int) -> Any:
        item = _Extern()
        encoded = name.encode()
        if not self._c.wasmtime_instance_export_get(
            self._context, instance, encoded, len(encoded), byref(item)
        ):
            raise Trap(f"the module has no export {name}", out_of_work=False)
        if item.kind != kind:
            raise Trap(f"the module's export {name} is of the wrong kind", out_of_work=False)
        return item.of  # the func or memory handle: 16 bytes, passed back by pointer

    def _remap(self, end: int) -> None:
        """Remakes the memory view after memory grew; raises unless it covers ``end``."""
        self._size = self._c.wasmtime_memory_data_size(self._context, self._memory)
        base = self._c.wasmtime_memory_data(self._context, self._memory)
        self._view = memoryview((ctypes.c_ubyte * self._size).from_address(base)).cast("B")
        if end > self._size:
            raise Trap("the module answered outside its memory", out_of_work=False)

    def call(self, export: str, *args: int, work: int = 0) -> int:
        slots = self._slots
        for i, value in enumerate(args):
            slots[2 * i] = value
        if work > self._prepaid_bytes or not self._calls_before_refill:
            self._refill(work)
        self._prepaid_bytes -= work
        self._calls_before_refill -= 1
        error = self._call(*self._calls[export])
        if error or self._trap.value:
            raise self._failure(export, error)
        return slots[0] & self._results[export]

    def run(
        self,
        export: str,
        args: tuple[int, ...] = (),
        data: bytes | None = None,
        rest: bytes = b"",
        work: int = 0,
    ) -> bytes:
        if data is not None:
            size = len(data) + len(rest)
            if size > self._capacity:
                self._reserve(size)
            start = self._input
            middle = start + len(data)
            view = self._view
            view[start:middle] = data
            if rest:  # written in place rather than joined first: answers can be megabytes
                view[middle : start + size] = rest
            args = (*args, size)
        packed = self.call(export, *args, work=work)
        start = packed >> 32
        end = start + (packed & 0xFFFFFFFF)
        if end > self._size:
            self._remap(end)
        return bytes(self._view[start:end])

    def _reserve(self, size: int) -> None:
        """Grows the input buffer to hold ``size`` bytes (see ``ritellm_input`` in abi.rs)."""
        capacity = max(size, 2 * self._capacity, MIN_INPUT_CAPACITY)
        self._input = self.call(INPUT_EXPORT, capacity, work=capacity)
        self._capacity = capacity
        if self._input + capacity > self._size:
            self._remap(self._input + capacity)

    def _refill(self, work: int) -> None:
        prepaid = max(work, PREPAID_BYTES)
        error = self._c.wasmtime_context_set_fuel(self._context, FUEL_PER_CALL + FUEL_PER_BYTE * prepaid)
        self._c.check(error, "setting the work allowance")
        self._prepaid_bytes, self._calls_before_refill = prepaid, CALLS_PER_REFILL

    def _failure(self, export: str, error: int | None) -> Trap:
        if error:
            return Trap(f"{export} failed: {self._c.error(error)}", out_of_work=False)
        trap, self._trap.value = self._trap.value, None
        return self._c.trap(export, trap or 0)

    def allocation_failed(self) -> bool:
        address = self._flag_address()
        if address is None:
            return False
        if address >= self._size:
            try:
                self._remap(address + 1)
            except Trap:
                return False
        return self._view[address] == 1

    def _flag_address(self) -> int | None:
        """Where the allocation-failure flag is (``alloc_failed_at`` in the module's
        self-description), asked of a fresh instance once per compiled module: the address is the
        same in every instance, and this one, after a trap, may not be called again."""
        compiled = self._compiled
        if compiled.flag is None:
            try:
                scratch = WasmtimeInstance(compiled, self._settings)
                compiled.flag = int(json.loads(scratch.run(DESCRIBE_EXPORT))["ok"]["alloc_failed_at"])
            except (Trap, ValueError, KeyError, TypeError):
                return None
        return compiled.flag
