"""The Faust app: declares the app, its topics and tables once, and wires the agents.
Reads Settings (Kafka servers, app id, store, batch sizes, state dir).

Every topic carries pydantic records as UTF-8 JSON bytes (streams.records); Faust sees raw
bytes, so a malformed record reaches our own validation and the dead-letter topic instead of
failing inside Faust's deserialiser.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import faust

from shaobing.connections import faust_broker_credentials
from shaobing.settings import Settings
from streams import topics


@dataclass
class Topology:
    app: faust.App
    raw: faust.TopicT
    analyzed: faust.TopicT
    enriched: faust.TopicT
    mentions: faust.TopicT
    surges: faust.TopicT
    dlq: faust.TopicT
    surge_state: faust.types.TableT
    alert_state: faust.types.TableT
    # the analyze stage (streams.raw_stage): its consumer group and its seen_posts changelog
    analyze_group: str = ""
    seen_changelog: str = ""
    seen: object = None        # streams.seen_store.SeenStore, set by streams.agents.wire

    async def declare_raw(self) -> None:
        """Create posts.raw and the seen_posts changelog if missing (Faust declares the topics
        its agents read; these two are read outside them)."""
        await self.raw.maybe_declare()
        changelog = self.app.topic(self.seen_changelog, key_type=bytes, value_type=bytes, partitions=self.raw.partitions,
                                   compacting=True, deleting=False)
        await changelog.maybe_declare()


def _topic(app: faust.App, name: str, spec: topics.TopicSpec) -> faust.TopicT:
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", partitions=spec.partitions)


def build_app(settings: Settings) -> Topology:
    # per worker: two workers on one host must not open the same local (RocksDB) table files
    datadir = settings.worker_state_dir / settings.worker_name
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.faust_app_id,
        broker=";".join(f"kafka://{s.strip()}" for s in settings.kafka_servers.split(",")),
        store=settings.worker_store,
        datadir=str(datadir),
        web_enabled=False,
        # the worker command resolves 0 (automatic) from the cluster's size before building the app
        topic_replication_factor=settings.kafka_replication_factor or 1,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        table_standby_replicas=settings.worker_standby_replicas,
        stream_wait_empty=False,
        # a dead worker's partitions move after this long without heartbeats: it bounds how long
        # the watch is blind after a kill -9 (docs/architecture.md, Restart)
        broker_session_timeout=settings.worker_session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.worker_session_timeout_s / 5),
        producer_linger_ms=5,
        # aiokafka's 16 KB default holds 3-5 enriched posts per batch: 124 µs of CPU per message
        # sent vs 35 µs with 256 KB batches (one-off measurement, docs/benchmarks.md)
        producer_max_batch_size=256 * 1024,
        # Faust hands fetched records to each agent's queue and pauses a partition when its queue
        # passes maxsize / 1.25; a fetch larger than the room left blocks the whole delivery loop
        # (head-of-line: a posts.raw backlog would starve indexing and alerting). So the queues
        # hold many fetches: 16384 / 1.25 leaves 3,277 of room for a fetch of at most 500.
        broker_max_poll_records=500,
        stream_buffer_maxsize=16384,
        broker_credentials=faust_broker_credentials(settings),     # TLS / SASL, None = PLAINTEXT
    )

    def table(name: str, spec: topics.TopicSpec) -> faust.types.TableT:
        # co-partitioned with the topic whose stream writes it (same key, same partition count)
        # values are plain JSON-serialisable dicts/lists/strings (faust's default serializer is json)
        return app.Table(name, default=None, partitions=spec.partitions, key_type=str)

    return Topology(
        app=app,
        raw=_topic(app, settings.topic(topics.POSTS_RAW.name), topics.POSTS_RAW),
        analyzed=_topic(app, settings.topic(topics.POSTS_ANALYZED.name), topics.POSTS_ANALYZED),
        enriched=_topic(app, settings.topic(topics.POSTS_ENRICHED.name), topics.POSTS_ENRICHED),
        mentions=_topic(app, settings.topic(topics.MENTIONS.name), topics.MENTIONS),
        surges=_topic(app, settings.topic(topics.SURGES.name), topics.SURGES),
        dlq=_topic(app, settings.topic(topics.POSTS_DLQ.name), topics.POSTS_DLQ),
        surge_state=table("surge_state", topics.MENTIONS),
        alert_state=table("alert_state", topics.SURGES),
        analyze_group=settings.analyze_group_id,
        # the name Faust gave the table's changelog: an upgraded worker restores it as it is
        seen_changelog=f"{settings.faust_app_id}-seen_posts-changelog",
    )


def kafka_client_args(app: faust.App) -> dict:
    """bootstrap_servers and the credentials (TLS, SASL) of the app's broker, for the plain
    aiokafka clients the worker runs beside Faust's own (the analyze stage, log replays)."""
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    return {"bootstrap_servers": [f"{url.host}:{url.port or 9092}" for url in app.conf.broker],
            **credentials_to_aiokafka_auth(app.conf.broker_credentials)}


async def replay_log(app: faust.App, topic: str, partition: int, start: int | None, since_ms: int,
                     until_offset: int, apply: Callable[[bytes, float, int], object]) -> int:
    """Feed `apply(value, timestamp_s, offset)` every record of one partition from offset `start`
    (None: the first record at or after `since_ms`) up to, not including, `until_offset`; returns
    how many. Its own consumer, no group: it reads, it never commits."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(enable_auto_commit=False, group_id=None, max_partition_fetch_bytes=8 * 1024 * 1024,
                                **kafka_client_args(app))
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        if start is None:
            found = (await consumer.offsets_for_times({tp: max(0, since_ms)})).get(tp)
            start = found.offset if found is not None else until_offset
        start = max(start, (await consumer.beginning_offsets([tp]))[tp])
        n = 0
        if start >= until_offset:
            return 0
        consumer.seek(tp, start)
        while True:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=20_000)
            for record in batch.get(tp, ()):
                if record.offset >= until_offset:
                    return n
                apply(record.value, record.timestamp / 1000.0, record.offset)
                n += 1
                if record.offset == until_offset - 1:
                    return n
    finally:
        await consumer.stop()
