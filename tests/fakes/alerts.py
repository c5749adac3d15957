"""Builders for surges and alerts used across the alerting tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alerting.model import Alert, AlertLinks
from streams.records import SamplePost, Surge

T0 = datetime(2025, 3, 5, 2, 0, tzinfo=timezone.utc)      # 10:00 in Asia/Shanghai
HOSTILE = "**假消息** [点我](javascript:alert(1)) <script>x</script>\n# 标题 @all <@everyone>"


def sample(i: int = 0, title: str = "某县化工厂排污？村民拍下视频", site: str = "bbs.example.cn") -> SamplePost:
    return SamplePost(post_id=f"p{i}", site=site, url=f"https://{site}/thread/{i}?a=1&b=(2)",
                      title=title, published_at=T0 - timedelta(minutes=5 - i))


def surge(subject: str = "某县", rule: str = "surge", *, status: str = "firing", count: int = 120,
          baseline: float = 10.0, severity: str = "warning", at: datetime = T0, samples=None,
          since: datetime | None = None) -> Surge:
    return Surge(subject=subject, rule=rule, severity=severity, status=status, window_start=at - timedelta(minutes=5),
                 window_end=at, count=count, baseline=baseline, negative_share=0.42,
                 samples=samples if samples is not None else [sample(0), sample(1, site="news.example.com"), sample(2)],
                 trend=[2, 3, 2, 4, 3, 9, 30, 45, 60, 70], detected_at=at,
                 first_produced_at=at - timedelta(seconds=12), since=since)


def alert(**kw) -> Alert:
    links = AlertLinks(search="https://sb.example/search?q=%E6%9F%90", ack="https://sb.example/ack?k=1&sig=x",
                       silence="https://sb.example/silence?k=1&sig=y")
    return Alert.from_surge(surge(**kw), links=links)


class Settled:
    """Wraps a Dispatcher or an Alerter so each dispatch/handle/tick also waits for the deliveries
    it started (in production they finish in the background and are recorded by a later call).
    For tests of the lifecycle on a pinned clock, where waiting costs no real time."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def dispatch(self, surge, *, now):
        return await self.inner.dispatch(surge, now=now) + await self.inner.settle()

    async def tick(self, *args, now):
        return await self.inner.tick(*args, now=now) + await self.inner.settle(*args)

    async def handle(self, surge, table, *, now):
        return await self.inner.handle(surge, table, now=now) + await self.inner.settle(table)
