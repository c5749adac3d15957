"""PostSink against the real node: a batch of large posts goes out as several bulk requests, each
within the byte bound, and every post is indexed exactly once (`_id = post_id`)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from elasticsearch import Elasticsearch

from indexer.sink import PostSink
from indexer.templates import load_template
from streams.records import EnrichedPost
from tests.integration.helpers import unique

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
BOUND = 64 * 1024


@pytest.fixture()
def index(live_stack):
    es = Elasticsearch(live_stack.elasticsearch_url, request_timeout=60)
    name = unique("it-sink")
    tpl = load_template("posts")["template"]
    es.indices.create(index=name, settings=tpl["settings"], mappings=tpl["mappings"])
    yield es, name
    es.indices.delete(index=name)
    es.close()


def _post(i: int) -> EnrichedPost:
    # ~12 KB of UTF-8 per post: 40 of them are ~480 KB, far over the 64 KB bound
    return EnrichedPost(post_id=f"it:{i}", site="bbs", source="it", kind="forum", url=f"http://127.0.0.1/t/{i}",
                        title=f"帖子{i}", text=f"编号{i}：" + "青石镇化工厂附近有刺鼻异味，" * 290,
                        published_at=NOW, crawled_at=NOW)


async def test_bulk_requests_stay_within_the_byte_bound(live_stack, index):
    es, name = index
    sink = PostSink(live_stack.elasticsearch_url, index=name, max_bytes=BOUND)
    sizes: list[int] = []
    real_bulk = sink.es.bulk

    async def spy(**kw):                     # records each request body, then sends it for real
        sizes.append(len(kw["operations"]))
        return await real_bulk(**kw)

    sink.es.bulk = spy
    try:
        posts = [_post(i) for i in range(40)]
        assert await sink.write(posts, NOW) == []
        assert await sink.write(posts[:5], NOW) == []          # a replay does not duplicate
    finally:
        await sink.close()
    assert len(sizes) > 5 and max(sizes) <= BOUND
    es.indices.refresh(index=name)
    assert es.count(index=name)["count"] == 40
    assert "青石镇" in es.get(index=name, id="it:7")["_source"]["text"]


async def test_the_newest_version_of_a_post_wins_whatever_order_the_writes_come_in(live_stack, index):
    es, name = index
    sink = PostSink(live_stack.elasticsearch_url, index=name)
    doc = lambda text: {"post_id": "it:v", "text": text, "cluster_id": "it:v", "is_repost": False}   # noqa: E731
    try:
        assert await sink.write_documents({"it:v": doc("第二版")}, {}, {"it:v": 2000}) == []
        # the first version arrives late (spilled, or replayed): skipped, not rejected
        assert await sink.write_documents({"it:v": doc("第一版")}, {}, {"it:v": 1000}) == []
        assert es.get(index=name, id="it:v")["_source"]["text"] == "第二版"
        # a repost decision, then a replay of the same version: the decision stays
        assert await sink.write_documents({}, {"it:v": {"cluster_id": "it:root", "is_repost": True}}) == []
        assert await sink.write_documents({"it:v": doc("第二版")}, {}, {"it:v": 2000}) == []
        assert es.get(index=name, id="it:v")["_source"]["cluster_id"] == "it:root"
        # an edit (a later version) replaces the document
        assert await sink.write_documents({"it:v": doc("第三版")}, {}, {"it:v": 3000}) == []
        got = es.get(index=name, id="it:v")["_source"]
        assert (got["text"], got["cluster_id"]) == ("第三版", "it:v")
    finally:
        await sink.close()


async def test_a_repost_decision_changes_only_the_version_it_was_made_for(live_stack, index):
    es, name = index
    sink = PostSink(live_stack.elasticsearch_url, index=name)
    doc = lambda text, h: {"post_id": "it:g", "text": text, "content_hash": h, "cluster_id": "it:g",   # noqa: E731
                           "is_repost": False}
    decision = {"cluster_id": "it:root", "is_repost": True}
    try:
        # the first version and its decision in one request: the update follows the document
        assert await sink.write_documents({"it:g": doc("第一版", "h1")}, {"it:g": decision}, {"it:g": 1000},
                                          {"it:g": "h1"}) == []
        assert es.get(index=name, id="it:g")["_source"]["cluster_id"] == "it:root"
        # a late copy of the same version (a cancelled request the node ran after all) is older
        # than the decided document now, so it cannot undo the decision
        superseded: list[str] = []
        assert await sink.write_documents({"it:g": doc("第一版", "h1")}, {}, {"it:g": 1000},
                                          superseded=superseded) == []
        assert superseded == ["it:g"] and es.get(index=name, id="it:g")["_source"]["is_repost"] is True
        # an edit, then the old version's decision arriving late: it changes nothing
        assert await sink.write_documents({"it:g": doc("第二版", "h2")}, {}, {"it:g": 5000}) == []
        superseded = []
        assert await sink.write_documents({}, {"it:g": decision}, guards={"it:g": "h1"}, superseded=superseded) == []
        assert superseded == ["it:g"]
        got = es.get(index=name, id="it:g")["_source"]
        assert (got["text"], got["cluster_id"], got["is_repost"]) == ("第二版", "it:g", False)
        # the edit's own decision applies
        assert await sink.write_documents({}, {"it:g": decision}, guards={"it:g": "h2"}) == []
        assert es.get(index=name, id="it:g")["_source"]["cluster_id"] == "it:root"
    finally:
        await sink.close()


def _refresh_interval(es, name: str):
    return es.indices.get_settings(index=name)[name]["settings"]["index"].get("refresh_interval")


async def test_a_backfill_pauses_refresh_and_puts_it_back(live_stack, index):
    es, name = index
    sink = PostSink(live_stack.elasticsearch_url, index=name)
    try:
        async with sink.backfill():
            assert _refresh_interval(es, name) == "-1"
            assert await sink.write([_post(i) for i in range(3)], NOW) == []
        assert _refresh_interval(es, name) == load_template("posts")["template"]["settings"]["refresh_interval"]
        assert es.count(index=name)["count"] == 3            # refreshed on the way out
        with pytest.raises(RuntimeError):
            async with sink.backfill():
                raise RuntimeError("the load failed")
        assert _refresh_interval(es, name) == "1s"
    finally:
        await sink.close()


async def test_a_refused_document_is_returned_with_the_nodes_reason(live_stack, index):
    """The sink asks the node for a filtered bulk answer: the refusal's type and reason still
    reach the dead-letter topic, and the other documents of the request are indexed."""
    es, name = index
    sink = PostSink(live_stack.elasticsearch_url, index=name)
    good = {"post_id": "it:ok", "site": "bbs", "source": "it", "kind": "forum", "url": "http://127.0.0.1/t/ok",
            "text": "青石镇", "published_at": NOW.isoformat(), "crawled_at": NOW.isoformat()}
    try:
        rejected = await sink.write_documents({"it:ok": good, "it:bad": {**good, "post_id": "it:bad", "unmapped": 1}}, {})
    finally:
        await sink.close()
    assert [pid for pid, _ in rejected] == ["it:bad"]
    assert "strict_dynamic_mapping_exception" in rejected[0][1] and "unmapped" in rejected[0][1]
    es.indices.refresh(index=name)
    assert es.count(index=name)["count"] == 1
