"""DingTalk, WeCom, Feishu and email channels against loopback fakes that behave like the vendors."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from prometheus_client import CollectorRegistry

from alerting.channels import dingtalk, feishu
from alerting.channels.dingtalk import DingTalkChannel
from alerting.channels.email import EmailChannel
from alerting.channels.feishu import FeishuChannel
from alerting.channels.wecom import WeComChannel
from alerting.delivery import Deliverer, RetryPolicy
from alerting.metrics import AlertingMetrics
from tests.fakes.alerts import HOSTILE, T0, alert, sample
from tests.fakes.clock import FakeClock
from tests.fakes.smtp import FakeSMTP
from tests.fakes.vendors import FakeDingTalk, FakeFeishu, FakeWeCom

DING_SECRET = "SECexample0123456789"
FEISHU_SECRET = "exampleFeishuSecret"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def deliverer(clock):
    async with httpx.AsyncClient() as client:
        yield Deliverer(client, AlertingMetrics(CollectorRegistry()), policy=RetryPolicy(deadline_s=30),
                        clock=clock, sleep=clock.sleep)


@pytest.fixture
async def robots(clock):
    started = [await FakeDingTalk(clock, token="dt-token-abc", secret=DING_SECRET).start(),
               await FakeWeCom(clock, token="wc-key-123").start(),
               await FakeFeishu(clock, token="fs-hook-xyz", secret=FEISHU_SECRET).start()]
    yield started
    for robot in started:
        await robot.close()


def test_signature_vectors_match_the_vendor_algorithms():
    assert dingtalk.sign(DING_SECRET, "1700000000000") == "figG6qqCA%2FlRh0hsGCW2zNtNV5znkAFut5BI0zKhqnQ%3D"
    assert feishu.sign(FEISHU_SECRET, "1700000000") == "KAVz6mt2yjyYGOsZirwjG/gjbx7Rak7PYaGaF9vzk8g="


def test_signing_never_mutates_the_configured_url(clock):
    ch = DingTalkChannel("d", "https://oapi.dingtalk.com/robot/send?access_token=T", secret=DING_SECRET)
    first = ch.request({"a": 1}, clock()).url
    second = ch.request({"a": 1}, clock.advance(1)).url
    assert first.count("sign=") == 1 and second.count("sign=") == 1 and first != second
    assert ch._url == "https://oapi.dingtalk.com/robot/send?access_token=T"


async def test_each_vendor_accepts_a_correctly_signed_alert(robots, deliverer):
    ding, wecom, fs = robots
    channels = [DingTalkChannel("d", ding.url(), secret=DING_SECRET, mentions=("13800001111",)),
                WeComChannel("w", wecom.url(), mentions=("zhangsan",)),
                FeishuChannel("f", fs.url(), secret=FEISHU_SECRET, mentions=("ou_abc",))]
    for ch in channels:
        result = await deliverer.deliver(ch, ch.build_payload(alert()))
        assert (result.ok, result.attempts) == (True, 1), (ch.kind, result)
    d = ding.accepted[0]
    assert d["msgtype"] == "markdown" and d["at"]["atMobiles"] == ["13800001111"]
    assert "@13800001111" in d["markdown"]["text"] and "舆情" in d["markdown"]["title"]
    assert "<@zhangsan>" in wecom.accepted[0]["markdown"]["content"]
    post = fs.accepted[0]["content"]["post"]["zh_cn"]
    assert post["title"].startswith("【舆情声量突增") and {"tag": "at", "user_id": "ou_abc"} in post["content"][-1]


@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
async def test_wrong_secret_is_a_permanent_failure_with_the_vendor_code(robots, deliverer, kind):
    ding, _, fs = robots
    ch = (DingTalkChannel("d", ding.url(), secret="SECwrong") if kind == "dingtalk"
          else FeishuChannel("f", fs.url(), secret="wrong"))
    result = await deliverer.deliver(ch, ch.build_payload(alert()))
    assert (result.ok, result.attempts) == (False, 1)
    assert result.reason == ("errcode_310000" if kind == "dingtalk" else "errcode_19021")


async def test_stale_timestamp_is_rejected_like_the_vendor(robots, deliverer, clock):
    ding = robots[0]
    ch = DingTalkChannel("d", ding.url(), secret=DING_SECRET)
    req = ch.request(ch.build_payload(alert()), clock())
    clock.advance(3601)
    async with httpx.AsyncClient() as client:
        resp = await client.post(req.url, content=req.body, headers=req.headers)
    assert resp.status_code == 200 and ch.classify(resp.status_code, resp.content).reason == "errcode_310000"


async def test_invalid_wecom_key_is_permanent(robots, deliverer):
    wecom = robots[1]
    ch = WeComChannel("w", wecom.url().replace("wc-key-123", "nope"))
    result = await deliverer.deliver(ch, ch.build_payload(alert()))
    assert (result.ok, result.reason) == (False, "errcode_93000")


@pytest.mark.parametrize("index,code", [(0, 130101), (1, 45009), (2, 11232)])
async def test_vendor_throttling_is_retried_with_backoff(robots, deliverer, clock, index, code):
    robot = robots[index]
    field = "code" if index == 2 else "errcode"
    robot.script = [{field: code, "errmsg": "slow down"}, 503, 429]
    ch = [DingTalkChannel("d", robot.url(), secret=DING_SECRET), WeComChannel("w", robot.url()),
          FeishuChannel("f", robot.url(), secret=FEISHU_SECRET)][index]
    result = await deliverer.deliver(ch, ch.build_payload(alert()))
    assert (result.ok, result.attempts) == (True, 4)
    assert clock.slept == [1.0, 2.0, 4.0] and len(robot.accepted) == 1


def test_wecom_markdown_fits_4096_bytes_dropping_samples_first():
    long_title = "很长的标题" * 300
    a = alert(samples=[sample(i, title=long_title + "𠀀" * 50) for i in range(3)])
    payload = WeComChannel("w", "https://x/cgi-bin/webhook/send?key=k", mentions=("a",)).build_payload(a)
    content = payload["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    content.encode("utf-8").decode("utf-8")
    assert "120 条" in content and "<@a>" in content          # the numbers and the mention survive


def test_wecom_digest_of_many_alerts_stays_within_4096_bytes():
    alerts = [alert(subject=f"主题{i}" * 20) for i in range(80)]
    content = WeComChannel("w", "https://x/?key=k", mentions=("a",)).build_digest(alerts)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.endswith("<@a>")


@pytest.mark.parametrize("make", [
    lambda: DingTalkChannel("d", "https://x/?access_token=t").build_payload(alert(subject=HOSTILE, samples=[sample(0, title=HOSTILE)]))["markdown"]["text"],
    lambda: WeComChannel("w", "https://x/?key=t").build_payload(alert(subject=HOSTILE, samples=[sample(0, title=HOSTILE)]))["markdown"]["content"],
    lambda: FeishuChannel("f", "https://x/h", msg_type="interactive").build_payload(alert(subject=HOSTILE, samples=[sample(0, title=HOSTILE)]))["card"]["elements"][0]["text"]["content"],
])
def test_crawled_text_cannot_inject_markdown_links_mentions_or_headings(make):
    text = make()
    assert "](" not in text.split("样例帖子")[0].split("检索该主题")[0]   # no link from crawled text
    assert "(javascript" not in text and "<script>" not in text and "@all" not in text
    assert "<@everyone>" not in text and "\n# " not in text
    assert "**假消息**" not in text and "＊＊假消息＊＊" in text


def test_feishu_post_keeps_hostile_text_as_plain_text_elements():
    payload = FeishuChannel("f", "https://x/h").build_payload(alert(subject=HOSTILE, samples=[sample(0, title=HOSTILE)]))
    rows = payload["content"]["post"]["zh_cn"]["content"]
    links = [el for row in rows for el in row if el["tag"] == "a"]
    assert all(el["href"].startswith("https://") for el in links)
    assert "\n" not in payload["content"]["post"]["zh_cn"]["title"]


async def test_email_sends_text_and_escaped_html_and_classifies_failures(deliverer):
    smtp = await FakeSMTP().start()
    try:
        ch = EmailChannel("mail", host="127.0.0.1", port=smtp.port, security="none", username=smtp.username,
                          password=smtp.password, sender="shaobing@example.cn", to=("duty@example.cn",))
        hostile = alert(subject=HOSTILE, samples=[sample(0, title=HOSTILE)])
        result = await deliverer.deliver(ch, ch.build_payload(hostile))
        assert result.ok
        (msg,) = smtp.messages
        html = msg.get_body(("html",)).get_content()
        assert "<script>" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html
        assert "\n" not in msg["Subject"] and msg.get_body(("plain",)).get_content().startswith("【舆情")
        smtp.script = ["421 try again later"]
        assert (await deliverer.deliver(ch, ch.build_payload(alert()))).attempts == 2
        bad = EmailChannel("mail", host="127.0.0.1", port=smtp.port, security="none", username=smtp.username,
                           password="wrong", sender="s@example.cn", to=("d@example.cn",))
        result = await deliverer.deliver(bad, bad.build_payload(alert()))
        assert (result.ok, result.reason, result.attempts) == (False, "smtp_auth", 1)
    finally:
        await smtp.close()


class SlowWriter:
    """Each SMTP reply reaches the client `delay` seconds late."""

    def __init__(self, writer, delay: float):
        self.writer, self.delay = writer, delay

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    def close(self) -> None:
        self.writer.close()

    async def drain(self) -> None:
        await asyncio.sleep(self.delay)
        await self.writer.drain()


class SlowSMTP(FakeSMTP):
    async def _session(self, reader, writer):
        await super()._session(reader, SlowWriter(writer, 0.1))


async def test_a_slow_smtp_server_is_waited_for_not_mailed_twice():
    """Wall clock, once: every reply comes within the 0.3 s timeout but the session takes longer."""
    smtp = await SlowSMTP().start()
    try:
        ch = EmailChannel("mail", host="127.0.0.1", port=smtp.port, security="none", username=smtp.username,
                          password=smtp.password, sender="shaobing@example.cn", to=("duty@example.cn",))
        slow = Deliverer(None, AlertingMetrics(CollectorRegistry()),
                         policy=RetryPolicy(timeout_s=0.3, deadline_s=2.0, first_backoff_s=0.1, max_backoff_s=0.2))
        result = await slow.deliver(ch, ch.build_payload(alert()))
        await asyncio.sleep(1.0)                 # a thread given up on would still deliver meanwhile
        assert (result.ok, result.attempts, len(smtp.messages)) == (True, 1, 1)
    finally:
        await smtp.close()


def test_classify_reads_the_body_not_just_the_status():
    ch = DingTalkChannel("d", "https://x/?access_token=t")
    assert ch.classify(200, json.dumps({"errcode": 0}).encode()).ok
    assert ch.classify(200, json.dumps({"errcode": 310000, "errmsg": "sign not match"}).encode()).retryable is False
    assert ch.classify(200, json.dumps({"errcode": 130101}).encode()).retryable is True
    assert ch.classify(502, b"<html>bad gateway</html>").retryable is True
    assert ch.classify(200, b"not json").ok is False


def test_feishu_throttling_answered_as_http_400_is_retryable():
    ch = FeishuChannel("f", "https://x/h")
    throttled = ch.classify(400, json.dumps({"code": 9499, "msg": "too many request", "data": {}}).encode())
    assert (throttled.retryable, throttled.reason) == (True, "errcode_9499")
    bad = ch.classify(400, json.dumps({"code": 9499, "msg": "Bad Request", "data": {}}).encode())
    assert bad.retryable is False
    assert ch.classify(200, json.dumps({"code": 19021, "msg": "sign match fail"}).encode()).reason == "errcode_19021"
    assert ch.classify(200, json.dumps({"StatusCode": 0, "StatusMessage": "success"}).encode()).ok


class TrickleWriter:
    """Each SMTP reply a byte at a time, every `delay` seconds: no read waits past the socket timeout."""

    def __init__(self, writer, delay: float):
        self.writer, self.delay = writer, delay
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.pump = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            data = await self.queue.get()
            for i in range(len(data)):
                self.writer.write(data[i:i + 1])
                await asyncio.sleep(self.delay)

    def write(self, data: bytes) -> None:
        self.queue.put_nowait(data)

    def close(self) -> None:
        self.pump.cancel()
        self.writer.close()

    async def drain(self) -> None:
        await asyncio.sleep(0)


class TrickleSMTP(FakeSMTP):
    async def _session(self, reader, writer):
        await super()._session(reader, TrickleWriter(writer, 0.05))


async def test_a_trickling_smtp_server_cannot_hold_a_send_for_ever():
    """Wall clock, once: replies come a byte every 0.05 s (each read well within the 0.1 s socket
    timeout), so only the session's own bound (10 x 0.1 s) ends it; the send fails, nothing mailed."""
    smtp = await TrickleSMTP().start()
    try:
        ch = EmailChannel("mail", host="127.0.0.1", port=smtp.port, security="none", username=smtp.username,
                          password=smtp.password, sender="shaobing@example.cn", to=("duty@example.cn",))
        started = asyncio.get_running_loop().time()
        outcome = await ch.send(ch.build_payload(alert()), client=None, now=T0, timeout_s=0.1)
        assert not outcome.ok and outcome.retryable and len(smtp.messages) == 0
        elapsed = asyncio.get_running_loop().time() - started
        assert elapsed < 4.0, elapsed
    finally:
        await smtp.close()
