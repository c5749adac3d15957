"""Thin Faust agents wiring the pure cores: analyse and index (or spill to posts.enriched when
Elasticsearch is unwell) -> (mentions, sequencer) -> cluster updates; mentions -> surges ->
alerts. Each agent is a short loop over a batch; the logic lives in the cores. Batches are acknowledged only after everything they produced was acknowledged by the
broker (at-least-once), and every sink is idempotent by post_id.
"""
from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import json
import logging
import pickle
import time
import weakref
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from faust.streams import _current_event

from alerting.model import dedup_key
from indexer.documents import alert_document, post_document
from indexer.sink import PostSink
from streams import seen_purge, surge
from streams.analysis import Analysis, Resources, analyze
from streams.app import Topology, kafka_client_args, replay_log
from streams.cluster_state import ClusterState, dump_state, load_state
from streams.clustering import cluster_chars
from streams.commit_watch import CommitWatch
from streams.errors import InvalidRecord
from streams.forked_write import FORK_FAILED, ForkedWriter, write_atomically
from streams.inline_index import SPILLED, InlineIndex
from streams.raw_stage import RawStage
from streams.metrics import StreamMetrics
from streams.records import (ALERT_TICK_KEY, DLQ_MAX_VALUE_BYTES, MAX_CLUSTER_KEYS, AlertTick,
                             ClusterUpdate, DeadLetter, EnrichedPost, Mention, Surge, cluster_keys_bytes,
                             cluster_keys_from_bytes)
from streams.seen_store import SeenStore, encode_key, encode_value
from streams.textnorm import prepared_content_hash
from streams.validate import parse_raw
from streams.watch_schedule import WatchSchedule

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
DAY_S = 86400
# the analyze loop gives the event loop a turn after this much CPU (an await per post cost more)
YIELD_EVERY_S = 0.005


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def version_of(timestamp_ms: int | None) -> int | None:
    """The version of the post a posts.raw record carries: its Kafka timestamp in ms (a re-crawl
    is produced later than the crawl it edits); None when the record has none."""
    return int(timestamp_ms) if timestamp_ms and timestamp_ms > 0 else None


def enriched_fields(post, a: Analysis, content_hash: str, version: int | None = None) -> dict:
    """The fields of a post's EnrichedPost, as a plain dict: the analyze stage indexes from it
    (indexer.documents.post_document) and builds the record (enrich) only to spill it."""
    return {**post.__dict__, "tokens": a.tokens, "keywords": a.keywords, "entities": a.entities,
            "watch_terms": a.watch_terms, "subjects": a.subjects, "sentiment": a.sentiment,
            "sentiment_label": a.sentiment_label, "simhash": f"{a.simhash:016x}", "sketch": a.sketch,
            "content_hash": content_hash, "cluster_id": post.post_id, "is_repost": False, "version": version}


def enrich(post, a: Analysis, content_hash: str, version: int | None = None) -> EnrichedPost:
    # built without a second validation: the post was validated by parse_raw and the analysis
    # fields are produced by our own code with these types
    return EnrichedPost.model_construct(**enriched_fields(post, a, content_hash, version))


def cluster_key_fields(post, content_hash: str, enriched: dict, a: Analysis) -> tuple:
    """ClusterKey's fields, in its order (records.cluster_keys_bytes); the length counts the
    title too, so a title-only item still clusters (clustering.cluster_chars)."""
    return post.post_id, content_hash, enriched["simhash"], a.sketch, cluster_chars(post.title, post.text)


def mentions_of(post: dict) -> list[Mention]:
    """The mentions of an enriched post (its enriched_fields), one per watched subject."""
    return [Mention(subject=s, post_id=post["post_id"], site=post["site"], url=post["url"],
                    title=post["title"] or post["text"][:60], published_at=post["published_at"],
                    sentiment_label=post["sentiment_label"], is_repost=post["is_repost"],
                    cluster_id=post["cluster_id"], produced_at=post["produced_at"])
            for s in post["subjects"]]


def is_known(seen, content_hash: str, today: int, horizon_days: int) -> bool:
    """seen_posts value [hash, day]: the same content delivered again within the horizon."""
    return bool(seen) and seen[0] == content_hash and today - int(seen[1]) <= horizon_days


def uncommitted_heads(consumer) -> dict:
    """partition -> (committed offset, lowest acked offset above it) from the Faust consumer's
    ack bookkeeping (faust-streaming 0.15 internals: `_acked`, `_committed_offset`, `_gap`; pinned
    in constraints.txt). Offsets Faust recorded as gaps in the log count as acked, as they do in
    its own commit."""
    heads = {}
    for tp, acked in list(consumer._acked.items()):
        committed = consumer._committed_offset.get(tp)
        lowest = min(acked) if acked else None
        gaps = consumer._gap.get(tp)
        if committed is not None and gaps and gaps.overlaps(committed):
            lowest = committed
        heads[tp] = (committed, lowest)
    return heads


@contextmanager
def writing_for(event):
    """Table writes inside a batch: Faust picks the changelog partition from the current event,
    which take_events() does not set per event, so set it for the write."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def wire(topo: Topology, *, resources: Resources, rules, sink: PostSink,
         alerter, metrics: StreamMetrics, clock: Clock = utcnow, batch_size: int = 500,
         batch_s: float = 1.0, horizon_days: int = 14, analyze_batch_s: float = 0.2, surge_batch_s: float = 0.05,
         snapshot_every: int = 200_000, analyze_batch: int = 500, commit_stall_s: float = 30.0,
         purge_limit: int = 400, inline_timeout_s: float = 10.0, inline_pause_s: float = 30.0) -> None:
    app = topo.app
    clusters = ClusterState(horizon_days * DAY_S)
    sink.history.on_done = lambda ok: metrics.records.labels("alert_history", "written" if ok else "failed").inc()
    watch = WatchSchedule(resources, rules.watch_terms)   # rules-file watch terms, event windows included
    inline = InlineIndex(timeout_s=inline_timeout_s, pause_s=inline_pause_s)

    async def dead_letter(message, stage: str, exc: InvalidRecord) -> None:
        metrics.dead_letters.labels(stage, exc.kind).inc()
        value = message.value or b""
        record = DeadLetter(topic=message.topic, partition=message.partition, offset=message.offset, stage=stage,
                            reason=exc.reason, key_b64=base64.b64encode((message.key or b"")[:1024]).decode(),
                            value_b64=base64.b64encode(value[:DLQ_MAX_VALUE_BYTES]).decode(),
                            value_bytes=len(value), value_sha256=hashlib.sha256(value).hexdigest(),
                            value_truncated=len(value) > DLQ_MAX_VALUE_BYTES, at=clock())
        log.warning("dead letter: %s[%d]@%d %s: %s", message.topic, message.partition, message.offset, exc.kind, exc.reason)
        await topo.dlq.send(key=message.key, value=record.to_bytes(), force=True)

    async def produce(topic, key: bytes, value: bytes):
        """A record sent now, straight to the producer: the same partition as topic.send (the
        producer's partitioner on the key) without Faust's per-message wrapping, which cost more
        than the send on the stage's busy topics; returns the acknowledgement's future."""
        return await app.producer.send(topic.get_topic_name(), key, value, None, None, None)

    seen = SeenStore(Path(app.conf.datadir) / "seen")
    seen_cursors: dict[int, bytes | None] = {}

    async def write_seen(partition: int, items: list[tuple[bytes, bytes | None]]) -> None:
        """seen_posts entries (None = a tombstone) of one posts.raw partition: to its changelog
        partition, then, once acknowledged, to the local store with the offset reached."""
        if not items:
            return
        offsets = await stage.write_changelog(partition, items)
        if not seen.partition(partition).written(items, offsets):
            stage.current.discard(partition)      # another writer's records in between: read them first

    swept_at: dict[int, float] = {}

    async def purge_seen(partitions, today: int) -> None:
        """streams.seen_purge over the partitions this batch came from, a slice each, at most
        every 2 s per partition: 200 entries a second walk a partition of a million in under
        1.5 h, far faster than entries expire (the horizon is days), and a busy stream of batches
        no longer pays a scan per batch."""
        for partition in partitions:
            if time.monotonic() - swept_at.get(partition, -1e9) < 2.0:
                continue
            swept_at[partition] = time.monotonic()
            keys, seen_cursors[partition] = seen_purge.scan(
                seen.partition(partition).db, seen_cursors.get(partition), purge_limit,
                lambda v: seen_purge.expired(v, today, horizon_days))
            await write_seen(partition, [(key, None) for key in keys])
            metrics.records.labels("dedup", "expired").inc(len(keys))

    async def spill(posts: dict) -> None:
        sent = [await produce(topo.enriched, pid.encode(), EnrichedPost.model_construct(**fields).to_bytes())
                for pid, (_, fields) in posts.items()]
        await asyncio.gather(*sent)
        metrics.records.labels("index", "spilled").inc(len(sent))

    async def index_batch(posts: dict, now) -> set[str]:
        """Index the batch's posts (post_id -> (raw record, enriched_fields)) inline, or spill them to
        posts.enriched (streams.inline_index); returns the ids not indexed: refused by
        Elasticsearch (dead-lettered with their raw record) or older than the version indexed."""
        if not posts:
            return set()
        started = time.perf_counter()
        docs = {pid: post_document(fields, now) for pid, (_, fields) in posts.items()}
        versions = {pid: fields["version"] for pid, (_, fields) in posts.items() if fields["version"] is not None}
        superseded: list[str] = []
        how, rejected = await inline(lambda: sink.write_documents(docs, {}, versions, superseded=superseded),
                                     lambda: spill(posts))
        if how == SPILLED:
            return set()
        for post_id, reason in rejected:
            await dead_letter(posts[post_id][0], "index", InvalidRecord("index", reason))
        metrics.records.labels("index", "indexed").inc(len(docs) - len(rejected) - len(superseded))
        metrics.records.labels("index", "failed").inc(len(rejected))
        metrics.records.labels("index", "superseded").inc(len(superseded))
        metrics.observe_indexed(docs.values(), now, [*rejected, *((pid, "superseded") for pid in superseded)])
        metrics.latency.labels("index").observe(time.perf_counter() - started)
        return {post_id for post_id, _ in rejected} | set(superseded)

    async def analyze_records(records: list):
        """One batch of posts.raw records (streams.raw_stage): validate, drop exact re-crawls,
        analyse, send mentions; returns the rest (index or spill, then the batch's cluster keys,
        then its seen_posts entries), which the stage runs while it prepares the next batch and
        commits the offsets after."""
        started, now = time.perf_counter(), clock()
        today = int(now.timestamp() // DAY_S)
        sent, keys, posts, counts = [], [], {}, Counter()
        yielded, analyze_cpu = started, 0.0
        resources_now = watch.at(now)       # the watch terms of the batch's moment
        for record in records:
            try:
                post = parse_raw(record.key, record.value)
            except InvalidRecord as exc:
                metrics.records.labels("validate", "dead_letter").inc()
                await dead_letter(record, "validate", exc)
                continue
            counts["validate", "ok"] += 1
            prepare_started = time.thread_time()
            content_hash, prepared = prepared_content_hash(post.title, post.text)
            prepare_cpu = time.thread_time() - prepare_started
            if stage.pending(post.post_id):     # in the batch still finishing: its seen_posts entry first
                await stage.wait_inflight()
            known = seen.partition(record.partition).get(post.post_id)
            if is_known(known, content_hash, today, horizon_days):     # exact re-crawl
                counts["dedup", "duplicate"] += 1
                continue
            analyze_started = time.thread_time()
            a = analyze(post.title, post.text, resources_now, content_hash, prepared)
            analyze_cpu += prepare_cpu + time.thread_time() - analyze_started
            if time.perf_counter() - yielded > YIELD_EVERY_S:
                # CPU-bound: let alerting, clustering and heartbeats run every few milliseconds
                await asyncio.sleep(0)
                yielded = time.perf_counter()
            enriched = enriched_fields(post, a, content_hash, version_of(record.timestamp))
            posts[post.post_id] = (record, enriched)     # the same post twice in a batch: the last version
            if known is None:       # an edit re-indexes the post but is not a new mention
                for mention in mentions_of(enriched):
                    sent.append(await produce(topo.mentions, mention.subject.encode(), mention.to_bytes()))
                    counts["fanout", "mentions"] += 1
            keys.append((record, post.post_id, content_hash, cluster_key_fields(post, content_hash, enriched, a)))
            counts["dedup", "unique" if known is None else "edited"] += 1
        for (stage_name, outcome), n in counts.items():
            metrics.records.labels(stage_name, outcome).inc(n)
        metrics.analyze_cpu.inc(analyze_cpu)
        metrics.latency.labels("validate").observe(time.perf_counter() - started)

        async def finish() -> None:
            # every post is indexed (or in posts.enriched) before its cluster key, so a cluster
            # update always finds the post it updates
            await asyncio.gather(*sent)
            not_indexed = await index_batch(posts, now)
            # the last version of each post indexed: its cluster key, then (once the keys are
            # acknowledged) its seen_posts entry, so a redelivery after a crash decides it again
            last = {item[1]: item for item in keys if item[1] not in not_indexed}
            ordered = [key for _, _, _, key in last.values()]
            acks = [await produce(topo.analyzed, b"cluster", cluster_keys_bytes(ordered[i:i + MAX_CLUSTER_KEYS]))
                    for i in range(0, len(ordered), MAX_CLUSTER_KEYS)]
            await asyncio.gather(*acks)
            entries: dict[int, list] = {}
            for record, post_id, content_hash, _ in last.values():
                entries.setdefault(record.partition, []).append((encode_key(post_id), encode_value(content_hash, today)))
            await asyncio.gather(*(write_seen(p, items) for p, items in entries.items()))
            await purge_seen(sorted({record.partition for record in records}), today)
        return finish, posts.keys()

    async def poison(record, exc: BaseException) -> None:
        await dead_letter(record, "analyze", InvalidRecord("processing", f"cannot be processed: {exc.__class__.__name__}: {exc}"[:500]))

    client = kafka_client_args(app)
    stage = RawStage(servers=client.pop("bootstrap_servers"), topic=topo.raw.get_topic_name(),
                     changelog=topo.seen_changelog, group_id=topo.analyze_group, store=seen, process=analyze_records,
                     poison=poison, auth=client,
                     max_records=analyze_batch, wait_s=analyze_batch_s, session_timeout_s=app.conf.broker_session_timeout,
                     fallback_group=app.conf.id, declare=topo.declare_raw,
                     on_retry=lambda cause: metrics.batch_retries.labels(cause).inc())
    app.service(stage)
    topo.seen = seen

    snapshot_path = Path(app.conf.datadir) / "cluster_state.pickle"
    snapshot_due = {"records": 0, "at": time.monotonic()}

    def snapshot_written(code: int) -> None:
        if code == FORK_FAILED:
            log.warning("could not fork to write the repost state snapshot %s; the next one is due in %d posts",
                        snapshot_path, snapshot_every)
        elif code:
            log.warning("writing the repost state snapshot %s failed (exit %d); the next one is due in %d posts",
                        snapshot_path, code, snapshot_every)

    # pickling 1M posts of state takes seconds holding the GIL: a forked child writes it
    snapshots = ForkedWriter(snapshot_path, on_done=snapshot_written)

    async def save_snapshot(final: bool = False) -> None:
        if final:      # shutdown: a child still writing finishes first, then this one, in place
            await snapshots.wait()
            data = dump_state(clusters)
            await asyncio.to_thread(write_atomically, snapshot_path, data)
        elif not snapshots.start(lambda: dump_state(clusters)):
            return     # one is still being written: the next batch asks again
        snapshot_due.update(records=0, at=time.monotonic())

    def read_snapshot() -> ClusterState | None:
        # 1M posts of state are millions of new containers: the collections they set off doubled
        # the read (8.2 s -> 3.9 s without them, measured alone, the worker's gc thresholds)
        collecting = gc.isenabled()
        gc.disable()
        try:
            return load_state(snapshot_path.read_bytes(), clusters.horizon_s) if snapshot_path.exists() else None
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError) as exc:
            log.warning("repost state snapshot %s unreadable (%s); replaying the log instead", snapshot_path, exc)
            return None
        finally:
            if collecting:
                gc.enable()

    async def rebuild(message) -> None:
        """Resume the sequencer's state at `message.offset`: this worker's own snapshot if it has
        one, then the log from there (or from now - horizon) up to that offset."""
        nonlocal clusters
        started = time.perf_counter()
        state = await asyncio.to_thread(read_snapshot)
        if state is None or state.next_offset is None:
            state = ClusterState(clusters.horizon_s)
            start = None
        else:
            # a snapshot ahead of the resume point (a crash after it was written) is still right:
            # records below its offset are already in it (ClusterState.applied_before): replays
            start = min(state.next_offset, message.offset)
        since_ms = int((clock().timestamp() - state.horizon_s) * 1000)
        def apply(value: bytes, ts: float, offset: int) -> None:
            try:
                keys = cluster_keys_from_bytes(value)
            except ValueError:      # dead-lettered when it was live
                state.next_offset = offset + 1
                return
            for key in keys:
                state.apply(key, ts, offset)

        n = await replay_log(app, message.topic, message.partition, start, since_ms, message.offset, apply)
        state.next_offset, clusters = message.offset, state
        log.info("repost state resumed at %s@%d: %d records replayed in %.1fs, %d posts held", message.topic,
                 message.offset, n, time.perf_counter() - started, len(clusters))

    @app.agent(topo.analyzed, name="cluster_reposts")
    async def cluster_reposts(stream):
        try:
            # a record holds one analyze batch's keys (ClusterKeys): a take of 20 is up to ~5,000 posts
            async for events in stream.take_events(20, within=analyze_batch_s):
                if clusters.next_offset != events[0].message.offset:
                    await rebuild(events[0].message)
                updates, decided, kinds = [], 0, Counter()
                for event in events:
                    try:
                        keys = cluster_keys_from_bytes(event.value)
                    except ValueError as exc:
                        await dead_letter(event.message, "cluster", InvalidRecord("schema", f"bad cluster keys: {exc}"))
                        clusters.next_offset = event.message.offset + 1
                        continue
                    # a record is applied whole, with no await inside: the state never holds half of one
                    for key in keys:
                        d = clusters.apply(key, event.message.timestamp, event.message.offset)
                        kinds[d.kind] += 1
                        if d.cluster_id != key.post_id:
                            updates.append(ClusterUpdate(post_id=key.post_id, cluster_id=d.cluster_id,
                                                         content_hash=key.content_hash))
                    decided += len(keys)
                    await asyncio.sleep(0)
                for kind, n in kinds.items():
                    metrics.records.labels("cluster", kind).inc(n)
                sent = [await produce(topo.enriched, u.post_id.encode(), u.to_bytes()) for u in updates]
                await asyncio.gather(*sent)
                snapshot_due["records"] += decided
                metrics.repost_state_posts.set(len(clusters))
                if snapshot_due["records"] >= snapshot_every or time.monotonic() - snapshot_due["at"] > 600:
                    await save_snapshot()
        finally:
            if clusters.next_offset is not None:
                await save_snapshot(final=True)

    @app.agent(topo.enriched, name="index_posts")
    async def index_posts(stream):
        # posts the analyze stage spilled, and the sequencer's cluster updates
        async for batch in stream.take_events(batch_size, within=batch_s):
            started, now = time.perf_counter(), clock()
            docs, updates = {}, {}     # post_id -> (message, document, version) / (message, fields, guard)
            for event in batch:
                try:
                    record = json.loads(event.value)
                    post_id = record["post_id"]
                    if record.get("record") == "cluster_update":
                        # applied after the document even when both are in this batch (not merged
                        # into it): the update raises the document's version past a late replay's
                        updates[post_id] = (event.message, {"cluster_id": record["cluster_id"],
                                                            "is_repost": record["is_repost"]}, record.get("content_hash"))
                    else:
                        version = record.get("version")
                        docs[post_id] = (event.message, post_document(record, now),
                                         int(version) if version is not None else None)
                        updates.pop(post_id, None)     # the post again (an edit): its new decision follows
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    await dead_letter(event.message, "index", InvalidRecord("schema", f"bad enriched record: {exc!r}"))
            rejected = await sink.write_documents({k: d for k, (_, d, _) in docs.items()},
                                                  {k: f for k, (_, f, _) in updates.items()},
                                                  {k: v for k, (_, _, v) in docs.items() if v is not None},
                                                  {k: g for k, (_, _, g) in updates.items() if g})
            for post_id, reason in rejected:
                message = (docs.get(post_id) or updates[post_id])[0]
                await dead_letter(message, "index", InvalidRecord("index", reason))
            metrics.records.labels("index", "indexed").inc(len(docs) + len(updates) - len(rejected))
            metrics.records.labels("index", "failed").inc(len(rejected))
            metrics.observe_indexed([doc for _, doc, _ in docs.values()], now, rejected)
            metrics.latency.labels("index").observe(time.perf_counter() - started)

    @app.agent(topo.mentions, name="detect_surges")
    async def detect_surges(stream):
        # a short window: a mention waits at most this long for others to join its batch, and
        # it is the alert path (threshold crossing -> page) that waits
        async for events in stream.take_events(batch_size, within=surge_batch_s):
            now = clock()
            by_subject: dict[str, list] = {}
            for event in events:
                try:
                    by_subject.setdefault(event.message.key.decode(), []).append((event, Mention.from_bytes(event.value)))
                except ValueError as exc:
                    await dead_letter(event.message, "surge", InvalidRecord("schema", f"bad mention: {exc}"))
            sent = []
            for subject, items in by_subject.items():
                surge_params = rules.params_for(subject, now)     # major-event windows change them
                state = topo.surge_state.get(subject)
                before = json.dumps(state, sort_keys=True, default=str) if all(m.kind == "tick" for _, m in items) else None
                state, signals = surge.observe_mentions(state, [m for _, m in items], now, surge_params)
                # a tick that changed nothing writes nothing (each write is a changelog record)
                if before is None or json.dumps(state, sort_keys=True, default=str) != before:
                    with writing_for(items[-1][0]):
                        topo.surge_state[subject] = state
                for signal in signals:
                    metrics.records.labels("surge", "signal").inc()
                    sent.append(await topo.surges.send(key=subject.encode(), value=signal.to_surge(subject, now).to_bytes(),
                                                       force=True))
                # after an outage each subject's first tick catches up on up to two days of buckets
                # (~0.5 s): let the consumer's heartbeats run between subjects
                await asyncio.sleep(0)
            await asyncio.gather(*sent)

    @app.timer(max(1.0, rules.surge.bucket_s / 2))
    async def surge_ticks():
        # tables can only be written inside a stream, so the timer asks the stream to evaluate. On
        # every worker: a worker's table lists the subjects of its own partitions only (the leader's
        # alone would leave the others' episodes open). A subject silent for `dormant_days` with
        # nothing open is not ticked: its state is kept and catches up when it speaks again
        now = clock()
        for subject in list(topo.surge_state.keys()):
            if surge.dormant(topo.surge_state.get(subject), now, rules.params_for(subject, now)):
                continue
            tick = Mention(kind="tick", subject=subject, post_id="", site="", url="", title="", published_at=now,
                           sentiment_label="neutral", is_repost=False, cluster_id="")
            await topo.mentions.send(key=subject.encode(), value=tick.to_bytes())

    commits = CommitWatch(stall_s=commit_stall_s)

    @app.timer(max(1.0, commit_stall_s / 3))
    async def watch_commits():
        # every worker, for its own partitions (streams.commit_watch)
        consumer = app.consumer
        for tp, offset in commits.check(uncommitted_heads(consumer), time.monotonic()):
            log.warning("%s[%d]: commit stuck at %d behind a hole in the acks for %.0fs; reading it again from there",
                        tp.topic, tp.partition, offset, commit_stall_s)
            metrics.commit_reseeks.inc()
            await consumer.seek(tp, offset)

    @app.timer(2.0, on_leader=True)
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
            if record is not None:
                key = dedup_key(record.rule, record.subject)
                # deliveries run in the background: results are those finished since the last call,
                # rarely this record's own (shaobing_alerting_surge_to_send_seconds times every one)
                mine = [r for r in results if key in r.dedup_keys]
                if any(r.ok for r in mine) and record.first_produced_at is not None:
                    metrics.alert_latency.observe((clock() - record.first_produced_at).total_seconds())
                doc_id, doc = alert_document(record, key, sorted({r.channel for r in mine if r.ok}),
                                             sorted({r.channel for r in mine if not r.ok}), clock())
                sink.history.record_alert(doc_id, doc)      # written in the background
            delivered: dict[str, set[str]] = {}   # deliveries of earlier surges (group_wait, repeats)
            for result in results:
                for key in (result.dedup_keys if result.ok else ()):
                    delivered.setdefault(key, set()).add(result.channel)
            for key, channels in delivered.items():
                sink.history.record_delivered(key, channels, clock())
