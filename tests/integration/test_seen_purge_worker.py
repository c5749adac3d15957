"""A real worker deletes seen_posts entries older than the horizon from its RocksDB store and
tombstones them in the table's changelog, and keeps the fresh ones.

The stale entries are written into the changelog before the worker starts (what a month-old
worker's table holds); the worker restores them, and its analyze batches sweep them away."""
from __future__ import annotations

import json
import re
import time
import urllib.request
from datetime import datetime, timezone

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from infra.stack import provision, reset_namespace
from shaobing.processes import spawn_shaobing
from shaobing.settings import load_settings
from streams.topics import POSTS_RAW
from tests.integration.helpers import unique

DAY_S = 86400


def _changelog(settings) -> dict[bytes, bytes | None]:
    topic = f"{settings.faust_app_id}-seen_posts-changelog"
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_servers, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in range(POSTS_RAW.partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        latest: dict[bytes, bytes | None] = {}
        deadline = time.monotonic() + 30
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    latest[r.key] = r.value
        return latest
    finally:
        consumer.close()


def _expired_count(port: int) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    m = re.search(r'shaobing_stream_records_total\{outcome="expired",stage="dedup"\} ([0-9.e+]+)', text)
    return float(m.group(1)) if m else 0.0


def test_worker_sweeps_expired_seen_entries(live_stack, tmp_path):
    settings = load_settings(namespace=unique("it-purge"))
    provision(settings, echo=lambda _: None)
    today = int(time.time() // DAY_S)
    changelog = f"{settings.faust_app_id}-seen_posts-changelog"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    worker = None
    try:
        admin.create_topics([NewTopic(changelog, POSTS_RAW.partitions, 1, topic_configs={"cleanup.policy": "compact"})])
        producer = KafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all")
        stale, fresh = set(), set()
        for p in range(POSTS_RAW.partitions):
            for i in range(40):
                key = json.dumps(f"stale:{p}:{i}").encode()
                producer.send(changelog, key=key, value=json.dumps(["h", today - 30]).encode(), partition=p)
                stale.add(key)
            for i in range(5):
                key = json.dumps(f"fresh:{p}:{i}").encode()
                producer.send(changelog, key=key, value=json.dumps(["h", today - 3]).encode(), partition=p)
                fresh.add(key)
        producer.flush(30)

        env = {"SHAOBING_NAMESPACE": settings.namespace, "SHAOBING_STATE_DIR": str(settings.state_dir),
               "SHAOBING_METRICS_PORT": "0", "SHAOBING_WORKER_NAME": "purge-1", "SHAOBING_LOG_LEVEL": "INFO"}
        worker = spawn_shaobing("worker", ["worker"], env, tmp_path / "logs")
        port = int(worker.wait_for(r"METRICS_PORT=(\d+)", 120).group(1))
        worker.wait_for(r"\[\^Worker\]: Ready", 180)
        now = datetime.now(timezone.utc).isoformat()
        deadline = time.monotonic() + 120
        n = 0
        while _expired_count(port) < len(stale) and time.monotonic() < deadline:
            for p in range(POSTS_RAW.partitions):     # batches on every partition drive the sweep
                n += 1
                post = {"post_id": f"live:{n}", "site": "bbs.example.cn", "source": "example", "kind": "forum",
                        "url": f"https://bbs.example.cn/t/{n}", "title": "", "text": f"第{n}条帖子的正文内容",
                        "published_at": now, "crawled_at": now}
                producer.send(settings.topic(POSTS_RAW.name), key=post["post_id"].encode(), partition=p,
                              value=json.dumps(post, ensure_ascii=False).encode())
            producer.flush(30)
            time.sleep(1)
        producer.close()
        assert _expired_count(port) == len(stale), worker.tail()

        latest = _changelog(settings)
        assert all(latest.get(k, b"missing") is None for k in stale), "every stale entry is tombstoned"
        assert all(latest.get(k) == json.dumps(["h", today - 3]).encode() for k in fresh), "fresh entries stay"
        assert worker.alive()
    finally:
        if worker is not None:
            worker.stop()
        admin.close()
        reset_namespace(settings, echo=lambda _: None)
