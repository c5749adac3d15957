"""Small helpers for the integration tier: free ports, unique names, a private stack's Settings."""
from __future__ import annotations

import socket
import uuid

from shaobing.settings import Settings, load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def private_stack_settings(base: Settings, name: str) -> Settings:
    """Settings for a second, throw-away stack beside the shared one: own ports and state dir.

    The state dir sits under the shared one because, for root, Elasticsearch runs as an
    unprivileged user that must be able to enter it (pytest's tmp dirs are private to root).
    """
    return load_settings(
        state_dir=base.state_dir / "tests" / unique(name),
        kafka_port=free_port(), kafka_controller_port=free_port(),
        es_port=free_port(), es_transport_port=free_port(),
        kafka_heap_mb=256, es_heap_mb=512,
    )


def settings_env(s: Settings) -> dict[str, str]:
    return {
        "SHAOBING_STATE_DIR": str(s.state_dir),
        "SHAOBING_CACHE_DIR": str(s.cache_dir),
        "SHAOBING_KAFKA_PORT": str(s.kafka_port),
        "SHAOBING_KAFKA_CONTROLLER_PORT": str(s.kafka_controller_port),
        "SHAOBING_ES_PORT": str(s.es_port),
        "SHAOBING_ES_TRANSPORT_PORT": str(s.es_transport_port),
        "SHAOBING_KAFKA_HEAP_MB": str(s.kafka_heap_mb),
        "SHAOBING_ES_HEAP_MB": str(s.es_heap_mb),
    }


def topic_configs(servers: str, topic: str) -> dict[str, str]:
    """The broker's config values for one topic (kafka-python 3 answers a nested dict)."""
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        resp = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    return {name: entry["value"] for name, entry in resp["topic"][topic].items()}


def free_port_range(n: int, tries: int = 200) -> int:
    """The first of `n` consecutive free loopback ports (a private multi-broker cluster's ports)."""
    import random

    from infra.nodes import port_in_use

    for _ in range(tries):
        base = random.randrange(20_000, 40_000)
        if not any(port_in_use(base + i) for i in range(n)):
            return base
    raise RuntimeError(f"no {n} consecutive free ports found")
