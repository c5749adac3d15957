"""The analyze stage's consumer: reads posts.raw in batches, outside Faust's per-record path.

Faust hands an agent one event at a time through its conductor, channel queue and acks, ~0.26 ms
of CPU per record before any work, and its table another ~0.18 ms per entry (bench/faust_floor.py);
for posts.raw, the one high-volume topic, that was a third of the worker. This stage is a plain
consumer-group member (group `<app id>-analyze`, settings.analyze_group_id) inside the worker
process: `getmany` batches, one callback per batch (streams.agents.wire's analyze step), offsets
committed after the batch's every output was acknowledged (at-least-once, as before), and the
`seen_posts` entries kept in streams.seen_store.

Rebalances: aiokafka runs the group protocol in its own task, so a rebalance can start while a
batch is being processed; the revocation callback waits for that batch to be committed (bounded)
before the partitions move, so two workers never process one partition at once. A partition
newly assigned is caught up from the seen_posts changelog before its first batch. On the first
start of the group (an upgrade from the worker that read posts.raw in the Faust app's group), a
partition without a committed offset starts where the Faust group stopped, not at the log's
beginning.

Two batches at a time: `process(records)` does a batch's CPU-bound part (parse, dedup, analyse)
and returns the rest as a coroutine function (`finish`: wait for acknowledgements, index, cluster
keys, seen_posts entries), which runs while the next batch is fetched and analysed. Finishes run
one after another, in the order of their batches, and a batch is committed when its finish is
done. A batch prepared while the one before it failed is dropped and read again with it.

Batch size: posts become searchable a batch at a time, so a batch should take about
`batch_target_s` to prepare whatever the machine's load: the next batch asks for as many records
as the last ones were prepared in that time (between `min_records` and `max_records`). On a quiet
machine that is the whole `max_records`; when the analysis slows (a loaded host, long posts) the
batches shrink, and indexing does not stand still for seconds at a time during a backlog.

Failures: a Kafka error (broker down, produce refused) retries the batch with backoff, for ever:
the posts are safe in the log. Any other exception is a record the code cannot handle: after
`isolate_after` attempts the batch is processed one record at a time and the records that still
fail go to the dead-letter topic, so one poison record cannot stall its partition.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import NamedTuple

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from mode import Service

from streams.seen_store import SeenStore

log = logging.getLogger(__name__)

Finish = Callable[[], Awaitable[None]]
# a batch's CPU-bound part; returns the rest, run while the next batch is prepared, and the ids of
# the posts it holds (RawStage.pending); None: nothing left
Process = Callable[[list], Awaitable[tuple[Finish, Collection[str]] | None]]
Poison = Callable[[object, BaseException], Awaitable[None]]
# a catch-up fetch that brings nothing this many times in a row ends the catch-up: the records
# left before the end offset were compacted away
EMPTY_FETCHES = 3
CHANGELOG_BATCH_BYTES = 512 * 1024


class RawStage(Service):
    def __init__(self, *, servers: list[str], topic: str, changelog: str, group_id: str, store: SeenStore,
                 process: Process, poison: Poison | None = None, auth: Mapping | None = None,
                 max_records: int = 200, min_records: int = 50, batch_target_s: float = 0.5,
                 wait_s: float = 0.2, session_timeout_s: float = 10.0,
                 retry_s: float = 1.0, max_retry_s: float = 30.0, isolate_after: int = 3,
                 revoke_wait_s: float = 60.0, fallback_group: str | None = None,
                 declare: Callable[[], Awaitable[None]] | None = None, on_retry: Callable[[str], None] | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.servers, self.topic, self.changelog, self.group_id = servers, topic, changelog, group_id
        self.store, self.process, self.poison = store, process, poison
        self.auth = dict(auth or {})
        self.max_records, self.wait_s = max_records, wait_s
        self.min_records, self.batch_target_s = min(min_records, max_records), batch_target_s
        self.batch_records = max_records     # what the next getmany asks for (module docstring)
        self.waited_s = 0.0                  # spent in wait_inflight, so far
        self.retry_s, self.max_retry_s, self.isolate_after = retry_s, max_retry_s, isolate_after
        self.session_timeout_s, self.revoke_wait_s = session_timeout_s, revoke_wait_s
        self.fallback_group, self.declare, self.on_retry = fallback_group, declare, on_retry
        self.current: set[int] = set()       # partitions caught up since they were last assigned
        self.busy = asyncio.Lock()           # held while a batch is processed and committed
        self.closing = False
        self.failures: dict[tuple, int] = {}   # a failing batch (its first offsets) -> attempts so far
        self.consumer = self.reader = self.producer = None
        self._fallback_offsets: dict | None = None
        self.inflight: _InFlight | None = None     # the batch whose finish runs in the background

    async def on_start(self) -> None:
        if self.declare is not None:
            await self.declare()
        session_ms = int(self.session_timeout_s * 1000)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.servers, group_id=self.group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=self.max_records, session_timeout_ms=session_ms,
            heartbeat_interval_ms=max(1000, session_ms // 5), max_partition_fetch_bytes=8 * 1024 * 1024,
            # a new host catches a partition's seen_posts up before its first batch: minutes at most
            max_poll_interval_ms=600_000, **self.auth)
        # group-less: reads the seen_posts changelog, never commits
        self.reader = AIOKafkaConsumer(bootstrap_servers=self.servers, group_id=None, enable_auto_commit=False,
                                       auto_offset_reset="earliest", max_partition_fetch_bytes=8 * 1024 * 1024,
                                       **self.auth)
        # the seen_posts changelog records, a produce batch per partition and analyze batch (a
        # send() per record cost more than the store's own work)
        self.producer = AIOKafkaProducer(bootstrap_servers=self.servers, acks="all", max_batch_size=CHANGELOG_BATCH_BYTES,
                                         **self.auth)
        await self.consumer.start()
        await self.reader.start()
        await self.producer.start()
        self.consumer.subscribe([self.topic], listener=_Listener(self))

    async def on_stop(self) -> None:
        self.closing = True
        held = False
        try:       # the batches in flight finish (and commit) first
            await asyncio.wait_for(self.busy.acquire(), self.revoke_wait_s)
            held = True
            await asyncio.wait_for(self.settle(wait=False), self.revoke_wait_s)
        except asyncio.TimeoutError:
            log.warning("analyze batch still running after %.0fs at shutdown; it will be read again", self.revoke_wait_s)
        for client in (self.consumer, self.reader, self.producer):
            if client is not None:
                await client.stop()       # the group member leaves: its partitions move at once
        self.store.close()
        if held:
            self.busy.release()

    @Service.task
    async def _consume(self) -> None:
        while not self.should_stop and not self.closing:
            try:
                batch = await self.consumer.getmany(timeout_ms=int(self.wait_s * 1000), max_records=self.batch_records)
            except KafkaError as exc:      # the client retries most faults itself; what reaches here waits
                log.warning("posts.raw not read (%s: %s); trying again in %.0fs", exc.__class__.__name__, exc, self.retry_s)
                await self.sleep(self.retry_s)
                continue
            async with self.busy:
                if self.closing:
                    break
                if batch:
                    await self._handle(batch)
                else:          # nothing new: the batch in flight is committed now, not after the next one
                    await self.settle()

    def size_next(self, records: int, seconds: float) -> None:
        """The next batch's size from how long this one took to prepare, moving halfway to its
        target at a time."""
        if records < self.min_records:
            return        # a few records (the backlog ran out) say little about the rate
        if self.failures:
            # a batch being retried keeps its size, so it is read again with the same partitions
            # and first offsets: the same key, and its attempts count towards isolation
            return
        target = records * self.batch_target_s / max(seconds, 1e-3)
        size = (self.batch_records + target) / 2
        self.batch_records = int(min(self.max_records, max(self.min_records, size)))

    async def _handle(self, batch: dict) -> None:
        """Prepare a batch, settle the one in flight, and set this one's finish running."""
        if any(tp.partition not in self.current for tp in batch) and not await self.settle(also=batch):
            return        # a partition to catch up: the batch in flight writes seen_posts entries first
        try:
            for tp in [tp for tp in batch if tp.partition not in self.current]:
                await self.catch_up(tp.partition)
                start = await self.fallback_start(tp)
                if start is not None and start > batch[tp][0].offset:     # before where the old group stopped
                    batch[tp] = [r for r in batch[tp] if r.offset >= start]
                    if not batch[tp]:
                        del batch[tp]
                        self.consumer.seek(tp, start)
        except KafkaError as exc:
            log.warning("seen_posts not caught up (%s: %s); reading the batch again in %.0fs",
                        exc.__class__.__name__, exc, self.retry_s)
            self._read_again(batch)
            await self.sleep(self.retry_s)
            return
        if not batch:
            return
        records = [record for tp in sorted(batch, key=lambda t: t.partition) for record in batch[tp]]
        key = tuple(sorted((tp.partition, recs[0].offset) for tp, recs in batch.items()))
        attempts = self.failures.get(key, 0)
        if attempts >= self.isolate_after and self.poison is not None:
            # one record at a time, inline: nothing is prepared or in flight beside it
            if await self.settle(also=batch):
                self.inflight = _InFlight(batch, key, attempts, asyncio.ensure_future(self._each(records)), ())
                await self.settle()
            return
        try:
            started, waited = time.perf_counter(), self.waited_s
            prepared = await self.process(records)
            self.size_next(len(records), time.perf_counter() - started - (self.waited_s - waited))
        except asyncio.CancelledError:
            raise
        except Exception as exc:      # noqa: BLE001 - any failure: the batch is read again, the stage keeps running
            if await self.settle(also=batch):
                await self._failed(batch, key, attempts, exc)
            return
        if not await self.settle(also=batch):
            return        # the batch before it failed: both are read again
        finish, post_ids = prepared or (None, ())
        self.inflight = _InFlight(batch, key, attempts, asyncio.ensure_future(finish() if finish else _nothing()),
                                  frozenset(post_ids))

    async def settle(self, also: dict | None = None, wait: bool = True) -> bool:
        """Wait for the batch in flight and commit it; when it failed, read it (and `also`, a
        batch prepared meanwhile) again, after a backoff unless `wait` is False. True when
        nothing failed."""
        inflight, self.inflight = self.inflight, None
        if inflight is None:
            return True
        try:
            await inflight.task
        except asyncio.CancelledError:
            raise
        except Exception as exc:      # noqa: BLE001 - the batch is read again, the stage keeps running
            if also is not None:
                self._read_again(also)        # first: the failed batch's earlier offsets win below
            await self._failed(inflight.batch, inflight.key, inflight.attempts, exc, wait=wait)
            return False
        self.failures.pop(inflight.key, None)
        assigned = self.consumer.assignment()
        offsets = {tp: recs[-1].offset + 1 for tp, recs in inflight.batch.items() if tp in assigned}
        try:
            if offsets:
                await self.consumer.commit(offsets)
        except KafkaError as exc:
            # the group moved on without us (a session timeout): the partitions' next owner reads
            # the batch again, and the seen_posts entries written above make that a no-op
            log.warning("analyze batch not committed (%s); its partitions' next owner reads it again",
                        exc.__class__.__name__)
        return True

    async def write_changelog(self, partition: int, items: list[tuple[bytes, bytes | None]]) -> list[int]:
        """seen_posts changelog records (key, value; None = a tombstone) to one partition, in as
        few produce batches as they fit; returns their offsets once all are acknowledged."""
        sent, batch, count = [], self.producer.create_batch(), 0
        for key, value in items:
            if batch.append(key=key, value=value, timestamp=None) is None:      # full
                sent.append((await self.producer.send_batch(batch, self.changelog, partition=partition), count))
                batch, count = self.producer.create_batch(), 0
                if batch.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(f"seen_posts entry of {len(key)} + {len(value or b'')} bytes exceeds a produce batch")
            count += 1
        if count:
            sent.append((await self.producer.send_batch(batch, self.changelog, partition=partition), count))
        offsets: list[int] = []
        for future, n in sent:
            first = (await future).offset
            offsets.extend(range(first, first + n))
        return offsets

    def pending(self, post_id: str) -> bool:
        """Whether the batch in flight holds this post and has not finished (its seen_posts
        entry may not be written yet)."""
        inflight = self.inflight
        return inflight is not None and post_id in inflight.post_ids and not inflight.task.done()

    async def wait_inflight(self) -> None:
        """Until the batch in flight has finished, well or not (settle() judges it)."""
        task = self.inflight.task if self.inflight is not None else None
        if task is not None and not task.done() and task is not asyncio.current_task():
            started = time.perf_counter()
            await asyncio.wait([task])
            self.waited_s += time.perf_counter() - started     # not preparing: size_next leaves it out

    async def _failed(self, batch: dict, key: tuple, attempts: int, exc: BaseException, wait: bool = True) -> None:
        transient = isinstance(exc, KafkaError) or isinstance(exc.__cause__, KafkaError)
        self.failures = {key: attempts + (0 if transient else 1)}
        pause = min(self.max_retry_s, self.retry_s * 2 ** min(attempts, 5))
        log.error("analyze batch of %d records failed (%s: %s; attempt %d); reading it again in %.0fs",
                  sum(map(len, batch.values())), exc.__class__.__name__, exc, attempts + 1, pause if wait else 0,
                  exc_info=not transient)
        if self.on_retry is not None:
            self.on_retry("kafka" if transient else "error")
        self._read_again(batch)
        if wait:
            await self.sleep(pause)

    def _read_again(self, batch: dict) -> None:
        assigned = self.consumer.assignment()
        for tp, recs in batch.items():
            if tp in assigned:        # a partition revoked meanwhile is its next owner's to read
                self.consumer.seek(tp, recs[0].offset)

    async def _each(self, records: list) -> None:
        """A batch that failed `isolate_after` times: each record alone, prepared and finished;
        one that still fails (not a Kafka error: that retries) is dead-lettered with the error."""
        for record in records:
            try:
                prepared = await self.process([record])
                if prepared is not None:
                    await prepared[0]()
            except asyncio.CancelledError:
                raise
            except KafkaError:
                raise
            except Exception as exc:      # noqa: BLE001 - this record cannot be processed: dead-letter it
                if isinstance(exc.__cause__, KafkaError):
                    raise
                log.error("posts.raw[%d]@%d cannot be processed (%s); dead-lettered", record.partition, record.offset,
                          exc.__class__.__name__, exc_info=True)
                await self.poison(record, exc)

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
        n, start, empty = 0, max(part.next_offset, begin), 0
        if start < end:
            self.reader.seek(tp, start)
            while await self.reader.position(tp) < end and empty < EMPTY_FETCHES:
                fetched = (await self.reader.getmany(tp, timeout_ms=1000, max_records=20_000)).get(tp, ())
                empty = 0 if fetched else empty + 1
                for record in fetched:
                    part.apply(record.key, record.value, record.offset)
                    n += 1
        part.next_offset = max(part.next_offset, end)
        part.mark()
        self.reader.assign([])
        self.current.add(partition)
        log.info("seen_posts partition %d caught up: %d changelog records in %.1fs", partition, n,
                 time.perf_counter() - started)
        return n

    async def fallback_start(self, tp) -> int | None:
        """Where a partition this group never committed starts: the fallback group's committed
        offset (the Faust app's group, which read posts.raw before this stage existed); None
        when this group has committed it or the fallback group never did. Asked on the first
        batch after an assignment (a seek from the rebalance callback lost to the fetch already
        under way)."""
        if not self.fallback_group or await self.consumer.committed(tp) is not None:
            return None
        if self._fallback_offsets is None:
            from aiokafka.admin import AIOKafkaAdminClient

            admin = AIOKafkaAdminClient(bootstrap_servers=self.servers, **self.auth)
            await admin.start()
            try:
                found = await admin.list_consumer_group_offsets(self.fallback_group)
            finally:
                await admin.close()
            self._fallback_offsets = {t: m.offset for t, m in found.items() if m.offset >= 0}
        offset = self._fallback_offsets.get(tp)
        if offset is not None:
            log.info("%s[%d]: no offset committed by %s; starting at %d, where %s stopped", tp.topic, tp.partition,
                     self.group_id, offset, self.fallback_group)
        return offset


class _Listener(ConsumerRebalanceListener):
    """aiokafka rebalance callbacks, awaited by its group task before the group moves on."""

    def __init__(self, stage: RawStage):
        self.stage = stage

    async def on_partitions_revoked(self, revoked) -> None:
        # the batch in flight is committed before its partitions move (bounded: past the wait,
        # its next owner reads it again, as after a crash)
        try:
            await asyncio.wait_for(self._settled(), self.stage.revoke_wait_s)
        except asyncio.TimeoutError:
            log.warning("analyze batch still running after %.0fs; its partitions move anyway", self.stage.revoke_wait_s)
        self.stage.current.difference_update(tp.partition for tp in revoked)

    async def _settled(self) -> None:
        async with self.stage.busy:
            await self.stage.settle(wait=False)

    async def on_partitions_assigned(self, assigned) -> None:
        self.stage.current.difference_update(tp.partition for tp in assigned)


class _InFlight(NamedTuple):
    batch: dict
    key: tuple
    attempts: int
    task: asyncio.Future
    post_ids: Collection[str]


async def _nothing() -> None:
    return None
