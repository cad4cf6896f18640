"""``ritellm.install_as_litellm()``: clients written against LiteLLM, run on ritellm."""

from __future__ import annotations

import importlib
import sys


def install_as_litellm() -> None:
    """Makes ``import litellm`` give ritellm's implementation of LiteLLM's library (the calls,
    results, exceptions, settings and helpers clients built on LiteLLM use), as
    ``pymysql.install_as_MySQLdb()`` does for MySQLdb. Call it once, before the client is
    imported: ``litellm``, ``litellm.exceptions``, ``litellm.types.utils``, ``litellm.utils``,
    ``litellm.main`` and ``litellm.router`` resolve to ritellm's, even with LiteLLM installed.
    Calling it again does nothing.

    Raises:
        RuntimeError: LiteLLM itself was imported already; the modules that hold it would go on
            calling it.
    """
    shim = importlib.import_module(f"{__package__}._litellm")
    loaded = sys.modules.get("litellm")
    if loaded is shim:
        return
    if loaded is not None:
        raise RuntimeError(
            "install_as_litellm() must be called before litellm is imported (it is already: "
            f"{getattr(loaded, '__file__', loaded)!r}); call it first thing, before importing the client"
        )
    sys.modules["litellm"] = shim
    for name in shim.SUBMODULES:
        sys.modules[f"litellm.{name}"] = (
            shim._logging if name == "_logging" else importlib.import_module(f"{shim.__name__}.{name}")
        )
