"""streams.forked_write: a forked child writes what the state was at the fork, the caller goes on."""
from __future__ import annotations

import asyncio
import os
import pickle

from streams.forked_write import CHILD_FAILED, ForkedWriter


def test_the_child_writes_the_state_as_it_was_at_the_fork(tmp_path):
    path = tmp_path / "state.pickle"
    state = {"posts": list(range(1000))}
    codes = []

    async def scenario():
        writer = ForkedWriter(path, on_done=codes.append)
        assert writer.start(lambda: pickle.dumps(state))
        state["posts"].append("after the fork")      # the parent goes on changing its state
        assert await writer.wait() == 0

    asyncio.run(scenario())
    assert pickle.loads(path.read_bytes()) == {"posts": list(range(1000))}
    assert codes == [0]
    assert list(tmp_path.iterdir()) == [path]


def test_one_child_at_a_time_and_a_failure_is_reported_without_touching_the_file(tmp_path):
    path = tmp_path / "state.pickle"
    path.write_bytes(b"the previous snapshot")
    codes = []

    def slow_then_fail() -> bytes:
        import time
        time.sleep(0.5)
        raise ValueError("cannot serialise")

    async def scenario():
        writer = ForkedWriter(path, on_done=codes.append)
        assert writer.start(slow_then_fail)
        assert writer.busy and not writer.start(lambda: b"second")     # refused while the first runs
        assert await writer.wait() == CHILD_FAILED
        assert not writer.busy

    asyncio.run(scenario())
    assert codes == [CHILD_FAILED]
    assert path.read_bytes() == b"the previous snapshot"


def test_the_child_lets_go_of_the_parents_signals_and_sockets(tmp_path):
    """A signal sent to the child must not reach the parent's loop (asyncio's wake-up socket), and
    an orphaned child must not hold the parent's sockets (the metrics port, broker connections)."""
    import signal
    import socket

    path = tmp_path / "state.pickle"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def report() -> bytes:
        try:
            os.fstat(listener.fileno())
            inherited = "open"
        except OSError:
            inherited = "closed"
        return pickle.dumps((inherited, signal.set_wakeup_fd(-1), signal.getsignal(signal.SIGUSR1)))

    async def scenario():
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, lambda: None)   # sets the wake-up fd
        writer = ForkedWriter(path)
        assert writer.start(report)
        assert await writer.wait() == 0

    try:
        asyncio.run(scenario())
    finally:
        listener.close()
    assert pickle.loads(path.read_bytes()) == ("closed", -1, signal.SIG_DFL)
    assert list(tmp_path.iterdir()) == [path]         # the child's temporary file was renamed
