"""Silences and acks in the compacted alerts.control topic on the real broker: a CLI on one host
writes, two workers (two readers) see the same state, an expiry made through one reader reaches
the other, and a worker started later rebuilds everything from the topic."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from kafka import KafkaAdminClient

from alerting.control import silence_matches
from alerting.service import control_store
from infra.stack import create_topics
from shaobing.settings import load_settings
from streams.topics import ALERT_CONTROL
from tests.integration.helpers import topic_configs, unique


@pytest.fixture()
def ns_settings(live_stack, tmp_path):
    # each "host" gets its own state dir: nothing may be shared through the file system
    s = load_settings(namespace=unique("it-control"), state_dir=tmp_path / "cli")
    create_topics(s.kafka_servers, s.topic)
    yield s
    admin = KafkaAdminClient(bootstrap_servers=s.kafka_servers)
    try:
        admin.delete_topics([t for t in admin.list_topics() if t.startswith(f"{s.namespace}.")])
    finally:
        admin.close()


def _until(check, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "the other reader never saw the change"
        time.sleep(0.1)


def test_every_worker_sees_the_same_silences_and_acks(ns_settings, tmp_path):
    now = datetime.now(timezone.utc)
    host = lambda name: load_settings(namespace=ns_settings.namespace, state_dir=tmp_path / name)  # noqa: E731
    cli, worker_a, worker_b = control_store(ns_settings), control_store(host("a")), control_store(host("b"))
    late = None
    try:
        silence = cli.add_silence(subject="[重点]化工厂", duration=timedelta(hours=1), now=now, created_by="值班长")
        cli.record_ack(key="sb-abc", subject="某县", now=now, by="李值班", episode="2026-11-29T00:00:00+00:00")
        alert = {"subject": "[重点]化工厂", "rule": "surge"}
        for worker in (worker_a, worker_b):
            _until(lambda w=worker: any(silence_matches(s, alert, now) for s in w.active_silences(now)))
            _until(lambda w=worker: w.acks().get("sb-abc", {}).get("by") == "李值班")

        assert worker_a.expire_silence(silence["id"], now + timedelta(minutes=5))
        later = now + timedelta(minutes=6)
        _until(lambda: worker_b.active_silences(later) == [] and cli.active_silences(later) == [])

        late = control_store(host("late"))           # a worker started after the fact (rebalance)
        assert late.acks()["sb-abc"]["episode"] == "2026-11-29T00:00:00+00:00"
        assert late.active_silences(later) == []
        assert late.active_silences(now)[0]["subject"] == "[重点]化工厂"     # the record says when it ended
    finally:
        for store in (cli, worker_a, worker_b, late):
            if store is not None:
                store.close()


def test_the_control_topic_is_compacted_on_the_broker(ns_settings):
    configs = topic_configs(ns_settings.kafka_servers, ns_settings.topic(ALERT_CONTROL.name))
    assert configs["cleanup.policy"] == "compact"
