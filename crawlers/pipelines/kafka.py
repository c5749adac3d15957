"""The crawlers' only Kafka producer: each item is validated as streams.records.RawPost, stamped
with produced_at and sent to posts.raw keyed by post_id (acks=all, idempotent). kafka-python
blocks, so every producer call runs in a thread. At close it flushes, then announces the posts
the broker confirmed (stats.posts_delivered) so the spider can mark them seen.

A field longer than posts.raw's schema allows (an author over 256 characters, a title over
1,000) is cut to fit, ending in "…" (counted as `fields_truncated`): the post is kept and the
crawl stays clean. A record Kafka refuses as too large (MessageSizeTooLargeError, in send() or
from a broker whose own limit is lower, then at close) is that record's problem only: it goes to the dead-letter topic with the
reason (counted as `posts_rejected`, which the watchdog reports), is marked seen like a
delivered post, and the crawl goes on. (A broker's refusal is fatal to kafka-python's idempotent
producer: posts in flight with it fail, are not marked seen and are sent again next crawl; the
dead letter goes through a new producer.) Any other send failure means the broker is unreachable.

Reads KAFKA_SERVERS, KAFKA_CLIENT_OPTIONS (TLS / SASL keyword arguments), KAFKA_TOPIC, KAFKA_DLQ_TOPIC, KAFKA_API_VERSION ("3.9" or "auto"), KAFKA_LINGER_MS,
KAFKA_FLUSH_TIMEOUT_S and KAFKA_PRODUCER_FACTORY (a callable(settings) -> producer; tests
inject a fake). Without servers or a factory it switches itself off (NotConfigured).
"""
from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timezone

from kafka.errors import KafkaError, MessageSizeTooLargeError
from pydantic import ValidationError
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.misc import load_object

from crawlers import stats as S
from crawlers.errors import ProduceError
from crawlers.state import fingerprint
from streams.records import DeadLetter, RawPost
from streams.topics import MAX_MESSAGE_BYTES, POSTS_DLQ, POSTS_RAW

log = logging.getLogger(__name__)


def make_producer(settings):
    """The real producer. api_version is given so the constructor does not block probing the broker."""
    from kafka import KafkaProducer

    version = str(settings.get("KAFKA_API_VERSION", "3.9"))
    return KafkaProducer(
        bootstrap_servers=settings.get("KAFKA_SERVERS").split(","),
        client_id="shaobing-crawler",
        acks="all",
        enable_idempotence=True,
        api_version=None if version == "auto" else tuple(int(p) for p in version.split(".")),
        linger_ms=settings.getint("KAFKA_LINGER_MS", 20),
        compression_type="gzip",
        max_block_ms=10_000,
        # what posts.raw accepts: an oversized post reaches validation and its dead letter there
        max_request_size=MAX_MESSAGE_BYTES[POSTS_RAW.name],
        **settings.getdict("KAFKA_CLIENT_OPTIONS"),     # TLS / SASL (shaobing.connections)
    )


def _limits() -> dict[str, int]:
    """The one-line fields' maximum lengths, from the posts.raw schema itself."""
    out = {}
    for name in ("title", "author"):
        for rule in RawPost.model_fields[name].metadata:
            if getattr(rule, "max_length", None):
                out[name] = rule.max_length
    return out


_MAX_CHARS = _limits()


def fit_to_schema(fields: dict) -> tuple[dict, int]:
    """Fields cut to posts.raw's lengths, ending in "…"; returns them and how many were cut."""
    cut = 0
    for name, limit in _MAX_CHARS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            fields = {**fields, name: value[: limit - 1] + "…"}
            cut += 1
    return fields, cut


class KafkaPipeline:
    def __init__(self, crawler):
        settings = crawler.settings
        factory = settings.get("KAFKA_PRODUCER_FACTORY")
        if not factory or (factory is make_producer and not settings.get("KAFKA_SERVERS")):
            raise NotConfigured("no KAFKA_SERVERS and no KAFKA_PRODUCER_FACTORY")
        self.crawler = crawler
        self.settings = settings
        self.factory = load_object(factory) if isinstance(factory, str) else factory
        self.topic = settings.get("KAFKA_TOPIC") or POSTS_RAW.name
        self.dlq_topic = settings.get("KAFKA_DLQ_TOPIC") or POSTS_DLQ.name
        self.producer = None
        self._lock = threading.Lock()
        self._delivered: dict[str, str] = {}
        self._sent = 0
        self._send_failures = 0
        self._broken = False
        self._too_large: list[tuple] = []

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def open_spider(self):
        self.producer = await asyncio.to_thread(self.factory, self.settings)

    async def process_item(self, item):
        fields, cut = fit_to_schema(dict(item))
        if cut:
            self.crawler.stats.inc_value(S.FIELDS_TRUNCATED, cut)
        try:
            post = RawPost(**fields)
        except ValidationError as exc:
            self.crawler.stats.inc_value(S.ERRORS)
            err = exc.errors()[0]
            raise DropItem(f"invalid post {item.get('post_id')!r}: {'.'.join(map(str, err['loc']))}: {err['msg']}")
        # the item's own fields, as the seen filter will compare them on the next crawl
        fp = fingerprint(item.get("title", ""), item.get("text", ""))
        value = post.model_copy(update={"produced_at": datetime.now(timezone.utc)}).to_bytes()
        key = post.post_id.encode("utf-8")
        try:
            future = await asyncio.to_thread(self._send, key, value)
        except MessageSizeTooLargeError as exc:
            await self._dead_letter(post.post_id, fp, key, value, exc)
            return item
        except (KafkaError, OSError, ValueError, ProduceError) as exc:
            self._broken = True
            self._send_failures += 1
            log.error("发送到 Kafka 失败 / produce failed: post_id=%s error=%s", post.post_id, exc.__class__.__name__)
            return item
        self._sent += 1
        future.add_callback(self._on_ack, post.post_id, fp)
        future.add_errback(self._on_error, post.post_id, fp, key, value)
        return item

    def _send(self, key: bytes, value: bytes, topic: str | None = None):
        # after one send timed out the broker is unreachable: fail the rest fast instead of each
        # waiting max_block_ms; undelivered posts are not marked seen, so the next crawl retries them
        if self._broken:
            raise ProduceError("an earlier send failed; not trying again in this crawl")
        return self.producer.send(topic or self.topic, key=key, value=value)

    def _on_ack(self, post_id: str, fp: str, _metadata) -> None:       # kafka-python's sender thread
        with self._lock:
            self._delivered[post_id] = fp

    async def _dead_letter(self, post_id: str, fp: str, key: bytes, value: bytes, exc: BaseException) -> None:
        """Too large for Kafka: the record goes to the dead-letter topic, with why, instead."""
        self.crawler.stats.inc_value(S.POSTS_REJECTED)
        reason = f"{exc.__class__.__name__}: {len(value)} bytes over the producer's or broker's limit"
        letter = DeadLetter.of(self.topic, -1, -1, "crawl", reason, key, value, datetime.now(timezone.utc))
        log.error("记录过大，已转死信 / record too large, dead-lettered: post_id=%s bytes=%d", post_id, len(value))
        try:
            future = await asyncio.to_thread(self._send, key, letter.to_bytes(), self.dlq_topic)
        except (KafkaError, OSError, ValueError, ProduceError) as err:
            self._send_failures += 1
            log.error("死信发送失败 / dead letter not produced: post_id=%s error=%s", post_id, err.__class__.__name__)
            return
        self._sent += 1
        future.add_callback(self._on_ack, post_id, fp)
        future.add_errback(self._on_error, post_id, fp, None, None)

    def _on_error(self, post_id: str, fp: str, key: bytes | None, value: bytes | None,
                  exc: BaseException) -> None:     # kafka-python's sender thread
        if isinstance(exc, MessageSizeTooLargeError) and value is not None:
            with self._lock:         # the broker's own limit is lower: dead-lettered at close
                self._too_large.append((post_id, fp, key, value, exc))
            return
        log.error("Kafka 未确认 / not acknowledged: post_id=%s error=%s", post_id, exc.__class__.__name__)

    async def close_spider(self):
        timeout = self.settings.getfloat("KAFKA_FLUSH_TIMEOUT_S", 30.0)
        if self.producer is not None:
            try:
                await asyncio.to_thread(self.producer.flush, timeout)
            except KafkaError as exc:  # KafkaTimeoutError: what was not acknowledged is counted below
                log.error("Kafka flush 超时 / flush failed: %s", exc.__class__.__name__)
            with self._lock:
                too_large, self._too_large = self._too_large, []
            if too_large:
                # a broker's refusal is fatal to an idempotent producer (its other batches are
                # aborted, counted as failed and retried next crawl): the dead letters need a new one
                await asyncio.to_thread(self.producer.close, 5)
                self.producer, self._broken = await asyncio.to_thread(self.factory, self.settings), False
                for post_id, fp, key, value, exc in too_large:
                    self._sent -= 1              # replaced by its dead letter
                    await self._dead_letter(post_id, fp, key, value, exc)
                try:
                    await asyncio.to_thread(self.producer.flush, timeout)
                except KafkaError as exc:
                    log.error("Kafka flush 超时 / flush failed: %s", exc.__class__.__name__)
            await asyncio.to_thread(self.producer.close, 5)
        with self._lock:
            delivered = dict(self._delivered)
        failed = self._sent - len(delivered) + self._send_failures
        self.crawler.stats.set_value(S.POSTS_NEW, len(delivered))
        self.crawler.stats.inc_value(S.ERRORS, failed)
        self.crawler.signals.send_catch_log(S.posts_delivered, post_ids=delivered, failed=failed)


def send_records(settings, topic: str, records: list[tuple[bytes, bytes]], timeout_s: float = 10.0) -> int:
    """Blocking, for records produced outside an item pipeline (the watchdog's `surges`): one
    producer from the same factory, flushed and closed. Returns how many the broker acknowledged."""
    factory = settings.get("KAFKA_PRODUCER_FACTORY")
    producer = (load_object(factory) if isinstance(factory, str) else factory)(settings)
    acked: list[bytes] = []
    try:
        for key, value in records:
            producer.send(topic, key=key, value=value).add_callback(lambda _meta, k=key: acked.append(k))
        producer.flush(timeout_s)
    finally:
        producer.close(5)
    return len(acked)
