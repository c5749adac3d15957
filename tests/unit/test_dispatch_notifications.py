"""What the dispatcher sends and what it records as sent, on robots behind httpx.MockTransport and a
pinned clock: nothing is recorded as delivered unless a message carried it."""
from __future__ import annotations

import json
import re

import httpx
from prometheus_client import CollectorRegistry

from alerting import escape
from alerting.channels.feishu import FeishuChannel
from alerting.channels.wecom import WeComChannel
from alerting.delivery import Deliverer, RetryPolicy
from alerting.dispatcher import Dispatcher
from alerting.metrics import AlertingMetrics
from alerting.model import AlertLinks, dedup_key
from alerting.ratelimit import RateLimiter
from alerting.routing import Route, Router, Timing
from alerting.state import MappingStore
from tests.fakes.alerts import Settled, alert, sample, surge
from tests.fakes.clock import FakeClock


class Robot:
    """A robot that accepts everything (errcode 0) and keeps each message's JSON body and path."""

    def __init__(self, down: str = ""):
        self.got: list[dict] = []
        self.paths: list[str] = []
        self.down = down                  # a path answering 404 (a permanent failure) to everything

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down and request.url.path == self.down:
            return httpx.Response(404)
        self.got.append(json.loads(request.content))
        self.paths.append(request.url.path)
        return httpx.Response(200, json={"errcode": 0, "code": 0})

    def texts(self, path: str = "") -> list[str]:
        return [json.dumps(m, ensure_ascii=False) for m, p in zip(self.got, self.paths) if p.endswith(path)]


def signed_links(alert, now, started):
    return AlertLinks(ack=f"https://sb.example/ack?k={alert.dedup_key}",
                      silence=f"https://sb.example/silence?k={alert.dedup_key}")


def build(robot, channels, routes, default, *, limiters=None, muted=None):
    clock = FakeClock()
    metrics = AlertingMetrics(CollectorRegistry())
    client = httpx.AsyncClient(transport=httpx.MockTransport(robot))
    store = MappingStore({})
    dispatcher = Dispatcher(router=Router(routes, default), channels=channels, store=store,
                            deliverer=Deliverer(client, metrics, policy=RetryPolicy(deadline_s=60), clock=clock,
                                                sleep=clock.sleep),
                            metrics=metrics, limiters=limiters, muted=muted, links=signed_links)
    return Settled(dispatcher), store, clock


def wecom_duty(robot, per_minute=2):
    channels = {"wecom": WeComChannel("wecom", "https://qyapi.example/send?key=K")}
    return build(robot, channels, [], Route("duty", ("wecom",), (), Timing(group_wait_s=0)),
                 limiters={"wecom": RateLimiter(((per_minute, 60.0),), margin=0)})


async def test_a_digest_records_as_sent_only_the_alerts_it_shows():
    robot = Robot()
    dispatcher, store, clock = wecom_duty(robot)
    subjects = [f"某省某市某县化工园区{i:02d}" for i in range(60)]
    for subject in subjects:
        await dispatcher.dispatch(surge(subject=subject), now=clock())
    await dispatcher.tick(now=clock.advance(61))          # one slot: one digest, over 4096 bytes if all
    digest = robot.got[-1]["markdown"]["content"]
    shown = {s for s in subjects if dedup_key("surge", s) in digest}
    sent = {s for s in subjects if store.load(s)["alerts"][dedup_key("surge", s)]["first_sent"]}
    assert len(digest.encode("utf-8")) <= 4096
    assert sent - {s for s in subjects if any(dedup_key("surge", s) in t for t in robot.texts())} == set()
    assert int(re.search(r"(\d+) 条告警", digest).group(1)) == len(shown) == digest.count("\n- ")
    for _ in range(4):                                    # the rest go out as slots free up
        await dispatcher.tick(now=clock.advance(61))
    assert all(any(dedup_key("surge", s) in t for t in robot.texts()) for s in subjects)


def test_feishu_post_digest_counts_what_it_lists():
    channel = FeishuChannel("f", "https://open.feishu.example/hook/x")
    alerts = [alert(subject=f"主题{i:03d}") for i in range(80)]
    post = channel.build_digest(alerts)["content"]["post"]["zh_cn"]
    n = channel.digest_fit(alerts)
    assert 0 < n < 80 and len(post["content"]) == n
    assert post["title"].startswith(f"【舆情告警汇总】{n} 条")


async def test_a_resolve_is_sent_when_another_alert_of_its_group_fires_in_the_same_interval():
    robot = Robot()
    dispatcher, store, clock = wecom_duty(robot, per_minute=20)
    await dispatcher.dispatch(surge(rule="surge"), now=clock())                        # A fires, sent
    await dispatcher.dispatch(surge(rule="surge", status="resolved"), now=clock.advance(60))
    await dispatcher.dispatch(surge(rule="negative_surge"), now=clock.advance(60))     # B, same group
    for _ in range(3):
        await dispatcher.tick(now=clock.advance(300))
    a = dedup_key("surge", "某县")
    assert any(a in text and "已恢复" in text for text in robot.texts()[1:])
    assert any(a in text and "负面突增" in text for text in robot.texts()[1:])      # one notification


async def test_send_resolved_false_sends_no_resolve_when_the_whole_group_resolved():
    robot = Robot()
    channels = {"wecom": WeComChannel("wecom", "https://qyapi.example/send?key=K")}
    quiet = Route("duty", ("wecom",), (), Timing(group_wait_s=0, send_resolved=False))
    dispatcher, _, clock = build(robot, channels, [], quiet)
    await dispatcher.dispatch(surge(), now=clock())
    await dispatcher.dispatch(surge(status="resolved"), now=clock.advance(600))
    for _ in range(3):
        await dispatcher.tick(now=clock.advance(300))
    assert len(robot.got) == 1 and "已恢复" not in robot.texts()[0]


def two_robots(robot, timing, **kw):
    channels = {name: WeComChannel(name, f"https://qyapi.example/{name}?key=K") for name in ("wecom", "backup")}
    return build(robot, channels, [], Route("duty", ("wecom",), ("backup",), timing), **kw)


async def test_a_muted_alert_does_not_escalate():
    robot = Robot()
    timing = Timing(group_wait_s=0, repeat_interval_s=600, escalate_after_s=900)
    muted = {"on": False}
    dispatcher, _, clock = two_robots(robot, timing, muted=lambda alert, now: "silenced" if muted["on"] else None)
    await dispatcher.dispatch(surge(), now=clock())
    muted["on"] = True                                   # silenced (or quiet hours) after the first send
    for _ in range(10):
        await dispatcher.tick(now=clock.advance(120))
    assert len(robot.got) == 1 and "升级" not in robot.texts()[0]
    muted["on"] = False                # unmuted and still unacknowledged: escalate_after from the mute's end
    await dispatcher.tick(now=clock.advance(120))
    assert not any("升级" in text for text in robot.texts())
    for _ in range(7):                 # 840 s after the mute's end: not yet
        await dispatcher.tick(now=clock.advance(120))
    assert not any("升级" in text for text in robot.texts())
    await dispatcher.tick(now=clock.advance(120))         # 960 s: past escalate_after (900 s)
    assert any("升级" in text for text in robot.texts())


async def test_a_group_of_two_alerts_keeps_each_alerts_links_and_samples():
    robot = Robot()
    dispatcher, _, clock = wecom_duty(robot, per_minute=20)
    await dispatcher.dispatch(surge(rule="surge"), now=clock())
    await dispatcher.dispatch(surge(rule="negative_surge"), now=clock.advance(1))   # same subject: one group
    await dispatcher.tick(now=clock.advance(300))
    group = robot.got[-1]["markdown"]["content"]
    assert "频率限制" not in group and "样例帖子" in group
    for rule in ("surge", "negative_surge"):
        assert f"ack?k={dedup_key(rule, '某县')}" in group and f"silence?k={dedup_key(rule, '某县')}" in group


def test_a_group_notification_fits_the_vendor_limit_dropping_samples_first():
    long_title = "很长的标题" * 300
    alerts = [alert(rule=rule, samples=[sample(i, title=long_title) for i in range(3)])
              for rule in ("surge", "negative_surge", "threshold")]
    content = WeComChannel("w", "https://x/?key=k", mentions=("a",)).build_group(alerts)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.endswith("<@a>")
    assert all(a.dedup_key in content and escape.safe_url(a.links.ack) in content for a in alerts)
    post = FeishuChannel("f", "https://open.feishu.example/hook/x").build_group(alerts)
    hrefs = [e.get("href") for row in post["content"]["post"]["zh_cn"]["content"] for e in row]
    assert hrefs.count(escape.safe_url(alerts[0].links.ack)) == 3


async def test_a_group_too_large_for_wecom_is_one_message_that_names_or_counts_every_alert():
    # state is kept per subject, so a group holds one subject's alerts: three rules of a subject
    # 200 characters long do not fit 4096 bytes even without samples
    robot = Robot()
    channels = {"wecom": WeComChannel("wecom", "https://qyapi.example/send?key=K", mentions=("duty",))}
    dispatcher, _, clock = build(robot, channels, [], Route("duty", ("wecom",), (), Timing(group_wait_s=30)))
    subject = "某县化工园区［排污］" * 20
    for rule in ("surge", "negative_surge", "threshold"):
        posts = [sample(j, site=f"bbs{j}.example-forum-site.cn", title="标题" * 40) for j in range(3)]
        await dispatcher.dispatch(surge(subject=subject, rule=rule, samples=posts), now=clock.advance(1))
    await dispatcher.tick(now=clock.advance(30))
    assert len(robot.got) == 1                                  # one batch, one message
    content = robot.got[0]["markdown"]["content"]
    keys = sorted(dedup_key(rule, subject) for rule in ("surge", "negative_surge", "threshold"))
    named = [k for k in keys if k in content]
    unlisted = re.search(r"同组另有 (\d+) 条告警未列出", content)
    assert len(content.encode("utf-8")) <= 4096 and content.endswith("<@duty>") and "（同组共 3 条）" in content
    assert named == keys[:len(named)] and len(named) + int(unlisted.group(1) if unlisted else 0) == 3


async def test_a_fallback_that_was_sent_the_firing_is_sent_the_resolve():
    robot = Robot()
    timing = Timing(group_wait_s=0, escalate_after_s=900)
    dispatcher, _, clock = two_robots(robot, timing)
    await dispatcher.dispatch(surge(), now=clock())
    for _ in range(4):
        await dispatcher.tick(now=clock.advance(300))                 # escalated to backup at 15 min
    await dispatcher.dispatch(surge(status="resolved"), now=clock.advance(60))
    for _ in range(2):
        await dispatcher.tick(now=clock.advance(300))
    backup = robot.texts("/backup")
    assert len(backup) == 2 and "升级" in backup[0] and "已恢复" in backup[1]
    assert sum("已恢复" in text for text in robot.texts()) == 2        # primary and backup, once each


async def test_the_fallback_of_a_dead_primary_is_sent_the_resolve():
    robot = Robot(down="/wecom")
    dispatcher, _, clock = two_robots(robot, Timing(group_wait_s=0))
    await dispatcher.dispatch(surge(), now=clock())                   # primary fails: the backup has it
    await dispatcher.dispatch(surge(status="resolved"), now=clock.advance(600))
    for _ in range(3):
        await dispatcher.tick(now=clock.advance(300))
    backup = robot.texts("/backup")
    assert len(backup) == 2 and "已恢复" in backup[1]


async def test_fallback_sends_keep_to_the_fallbacks_rate_limit():
    robot = Robot(down="/wecom")
    dispatcher, _, clock = two_robots(robot, Timing(group_wait_s=0),
                                      limiters={"backup": RateLimiter(((2, 60.0),), margin=0)})
    subjects = [f"主题{i}" for i in range(5)]
    for subject in subjects:
        await dispatcher.dispatch(surge(subject=subject), now=clock())
    assert len(robot.texts("/backup")) == 2                           # the rest are held, not refused
    await dispatcher.tick(now=clock.advance(61))
    backup = robot.texts("/backup")
    assert len(backup) == 3 and all(any(dedup_key("surge", s) in t for t in backup) for s in subjects)


async def test_each_resolve_is_reported_once_when_a_groups_alerts_resolve_apart():
    robot = Robot()
    dispatcher, _, clock = wecom_duty(robot, per_minute=20)
    rules = ("surge", "negative_surge", "threshold")
    for rule in rules:
        await dispatcher.dispatch(surge(rule=rule), now=clock.advance(10))
    await dispatcher.tick(now=clock.advance(300))
    for rule in rules:                                     # six minutes apart: three resolved notifications
        await dispatcher.dispatch(surge(rule=rule, status="resolved"), now=clock.advance(360))
        await dispatcher.tick(now=clock.advance(5))
    for _ in range(3):
        await dispatcher.tick(now=clock.advance(300))
    resolved = [t for t in robot.texts() if "已恢复" in t]
    for rule in rules:
        assert sum(dedup_key(rule, "某县") in t for t in resolved) == 1, rule


async def test_a_fallbacks_resolve_does_not_wait_for_an_alert_it_never_had():
    robot = Robot()
    timing = Timing(group_wait_s=0, escalate_after_s=900)
    dispatcher, _, clock = two_robots(robot, timing)
    await dispatcher.dispatch(surge(rule="surge"), now=clock())
    for _ in range(4):
        await dispatcher.tick(now=clock.advance(300))                 # A escalated to backup at 15 min
    await dispatcher.dispatch(surge(rule="negative_surge"), now=clock.advance(10))   # B: backup never hears it
    await dispatcher.dispatch(surge(rule="surge", status="resolved"), now=clock.advance(60))
    await dispatcher.tick(now=clock.advance(300))
    backup = robot.texts("/backup")
    assert len(backup) == 2 and "已恢复" in backup[1] and dedup_key("surge", "某县") in backup[1]
    assert dedup_key("negative_surge", "某县") not in backup[1]


async def test_a_new_episode_after_a_lost_resolve_is_news():
    robot = Robot()
    dispatcher, store, clock = wecom_duty(robot, per_minute=20)
    first = clock()
    await dispatcher.dispatch(surge(since=first), now=first)            # its resolve never comes
    await dispatcher.tick(now=clock.advance(300))
    later = clock.advance(86400)                                        # a day later, a new episode
    await dispatcher.dispatch(surge(since=later, at=later), now=later)
    await dispatcher.tick(now=clock.advance(300))
    assert len(robot.got) == 2 and "近期第2次" in robot.texts()[1]
    # a redelivered firing of the first episode changes nothing
    await dispatcher.dispatch(surge(since=first), now=clock.advance(10))
    await dispatcher.tick(now=clock.advance(300))
    assert len(robot.got) == 2 and store.load("某县")["alerts"][dedup_key("surge", "某县")]["occurrence"] == 2
