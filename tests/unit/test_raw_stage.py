"""The analyze stage's batch handling (streams.raw_stage.RawStage._handle) with a stand-in
consumer: offsets are committed only after the batch was processed, a failed batch is read again
from its first record, a record that keeps failing is dead-lettered on its own after three
attempts while a Kafka failure is retried for ever, and a refused commit does not stop the stage.
Batches are pipelined: a batch's finish runs while the next is prepared, batches commit in order,
and a failed finish sends its batch and the one prepared meanwhile back to be read again."""
from __future__ import annotations

import asyncio
from collections import namedtuple

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaTimeoutError

from streams.raw_stage import RawStage

Record = namedtuple("Record", "topic partition offset key value timestamp")


class FakeConsumer:
    def __init__(self, assigned, commit_error=None):
        self.assigned, self.commit_error = set(assigned), commit_error
        self.commits, self.seeks = [], []

    def assignment(self):
        return set(self.assigned)

    def seek(self, tp, offset):
        self.seeks.append((tp, offset))

    async def commit(self, offsets):
        if self.commit_error:
            raise self.commit_error
        self.commits.append(offsets)


def _stage(process, consumer, poisoned=None) -> RawStage:
    async def poison(record, exc):
        poisoned.append((record.partition, record.offset, str(exc)))

    stage = RawStage(servers=["127.0.0.1:1"], topic="posts.raw", changelog="c", group_id="g", store=None,
                     process=process, poison=poison, retry_s=0, max_retry_s=0)
    stage.consumer = consumer
    stage.current = {0, 1}          # caught up already: no changelog read here
    return stage


async def _handled(stage: RawStage, *batches: dict) -> RawStage:
    for batch in batches:
        await stage._handle(batch)
    await stage.settle()
    return stage


TP0, TP1 = TopicPartition("posts.raw", 0), TopicPartition("posts.raw", 1)
BATCH = {TP1: [Record("posts.raw", 1, o, b"k", b"v", 1) for o in (7, 8)],
         TP0: [Record("posts.raw", 0, o, b"k", b"v", 1) for o in (3, 4, 5)]}


def test_a_processed_batch_is_committed_past_its_last_record():
    seen = []

    async def process(records):
        seen.append([(r.partition, r.offset) for r in records])

    consumer = FakeConsumer({TP0, TP1})
    asyncio.run(_handled(_stage(process, consumer), BATCH))
    assert seen == [[(0, 3), (0, 4), (0, 5), (1, 7), (1, 8)]]
    assert consumer.commits == [{TP0: 6, TP1: 9}] and consumer.seeks == []


def test_a_failed_batch_is_not_committed_and_is_read_again_from_its_first_record(caplog):
    async def process(records):
        raise RuntimeError("node gone")

    consumer = FakeConsumer({TP0})            # partition 1 was revoked meanwhile
    asyncio.run(_handled(_stage(process, consumer), BATCH))
    assert consumer.commits == []
    assert consumer.seeks == [(TP0, 3)]
    assert "analyze batch of 5 records failed (RuntimeError: node gone; attempt 1)" in caplog.text


def test_a_poison_record_is_dead_lettered_alone_after_three_attempts_and_the_rest_go_on():
    processed, poisoned = [], []

    async def process(records):
        if any(r.offset == 4 for r in records):
            raise ValueError("cannot handle this one")
        processed.extend((r.partition, r.offset) for r in records)

    consumer = FakeConsumer({TP0, TP1})
    stage = _stage(process, consumer, poisoned)

    asyncio.run(_handled(stage, *[BATCH] * 4))
    assert sorted(consumer.seeks) == sorted([(TP0, 3), (TP1, 7)] * 3)       # three attempts read it again
    assert poisoned == [(0, 4, "cannot handle this one")]
    assert processed == [(0, 3), (0, 5), (1, 7), (1, 8)]
    assert consumer.commits == [{TP0: 6, TP1: 9}] and stage.failures == {}


def test_a_kafka_failure_is_retried_without_dead_lettering_anything():
    poisoned, calls = [], []

    async def process(records):
        calls.append(len(records))
        raise KafkaTimeoutError()

    consumer = FakeConsumer({TP0, TP1})
    stage = _stage(process, consumer, poisoned)

    asyncio.run(_handled(stage, *[BATCH] * 6))
    assert calls == [5] * 6 and poisoned == [] and consumer.commits == []


def test_only_partitions_still_assigned_are_committed():
    async def process(records):
        return None

    consumer = FakeConsumer({TP1})
    asyncio.run(_handled(_stage(process, consumer), BATCH))
    assert consumer.commits == [{TP1: 9}]


def test_a_commit_refused_by_a_rebalance_is_logged_and_the_stage_goes_on(caplog):
    async def process(records):
        return None

    consumer = FakeConsumer({TP0, TP1}, commit_error=CommitFailedError("rebalanced"))
    asyncio.run(_handled(_stage(process, consumer), BATCH))
    assert "not committed (CommitFailedError)" in caplog.text


def test_cancellation_is_not_swallowed():
    async def process(records):
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(_handled(_stage(process, FakeConsumer({TP0, TP1})), BATCH))


NEXT = {TP0: [Record("posts.raw", 0, o, b"k", b"v", 1) for o in (6, 7)],
        TP1: [Record("posts.raw", 1, 9, b"k", b"v", 1)]}


def _held_batch(release: asyncio.Event, events: list):
    """A process() whose finish of BATCH (first offset 3: its bulk request is slow) waits for
    `release`; every step logged to `events`."""
    async def process(records):
        first = records[0].offset
        events.append(("prepare", first))

        async def finish():
            events.append(("finish starts", first))
            if first == 3:
                await release.wait()
            events.append(("finish ends", first))
        return finish, ()
    return process


def test_the_next_batch_is_prepared_while_the_last_one_finishes_and_batches_commit_in_order():
    events, release = [], asyncio.Event()
    consumer = FakeConsumer({TP0, TP1})
    stage = _stage(_held_batch(release, events), consumer)

    async def run():
        await stage._handle(BATCH)
        await asyncio.sleep(0)                 # the first batch's finish is under way
        assert consumer.commits == []
        preparing = asyncio.ensure_future(stage._handle(NEXT))
        await asyncio.sleep(0)
        assert ("prepare", 6) in events and consumer.commits == []
        release.set()
        await preparing
        assert consumer.commits == [{TP0: 6, TP1: 9}]      # the first batch, once its finish ended
        await stage.settle()

    asyncio.run(run())
    assert events == [("prepare", 3), ("finish starts", 3), ("prepare", 6), ("finish ends", 3),
                      ("finish starts", 6), ("finish ends", 6)]
    assert consumer.commits == [{TP0: 6, TP1: 9}, {TP0: 8, TP1: 10}]


def test_a_failed_finish_sends_its_batch_and_the_one_prepared_meanwhile_back_to_be_read_again(caplog):
    async def process(records):
        first = records[0].offset

        async def finish():
            if first == 3:
                raise RuntimeError("node refused the bulk request")
        return finish, ()

    consumer = FakeConsumer({TP0, TP1})
    stage = asyncio.run(_handled(_stage(process, consumer), BATCH, NEXT))
    assert consumer.commits == []
    final = dict(consumer.seeks)               # the last seek of each partition is where it reads next
    assert final == {TP0: 3, TP1: 7}
    assert stage.inflight is None and list(stage.failures.values()) == [1]
    assert "analyze batch of 5 records failed (RuntimeError: node refused the bulk request; attempt 1)" in caplog.text


def test_a_revocation_waits_for_the_batch_in_flight_and_commits_it():
    from streams.raw_stage import _Listener

    release = asyncio.Event()
    consumer = FakeConsumer({TP0, TP1})
    stage = _stage(_held_batch(release, []), consumer)

    async def run():
        await stage._handle(BATCH)
        revoking = asyncio.ensure_future(_Listener(stage).on_partitions_revoked({TP0, TP1}))
        await asyncio.sleep(0.01)
        assert not revoking.done() and consumer.commits == []
        release.set()
        await revoking

    asyncio.run(run())
    assert consumer.commits == [{TP0: 6, TP1: 9}] and stage.current == set()


def test_a_post_of_the_batch_still_finishing_waits_for_its_finish_and_isolation_never_waits_on_itself(caplog):
    """process() as the worker's: a post held by the batch in flight waits for that batch's finish
    (its seen_posts entry). A batch whose finish keeps failing is then handled one record at a
    time, inline; its records must not wait for themselves (a deadlock the review found)."""
    log, stage = [], None

    async def process(records):
        for r in records:
            post_id = f"post-{r.offset % 2}"           # offsets 3 and 5 are the same post, as 4 and 8 are
            if stage.pending(post_id):
                log.append(("waits", r.offset))
                await stage.wait_inflight()
        ids = {f"post-{r.offset % 2}" for r in records}

        async def finish():
            await asyncio.sleep(0.01)
            if len(records) > 1 and records[0].offset == 3:
                raise ValueError("cannot handle this batch")
            log.append(("finished", tuple(r.offset for r in records)))
        return finish, ids

    consumer = FakeConsumer({TP0, TP1})
    stage = _stage(process, consumer, poisoned := [])

    async def run():
        await stage._handle(BATCH)
        await stage._handle(NEXT)       # prepared while BATCH finishes: its posts are BATCH's
        await stage.settle()
        for _ in range(3):              # BATCH failed (and NEXT with it): read again until isolated
            await asyncio.wait_for(stage._handle(BATCH), 5)
            await stage.settle()

    asyncio.run(run())
    assert log[0] == ("waits", 6)                     # NEXT's first post waited for BATCH's finish
    assert [entry for entry in log if entry[0] == "finished"][-5:] == [("finished", (o,)) for o in (3, 4, 5, 7, 8)]
    assert consumer.commits[-1] == {TP0: 6, TP1: 9} and poisoned == []


def _sized(max_records: int = 500) -> RawStage:
    return RawStage(servers=["127.0.0.1:1"], topic="posts.raw", changelog="c", group_id="g", store=None,
                    process=None, max_records=max_records, min_records=50, batch_target_s=0.5)


def test_batches_shrink_when_preparing_them_slows_and_grow_back_to_the_maximum():
    stage = _sized()
    assert stage.batch_records == 500
    for _ in range(8):          # 500 records in 1.25 s: 400 records/s, 200 per half second
        stage.size_next(stage.batch_records, stage.batch_records / 400)
    assert 195 <= stage.batch_records <= 210
    for _ in range(8):          # quiet again: 2,000 records/s would fill 1,000 per half second
        stage.size_next(stage.batch_records, stage.batch_records / 2000)
    assert stage.batch_records == 500


def test_batch_size_stays_within_its_bounds_and_ignores_a_few_stray_records():
    stage = _sized()
    stage.size_next(500, 60.0)          # one pathological batch
    assert stage.batch_records == 252   # halfway down (to 4 records), not to the floor at once
    for _ in range(10):
        stage.size_next(stage.batch_records, 60.0)
    assert stage.batch_records == 50
    stage.size_next(3, 0.0001)          # the backlog ran out: 3 records say nothing of the rate
    assert stage.batch_records == 50
    assert _sized(max_records=20).min_records == 20    # a maximum under the floor wins


def test_the_next_fetch_asks_for_the_sized_batch():
    asked = []

    class Fetching(FakeConsumer):
        async def getmany(self, timeout_ms, max_records):
            asked.append(max_records)
            stage.closing = True
            return {}

    async def process(records):
        return None

    stage = _stage(process, Fetching({TP0, TP1}))
    stage.batch_records = 123
    asyncio.run(RawStage._consume(stage))
    assert asked == [123]


def test_a_batch_being_retried_keeps_its_size():
    stage = _sized()
    stage.size_next(500, 5.0)
    frozen = stage.batch_records
    stage.failures = {((0, 3),): 1}         # its next read must bring the same partitions and offsets
    stage.size_next(frozen, 60.0)
    assert stage.batch_records == frozen
    stage.failures = {}
    stage.size_next(frozen, 60.0)
    assert stage.batch_records < frozen


def test_waiting_for_the_batch_in_flight_is_not_counted_as_preparing():
    from streams.raw_stage import _InFlight

    async def scenario():
        stage = _sized()
        stage.inflight = _InFlight({}, (), 0, asyncio.ensure_future(asyncio.sleep(0.05)), {"p"})
        await stage.wait_inflight()
        return stage.waited_s

    assert asyncio.run(scenario()) >= 0.04
