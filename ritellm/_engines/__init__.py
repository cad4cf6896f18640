"""WebAssembly engines behind one small interface (:mod:`.base`): wasmtime on CPython."""

from __future__ import annotations

from .base import Engine as Engine
from .base import Settings as Settings


def load_engine(wasm: bytes, settings: Settings) -> Engine:
    """The engine for this platform, with ``wasm`` compiled."""
    from .wasmtime import WasmtimeEngine

    return WasmtimeEngine(wasm, settings)
