"""WebAssembly engines behind one small interface (:mod:`.base`): wasmtime on CPython, the
JavaScript host's own engine under Pyodide."""

from __future__ import annotations

import sys

from .base import Engine as Engine
from .base import Settings as Settings


def load_engine(wasm: bytes, settings: Settings) -> Engine:
    """The engine for this platform, with ``wasm`` compiled."""
    if sys.platform == "emscripten":
        from .javascript import JavaScriptEngine

        return JavaScriptEngine(wasm, settings)
    from .wasmtime import WasmtimeEngine

    return WasmtimeEngine(wasm, settings)
