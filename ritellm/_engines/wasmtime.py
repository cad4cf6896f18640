"""wasmtime: the engine on CPython, through the C library that the ``wasmtime`` package ships.

ritellm binds the twenty-odd C functions it uses itself rather than importing wasmtime-py,
whose import (the ctypes bindings of the whole C API) costs about 40 ms and 5 MB of every
process's first call. These functions and structures are the same across the supported
wasmtime releases (see ``pyproject.toml``); the tests run against both ends of that range.

Calls go through ``wasmtime_func_call_unchecked`` with argument slots made once per instance,
and memory is read and written through a view of the instance's linear memory rather than a
foreign call per access. The view stays valid because memory may not move
(``memory_may_move`` off); it is remade only when memory grows past the size it covers. So a
stream feed is one foreign call.

Work is bounded with fuel (about one unit per instruction). Setting fuel is itself a foreign
call, so the allowance is prepaid: one refill covers :data:`PREPAID_BYTES` of input or
:data:`CALLS_PER_REFILL` calls, whichever ends first, and a call with more input than is left
gets a refill sized to it. A call that runs away still stops within one allowance.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import os
import platform
import sys
import tempfile
import weakref
from ctypes import POINTER, byref, c_bool, c_char_p, c_int64, c_size_t, c_uint8, c_uint64, c_void_p
from pathlib import Path
from typing import Any

from .base import EngineUnavailable, Settings, Trap

#: Fuel of one allowance: a fixed part, and a part per input byte it covers.
FUEL_PER_CALL = 50_000_000
FUEL_PER_BYTE = 2_000
PREPAID_BYTES = 16 << 10
CALLS_PER_REFILL = 64
#: Compiled modules kept in the cache directory; the least recently used go first.
CACHE_ENTRIES = 8

_U64 = (1 << 64) - 1
#: WASMTIME_TRAP_CODE_OUT_OF_FUEL in wasmtime's trap.h.
_TRAP_OUT_OF_FUEL = 11
#: wasm_valkind_t of i32 and i64 in wasm.h.
_VALKINDS = {0: "i32", 1: "i64"}
#: WASMTIME_EXTERN_FUNC and WASMTIME_EXTERN_MEMORY in extern.h.
_EXTERN_FUNC, _EXTERN_MEMORY = 0, 3


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


def _library_path() -> Path:
    """The C library inside the installed ``wasmtime`` package, found without importing it."""
    spec = importlib.util.find_spec("wasmtime")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("the wasmtime package is not installed")
    machine = {"AMD64": "x86_64", "arm64": "aarch64", "ARM64": "aarch64"}.get(
        platform.machine(), platform.machine()
    )
    system = "android" if hasattr(sys, "getandroidapilevel") else sys.platform
    name = {"win32": "_wasmtime.dll", "darwin": "_libwasmtime.dylib"}.get(system, "_libwasmtime.so")
    path = Path(next(iter(spec.submodule_search_locations))) / f"{system}-{machine}" / name
    if not path.is_file():
        raise EngineUnavailable(f"the installed wasmtime has no library for {system}-{machine}")
    return path


_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "wasm_config_new": (c_void_p, []),
    "wasmtime_config_consume_fuel_set": (None, [c_void_p, c_bool]),
    "wasmtime_config_memory_may_move_set": (None, [c_void_p, c_bool]),
    "wasm_engine_new_with_config": (c_void_p, [c_void_p]),
    "wasmtime_module_new": (c_void_p, [c_void_p, c_char_p, c_size_t, POINTER(c_void_p)]),
    "wasmtime_module_deserialize": (c_void_p, [c_void_p, c_char_p, c_size_t, POINTER(c_void_p)]),
    "wasmtime_module_serialize": (c_void_p, [c_void_p, POINTER(_Vec)]),
    "wasmtime_module_exports": (None, [c_void_p, POINTER(_Vec)]),
    "wasm_exporttype_name": (POINTER(_Vec), [c_void_p]),
    "wasm_exporttype_vec_delete": (None, [POINTER(_Vec)]),
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
    "wasmtime_func_type": (c_void_p, [c_void_p, c_void_p]),
    "wasm_functype_params": (POINTER(_Vec), [c_void_p]),
    "wasm_functype_results": (POINTER(_Vec), [c_void_p]),
    "wasm_functype_delete": (None, [c_void_p]),
    "wasm_valtype_kind": (c_uint8, [c_void_p]),
    "wasmtime_func_call_unchecked": (c_void_p, [c_void_p, c_void_p, c_void_p, c_size_t, POINTER(c_void_p)]),
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


_c: _C | None = None


def _bound() -> _C:
    global _c
    if _c is None:
        _c = _C()
    return _c


def _engine_identity(c: _C) -> str:
    """Names the wasmtime build: its package version and library size. Not its path or
    modification time, so every virtual environment with the same wasmtime shares one entry;
    wasmtime itself refuses compiled code from another version or configuration."""
    try:
        from importlib.metadata import version

        release = version("wasmtime")
    except Exception:  # no metadata (a vendored copy): the library alone names it
        release = "unknown"
    return f"{release}-{c.path.stat().st_size:x}"


def compiled_path(wasm: bytes, cache_dir: Path) -> Path:
    """Where the compiled module for ``wasm`` is cached."""
    key = hashlib.sha256(wasm).hexdigest()[:16]
    return cache_dir / f"ritellm_core-{key}-{_engine_identity(_bound())}.bin"


def _compile(c: _C, engine: int, wasm: bytes, cache_dir: Path) -> int:
    """Loads the compiled module from the disk cache, or compiles it and fills the cache.

    A cache file is the SHA-256 of its payload, then the serialized module. Any failure to
    read, verify or load it falls back to compiling.
    """
    module = c_void_p()
    path = compiled_path(wasm, cache_dir)
    try:
        blob = path.read_bytes()
    except OSError:
        blob = b""
    digest, payload = blob[:32], blob[32:]
    if payload and hashlib.sha256(payload).digest() == digest:
        error = c.wasmtime_module_deserialize(engine, payload, len(payload), byref(module))
        if not error:
            try:
                os.utime(path)  # recently used: kept by _prune
            except OSError:
                pass
            return module.value or 0
        c.error(error)  # another version's or a damaged entry: compile instead
    c.check(c.wasmtime_module_new(engine, wasm, len(wasm), byref(module)), "compiling ritellm_core.wasm")
    serialized = _Vec()
    c.check(c.wasmtime_module_serialize(module, byref(serialized)), "serializing ritellm_core.wasm")
    payload = ctypes.string_at(serialized.data, serialized.size)
    c.wasm_byte_vec_delete(byref(serialized))
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
    return module.value or 0


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


def _export_names(c: _C, module: int) -> set[str]:
    exports = _Vec()
    c.wasmtime_module_exports(module, byref(exports))
    try:
        types = (c_void_p * exports.size).from_address(exports.data) if exports.size else []
        names = set()
        for exporttype in types:
            name = c.wasm_exporttype_name(exporttype).contents
            names.add(ctypes.string_at(name.data, name.size).decode())
        return names
    finally:
        c.wasm_exporttype_vec_delete(byref(exports))


class WasmtimeEngine:
    def __init__(self, wasm: bytes, settings: Settings) -> None:
        c = self._c = _bound()
        config = c.wasm_config_new()
        c.wasmtime_config_consume_fuel_set(config, True)
        c.wasmtime_config_memory_may_move_set(config, False)  # the memory views rely on it
        self._engine = c.wasm_engine_new_with_config(config)  # takes the config
        self._module = _compile(c, self._engine, wasm, settings.cache_dir)
        self._settings = settings
        names = _export_names(c, self._module)
        expected = set(settings.exports) | {"memory"}
        if names != expected:
            raise Trap(f"the module exports {sorted(names)}, expected {sorted(expected)}", out_of_work=False)

    def instantiate(self) -> WasmtimeInstance:
        return WasmtimeInstance(self._c, self._engine, self._module, self._settings)


class WasmtimeInstance:
    def __init__(self, c: _C, engine: int, module: int, settings: Settings) -> None:
        self._c = c
        store = c.wasmtime_store_new(engine, None, None)
        self._finalizer = weakref.finalize(self, c.wasmtime_store_delete, store)
        c.wasmtime_store_limiter(store, settings.memory_limit, -1, -1, -1, -1)
        self._context = context = c.wasmtime_store_context(store)
        instance = (c_uint64 * 4)()  # wasmtime_instance_t is 16 bytes; room to spare
        trap = c_void_p()
        error = c.wasmtime_instance_new(context, module, None, 0, instance, byref(trap))
        c.check(error, "instantiating ritellm_core.wasm")
        if trap.value:
            raise Trap(
                f"instantiating ritellm_core.wasm trapped: {self._trap_message(trap.value)}",
                out_of_work=False,
            )
        self._memory = self._export(instance, "memory", _EXTERN_MEMORY)
        self._funcs = {name: self._export(instance, name, _EXTERN_FUNC) for name in settings.exports}
        for name, (param_count, result) in settings.exports.items():
            if self._signature(self._funcs[name]) != (["i32"] * param_count, [result] if result else []):
                raise Trap(f"the module's export {name} has the wrong signature", out_of_work=False)
        self._args = (_ValRaw * 3)()
        self._arg_slots = tuple(self._args)  # element views, made once
        self._trap = c_void_p()  # stays null until a trap, which breaks us
        self._trap_ref = byref(self._trap)
        self._call = c.wasmtime_func_call_unchecked
        self._prepaid_bytes = 0
        self._calls_before_refill = 0
        self._size = 0
        self._view = memoryview(b"")
        self._remap()

    def _export(self, instance: Any, name: str, kind: int) -> Any:
        item = _Extern()
        encoded = name.encode()
        if not self._c.wasmtime_instance_export_get(
            self._context, instance, encoded, len(encoded), byref(item)
        ):
            raise Trap(f"the module has no export {name}", out_of_work=False)
        if item.kind != kind:
            raise Trap(
                f"the module's export {name} is not a {'function' if kind == _EXTERN_FUNC else 'memory'}",
                out_of_work=False,
            )
        return item.of  # the func or memory handle: 16 bytes, passed back by pointer

    def _signature(self, func: Any) -> tuple[list[str], list[str]]:
        c = self._c
        functype = c.wasmtime_func_type(self._context, func)
        try:
            kinds = []
            for vec in (
                c.wasm_functype_params(functype).contents,
                c.wasm_functype_results(functype).contents,
            ):
                types = (c_void_p * vec.size).from_address(vec.data) if vec.size else []
                kinds.append([_VALKINDS.get(c.wasm_valtype_kind(t), "other") for t in types])
            return kinds[0], kinds[1]
        finally:
            c.wasm_functype_delete(functype)

    def _trap_message(self, trap: int) -> str:
        message = _Vec()
        self._c.wasm_trap_message(trap, byref(message))
        return self._c.text(message, self._c.wasm_byte_vec_delete)

    def _remap(self) -> None:
        self._size = self._c.wasmtime_memory_data_size(self._context, self._memory)
        base = self._c.wasmtime_memory_data(self._context, self._memory)
        self._view = memoryview((ctypes.c_ubyte * self._size).from_address(base)).cast("B")

    def call(self, export: str, *args: int, input_size: int = 0) -> int:
        if input_size > self._prepaid_bytes or not self._calls_before_refill:
            prepaid = max(input_size, PREPAID_BYTES)
            error = self._c.wasmtime_context_set_fuel(self._context, FUEL_PER_CALL + FUEL_PER_BYTE * prepaid)
            self._c.check(error, "setting the work allowance")
            self._prepaid_bytes, self._calls_before_refill = prepaid, CALLS_PER_REFILL
        self._prepaid_bytes -= input_size
        self._calls_before_refill -= 1
        slots = self._arg_slots
        for i, value in enumerate(args):
            slots[i].i64 = value
        error = self._call(self._context, self._funcs[export], self._args, 3, self._trap_ref)
        self._c.check(error, f"{export} failed")
        trap = self._trap.value
        if trap:
            self._trap.value = None
            code = c_uint8()
            out_of_fuel = (
                bool(self._c.wasmtime_trap_code(trap, byref(code))) and code.value == _TRAP_OUT_OF_FUEL
            )
            message = self._trap_message(trap)
            self._c.wasm_trap_delete(trap)
            raise Trap(f"{export} trapped: {message}", out_of_work=out_of_fuel)
        result: int = slots[0].i64
        return result & _U64

    def run(
        self, export: str, args: tuple[int, ...], address: int, data: bytes | None, rest: bytes, work: int
    ) -> bytes:
        if data is not None:
            self._write(address, data)
            if rest:  # written in place rather than joined first: answers can be megabytes
                self._write(address + len(data), rest)
            args = (*args, len(data) + len(rest))
        packed = self.call(export, *args, input_size=work)
        return self.read(packed >> 32, packed & 0xFFFFFFFF)

    def _write(self, address: int, data: bytes) -> None:
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
