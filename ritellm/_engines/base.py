"""The interface between ritellm's core operations (``ritellm._core``) and a WebAssembly engine.

An engine compiles the module once; an instance is one sandbox with its own memory, used by one
thread at a time. The operations above know exports by name, addresses and lengths; nothing
else about the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol


class Settings(NamedTuple):
    #: The module's exports besides ``memory``: name -> (parameter count, result type or None).
    #: An engine refuses a module whose exports differ.
    exports: dict[str, tuple[int, str | None]]
    #: Most linear memory one instance may use; past it an allocation fails and the call traps.
    memory_limit: int
    #: Where an engine that can keep compiled code between processes keeps it.
    cache_dir: Path


class EngineUnavailable(Exception):
    """No engine can run the module on this platform (the message says why)."""


class Trap(Exception):
    """A call into the instance stopped abnormally; the instance must be thrown away."""

    def __init__(self, message: str, *, out_of_work: bool) -> None:
        super().__init__(message)
        #: The call used up its work allowance (fuel), rather than failing in the module.
        self.out_of_work = out_of_work


class Instance(Protocol):
    def call(self, export: str, *args: int, input_size: int = 0) -> int:
        """Calls an export with i32 arguments; returns its result as an unsigned integer.

        ``input_size`` is how many input bytes the call processes, which sets the work it is
        allowed; a call that needs far more raises :class:`Trap` with ``out_of_work``.
        """

    def run(
        self, export: str, args: tuple[int, ...], address: int, data: bytes | None, rest: bytes, work: int
    ) -> bytes:
        """One operation, in one crossing where crossings cost: writes ``data`` then ``rest`` at
        ``address`` and passes their total length after ``args`` (no input if ``data`` is None),
        calls ``export``, and returns the bytes its result points at (address << 32 | length).
        ``work`` is the ``input_size`` of :meth:`call`."""

    def read(self, address: int, length: int) -> bytes:
        """Raises :class:`Trap` if the range lies outside the instance's memory."""


class Engine(Protocol):
    def instantiate(self) -> Instance: ...
