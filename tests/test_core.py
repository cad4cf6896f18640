"""The boundary: the module's contract, loading and caching, threads, and traps."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import wasmtime

from ritellm import _core
from ritellm._engines import wasmtime as _wasmtime
from ritellm._exceptions import KIND_CLASSES, InternalError

ROOT = Path(__file__).parent.parent


def test_module_imports_nothing_and_exports_exactly_the_documented_set() -> None:
    module = wasmtime.Module(wasmtime.Engine(), _core.wasm_path().read_bytes())
    assert module.imports == []
    documented = set(
        re.findall(r'pub extern "C" fn (ritellm_\w+)', (ROOT / "core-rs/src/abi.rs").read_text())
    )
    assert documented == set(_core.EXPORTS)
    assert {e.name for e in module.exports} == documented | {"memory"}


def test_error_kinds_of_core_and_host_are_the_same_list() -> None:
    assert set(_core.core().describe["error_kinds"]) == set(KIND_CLASSES)


def test_import_ritellm_loads_neither_wasmtime_nor_the_module() -> None:
    code = "import sys, ritellm; print('wasmtime' in sys.modules, 'ritellm._core' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_disk_cache_is_written_then_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, wasm = wasmtime.Engine(), _core.wasm_path().read_bytes()
    _wasmtime._compile(engine, wasm, tmp_path)
    [cached] = tmp_path.iterdir()

    def no_compile(*args: object) -> None:
        raise AssertionError("compiled although the cache was fresh")

    with monkeypatch.context() as patched:
        patched.setattr(wasmtime.Module, "__init__", no_compile)
        module = _wasmtime._compile(engine, wasm, tmp_path)
    assert {e.name for e in module.exports} >= set(_core.EXPORTS)
    assert cached.stat().st_size > 1000


def test_corrupt_cache_falls_back_to_compiling_and_is_replaced(tmp_path: Path) -> None:
    engine, wasm = wasmtime.Engine(), _core.wasm_path().read_bytes()
    _wasmtime._compile(engine, wasm, tmp_path)
    [cached] = tmp_path.iterdir()
    good = cached.read_bytes()
    cached.write_bytes(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:])
    module = _wasmtime._compile(engine, wasm, tmp_path)
    assert {e.name for e in module.exports} >= set(_core.EXPORTS)
    assert cached.read_bytes() == good
    cached.write_bytes(b"short")
    _wasmtime._compile(engine, wasm, tmp_path)
    assert cached.read_bytes() == good


def test_unwritable_cache_still_works(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    module = _wasmtime._compile(wasmtime.Engine(), _core.wasm_path().read_bytes(), blocker / "cache")
    assert {e.name for e in module.exports} >= set(_core.EXPORTS)


def echo(core: _core.Core, text: str) -> str:
    call = {"model": "mock/echo", "messages": [{"role": "user", "content": text}]}
    head, body = core.prepare(json.dumps(call).encode())
    _, answer = core.mock(body)
    content: str = core.parse(head["context"], 200, answer)["choices"][0]["message"]["content"]
    return content


def test_one_instance_per_thread_and_no_crosstalk() -> None:
    results: dict[int, list[str]] = {}
    instances: dict[int, int] = {}

    def work(n: int) -> None:
        instances[n] = id(_core.core())
        results[n] = [echo(_core.core(), f"thread {n} call {i} " + "x" * (n * 1000)) for i in range(30)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(instances.values())) == 8
    for n in range(8):
        assert results[n] == [f"thread {n} call {i} " + "x" * (n * 1000) for i in range(30)]


def test_a_trap_discards_the_instance_and_the_next_call_works() -> None:
    core = _core.core()
    with pytest.raises(InternalError, match="trapped"):
        core._call("ritellm_input", 0x7FFFFFFF)  # more memory than the limit allows
    assert core.broken
    with pytest.raises(InternalError):
        echo(core, "still broken")
    fresh = _core.core()
    assert fresh is not core
    assert echo(fresh, "works again") == "works again"


def test_closed_stream_decoders_refuse_work() -> None:
    decoder = _core.core().open_stream(b'{"protocol": "raw_sse"}')
    decoder.finish()
    with pytest.raises(InternalError, match="closed"):
        decoder.feed(b"data: x\n\n")
    decoder.close()  # closing twice is harmless


def test_malformed_context_is_an_error_not_a_trap() -> None:
    with pytest.raises(ValueError, match="malformed call context"):
        _core.core().parse(b"{nope", 200, b"{}")
    with pytest.raises(ValueError, match="malformed call context"):
        _core.core().open_stream(b'{"protocol": "carrier-pigeon"}')


def test_the_first_async_call_loads_the_core_off_the_event_loop() -> None:
    code = """
import asyncio, sys, threading
import ritellm
from ritellm import _api, _calls
threads = []
def spy():
    threads.append(threading.current_thread() is threading.main_thread())
    _calls.load_core()
_api.load_core = spy
async def main():
    assert "wasmtime" not in sys.modules
    calls = [ritellm.acompletion("mock/echo", [{"role": "user", "content": f"n{i}"}]) for i in range(20)]
    answers = await asyncio.gather(*calls)  # all of them first calls, racing the load
    await ritellm.acompletion("mock/echo", [{"role": "user", "content": "again"}])
    return [a["choices"][0]["message"]["content"] for a in answers] == [f"n{i}" for i in range(20)]
print(asyncio.run(main()), set(threads))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "{False}"]
