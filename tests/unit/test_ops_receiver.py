"""Operator alerts: Alertmanager's webhook payload in, duty-channel messages out, through the real
channel modules over httpx.MockTransport, with the channels' rate limits, on a pinned clock."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from alerting import ops
from alerting.channels.base import json_body
from alerting.channels.dingtalk import DingTalkChannel
from alerting.channels.email import EmailChannel
from alerting.channels.webhook import WebhookChannel
from alerting.channels.wecom import MARKDOWN_MAX_BYTES, WeComChannel
from alerting.delivery import Deliverer, RetryPolicy
from alerting.metrics import AlertingMetrics
from alerting.ops_receiver import OpsForwarder, build_app
from alerting.ratelimit import RateLimiter
from tests.fakes.clock import FakeClock

DING_URL = "https://oapi.dingtalk.com/robot/send?access_token=SECRETTOKEN42"
HOSTILE = "bbs](javascript:alert(1))\n### 确认 [点此](http://evil.example)"


def am_alert(name="ShaobingWorkerDown", status="firing", **labels):
    return {"status": status, "labels": {"alertname": name, "severity": "critical", **labels},
            "annotations": {"summary": "流处理 worker 停止响应 / stream worker down",
                            "description": "127.0.0.1:4001 已 1 分钟无法抓取指标"},
            "startsAt": "2025-03-05T02:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9490/graph", "fingerprint": f"fp-{name}-{len(labels)}"}


def am_group(*alerts, status="firing"):
    alerts = alerts or (am_alert(instance="127.0.0.1:4001", namespace="demo"),)
    return {"version": "4", "groupKey": "{}:{alertname=\"x\"}", "truncatedAlerts": 0, "status": status,
            "receiver": "shaobing-ops", "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
            "commonLabels": {"alertname": alerts[0]["labels"]["alertname"], "severity": "critical"},
            "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093", "alerts": list(alerts)}


def group(**kw):
    return ops.parse_group(json.dumps(am_group(**kw)).encode())


def test_parse_rejects_what_is_not_a_version_4_payload_and_names_the_field():
    with pytest.raises(ops.InvalidOpsPayload, match="not JSON"):
        ops.parse_group(b"{nope")
    with pytest.raises(ops.InvalidOpsPayload, match=r"version"):
        ops.parse_group(json.dumps({**am_group(), "version": "3"}).encode())
    bad = am_group()
    bad["alerts"][0]["status"] = "exploded"
    with pytest.raises(ops.InvalidOpsPayload, match=r"alerts\.0\.status"):
        ops.parse_group(json.dumps(bad).encode())
    with pytest.raises(ops.InvalidOpsPayload, match="alerts"):
        ops.parse_group(json.dumps({**am_group(), "alerts": []}).encode())


def test_dingtalk_message_is_chinese_first_with_hostile_labels_escaped():
    g = ops.parse_group(json.dumps(am_group(am_alert("ShaobingSourceSilent", source=HOSTILE))).encode())
    payload = ops.payload_for(DingTalkChannel("ding", DING_URL, mentions=("13800000000",)), g)
    text = payload["markdown"]["text"]
    assert text.startswith("### 【运维严重】ShaobingSourceSilent（1 条）")
    assert "](javascript:" not in text and "\n### 确认" not in text and "[点此]" not in text
    assert "source=bbs］（javascript:alert（1））" in text           # visible, inert
    assert "自 03-05 10:00:00（北京时间）" in text                    # Asia/Shanghai
    assert text.endswith("@13800000000") and payload["at"]["atMobiles"] == ["13800000000"]
    resolved = ops.parse_group(json.dumps(am_group(am_alert(status="resolved"), status="resolved")).encode())
    assert ops.payload_for(DingTalkChannel("ding", DING_URL, mentions=("138",)), resolved)["markdown"]["text"] \
        .startswith("### 【运维已恢复】")


def test_wecom_message_fits_its_byte_limit_with_many_alerts():
    many = [am_alert(instance=f"127.0.0.1:{4000 + i}", namespace="n" * 60) for i in range(40)]
    g = ops.parse_group(json.dumps(am_group(*many)).encode())
    content = ops.payload_for(WeComChannel("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"), g)
    assert len(content["markdown"]["content"].encode()) <= MARKDOWN_MAX_BYTES
    assert "另有 30 条未列出" in ops.text(g)


def test_a_group_too_big_for_the_robot_lists_whole_alerts_and_counts_the_rest():
    long = {"description": "磁盘写满，" * 60}                       # 300 characters, 900 bytes
    many = [{**am_alert(instance=f"127.0.0.1:{4000 + i}"), "annotations": {**am_alert()["annotations"], **long}}
            for i in range(12)]
    g = ops.parse_group(json.dumps(am_group(*many)).encode())
    wecom = WeComChannel("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", mentions=("duty",))
    content = ops.payload_for(wecom, g)["markdown"]["content"]
    shown = content.count("- 告警：")
    assert len(content.encode()) <= MARKDOWN_MAX_BYTES and 1 <= shown < 10
    assert f"另有 {12 - shown} 条未列出" in content                  # counted, not cut mid-alert
    assert content.count("说明：") == shown and "…" not in content
    assert content.endswith("<@duty>")


def test_a_dingtalk_group_of_long_label_sets_lists_whole_alerts_within_the_vendor_limit():
    quoted = {f"label{j}": '"' * 80 for j in range(30)}           # shown as full-width ＂: 3 bytes each
    g = ops.parse_group(json.dumps(am_group(*[am_alert(instance=f"h{i}", **quoted) for i in range(10)])).encode())
    ding = DingTalkChannel("ding", DING_URL, mentions=("13800000000",))
    payload = ops.payload_for(ding, g)
    assert len(json_body(payload)) <= ding.max_bytes
    text = payload["markdown"]["text"]
    shown = text.count("- 告警：")
    assert 1 <= shown < 10 and f"另有 {10 - shown} 条未列出" in text and text.endswith("@13800000000")


def test_one_alert_too_big_for_the_robot_leaves_the_headline_and_the_count():
    huge = {f"label{j}": "磁" * 80 for j in range(20)}               # one alert's labels alone pass 4,096 bytes
    g = ops.parse_group(json.dumps(am_group(*[am_alert(instance=f"h{i}", **huge) for i in range(12)])).encode())
    content = ops.payload_for(WeComChannel("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"), g)
    text = content["markdown"]["content"]
    assert len(text.encode()) <= MARKDOWN_MAX_BYTES and "另有 12 条未列出" in text and "…" not in text


def test_email_is_html_escaped_and_webhook_forwards_the_alertmanager_shape():
    g = ops.parse_group(json.dumps(am_group(am_alert(source="<script>x</script>"))).encode())
    mail = ops.payload_for(EmailChannel("mail", host="smtp.example", sender="a@example", to=("b@example",)), g)
    assert "<script>" not in mail["html"] and "&lt;script&gt;" in mail["html"]
    hook = ops.payload_for(WebhookChannel("hook", "https://hooks.example/x"), g)
    assert hook["version"] == "4" and hook["receiver"] == "hook" and hook["alerts"][0]["labels"]["source"] == "<script>x</script>"


class Vendor:
    def __init__(self, answers=()):
        self.answers, self.got = list(answers), []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.got.append(request)
        return httpx.Response(200, json=self.answers.pop(0) if self.answers else {"errcode": 0, "errmsg": "ok"})


def forwarder(vendor, limit=None, clock=None):
    clock = clock or FakeClock()
    metrics = AlertingMetrics(CollectorRegistry())
    client = httpx.AsyncClient(transport=httpx.MockTransport(vendor))
    channel = DingTalkChannel("ding", DING_URL, secret="SEC0123456789")
    deliverer = Deliverer(client, metrics, policy=RetryPolicy(deadline_s=5), clock=clock, sleep=clock.sleep)
    limiters = {"ding": RateLimiter(((limit, 60.0),), margin=0)} if limit else {}
    return OpsForwarder({"ding": channel}, deliverer, metrics, limiters, clock=clock), metrics, clock


async def test_forwarder_signs_through_the_channel_and_holds_over_the_rate_limit():
    vendor = Vendor()
    fwd, metrics, clock = forwarder(vendor, limit=2)
    for i in range(4):
        status, _ = await fwd.receive(group())
        assert status == 200
    assert len(vendor.got) == 2 and len(fwd.held["ding"]) == 2
    query = parse_qs(urlsplit(str(vendor.got[0].url)).query)
    assert query["timestamp"] and query["sign"]                     # DingTalk 加签 by the channel module
    assert await fwd.flush_held() == []                              # still no slot
    clock.advance(61)
    [merged] = await fwd.flush_held()
    assert merged.ok and merged.digest and fwd.held["ding"] == []
    assert "（2 条）" in json.loads(vendor.got[2].content)["markdown"]["title"]
    get = metrics.notifications.labels(channel="ding", outcome="delivered")._value.get()
    assert get == 3
    assert metrics.operator_alerts.labels("firing")._value.get() == 4


async def test_a_permanent_vendor_error_answers_503_so_alertmanager_retries():
    fwd, metrics, _ = forwarder(Vendor([{"errcode": 310000, "errmsg": "sign not match"}]))
    status, [result] = await fwd.receive(group())
    assert status == 503 and result.reason == "errcode_310000"


async def test_http_edge_checks_the_token_and_the_body():
    vendor = Vendor()
    fwd, metrics, _ = forwarder(vendor)
    async with TestClient(TestServer(build_app(fwd, token="tok-123", flush_every_s=3600))) as client:
        assert (await client.post("/alerts", json=am_group())).status == 401
        assert (await client.post("/alerts", json=am_group(), headers={"Authorization": "Bearer nope"})).status == 401
        auth = {"Authorization": "Bearer tok-123"}
        bad = await client.post("/alerts", data=b'{"version": "4"}', headers=auth)
        assert bad.status == 400 and "status" in (await bad.json())["error"]
        ok = await client.post("/alerts", json=am_group(), headers=auth)
        assert ok.status == 200 and (await ok.json())["deliveries"][0]["outcome"] == "delivered"
        assert (await client.get("/-/healthy")).status == 200
    assert len(vendor.got) == 1
    assert metrics.operator_alerts.labels("invalid")._value.get() == 1


def test_ops_receiver_forwards_to_the_named_channels_or_the_default_route(tmp_path):
    from alerting.rules import load_rules
    from shaobing.commands.ops_receiver import pick_channels
    from shaobing.demo import DemoConfig, write_rules

    rules = load_rules(write_rules(tmp_path / "rules.yml", "https://hooks.example/x", "s", DemoConfig()))
    assert [c.name for c in pick_channels(rules, [])] == ["duty-webhook", "console"]
    assert [c.name for c in pick_channels(rules, ["console"])] == ["console"]
    with pytest.raises(ValueError, match=r"unknown channel\(s\) nope .*known: duty-webhook, console"):
        pick_channels(rules, ["nope"])
