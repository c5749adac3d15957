"""The console tests' own data: a few invented posts (one repost cluster across three sites, a
hostile post, unrelated chatter) and one alert, written through the production bulk sink into a
namespace of their own. Never rows of /work/shared/data."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

from elasticsearch import Elasticsearch

from indexer.documents import alert_document
from indexer.sink import PostSink
from infra.stack import apply_index_templates, create_topics
from shaobing.settings import load_settings
from streams.records import EnrichedPost, SamplePost, Surge

BASE = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)     # 10:00 in Asia/Shanghai
SUBJECT = "青石镇"
HOSTILE_TITLE = '<script>window.__xss = 1</script>化工厂<img src=x onerror="window.__xss = 2">'
FORMULA_TITLE = '=HYPERLINK("http://evil.example/","点我")化工厂'
DEDUP_KEY = "surge:青石镇"


def _post(n: int, minutes: int, *, site: str, title: str, text: str, sentiment: str = "neutral",
          kind: str = "forum", cluster: str | None = None, subjects=(SUBJECT,), entities=None,
          url: str | None = None) -> EnrichedPost:
    at = BASE + timedelta(minutes=minutes)
    post_id = f"{site}:{n}"
    return EnrichedPost(post_id=post_id, site=site, source=site, kind=kind, url=url or f"http://{site}.example/t/{n}",
                        title=title, text=text, published_at=at, crawled_at=at + timedelta(seconds=30),
                        tokens=[], keywords=["化工厂", "异味"] if "化工厂" in text else ["菜价"],
                        entities=entities or {"LOC": [SUBJECT]}, watch_terms=list(subjects), subjects=list(subjects),
                        sentiment={"negative": 0.1, "neutral": 0.5, "positive": 0.9}[sentiment],
                        sentiment_label=sentiment, cluster_id=cluster or post_id, is_repost=bool(cluster))


def fixture_posts() -> list[EnrichedPost]:
    story = "网友反映青石镇化工厂夜间排放刺鼻异味，附近居民难以入睡，希望有关部门尽快调查处理。"
    original = _post(1, 0, site="qingshi-bbs", title="青石镇化工厂夜里又排异味了", text=story, sentiment="negative")
    posts = [
        original,
        _post(2, 25, site="county-news", kind="news", title="【转】青石镇化工厂夜间排放异味", text="转自论坛：" + story,
              sentiment="negative", cluster=original.post_id),
        _post(3, 70, site="microblog", kind="api", title="", text=story + " #青石镇#", sentiment="negative",
              cluster=original.post_id),
        _post(4, 40, site="qingshi-bbs", title="青石镇菜市场菜价平稳", text="今天去青石镇菜市场，青菜价格和上周差不多。",
              sentiment="positive"),
        _post(5, 130, site="county-news", kind="news", title="柳河乡修路通知", text="柳河乡道路施工期间请绕行。",
              subjects=("柳河乡",), entities={"LOC": ["柳河乡"]}),
        _post(6, 50, site="qingshi-bbs", title=HOSTILE_TITLE, kind="reply",
              text='<img src=x onerror="window.__xss = 3">化工厂的事有人管吗', sentiment="negative",
              url="javascript:window.__xss = 4"),
        _post(7, 55, site="microblog", kind="api", title=FORMULA_TITLE, text="-1+2 化工厂 @所有人", sentiment="neutral"),
    ]
    return posts


def fixture_surge(posts: list[EnrichedPost]) -> Surge:
    samples = [SamplePost(post_id=p.post_id, site=p.site, url=p.url, title=p.title, published_at=p.published_at)
               for p in posts[:2]]
    return Surge(subject=SUBJECT, rule="surge", severity="warning", window_start=BASE, window_end=BASE + timedelta(hours=1),
                 count=5, baseline=0.5, negative_share=0.8, samples=samples, detected_at=BASE + timedelta(hours=1))


def fill_namespace(es_url: str, state_dir) -> tuple:
    """A fresh namespace with the fixture posts and alert; returns (settings, posts, alert_id)."""
    # acks and silences in <state_dir>/alerting/control.json: the namespace has no alerts.control topic
    settings = load_settings(namespace=f"it-console-{uuid.uuid4().hex[:8]}", state_dir=state_dir, control_backend="file")
    apply_index_templates(es_url, settings.alias)
    create_topics(settings.kafka_servers, settings.topic)     # the console's duty actions use alerts.control
    posts = fixture_posts()

    async def write():
        sink = PostSink(es_url, index=settings.alias("posts"), alerts_index=settings.alias("alerts"))
        try:
            rejected = await sink.write(posts, now=BASE + timedelta(hours=2))
            assert rejected == []
            doc_id, doc = alert_document(fixture_surge(posts), DEDUP_KEY, ["duty-webhook"], [], BASE + timedelta(hours=1))
            sink.history.record_alert(doc_id, doc)      # the production path: written in the background
            await sink.history.drain()
            return doc_id
        finally:
            await sink.close()

    alert_id = asyncio.run(write())
    with Elasticsearch(es_url, request_timeout=30) as es:
        es.indices.refresh(index=f"{settings.namespace}-*")
    return settings, posts, alert_id


def drop_namespace(settings) -> None:
    """The namespace's topics, indices and worker state."""
    from infra.stack import reset_namespace

    reset_namespace(settings, echo=lambda _: None)


def make_token(settings, role: str, name: str = "") -> str:
    from console.store import create_token

    return asyncio.run(create_token(settings, role, name or f"it-{role}", created_by="tests"))


def start_console(settings, log_dir) -> tuple:
    """`shaobing console` on a free port in the fixture's namespace; returns (child, base URL)."""
    import time

    import httpx

    from shaobing.processes import spawn_shaobing
    from tests.integration.helpers import free_port

    port = free_port()
    child = spawn_shaobing("console", ["console", "--port", str(port)],
                           {"SHAOBING_NAMESPACE": settings.namespace, "SHAOBING_STATE_DIR": str(settings.state_dir),
                            "SHAOBING_CONTROL_BACKEND": settings.control_backend},
                           log_dir)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return child, url
        except httpx.TransportError:
            pass    # not listening yet
        if not child.alive():
            break
        time.sleep(0.3)
    child.stop()
    raise RuntimeError(f"shaobing console did not answer /healthz:\n{child.tail()}")
