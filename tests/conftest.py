"""Shared test set-up: tier markers by folder, and the real-stack fixtures."""
from __future__ import annotations

import pytest

from shaobing.settings import Settings, load_settings

HOW_TO_START = "start it with `make stack-up` (or `.venv/bin/shaobing stack up`), or run `make test`"


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = str(item.path)
        if "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def live_stack(settings: Settings) -> Settings:
    """The real Kafka broker and Elasticsearch node; fails (never skips) when they are down."""
    from infra.stack import es_healthy, kafka_healthy

    ok_k, detail_k = kafka_healthy(settings.kafka_servers)
    ok_e, detail_e = es_healthy(settings.elasticsearch_url)
    if not (ok_k and ok_e):
        pytest.fail(
            f"the real stack is needed: Kafka {settings.kafka_servers} ({detail_k}), "
            f"Elasticsearch {settings.elasticsearch_url} ({detail_e}); {HOW_TO_START}",
            pytrace=False,
        )
    return settings
