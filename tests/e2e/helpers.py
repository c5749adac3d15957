"""Reading back what the pipeline wrote: Elasticsearch documents, topic records, metrics."""
from __future__ import annotations

import json
import time

from elasticsearch import Elasticsearch
from kafka import KafkaConsumer


def indexed(demo) -> dict[str, dict]:
    """post_id -> source for every document behind the namespace's posts alias."""
    with Elasticsearch(demo.settings.elasticsearch_url, request_timeout=30) as es:
        es.indices.refresh(index=demo.settings.alias("posts"))
        resp = es.search(index=demo.settings.alias("posts"), size=10_000, query={"match_all": {}},
                         source_excludes=["tokens"])
    docs = {}
    for hit in resp["hits"]["hits"]:
        assert hit["_id"] == hit["_source"]["post_id"]
        assert hit["_id"] not in docs
        docs[hit["_id"]] = hit["_source"]
    assert resp["hits"]["total"]["value"] == len(docs)
    return docs


def topic_records(demo, name: str, timeout_ms: int = 3000) -> list:
    consumer = KafkaConsumer(demo.settings.topic(name), bootstrap_servers=demo.settings.kafka_servers,
                             auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=timeout_ms,
                             fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=16 * 1024 * 1024)
    try:
        return list(consumer)
    finally:
        consumer.close()


def wait_for(predicate, timeout_s: float, what: str, interval_s: float = 1.0):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what} (last: {last!r})")


def firing(demo) -> list[dict]:
    return [a for a in demo.receiver.alerts() if a.get("status") == "firing"]


def load(record) -> dict:
    return json.loads(record.value)
