"""The crawler's Kafka pipeline with a fake producer: keys, payloads, delivery accounting."""
from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from kafka.errors import MessageSizeTooLargeError
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from crawlers import stats as S
from crawlers.items import PostItem
from crawlers.pipelines.kafka import KafkaPipeline, make_producer
from crawlers.pipelines.seen import SeenFilterPipeline
from crawlers.sources import load_sources
from crawlers.spiders import NewsSpider
from crawlers.state import CrawlState, fingerprint
from streams.records import DeadLetter, RawPost
from tests.unit.crawl_fakes import FakeFuture, FakeProducer

T0 = datetime(2026, 5, 17, 0, 0, tzinfo=timezone.utc)


def item(n: int, **kw) -> PostItem:
    fields = dict(post_id=f"demo-news:{n}", site="demo-news", source="demo-news", kind="news",
                  url=f"http://demo.test/news/article/{n}.html", native_id=str(n), title=f"标题{n}", text=f"正文{n}",
                  author="记者", published_at=T0, crawled_at=T0, reply_to=None, tags={"region": "澄溪县"})
    return PostItem(**{**fields, **kw})


def crawler_with(factory, state: CrawlState | None = None, **settings):
    crawler = get_crawler(NewsSpider, {"KAFKA_PRODUCER_FACTORY": factory, **settings})
    crawler.spider = NewsSpider.from_crawler(crawler, source=load_sources()["demo-news"], state=state or CrawlState())
    delivered = Delivered()
    crawler.signals.connect(delivered.receive, signal=S.posts_delivered)
    return crawler, delivered


class Delivered(list):
    """Records posts_delivered signals (signal receivers are weak references: keep this alive)."""

    def receive(self, post_ids, failed):
        self.append((post_ids, failed))


async def test_sends_rawpost_json_keyed_by_post_id_to_posts_raw():
    factory = FakeProducer.factory()
    crawler, delivered = crawler_with(factory)
    pipe = KafkaPipeline.from_crawler(crawler)
    await pipe.open_spider()
    before = datetime.now(timezone.utc)
    for n in (1, 2):
        await pipe.process_item(item(n))
    await pipe.close_spider()
    assert [(t, k) for t, k, _ in factory.sent] == [("posts.raw", b"demo-news:1"), ("posts.raw", b"demo-news:2")]
    post = RawPost.from_bytes(factory.sent[0][2])
    assert post.post_id == "demo-news:1" and post.title == "标题1" and post.tags == {"region": "澄溪县"}
    assert post.produced_at is not None and post.produced_at >= before
    assert delivered == [({"demo-news:1": fingerprint("标题1", "正文1"), "demo-news:2": fingerprint("标题2", "正文2")}, 0)]
    assert crawler.stats.get_value(S.POSTS_NEW) == 2 and factory.built[0].closed


async def test_invalid_item_is_dropped_with_the_field_named():
    factory = FakeProducer.factory()
    crawler, _ = crawler_with(factory)
    pipe = KafkaPipeline.from_crawler(crawler)
    await pipe.open_spider()
    with pytest.raises(DropItem, match="kind"):
        await pipe.process_item(item(3, kind="tweet"))
    assert factory.sent == [] and crawler.stats.get_value(S.ERRORS) == 1


async def test_broker_down_fails_fast_and_nothing_is_marked_delivered():
    factory = FakeProducer.factory(fail="send")
    crawler, delivered = crawler_with(factory)
    pipe = KafkaPipeline.from_crawler(crawler)
    await pipe.open_spider()
    for n in range(5):
        await pipe.process_item(item(n))
    await pipe.close_spider()
    assert factory.built[0].send_calls == 1            # the first timeout stops further sends
    assert delivered == [({}, 5)] and crawler.stats.get_value(S.ERRORS) == 5


async def test_unacknowledged_sends_count_as_failed():
    factory = FakeProducer.factory(fail="ack")
    crawler, delivered = crawler_with(factory)
    pipe = KafkaPipeline.from_crawler(crawler)
    await pipe.open_spider()
    await pipe.process_item(item(1))
    await pipe.close_spider()
    assert delivered == [({}, 1)] and crawler.stats.get_value(S.POSTS_NEW) == 0


def test_switches_off_without_servers_or_factory():
    crawler = get_crawler(NewsSpider, {"KAFKA_PRODUCER_FACTORY": make_producer, "KAFKA_SERVERS": ""})
    with pytest.raises(NotConfigured):
        KafkaPipeline.from_crawler(crawler)


def test_seen_filter_drops_delivered_and_repeated_posts_but_not_changed_ones():
    state = CrawlState()
    state.commit({"demo-news:1": fingerprint("标题1", "正文1"), "demo-news:2": "old"}, clean=False)
    crawler, _ = crawler_with(FakeProducer.factory(), state)
    seen = SeenFilterPipeline.from_crawler(crawler)
    with pytest.raises(DropItem):
        seen.process_item(item(1))                      # delivered before, same content
    assert seen.process_item(item(2))["post_id"] == "demo-news:2"   # content changed since
    assert seen.process_item(item(3))["post_id"] == "demo-news:3"
    with pytest.raises(DropItem):
        seen.process_item(item(3))                      # twice in one crawl
    assert crawler.stats.get_value(S.POSTS_SEEN) == 2


def test_state_commits_validators_only_after_a_clean_crawl(tmp_path):
    state = CrawlState.for_source(tmp_path, "demo-news")
    state.stage_validators("http://x/list", 'W/"1"', "Sun, 17 May 2026 04:30:00 GMT")
    state.stage_mark("thread:1", "3")
    state.commit({"demo-news:1": "fp"}, clean=False)
    assert state.conditional_headers("http://x/list") == {} and state.mark("thread:1") is None
    assert state.seen("demo-news:1") == "fp"
    state.stage_validators("http://x/list", 'W/"1"', "Sun, 17 May 2026 04:30:00 GMT")
    state.commit({}, clean=True)
    state.close()
    reopened = CrawlState.for_source(tmp_path, "demo-news")
    assert reopened.conditional_headers("http://x/list") == {
        "If-None-Match": 'W/"1"', "If-Modified-Since": "Sun, 17 May 2026 04:30:00 GMT"}
    assert reopened.counts() == {"validators": 1, "marks": 0, "seen": 1}
    reopened.close()


async def test_overlong_author_and_title_are_truncated_and_the_crawl_stays_clean():
    factory = FakeProducer.factory()
    crawler, delivered = crawler_with(factory)
    pipe = KafkaPipeline.from_crawler(crawler)
    await pipe.open_spider()
    await pipe.process_item(item(1, author="楼" * 400, title="题" * 1500))
    await pipe.close_spider()
    post = RawPost.from_bytes(factory.sent[0][2])
    assert len(post.author) == 256 and post.author.endswith("…") and post.author.startswith("楼" * 255)
    assert len(post.title) == 1000
    assert delivered == [({"demo-news:1": fingerprint("题" * 1500, "正文1")}, 0)]
    assert not crawler.stats.get_value(S.ERRORS) and crawler.stats.get_value(S.FIELDS_TRUNCATED) == 2


class TooLargeProducer(FakeProducer):
    """kafka-python refuses a record over max_request_size in send(), before any I/O."""

    def send(self, topic, key=None, value=None):
        if value is not None and b"HUGE" in value:
            self.send_calls += 1
            raise MessageSizeTooLargeError("The message is 9000000 bytes when serialized")
        return super().send(topic, key, value)


async def test_one_record_over_the_request_size_is_dead_lettered_and_the_crawl_goes_on():
    factory = TooLargeProducer.factory()
    crawler, delivered = crawler_with(factory, KAFKA_DLQ_TOPIC="ns.posts.dlq")
    pipe = KafkaPipeline.from_crawler(crawler)
    await pipe.open_spider()
    await pipe.process_item(item(1))
    await pipe.process_item(item(2, text="HUGE"))
    await pipe.process_item(item(3))
    await pipe.close_spider()
    topics = [(t, k) for t, k, _ in factory.sent]
    assert topics == [("posts.raw", b"demo-news:1"), ("ns.posts.dlq", b"demo-news:2"), ("posts.raw", b"demo-news:3")]
    letter = DeadLetter.from_bytes(factory.sent[1][2])
    assert letter.stage == "crawl" and "MessageSizeTooLarge" in letter.reason and letter.topic == "posts.raw"
    assert RawPost.from_bytes(base64.b64decode(letter.value_b64)).post_id == "demo-news:2"
    # the dead letter is its delivery: marked seen (not re-sent every round), the crawl is clean
    assert set(delivered[0][0]) == {"demo-news:1", "demo-news:2", "demo-news:3"} and delivered[0][1] == 0
    assert crawler.stats.get_value(S.POSTS_REJECTED) == 1 and not crawler.stats.get_value(S.ERRORS)
    assert S.summary(crawler.stats.get_stats())["posts_rejected"] == 1


def test_the_real_producer_accepts_what_posts_raw_accepts(monkeypatch):
    import kafka

    from streams.topics import MAX_MESSAGE_BYTES

    captured = {}
    monkeypatch.setattr(kafka, "KafkaProducer", lambda **kw: captured.update(kw))
    make_producer(get_crawler(NewsSpider, {"KAFKA_SERVERS": "127.0.0.1:1"}).settings)
    assert captured["max_request_size"] == MAX_MESSAGE_BYTES["posts.raw"]


class BrokerRefusesProducer(FakeProducer):
    """A broker whose message.max.bytes is lower than the producer's limit: the future fails."""

    def send(self, topic, key=None, value=None):
        if value is not None and b"HUGE" in value and topic == "posts.raw":
            self.send_calls += 1
            return FakeFuture(MessageSizeTooLargeError("broker: record too large"))
        return super().send(topic, key, value)


async def test_a_record_the_broker_refuses_as_too_large_is_dead_lettered_at_close():
    factory = BrokerRefusesProducer.factory()
    crawler, delivered = crawler_with(factory)
    pipe = KafkaPipeline.from_crawler(crawler)
    await pipe.open_spider()
    await pipe.process_item(item(1, text="HUGE"))
    await pipe.process_item(item(2))
    await pipe.close_spider()
    assert [(t, k) for t, k, _ in factory.sent] == [("posts.raw", b"demo-news:2"), ("posts.dlq", b"demo-news:1")]
    assert set(delivered[0][0]) == {"demo-news:1", "demo-news:2"} and delivered[0][1] == 0
    assert crawler.stats.get_value(S.POSTS_REJECTED) == 1
