"""SIGKILL the broker in the middle of a produce loop, start it again: every acked message is there.

Runs a private single-node Kafka (own ports and state dir) so the shared stack is untouched.
"""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from aiokafka import AIOKafkaConsumer
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from infra.nodes import KafkaNode, find_java
from infra.stack import _wait_healthy, kafka_healthy
from tests.integration.helpers import private_stack_settings

N = 3000
KILL_AT = 1000


@pytest.fixture()
def private_kafka(live_stack):
    s = private_stack_settings(live_stack, "crash")
    node = KafkaNode(s)
    java = find_java(s)
    proc = node.start(java)
    _wait_healthy(node, proc, lambda: kafka_healthy(s.kafka_servers), 120)
    yield s, node, java
    node.stop(timeout=30)


async def test_acknowledged_messages_survive_sigkill(private_kafka):
    s, node, java = private_kafka
    servers = s.kafka_servers
    admin = KafkaAdminClient(bootstrap_servers=servers)
    admin.create_topics([NewTopic("crash", 3, 1)])
    admin.close()

    acked: set[int] = set()
    failed: list[int] = []
    lock = threading.Lock()

    def on_ok(i):
        return lambda _md: (lock.acquire(), acked.add(i), lock.release())

    def on_err(i):
        return lambda _exc: (lock.acquire(), failed.append(i), lock.release())

    producer = KafkaProducer(bootstrap_servers=servers, acks="all", delivery_timeout_ms=60_000,
                             request_timeout_ms=5_000, max_block_ms=60_000, linger_ms=2)
    restarted = threading.Event()

    def crash_and_restart():
        node.kill()
        time.sleep(2)
        proc = node.start(java)
        _wait_healthy(node, proc, lambda: kafka_healthy(servers), 120)
        restarted.set()

    killer = None
    for i in range(N):
        if i == KILL_AT:
            # on a busy machine the first acknowledgements can take a while: wait for some (the
            # rest of the sends stay in flight across the kill, which is the point)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with lock:
                    if acked:
                        break
                time.sleep(0.05)
            with lock:
                assert len(acked) > 0, "nothing was acknowledged before the kill"
            killer = threading.Thread(target=crash_and_restart)
            killer.start()
        producer.send("crash", key=str(i % 17).encode(), value=str(i).encode()).add_callback(on_ok(i)).add_errback(on_err(i))
        if i % 100 == 0:
            time.sleep(0.01)
    killer.join(180)
    assert restarted.is_set(), node.log_tail()
    producer.flush(90)
    producer.close(10)

    consumer = AIOKafkaConsumer("crash", bootstrap_servers=servers, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    present: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while not acked <= present and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                present.update(int(r.value) for r in records)
    finally:
        await consumer.stop()
    lost = acked - present
    assert not lost, f"{len(lost)} acknowledged messages lost, e.g. {sorted(lost)[:10]}"
    assert len(acked) + len(failed) == N
    assert len(acked) >= KILL_AT, "the producer should recover after the restart"
