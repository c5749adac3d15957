"""streams.forked_write: a forked child writes what the state was at the fork, the caller goes on."""
from __future__ import annotations

import asyncio
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
    assert not (tmp_path / "state.pickle.tmp").exists()


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
