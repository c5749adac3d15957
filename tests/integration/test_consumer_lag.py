"""Consumer lag and dead-letter counts read from the real broker, as the worker's lag collector
and `shaobing status` read them."""
from __future__ import annotations

import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from infra.stack import provision, reset_namespace
from shaobing.commands.status import dead_letters_since
from shaobing.settings import load_settings
from streams.lag import CONSUMED, worker_lag_reader
from streams.topics import POSTS_DLQ, POSTS_RAW
from tests.integration.helpers import unique


def test_lag_counts_uncommitted_records_and_the_age_of_the_oldest(live_stack):
    settings = load_settings(namespace=unique("it-lag"))
    provision(settings, echo=lambda _: None)
    raw, dlq = settings.topic(POSTS_RAW.name), settings.topic(POSTS_DLQ.name)
    now_ms = int(time.time() * 1000)
    try:
        producer = KafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all")
        for i in range(5):     # on partition 0, two minutes old, one second apart
            producer.send(raw, key=b"k", value=b"{}", partition=0, timestamp_ms=now_ms - 120_000 + i * 1000)
        producer.send(raw, key=b"k", value=b"{}", partition=1, timestamp_ms=now_ms - 30_000)
        producer.send(dlq, key=b"k", value=b"{}", timestamp_ms=now_ms - 2 * 3600_000)    # older than an hour
        for _ in range(2):
            producer.send(dlq, key=b"k", value=b"{}", timestamp_ms=now_ms - 60_000)
        producer.flush(30)
        producer.close()
        # the analyze stage's group has consumed the first two records of partition 0 and nothing else
        group = KafkaConsumer(bootstrap_servers=settings.kafka_servers, group_id=settings.analyze_group_id,
                              enable_auto_commit=False)
        group.commit({TopicPartition(raw, 0): OffsetAndMetadata(2, "", -1)})
        group.close()

        reader = worker_lag_reader(settings)
        try:
            lag = reader.read(now_ms / 1000)
        finally:
            reader.close()
        assert lag["posts.raw"].records == 3 + 1           # partition 1 was never committed: counted from 0
        assert 117.5 <= lag["posts.raw"].seconds <= 118.5  # the record at offset 2 of partition 0
        assert lag["mentions"].records == 0 and lag["mentions"].seconds == 0
        assert set(lag) == {t.name for t in CONSUMED}
        assert dead_letters_since(settings, now_ms - 3600_000) == 2
    finally:
        reset_namespace(settings, echo=lambda _: None)
