"""The analyze stage's `seen_posts` state: post_id -> [content hash, day], one local RocksDB per
posts.raw partition, backed by a compacted changelog topic with the same partitions.

Faust kept this as a table, and paid ~0.45 ms of CPU per post for it (a per-record event, a
store write and a changelog send through its channel machinery, bench/faust_floor.py). The
analyze stage now reads posts.raw in batches (streams.raw_stage) and keeps the entries here:
RocksDB reads and writes by the batch, the changelog records produced straight to the producer.

The formats are Faust's (key: the post_id as a JSON string; value: JSON `[hash, day]`; the
changelog `<app id>-seen_posts-changelog`), so a worker upgraded from the table restores the
table's changelog as it is. Each partition's RocksDB remembers the changelog offset it holds up to,
so a restart reads only what other workers wrote meanwhile; a new host reads the whole (compacted,
horizon-bounded: streams.seen_purge) partition once.
"""
from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

import orjson

log = logging.getLogger(__name__)

# never a JSON string, so never a post's key; streams.seen_purge.expired leaves its value alone
OFFSET_KEY = b"__shaobing\x00changelog_next__"


def encode_key(post_id: str) -> bytes:
    """Faust's JSON key: json.dumps(post_id, ensure_ascii=False), byte for byte (tested), faster."""
    return orjson.dumps(post_id)


def encode_value(content_hash: str, day: int) -> bytes:
    return json.dumps([content_hash, day]).encode()


def decode_value(raw: bytes | None) -> list | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, list) and len(value) == 2 else None


class SeenPartition:
    """One partition's entries in a local RocksDB (rocksdict, raw mode, as Faust opened it)."""

    def __init__(self, path: Path):
        import rocksdict

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = rocksdict.Rdict(str(path), options=rocksdict.Options(raw_mode=True))
        raw = self.db.get(OFFSET_KEY)
        self.next_offset = int(raw) if raw else 0      # the changelog offset to read from

    def get(self, post_id: str) -> list | None:
        return decode_value(self.db.get(encode_key(post_id)))

    def apply(self, key: bytes, value: bytes | None, offset: int) -> None:
        """A changelog record read back (another worker's write, or this one's before a crash)."""
        if value is None:
            self.db.delete(key)
        else:
            self.db.put(key, value)
        self.next_offset = offset + 1

    def written(self, items: Iterable[tuple[bytes, bytes | None]], offsets: Iterable[int]) -> bool:
        """Entries this worker wrote to the changelog (None = a tombstone), acknowledged at
        `offsets`: stored. The offset to resume from moves past them only when they directly
        follow it; otherwise another writer's records lie in between (a partition that moved while
        a batch was in flight) and False says the partition must be caught up again."""
        import rocksdict

        batch = rocksdict.WriteBatch(raw_mode=True)
        for key, value in items:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        offsets = sorted(offsets)
        follows = bool(offsets) and offsets[0] == self.next_offset and offsets[-1] - offsets[0] + 1 == len(offsets)
        if follows:
            self.next_offset = offsets[-1] + 1
        batch.put(OFFSET_KEY, str(self.next_offset).encode())
        self.db.write(batch)
        return follows or not offsets

    def mark(self) -> None:
        self.db.put(OFFSET_KEY, str(self.next_offset).encode())

    def reset(self) -> None:
        """Forget everything (the changelog was recreated behind this store): restore from 0."""
        self.db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self.__init__(self.path)

    def keys_estimate(self) -> int:
        """RocksDB's estimate of the entries held (the offset record left out)."""
        import rocksdict

        try:
            return max(0, int(self.db.property_int_value("rocksdb.estimate-num-keys") or 0) - 1)
        except (rocksdict.DbClosedError, AttributeError, ValueError, TypeError):
            return 0

    def close(self) -> None:
        self.mark()
        self.db.close()


class SeenStore:
    """The partitions this worker has opened, by number (a Mapping-like view for the table-size
    metric: `len()` is RocksDB's estimate of the keys held)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.partitions: dict[int, SeenPartition] = {}
        self.closed = False

    def partition(self, number: int) -> SeenPartition:
        part = self.partitions.get(number)
        if part is None:
            if self.closed:
                raise RuntimeError(f"seen_posts store {self.directory} is closed")
            part = self.partitions[number] = SeenPartition(self.directory / f"seen_posts-{number}.db")
        return part

    def __len__(self) -> int:
        # read by the metrics thread while the event loop works: a copy, and a closed store is 0
        total = 0
        for part in list(self.partitions.values()):
            total += part.keys_estimate()
        return total

    def close(self) -> None:
        self.closed = True
        for part in list(self.partitions.values()):
            part.close()
        self.partitions.clear()
