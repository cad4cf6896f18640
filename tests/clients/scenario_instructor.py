# The clients live in their own venv (`just clients`), not where mypy runs.
# mypy: disable-error-code="import-not-found"
"""instructor on LiteLLM: ``instructor.from_litellm(litellm.completion)`` in its modes.

Run as ``python tests/clients/scenario_instructor.py --mode litellm|ritellm --out FILE``
(``tests/clients/harness.py`` says what the steps record).
"""

import sys

if sys.argv[sys.argv.index("--mode") + 1] == "ritellm":
    import ritellm

    ritellm.install_as_litellm()

import json  # noqa: E402
import pathlib  # noqa: E402
from collections.abc import Iterable  # noqa: E402
from typing import Any, Union  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.clients.harness import Scenario  # noqa: E402
from tests.clients.server import Reply, Request, ScriptedServer, text, tool_calls  # noqa: E402

scenario = Scenario()

import instructor  # noqa: E402
import litellm  # noqa: E402
from pydantic import BaseModel, field_validator  # noqa: E402

MODEL = "gpt-4o-mini"
ADA = {"name": "Ada Lovelace", "age": 36}
GRACE = {"name": "Grace Hopper", "age": 85}
PET = {"name": "Rex", "species": "dog"}
ASK = [{"role": "user", "content": "Extract: Ada Lovelace was 36."}]


class User(BaseModel):
    name: str
    age: int


class Pet(BaseModel):
    name: str
    species: str


class ShoutedUser(BaseModel):
    """A user whose name must be written in capitals: the first answer is not."""

    name: str
    age: int

    @field_validator("name")
    @classmethod
    def capitals(cls, value: str) -> str:
        if value != value.upper():
            raise ValueError("name must be in capitals")
        return value


def tool_name(request: Request) -> str:
    tools = request.body.get("tools") or []
    assert len(tools) == 1, f"expected one tool, got {tools!r}"
    return str(tools[0]["function"]["name"])


def answer_with_tool(request: Request) -> Reply:
    return tool_calls((tool_name(request), ADA))


def answer_with_json(request: Request) -> Reply:
    return text(json.dumps(ADA))


def shouted(request: Request) -> Reply:
    """Lower case first; capitals once the request carries instructor's validation error."""
    corrected = any("name must be in capitals" in result for result in request.tool_results())
    name = "ADA LOVELACE" if corrected else "Ada Lovelace"
    return tool_calls((tool_name(request), {"name": name, "age": 36}))


@scenario.step("tools_mode")
def tools_mode(server: ScriptedServer) -> Any:
    server.responder = answer_with_tool
    client = instructor.from_litellm(litellm.completion)
    user = client.chat.completions.create(model=MODEL, response_model=User, messages=ASK)
    assert user.model_dump() == ADA, user
    return user.model_dump()


@scenario.step("tools_mode_with_completion")
def tools_mode_with_completion(server: ScriptedServer) -> Any:
    server.responder = answer_with_tool
    client = instructor.from_litellm(litellm.completion)
    user, completion = client.chat.completions.create_with_completion(
        model=MODEL, response_model=User, messages=ASK, temperature=0
    )
    assert user.model_dump() == ADA, user
    # What callers read from the raw completion: usage and the finish reason.
    assert (
        completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert completion.choices[0].finish_reason == "tool_calls"
    return {"user": user.model_dump(), "finish_reason": completion.choices[0].finish_reason}


@scenario.step("json_mode")
def json_mode(server: ScriptedServer) -> Any:
    server.responder = answer_with_json
    client = instructor.from_litellm(litellm.completion, mode=instructor.Mode.JSON)
    user = client.chat.completions.create(model=MODEL, response_model=User, messages=ASK)
    assert user.model_dump() == ADA, user
    return user.model_dump()


@scenario.step("json_schema_mode")
def json_schema_mode(server: ScriptedServer) -> Any:
    server.responder = answer_with_json
    client = instructor.from_litellm(litellm.completion, mode=instructor.Mode.JSON_SCHEMA)
    user = client.chat.completions.create(model=MODEL, response_model=User, messages=ASK)
    assert user.model_dump() == ADA, user
    return user.model_dump()


@scenario.step("md_json_mode")
def md_json_mode(server: ScriptedServer) -> Any:
    server.responder = lambda request: text(f"Here it is:\n```json\n{json.dumps(ADA)}\n```")
    client = instructor.from_litellm(litellm.completion, mode=instructor.Mode.MD_JSON)
    user = client.chat.completions.create(model=MODEL, response_model=User, messages=ASK)
    assert user.model_dump() == ADA, user
    return user.model_dump()


@scenario.step("validation_retry")
def validation_retry(server: ScriptedServer) -> Any:
    # The reask puts the first answer back in the messages through message.model_dump().
    server.responder = shouted
    start = server.mark()
    client = instructor.from_litellm(litellm.completion)
    user = client.chat.completions.create(
        model=MODEL, response_model=ShoutedUser, messages=ASK, max_retries=2
    )
    assert user.name == "ADA LOVELACE", user
    assert len(server.since(start)) == 2, server.since(start)
    return user.model_dump()


@scenario.step("async_tools_mode")
async def async_tools_mode(server: ScriptedServer) -> Any:
    server.responder = answer_with_tool
    client = instructor.from_litellm(litellm.acompletion)
    user = await client.chat.completions.create(model=MODEL, response_model=User, messages=ASK)
    assert user.model_dump() == ADA, user
    return user.model_dump()


@scenario.step("async_validation_retry")
async def async_validation_retry(server: ScriptedServer) -> Any:
    server.responder = shouted
    client = instructor.from_litellm(litellm.acompletion)
    user = await client.chat.completions.create(
        model=MODEL, response_model=ShoutedUser, messages=ASK, max_retries=2
    )
    assert user.name == "ADA LOVELACE", user
    return user.model_dump()


@scenario.step("parallel_tools_mode")
def parallel_tools_mode(server: ScriptedServer) -> Any:
    # One answer, several tool calls of two kinds: each becomes its own object.
    def two_kinds(request: Request) -> Reply:
        names = sorted(tool["function"]["name"] for tool in request.body["tools"])
        assert names == ["Pet", "User"], names
        return tool_calls(("User", ADA), ("Pet", PET), ("User", GRACE))

    server.responder = two_kinds
    client = instructor.from_litellm(litellm.completion, mode=instructor.Mode.PARALLEL_TOOLS)
    found = client.chat.completions.create(
        model=MODEL, response_model=Iterable[Union[User, Pet]], messages=ASK
    )
    dumped = [(type(item).__name__, item.model_dump()) for item in found]
    assert dumped == [("User", ADA), ("Pet", PET), ("User", GRACE)], dumped
    return dumped


@scenario.step("async_iterable_streaming")
async def async_iterable_streaming(server: ScriptedServer) -> Any:
    # A list streamed in one tool call's arguments: each item is given once it is whole.
    server.responder = lambda request: tool_calls((tool_name(request), {"tasks": [ADA, GRACE]}))
    client = instructor.from_litellm(litellm.acompletion)
    stream = client.chat.completions.create_iterable(
        model=MODEL, response_model=User, messages=ASK, stream=True
    )
    users = [user.model_dump() async for user in stream]
    assert users == [ADA, GRACE], users
    return users


@scenario.step("partial_streaming")
def partial_streaming(server: ScriptedServer) -> Any:
    # instructor 1.17 takes LiteLLM's sync stream for an async one (it has __aiter__ too) and
    # fails; the step stays, so that the day it passes on LiteLLM it is compared.
    server.responder = answer_with_tool
    client = instructor.from_litellm(litellm.completion)
    partials = [
        partial.model_dump()
        for partial in client.chat.completions.create_partial(model=MODEL, response_model=User, messages=ASK)
    ]
    assert len(partials) > 1, partials
    assert partials[-1] == ADA, partials
    return partials


@scenario.step("async_partial_streaming")
async def async_partial_streaming(server: ScriptedServer) -> Any:
    server.responder = answer_with_tool
    client = instructor.from_litellm(litellm.acompletion)
    partials = [
        partial.model_dump()
        async for partial in client.chat.completions.create_partial(
            model=MODEL, response_model=User, messages=ASK
        )
    ]
    assert partials[-1] == ADA, partials
    return partials


@scenario.step("async_json_mode_partial_streaming")
async def async_json_mode_partial_streaming(server: ScriptedServer) -> Any:
    server.responder = answer_with_json
    client = instructor.from_litellm(litellm.acompletion, mode=instructor.Mode.JSON)
    stream = client.chat.completions.create_partial(model=MODEL, response_model=User, messages=ASK)
    partials = [partial.model_dump() async for partial in stream]
    assert len(partials) > 1, partials
    assert partials[-1] == ADA, partials
    return partials


scenario.run()
