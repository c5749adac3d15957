"""streams.inline_index: index inline, spill to posts.enriched when Elasticsearch is slow, and
probe again after a pause."""
import asyncio

from streams.inline_index import INLINE, SPILLED, InlineIndex


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def run(coro):
    return asyncio.run(coro)


def test_a_healthy_node_indexes_inline_and_returns_its_rejections():
    written, spilled = [], []

    async def write(docs):
        written.append(dict(docs))
        return [("b", "elasticsearch 400: mapper_parsing_exception: bad")]

    async def spill(ids):
        spilled.append(ids)

    how, rejected = run(InlineIndex(write, timeout_s=1)({"a": {}, "b": {}}, spill))
    assert (how, rejected) == (INLINE, [("b", "elasticsearch 400: mapper_parsing_exception: bad")])
    assert written == [{"a": {}, "b": {}}] and spilled == []


def test_a_slow_node_spills_the_batch_then_the_next_ones_without_trying_until_the_pause_ends():
    clock, calls, spilled = Clock(), [], []
    slow = {"on": True}

    async def write(docs):
        calls.append(list(docs))
        if slow["on"]:
            await asyncio.sleep(5)
        return []

    async def spill(ids):
        spilled.append(ids)

    index = InlineIndex(write, timeout_s=0.05, pause_s=30, clock=clock)

    async def scenario():
        out = [await index({"a": {}}, spill)]
        clock.t += 29
        out.append(await index({"b": {}}, spill))       # inside the pause: not tried
        clock.t += 2
        slow["on"] = False
        out.append(await index({"c": {}}, spill))       # the probe finds the node well again
        return out

    assert run(scenario()) == [(SPILLED, []), (SPILLED, []), (INLINE, [])]
    assert calls == [["a"], ["c"]]
    assert spilled == [["a"], ["b"]]


def test_an_empty_batch_writes_nothing():
    async def write(docs):
        raise AssertionError("no write for an empty batch")

    async def spill(ids):
        raise AssertionError("no spill for an empty batch")

    assert run(InlineIndex(write)({}, spill)) == (INLINE, [])
