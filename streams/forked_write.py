"""Write a large in-memory structure to a file without stopping the event loop: fork, and let the
child serialise its copy-on-write view of the parent's memory and write it (as Redis's BGSAVE
does). Pickling the sequencer's repost state of 1,000,000 posts takes ~6 s of CPU holding the GIL,
so neither awaiting it nor a thread keeps indexing and alerting moving; the fork returns in
milliseconds and the child sees the state exactly as it was at the fork, consistent by
construction.

The child first lets go of what it inherited (asyncio's signal wake-up socket and handlers, so a
signal sent to it cannot reach the parent's loop; every file descriptor past stderr, so an orphan
never holds the metrics port or a broker connection), then touches nothing but the serialiser and
its own file, and leaves with os._exit. The page copies it causes are at most the size of the
structure, for as long as the child runs (~0.8 GB for 1M posts of repost state, including the
pickle). POSIX only; where fork is missing, the write happens in the caller (blocking).
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import warnings
from collections.abc import Callable
from pathlib import Path

CHILD_FAILED = 70      # EX_SOFTWARE: the child could not serialise or write
FORK_FAILED = -1       # os.fork itself failed (no memory, too many processes): nothing written
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2")
                 if hasattr(signal, name))


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file of this process's own, then rename it over `path`."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


class ForkedWriter:
    """At most one child at a time: `start` returns False (and does nothing) while one runs."""

    def __init__(self, path: Path, on_done: Callable[[int], object] = lambda code: None):
        self.path = path
        self.on_done = on_done        # called with each child's exit status (0 = written), or FORK_FAILED
        self._child: asyncio.Future | None = None

    @property
    def busy(self) -> bool:
        return self._child is not None and not self._child.done()

    def start(self, serialise: Callable[[], bytes]) -> bool:
        if self.busy:
            return False
        if not hasattr(os, "fork"):
            write_atomically(self.path, serialise())
            return True
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns about fork in a threaded process: the child here runs no
                # code that takes a lock another thread could hold (see the module docstring)
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            self.on_done(FORK_FAILED)
            return True
        if pid == 0:                                   # the child
            code = CHILD_FAILED
            try:
                _let_go_of_the_parent()
                write_atomically(self.path, serialise())
                code = 0
            finally:
                os._exit(code)
        self._child = asyncio.get_running_loop().run_in_executor(None, _exit_status, pid)
        self._child.add_done_callback(lambda done: None if done.cancelled() else self.on_done(done.result()))
        return True

    async def wait(self) -> int | None:
        """The last child's exit status (0 = written), once it has ended; None if none ran."""
        return await self._child if self._child is not None else None


def _let_go_of_the_parent() -> None:
    with contextlib.suppress(ValueError):          # only the main thread may touch signals
        signal.set_wakeup_fd(-1)
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
    os.closerange(3, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 4096)


def _exit_status(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return CHILD_FAILED
    return os.waitstatus_to_exitcode(status)
