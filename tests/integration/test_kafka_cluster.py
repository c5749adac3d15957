"""A private three-broker KRaft cluster on loopback, as `shaobing stack up --brokers 3` runs it:
shaobing's topics are created with replication factor 3 and min.insync.replicas 2; with acks=all
a producer keeps producing and a consumer keeps consuming while one broker is killed with
SIGKILL and brought back; every acknowledged message is consumed, none is lost.

Own ports and state dir: the shared stack is untouched.
"""
from __future__ import annotations

import shutil
import threading
import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from infra.nodes import find_java, kafka_nodes
from infra.stack import _wait_healthy, create_topics, kafka_healthy
from shaobing.settings import load_settings
from streams.topics import ALL_TOPICS, POSTS_RAW
from tests.integration.helpers import free_port, free_port_range, topic_configs, unique

N = 2000
KILL_AT, RESTART_AT = 600, 1300


@pytest.fixture()
def cluster(live_stack):
    base = free_port_range(6)
    s = load_settings(state_dir=live_stack.state_dir / "tests" / unique("cluster3"), kafka_brokers=3,
                      kafka_port=base, kafka_controller_port=base + 1, es_port=free_port(),
                      es_transport_port=free_port(), kafka_heap_mb=256)
    nodes = kafka_nodes(s)
    java = find_java(s)
    procs = [node.start(java) for node in nodes]
    try:
        for node, proc in zip(nodes, procs):
            _wait_healthy(node, proc, lambda port=node.port: kafka_healthy(f"127.0.0.1:{port}", brokers=3), 150)
        yield s, nodes, java
    finally:
        for node in nodes:
            node.kill()                 # throw-away data: no need for a controlled shutdown
        shutil.rmtree(s.state_dir, ignore_errors=True)


def test_three_brokers_survive_a_sigkill_without_losing_an_acked_message(cluster):
    s, nodes, java = cluster
    servers = s.kafka_servers
    assert len(servers.split(",")) == 3
    assert len(create_topics(servers)) == len(ALL_TOPICS)
    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        for desc in admin.describe_topics([t.name for t in ALL_TOPICS]):
            assert all(len(p["replica_nodes"]) == 3 for p in desc["partitions"]), desc["name"]
    finally:
        admin.close()
    assert topic_configs(servers, POSTS_RAW.name)["min.insync.replicas"] == "2"

    topic = POSTS_RAW.name
    acked, failed, consumed = set(), [], set()
    lock = threading.Lock()
    done_consuming = threading.Event()
    consumed_during_outage = []

    def consume():
        consumer = KafkaConsumer(bootstrap_servers=servers, group_id=None, enable_auto_commit=False,
                                 request_timeout_ms=10_000)
        tps = [TopicPartition(topic, p) for p in range(POSTS_RAW.partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + 150
        while not done_consuming.is_set() and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                with lock:
                    consumed.update(int(m.value) for m in batch)
        consumer.close()

    reader = threading.Thread(target=consume)
    reader.start()
    producer = KafkaProducer(bootstrap_servers=servers, acks="all", delivery_timeout_ms=90_000,
                             request_timeout_ms=5_000, max_block_ms=60_000, linger_ms=5, retries=1_000_000)
    victim = nodes[1]
    for i in range(N):
        if i == KILL_AT:
            producer.flush(60)
            victim.kill()                                 # SIGKILL: no clean shutdown
        if i == RESTART_AT:
            producer.flush(60)                            # produced and acked with one broker down
            # the reader may still be waiting out a fetch to the dead broker (request timeout 10 s)
            # and a metadata refresh: give it a bounded while, the broker still down, to pass the
            # messages acked before the kill (sampling at once failed once: 454 of 600 read)
            wait_until = time.monotonic() + 60
            while time.monotonic() < wait_until:
                with lock:
                    if len(consumed) > KILL_AT:
                        break
                time.sleep(0.2)
            with lock:
                consumed_during_outage.append(len(consumed))
            proc = victim.start(java)
            _wait_healthy(victim, proc, lambda: kafka_healthy(f"127.0.0.1:{victim.port}", brokers=3), 150)
        producer.send(topic, key=str(i % 29).encode(), value=str(i).encode()).add_callback(
            lambda _md, i=i: (lock.acquire(), acked.add(i), lock.release())).add_errback(
            lambda _exc, i=i: (lock.acquire(), failed.append(i), lock.release()))
        if i % 200 == 0:
            time.sleep(0.05)
    producer.flush(90)
    producer.close(10)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if acked <= consumed:
                break
        time.sleep(0.2)
    done_consuming.set()
    reader.join(30)
    assert failed == [] and len(acked) == N              # min.insync.replicas 2 of 3: writes go on
    assert consumed_during_outage[0] > KILL_AT           # consumers kept reading with a broker down
    assert acked - consumed == set(), f"{len(acked - consumed)} acknowledged messages lost"
