"""Scheduled daily reports against the real Elasticsearch node: delivered once per period across
a scheduler restart, resent after a crash between archiving and sending, no miss. The duty
channel is a fake vendor server (httpx.MockTransport) that counts what it receives."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from prometheus_client import CollectorRegistry

from alerting.channels.factory import build_channels
from alerting.rules import load_rules
from console.app import create_app
from indexer.reports.model import SHANGHAI
from indexer.reports.scheduler import ReportScheduler, report_messages_counter
from tests.integration.console_fixture import drop_namespace, fill_namespace, make_token

RULES = """version: 1
channels:
  - {name: duty-hook, type: webhook, url: "http://hook.example/report"}
default_route:
  channels: [duty-hook]
reports:
  console_url: "http://console.example"
"""


@pytest.fixture(scope="module")
def ns(live_stack, tmp_path_factory):
    settings, _, _ = fill_namespace(live_stack.elasticsearch_url, tmp_path_factory.mktemp("schedule-state"))
    try:
        yield settings
    finally:
        drop_namespace(settings)


def test_daily_report_once_per_day_across_restarts(ns, tmp_path):
    settings = ns
    path = tmp_path / "rules.yml"
    path.write_text(RULES, encoding="utf-8")
    rules = load_rules(path)
    received, fail = [], {"on": False}
    registry = CollectorRegistry()
    messages = report_messages_counter(registry)

    def vendor(request: httpx.Request) -> httpx.Response:
        if fail["on"]:
            return httpx.Response(503)
        received.append(json.loads(request.content))
        return httpx.Response(200, json={"ok": True})

    async def scenario():
        es = AsyncElasticsearch(settings.elasticsearch_url, request_timeout=30)
        client = httpx.AsyncClient(transport=httpx.MockTransport(vendor))

        def fresh():      # a scheduler process starting up: nothing in memory
            return ReportScheduler(es, settings, rules, build_channels(rules.spec.channels), client, messages=messages)

        try:
            day27 = datetime(2026, 11, 27, 8, 2, tzinfo=SHANGHAI)
            assert await fresh().tick(day27) == ["daily:20261127T0800"]
            assert await fresh().tick(day27 + timedelta(minutes=1)) == []           # restart: no duplicate
            # a crash after archiving but before sending: the archive says undelivered
            fail["on"] = True
            day28 = datetime(2026, 11, 28, 8, 0, 30, tzinfo=SHANGHAI)
            assert await fresh().tick(day28) == []                                   # channel down: retried later
            fail["on"] = False
            assert await fresh().tick(day28 + timedelta(minutes=5)) == ["daily:20261128T0800"]   # no miss
            assert await fresh().tick(day28 + timedelta(hours=1)) == []
            return await fresh().archive()
        finally:
            await client.aclose()
            await es.close()

    archive = asyncio.run(scenario())
    assert [m["title"] for m in received] == ["重要舆情摘报（日报）", "重要舆情摘报（日报）"]
    assert "本期共监测到相关信息 7 条" in received[0]["markdown"]       # the fixture's posts are on 11-26
    assert received[0]["markdown"].endswith("[在控制台查看全文](http://console.example/#/reports)")
    assert [registry.get_sample_value("shaobing_reports_messages_total", {"kind": "daily", "outcome": outcome})
            for outcome in ("delivered", "failed")] == [2.0, 1.0]
    assert [(a["report_id"], a["channels"]) for a in archive] == [
        ("daily:20261128T0800", ["duty-hook"]), ("daily:20261127T0800", ["duty-hook"])]


def test_console_lists_and_opens_archived_reports(ns):
    settings = ns      # after the test above archived two daily reports in this namespace
    token = make_token(settings, "viewer")
    app = create_app(settings)

    async def scenario():
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://console",
                headers={"Authorization": f"Bearer {token}"}) as client:
            listed = (await client.get("/api/v1/reports")).json()["reports"]
            page = await client.get("/api/v1/reports/archive/daily:20261127T0800")
            missing = await client.get("/api/v1/reports/archive/daily:20200101T0800")
            return listed, page, missing

    listed, page, missing = asyncio.run(scenario())
    assert [r["report_id"] for r in listed] == ["daily:20261128T0800", "daily:20261127T0800"]
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h2>一、总体态势</h2>" in page.text and "本期共监测到相关信息 7 条" in page.text
    assert missing.status_code == 404
