"""``litellm.router``: ritellm's :class:`~ritellm.Router`, its calls LiteLLM's."""

from __future__ import annotations

from typing import Any

from .. import _exceptions
from .._router import Router as _RitellmRouter
from .exceptions import as_litellm
from .main import _answered

__all__ = ["Router"]


class Router(_RitellmRouter):
    """:class:`ritellm.Router` with LiteLLM's result types and exception classes."""

    __module__ = "litellm"

    def completion(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return _answered(super().completion(*args, **kwargs))
        except _exceptions.RitellmError as exc:
            as_litellm(exc)
            raise

    async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return _answered(await super().acompletion(*args, **kwargs))
        except _exceptions.RitellmError as exc:
            as_litellm(exc)
            raise

    def embedding(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return _answered(super().embedding(*args, **kwargs))
        except _exceptions.RitellmError as exc:
            as_litellm(exc)
            raise

    async def aembedding(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return _answered(await super().aembedding(*args, **kwargs))
        except _exceptions.RitellmError as exc:
            as_litellm(exc)
            raise

    def responses(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return _answered(super().responses(*args, **kwargs))
        except _exceptions.RitellmError as exc:
            as_litellm(exc)
            raise

    async def aresponses(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return _answered(await super().aresponses(*args, **kwargs))
        except _exceptions.RitellmError as exc:
            as_litellm(exc)
            raise
