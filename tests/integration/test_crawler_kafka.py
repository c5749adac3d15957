"""The crawler's Kafka pipeline against the real broker: a topic whose own limit is lower than
what the producer allows (a user's cluster with message.max.bytes at 200 KB) refuses one large
post; that post is dead-lettered with its reason, the others are delivered, the crawl is clean."""
from __future__ import annotations

import random
from datetime import datetime, timezone

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from scrapy.utils.test import get_crawler

from crawlers import stats as S
from crawlers.items import PostItem
from crawlers.pipelines.kafka import KafkaPipeline, make_producer
from crawlers.sources import load_sources
from crawlers.spiders import NewsSpider
from crawlers.state import CrawlState
from streams.records import DeadLetter, RawPost
from tests.integration.helpers import unique

T0 = datetime(2026, 5, 17, tzinfo=timezone.utc)


def item(n: int, text: str) -> PostItem:
    return PostItem(post_id=f"it-news:{n}", site="it-news", source="demo-news", kind="news",
                    url=f"http://news.example.cn/a/{n}.html", native_id=str(n), title=f"标题{n}", text=text,
                    author="记者", published_at=T0, crawled_at=T0, reply_to=None, tags={})


def records(servers: str, topic: str) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=servers, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=5000)
    try:
        return list(consumer)
    finally:
        consumer.close()


async def test_a_post_the_broker_refuses_as_too_large_is_dead_lettered(live_stack):
    servers = live_stack.kafka_servers
    raw, dlq = unique("it-crawl") + ".posts.raw", unique("it-crawl") + ".posts.dlq"
    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        admin.create_topics([NewTopic(raw, 1, 1, topic_configs={"max.message.bytes": "200000"}), NewTopic(dlq, 1, 1)])
    finally:
        admin.close()
    crawler = get_crawler(NewsSpider, {"KAFKA_SERVERS": servers, "KAFKA_TOPIC": raw, "KAFKA_DLQ_TOPIC": dlq,
                                       "KAFKA_PRODUCER_FACTORY": make_producer})
    crawler.spider = NewsSpider.from_crawler(crawler, source=load_sources()["demo-news"], state=CrawlState())
    delivered = []
    crawler.signals.connect(lambda post_ids, failed: delivered.append((post_ids, failed)), signal=S.posts_delivered,
                            weak=False)
    rng = random.Random(5)       # incompressible text: gzip cannot bring it under the topic's limit
    large = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(150_000))
    pipe = KafkaPipeline.from_crawler(crawler)
    await pipe.open_spider()
    await pipe.process_item(item(1, "县里今天开会。"))
    await pipe.close_spider()                 # one batch per post: a refused batch holds only that post
    pipe = KafkaPipeline.from_crawler(crawler)
    await pipe.open_spider()
    await pipe.process_item(item(2, large))
    await pipe.close_spider()
    pipe = KafkaPipeline.from_crawler(crawler)
    await pipe.open_spider()
    await pipe.process_item(item(3, "路灯修好了。"))
    await pipe.close_spider()
    assert [RawPost.from_bytes(r.value).post_id for r in records(servers, raw)] == ["it-news:1", "it-news:3"]
    (letter,) = [DeadLetter.from_bytes(r.value) for r in records(servers, dlq)]
    assert letter.stage == "crawl" and "MessageSizeTooLarge" in letter.reason and letter.value_bytes > 200_000
    assert [set(ids) for ids, _failed in delivered] == [{"it-news:1"}, {"it-news:2"}, {"it-news:3"}]
    assert all(failed == 0 for _ids, failed in delivered) and crawler.stats.get_value(S.POSTS_REJECTED) == 1
