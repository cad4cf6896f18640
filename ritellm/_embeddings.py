"""Embeddings: a call's inputs split into requests of at most the provider's batch size (the
core says it), sent with bounded concurrency, read by the core, and put back together in input
order with their usage summed. One failed request fails the call: no partial answer."""

from __future__ import annotations

import array
import base64
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from . import _cloud, _pools, _transport
from ._answers import read
from ._cache import Use
from ._exceptions import RitellmError
from ._models import Prepared
from ._prepare import cache_key, prepare
from .types import EmbeddingResponse

#: Requests of one call in flight at once.
MAX_IN_FLIGHT = 4


def inputs_of(input: Any) -> Any:
    """The call's inputs as a list: a string or one list of token ids is one input. Anything
    else is handed to the core as it is, which says what is wrong with it."""
    if isinstance(input, str):
        return [input]
    if isinstance(input, (list, tuple)) and input and all(type(item) is int for item in input):
        return [list(input)]
    if isinstance(input, Iterable) and not isinstance(input, (bytes, dict)):
        return list(input)
    return input


class Plan(NamedTuple):
    """An embedding call's requests, each with the position of its first input."""

    parts: list[tuple[int, Prepared]]
    #: How many inputs the call has.
    total: int
    #: Whether the caller asked for base64 vectors.
    as_base64: bool
    #: LiteLLM's ``mock_response`` vector: the answer, made without any request.
    mocked: EmbeddingResponse | None = None


def plan(model: str, input: Any, settings: dict[str, Any], params: dict[str, Any]) -> Plan:
    """Every request of the call, all prepared before any is sent (so a bad input anywhere is
    refused before any I/O). The core puts at most its ``max_inputs`` in a request; longer
    inputs are split into slices of that many."""
    inputs = inputs_of(input)
    as_base64 = params.get("encoding_format") == "base64"
    mocked = _mocked(model, inputs, params.get("mock_response"))
    if mocked is not None:
        return Plan([], len(inputs), as_base64, mocked)
    settings = dict(settings)
    # ``max_retries`` is completion's name for it, and LiteLLM's embedding() takes it too:
    # retries, never a body field.
    max_retries = params.pop("max_retries", None)
    num_retries = settings.pop("num_retries")
    if num_retries is not None or max_retries is not None:
        params["num_retries"] = num_retries if num_retries is not None else max_retries

    def prepared(part: Any) -> Prepared:
        return prepare(model, part, operation="embedding", stream=False, params=params, **settings)

    first = prepared(inputs)
    size = first.max_inputs
    total = len(inputs) if isinstance(inputs, list) else 1
    if not isinstance(inputs, list) or size <= 0 or total <= size:
        return Plan([(0, first)], total, as_base64)
    rest = [(start, prepared(inputs[start : start + size])) for start in range(size, total, size)]
    return Plan([(0, first), *rest], total, as_base64)


def sent_in_threads(plan: Plan) -> tuple[EmbeddingResponse, int]:
    """The call's answer and the attempts it took; several requests go out a few at a time
    on threads."""
    if plan.mocked is not None:
        return plan.mocked, 0
    if len(plan.parts) == 1:
        return _answer(plan, [send(plan.parts[0][1])])
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(min(MAX_IN_FLIGHT, len(plan.parts))) as pool:
        futures = [pool.submit(send, prepared) for _, prepared in plan.parts]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for index, future in enumerate(futures):
            exc = future.exception() if future in done else None
            if exc is not None:
                for other in futures:
                    other.cancel()  # those not started yet
                raise _failed(exc, plan, index) from None
        return _answer(plan, [future.result() for future in futures])


async def sent_on_the_loop(plan: Plan) -> tuple[EmbeddingResponse, int]:
    """The async twin of :func:`sent_in_threads`: at most :data:`MAX_IN_FLIGHT` requests in
    flight on the event loop; the first failure cancels the rest."""
    import asyncio

    if plan.mocked is not None:
        return plan.mocked, 0
    if len(plan.parts) == 1:
        return _answer(plan, [await asend(plan.parts[0][1])])
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def one(index: int, prepared: Prepared) -> tuple[EmbeddingResponse, int]:
        async with slots:
            try:
                return await asend(prepared)
            except Exception as exc:
                raise _failed(exc, plan, index) from None

    tasks = [asyncio.ensure_future(one(index, prepared)) for index, (_, prepared) in enumerate(plan.parts)]
    try:
        return _answer(plan, list(await asyncio.gather(*tasks)))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


#: Where Bedrock's InvokeModel says how many tokens it read, for models whose body does not.
_TOKEN_COUNT_HEADER = "x-amzn-bedrock-input-token-count"


def send(prepared: Prepared) -> tuple[EmbeddingResponse, int]:
    """One request's answer, and the attempts it took."""
    sent = _transport.request(_pools.sync_pools(), _cloud.authorize(prepared), stream=False)
    return _counted(read(sent, EmbeddingResponse), sent.response.headers), sent.attempts


async def asend(prepared: Prepared) -> tuple[EmbeddingResponse, int]:
    """The async twin of :func:`send`."""
    if _cloud.needs_authorizing(prepared):  # may do I/O: not on the event loop
        import asyncio

        prepared = await asyncio.get_running_loop().run_in_executor(None, _cloud.authorize, prepared)
    sent = await _transport.arequest(await _pools.async_pools(), prepared, stream=False)
    return _counted(read(sent, EmbeddingResponse), sent.response.headers), sent.attempts


def _counted(answer: EmbeddingResponse, headers: Mapping[str, str]) -> EmbeddingResponse:
    """``answer`` with the token count a response header gives, where its body gave none."""
    count = headers.get(_TOKEN_COUNT_HEADER, "")
    if count.isdigit() and not (answer.get("usage") or {}).get("total_tokens"):
        answer["usage"] = {"prompt_tokens": int(count), "total_tokens": int(count)}
    return answer


def _mocked(model: str, inputs: Any, vector: Any) -> EmbeddingResponse | None:
    """LiteLLM's ``mock_response`` for embeddings: the vector every input gets, no I/O. None
    when ``vector`` is not a list of numbers (a string chooses the ``mock/`` provider)."""
    if not isinstance(vector, (list, tuple)) or not all(
        isinstance(value, (int, float)) and not isinstance(value, bool) for value in vector
    ):
        return None
    count = len(inputs) if isinstance(inputs, list) else 1
    data = [
        {"object": "embedding", "index": i, "embedding": [float(v) for v in vector]} for i in range(count)
    ]
    return EmbeddingResponse(
        object="list",
        data=data,
        model=model.partition("/")[2],
        usage={"prompt_tokens": 0, "total_tokens": 0},
    )


def _failed(exc: BaseException, plan: Plan, index: int) -> BaseException:
    """``exc`` of the call's ``index``-th request, saying which inputs that request carried."""
    if not isinstance(exc, RitellmError):
        return exc
    start = plan.parts[index][0]
    end = plan.parts[index + 1][0] if index + 1 < len(plan.parts) else plan.total
    exc.failed_inputs = range(start, end)
    note = f"inputs {start} to {end - 1} of {plan.total} failed; no partial answer was returned"
    exc.__notes__ = [*getattr(exc, "__notes__", []), note]
    return exc


def _answer(plan: Plan, answers: Sequence[tuple[EmbeddingResponse, int]]) -> tuple[EmbeddingResponse, int]:
    """The parts' vectors in input order, their ``index`` the input's position, usage summed;
    and the attempts all parts took."""
    data: list[Any] = []
    prompt_tokens = total_tokens = 0
    for (start, _), (part, _) in zip(plan.parts, answers):
        items = part["data"]
        for item in items:
            item["index"] += start
        if not plan.as_base64:
            _decode(items)
        data.extend(items)
        usage = part.get("usage") or {}
        prompt_tokens += usage.get("prompt_tokens") or 0
        total_tokens += usage.get("total_tokens") or 0
    merged = EmbeddingResponse(
        object="list",
        data=data,
        model=answers[0][0].get("model"),
        usage={"prompt_tokens": prompt_tokens, "total_tokens": total_tokens},
    )
    return merged, sum(attempts for _, attempts in answers)


def _decode(items: list[dict[str, Any]]) -> None:
    """Base64 vectors (little-endian float32, checked by the core) as Python floats, exactly."""
    for item in items:
        if isinstance(item["embedding"], str):
            item["embedding"] = _floats(item["embedding"])


def _floats(encoded: str) -> list[float]:
    values = array.array("f")
    values.frombytes(base64.b64decode(encoded))
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


# With a cache: one key per input (the key of a one-input call), so that a call whose inputs
# were partly seen before sends only the others.


class Cached(NamedTuple):
    """An embedding call's inputs, their keys and what the cache holds of each."""

    model: str
    inputs: list[Any]
    keys: list[str]
    settings: dict[str, Any]
    params: dict[str, Any]


def keyed(model: str, input: Any, settings: dict[str, Any], params: dict[str, Any]) -> Cached | None:
    """The call's inputs with their keys, or None when it is not cached (a mocked vector, an
    input the core is left to refuse)."""
    inputs = inputs_of(input)
    if not isinstance(inputs, list) or not inputs or _mocked(model, inputs, params.get("mock_response")):
        return None
    options = {name: settings[name] for name in ("base_url", "additional_params", "api_version")}
    # Retries are not part of the answer (``plan`` takes them out of the body too).
    fields = {name: value for name, value in params.items() if name not in ("max_retries", "num_retries")}
    keys = [cache_key(model, [item], operation="embedding", params=fields, **options) for item in inputs]
    return Cached(model, inputs, keys, settings, params)


def _rest(cached: Cached, found: list[dict[str, Any] | None]) -> tuple[list[int], Plan | None]:
    """The positions of the inputs not found, and the plan that embeds them."""
    missing = [i for i, stored in enumerate(found) if stored is None or "embedding" not in stored]
    if not missing:
        return missing, None
    part = [cached.inputs[i] for i in missing]
    return missing, plan(cached.model, part, cached.settings, dict(cached.params))


def _merged(
    cached: Cached, found: list[dict[str, Any] | None], missing: list[int], fresh: EmbeddingResponse | None
) -> tuple[EmbeddingResponse, list[tuple[str, dict[str, Any]]]]:
    """The call's answer, found and fresh vectors in input order; and what to store."""
    data: list[Any] = [None] * len(cached.inputs)
    model = None
    for index, stored in enumerate(found):
        if stored is not None and index not in missing:
            data[index] = {"object": "embedding", "index": index, "embedding": stored["embedding"]}
            model = stored.get("model")
    new: list[tuple[str, dict[str, Any]]] = []
    usage = {"prompt_tokens": 0, "total_tokens": 0}
    if fresh is not None:
        model = fresh.get("model")
        for index, item in zip(missing, sorted(fresh["data"], key=lambda item: item["index"])):
            new.append((cached.keys[index], {"embedding": item["embedding"], "model": model}))
            data[index] = {**item, "index": index}
        usage = fresh.get("usage") or usage
    answer = EmbeddingResponse(object="list", data=data, model=model, usage=usage)
    return answer, new


def cached_in_threads(cached: Cached, use: Use) -> tuple[EmbeddingResponse, int, bool]:
    """The call's answer from the cache and requests for the rest; the attempts those took;
    whether every input was found."""
    found = use.get_many(cached.keys)
    missing, rest = _rest(cached, found)
    fresh, attempts = sent_in_threads(rest) if rest is not None else (None, 0)
    answer, new = _merged(cached, found, missing, fresh)
    use.put_many(new)
    return answer, attempts, not missing


async def cached_on_the_loop(cached: Cached, use: Use) -> tuple[EmbeddingResponse, int, bool]:
    """The async twin of :func:`cached_in_threads`."""
    found = await use.aget_many(cached.keys)
    missing, rest = _rest(cached, found)
    fresh, attempts = await sent_on_the_loop(rest) if rest is not None else (None, 0)
    answer, new = _merged(cached, found, missing, fresh)
    await use.aput_many(new)
    return answer, attempts, not missing
