"""Dispatcher + delivery loop + generic webhook over httpx.MockTransport, on a pinned clock."""
from __future__ import annotations

import hashlib
import hmac
import io
import json

import httpx
from prometheus_client import CollectorRegistry

from alerting.channels.console import ConsoleChannel
from alerting.channels.webhook import WebhookChannel
from alerting.delivery import Deliverer, RetryPolicy
from alerting.dispatcher import Dispatcher
from alerting.metrics import AlertingMetrics
from alerting.routing import Route, Router, Timing
from alerting.state import JsonFileStore, MappingStore
from tests.fakes.alerts import Settled, surge
from tests.fakes.clock import FakeClock

SECRET = "whsec-0123456789"


class Receiver:
    """Answers with the scripted statuses in turn (then 200) and records what it got."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.got: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.got.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx.Response(status, json={"ok": status == 200})


def build(receiver, *, store=None, fallback=False, clock=None, deadline=60.0):
    clock = clock or FakeClock()
    metrics = AlertingMetrics(CollectorRegistry())
    client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    out = io.StringIO()
    channels = {"hook": WebhookChannel("hook", "https://hooks.example/t/TOKEN123", SECRET),
                "console": ConsoleChannel("console", out)}
    route = Route("duty", ("hook",), ("console",) if fallback else (), Timing(group_wait_s=0))
    dispatcher = Dispatcher(router=Router([], route), channels=channels, store=store or MappingStore({}),
                            deliverer=Deliverer(client, metrics, policy=RetryPolicy(deadline_s=deadline),
                                                clock=clock, sleep=clock.sleep),
                            metrics=metrics)
    return Settled(dispatcher), metrics, clock, out


async def test_surge_is_sent_once_signed_and_alertmanager_shaped():
    rx = Receiver()
    dispatcher, metrics, clock, _ = build(rx)
    results = await dispatcher.dispatch(surge(), now=clock())
    assert [r.outcome for r in results] == ["delivered"]
    await dispatcher.dispatch(surge(count=200), now=clock.advance(30))   # same episode
    await dispatcher.tick(now=clock.advance(300))
    assert len(rx.got) == 1
    req = rx.got[0]
    ts = req.headers["X-Shaobing-Timestamp"]
    expected = hmac.new(SECRET.encode(), ts.encode() + b"." + req.content, hashlib.sha256).hexdigest()
    assert req.headers["X-Shaobing-Signature"] == "sha256=" + expected
    body = json.loads(req.content)
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["alerts"][0]["labels"] == {"alertname": "surge", "subject": "某县", "severity": "warning"}
    assert "声量" in body["alerts"][0]["annotations"]["description"]
    assert metrics.notifications.labels(channel="hook", outcome="delivered")._value.get() == 1


async def test_retries_with_backoff_on_5xx_and_429_then_delivers():
    rx = Receiver([503, 429, 502])
    dispatcher, metrics, clock, _ = build(rx)
    results = await dispatcher.dispatch(surge(), now=clock())
    assert [(r.ok, r.attempts) for r in results] == [(True, 4)]
    assert clock.slept == [1.0, 2.0, 4.0]


async def test_permanent_4xx_stops_at_once_and_goes_to_fallback():
    rx = Receiver([403])
    dispatcher, _, clock, out = build(rx, fallback=True)
    results = await dispatcher.dispatch(surge(), now=clock())
    assert [(r.channel, r.ok, r.attempts, r.reason) for r in results] == [
        ("hook", False, 1, "http_403"), ("console", True, 1, "ok")]
    assert "某县" in out.getvalue()
    # the primary is retried at the next group flush; the fallback is not spammed
    results = await dispatcher.tick(now=clock.advance(300))
    assert [(r.channel, r.ok) for r in results] == [("hook", True)]
    assert out.getvalue().count("-" * 40) == 1


async def test_retry_stops_at_the_deadline():
    rx = Receiver([500] * 100)
    dispatcher, _, clock, _ = build(rx, deadline=20)
    (result,) = await dispatcher.dispatch(surge(), now=clock())
    assert not result.ok and result.reason == "deadline" and sum(clock.slept) <= 20


async def test_restart_neither_resends_nor_forgets(tmp_path):
    path = tmp_path / "state.json"
    rx = Receiver()
    dispatcher, _, clock, _ = build(rx, store=JsonFileStore(path))
    await dispatcher.dispatch(surge(), now=clock())
    restarted, _, _, _ = build(rx, store=JsonFileStore(path), clock=clock)
    await restarted.dispatch(surge(count=150), now=clock.advance(60))
    await restarted.tick(now=clock.advance(300))
    assert len(rx.got) == 1
    await restarted.dispatch(surge(status="resolved"), now=clock.advance(10))
    await restarted.tick(now=clock.advance(300))
    assert [json.loads(r.content)["status"] for r in rx.got] == ["firing", "resolved"]


class CountingStore(MappingStore):
    def __init__(self):
        super().__init__({})
        self.writes = 0

    def save(self, shard, state):
        self.writes += 1
        super().save(shard, state)


async def test_idle_ticks_do_not_rewrite_the_changelogged_state():
    store = CountingStore()
    dispatcher, _, clock, _ = build(Receiver(), store=store)
    await dispatcher.dispatch(surge(), now=clock())
    writes = store.writes
    for _ in range(20):
        await dispatcher.tick(now=clock.advance(2))        # nothing due: group_interval is 5 min
    assert store.writes == writes
