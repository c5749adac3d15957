"""The analyze stage's consumer: reads posts.raw in batches, outside Faust's per-record path.

Faust hands an agent one event at a time through its conductor, channel queue and acks, ~0.26 ms
of CPU per record before any work, and its table another ~0.18 ms per entry (bench/faust_floor.py);
for posts.raw, the one high-volume topic, that was a third of the worker. This stage is a plain
consumer-group member (group `<app id>-analyze`, settings.analyze_group_id) inside the worker
process: `getmany` batches, one callback per batch (streams.agents.wire's analyze step), offsets
committed after the batch's every output was acknowledged (at-least-once, as before), and the
`seen_posts` entries kept in streams.seen_store.

A partition newly assigned to this worker is caught up from the seen_posts changelog before its
first batch (other workers may have written it since this worker last held it). The rest of the
pipeline (sequencer, index, surges, alerts) stays on Faust agents.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from aiokafka import ConsumerRebalanceListener
from mode import Service

from streams.seen_store import SeenStore

log = logging.getLogger(__name__)

Process = Callable[[list], Awaitable[None]]


class RawStage(Service):
    def __init__(self, *, servers: list[str], topic: str, changelog: str, group_id: str, store: SeenStore,
                 process: Process, partitions: int, auth: Mapping | None = None, max_records: int = 200,
                 wait_s: float = 0.2, session_timeout_s: float = 10.0, retry_s: float = 1.0,
                 declare: Callable[[], Awaitable[None]] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.servers, self.topic, self.changelog, self.group_id = servers, topic, changelog, group_id
        self.store, self.process, self.partitions = store, process, partitions
        self.auth = dict(auth or {})
        self.max_records, self.wait_s, self.retry_s = max_records, wait_s, retry_s
        self.session_timeout_s = session_timeout_s
        self.declare = declare
        self.current: set[int] = set()       # partitions caught up since they were last assigned
        self.consumer = self.reader = None

    async def on_start(self) -> None:
        from aiokafka import AIOKafkaConsumer

        if self.declare is not None:
            await self.declare()
        session_ms = int(self.session_timeout_s * 1000)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.servers, group_id=self.group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=self.max_records, session_timeout_ms=session_ms,
            heartbeat_interval_ms=max(1000, session_ms // 5), max_partition_fetch_bytes=8 * 1024 * 1024,
            **self.auth)
        # group-less: reads the seen_posts changelog, never commits
        self.reader = AIOKafkaConsumer(bootstrap_servers=self.servers, group_id=None, enable_auto_commit=False,
                                       max_partition_fetch_bytes=8 * 1024 * 1024, **self.auth)
        await self.consumer.start()
        await self.reader.start()
        self.consumer.subscribe([self.topic], listener=_Listener(self))

    async def on_stop(self) -> None:
        for client in (self.consumer, self.reader):
            if client is not None:
                await client.stop()       # the group member leaves: its partitions move at once
        self.store.close()

    @Service.task
    async def _consume(self) -> None:
        from aiokafka.errors import KafkaError

        while not self.should_stop:
            try:
                batch = await self.consumer.getmany(timeout_ms=int(self.wait_s * 1000), max_records=self.max_records)
            except KafkaError as exc:      # the client retries most faults itself; what reaches here waits
                log.warning("posts.raw not read (%s: %s); trying again in %.0fs", exc.__class__.__name__, exc, self.retry_s)
                await self.sleep(self.retry_s)
                continue
            if batch:
                await self._handle(batch)

    async def _handle(self, batch: dict) -> None:
        from aiokafka.errors import KafkaError

        try:
            for tp in batch:
                if tp.partition not in self.current:
                    await self.catch_up(tp.partition)
            await self.process([record for tp in sorted(batch, key=lambda t: t.partition) for record in batch[tp]])
        except asyncio.CancelledError:
            raise
        except Exception:      # noqa: BLE001 - any failure: the batch is read again, the stage keeps running
            log.exception("analyze batch of %d records failed; reading it again in %.0fs",
                          sum(len(r) for r in batch.values()), self.retry_s)
            assigned = self.consumer.assignment()
            for tp, recs in batch.items():
                if tp in assigned:        # a partition revoked meanwhile is its next owner's to read
                    self.consumer.seek(tp, recs[0].offset)
            await self.sleep(self.retry_s)
            return
        try:
            await self.consumer.commit({tp: recs[-1].offset + 1 for tp, recs in batch.items()})
        except KafkaError as exc:
            # a rebalance took the partitions meanwhile: their next owner reads the batch again,
            # and the seen_posts entries written above make that a no-op for the posts indexed
            log.warning("analyze batch not committed (%s); its partitions' next owner reads it again",
                        exc.__class__.__name__)

    async def catch_up(self, partition: int) -> int:
        """Apply the seen_posts changelog partition from where this worker's store stands to its
        end; returns how many records were read."""
        from aiokafka import TopicPartition

        part, tp = self.store.partition(partition), TopicPartition(self.changelog, partition)
        started = time.perf_counter()
        self.reader.assign([tp])
        begin, end = (await self.reader.beginning_offsets([tp]))[tp], (await self.reader.end_offsets([tp]))[tp]
        if part.next_offset > end:        # the changelog is younger than this store: start over
            log.warning("seen_posts store for partition %d is ahead of its changelog (%d > %d); rebuilding it",
                        partition, part.next_offset, end)
            part.reset()
        n, start = 0, max(part.next_offset, begin)
        if start < end:
            self.reader.seek(tp, start)
            while True:
                fetched = await self.reader.getmany(tp, timeout_ms=1000, max_records=20_000)
                for record in fetched.get(tp, ()):
                    part.apply(record.key, record.value, record.offset)
                    n += 1
                if await self.reader.position(tp) >= end:
                    break
        part.next_offset = max(part.next_offset, end)
        part.mark()
        self.reader.assign([])
        self.current.add(partition)
        log.info("seen_posts partition %d caught up: %d changelog records in %.1fs", partition, n,
                 time.perf_counter() - started)
        return n


class _Listener(ConsumerRebalanceListener):
    """aiokafka rebalance callbacks: a partition assigned (again) is caught up before its first
    batch. Nothing to flush on revocation: each batch is committed before the next getmany."""

    def __init__(self, stage: RawStage):
        self.stage = stage

    async def on_partitions_revoked(self, revoked) -> None:
        self.stage.current.difference_update(tp.partition for tp in revoked)

    async def on_partitions_assigned(self, assigned) -> None:
        self.stage.current.difference_update(tp.partition for tp in assigned)
