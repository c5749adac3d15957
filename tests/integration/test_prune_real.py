"""`shaobing stack prune` (infra.prune) on the real broker and node: a generated namespace whose
last write is past the cutoff loses its topics, groups and indices; a fresh one keeps them."""
from __future__ import annotations

import time

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from infra.prune import prune
from infra.stack import _group_id, provision
from shaobing.connections import es_client
from shaobing.settings import load_settings
from tests.integration.helpers import unique


def _left(settings) -> tuple[list[str], list[str]]:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    try:
        topics = [t for t in admin.list_topics() if t.startswith(f"{settings.namespace}.")]
    finally:
        admin.close()
    with es_client(settings) as es:
        indices = list(es.indices.get(index=f"{settings.namespace}-*", allow_no_indices=True))
    return topics, indices


def _groups(settings) -> set[str]:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    try:
        return {_group_id(g) for g in admin.list_groups()}
    finally:
        admin.close()


def test_an_old_generated_namespace_goes_and_a_fresh_one_stays(live_stack):
    # unique()'s form, with a letter in the suffix (an all-digit one is never pruned: infra.prune)
    old, fresh = (load_settings(namespace=unique("it-prune")[:-1] + "a") for _ in range(2))
    for settings in (old, fresh):
        provision(settings, echo=lambda _: None)
        topics, indices = _left(settings)
        assert topics and indices
    # a consumer group of the old namespace's worker, with a committed offset
    group = KafkaConsumer(old.topic("posts.raw"), bootstrap_servers=old.kafka_servers, group_id=old.faust_app_id,
                          auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        group.poll(timeout_ms=3000)
        group.commit({TopicPartition(old.topic("posts.raw"), 0): OffsetAndMetadata(0, "", -1)})
    finally:
        group.close()
    assert old.faust_app_id in _groups(old)
    said = []
    # a cutoff in the future makes `old` old; `only` keeps other runs' namespaces out of it
    doomed = prune(old, older_than_s=-3600, only={old.namespace}, echo=said.append)
    assert doomed.namespaces == [old.namespace] and "1 namespaces" in said[0]
    deadline = time.monotonic() + 30      # a broker's metadata may lag its controller's briefly
    while _left(old) != ([], []) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _left(old) == ([], [])
    assert old.faust_app_id not in _groups(old)
    kept = prune(fresh, older_than_s=3600, only={fresh.namespace}, echo=said.append)
    assert kept.namespaces == []
    topics, indices = _left(fresh)
    assert topics and indices
    prune(fresh, older_than_s=-3600, only={fresh.namespace}, echo=said.append)     # clean up
