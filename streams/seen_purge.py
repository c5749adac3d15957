"""Physical expiry of the worker's `seen_posts` table (post_id -> [content hash, day]).

An entry older than the horizon is already ignored when a post arrives (agents.is_known), but it
would stay on disk and in the table's compacted changelog for ever: at 200,000 posts a day that
is millions of keys a month, and a worker on a new host restores every one of them before it
moves a post. So the analyze stage sweeps its own partitions a slice at a time: after each batch
it reads the next `limit` entries of each partition the batch came from, deletes the expired ones
(a RocksDB delete and a changelog tombstone, which compaction then drops), and remembers where
it stopped; at the end of a partition it starts again from the first key.

The walk over one partition's RocksDB is here, free of Faust; the adapter in streams.agents does
the deletes through the table, under an event of the same partition.
"""
from __future__ import annotations

import json
from collections.abc import Callable


def expired(value: bytes, today: int, horizon_days: int) -> bool:
    """A stored seen_posts value (JSON [hash, day]) older than the horizon. Anything else (Faust's
    own offset record, a value from another version) is left alone."""
    try:
        _, day = json.loads(value)
        return today - int(day) > horizon_days
    except (ValueError, TypeError):
        return False


def scan(db, cursor: bytes | None, limit: int, is_expired: Callable[[bytes], bool]) -> tuple[list[bytes], bytes | None]:
    """Read up to `limit` entries of one partition's RocksDB (a rocksdict Rdict in raw mode) from
    `cursor` on. Returns the expired keys among them and where to go on next time (None: the end
    was reached, start from the first key)."""
    it = db.iter()
    if cursor is None:
        it.seek_to_first()
    else:
        it.seek(cursor)
    found, n = [], 0
    while it.valid() and n < limit:
        if is_expired(it.value()):
            found.append(it.key())
        n += 1
        it.next()
    return found, (it.key() if it.valid() else None)
