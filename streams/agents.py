"""Thin Faust agents wiring the pure cores: validate -> dedup -> analyse -> cluster -> index /
fan out -> surge -> alert. Each agent is a short loop; the logic lives in the cores."""
from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone

from alerting.model import dedup_key
from indexer.documents import alert_document
from indexer.sink import PostSink
from streams import surge
from streams.analysis import Analysis, Resources, analyze
from streams.app import Topology
from streams.clustering import decide
from streams.errors import InvalidRecord
from streams.metrics import StreamMetrics
from streams.textnorm import content_hash
from streams.records import DLQ_MAX_VALUE_BYTES, ALERT_TICK_KEY, AlertTick, DeadLetter, EnrichedPost, Mention, SamplePost, Surge
from streams.validate import parse_raw
from streams.watch_schedule import WatchSchedule

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def enrich(post, a: Analysis) -> EnrichedPost:
    # an exact duplicate has the same normalised title AND text: a copy re-titled 【转】... is a
    # repost to cluster, not a re-crawl to drop
    return EnrichedPost(**post.model_dump(), tokens=a.tokens, keywords=a.keywords, entities=a.entities,
                        watch_terms=a.watch_terms, subjects=a.subjects, sentiment=a.sentiment,
                        sentiment_label=a.sentiment_label, simhash=f"{a.simhash:016x}", sketch=a.sketch,
                        content_hash=content_hash(f"{post.title}\n{post.text}"), cluster_id=post.post_id)


def mentions_of(post: EnrichedPost) -> list[Mention]:
    return [Mention(subject=s, post_id=post.post_id, site=post.site, url=post.url, title=post.title or post.text[:60],
                    published_at=post.published_at, sentiment_label=post.sentiment_label,
                    is_repost=post.is_repost, cluster_id=post.cluster_id, produced_at=post.produced_at)
            for s in post.subjects]


def wire(topo: Topology, *, resources: Resources, rules, sink: PostSink,
         alerter, metrics: StreamMetrics, clock: Clock = utcnow, batch_size: int = 500,
         batch_s: float = 1.0) -> None:
    app = topo.app
    watch = WatchSchedule(resources, rules.watch_terms)   # rules-file watch terms, event windows included

    async def dead_letter(message, stage: str, exc: InvalidRecord) -> None:
        metrics.dead_letters.labels(stage, exc.kind).inc()
        value = message.value or b""
        record = DeadLetter(topic=message.topic, partition=message.partition, offset=message.offset, stage=stage,
                            reason=exc.reason, key_b64=base64.b64encode((message.key or b"")[:1024]).decode(),
                            value_b64=base64.b64encode(value[:DLQ_MAX_VALUE_BYTES]).decode(),
                            value_bytes=len(value), value_sha256=hashlib.sha256(value).hexdigest(),
                            value_truncated=len(value) > DLQ_MAX_VALUE_BYTES, at=clock())
        log.warning("dead letter: %s[%d]@%d %s: %s", message.topic, message.partition, message.offset, exc.kind, exc.reason)
        await topo.dlq.send(key=message.key, value=record.to_bytes())

    @app.agent(topo.raw, name="validate_analyze")
    async def validate_analyze(stream):
        async for event in stream.events():
            started = time.perf_counter()
            try:
                post = parse_raw(event.message.key, event.value)
            except InvalidRecord as exc:
                metrics.records.labels("validate", "dead_letter").inc()
                await dead_letter(event.message, "validate", exc)
                continue
            metrics.records.labels("validate", "ok").inc()
            if topo.seen_posts.get(post.post_id) is not None:      # exact re-crawl of a known post
                metrics.records.labels("dedup", "duplicate").inc()
                continue
            enriched = enrich(post, analyze(post.title, post.text, watch.at(clock())))
            await topo.analyzed.send(key=b"cluster", value=enriched.to_bytes())
            topo.seen_posts[post.post_id] = enriched.content_hash
            metrics.records.labels("dedup", "unique").inc()
            metrics.latency.labels("validate").observe(time.perf_counter() - started)

    @app.agent(topo.analyzed, name="cluster_reposts")
    async def cluster_reposts(stream):
        async for value in stream:
            post = EnrichedPost.from_bytes(value)
            d = decide(post.post_id, post.content_hash, int(post.simhash or "0", 16), topo.content_index,
                       topo.band_index, topo.cluster_of, text_chars=len("".join(post.text.split())), sketch=post.sketch)
            metrics.records.labels("cluster", d.kind).inc()
            if d.kind == "duplicate":
                continue
            out = post.model_copy(update={"cluster_id": d.cluster_id, "is_repost": d.cluster_id != post.post_id})
            await topo.enriched.send(key=post.post_id.encode(), value=out.to_bytes())

    @app.agent(topo.enriched, name="index_posts")
    async def index_posts(stream):
        async for batch in stream.take_events(batch_size, within=batch_s):
            started = time.perf_counter()
            parsed = [(e.message, EnrichedPost.from_bytes(e.value)) for e in batch]
            # a replayed post may appear twice in one batch; the last copy wins, as it would in ES
            latest = {post.post_id: (message, post) for message, post in parsed}
            rejected = await sink.write([post for _, post in latest.values()], clock())
            for post, reason in rejected:
                await dead_letter(latest[post.post_id][0], "index", InvalidRecord("index", reason))
            metrics.records.labels("index", "indexed").inc(len(latest) - len(rejected))
            metrics.records.labels("index", "failed").inc(len(rejected))
            metrics.latency.labels("index").observe(time.perf_counter() - started)

    @app.agent(topo.enriched, name="fan_out_mentions")
    async def fan_out_mentions(stream):
        async for value in stream:
            for mention in mentions_of(EnrichedPost.from_bytes(value)):
                await topo.mentions.send(key=mention.subject.encode(), value=mention.to_bytes())
                metrics.records.labels("fanout", "mentions").inc()

    @app.agent(topo.mentions, name="detect_surges")
    async def detect_surges(stream):
        async for value in stream:
            m = Mention.from_bytes(value)
            now = clock()
            surge_params = rules.params_for(m.subject, now)     # major-event windows change them
            state = topo.surge_state.get(m.subject)
            if m.kind == "tick":
                state, signals = surge.tick(state, now, surge_params)
            else:
                sample = SamplePost(post_id=m.post_id, site=m.site, url=m.url, title=m.title, published_at=m.published_at)
                state, signals = surge.observe(state, m.published_at, m.sentiment_label == "negative", sample, now,
                                               surge_params, produced_at=m.produced_at)
            topo.surge_state[m.subject] = state
            for signal in signals:
                record = signal.to_surge(m.subject, now)
                metrics.records.labels("surge", "signal").inc()
                await topo.surges.send(key=m.subject.encode(), value=record.to_bytes())

    @app.timer(max(1.0, rules.surge.bucket_s / 2))
    async def surge_ticks():
        # tables can only be written inside a stream, so the timer asks the stream to evaluate
        now = clock()
        for subject in list(topo.surge_state.keys()):
            tick = Mention(kind="tick", subject=subject, post_id="", site="", url="", title="", published_at=now,
                           sentiment_label="neutral", is_repost=False, cluster_id="")
            await topo.mentions.send(key=subject.encode(), value=tick.to_bytes())

    @app.timer(2.0)
    async def alert_ticks():
        await topo.surges.send(key=ALERT_TICK_KEY, value=AlertTick(at=clock()).to_bytes())

    @app.agent(topo.surges, name="alert")
    async def alert(stream):
        async for event in stream.events():
            now = clock()
            if event.message.key == ALERT_TICK_KEY:
                results, record = await alerter.tick(topo.alert_state, now=now), None
            else:
                record = Surge.from_bytes(event.value)
                results = await alerter.handle(record, topo.alert_state, now=now)
            for result in results:
                metrics.records.labels("alert", "delivered" if result.ok else "failed").inc()
                if result.ok and record is not None and record.first_produced_at is not None:
                    metrics.alert_latency.observe((clock() - record.first_produced_at).total_seconds())
            if record is not None:
                doc_id, doc = alert_document(record, dedup_key(record.rule, record.subject),
                                             sorted({r.channel for r in results if r.ok}),
                                             sorted({r.channel for r in results if not r.ok}), clock())
                ok = await sink.write_alert(doc_id, doc)
                metrics.records.labels("alert_history", "written" if ok else "failed").inc()
            delivered: dict[str, set[str]] = {}   # deliveries of earlier surges (group_wait, repeats)
            for result in results:
                for key in (result.dedup_keys if result.ok else ()):
                    delivered.setdefault(key, set()).add(result.channel)
            for key, channels in delivered.items():
                ok = await sink.mark_alert_delivered(key, channels, clock())
                metrics.records.labels("alert_history", "written" if ok else "failed").inc()
