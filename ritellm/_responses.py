"""What the Responses calls share, before any I/O: their body fields from keyword arguments,
their preparation, the calls on stored responses, and when a chat call goes through the
Responses API instead."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._exceptions import APIError, InvalidRequestError
from ._instance import core
from ._models import Prepared
from ._options import response_format
from ._prepare import prepare
from ._retries import DEFAULT_MAX_RETRIES

#: The Responses API's body fields that ``responses()`` takes by name.
FIELDS = (
    "instructions",
    "tools",
    "tool_choice",
    "reasoning",
    "text",
    "max_output_tokens",
    "temperature",
    "top_p",
    "previous_response_id",
    "store",
    "include",
    "metadata",
    "parallel_tool_calls",
    "truncation",
    "user",
)
#: What a call on a stored response takes besides its id and provider.
STORED_OPTIONS = frozenset(
    {"base_url", "api_key", "timeout", "num_retries", "max_retries", "extra_headers", "api_version", "limits"}
)
#: What a chat API answers a model that takes only Responses requests (OpenAI: "This model is
#: only supported in v1/responses and not in v1/chat/completions.").
ONLY_RESPONSES = "only supported in v1/responses"


def fields(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The body fields among ``responses()``'s arguments, with ``text_format`` (a Pydantic
    model) made ``text.format``."""
    body = {name: arguments[name] for name in FIELDS if arguments[name] is not None}
    for name in ("tools", "include"):
        if name in body and not isinstance(body[name], (list, str, Mapping)):
            body[name] = list(body[name])  # a tuple or a generator: the JSON array it stands for
    text_format = arguments["text_format"]
    if text_format is not None:
        converted = response_format(text_format)
        if converted is text_format:
            raise InvalidRequestError(
                "text_format takes a Pydantic model (a class with model_json_schema()); "
                "give a JSON schema as text={'format': {'type': 'json_schema', ...}}"
            )
        schema = converted["json_schema"]
        body["text"] = {**(body.get("text") or {}), "format": {"type": "json_schema", **schema}}
    return body


def prepared(
    model: str,
    input: Any,
    stream: bool,
    arguments: Mapping[str, Any],
    provider_options: Mapping[str, Any],
) -> Prepared:
    """A Responses call, prepared from ``responses()``'s arguments."""
    body = fields(arguments)
    if not isinstance(input, (str, list, Mapping)) and isinstance(input, Iterable):
        input = list(input)  # a tuple, a generator: the JSON array it stands for
    return prepare(
        model,
        input,
        stream=stream,
        base_url=arguments["base_url"],
        additional_params=arguments["additional_params"],
        api_key=arguments["api_key"],
        timeout=arguments["timeout"],
        extra_headers=arguments["extra_headers"],
        api_version=arguments["api_version"],
        max_retries=retries(arguments),
        limits=arguments["limits"],
        params={**body, **provider_options},
        operation="responses",
    )


def stored(action: str, response_id: str, provider: str, options: Mapping[str, Any]) -> Prepared:
    """A call that does ``action`` to the stored response ``response_id`` of ``provider``."""
    if not isinstance(response_id, str):
        raise InvalidRequestError(f"response_id must be a string, got {type(response_id).__name__}")
    settings = {name: value for name, value in options.items() if name in STORED_OPTIONS}
    query = {name: value for name, value in options.items() if name not in STORED_OPTIONS}
    return prepare(
        # Stored responses are named by their id alone: the model part picks the row, and names
        # the response in errors (the core checks the id).
        f"{provider}/{response_id or '-'}",
        None,
        stream=False,
        base_url=settings.get("base_url"),
        additional_params=None,
        api_key=settings.get("api_key"),
        timeout=settings.get("timeout"),
        extra_headers=settings.get("extra_headers"),
        api_version=settings.get("api_version"),
        max_retries=retries(settings),
        limits=settings.get("limits"),
        params=query,
        operation="responses",
        stored={"action": action, "id": response_id},
    )


def retries(options: Mapping[str, Any]) -> Any:
    """How many times a failed request is retried: ``num_retries`` (LiteLLM's name for it in
    these calls), or ``max_retries`` (its name for completion), else the default."""
    for name in ("num_retries", "max_retries"):
        if options.get(name) is not None:
            return options[name]  # checked by prepare
    return DEFAULT_MAX_RETRIES


def through_responses(model: str, exc: APIError) -> str | None:
    """The model string that sends a chat call through the Responses API
    (``openai/responses/<model>``), when the server refused ``model`` on chat as a model it
    serves only there and the provider has the API; else None."""
    prefix, _, name = model.partition("/") if isinstance(model, str) else ("", "", "")
    # OpenAI has answered it with 400 and with 404.
    if (
        exc.status_code not in (400, 404)
        or ONLY_RESPONSES not in str(exc).lower()
        or name.startswith("responses/")
    ):
        return None
    if prefix not in core().describe.get("native_responses", ()):
        return None
    return f"{prefix}/responses/{name}"
