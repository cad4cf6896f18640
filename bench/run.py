"""ritellm beside raw httpx, raw aiohttp and, when installed, the openai SDK and LiteLLM: the same
requests to the same local server (bench/server.py), in one run.

    python3 bench/run.py [--rounds N] [--only ritellm,httpx,...]

Every measurement runs in fresh subprocesses, alternating the libraries, and keeps the median
(times) or the smallest (peak RSS) of the rounds. Stream costs are CPU time per chunk of the
client process, so the server's pacing does not count, read over windows of 500 chunks of which
the median is kept, so that a burst of load from elsewhere on the machine moves a few windows
rather than the result. The first call is measured twice: with
ritellm's compiled module cached, and with an empty cache (a fresh RITELLM_CACHE_DIR per
process: a new container, a serverless cold start, a CI job). Machines here are shared and
noisy: read the ratios, which compare numbers from the same run, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
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
sys.path.insert(0, str(HERE))
from server import RESPONSE_STREAM, STREAM_CHUNKS  # noqa: E402

RESPONSE_EVENTS = len(RESPONSE_STREAM)

SYNC_CALLS = 1000
ASYNC_CALLS = 2000
IN_FLIGHT = 100

# Each library is a small program with the same names: call() and stream(mode) for sync use,
# and `async def make()` returning acall() and astream(mode) for async use, and respond(mode)
# for a streamed Responses answer read in sync code. A library without one of them is not
# measured there.
LIBRARIES = {
    "httpx": """
        import json, httpx
        HEADERS = {"authorization": "Bearer sk-bench", "content-type": "application/json"}
        client = httpx.Client()
        def call():
            body = json.dumps({"model": "bench", "messages": MESSAGES}).encode()
            return json.loads(client.post(URL["paced"], content=body, headers=HEADERS).content)
        def stream(mode):
            body = json.dumps({"model": "bench", "messages": MESSAGES, "stream": True}).encode()
            count = 0
            with client.stream("POST", URL[mode], content=body, headers=HEADERS) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        if line[6:] == "[DONE]":
                            break
                        json.loads(line[6:])
                        count += 1
                        tick(count)
            return count
        def respond(mode):
            body = json.dumps({"model": "bench", "input": INPUT, "stream": True}).encode()
            count = 0
            with client.stream("POST", BASE[mode] + "/responses", content=body, headers=HEADERS) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        count += 1
                        tick(count)
                        if event["type"] == "response.completed":
                            break
            return count
        async def make():
            aclient = httpx.AsyncClient(limits=httpx.Limits(max_connections=1000))
            async def acall():
                body = json.dumps({"model": "bench", "messages": MESSAGES}).encode()
                return json.loads((await aclient.post(URL["paced"], content=body, headers=HEADERS)).content)
            async def astream(mode):
                body = json.dumps({"model": "bench", "messages": MESSAGES, "stream": True}).encode()
                count = 0
                async with aclient.stream("POST", URL[mode], content=body, headers=HEADERS) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data: "):
                            if line[6:] == "[DONE]":
                                break
                            json.loads(line[6:])
                            count += 1
                            tick(count)
                return count
            return acall, astream
    """,
    "aiohttp": """
        import json, aiohttp
        HEADERS = {"authorization": "Bearer sk-bench", "content-type": "application/json"}
        call = stream = None
        async def make():
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000))
            async def acall():
                body = json.dumps({"model": "bench", "messages": MESSAGES}).encode()
                async with session.post(URL["paced"], data=body, headers=HEADERS) as response:
                    return json.loads(await response.read())
            async def astream(mode):
                body = json.dumps({"model": "bench", "messages": MESSAGES, "stream": True}).encode()
                count = 0
                async with session.post(URL[mode], data=body, headers=HEADERS) as response:
                    async for line in response.content:
                        if line.startswith(b"data: "):
                            data = line[6:].rstrip()
                            if data == b"[DONE]":
                                break
                            json.loads(data)
                            count += 1
                            tick(count)
                return count
            return acall, astream
    """,
    "ritellm": """
        import os
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        import ritellm
        def call():
            return ritellm.completion("openai/bench", MESSAGES, base_url=BASE["paced"])
        def stream(mode):
            count = 0
            for _ in ritellm.completion("openai/bench", MESSAGES, base_url=BASE[mode], stream=True):
                count += 1
                tick(count)
            return count
        def respond(mode):
            count = 0
            for _ in ritellm.responses("openai/bench", INPUT, base_url=BASE[mode], stream=True):
                count += 1
                tick(count)
            return count
        LOCAL_CACHE = ritellm.Cache(type="local")
        def cached_call():
            ritellm.cache = LOCAL_CACHE  # on for this call only: the other rows send every request
            try:
                return ritellm.completion("openai/bench", MESSAGES, base_url=BASE["paced"])
            finally:
                ritellm.cache = None
        async def make():
            async def acall():
                return await ritellm.acompletion("openai/bench", MESSAGES, base_url=BASE["paced"])
            async def astream(mode):
                count = 0
                async for _ in await ritellm.acompletion("openai/bench", MESSAGES, base_url=BASE[mode], stream=True):
                    count += 1
                    tick(count)
                return count
            return acall, astream
    """,
    # ritellm with a callback that reads every call's cost (the same requests, the model given
    # gpt-4o-mini's prices): the model table must not slow the call path.
    "ritellm-cost": """
        import os
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        import ritellm
        ritellm.register_model({"openai/bench": ritellm.get_model_info("openai/gpt-4o-mini")})
        costs = []
        ritellm.callbacks.append(lambda event: costs.append(event.cost))
        def call():
            answer = ritellm.completion("openai/bench", MESSAGES, base_url=BASE["paced"])
            assert answer._hidden_params["response_cost"] == costs[-1] > 0
            return answer
        def stream(mode):
            count = 0
            for _ in ritellm.completion("openai/bench", MESSAGES, base_url=BASE[mode], stream=True):
                count += 1
                tick(count)
            return count
    """,
    # ritellm behind a Router with one healthy deployment: what routing adds to a call.
    "ritellm-router": """
        import os
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        import ritellm
        def deployments(base):
            return [{"model_name": "bench", "litellm_params": {"model": "openai/bench", "api_base": base}}]
        routers = {mode: ritellm.Router(model_list=deployments(BASE[mode])) for mode in BASE}
        def call():
            return routers["paced"].completion(model="bench", messages=MESSAGES)
        def stream(mode):
            count = 0
            for _ in routers[mode].completion(model="bench", messages=MESSAGES, stream=True):
                count += 1
                tick(count)
            return count
        async def make():
            async def acall():
                return await routers["paced"].acompletion(model="bench", messages=MESSAGES)
            async def astream(mode):
                count = 0
                async for _ in await routers[mode].acompletion(model="bench", messages=MESSAGES, stream=True):
                    count += 1
                    tick(count)
                return count
            return acall, astream
    """,
    "openai": """
        import openai
        client = openai.OpenAI(api_key="sk-bench", base_url=BASE["paced"], max_retries=0)
        burst = client.with_options(base_url=BASE["burst"])
        clients = {"paced": client, "burst": burst}
        def call():
            return client.chat.completions.create(model="bench", messages=MESSAGES)
        def stream(mode):
            count = 0
            for _ in clients[mode].chat.completions.create(model="bench", messages=MESSAGES, stream=True):
                count += 1
                tick(count)
            return count
        def respond(mode):
            count = 0
            for _ in clients[mode].responses.create(model="bench", input=INPUT, stream=True):
                count += 1
                tick(count)
            return count
        async def make():
            # Its default pool already allows 1,000 connections.
            aclient = openai.AsyncOpenAI(api_key="sk-bench", base_url=BASE["paced"], max_retries=0)
            aclients = {"paced": aclient, "burst": aclient.with_options(base_url=BASE["burst"])}
            async def acall():
                return await aclient.chat.completions.create(model="bench", messages=MESSAGES)
            async def astream(mode):
                count = 0
                async for _ in await aclients[mode].chat.completions.create(model="bench", messages=MESSAGES, stream=True):
                    count += 1
                    tick(count)
                return count
            return acall, astream
    """,
    "litellm": """
        import os
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no download at import
        import litellm
        litellm.telemetry = False
        def call():
            return litellm.completion(model="openai/bench", messages=MESSAGES, api_base=BASE["paced"], api_key="sk-bench")
        def stream(mode):
            count = 0
            for _ in litellm.completion(model="openai/bench", messages=MESSAGES, api_base=BASE[mode], api_key="sk-bench", stream=True):
                count += 1
                tick(count)
            return count
        async def make():
            async def acall():
                return await litellm.acompletion(model="openai/bench", messages=MESSAGES, api_base=BASE["paced"], api_key="sk-bench")
            async def astream(mode):
                count = 0
                async for _ in await litellm.acompletion(model="openai/bench", messages=MESSAGES, api_base=BASE[mode], api_key="sk-bench", stream=True):
                    count += 1
                    tick(count)
                return count
            return acall, astream
    """,
}
IMPORTS = {
    "httpx": "httpx",
    "aiohttp": "aiohttp",
    "ritellm": "ritellm",
    "ritellm-cost": "ritellm",
    "ritellm-router": "ritellm",
    "openai": "openai",
    "litellm": "litellm",
}
#: Variants measured on the sync workload only: what they change is the sync call path.
SYNC_ONLY = frozenset({"ritellm-cost"})
#: The slow peers get fewer calls; per-call numbers stay comparable.
SCALE = {"litellm": 0.2}

PRELUDE = """
import asyncio, json, resource, sys, time
ROOT = sys.argv[1]
BASE = {mode: ROOT + "/" + mode + "/v1" for mode in ("paced", "burst")}
URL = {mode: base + "/chat/completions" for mode, base in BASE.items()}
MESSAGES = [{"role": "user", "content": "Say something about foxes and dogs."}]
INPUT = MESSAGES[0]["content"]
def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def cpu():
    return time.process_time()
# A stream's cost is read in windows of WINDOW chunks (each library's loop calls tick), and the
# median window kept: a burst of load from elsewhere on a shared machine moves a few windows.
WINDOW = 500
marks = []
def tick(count):
    if count % WINDOW == 0:
        marks.append(cpu())
def per_chunk_us(measure):
    marks.clear()
    started = cpu()
    count = measure()
    windows = sorted(b - a for a, b in zip([started, *marks], marks))
    return count, windows[len(windows) // 2] / WINDOW * 1e6
"""

COLD_IMPORT = """
started = time.perf_counter()
import {module}
print(json.dumps({{"import_ms": (time.perf_counter() - started) * 1000}}))
"""

FIRST_CALL = """
started = time.perf_counter()
{library}
if call is not None:
    call()
else:
    async def first():
        acall, _ = await make()
        await acall()
    asyncio.run(first())
print(json.dumps({{"{metric}": (time.perf_counter() - started) * 1000}}))
"""

SYNC_WORKLOAD = """
{library}
for _ in range(50):
    call()
started = time.perf_counter()
for _ in range({calls}):
    call()
result = {{"sync_call_us": (time.perf_counter() - started) / {calls} * 1e6}}
for mode, expected in {chunks}.items():
    stream(mode)
    count, result[f"sync_stream_{{mode}}_us"] = per_chunk_us(lambda: stream(mode))
    assert count == expected, (mode, count)
if "respond" in globals():
    for mode in ("paced", "burst"):
        respond(mode)
        count, result[f"sync_responses_{{mode}}_us"] = per_chunk_us(lambda: respond(mode))
        assert count == {events}, (mode, count)
if "cached_call" in globals():
    cached_call()
    started = time.perf_counter()
    for _ in range({calls}):
        cached_call()
    result["sync_cache_hit_us"] = (time.perf_counter() - started) / {calls} * 1e6
result["sync_rss_mb"] = rss_mb()
print(json.dumps(result))
"""

ASYNC_WORKLOAD = """
{library}
async def run():
    acall, astream = await make()
    limit = asyncio.Semaphore({in_flight})
    async def one():
        async with limit:
            await acall()
    await asyncio.gather(*(one() for _ in range({in_flight})))
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range({calls})))
    result = {{"async_rps": {calls} / (time.perf_counter() - started)}}
    for mode, expected in {chunks}.items():
        await astream(mode)
        marks.clear()
        started = cpu()
        count = await astream(mode)
        assert count == expected, (mode, count)
        windows = sorted(b - a for a, b in zip([started, *marks], marks))
        result[f"async_stream_{{mode}}_us"] = windows[len(windows) // 2] / WINDOW * 1e6
    return result
result = asyncio.run(run())
result["async_rss_mb"] = rss_mb()
print(json.dumps(result))
"""

#: metric -> label, the baseline of ritellm's target, the target ratio, and whether higher is better.
METRICS: dict[str, tuple[str, str | None, float | None, bool]] = {
    "import_ms": ("cold import (ms)", None, None, False),
    "first_call_ms": ("import + first call, module cached (ms)", "httpx", 1.15, False),
    "first_call_uncached_ms": ("import + first call, nothing cached (ms)", None, None, False),
    "sync_call_us": (f"sync call, {SYNC_CALLS} sequential (us)", "httpx", 1.0, False),
    "sync_stream_paced_us": ("sync stream, one event per read (CPU us/chunk)", "httpx", 1.3, False),
    "sync_stream_burst_us": ("sync stream, many events per read (CPU us/chunk)", "httpx", 1.3, False),
    "sync_responses_paced_us": (
        "sync Responses stream, one event per read (CPU us/event)",
        "httpx",
        1.3,
        False,
    ),
    "sync_responses_burst_us": (
        "sync Responses stream, many events per read (CPU us/event)",
        "httpx",
        1.3,
        False,
    ),
    "sync_cache_hit_us": ("sync call answered from a local cache (us)", None, None, False),
    "sync_rss_mb": ("peak RSS, sync workload (MB)", "httpx", 1.3, False),
    "async_rps": (f"async req/s, {IN_FLIGHT} in flight", "aiohttp", 0.8, True),
    "async_stream_paced_us": ("async stream, one event per read (CPU us/chunk)", "aiohttp", 1.0, False),
    "async_stream_burst_us": ("async stream, many events per read (CPU us/chunk)", "aiohttp", None, False),
    "async_rss_mb": ("peak RSS, async workload (MB)", "aiohttp", 1.3, False),
}


#: ritellm's targets against its own numbers: metric -> (the metric it is compared to, target).
SELF_TARGETS = {"first_call_uncached_ms": ("first_call_ms", 2.0), "sync_cache_hit_us": ("sync_call_us", 0.1)}
#: Variants of ritellm against plain ritellm: variant -> (what it adds, {metric: target ratio}).
VARIANT_TARGETS: dict[str, tuple[str, dict[str, float]]] = {
    "ritellm-cost": (
        "with callbacks reading every call's cost",
        {"sync_call_us": 1.1, "sync_stream_paced_us": 1.1, "sync_stream_burst_us": 1.1},
    ),
    "ritellm-router": (
        "behind a Router with one healthy deployment",
        {"sync_call_us": 1.1, "async_rps": 0.9},
    ),
}


def run_python(code: str, root_url: str, env: dict[str, str] | None = None) -> dict[str, float]:
    program = textwrap.dedent(PRELUDE) + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", program, root_url],
        capture_output=True,
        text=True,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )
    if result.returncode != 0:
        raise SystemExit(f"benchmark program failed:\n{program}\n{result.stderr}")
    measured: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def library_code(name: str) -> str:
    return textwrap.dedent(LIBRARIES[name])


def measure(root_url: str, rounds: int, libraries: list[str]) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {name: {} for name in libraries}

    def record(name: str, measured: dict[str, float]) -> None:
        for metric, value in measured.items():
            results[name].setdefault(metric, []).append(value)

    def first_call(name: str, metric: str) -> str:
        return FIRST_CALL.format(library=library_code(name), metric=metric)

    if "ritellm" in libraries:
        run_python(first_call("ritellm", "first_call_ms"), root_url)  # fills the module cache
    for _ in range(rounds * 3):
        for name in libraries:
            if name in SYNC_ONLY:
                continue
            record(name, run_python(COLD_IMPORT.format(module=IMPORTS[name]), root_url))
            record(name, run_python(first_call(name, "first_call_ms"), root_url))
            with tempfile.TemporaryDirectory() as empty:
                # The process waits at exit for the optimized code it compiles in the background.
                uncached = run_python(
                    first_call(name, "first_call_uncached_ms"), root_url, {"RITELLM_CACHE_DIR": empty}
                )
                record(name, uncached)
    for _ in range(rounds):
        for name in libraries:
            scale = SCALE.get(name, 1.0)
            if name != "aiohttp":
                workload = SYNC_WORKLOAD.format(
                    library=library_code(name),
                    calls=int(SYNC_CALLS * scale),
                    chunks=STREAM_CHUNKS,
                    events=RESPONSE_EVENTS,
                )
                record(name, run_python(workload, root_url))
            if name in SYNC_ONLY:
                continue
            workload = ASYNC_WORKLOAD.format(
                library=library_code(name),
                calls=int(ASYNC_CALLS * scale),
                in_flight=IN_FLIGHT,
                chunks=STREAM_CHUNKS,
            )
            record(name, run_python(workload, root_url))
    return results


def summarise(values: list[float] | None, metric: str) -> float | None:
    if not values:
        return None
    return min(values) if metric.endswith("rss_mb") else statistics.median(values)


def report(results: dict[str, dict[str, list[float]]]) -> bool:
    names = list(results)
    baselines: list[str] = [b for b in ("httpx", "aiohttp") if b in results]
    width = 60
    print(f"{'metric':<{width}}" + "".join(f"{name:>13}" for name in names))
    for metric, (label, *_) in METRICS.items():
        cells = [summarise(results[name].get(metric), metric) for name in names]
        print(f"{label:<{width}}" + "".join(f"{c:>13.1f}" if c is not None else f"{'-':>13}" for c in cells))
    for baseline in baselines:
        print(f"\nratio to raw {baseline}")
        for metric, (label, *_) in METRICS.items():
            base = summarise(results[baseline].get(metric), metric)
            if base is None:
                continue
            ratios = []
            for name in names:
                value = summarise(results[name].get(metric), metric)
                ratios.append(f"{value / base:>12.2f}x" if value is not None else f"{'-':>13}")
            print(f"{label:<{width}}" + "".join(ratios))
    all_met = True
    if "ritellm" in results:
        print("\nritellm's targets")
        for metric, (label, target_baseline, target, higher_is_better) in METRICS.items():
            if target is None or target_baseline is None or target_baseline not in results:
                continue
            baseline = target_baseline
            ours = summarise(results["ritellm"].get(metric), metric)
            base = summarise(results[baseline].get(metric), metric)
            if ours is None or base is None:
                continue
            ratio = ours / base
            met = ratio >= target if higher_is_better else ratio <= target
            all_met &= met
            sign = ">=" if higher_is_better else "<="
            verdict = "met" if met else "MISSED"
            print(f"{label:<{width}} {ratio:>6.2f}x vs {baseline:<8} {sign} {target:.2f}x  {verdict}")
        for metric, (compared, target) in SELF_TARGETS.items():
            ours = summarise(results["ritellm"].get(metric), metric)
            base = summarise(results["ritellm"].get(compared), compared)
            if ours is None or base is None:
                continue
            ratio = ours / base
            all_met &= ratio <= target
            verdict = "met" if ratio <= target else "MISSED"
            label, against = METRICS[metric][0], compared.removesuffix("_ms").removesuffix("_us")
            print(f"{label:<{width}} {ratio:>6.2f}x vs {against:<8} <= {target:.2f}x  {verdict}")
    for variant, (what, targets) in VARIANT_TARGETS.items():
        if "ritellm" not in results or variant not in results:
            continue
        print(f"\n{variant}: {what}")
        for metric, target in targets.items():
            ours = summarise(results[variant].get(metric), metric)
            base = summarise(results["ritellm"].get(metric), metric)
            if ours is None or base is None:
                continue
            ratio = ours / base
            higher_is_better = METRICS[metric][3]
            met = ratio >= target if higher_is_better else ratio <= target
            all_met &= met
            sign = ">=" if higher_is_better else "<="
            verdict = "met" if met else "MISSED"
            print(f"{METRICS[metric][0]:<{width}} {ratio:>6.2f}x vs ritellm  {sign} {target:.2f}x  {verdict}")
    return all_met


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="workload runs per library (default 3)")
    parser.add_argument("--only", help="comma-separated libraries to measure (default: all installed)")
    args = parser.parse_args()
    wanted = args.only.split(",") if args.only else list(LIBRARIES)
    libraries = [name for name in wanted if importlib.util.find_spec(IMPORTS[name]) is not None]
    missing = sorted(set(wanted) - set(libraries))
    if missing:
        print(f"not installed, left out: {', '.join(missing)} (pip install '.[bench]')")
    # Installing a wheel compiles its bytecode, as it did for the other libraries; a checkout
    # run with PYTHONDONTWRITEBYTECODE=1 would otherwise compile ritellm on every import.
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
            root_url = f"http://127.0.0.1:{port_file.read_text()}"
            os.environ.setdefault("RITELLM_CACHE_DIR", str(Path(scratch) / "cache"))
            results = measure(root_url, args.rounds, libraries)
        finally:
            server.terminate()
            server.wait()
    all_met = report(results)
    print("\nall targets met" if all_met else "\nsome targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
