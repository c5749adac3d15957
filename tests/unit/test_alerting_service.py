"""The assembled alerter (rules file -> channels -> fakes) on a pinned clock: rate-limit digests,
fallback when the primary stays down, two workers, fan-out retries, silences, signed acks,
escalation, quiet hours and major-event windows."""
from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from prometheus_client import CollectorRegistry

from alerting.control import FileControlStore
from alerting.delivery import Deliverer, RetryPolicy
from alerting.metrics import AlertingMetrics
from alerting.rules import load_rules
from alerting.service import build_alerter, link_signer
from tests.fakes.alerts import Settled, surge
from tests.fakes.clock import FakeClock
from tests.fakes.vendors import FakeDingTalk, FakeWeCom

RULES = """
version: 1
channels:
  - {{name: ding, type: dingtalk, url: "{ding}", secret: SECtestsecret, mentions: ["13800001111"]}}
  - {{name: wecom, type: wecom, url: "{wecom}"}}
routes:
  - name: critical
    match: {{min_severity: critical}}
    channels: [ding, wecom]
    group_interval: 5m
default_route:
  name: duty
  channels: [ding]
  fallback: [wecom]
  group_interval: 5m
  repeat_interval: 1h
  escalate_after: 15m
quiet_hours:
  - {{start: "00:00", end: "07:00", min_severity: critical}}
major_events:
  - name: 两会
    start: 2025-03-05 09:00
    end: 2025-03-11 18:00
    surge: {{ratio: 1.2, min_count: 5}}
    watch: [代表, 委员]
    extra_channels: [wecom]
    escalate_after: 5m
links:
  public_url: https://sb.example
  search_url: "https://sb.example/search?q={{subject}}"
  ack_secret: ack-signing-secret-xyz
retry: {{deadline: 20s}}
"""


@pytest.fixture
def clock():
    return FakeClock()          # 2025-03-05 10:00 Asia/Shanghai: inside the 两会 window


@pytest.fixture
async def env(clock, tmp_path):
    ding = await FakeDingTalk(clock, token="dt", secret="SECtestsecret").start()
    wecom = await FakeWeCom(clock, token="wk").start()
    path = tmp_path / "rules.yml"

    def make(text=RULES, **fmt):
        path.write_text(text.format(ding=ding.url(), wecom=wecom.url(), **fmt), encoding="utf-8")
        return load_rules(path)

    client = httpx.AsyncClient()
    control = FileControlStore(tmp_path / "control.json")

    def alerter(rules):
        metrics = AlertingMetrics(CollectorRegistry())
        deliverer = Deliverer(client, metrics, policy=RetryPolicy(deadline_s=20), clock=clock, sleep=clock.sleep)
        return Settled(build_alerter(rules, metrics=metrics, deliverer=deliverer, control=control))

    yield make, alerter, ding, wecom, control
    await client.aclose()
    await ding.close()
    await wecom.close()


async def test_major_event_window_adds_channels_and_lowers_thresholds(env, clock):
    make, alerter, ding, wecom, _ = env
    rules = make()
    assert rules.params_for("某县", clock()).ratio == 1.2
    assert rules.params_for("某县", clock() + timedelta(days=30)).ratio == 1.5          # the packaged default
    assert rules.watch_terms(clock())["重大活动:两会"] == ("代表", "委员")
    table = {}
    await alerter(rules).handle(surge(), table, now=clock())
    assert len(ding.accepted) == 1 and len(wecom.accepted) == 1


async def test_rate_limit_never_trips_the_vendor_and_overflow_becomes_one_digest(env, clock):
    make, alerter, ding, _, _ = env
    rules = make(RULES.replace("extra_channels: [wecom]", "extra_channels: []"))
    a, table = alerter(rules), {}
    for i in range(25):
        await a.handle(surge(subject=f"主题{i}"), table, now=clock())
    assert len(ding.accepted) == 18 and all(ans.get("errcode") == 0 for ans in ding.answers)
    await a.tick(table, now=clock.advance(61))
    assert len(ding.accepted) == 19
    digest = ding.accepted[-1]["markdown"]["text"]
    assert "7 条告警因发送频率限制合并" in digest and all(f"主题{i}" in digest for i in range(18, 25))
    await a.tick(table, now=clock.advance(400))
    assert len(ding.accepted) == 19                  # nothing is sent twice


async def test_primary_down_ends_in_fallback_and_primary_gets_it_when_back(env, clock):
    make, alerter, ding, wecom, _ = env
    rules = make(RULES.replace("extra_channels: [wecom]", "extra_channels: []"))
    a, table = alerter(rules), {}
    ding.script = [503] * 30
    results = await a.handle(surge(), table, now=clock())
    assert [(r.channel, r.outcome) for r in results] == [("ding", "failed"), ("wecom", "delivered")]
    assert "舆情声量突增" in wecom.accepted[0]["markdown"]["content"]
    ding.script = []
    await a.tick(table, now=clock.advance(300))
    assert len(ding.accepted) == 1 and len(wecom.accepted) == 1


async def test_two_workers_sharing_the_changelogged_table_deliver_once(env, clock):
    make, alerter, ding, wecom, _ = env
    rules = make()
    table = {}                                       # the Faust table, restored on the other worker
    await alerter(rules).handle(surge(), table, now=clock())
    await alerter(rules).handle(surge(), table, now=clock.advance(5))       # redelivered after rebalance
    await alerter(rules).tick(table, now=clock.advance(290))                # group_interval, before escalation
    assert len(ding.accepted) == 1 and len(wecom.accepted) == 1


async def test_fan_out_retry_does_not_duplicate_on_the_healthy_channel(env, clock):
    make, alerter, ding, wecom, _ = env
    rules = make()
    a, table = alerter(rules), {}
    ding.script = [500] * 30
    await a.handle(surge(severity="critical"), table, now=clock())
    assert len(wecom.accepted) == 1 and len(ding.accepted) == 0
    ding.script = []
    await a.tick(table, now=clock.advance(300))
    await a.tick(table, now=clock.advance(300))
    assert len(wecom.accepted) == 1 and len(ding.accepted) == 1


async def test_silence_mutes_until_it_expires(env, clock):
    make, alerter, ding, _, control = env
    rules = make(RULES.replace("extra_channels: [wecom]", "extra_channels: []"))
    a, table = alerter(rules), {}
    silence = control.add_silence(subject="某*", glob=True, duration=timedelta(hours=1), now=clock(), created_by="值班长")
    await a.handle(surge(), table, now=clock())
    await a.tick(table, now=clock.advance(300))
    assert ding.accepted == []
    control.expire_silence(silence["id"], clock())
    await a.tick(table, now=clock.advance(300))
    assert len(ding.accepted) == 1


async def test_signed_ack_stops_repeats_and_escalation(env, clock):
    make, alerter, ding, wecom, control = env
    rules = make(RULES.replace("extra_channels: [wecom]", "extra_channels: []"))
    a, table = alerter(rules), {}
    await a.handle(surge(), table, now=clock())
    text = ding.accepted[0]["markdown"]["text"]
    assert "确认（停止重复提醒）](https://sb.example/ack?" in text
    signer = link_signer(rules)
    key = a.dispatcher.store.load("某县")["alerts"].popitem()[0]
    url = httpx.URL(signer.url("ack", key, "某县", clock()))
    q = url.params
    assert signer.verify("ack", dict(q), clock())
    assert not signer.verify("ack", {**dict(q), "subject": "某市"}, clock())
    control.record_ack(key=key, subject="某县", now=clock.advance(60), by="李值班")
    for _ in range(5):
        await a.tick(table, now=clock.advance(300))       # past escalate_after (5 min)
    assert len(ding.accepted) == 1 and wecom.accepted == []
    for _ in range(20):
        await a.handle(surge(), table, now=clock.advance(300))   # still firing, past repeat_interval
    assert len(ding.accepted) == 1 and wecom.accepted == []


async def test_unacknowledged_alert_escalates_then_repeats(env, clock):
    make, alerter, ding, wecom, _ = env
    rules = make(RULES.replace("extra_channels: [wecom]", "extra_channels: []"))
    a, table = alerter(rules), {}
    await a.handle(surge(), table, now=clock())
    await a.tick(table, now=clock.advance(299))
    assert wecom.accepted == []
    await a.tick(table, now=clock.advance(2))                # 5 min: the major event's escalate_after
    assert "升级" in wecom.accepted[0]["markdown"]["content"]
    for _ in range(12):
        await a.tick(table, now=clock.advance(300))
    assert len(wecom.accepted) == 1
    assert len(ding.accepted) == 2 and "重复提醒" in ding.accepted[1]["markdown"]["text"]


async def test_quiet_hours_hold_warnings_but_not_critical(env, clock):
    make, alerter, ding, _, _ = env
    rules = make(RULES.replace("extra_channels: [wecom]", "extra_channels: []"))
    night = FakeClock(clock() - timedelta(hours=8))         # 02:00 Asia/Shanghai
    a, table = alerter(rules), {}
    await a.handle(surge(at=night()), table, now=night())
    assert ding.accepted == []
    await a.handle(surge(subject="某市", severity="critical", at=night()), table, now=night())
    assert len(ding.accepted) == 1


async def test_last_episodes_ack_link_does_not_ack_a_new_episode(env, clock):
    import re

    from aiohttp.test_utils import TestClient, TestServer

    from alerting.http import make_app

    make, alerter, ding, wecom, control = env
    rules = make(RULES.replace("extra_channels: [wecom]", "extra_channels: []"))
    a, table = alerter(rules), {}
    http = TestClient(TestServer(make_app(control, link_signer(rules), clock)))
    await http.start_server()

    def ack_params(message: str) -> dict:
        url = re.search(r"\((https://sb\.example/ack\?[^)]*)\)", message).group(1)
        return dict(httpx.URL(url).params)

    try:
        await a.handle(surge(), table, now=clock())
        old_link = ack_params(ding.accepted[0]["markdown"]["text"])
        await a.handle(surge(status="resolved"), table, now=clock.advance(600))
        await a.handle(surge(at=clock.advance(3600)), table, now=clock())           # a new episode
        assert len(ding.accepted) == 3
        assert (await http.post("/ack", data={**old_link, "by": "张"})).status == 200  # valid, but old
        await a.tick(table, now=clock.advance(301))                                  # past escalate_after
        assert len(wecom.accepted) == 1 and "升级" in wecom.accepted[0]["markdown"]["content"]

        await a.handle(surge(status="resolved"), table, now=clock.advance(600))
        await a.handle(surge(at=clock.advance(3600)), table, now=clock())            # a third episode
        new_link = ack_params(ding.accepted[-1]["markdown"]["text"])
        assert (await http.post("/ack", data={**new_link, "by": "张"})).status == 200
        await a.tick(table, now=clock.advance(301))
        # acked: no escalation; the escalated second episode's 已恢复 reached wecom too
        assert [m["markdown"]["content"].splitlines()[0] for m in wecom.accepted] == [
            "### 【升级·未确认】【舆情声量突增·预警】某县（近期第2次）", "### 【舆情声量突增·已恢复】某县（近期第2次）"]
    finally:
        await http.close()
