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
