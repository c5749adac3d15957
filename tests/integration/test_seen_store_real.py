"""The analyze stage's seen_posts state (streams.seen_store, streams.raw_stage) on a real RocksDB
and a real changelog topic: what another worker wrote is caught up, tombstones delete, the offset
reached survives a reopen, and a store ahead of a recreated changelog starts over."""
from __future__ import annotations

import asyncio

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from infra.stack import reset_namespace
from shaobing.settings import load_settings
from streams.raw_stage import RawStage
from streams.seen_store import OFFSET_KEY, SeenStore, encode_key, encode_value
from tests.integration.helpers import unique


def _stage(settings, store, changelog) -> RawStage:
    async def process(records):
        raise AssertionError("no batch is processed here")

    return RawStage(servers=[settings.kafka_servers], topic=settings.topic("posts.raw"), changelog=changelog,
                    group_id=settings.analyze_group_id, store=store, process=process)


def test_catch_up_applies_what_other_workers_wrote_and_remembers_where_it_stopped(live_stack, tmp_path):
    settings = load_settings(namespace=unique("it-seen"))
    changelog = f"{settings.faust_app_id}-seen_posts-changelog"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    admin.create_topics([NewTopic(changelog, 2, 1, topic_configs={"cleanup.policy": "compact"}),
                         NewTopic(settings.topic("posts.raw"), 2, 1)])
    producer = KafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all")

    def write(partition, entries):
        for post_id, value in entries:
            producer.send(changelog, key=encode_key(post_id), value=value, partition=partition)
        producer.flush(30)

    async def scenario():
        store = SeenStore(tmp_path / "seen")
        stage = _stage(settings, store, changelog)
        await stage.on_start()
        try:
            write(0, [("帖子-1", encode_value("h1", 100)), ("p2", encode_value("h2", 100)), ("p1-gone", encode_value("h", 99))])
            write(0, [("p1-gone", None)])            # a tombstone: swept by its owner
            write(1, [("p9", encode_value("h9", 101))])
            assert await stage.catch_up(0) == 4
            part = store.partition(0)
            assert part.get("帖子-1") == ["h1", 100] and part.get("p2") == ["h2", 100]
            assert part.get("p1-gone") is None and part.get("p9") is None      # another partition's entry
            assert part.next_offset == 4 and 0 in stage.current

            # the partition moved away and came back: only what was written meanwhile is read
            write(0, [("p2", encode_value("h2-edited", 102))])
            stage.current.discard(0)
            assert await stage.catch_up(0) == 1
            assert part.get("p2") == ["h2-edited", 102]
            assert await stage.catch_up(1) == 1 and store.partition(1).get("p9") == ["h9", 101]
        finally:
            await stage.on_stop()        # closes the store, recording where each partition stands

        reopened = SeenStore(tmp_path / "seen")
        try:
            part = reopened.partition(0)
            assert part.next_offset == 5 and part.get("p2") == ["h2-edited", 102]
            assert part.db.get(OFFSET_KEY) == b"5"
            # this worker's own writes, acknowledged right after the offset it holds, move it on
            assert part.written([(encode_key("p3"), encode_value("h3", 103)), (encode_key("帖子-1"), None)], [5, 6])
            assert part.next_offset == 7 and part.get("p3") == ["h3", 103] and part.get("帖子-1") is None
            # acknowledged past a gap (another worker wrote in between): stored, but the offset
            # stays, so the records in the gap are read at the next catch-up
            assert not part.written([(encode_key("p4"), encode_value("h4", 104))], [9])
            assert part.next_offset == 7 and part.get("p4") == ["h4", 104]
        finally:
            reopened.close()

        # the changelog was deleted and created again (a reset namespace): the store is ahead of
        # it, so it starts over from the new changelog's first record
        admin.delete_topics([changelog])
        for _ in range(60):
            if changelog not in admin.list_topics():
                break
            await asyncio.sleep(0.5)
        admin.create_topics([NewTopic(changelog, 2, 1, topic_configs={"cleanup.policy": "compact"})])
        write(0, [("fresh", encode_value("hf", 104))])
        store = SeenStore(tmp_path / "seen")
        stage = _stage(settings, store, changelog)
        await stage.on_start()
        try:
            assert await stage.catch_up(0) == 1
            part = store.partition(0)
            assert part.get("fresh") == ["hf", 104] and part.get("p3") is None and part.next_offset == 1
        finally:
            await stage.on_stop()

    try:
        asyncio.run(scenario())
    finally:
        producer.close()
        admin.close()
        reset_namespace(settings, echo=lambda _: None)


def test_a_new_analyze_group_starts_where_the_faust_group_stopped(live_stack, tmp_path):
    """Upgrading from the worker that read posts.raw in the Faust app's group: the analyze group
    has no offsets yet, so it starts where the old group committed, not at the log's beginning."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    settings = load_settings(namespace=unique("it-upgrade"))
    raw, changelog = settings.topic("posts.raw"), f"{settings.faust_app_id}-seen_posts-changelog"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    admin.create_topics([NewTopic(raw, 2, 1), NewTopic(changelog, 2, 1, topic_configs={"cleanup.policy": "compact"})])
    producer = KafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all")
    for p in (0, 1):
        for i in range(5):
            producer.send(raw, key=f"p{p}-{i}".encode(), value=b"{}", partition=p)
    producer.flush(30)
    old = KafkaConsumer(bootstrap_servers=settings.kafka_servers, group_id=settings.faust_app_id, enable_auto_commit=False)
    old.commit({TopicPartition(raw, 0): OffsetAndMetadata(3, "", -1)})     # partition 1: never committed
    old.close()

    async def scenario():
        got = []

        async def process(records):
            got.extend((r.partition, r.offset) for r in records)

        stage = RawStage(servers=[settings.kafka_servers], topic=raw, changelog=changelog,
                         group_id=settings.analyze_group_id, store=SeenStore(tmp_path / "seen"), process=process,
                         fallback_group=settings.faust_app_id)
        await stage.start()
        try:
            for _ in range(300):
                if len(got) >= 7:
                    break
                await asyncio.sleep(0.1)
        finally:
            await stage.stop()
        return got

    try:
        got = asyncio.run(scenario())
        assert sorted(got) == [(0, 3), (0, 4)] + [(1, i) for i in range(5)]
    finally:
        producer.close()
        admin.close()
        reset_namespace(settings, echo=lambda _: None)


def test_the_stage_writes_changelog_entries_in_produce_batches_and_returns_each_offset(live_stack, tmp_path):
    """write_changelog: more entries than one produce batch holds go in several, in order, each
    entry's offset returned; a store catching the partition up reads back exactly those entries."""
    from streams import raw_stage

    settings = load_settings(namespace=unique("it-seen-write"))
    changelog = f"{settings.faust_app_id}-seen_posts-changelog"
    KafkaAdminClient(bootstrap_servers=settings.kafka_servers).create_topics(
        [NewTopic(changelog, 2, 1, topic_configs={"cleanup.policy": "compact"}), NewTopic(settings.topic("posts.raw"), 2, 1)])
    padding = "长" * 2000          # ~6 KB a value: 200 entries need several 512 KB batches
    entries = [(encode_key(f"p{i}"), encode_value(f"h{i}{padding}", 100)) for i in range(200)] + [(encode_key("p7"), None)]

    async def scenario():
        writer = _stage(settings, SeenStore(tmp_path / "writer"), changelog)
        await writer.on_start()
        try:
            offsets = await writer.write_changelog(1, entries)
            assert offsets == list(range(len(entries)))
            assert await writer.write_changelog(1, [(encode_key("p8"), None)]) == [len(entries)]
        finally:
            await writer.on_stop()
        reader = _stage(settings, SeenStore(tmp_path / "reader"), changelog)
        await reader.on_start()
        try:
            assert await reader.catch_up(1) == len(entries) + 1
            part = reader.store.partition(1)
            assert part.get("p0") == [f"h0{padding}", 100] and part.get("p199") == [f"h199{padding}", 100]
            assert part.get("p7") is None and part.get("p8") is None and part.next_offset == len(entries) + 1
        finally:
            await reader.on_stop()

    assert 200 * 6000 > 2 * raw_stage.CHANGELOG_BATCH_BYTES
    try:
        asyncio.run(scenario())
    finally:
        reset_namespace(settings)
