"""The data that flows between ritellm's layers: a prepared call, and the request a transport
sends. A leaf: every layer imports it, and it imports nothing of theirs.

Named tuples, not dataclasses: one is made on every call, and they are several times cheaper.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from ._limits import Limits


class Timeouts(NamedTuple):
    """Seconds per phase; None waits for ever. ``read`` bounds each wait for body bytes."""

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None


class Request(NamedTuple):
    """One HTTP request, as a transport sends it."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    timeouts: Timeouts


class Prepared(NamedTuple):
    """One call's HTTP request, as the core assembled it, with the key added, and how to send it."""

    provider: str
    model: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    #: Opaque: handed back to the core to read the answer.
    context: bytes
    timeouts: Timeouts
    #: Seconds the whole call may take, retries included, however the server paces its bytes.
    deadline: float
    max_retries: int
    limits: Limits
    #: Credential header values, removed from every error message.
    secrets: tuple[str, ...]
    #: The core says a success answer needs no translation (see ``_answers.answer``).
    passthrough: bool
    #: Credentials options for providers the host authorizes itself (see `_cloud.authorize`).
    cloud: Mapping[str, Any] = MappingProxyType({})
    #: Signs each attempt (method, URL, headers, body -> headers), for providers that sign.
    sign: Callable[[str, str, Mapping[str, str], bytes], dict[str, str]] | None = None
    #: For an embedding call: the most inputs one request may carry (the core put at most
    #: that many in this one). 0 for other operations.
    max_inputs: int = 0

    def __repr__(self) -> str:  # leaves out headers and body, which hold the key
        return f"Prepared({self.method} {self.url}, provider={self.provider!r}, model={self.model!r})"


def has_credentials(url: str) -> bool:
    """Whether ``url`` has a user name or password before its host."""
    if "@" not in url:
        return False
    parts = urllib.parse.urlsplit(url)
    return parts.username is not None or parts.password is not None


class HiddenParams(dict[str, Any]):
    """A result's ``_hidden_params``, as LiteLLM's results have them: ``custom_llm_provider``,
    ``model`` (the model string the call was made with) and ``response_cost``, priced when first
    read so that calls nobody prices pay nothing for it."""

    def __init__(self, provider: str, model: str, answer: dict[str, Any]) -> None:
        super().__init__(custom_llm_provider=provider, model=model)
        answered = dict.get(answer, "model")
        # The usage and names only: the answer holds this, which must not hold the answer.
        self._priced_as = [model, f"{provider}/{answered}"] if isinstance(answered, str) else [model]
        self._usage = dict.get(answer, "usage")

    def __missing__(self, key: str) -> Any:
        if key != "response_cost":
            raise KeyError(key)
        from ._cost import usage_cost  # here: the model table's code loads only when a price is read

        cost = self["response_cost"] = usage_cost(self._priced_as, self._usage)
        return cost

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default
