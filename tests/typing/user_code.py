"""Code as users write it: it must type-check under mypy --strict and pyright (test_typing.py)."""

from __future__ import annotations

from typing import Literal, TypedDict

import ritellm


class UserMessage(TypedDict):  # the shape of openai's ChatCompletionUserMessageParam
    role: Literal["user"]
    content: str


class SystemMessage(TypedDict):
    role: Literal["system"]
    content: str


def ask(question: str) -> str | None:
    messages: list[UserMessage | SystemMessage] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": question},
    ]
    response = ritellm.completion("mock/echo", messages)
    total: int = response.usage.total_tokens if response.usage else 0
    print(total, response["choices"][0]["message"]["content"])
    calls = response.choices[0].message.tool_calls or []
    print([(call.function.name, call.function.arguments) for call in calls])
    return response.choices[0].message.content


def stream(question: str) -> str:
    parts: list[str] = []
    for chunk in ritellm.completion("mock/echo", [{"role": "user", "content": question}], stream=True):
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
    return "".join(parts)


async def ask_async(question: str) -> str:
    messages = ({"role": "user", "content": question},)  # any iterable of mappings
    response = await ritellm.acompletion("mock/echo", messages)
    built = ritellm.stream_chunk_builder([])
    return (response.choices[0].message.content or "") + str(built.choices)


def respond(question: str) -> str:
    response = ritellm.responses("mock/echo", question, instructions="Be brief.", max_output_tokens=100)
    tokens: int = response.usage.output_tokens if response.usage else 0
    calls = [
        (item.call_id, item.name, item.arguments) for item in response.output if item.type == "function_call"
    ]
    print(tokens, calls, response.status)
    parts: list[str] = []
    for event in ritellm.responses("mock/echo", [{"role": "user", "content": question}], stream=True):
        if event.type == "response.output_text.delta":
            parts.append(event.delta or "")
    return response.output_text + "".join(parts)


async def respond_async(question: str) -> str:
    events = [event async for event in await ritellm.aresponses("mock/echo", question, stream=True)]
    return ritellm.response_from_events(events).output_text
