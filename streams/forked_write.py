"""Write a large in-memory structure to a file without stopping the event loop: fork, and let the
child serialise its copy-on-write view of the parent's memory and write it (as Redis's BGSAVE
does). Pickling the sequencer's repost state of 1,000,000 posts takes ~6 s of CPU holding the GIL,
so neither awaiting it nor a thread keeps indexing and alerting moving; the fork returns in
milliseconds and the child sees the state exactly as it was at the fork, consistent by
construction.

The child touches nothing but the serialiser and the file (no logging, no sockets, no locks other
threads may hold) and leaves with os._exit. The page copies it causes are at most the size of the
structure, for as long as the child runs. POSIX only; where fork is missing, the write happens in
the caller (blocking), as before.
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

CHILD_FAILED = 70      # EX_SOFTWARE: the child could not serialise or write


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


class ForkedWriter:
    """At most one child at a time: `start` returns False (and does nothing) while one runs."""

    def __init__(self, path: Path, on_done: Callable[[int], object] = lambda code: None):
        self.path = path
        self.on_done = on_done        # called with each child's exit status (0 = written)
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
        pid = os.fork()
        if pid == 0:                                   # the child
            code = CHILD_FAILED
            try:
                write_atomically(self.path, serialise())
                code = 0
            finally:
                os._exit(code)
        self._child = asyncio.get_running_loop().run_in_executor(None, _exit_status, pid)
        self._child.add_done_callback(lambda done: self.on_done(done.result()))
        return True

    async def wait(self) -> int | None:
        """The last child's exit status (0 = written), once it has ended; None if none ran."""
        return await self._child if self._child is not None else None


def _exit_status(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
