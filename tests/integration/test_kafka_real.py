"""The real broker: kafka-python produces (acks=all), aiokafka consumes; per-key order holds."""
from __future__ import annotations

import asyncio
import json
from collections import defaultdict

from aiokafka import AIOKafkaConsumer
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from tests.integration.helpers import unique

N_MESSAGES = 10_000
N_KEYS = 50


def _create_topic(servers: str, name: str, partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()


async def _consume_all(servers: str, topic: str, expected: int, timeout_s: float = 60) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=servers, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    seen = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(seen) < expected:
                batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
                for tp, records in batches.items():
                    seen.extend((tp.partition, r.offset, r.key.decode(), json.loads(r.value)) for r in records)
    finally:
        await consumer.stop()
    return seen


async def test_ten_thousand_keyed_messages_arrive_in_order_per_key(live_stack):
    servers = live_stack.kafka_servers
    topic = unique("it-keyed")
    _create_topic(servers, topic, 3)
    producer = KafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=5)
    try:
        futures = []
        for i in range(N_MESSAGES):
            key = f"post-{i % N_KEYS}"
            value = json.dumps({"key": key, "seq": i // N_KEYS, "text": f"第{i}条 舆情"}).encode()
            futures.append(producer.send(topic, key=key.encode(), value=value))
        producer.flush(60)
        metadata = [f.get(timeout=30) for f in futures]
    finally:
        producer.close(10)
    assert len({m.partition for m in metadata}) == 3, "50 keys should spread over all 3 partitions"

    seen = await _consume_all(servers, topic, N_MESSAGES)
    assert len(seen) == N_MESSAGES
    by_key = defaultdict(list)
    partitions_of_key = defaultdict(set)
    for partition, offset, key, value in sorted(seen, key=lambda r: (r[0], r[1])):
        by_key[key].append(value["seq"])
        partitions_of_key[key].add(partition)
        assert value["key"] == key
    assert len(by_key) == N_KEYS
    for key, seqs in by_key.items():
        assert seqs == list(range(N_MESSAGES // N_KEYS)), f"{key} out of order"
        assert len(partitions_of_key[key]) == 1, f"{key} spread across partitions"
