"""Commit watchdog: find partitions whose committed offset is stuck behind a hole in the acks.

Faust commits a partition up to the first offset no stream has acknowledged. If an event is
dropped between delivery and acknowledgement (seen after a consumer-group rebalance while a
`take_events` batch was in flight: docs/architecture.md, Known issues), every later offset of
that partition is processed and acked but the commit never moves again: the record is not
processed until the worker restarts, and a restart re-reads everything after it.

The watchdog looks at each partition's committed offset and the lowest acked offset above it.
When the lowest acked offset is past the committed one (a hole at the head) and the committed
offset has not moved for `stall_s`, the hole is stranded: nothing in flight will fill it (the
agents process a partition in order, so a slow batch, e.g. Elasticsearch down, holds back all
later acks and leaves no hole). The adapter then seeks the partition back to the committed
offset, so the hole is delivered again. Every sink is idempotent by post id, so the records
after the hole, delivered twice, change nothing.

Pure: the caller passes the offsets and the clock.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field


@dataclass
class CommitWatch:
    stall_s: float = 30.0
    # partition -> (committed offset, monotonic time it was first seen stuck with a hole)
    _holes: dict[Hashable, tuple[int, float]] = field(default_factory=dict)

    def check(self, offsets: Mapping[Hashable, tuple[int | None, int | None]], now: float) -> list[tuple[Hashable, int]]:
        """offsets: partition -> (committed offset = next to read, lowest acked offset not yet
        committed, or None). Returns the partitions to seek back, with the offset to seek to."""
        stranded = []
        for tp, (committed, lowest_acked) in offsets.items():
            if committed is None or lowest_acked is None or lowest_acked <= committed:
                self._holes.pop(tp, None)          # no hole at the head
                continue
            seen = self._holes.get(tp)
            if seen is None or seen[0] != committed:
                self._holes[tp] = (committed, now)     # a new hole, or the commit moved: start timing
            elif now - seen[1] >= self.stall_s:
                stranded.append((tp, committed))
                self._holes[tp] = (committed, now)     # give the redelivery time before asking again
        for tp in set(self._holes) - set(offsets):     # partitions this worker no longer has
            del self._holes[tp]
        return stranded
