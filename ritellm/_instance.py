"""This thread's core, imported on first use, so that ``import ritellm`` loads neither an
engine nor the module (``_core`` does that)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._core import Core


def loaded() -> bool:
    """Whether the engine is loaded and the module compiled, without importing anything."""
    # While another thread imports it, the module is in sys.modules half made: not loaded yet.
    is_loaded = getattr(sys.modules.get(f"{__package__}._core"), "loaded", None)
    return is_loaded is not None and bool(is_loaded())


def load() -> None:
    """Loads the engine and compiles the module: tens of milliseconds, best spent off an event loop."""
    from ._core import load as load_now

    load_now()


def core() -> Core:
    """This thread's core instance."""
    from ._core import core as this_threads_core

    return this_threads_core()
