"""The fault suite's tools (bench/faults.py): a private three-broker Kafka cluster and
Elasticsearch node to kill and freeze, a flaky duty channel, hostile records, a canary alert,
and the probes that read the outcome back from Kafka and Elasticsearch.

Everything here runs on its own ports and state dir: the shared stack is never touched.
"""
from __future__ import annotations

import base64
import json
import os
import random
import shutil
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from infra.duty_receiver import DutyReceiver
from infra.nodes import ElasticsearchNode, find_java, kafka_nodes, port_in_use
from infra.stack import _wait_healthy, es_healthy, kafka_healthy
from shaobing.demo import pipeline_lag
from shaobing.settings import Settings, load_settings
from streams.records import MAX_RAW_BYTES, Surge
from streams.topics import POSTS_DLQ, POSTS_RAW, SURGES

_T0 = time.monotonic()


def say(msg: str) -> None:
    print(f"[+{time.monotonic() - _T0:5.0f}s] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_range(n: int) -> int:
    for _ in range(200):
        base = random.randrange(20_000, 40_000)
        if not any(port_in_use(base + i) for i in range(n)):
            return base
    raise RuntimeError(f"no {n} consecutive free ports found")


class PrivateStack:
    """Three Kafka brokers (KRaft, replication 3, min.insync.replicas 2, as `shaobing stack up
    --brokers 3` runs them) and one Elasticsearch node, on spare ports, under the shared state dir
    (Elasticsearch runs as an unprivileged user who must reach it)."""

    def __init__(self, base: Settings, name: str):
        port = free_port_range(6)
        self.settings = load_settings(state_dir=base.state_dir / "faults" / name, kafka_brokers=3, kafka_port=port,
                                      kafka_controller_port=port + 1, es_port=free_port(),
                                      es_transport_port=free_port(), kafka_heap_mb=256)
        self.brokers = kafka_nodes(self.settings)
        self.es = ElasticsearchNode(self.settings)
        self.java = find_java(self.settings)

    @property
    def es_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.es_port}"

    def broker_healthy(self, node):
        return lambda: kafka_healthy(f"127.0.0.1:{node.port}", brokers=3)

    def start(self) -> None:
        started = [(node, node.start(self.java)) for node in self.brokers] + [(self.es, self.es.start(self.java))]
        for node, proc in started:
            check = (lambda: es_healthy(self.es_url)) if node is self.es else self.broker_healthy(node)
            _wait_healthy(node, proc, check, 300)

    def restart_broker(self, node) -> None:
        _wait_healthy(node, node.start(self.java), self.broker_healthy(node), 300)

    def stop(self) -> None:
        for node in [*self.brokers, self.es]:
            node.kill()                    # throw-away data: no controlled shutdown needed
        shutil.rmtree(self.settings.state_dir, ignore_errors=True)


@dataclass
class FlakyReceiver(DutyReceiver):
    """The primary duty channel, down while `down` is set: every other request hangs past the
    sender's 10 s attempt timeout (a timeout), the rest get HTTP 500."""

    down: bool = True
    refused: int = 0
    hung: int = 0

    def _accept(self, headers, body: bytes) -> int:
        if self.down:
            with self._lock:
                self.refused += 1
                hang = self.refused % 2 == 0
                self.hung += hang
            if hang:
                time.sleep(12)
            return 500
        return super()._accept(headers, body)


def notifications(receiver: DutyReceiver) -> list[list[dict]]:
    """The firing alerts of each notification a receiver accepted, in arrival order."""
    with receiver._lock:
        items = list(receiver.received)
    return [[a for a in r.payload.get("alerts", []) if a.get("status") == "firing"] for r in items]


def arrivals(receiver: DutyReceiver) -> list[tuple[datetime, dict]]:
    """(arrival time, alert) of every firing alert a receiver accepted."""
    with receiver._lock:
        items = list(receiver.received)
    return [(r.at, a) for r in items for a in r.payload.get("alerts", []) if a.get("status") == "firing"]


# --- hostile records
def fuzzed(n: int, rng: random.Random) -> list[tuple[bytes, bytes | None, str]]:
    """n hostile records (key, value, kind); every key is unique so its dead letter can be found."""
    good = {"post_id": "", "site": "fuzz", "source": "fuzz", "kind": "forum", "url": "http://127.0.0.1/f",
            "text": "正文", "published_at": "2026-11-26T08:00:00+00:00", "crawled_at": "2026-11-26T08:00:00+00:00"}
    makers = {
        "bad_json": lambda k: b'{"post_id": "' + k + b'", "text": ',
        "bad_utf8": lambda k: b'{"post_id": "' + k + b'", "text": "\xff\xfe\xfa"}',
        "nesting": lambda k: b"[" * rng.choice((5_000, 50_000, 200_000)),
        "oversize": lambda k: json.dumps({**good, "post_id": k.decode(), "text": "长" * (MAX_RAW_BYTES // 2)}).encode(),
        "wrong_types": lambda k: json.dumps({**good, "post_id": k.decode(), "kind": 7, "text": ["a"]}).encode(),
        "nan": lambda k: json.dumps({**good, "post_id": k.decode()}).encode()[:-1] + b', "x": NaN}',
        "key_mismatch": lambda k: json.dumps({**good, "post_id": "other:" + k.decode()}).encode(),
        "not_object": lambda k: json.dumps([k.decode(), 1, None]).encode(),
        "tombstone": lambda k: None,
    }
    kinds = [k for k in makers if k != "oversize"]
    out = []
    for i in range(n):
        kind = "oversize" if i % 500 == 0 else kinds[i % len(kinds)]     # a few large records only
        key = f"fuzz:{i}".encode()
        out.append((key, makers[kind](key), kind))
    return out


def inject(settings: Settings, records, out: dict) -> None:
    from kafka import KafkaProducer

    t0 = time.monotonic()
    producer = KafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all", linger_ms=20, retries=1_000_000,
                             delivery_timeout_ms=300_000, max_request_size=8 * 1024 * 1024)
    failed = []
    for key, value, _ in records:
        producer.send(settings.topic(POSTS_RAW.name), key=key, value=value).add_errback(failed.append)
    producer.flush(300)
    producer.close(10)
    out.update(produced_s=round(time.monotonic() - t0, 1), produce_failed=len(failed))
    say(f"faults: {len(records)} fuzzed records produced in {out['produced_s']}s ({len(failed)} failed)")


def read_to_end(settings: Settings, topic: str):
    """Every record of a namespace topic up to its end offsets when called (topics that keep
    growing, like surges with its alert ticks, end too)."""
    from kafka import KafkaConsumer, TopicPartition

    # check_crcs off: kafka-python checks CRC32C in pure Python (minutes for the ~150 MB of dead
    # letters 10,000 fuzzed records make); the brokers checked every batch when it was produced
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_servers, enable_auto_commit=False, group_id=None,
                             fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=16 * 1024 * 1024,
                             check_crcs=False)
    try:
        name = settings.topic(topic)
        tps = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        deadline = time.monotonic() + 300
        while any(consumer.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: not read to its end in 300 s")
            for batch in consumer.poll(timeout_ms=1000).values():
                yield from (m for m in batch if m.offset < end[TopicPartition(m.topic, m.partition)])
    finally:
        consumer.close()


def dead_letters(settings: Settings) -> dict[str, str]:
    """key -> reason of every record in the namespace's posts.dlq."""
    out = {}
    for msg in read_to_end(settings, POSTS_DLQ.name):
        record = json.loads(msg.value)
        out[base64.b64decode(record["key_b64"]).decode("utf-8", "replace")] = record["reason"]
    return out


def surge_episodes(settings: Settings) -> dict[tuple[str, str], tuple[datetime, datetime | None]]:
    """(subject, rule) -> (first firing, first resolution after it) from the namespace's surges topic."""
    from streams.records import ALERT_TICK_KEY

    out: dict[tuple[str, str], tuple[datetime, datetime | None]] = {}
    for msg in read_to_end(settings, SURGES.name):
        if msg.key == ALERT_TICK_KEY:
            continue
        surge = Surge.from_bytes(msg.value)
        key = (surge.subject, surge.rule)
        if surge.status == "firing" and key not in out:
            out[key] = (surge.detected_at, None)
        elif surge.status == "resolved" and key in out and out[key][1] is None:
            out[key] = (out[key][0], surge.detected_at)
    return out


def indexed_docs(settings: Settings) -> list[tuple[str, str, bool]]:
    """(post id, cluster_id, is_repost) of every document behind the namespace's posts alias."""
    from elasticsearch import helpers

    from shaobing.connections import es_client

    with es_client(settings, request_timeout=60) as es:
        es.indices.refresh(index=settings.alias("posts"))
        return [(hit["_id"], hit["_source"].get("cluster_id", ""), bool(hit["_source"].get("is_repost")))
                for hit in helpers.scan(es, index=settings.alias("posts"), query={"query": {"match_all": {}}},
                                        _source=["cluster_id", "is_repost"])]


def send_canary(settings: Settings, subject: str) -> datetime:
    """A firing surge of another subject, straight into the surges topic: its alert must not wait
    behind the dead channel of the scenario's subject."""
    from kafka import KafkaProducer

    now = datetime.now(timezone.utc)
    surge = Surge(subject=subject, rule="surge", status="firing", window_start=now - timedelta(minutes=1),
                  window_end=now, count=30, baseline=2.0, negative_share=0.0, trend=[1, 2, 2, 30],
                  detected_at=now, score=9.0, since=now)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all", retries=1_000_000)
    producer.send(settings.topic(SURGES.name), key=subject.encode(), value=surge.to_bytes())
    producer.flush(60)
    producer.close(10)
    return now


# --- the pipeline's state over time
@dataclass
class LagMonitor:
    """Samples the worker group's lag on the post topics every `every_s` seconds."""

    settings: Settings
    every_s: float = 2.0
    samples: list[tuple[float, int | None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> "LagMonitor":
        threading.Thread(target=self._run, daemon=True, name="lag-monitor").start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        from kafka.errors import KafkaError

        while not self._stop.wait(self.every_s):
            try:
                lag = pipeline_lag(self.settings)
            except (KafkaError, OSError) as exc:   # a broker is down: a gap in the samples, said so
                say(f"faults: lag probe failed ({exc.__class__.__name__})")
                lag = None
            self.samples.append((time.monotonic(), lag))

    def drained_after(self, t: float) -> float | None:
        """Seconds from t until the first sample at or after t with the lag at zero."""
        return next((round(at - t, 1) for at, lag in list(self.samples) if at >= t and lag == 0), None)

    def max_lag_between(self, t0: float, t1: float) -> int | None:
        lags = [lag for at, lag in list(self.samples) if t0 <= at <= t1 and lag is not None]
        return max(lags) if lags else None


def in_sync_after(settings: Settings, topics: list[str], timeout_s: float = 300) -> float | None:
    """Seconds until every partition of `topics` has all three replicas in sync again."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        try:
            admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers)
            try:
                parts = [p for d in admin.describe_topics(topics) for p in d["partitions"]]
            finally:
                admin.close()
            if parts and all(len(p["isr_nodes"]) == 3 for p in parts):
                return round(time.monotonic() - t0, 1)
        except KafkaError as exc:
            say(f"faults: ISR probe failed ({exc.__class__.__name__})")
        time.sleep(2)
    return None


def freeze(pid: int, seconds: float) -> None:
    os.killpg(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.killpg(pid, signal.SIGCONT)
