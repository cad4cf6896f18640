"""The seam between ritellm's core operations (``ritellm._core``) and a WebAssembly engine.

An engine is the one driver of the module's boundary in its language (``core-rs/src/abi.rs``
documents that boundary): it owns the input buffer (``ritellm_input``), decodes the packed
``address << 32 | length`` answers, reads the allocation-failure flag after a trap, and enforces
the limits. The operations above it name an export, hand it bytes and get bytes back; they
never see an address. Two engines implement this: ``wasmtime.py`` on CPython (wasmtime's C
library) and ``javascript.py`` under Pyodide (the JavaScript host's ``WebAssembly``, driven by
``wasm/ritellm_core.mjs``, the same driver Node and browser users import).

An engine compiles the module once; an instance is one sandbox with its own memory, used by
one thread at a time. After a :class:`Trap`, an instance must be thrown away.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol

#: Exports an engine uses itself: the input buffer (which only engines call), and the module's
#: self-description, which says where the allocation-failure flag is.
INPUT_EXPORT = "ritellm_input"
DESCRIBE_EXPORT = "ritellm_describe"


class Settings(NamedTuple):
    #: The module's exports besides ``memory``: name -> (parameter count, result type or None).
    #: An engine refuses a module whose exports differ.
    exports: dict[str, tuple[int, str | None]]
    #: Most linear memory one instance may use; past it an allocation fails and the call traps.
    memory_limit: int
    #: Where an engine that can keep compiled code between processes keeps it.
    cache_dir: Path
    #: When no compiled code is cached: start at once on code compiled quickly, and compile
    #: optimized code (the code the cache keeps) in the background for the instances made
    #: after it is ready. Engines that compile quickly anyway ignore it.
    quick_start: bool = False


class EngineUnavailable(Exception):
    """No engine can run the module on this platform (the message says why)."""


class Trap(Exception):
    """A call into the instance stopped abnormally; the instance must be thrown away."""

    def __init__(self, message: str, *, out_of_work: bool) -> None:
        super().__init__(message)
        #: The call used up its work allowance (fuel), rather than failing in the module.
        self.out_of_work = out_of_work


class Instance(Protocol):
    def run(
        self,
        export: str,
        args: tuple[int, ...] = (),
        data: bytes | None = None,
        rest: bytes = b"",
        work: int = 0,
    ) -> bytes:
        """One operation: writes ``data`` then ``rest`` into the input buffer and passes their
        total length after ``args`` (no input, and no length, when ``data`` is None), calls
        ``export``, and returns a copy of its answer.

        ``work`` is how many bytes the call processes; it sets the work the call is allowed, and
        a call that needs far more raises :class:`Trap` with ``out_of_work`` (engines without a
        work limit ignore it). Raises :class:`Trap` for any other abnormal stop."""
        ...

    def call(self, export: str, *args: int, work: int = 0) -> int:
        """Calls an export that answers with a number or nothing (0), with no input."""
        ...

    def allocation_failed(self) -> bool:
        """After a :class:`Trap`: whether the module ran out of memory (its memory limit) rather
        than failing otherwise."""
        ...

    @property
    def superseded(self) -> bool:
        """Whether the engine now makes instances with better code than this one's (see
        ``Settings.quick_start``): its owner may replace it when it holds no state it needs."""
        ...


class Engine(Protocol):
    def instantiate(self) -> Instance: ...
