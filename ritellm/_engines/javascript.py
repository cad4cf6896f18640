"""The engine under Pyodide: the JavaScript host's own ``WebAssembly`` (a browser's, Node's),
driven by ``ritellm_core.mjs``, the module's JavaScript driver, the one Node and browser users
import (``wasm/`` in a checkout; the wheel carries it beside this file).

Each operation is one call into the driver, which writes the input, calls the export and reads
the answer, because every crossing between Python and JavaScript costs microseconds. Answers come
back as text when they are UTF-8, which crosses in one step.

JavaScript engines have no fuel: a call is not bounded in work, only in memory (the module
declares its own maximum). The core's loops are bounded by their input, so only a bug in it
could run away.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .base import EngineUnavailable, Settings, Trap

try:
    import js
    from pyodide.code import run_js
    from pyodide.ffi import JsException, to_js
except ImportError as exc:  # pragma: no cover - only outside Pyodide
    raise EngineUnavailable("this is not Pyodide") from exc

#: The driver: beside this file in a wheel, in wasm/ in a source checkout.
DRIVER_PATHS = (
    Path(__file__).with_name("ritellm_core.mjs"),
    Path(__file__).parent.parent.parent / "wasm" / "ritellm_core.mjs",
)


def _driver() -> Any:
    """The driver's exports. ``run_js`` takes a script, not a module; the driver imports nothing
    and its exports are declarations at the start of a line, so it runs as a function's body with
    its ``export`` keywords taken out (``wasm/ritellm_core.test.mjs`` checks that it does)."""
    for path in DRIVER_PATHS:
        if path.is_file():
            source = re.sub(r"^export ", "", path.read_text("utf-8"), flags=re.MULTILINE)
            return run_js(f"(() => {{\n{source}\nreturn {{ compileModule, instantiate }};\n}})()")
    raise EngineUnavailable(f"ritellm_core.mjs is missing (looked in {', '.join(map(str, DRIVER_PATHS))})")


def _answer(result: Any) -> bytes:
    return result.encode() if isinstance(result, str) else bytes(result.to_bytes())


class JavaScriptEngine:
    def __init__(self, wasm: bytes, settings: Settings) -> None:
        self._driver = _driver()
        self._expected = to_js(
            {name: params for name, (params, _) in settings.exports.items()},
            dict_converter=js.Object.fromEntries,
        )
        try:
            self._module = self._driver.compileModule(to_js(wasm), self._expected)
        except JsException as exc:
            raise Trap(f"ritellm_core.wasm cannot be used: {exc}", out_of_work=False) from None

    def instantiate(self) -> JavaScriptInstance:
        try:
            return JavaScriptInstance(self._driver.instantiate(self._module, self._expected))
        except JsException as exc:
            raise Trap(f"instantiating ritellm_core.wasm failed: {exc}", out_of_work=False) from None


class JavaScriptInstance:
    #: The JavaScript engine compiles once, with its best compiler tiers chosen by the host.
    superseded = False

    def __init__(self, sandbox: Any) -> None:
        self._sandbox = sandbox
        self._run = sandbox.runText
        self._call = sandbox.call

    def run(
        self,
        export: str,
        args: tuple[int, ...] = (),
        data: bytes | None = None,
        rest: bytes = b"",
        work: int = 0,
    ) -> bytes:
        try:
            return _answer(
                self._run(export, None if data is None else to_js(data), to_js(rest) if rest else None, *args)
            )
        except JsException as exc:
            raise Trap(f"{export} trapped: {exc}", out_of_work=False) from None

    def call(self, export: str, *args: int, work: int = 0) -> int:
        try:
            return int(self._call(export, *args))
        except JsException as exc:
            raise Trap(f"{export} trapped: {exc}", out_of_work=False) from None

    def allocation_failed(self) -> bool:
        try:
            return bool(self._sandbox.allocationFailed())
        except JsException:
            return False
