"""ritellm against raw httpx + stdlib json: the same requests to the same local server, in one run.

    python3 bench/run.py [--rounds N]

Every measurement runs in fresh subprocesses, alternating the two sides, and keeps the median
(times) or the smallest (peak RSS) of the rounds. Machines here are shared and noisy: read the
ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).parent
SYNC_CALLS = 2000
ASYNC_CALLS = 3000
IN_FLIGHT = 100

#: metric -> (label, target ratio, whether higher is better)
TARGETS = {
    "import_ms": ("cold import (ms)", 1.2, False),
    "import_rss_mb": ("RSS after import (MB)", None, False),
    "first_call_ms": ("import + first call (ms)", 1.3, False),
    "sync_call_us": (f"sync call, {SYNC_CALLS} sequential (us)", 1.10, False),
    "stream_chunk_us": ("stream, per chunk of 10,000 (us)", 1.25, False),
    "async_rps": (f"async req/s, {IN_FLIGHT} in flight", 1.0, True),
    "peak_rss_mb": ("peak RSS of the workload (MB)", 1.3, False),
}

# Each side is a small program with the same shape: setup, call(), stream(), acall().
SIDES = {
    "httpx": """
        import asyncio, json, httpx
        HEADERS = {"authorization": "Bearer sk-bench", "content-type": "application/json"}
        URL = BASE + "/chat/completions"
        client = httpx.Client()
        def call():
            body = json.dumps({"model": "bench", "messages": MESSAGES}).encode()
            return json.loads(client.post(URL, content=body, headers=HEADERS).content)
        def stream():
            body = json.dumps({"model": "bench", "messages": MESSAGES, "stream": True}).encode()
            count = 0
            with client.stream("POST", URL, content=body, headers=HEADERS) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        if line[6:] == "[DONE]":
                            break
                        json.loads(line[6:])
                        count += 1
            return count
        async def make_acall():
            aclient = httpx.AsyncClient(limits=httpx.Limits(max_connections=1000))
            async def acall():
                body = json.dumps({"model": "bench", "messages": MESSAGES}).encode()
                response = await aclient.post(URL, content=body, headers=HEADERS)
                return json.loads(response.content)
            return acall
    """,
    "ritellm": """
        import os
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        import ritellm
        def call():
            return ritellm.completion("openai/bench", MESSAGES, base_url=BASE)
        def stream():
            return sum(1 for _ in ritellm.completion("openai/bench", MESSAGES, base_url=BASE, stream=True))
        async def make_acall():
            async def acall():
                return await ritellm.acompletion("openai/bench", MESSAGES, base_url=BASE)
            return acall
    """,
}

PRELUDE = """
import resource, sys, time
BASE = sys.argv[1]
MESSAGES = [{"role": "user", "content": "Say something about foxes and dogs."}]
def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

COLD_IMPORT = """
started = time.perf_counter()
import {module}
print(json.dumps({{"import_ms": (time.perf_counter() - started) * 1000, "import_rss_mb": rss_mb()}}))
"""

FIRST_CALL = """
started = time.perf_counter()
{side}
assert call()["choices"]
print(json.dumps({{"first_call_ms": (time.perf_counter() - started) * 1000}}))
"""

WORKLOAD = """
{side}
import asyncio
for _ in range(200):
    call()
started = time.perf_counter()
for _ in range({sync_calls}):
    call()
sync_call_us = (time.perf_counter() - started) / {sync_calls} * 1e6
stream()
started = time.perf_counter()
chunks = stream()
assert chunks == 10_000, chunks
stream_chunk_us = (time.perf_counter() - started) / chunks * 1e6
async def run_async():
    acall = await make_acall()
    limit = asyncio.Semaphore({in_flight})
    async def one():
        async with limit:
            assert (await acall())["choices"]
    await asyncio.gather(*(one() for _ in range({in_flight})))
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range({async_calls})))
    return {async_calls} / (time.perf_counter() - started)
async_rps = asyncio.run(run_async())
print(json.dumps({{"sync_call_us": sync_call_us, "stream_chunk_us": stream_chunk_us,
                  "async_rps": async_rps, "peak_rss_mb": rss_mb()}}))
"""


def run_python(code: str, base_url: str) -> dict[str, float]:
    program = "import json\n" + textwrap.dedent(PRELUDE) + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", program, base_url], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"benchmark program failed:\n{result.stderr}")
    measured: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def side_code(side: str) -> str:
    return textwrap.dedent(SIDES[side])


def measure(base_url: str, rounds: int) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {side: {} for side in SIDES}

    def record(side: str, measured: dict[str, float]) -> None:
        for metric, value in measured.items():
            results[side].setdefault(metric, []).append(value)

    run_python(FIRST_CALL.format(side=side_code("ritellm")), base_url)  # fills the module cache
    for _ in range(rounds * 3):
        for side, module in (("httpx", "httpx"), ("ritellm", "ritellm")):
            record(side, run_python(COLD_IMPORT.format(module=module), base_url))
            record(side, run_python(FIRST_CALL.format(side=side_code(side)), base_url))
    for _ in range(rounds):
        for side in SIDES:
            workload = WORKLOAD.format(
                side=side_code(side),
                sync_calls=SYNC_CALLS,
                async_calls=ASYNC_CALLS,
                in_flight=IN_FLIGHT,
            )
            record(side, run_python(workload, base_url))
    return results


def summarise(values: list[float], metric: str) -> float:
    return min(values) if metric.endswith("rss_mb") else statistics.median(values)


def report(results: dict[str, dict[str, list[float]]]) -> bool:
    print(f"{'metric':<40} {'httpx':>10} {'ritellm':>10} {'ratio':>7}  target")
    all_met = True
    for metric, (label, target, higher_is_better) in TARGETS.items():
        base = summarise(results["httpx"][metric], metric)
        ours = summarise(results["ritellm"][metric], metric)
        ratio = ours / base
        verdict = ""
        if target is not None:
            met = ratio >= target if higher_is_better else ratio <= target
            all_met &= met
            sign = ">=" if higher_is_better else "<="
            verdict = f"{sign} {target:.2f}x  {'met' if met else 'MISSED'}"
        print(f"{label:<40} {base:>10.1f} {ours:>10.1f} {ratio:>6.2f}x  {verdict}")
    return all_met


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="workload runs per side (default 3)")
    args = parser.parse_args()
    # Installing a wheel compiles its bytecode, as it did for httpx; a checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would otherwise compile ritellm's sources on every import.
    compileall.compile_dir(HERE.parent / "ritellm", quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        port_file = Path(scratch) / "port"
        server = subprocess.Popen([sys.executable, str(HERE / "server.py"), str(port_file)])
        try:
            deadline = time.monotonic() + 10
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the benchmark server did not start")
                time.sleep(0.05)
            base_url = f"http://127.0.0.1:{port_file.read_text()}/v1"
            os.environ.setdefault("RITELLM_CACHE_DIR", str(Path(scratch) / "cache"))
            results = measure(base_url, args.rounds)
        finally:
            server.terminate()
            server.wait()
    all_met = report(results)
    print("all targets met" if all_met else "some targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
