"""A group with more alerts than one vendor message fits (a route grouping by rule, in a flood):
the message shows the first alerts in full, the next as one line each, and counts the rest, so no
alert is dropped without a word; a group that fits is sent exactly as before."""
from __future__ import annotations

import hashlib
import re

import pytest

from alerting.channels import feishu
from alerting.channels.base import group_fit, json_body
from alerting.channels.dingtalk import DingTalkChannel
from alerting.channels.feishu import FeishuChannel
from alerting.channels.wecom import MARKDOWN_MAX_BYTES, WeComChannel
from tests.fakes.alerts import HOSTILE, alert, sample


def flood(n: int) -> list:
    """n alerts of one rule, each subject hostile and long, with a Markdown link of its own."""
    return [alert(subject=f"{HOSTILE} [第{i}个](https://evil.example/{i}) " + "某县化工园区" * 20,
                  samples=[sample(j, title=HOSTILE + "长标题" * 40) for j in range(3)]) for i in range(n)]


def accounted(text: str, alerts: list) -> tuple[int, int, int]:
    """(in full, as one line, only counted) in a message's text; each alert named once, in order."""
    full = [a for a in alerts if f"去重键：{a.dedup_key}" in text]
    brief = [a for a in alerts if f"（{a.dedup_key}）" in text]
    counted = re.findall(r"同组另有 (\d+) 条告警未列出", text)
    assert not set(a.dedup_key for a in full) & set(a.dedup_key for a in brief)
    assert full + brief == alerts[:len(full) + len(brief)]          # the first in full, then the next
    return len(full), len(brief), int(counted[0]) if counted else 0


@pytest.mark.parametrize("full,brief,unlisted,budget,expected", [
    ([100] * 3, [10] * 3, 15, 300, (3, 0, 0)),          # all in full
    ([100] * 5, [10] * 5, 15, 250, (2, 3, 0)),          # the most in full that leave a line for each other
    ([100] * 20, [10] * 20, 15, 160, (1, 4, 15)),       # not every line fits: the first in full, then the count
    ([500] + [100] * 9, [10] * 10, 15, 90, (0, 7, 3)),   # the first alone is too large: lines only
    ([100] * 3, [50] * 3, 20, 140, (1, 0, 2)),          # no line fits after the first: counted
])
def test_group_fit_names_every_alert_before_showing_more_in_full(full, brief, unlisted, budget, expected):
    k, b, rest = group_fit(full, brief, unlisted, budget)
    assert (k, b, rest) == expected and k + b + rest == len(full)
    assert sum(full[:k]) + sum(brief[k:k + b]) + (unlisted if rest else 0) <= budget


def test_a_wecom_flood_group_fits_4096_bytes_and_names_or_counts_every_alert():
    alerts = flood(12)
    content = WeComChannel("w", "https://x/?key=k", mentions=("a",)).build_group(alerts)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= MARKDOWN_MAX_BYTES
    k, b, rest = accounted(content, alerts)
    assert k >= 1 and b >= 1 and k + b + rest == 12
    assert content.startswith("### ") and "（同组共 12 条）" in content.split("\n")[0]
    assert content.endswith("\n\n<@a>")                                       # the mention stays
    assert "https://evil" not in content and "**假消息**" not in content and "<@everyone>" not in content
    assert all(f"［第{i}个］（https：//evil.example/{i}）" in content for i in range(k + b))   # inert
    assert content.count("\n- 声量突增·预警 ＊＊假消息＊＊ ［点我］（javascript:alert（1）） ＜script＞") == b


@pytest.mark.parametrize("make,text_of", [
    (lambda: DingTalkChannel("d", "https://x/?access_token=t", mentions=("13800000000",)),
     lambda p: p["markdown"]["text"]),
    (lambda: FeishuChannel("f", "https://x/h", mentions=("ou_1",), msg_type="interactive"),
     lambda p: p["card"]["elements"][0]["text"]["content"]),
])
def test_the_larger_markdown_robots_name_or_count_every_alert_of_a_flood(make, text_of):
    channel, alerts = make(), flood(60)
    payload = channel.build_group(alerts)
    text = text_of(payload)
    assert len(json_body(payload)) <= channel.max_bytes
    assert sum(accounted(text, alerts)) == 60 and accounted(text, alerts)[2] > 0
    assert text.endswith(channel.mention_text()) and "https://evil" not in text
    assert "（同组共 60 条）" in text.split("\n")[0]


def test_a_feishu_post_of_a_flood_group_fits_the_body_limit_and_names_or_counts_every_alert():
    alerts = flood(60)
    payload = FeishuChannel("f", "https://x/h", mentions=("ou_1",)).build_group(alerts)
    assert len(json_body(payload)) <= feishu.MAX_BODY_BYTES
    post = payload["content"]["post"]["zh_cn"]
    text = "\n".join(el.get("text", "") for row in post["content"] for el in row)
    k, b, rest = accounted(text, alerts)
    assert k >= 1 and b >= 1 and rest > 0 and k + b + rest == 60
    assert post["title"].endswith("（同组共 60 条）") and len(post["title"].encode("utf-8")) <= 200
    assert post["content"][-1] == [{"tag": "at", "user_id": "ou_1"}]
    links = [el for row in post["content"] for el in row if el["tag"] == "a"]
    assert links and all(el["href"].startswith("https://sb.example/") for el in links)


def test_a_long_headline_keeps_the_groups_count_in_the_title():
    payload = DingTalkChannel("d", "https://x/?access_token=t").build_group(flood(3))
    title = payload["markdown"]["title"]
    assert title.endswith("（同组共 3 条）") and len(title.encode("utf-8")) <= 200


def test_a_single_alert_cut_to_the_limit_keeps_its_mention():
    wide = "𠀀" * 250                                   # four bytes each in UTF-8
    a = alert(subject=wide, samples=[sample(j, site=f"{j}{wide}", title=wide) for j in range(3)])
    content = WeComChannel("w", "https://x/?key=k", mentions=("a",)).build_payload(a)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= MARKDOWN_MAX_BYTES and content.endswith("…\n\n<@a>")


def fits() -> list:
    long_title = "很长的标题" * 300
    return [alert(rule=rule, samples=[sample(i, title=long_title) for i in range(3)])
            for rule in ("surge", "negative_surge", "threshold")]


# sha256 of each payload's JSON as main built it before groups were fitted (commit 0ae4fd8); the
# Feishu post's since its later alerts carry their headline (test below)
@pytest.mark.parametrize("make,group,digest", [
    (lambda: WeComChannel("w", "https://x/?key=k", mentions=("a",)), fits, "a436e6695c3d28e0"),
    (lambda: WeComChannel("w", "https://x/?key=k", mentions=("a",)), lambda: fits()[:2], "bd91e2adcf71db0f"),
    (lambda: DingTalkChannel("d", "https://x/?t", mentions=("138",)), fits, "9056b24e4326d22a"),
    (lambda: FeishuChannel("f", "https://x/h", mentions=("ou_1",)), fits, "211b0dabe46c2fd4"),
    (lambda: FeishuChannel("f", "https://x/h", mentions=("ou_1",), msg_type="interactive"), fits, "e0d55bb967949e5d"),
])
def test_a_group_that_fits_is_sent_exactly_as_before(make, group, digest):
    assert hashlib.sha256(json_body(make().build_group(group()))).hexdigest()[:16] == digest


def test_a_feishu_post_group_names_each_later_alerts_rule_and_state():
    group = [alert(rule="surge"), alert(rule="negative_surge", status="resolved")]
    post = FeishuChannel("f", "https://x/h").build_group(group)["content"]["post"]["zh_cn"]
    texts = [el["text"] for row in post["content"] for el in row if el["tag"] == "text"]
    assert post["title"].startswith("【舆情声量突增·") and "【舆情负面突增·已恢复】" in texts[texts.index("——") + 1]


def quoted(n: int) -> list:
    """n short alerts after one whose subject is all quotes: JSON doubles those and every line break."""
    return [alert(subject='"' * 100)] + [alert(subject=f"县{i}") for i in range(n - 1)]


@pytest.mark.parametrize("n", [80, 120, 150])
def test_markdown_robot_bodies_fit_as_the_vendor_counts_them(n):
    from datetime import datetime, timezone

    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    for channel in (DingTalkChannel("d", "https://x/?t", secret="SEC", mentions=tuple(f"1380000{i:04d}" for i in range(10))),
                    FeishuChannel("f", "https://x/h", secret="SEC", mentions=("ou_1",), msg_type="interactive"),
                    FeishuChannel("f", "https://x/h", secret="SEC", mentions=("ou_1",))):
        body = channel.request(channel.build_group(quoted(n)), now).body      # signing fields included
        assert len(body) <= channel.max_bytes, (channel, n, len(body))


def test_limits_smaller_than_the_count_or_the_mentions_still_hold():
    from alerting import escape, render

    two = [alert(), alert(rule="threshold")]
    for limit in (1, 10, 20, 60):
        assert len(render.group_headline(two, escape.plain, limit).encode("utf-8")) <= limit
    assert escape.truncate_utf8("abcdef", -2) == "" and escape.truncate_utf8("abcdef", 0) == ""
    many = tuple(f"user_with_a_long_wecom_id_{i:04d}_abcdefghijklmn" for i in range(95))   # ~4.6 kB of mentions
    for group in ([alert()], two):
        content = WeComChannel("w", "https://x/?key=k", mentions=many).build_group(group)["markdown"]["content"]
        assert len(content.encode("utf-8")) <= MARKDOWN_MAX_BYTES and "去重键" in content


def test_no_empty_summary_heading_when_every_other_alert_is_only_counted():
    from alerting.channels.markdown import brief_group

    group = flood(3)
    first = len(brief_group(group[:1], 100_000).encode("utf-8"))          # about the first alert in full
    shapes = set()
    for budget in range(first, first + 1500, 25):
        text = brief_group(group, budget)
        shape = accounted(text, group)
        shapes.add(shape)
        assert ("以下告警仅列摘要" in text) == (shape[1] > 0)             # the heading only over lines
    assert (1, 0, 2) in shapes and (1, 2, 0) in shapes
