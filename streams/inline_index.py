"""Index a batch from the analyze stage itself, or spill it to posts.enriched when Elasticsearch
is unwell.

Indexing inline saves each post a produce, a consume and a JSON round trip of the whole record,
and makes indexing part of every analyze batch (a backlog of raw posts can no longer starve a
separate index stage). The price would be that a slow or frozen node holds analysis, and with it
the mentions that feed alerting. So the write gets `timeout_s`; past it the batch is spilled to
posts.enriched (where `index_posts` writes it with its patient retries) and the next `pause_s`
of batches are spilled without trying, after which one batch probes the node again.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Write = Callable[[], Awaitable[list[tuple[str, str]]]]
Spill = Callable[[], Awaitable[None]]

INLINE, SPILLED = "inline", "spilled"


class InlineIndex:
    def __init__(self, *, timeout_s: float = 10.0, pause_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.timeout_s, self.pause_s, self.clock = timeout_s, pause_s, clock
        self.spill_until = float("-inf")

    async def __call__(self, write: Write, spill: Spill) -> tuple[str, list[tuple[str, str]]]:
        """Run `write()` (returns the (post_id, reason) pairs the node rejected) within the
        timeout: ("inline", rejected); or `spill()` (puts the batch in posts.enriched):
        ("spilled", [])."""
        if self.clock() < self.spill_until:
            await spill()
            return SPILLED, []
        try:
            rejected = await asyncio.wait_for(write(), self.timeout_s)
        except asyncio.TimeoutError:
            self.spill_until = self.clock() + self.pause_s
            log.warning("indexing took over %.0fs; spilling batches to posts.enriched for %.0fs",
                        self.timeout_s, self.pause_s)
            await spill()
            return SPILLED, []
        return INLINE, rejected
