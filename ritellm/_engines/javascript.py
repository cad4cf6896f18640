"""The engine under Pyodide: the JavaScript host's own ``WebAssembly`` (a browser's, Node's).

Each operation is one call into a small JavaScript helper (``javascript.js``) that writes the
input, calls the export and reads the answer, because every crossing between Python and
JavaScript costs microseconds. Answers come back as text when they are UTF-8, which crosses in
one step.

JavaScript engines have no fuel: a call is not bounded in work, only in memory (the module
declares its own maximum). The core's loops are bounded by their input, so only a bug in it
could run away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import EngineUnavailable, Settings, Trap

try:
    import js
    from pyodide.code import run_js
    from pyodide.ffi import JsException, to_js
except ImportError as exc:  # pragma: no cover - only outside Pyodide
    raise EngineUnavailable("this is not Pyodide") from exc

_HELPER = Path(__file__).with_name("javascript.js")


def _answer(result: Any) -> bytes:
    return result.encode() if isinstance(result, str) else bytes(result.to_bytes())


class JavaScriptEngine:
    def __init__(self, wasm: bytes, settings: Settings) -> None:
        exports = to_js(
            {name: [params] for name, (params, _) in settings.exports.items()},
            dict_converter=js.Object.fromEntries,
        )
        try:
            self._loaded = run_js(_HELPER.read_text())(to_js(wasm), exports)
        except JsException as exc:
            raise Trap(f"compiling ritellm_core.wasm failed: {exc}", out_of_work=False) from None
        names = set(self._loaded.names)
        expected = set(settings.exports) | {"memory"}
        if names != expected:
            raise Trap(f"the module exports {sorted(names)}, expected {sorted(expected)}", out_of_work=False)

    def instantiate(self) -> JavaScriptInstance:
        try:
            return JavaScriptInstance(self._loaded.instantiate())
        except JsException as exc:
            raise Trap(f"instantiating ritellm_core.wasm failed: {exc}", out_of_work=False) from None


class JavaScriptInstance:
    def __init__(self, helper: Any) -> None:
        self._call = helper.call
        self._run = helper.run
        self._read = helper.read

    def call(self, export: str, *args: int, input_size: int = 0) -> int:
        try:
            return int(self._call(export, *args))
        except JsException as exc:
            raise Trap(f"{export} trapped: {exc}", out_of_work=False) from None

    def run(
        self, export: str, args: tuple[int, ...], address: int, data: bytes | None, rest: bytes, work: int
    ) -> bytes:
        try:
            return _answer(
                self._run(
                    export,
                    address,
                    None if data is None else to_js(data),
                    to_js(rest) if rest else None,
                    *args,
                )
            )
        except JsException as exc:
            raise Trap(f"{export} trapped: {exc}", out_of_work=False) from None

    def read(self, address: int, length: int) -> bytes:
        try:
            return _answer(self._read(address, length))
        except JsException as exc:
            raise Trap(f"reading the module's memory failed: {exc}", out_of_work=False) from None
