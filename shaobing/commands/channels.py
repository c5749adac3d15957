"""`shaobing channels test`: send one sample alert through one channel and print the vendor's
answer (delivered / retryable / permanent, with the code), so operators can check a robot before
a major event. The URL and secret are never printed. Reads no settings."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("channels", help="值班渠道 / duty channels")
    act = p.add_subparsers(dest="action", required=True)
    t = act.add_parser("test", help="发送一条测试告警 / send a sample alert")
    t.add_argument("--type", required=True, choices=["dingtalk", "wecom", "feishu", "webhook"])
    t.add_argument("--url", help="webhook URL (holds the token: prefer --url-file)")
    t.add_argument("--url-file", type=Path)
    t.add_argument("--secret", default="", help="signing secret (prefer --secret-file)")
    t.add_argument("--secret-file", type=Path)
    t.add_argument("--mention", action="append", default=[], help="mobile / user id to @ (repeatable)")
    t.add_argument("--timeout", type=float, default=10.0)
    p.set_defaults(func=run)


def sample_alert(now: datetime):
    from alerting.model import Alert
    from streams.records import SamplePost, Surge

    post = SamplePost(post_id="test-1", site="shaobing.test", url="https://example.com/shaobing-test",
                      title="【测试】舆情哨兵渠道连通性测试，请忽略", published_at=now - timedelta(minutes=3))
    surge = Surge(subject="渠道测试", rule="surge", window_start=now - timedelta(minutes=5), window_end=now,
                  count=42, baseline=4.0, negative_share=0.1, samples=[post], trend=[3, 4, 5, 4, 20, 42],
                  detected_at=now)
    return Alert.from_surge(surge)


async def send_test(kind: str, url: str, secret: str, mentions: tuple[str, ...], timeout: float, *,
                    client=None, now: datetime | None = None):
    import httpx
    from prometheus_client import CollectorRegistry

    from alerting.channels.factory import build_channel
    from alerting.delivery import Deliverer, RetryPolicy
    from alerting.metrics import AlertingMetrics
    from alerting.rules_schema import ChannelSpec

    pinned = now
    now = now or datetime.now(timezone.utc)
    channel = build_channel(ChannelSpec(name=f"test-{kind}", type=kind, url=url, secret=secret, mentions=mentions))
    owned = client is None
    client = client or httpx.AsyncClient()
    try:
        deliverer = Deliverer(client, AlertingMetrics(CollectorRegistry()),
                              policy=RetryPolicy(timeout_s=timeout, deadline_s=0),
                              **({"clock": lambda: pinned} if pinned else {}))
        return await deliverer.deliver(channel, channel.build_payload(sample_alert(now)))
    finally:
        if owned:
            await client.aclose()


def run(args, settings) -> int:
    from alerting.errors import AlertingError

    try:
        url = args.url_file.read_text(encoding="utf-8").strip() if args.url_file else (args.url or "")
        secret = args.secret_file.read_text(encoding="utf-8").strip() if args.secret_file else args.secret
        result = asyncio.run(send_test(args.type, url, secret, tuple(args.mention), args.timeout))
    except (AlertingError, OSError, ValueError) as exc:
        print(f"错误 / error: {exc}")
        return 2
    if result.ok:
        print(f"delivered 已送达（{args.type}）")
        return 0
    kind = "retryable 可重试" if result.retryable else "permanent 永久失败"
    reason, detail = (result.detail, "") if result.reason == "deadline" else (result.reason, result.detail)
    print(f"{kind}: {reason}{(' — ' + detail) if detail else ''}")
    return 1
