"""Every error ritellm raises.

::

    RitellmError
    ├── InvalidRequestError (also ValueError)   the call itself is wrong; nothing was sent
    │   ├── UnsupportedProviderError            unknown or missing model prefix
    │   └── MissingAPIKeyError                  no key argument and no key variable set
    ├── APIError                                the provider failed the call
    │   ├── APIConnectionError                  no answer: refused, reset, DNS, TLS
    │   │   └── APITimeoutError
    │   ├── InvalidResponseError                an answer ritellm cannot read
    │   ├── StreamInterruptedError              a stream ended before its end marker
    │   └── APIStatusError                      the provider answered with an error status
    │       ├── BadRequestError                 400
    │       │   ├── ContextWindowExceededError  the prompt does not fit the model
    │       │   └── ContentPolicyError          refused by the provider's content policy
    │       ├── AuthenticationError             401
    │       ├── PermissionDeniedError           403
    │       ├── NotFoundError                   404
    │       ├── RequestTimeoutError             408
    │       ├── ConflictError                   409
    │       ├── RequestTooLargeError            413
    │       ├── UnprocessableEntityError        422
    │       ├── RateLimitError                  429
    │       │   └── NoDeploymentAvailableError  a Router's deployments all cool down or are at their limits
    │       └── InternalServerError             500 and any other 5xx
    │           ├── BadGatewayError             502
    │           ├── ServiceUnavailableError     503
    │           ├── GatewayTimeoutError         504
    │           └── OverloadedError             529
    ├── UnknownModelError (also LookupError)    the model table has no entry for the model
    ├── LimitExceededError                      an answer broke one of ritellm's size limits
    ├── UnsupportedPlatformError                this platform cannot run the core, or this kind of call
    └── InternalError                           the core failed; a bug in ritellm

The core reports errors as data whose ``kind`` comes from a closed list;
:func:`from_core` maps each kind (and, for provider errors, the status) to one class.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "ConflictError",
    "ContentPolicyError",
    "ContextWindowExceededError",
    "GatewayTimeoutError",
    "InternalError",
    "InternalServerError",
    "InvalidRequestError",
    "InvalidResponseError",
    "LimitExceededError",
    "MissingAPIKeyError",
    "NoDeploymentAvailableError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "RitellmError",
    "ServiceUnavailableError",
    "StreamInterruptedError",
    "UnknownModelError",
    "UnprocessableEntityError",
    "UnsupportedPlatformError",
    "UnsupportedProviderError",
]


#: Secrets shorter than this are not searched for: replacing a one-letter key would mangle
#: every message ("not known" becoming "not [redacted]nown"), and no provider issues such keys.
MIN_SECRET_LENGTH = 8


class RitellmError(Exception):
    """The root of every error ritellm raises."""

    #: For an embedding call split into several requests: the positions of the inputs the
    #: failed request carried (the call returns nothing for any of them).
    failed_inputs: range | None = None

    def redact(self, secrets: tuple[str, ...]) -> None:
        """Replaces each secret with ``[redacted]`` wherever the error shows text: its
        arguments, notes and, for :class:`APIError`, every field that came from the server.
        Request signatures (SigV4's ``Signature=``) and the user name and password of any URL
        are redacted whatever ``secrets`` holds."""
        secrets = tuple(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)
        self.args = tuple(_redacted(a, secrets) for a in self.args)
        notes = getattr(self, "__notes__", None)
        if isinstance(notes, list):
            notes[:] = [_redacted(note, secrets) for note in notes]


#: Where the core cut a quoted text short.
CUT_MARK = "\u2026"
#: The shortest start of a secret redacted before a cut mark: shorter ones tell nothing.
MIN_CUT_PREFIX = 3
#: A request signature echoed back (SigV4: ``Signature=<64 hex>``, or its start before a cut).
_SIGNATURE = re.compile(r"(?i)(signature=)[0-9a-f]+")
#: The user name and password of a URL (a proxy's, from ``HTTPS_PROXY``), as a library quotes it.
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/\s@'\"]+@")


def redacted(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` as an error may show it: without ``secrets`` or request signatures. Redact a
    text before cutting it, or a cut may leave the start of a secret."""
    return str(_redacted(text, tuple(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)))


def _redacted(text: Any, secrets: tuple[str, ...]) -> Any:
    if not isinstance(text, str):
        return text
    for secret in secrets:  # in any case: a server or a message may have changed it
        text = re.sub(re.escape(secret), "[redacted]", text, flags=re.IGNORECASE)
    if CUT_MARK in text and secrets:  # a cut can leave the start of a secret before its mark
        pieces = text.split(CUT_MARK)
        text = CUT_MARK.join([*(_without_secret_start(p, secrets) for p in pieces[:-1]), pieces[-1]])
    return _USERINFO.sub(r"\1[redacted]@", _SIGNATURE.sub(r"\1[redacted]", text))


def _without_secret_start(piece: str, secrets: tuple[str, ...]) -> str:
    """``piece`` without the start of a secret it ends with."""
    for secret in secrets:
        for length in range(min(len(secret) - 1, len(piece)), MIN_CUT_PREFIX - 1, -1):
            if piece.lower().endswith(secret[:length].lower()):
                return piece[:-length] + "[redacted]"
    return piece


class InvalidRequestError(RitellmError, ValueError):
    """The call is malformed; nothing was sent."""


class UnsupportedProviderError(InvalidRequestError):
    """The model string's prefix names no provider ritellm supports."""


class MissingAPIKeyError(InvalidRequestError):
    """The provider needs a key and none was given or found in its environment variable."""


class UnknownModelError(RitellmError, LookupError):
    """ritellm's model table (costs, context windows, capabilities) has no entry for the model;
    ``ritellm.register_model`` adds one."""


class LimitExceededError(RitellmError):
    """An answer exceeded one of ritellm's size limits."""


class UnsupportedPlatformError(RitellmError):
    """No WebAssembly engine that ritellm can use runs here, or the runtime cannot make this
    kind of call (a sync call in Node without JavaScript Promise Integration); the message names
    the platform and what would work."""


class InternalError(RitellmError):
    """The sandboxed core failed. This is a bug in ritellm; please report it."""


class APIError(RitellmError):
    """The provider did not complete the call.

    Attributes are ``None`` where the provider did not say.
    """

    status_code: int | None = None
    #: Seconds the provider asked to wait before retrying (``Retry-After``), if it said.
    retry_after: float | None = None
    #: The headers of the provider's error answer, where one came (names lower-cased, the
    #: call's credentials removed from the values).
    response_headers: Mapping[str, str] | None = None
    #: How many times the call was tried, and over how many seconds, when it was retried.
    attempts: int = 1
    elapsed: float | None = None

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        status_code: int | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        if status_code is not None:
            self.status_code = status_code
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id

    def after_attempts(self, attempts: int, seconds: float) -> None:
        """Records that the call was tried ``attempts`` times over ``seconds``; ``str`` says so."""
        self.attempts, self.elapsed = attempts, seconds

    def redact(self, secrets: tuple[str, ...]) -> None:
        super().redact(secrets)
        secrets = tuple(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)
        for field in ("message", "provider", "model", "type", "code", "param", "request_id"):
            setattr(self, field, _redacted(getattr(self, field), secrets))

    def __str__(self) -> str:
        where = f"{self.provider}/{self.model}" if self.provider else None
        status = f"HTTP {self.status_code}" if self.status_code else None
        parts = [p for p in (where, status, self.type, self.code) if p]
        head = f"[{' '.join(parts)}] " if parts else ""
        notes = [f"request id {self.request_id}"] if self.request_id else []
        if self.attempts > 1 and self.elapsed is not None:
            notes.append(f"after {self.attempts} attempts in {self.elapsed:.1f} s")
        tail = f" ({'; '.join(notes)})" if notes else ""
        return f"{head}{self.message}{tail}"


class APIConnectionError(APIError):
    """The provider could not be reached, or the connection failed before an answer."""


class APITimeoutError(APIConnectionError):
    """The call ran out of time."""


class InvalidResponseError(APIError):
    """The provider answered with something ritellm cannot read."""


class StreamInterruptedError(APIError):
    """The stream stopped before the provider's end-of-stream marker.

    The chunks already yielded stay valid; ``delivered_chunks`` says how many there were.
    """

    delivered_chunks = 0


class APIStatusError(APIError):
    """The provider answered with an error status."""


class BadRequestError(APIStatusError):
    status_code = 400


class ContextWindowExceededError(BadRequestError):
    """The prompt and requested output do not fit the model's context window."""


class ContentPolicyError(BadRequestError):
    """The provider refused the request under its content policy."""


class AuthenticationError(APIStatusError):
    status_code = 401


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class RequestTimeoutError(APIStatusError):
    status_code = 408


class ConflictError(APIStatusError):
    status_code = 409


class RequestTooLargeError(APIStatusError):
    status_code = 413


class UnprocessableEntityError(APIStatusError):
    status_code = 422


class RateLimitError(APIStatusError):
    status_code = 429


class NoDeploymentAvailableError(RateLimitError):
    """A :class:`~ritellm.Router` found no deployment to send the call to, nor a fallback: each
    cools down after failures or is at its rpm/tpm limit for longer than the call may wait.
    ``deployments`` maps each one's label (``"gpt-4o[1]"``) to the clock time it is free again
    (None where unknown); ``retry_after`` is the seconds until the first is."""

    status_code = None  # type: ignore[assignment]
    deployments: dict[str, float | None] = {}  # noqa: RUF012


class InternalServerError(APIStatusError):
    status_code = 500


class BadGatewayError(InternalServerError):
    status_code = 502


class ServiceUnavailableError(InternalServerError):
    status_code = 503


class GatewayTimeoutError(InternalServerError):
    status_code = 504


class OverloadedError(InternalServerError):
    status_code = 529


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    cls.status_code: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        RequestTimeoutError,
        ConflictError,
        RequestTooLargeError,
        UnprocessableEntityError,
        RateLimitError,
        InternalServerError,
        BadGatewayError,
        ServiceUnavailableError,
        GatewayTimeoutError,
        OverloadedError,
    )
    if cls.status_code is not None
}

#: One class per error kind of the core; ``api_error`` is refined by status.
KIND_CLASSES: dict[str, type[RitellmError]] = {
    "invalid_request": InvalidRequestError,
    "unsupported_provider": UnsupportedProviderError,
    "api_error": APIError,
    "context_window_exceeded": ContextWindowExceededError,
    "content_policy": ContentPolicyError,
    "invalid_response": InvalidResponseError,
    "stream_incomplete": StreamInterruptedError,
    "limit_exceeded": LimitExceededError,
}


def status_class(status: int | None) -> type[APIError]:
    """The class for an error answer with HTTP ``status`` (``APIError`` when unknown)."""
    if status is None:
        return APIError
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return InternalServerError
    return APIStatusError


def from_core(error: Mapping[str, Any]) -> RitellmError:
    """Builds the exception for an error the core reported as data."""
    cls = KIND_CLASSES.get(error.get("kind", ""), InternalError)
    message = str(error.get("message", ""))
    if not issubclass(cls, APIError):
        return cls(message)
    status = error.get("status")
    if cls is APIError:
        cls = status_class(status)
    return cls(
        message,
        provider=error.get("provider"),
        model=error.get("model"),
        # A success status whose body reports an error raises what the error's type stands for,
        # and says what the server sent.
        status_code=error.get("sent_status", status),
        type=error.get("type"),
        code=error.get("code"),
        param=error.get("param"),
    )
