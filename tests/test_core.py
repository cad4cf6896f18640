"""The boundary: the module's contract, loading and caching, threads, and traps."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from ritellm import _core
from ritellm._engines import wasmtime as _wasmtime
from ritellm._engines.base import Settings, Trap
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


def test_the_module_declares_the_memory_limit_itself() -> None:
    # So that engines without a limiter of their own (JavaScript's) enforce it too.
    module = wasmtime.Module(wasmtime.Engine(), _core.wasm_path().read_bytes())
    (memory,) = [e.type for e in module.exports if e.name == "memory"]
    assert isinstance(memory, wasmtime.MemoryType)
    assert memory.limits.max == _core.MEMORY_LIMIT >> 16  # in 64 KiB pages


def test_error_kinds_of_core_and_host_are_the_same_list() -> None:
    assert set(_core.core().describe["error_kinds"]) == set(KIND_CLASSES)


def test_import_ritellm_loads_neither_wasmtime_nor_the_module() -> None:
    code = "import sys, ritellm; print('wasmtime' in sys.modules, 'ritellm._core' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def _engine(cache: Path) -> _wasmtime.WasmtimeEngine:
    return _wasmtime.WasmtimeEngine(
        _core.wasm_path().read_bytes(), Settings(_core.EXPORTS, _core.MEMORY_LIMIT, cache)
    )


def test_disk_cache_is_written_then_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _engine(tmp_path)
    [cached] = tmp_path.iterdir()
    assert cached.stat().st_size > 1000

    def no_compile(*args: object) -> None:
        raise AssertionError("compiled although the cache was fresh")

    monkeypatch.setattr(_wasmtime._bound(), "wasmtime_module_new", no_compile)
    assert echo_on(_engine(tmp_path), "from the cache") == "from the cache"


def test_corrupt_cache_falls_back_to_compiling_and_is_replaced(tmp_path: Path) -> None:
    _engine(tmp_path)
    [cached] = tmp_path.iterdir()
    good = cached.read_bytes()
    cached.write_bytes(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:])
    assert echo_on(_engine(tmp_path), "recompiled") == "recompiled"
    assert cached.read_bytes() == good
    cached.write_bytes(b"short")
    _engine(tmp_path)
    assert cached.read_bytes() == good


def test_a_payload_wasmtime_refuses_falls_back_to_compiling(tmp_path: Path) -> None:
    _engine(tmp_path)
    [cached] = tmp_path.iterdir()
    payload = b"not a serialized module"  # a valid checksum, as from another wasmtime
    cached.write_bytes(hashlib.sha256(payload).digest() + payload)
    assert echo_on(_engine(tmp_path), "recompiled") == "recompiled"


def test_unwritable_cache_still_works(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert echo_on(_engine(blocker / "cache"), "uncached") == "uncached"


def test_the_cache_key_ignores_the_environment_and_old_entries_are_pruned(tmp_path: Path) -> None:
    path = _wasmtime.compiled_path(b"module", tmp_path)
    assert str(_wasmtime._bound().path.parent) not in path.name  # no path or mtime in the key
    for n in range(_wasmtime.CACHE_ENTRIES + 3):
        stale = tmp_path / f"ritellm_core-{n:016x}-old.bin"
        stale.write_bytes(b"x")
        os.utime(stale, (1_000_000 + n, 1_000_000 + n))
    _engine(tmp_path)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == _wasmtime.CACHE_ENTRIES
    assert _wasmtime.compiled_path(_core.wasm_path().read_bytes(), tmp_path).name in kept
    assert "ritellm_core-0000000000000000-old.bin" not in kept  # the least recently used went


def echo_on(engine: _wasmtime.WasmtimeEngine, text: str) -> str:
    return echo(_core.Core(engine), text)


def echo(core: _core.Core, text: str) -> str:
    call = {"model": "mock/echo", "messages": [{"role": "user", "content": text}]}
    head, body = core.prepare(json.dumps(call).encode())
    _, answer = core.mock(body)
    content: str = core.parse(head["context"], 200, answer)["choices"][0]["message"]["content"]
    return content


def test_one_instance_per_thread_and_no_crosstalk() -> None:
    results: dict[int, list[str]] = {}
    # The objects, not their ids: a finished thread's core may be collected and its id reused.
    instances: dict[int, _core.Core] = {}

    def work(n: int) -> None:
        instances[n] = _core.core()
        results[n] = [echo(_core.core(), f"thread {n} call {i} " + "x" * (n * 1000)) for i in range(30)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(instance) for instance in instances.values()}) == 8
    for n in range(8):
        assert results[n] == [f"thread {n} call {i} " + "x" * (n * 1000) for i in range(30)]


def test_a_trap_discards_the_instance_and_the_next_call_works(monkeypatch: pytest.MonkeyPatch) -> None:
    core = _core.core()

    def trapping(*args: Any, **kwargs: Any) -> int:
        raise Trap("ritellm_prepare trapped: wasm `unreachable` instruction executed", out_of_work=False)

    with monkeypatch.context() as patched:
        patched.setattr(core._instance, "call", trapping)
        with pytest.raises(InternalError, match="trapped"):
            echo(core, "a bug in the core")
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
from ritellm import _api, _instance
threads = []
def spy():
    threads.append(threading.current_thread() is threading.main_thread())
    real_load()
real_load = _instance.load
_instance.load = spy
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


def test_a_stream_feed_is_one_foreign_call(monkeypatch: pytest.MonkeyPatch) -> None:
    core = _core.Core()
    instance = core._instance
    assert isinstance(instance, _wasmtime.WasmtimeInstance)
    decoder = core.open_stream(b'{"protocol": "openai"}')
    foreign: list[str] = []

    def counting(name: str, function: Any) -> Any:
        def call(*args: Any) -> Any:
            foreign.append(name)
            return function(*args)

        return call

    monkeypatch.setattr(instance, "_call", counting("call", instance._call))
    c = _wasmtime._bound()
    for name in ("wasmtime_context_set_fuel", "wasmtime_memory_data", "wasmtime_memory_data_size"):
        monkeypatch.setattr(c, name, counting(name, getattr(c, name)))
    event = b'data: {"choices": [{"index": 0, "delta": {"content": "hi"}}]}\n\n'
    for _ in range(200):
        assert len(decoder.feed(event)["chunks"]) == 1
    assert foreign.count("call") == 200
    # Work is prepaid for batches of calls, and the memory view outlives them all.
    assert foreign.count("wasmtime_context_set_fuel") <= 200 // _wasmtime.CALLS_PER_REFILL + 1
    assert "wasmtime_memory_data" not in foreign and "wasmtime_memory_data_size" not in foreign


def test_running_out_of_memory_is_a_limit_not_a_crash() -> None:
    from ritellm._exceptions import LimitExceededError

    core = _core.Core()
    with pytest.raises(LimitExceededError, match="memory limit"):
        core._call("ritellm_input", 0x7FFFFFFF)  # more memory than the limit allows
    assert core.broken
    assert echo(_core.Core(), "a new instance") == "a new instance"


@pytest.mark.parametrize(
    "unavailable",
    [
        "import importlib.util; real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'wasmtime' else real(name, *a)",
        "import platform; platform.machine = lambda: 'armv7l'",  # pip's generic wheel: no library here
    ],
)
def test_a_platform_without_an_engine_gets_a_clear_error(unavailable: str) -> None:
    program = (
        f"{unavailable}\n"
        "import ritellm\n"
        "try:\n"
        "    ritellm.completion('mock/echo', [{'role': 'user', 'content': 'hi'}])\n"
        "except ritellm.UnsupportedPlatformError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    assert "cannot run its core on this platform" in out and sys.platform in out
    assert "CPython on Linux, macOS and Windows" in out
