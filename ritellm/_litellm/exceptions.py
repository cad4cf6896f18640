"""LiteLLM's exception classes, by its names and in its hierarchy, for code written against
LiteLLM (``litellm.exceptions`` once :func:`ritellm.install_as_litellm` ran).

::

    Exception
    ├── AuthenticationError              401, or no key
    ├── PermissionDeniedError            403
    ├── NotFoundError                    404
    ├── BadRequestError                  400, 413, 422, a call refused before it was sent
    │   ├── ContextWindowExceededError
    │   ├── ContentPolicyViolationError
    │   ├── RejectedRequestError
    │   └── UnsupportedParamsError
    ├── InvalidRequestError              (LiteLLM's older name; none is raised)
    ├── UnprocessableEntityError         (LiteLLM's, for some providers' 422)
    ├── Timeout                          408, 504, and no answer in time
    ├── RateLimitError                   429, and a Router with every deployment busy
    ├── InternalServerError              500, 529
    ├── BadGatewayError                  502
    ├── ServiceUnavailableError          503
    ├── APIError                         any other status; an answer that cannot be read
    ├── APIConnectionError               no answer, or a stream cut short
    ├── APIResponseValidationError
    │   └── JSONSchemaValidationError
    ├── OpenAIError
    └── BudgetExceededError

Each but the last is also the openai SDK's class of its name (``Timeout`` its
``APITimeoutError``), where the SDK is installed, as LiteLLM's are.

Unlike ritellm's own ``APIError`` (the base of every provider error), LiteLLM's ``APIError``
is one leaf: clients that retry on it must not retry a 401. ritellm raises its own classes;
the calls of the ``litellm`` module give each error, in place, a class that is both its
ritellm class and its LiteLLM one (:func:`as_litellm`), so ``except ritellm.RateLimitError``
and ``except litellm.RateLimitError`` both catch it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .. import _exceptions as ours

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "BudgetExceededError",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "InternalServerError",
    "InvalidRequestError",
    "JSONSchemaValidationError",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "RejectedRequestError",
    "ServiceUnavailableError",
    "Timeout",
    "UnprocessableEntityError",
    "UnsupportedParamsError",
]


try:  # LiteLLM's errors are the openai SDK's too; clients catch them by those classes as well
    import openai

    _openai: Any = openai
except ImportError:  # pragma: no cover - without the SDK, nobody can catch its classes
    _openai = None


def _sdk(name: str) -> tuple[type[Exception], ...]:
    """The openai SDK's class ``name`` as a base, where the SDK is installed."""
    return (getattr(_openai, name),) if _openai is not None else ()


def _mock_response(status: int | None, headers: Any = None) -> Any:
    """An ``httpx.Response`` with the error's status and the provider's headers, no body, as
    LiteLLM's errors carry (clients read ``error.response.status_code`` and its headers:
    ``retry-after``, ``x-request-id``)."""
    import httpx

    return httpx.Response(status or 500, headers=headers)


class _LiteLLMError(Exception):
    """The root of LiteLLM's provider errors here (LiteLLM's have none of their own). Built as
    LiteLLM's are: ``message``, ``llm_provider``, ``model`` and optional ``response``, ``body``,
    ``litellm_debug_info``, ``max_retries``, ``num_retries``. Each class below is also the openai
    SDK's class of its name, where the SDK is installed, as LiteLLM's are."""

    status_code: int | None = None

    def __init__(
        self,
        message: str = "",
        llm_provider: str | None = None,
        model: str | None = None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        body: Any = None,
        **_: Any,
    ) -> None:
        Exception.__init__(self, message)  # not the SDK's, which needs an HTTP exchange
        self.message = message
        self.llm_provider = llm_provider
        self.model = model
        self.response = response if response is not None else _mock_response(self.status_code)
        self.request = None
        self.body = body
        details = body if isinstance(body, dict) else {}
        self.code, self.param, self.type = details.get("code"), details.get("param"), details.get("type")
        self.request_id = None
        self.litellm_debug_info = litellm_debug_info
        self.max_retries = max_retries
        self.num_retries = num_retries


class AuthenticationError(_LiteLLMError, *_sdk("AuthenticationError")):  # type: ignore[misc]
    status_code = 401


class PermissionDeniedError(_LiteLLMError, *_sdk("PermissionDeniedError")):  # type: ignore[misc]
    status_code = 403


class NotFoundError(_LiteLLMError, *_sdk("NotFoundError")):  # type: ignore[misc]
    status_code = 404


class BadRequestError(_LiteLLMError, *_sdk("BadRequestError")):  # type: ignore[misc]
    status_code = 400


class InvalidRequestError(_LiteLLMError, *_sdk("BadRequestError")):  # type: ignore[misc]
    status_code = 400


class ContextWindowExceededError(BadRequestError):
    pass


class ContentPolicyViolationError(BadRequestError):
    pass


class RejectedRequestError(BadRequestError):
    pass


class UnsupportedParamsError(BadRequestError):
    pass


class UnprocessableEntityError(_LiteLLMError, *_sdk("UnprocessableEntityError")):  # type: ignore[misc]
    status_code = 422


class Timeout(_LiteLLMError, *_sdk("APITimeoutError")):  # type: ignore[misc]
    status_code = 408


class RateLimitError(_LiteLLMError, *_sdk("RateLimitError")):  # type: ignore[misc]
    status_code = 429


class InternalServerError(_LiteLLMError, *_sdk("InternalServerError")):  # type: ignore[misc]
    status_code = 500


class BadGatewayError(_LiteLLMError, *_sdk("APIStatusError")):  # type: ignore[misc]
    status_code = 502


class ServiceUnavailableError(_LiteLLMError, *_sdk("APIStatusError")):  # type: ignore[misc]
    status_code = 503


class APIError(_LiteLLMError, *_sdk("APIError")):  # type: ignore[misc]
    """LiteLLM's: ``APIError(status_code, message, llm_provider, model, ...)``."""

    def __init__(
        self,
        status_code: int | None = None,
        message: str = "",
        llm_provider: str | None = None,
        model: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(message, llm_provider, model, **options)
        self.status_code = status_code


class APIConnectionError(_LiteLLMError, *_sdk("APIConnectionError")):  # type: ignore[misc]
    status_code = 500


class APIResponseValidationError(_LiteLLMError, *_sdk("APIResponseValidationError")):  # type: ignore[misc]
    status_code = 500


class JSONSchemaValidationError(APIResponseValidationError):
    pass


class OpenAIError(_LiteLLMError, *_sdk("OpenAIError")):  # type: ignore[misc]
    """LiteLLM's wrapper of an openai SDK error it could not map."""


class BudgetExceededError(Exception):
    def __init__(self, current_cost: float, max_budget: float, message: str | None = None) -> None:
        self.current_cost, self.max_budget = current_cost, max_budget
        super().__init__(
            message or f"Budget has been exceeded! Current cost: {current_cost}, Max budget: {max_budget}"
        )


#: ritellm's classes and LiteLLM's, most specific first: the first that an error is an instance
#: of decides (a 5xx other than those LiteLLM names is its APIError, below).
_CLASSES: tuple[tuple[type[ours.RitellmError], type[_LiteLLMError]], ...] = (
    (ours.ContextWindowExceededError, ContextWindowExceededError),
    (ours.ContentPolicyError, ContentPolicyViolationError),
    (ours.MissingAPIKeyError, AuthenticationError),
    (ours.InvalidRequestError, BadRequestError),
    (ours.BadRequestError, BadRequestError),
    (ours.RequestTooLargeError, BadRequestError),
    (ours.AuthenticationError, AuthenticationError),
    (ours.PermissionDeniedError, PermissionDeniedError),
    (ours.NotFoundError, NotFoundError),
    (ours.UnprocessableEntityError, BadRequestError),  # as LiteLLM maps an OpenAI-compatible 422
    (ours.RequestTimeoutError, Timeout),
    (ours.GatewayTimeoutError, Timeout),
    (ours.APITimeoutError, Timeout),
    (ours.RateLimitError, RateLimitError),
    (ours.BadGatewayError, BadGatewayError),
    (ours.ServiceUnavailableError, ServiceUnavailableError),
    (ours.StreamInterruptedError, APIConnectionError),
    (ours.APIConnectionError, APIConnectionError),
)

#: The classes whose errors carry the provider's error object as ``body``, as LiteLLM's do
#: (its other classes have None there; clients read codes from it, so none may appear that
#: LiteLLM would not give).
_WITH_BODY = frozenset({BadRequestError, ContentPolicyViolationError, RateLimitError, InternalServerError})

#: The class made for each pair, made once.
_BOTH: dict[tuple[type[ours.RitellmError], type[_LiteLLMError]], type[Any]] = {}


def _as_said(exc: BaseException) -> str:
    return getattr(exc, "_said", None) or Exception.__str__(exc)


def litellm_class(exc: ours.RitellmError) -> type[_LiteLLMError] | None:
    """The LiteLLM class for ritellm's error ``exc``, as LiteLLM maps a provider's error; None
    for errors LiteLLM has no class for (ritellm's own faults, an unknown model)."""
    for mine, theirs in _CLASSES:
        if isinstance(exc, mine):
            return theirs
    if isinstance(exc, ours.InternalServerError) and exc.status_code in (500, 529, None):
        return InternalServerError
    if isinstance(exc, (ours.APIError, ours.LimitExceededError)):
        return APIError
    return None


def as_litellm(exc: BaseException) -> BaseException:
    """``exc`` given, in place, a class that is both its ritellm class and LiteLLM's for it,
    with LiteLLM's attributes (``llm_provider``, ``model``, ``status_code``, ``body``, ...), so
    that it keeps its traceback and everything ritellm set on it. Other exceptions pass as
    they are."""
    if not isinstance(exc, ours.RitellmError) or isinstance(exc, _LiteLLMError):
        return exc
    theirs = litellm_class(exc)
    if theirs is None:
        return exc
    mine = type(exc)
    both = _BOTH.get((mine, theirs))
    if both is None:
        both = _BOTH[mine, theirs] = type(
            theirs.__name__, (mine, theirs), {"__module__": "litellm", "__str__": _as_said}
        )
    # Said as ritellm said it, before LiteLLM's attributes (a status_code for an error that had
    # no HTTP answer) would change what it says.
    exc._said = str(exc)  # type: ignore[attr-defined]
    exc.__class__ = both
    api = exc if isinstance(exc, ours.APIError) else None
    exc.llm_provider = api.provider if api else None  # type: ignore[attr-defined]
    if api is None or api.status_code is None:
        exc.status_code = theirs.status_code  # type: ignore[attr-defined]
    if api is None:
        exc.message = str(exc)  # type: ignore[attr-defined]
        exc.model = None  # type: ignore[attr-defined]
    exc.response = _mock_response(exc.status_code, api.response_headers if api else None)  # type: ignore[attr-defined]
    exc.request = None  # type: ignore[attr-defined]
    carries_body = api is not None and api.status_code is not None and theirs in _WITH_BODY
    exc.body = (  # type: ignore[attr-defined]
        {name: getattr(api, name, None) for name in ("message", "type", "param", "code")}
        if carries_body
        else None
    )
    exc.litellm_debug_info = None  # type: ignore[attr-defined]
    exc.max_retries = None  # type: ignore[attr-defined]
    exc.num_retries = (api.attempts - 1) if api else None  # type: ignore[attr-defined]
    return exc


@contextlib.contextmanager
def litellm_errors() -> Iterator[None]:
    """Gives the errors ritellm raises inside it LiteLLM's classes (:func:`as_litellm`)."""
    try:
        yield
    except ours.RitellmError as exc:
        as_litellm(exc)
        raise
