"""No secret (robot token in a URL, signing secret, SMTP password, ack-link secret) leaks into log
lines (ours or the HTTP library's), repr(), exception text, metric labels or the stored state."""
from __future__ import annotations

import json
import logging

import httpx
import pytest
from prometheus_client import CollectorRegistry

from alerting.channels.factory import build_channel
from alerting.control import FileControlStore
from alerting.delivery import Deliverer, RetryPolicy
from alerting.errors import AlertingError
from alerting.metrics import AlertingMetrics
from alerting.rules import load_rules
from alerting.rules_schema import ChannelSpec
from alerting.service import build_alerter
from tests.fakes.alerts import Settled, surge
from tests.fakes.clock import FakeClock
from tests.fakes.smtp import FakeSMTP
from tests.fakes.vendors import FakeDingTalk, FakeFeishu, FakeWeCom

SECRETS = {
    "ding_token": "dtTOKENsecret1111aa", "ding_sign": "SECdingSIGN2222bb", "wecom_key": "wcKEYsecret3333cc",
    "feishu_hook": "fsHOOKsecret4444dd", "feishu_sign": "fsSIGNsecret5555ee", "hook_path": "whPATHsecret6666ff",
    "hook_hmac": "whHMACsecret7777gg", "smtp": "smtpPASSsecret8888", "ack": "ackSIGNsecret9999hh",
}

RULES = """
version: 1
channels:
  - {{name: ding, type: dingtalk, url: "{ding}", secret: {ding_sign}}}
  - {{name: ding_bad, type: dingtalk, url: "{ding}", secret: wrong-secret-value}}
  - {{name: wecom, type: wecom, url_file: "{wecom_file}"}}
  - {{name: feishu, type: feishu, url: "{feishu}", secret_file: "{feishu_secret_file}"}}
  - {{name: hook, type: webhook, url: "http://127.0.0.1:9/hooks/{hook_path}", secret: {hook_hmac}}}
  - {{name: mail, type: email, smtp_host: 127.0.0.1, smtp_port: {smtp_port}, smtp_security: none,
      username: duty@example.cn, password: {smtp}, sender: s@example.cn, to: [d@example.cn]}}
default_route:
  channels: [ding, ding_bad, wecom, feishu, hook, mail]
  fallback: [mail]
links: {{public_url: "https://sb.example", ack_secret: {ack}}}
retry: {{deadline: 3s}}
"""


@pytest.fixture
async def world(tmp_path):
    clock = FakeClock()
    ding = await FakeDingTalk(clock, token=SECRETS["ding_token"], secret=SECRETS["ding_sign"]).start()
    wecom = await FakeWeCom(clock, token=SECRETS["wecom_key"]).start()
    feishu = await FakeFeishu(clock, token=SECRETS["feishu_hook"], secret=SECRETS["feishu_sign"]).start()
    smtp = await FakeSMTP(password=SECRETS["smtp"]).start()
    (tmp_path / "wecom.url").write_text(wecom.url())
    (tmp_path / "feishu.secret").write_text(SECRETS["feishu_sign"])
    path = tmp_path / "rules.yml"
    path.write_text(RULES.format(ding=ding.url(), feishu=feishu.url(), wecom_file=tmp_path / "wecom.url",
                                 feishu_secret_file=tmp_path / "feishu.secret", smtp_port=smtp.port, **SECRETS))
    yield clock, load_rules(path), tmp_path
    for server in (ding, wecom, feishu, smtp):
        await server.close()


def assert_clean(text: str, where: str) -> None:
    for name, secret in SECRETS.items():
        assert secret not in text, f"{name} leaked into {where}"


async def test_no_secret_leaks_anywhere(world, caplog):
    clock, rules, tmp_path = world
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):          # other tests' CLI runs may have quietened them
        caplog.set_level(logging.DEBUG, logger=name)
    registry = CollectorRegistry()
    metrics = AlertingMetrics(registry)
    table = {}
    async with httpx.AsyncClient() as client:
        deliverer = Deliverer(client, metrics, policy=RetryPolicy(deadline_s=3), clock=clock, sleep=clock.sleep)
        alerter = Settled(build_alerter(rules, metrics=metrics, deliverer=deliverer,
                                        control=FileControlStore(tmp_path / "c.json")))
        results = await alerter.handle(surge(), table, now=clock())
        results += await alerter.tick(table, now=clock.advance(400))
    outcomes = {r.channel: r.ok for r in results}
    assert outcomes["ding"] and outcomes["wecom"] and outcomes["feishu"] and outcomes["mail"]
    assert not outcomes["ding_bad"] and not outcomes["hook"]          # 310000 and connection refused
    assert any("HTTP Request" in r.getMessage() for r in caplog.records if r.name == "httpx")
    assert_clean("\n".join(r.getMessage() for r in caplog.records), "log lines")
    assert_clean(repr(rules) + repr(rules.spec) + repr(alerter.dispatcher.channels) + repr(results), "repr()")
    assert_clean(json.dumps(table, ensure_ascii=False), "the stored alert state")
    labels = [json.dumps(s.labels) for m in registry.collect() for s in m.samples]
    assert_clean("\n".join(labels), "metric labels")


@pytest.mark.parametrize("spec", [
    dict(name="x", type="dingtalk", url="ftp://oapi.example/?access_token=" + SECRETS["ding_token"]),
    dict(name="x", type="wecom", url_file="/nonexistent/" + "wecom.url"),
    dict(name="x", type="email", password=SECRETS["smtp"]),
])
def test_configuration_errors_do_not_carry_secrets(spec):
    with pytest.raises(AlertingError) as err:
        build_channel(ChannelSpec(**spec))
    assert_clean(str(err.value) + repr(err.value), "exception text")
