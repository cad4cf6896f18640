"""Bounds on what a provider's answer may make ritellm hold or do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Pass as ``limits=`` to a call to change them; exceeding one raises
    :class:`~ritellm.LimitExceededError` naming it.

    Attributes:
        max_response_bytes: the largest complete (non-streamed) answer, after decompression.
            A compressed answer is decompressed in slices, so a gzip bomb stops here.
        max_event_bytes: the longest server-sent-event line, and the most data in one event.
        max_depth: the deepest nesting of arrays and objects in an answer or an event
            (at most 128).
    """

    max_response_bytes: int = 32 << 20
    max_event_bytes: int = 16 << 20
    max_depth: int = 64

    @property
    def for_core(self) -> dict[str, Any]:
        """The limits the core enforces, as it takes them."""
        return {"max_event_bytes": self.max_event_bytes, "max_depth": self.max_depth}


DEFAULT_LIMITS = Limits()
