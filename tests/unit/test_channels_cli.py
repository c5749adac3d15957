"""`shaobing channels test` sends one sample alert and reports the vendor's verdict with its code."""
from __future__ import annotations

import pytest

from shaobing.cli import main
from shaobing.commands.channels import send_test
from tests.fakes.clock import FakeClock
from tests.fakes.vendors import FakeDingTalk


@pytest.fixture
async def robot():
    clock = FakeClock()
    fake = await FakeDingTalk(clock, token="tok-abcdef123", secret="SECcli-secret").start()
    yield fake, clock
    await fake.close()


async def test_send_test_reports_delivered_and_permanent(robot):
    fake, clock = robot
    ok = await send_test("dingtalk", fake.url(), "SECcli-secret", ("13800001111",), 5, now=clock())
    assert ok.ok and "渠道测试" in fake.accepted[0]["markdown"]["text"]
    bad = await send_test("dingtalk", fake.url(), "SECwrong", (), 5, now=clock())
    assert (bad.ok, bad.retryable, bad.reason) == (False, False, "errcode_310000")
    fake.script = [{"errcode": 130101, "errmsg": "send too fast"}]
    slow = await send_test("dingtalk", fake.url(), "SECcli-secret", (), 5, now=clock())
    assert (slow.ok, slow.retryable, slow.detail) == (False, True, "errcode_130101")


def test_cli_prints_the_verdict_without_the_url(capsys):
    code = main(["channels", "test", "--type", "wecom", "--url",
                 "http://127.0.0.1:9/cgi-bin/webhook/send?key=very-secret-key", "--timeout", "1"])
    out = capsys.readouterr()
    assert code == 1 and "retryable 可重试: connect" in out.out
    assert "very-secret-key" not in out.out + out.err
