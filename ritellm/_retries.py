"""When to retry a failed attempt, and how long to wait first. Pure: no I/O, no sleeping.

- Retried: HTTP 408, 409, 429 and every 5xx (529 included), connection errors and timeouts.
- Never retried: any other status (400, 401, 403, 404, 422, ...), calls rejected before any
  I/O, and anything after the first chunk of a stream reached the caller.
- ``x-should-retry: true`` or ``false`` from the server overrides the status rule.
- The wait is ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date) when the server
  gives one of at most :data:`MAX_RETRY_AFTER` seconds, else exponential backoff from
  :data:`INITIAL_DELAY` up to :data:`MAX_DELAY` with up to 25% random jitter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

DEFAULT_MAX_RETRIES = 2
INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0

_RETRYABLE_STATUS = frozenset({408, 409, 429})


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    verdict = headers.get("x-should-retry", "").strip().lower()
    if verdict in ("true", "false"):
        return verdict == "true"
    return status in _RETRYABLE_STATUS or status >= 500


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait the server asked for, in seconds, or None if it asked for none we can read."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    import email.utils  # here: only HTTP-date values need it, and it costs an import 9 ms

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() - time.time()


def retry_delay(attempt: int, headers: Mapping[str, str] | None) -> float:
    """Seconds to wait before retry number ``attempt + 1``."""
    asked = retry_after(headers) if headers is not None else None
    if asked is not None and 0 < asked <= MAX_RETRY_AFTER:
        return asked
    backoff = min(INITIAL_DELAY * 2.0**attempt, MAX_DELAY)
    return backoff * (1 - 0.25 * random.random())
