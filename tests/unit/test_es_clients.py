"""Every Elasticsearch client of the project is built by shaobing.connections with the settings'
options (API key, CA bundle): the console, the worker's sink and the CLI reach a secured node
alike."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import certifi
import pytest

from console.store import ConsoleStore
from indexer.sink import PostSink
from shaobing.connections import async_es_client, es_client, es_options
from shaobing.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
CONSTRUCTOR = re.compile(r"\b(?:Async)?Elasticsearch\(")
SKIP_DIRS = {".venv", "node_modules", "tests", ".git"}


@pytest.fixture
def secured(tmp_path):
    (tmp_path / "key").write_text("aWQ6a2V5\n")
    return load_settings(es_url="https://es.example:9200", es_api_key_file=tmp_path / "key",
                         es_ca_certs=certifi.where(), state_dir=tmp_path)


def assert_secured(client) -> None:
    assert client._headers["authorization"] == "ApiKey aWQ6a2V5"
    assert client.transport.node_pool.get().config.ca_certs == certifi.where()


def test_no_client_is_built_outside_connections():
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if SKIP_DIRS & set(rel.parts) or rel == Path("shaobing/connections.py"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if CONSTRUCTOR.search(line) and not line.lstrip().startswith(("#", '"')):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == [], "build clients with shaobing.connections.es_client / async_es_client"


def test_sync_and_async_clients_carry_the_options(secured):
    with es_client(secured, request_timeout=7) as es:
        assert_secured(es)

    async def check():
        es = async_es_client(secured)
        try:
            assert_secured(es)
        finally:
            await es.close()
    asyncio.run(check())


def test_console_store_and_sink_reach_a_secured_node_like_the_worker(secured):
    async def check():
        store = ConsoleStore(secured)
        sink = PostSink(secured.elasticsearch_url, es_options=es_options(secured))
        try:
            assert_secured(store.es)
            assert_secured(sink.es)
        finally:
            await store.close()
            await sink.close()
    asyncio.run(check())


def test_an_unsecured_node_gets_no_credentials(tmp_path):
    with es_client(load_settings(state_dir=tmp_path)) as es:
        assert "authorization" not in es._headers


def test_the_health_check_asks_a_secured_node_with_the_api_key(secured):
    import httpx

    from infra.stack import es_healthy

    seen = []

    def node(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={"status": "green"}) if seen[-1] == "ApiKey aWQ6a2V5" else httpx.Response(401)

    transport = httpx.MockTransport(node)
    assert es_healthy(secured.elasticsearch_url, options=es_options(secured), transport=transport) == \
        (True, "cluster health green")
    assert es_healthy(secured.elasticsearch_url, transport=transport) == (False, "cluster health HTTP 401")
    assert seen == ["ApiKey aWQ6a2V5", None]
