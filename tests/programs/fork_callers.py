"""Run by tests/test_lifecycle.py: a process that has live connection pools forks, then the
parent and its children call one server at once. Exits 0 when every caller got its own answers.

    python fork_callers.py BASE_URL
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import traceback

import ritellm

BASE_URL = sys.argv[1]
CALLS = 24


def ask(tag: str, stream: bool) -> None:
    messages = [{"role": "user", "content": tag}]
    if stream:
        chunks = ritellm.completion("openai/m", messages, base_url=BASE_URL, stream=True, max_retries=0)
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    else:
        text = ritellm.completion("openai/m", messages, base_url=BASE_URL, max_retries=0)["choices"][0][
            "message"
        ]["content"]
    assert text == f"echo: {tag}", f"{tag!r} got {text!r}"


async def aask(tag: str, stream: bool) -> None:
    messages = [{"role": "user", "content": tag}]
    if stream:
        chunks = await ritellm.acompletion(
            "openai/m", messages, base_url=BASE_URL, stream=True, max_retries=0
        )
        text = "".join([c["choices"][0]["delta"].get("content", "") async for c in chunks])
    else:
        answer = await ritellm.acompletion("openai/m", messages, base_url=BASE_URL, max_retries=0)
        text = answer["choices"][0]["message"]["content"]
    assert text == f"echo: {tag}", f"{tag!r} got {text!r}"


async def aconcurrent(who: str) -> None:
    await asyncio.gather(*(aask(f"{who}-async-{i}", i % 2 == 1) for i in range(CALLS)))


def work(who: str) -> str:
    for i in range(CALLS):
        ask(f"{who}-{i}", i % 2 == 1)
    asyncio.run(aconcurrent(who))
    return who


def main() -> int:
    # Live pools at the fork: idle keep-alive connections, sync and on a loop still open. (A
    # stream's connection closes when it ends, so the last call before the fork is not one.)
    ask("warm-stream", True)
    ask("warm", False)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(aask("warm-async", False))

    children = []
    for n in range(4):
        pid = os.fork()
        if pid == 0:
            try:
                work(f"child{n}")
                os._exit(0)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
        children.append(pid)
    work("parent")
    failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]

    with multiprocessing.get_context("fork").Pool(4) as pool:
        done = pool.map(work, [f"pool{n}" for n in range(8)])
    assert done == [f"pool{n}" for n in range(8)]
    loop.run_until_complete(aask("parent-after", True))
    loop.run_until_complete(ritellm.aclose())
    loop.close()
    print(f"{len(failed)} children failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
