"""streams.inline_index: index inline, spill to posts.enriched when Elasticsearch is slow, and
probe again after a pause."""
import asyncio

from streams.inline_index import INLINE, SPILLED, InlineIndex


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_a_healthy_node_indexes_inline_and_returns_its_rejections():
    spilled = []

    async def write():
        return [("b", "elasticsearch 400: mapper_parsing_exception: bad")]

    async def spill():
        spilled.append(True)

    how, rejected = asyncio.run(InlineIndex(timeout_s=1)(write, spill))
    assert (how, rejected) == (INLINE, [("b", "elasticsearch 400: mapper_parsing_exception: bad")])
    assert spilled == []


def test_a_slow_node_spills_the_batch_then_the_next_ones_without_trying_until_the_pause_ends():
    clock, calls, spilled = Clock(), [], []
    slow = {"on": True}

    def batch(name):
        async def write():
            calls.append(name)
            if slow["on"]:
                await asyncio.sleep(5)
            return []

        async def spill():
            spilled.append(name)
        return write, spill

    index = InlineIndex(timeout_s=0.05, pause_s=30, clock=clock)

    async def scenario():
        out = [await index(*batch("a"))]
        clock.t += 29
        out.append(await index(*batch("b")))       # inside the pause: not tried
        clock.t += 2
        slow["on"] = False
        out.append(await index(*batch("c")))       # the probe finds the node well again
        return out

    assert asyncio.run(scenario()) == [(SPILLED, []), (SPILLED, []), (INLINE, [])]
    assert calls == ["a", "c"]
    assert spilled == ["a", "b"]
