"""The crawlers' only Kafka producer: each item is validated as streams.records.RawPost, stamped
with produced_at and sent to posts.raw keyed by post_id (acks=all, idempotent). kafka-python
blocks, so every producer call runs in a thread. At close it flushes, then announces the posts
the broker confirmed (stats.posts_delivered) so the spider can mark them seen.

Reads KAFKA_SERVERS, KAFKA_CLIENT_OPTIONS (TLS / SASL keyword arguments), KAFKA_TOPIC, KAFKA_API_VERSION ("3.9" or "auto"), KAFKA_LINGER_MS,
KAFKA_FLUSH_TIMEOUT_S and KAFKA_PRODUCER_FACTORY (a callable(settings) -> producer; tests
inject a fake). Without servers or a factory it switches itself off (NotConfigured).
"""
from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timezone

from kafka.errors import KafkaError
from pydantic import ValidationError
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.misc import load_object

from crawlers import stats as S
from crawlers.errors import ProduceError
from crawlers.state import fingerprint
from streams.records import RawPost
from streams.topics import POSTS_RAW

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
        **settings.getdict("KAFKA_CLIENT_OPTIONS"),     # TLS / SASL (shaobing.connections)
    )


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
        self.producer = None
        self._lock = threading.Lock()
        self._delivered: dict[str, str] = {}
        self._sent = 0
        self._send_failures = 0
        self._broken = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def open_spider(self):
        self.producer = await asyncio.to_thread(self.factory, self.settings)

    async def process_item(self, item):
        try:
            post = RawPost(**dict(item))
        except ValidationError as exc:
            self.crawler.stats.inc_value(S.ERRORS)
            err = exc.errors()[0]
            raise DropItem(f"invalid post {item.get('post_id')!r}: {'.'.join(map(str, err['loc']))}: {err['msg']}")
        fp = fingerprint(post.title, post.text)
        value = post.model_copy(update={"produced_at": datetime.now(timezone.utc)}).to_bytes()
        try:
            future = await asyncio.to_thread(self._send, post.post_id.encode("utf-8"), value)
        except (KafkaError, OSError, ValueError, ProduceError) as exc:
            self._broken = True
            self._send_failures += 1
            log.error("发送到 Kafka 失败 / produce failed: post_id=%s error=%s", post.post_id, exc.__class__.__name__)
            return item
        self._sent += 1
        future.add_callback(self._on_ack, post.post_id, fp)
        future.add_errback(self._on_error, post.post_id)
        return item

    def _send(self, key: bytes, value: bytes):
        # after one send timed out the broker is unreachable: fail the rest fast instead of each
        # waiting max_block_ms; undelivered posts are not marked seen, so the next crawl retries them
        if self._broken:
            raise ProduceError("an earlier send failed; not trying again in this crawl")
        return self.producer.send(self.topic, key=key, value=value)

    def _on_ack(self, post_id: str, fp: str, _metadata) -> None:       # kafka-python's sender thread
        with self._lock:
            self._delivered[post_id] = fp

    def _on_error(self, post_id: str, exc: BaseException) -> None:     # kafka-python's sender thread
        log.error("Kafka 未确认 / not acknowledged: post_id=%s error=%s", post_id, exc.__class__.__name__)

    async def close_spider(self):
        timeout = self.settings.getfloat("KAFKA_FLUSH_TIMEOUT_S", 30.0)
        if self.producer is not None:
            try:
                await asyncio.to_thread(self.producer.flush, timeout)
            except KafkaError as exc:  # KafkaTimeoutError: what was not acknowledged is counted below
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
