"""``litellm.router``: ritellm's :class:`~ritellm.Router`, its calls LiteLLM's."""

from __future__ import annotations

from typing import Any

from .._router import Router as _RitellmRouter
from .exceptions import litellm_errors
from .main import litellm_result

__all__ = ["Router"]


class Router(_RitellmRouter):
    """:class:`ritellm.Router` with LiteLLM's result types and exception classes."""

    __module__ = "litellm"

    def completion(self, *args: Any, **kwargs: Any) -> Any:
        with litellm_errors():
            return litellm_result(super().completion(*args, **kwargs))

    async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
        with litellm_errors():
            return litellm_result(await super().acompletion(*args, **kwargs))

    def embedding(self, *args: Any, **kwargs: Any) -> Any:
        with litellm_errors():
            return litellm_result(super().embedding(*args, **kwargs))

    async def aembedding(self, *args: Any, **kwargs: Any) -> Any:
        with litellm_errors():
            return litellm_result(await super().aembedding(*args, **kwargs))

    def responses(self, *args: Any, **kwargs: Any) -> Any:
        with litellm_errors():
            return litellm_result(super().responses(*args, **kwargs))

    async def aresponses(self, *args: Any, **kwargs: Any) -> Any:
        with litellm_errors():
            return litellm_result(await super().aresponses(*args, **kwargs))
