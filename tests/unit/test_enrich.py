"""enrich() builds the posts.enriched record without validating it a second time: its bytes must
be exactly those of a validated record, and they must read back as one."""
import json

from streams.agents import enrich
from streams.analysis import Resources, analyze
from streams.records import EnrichedPost
from streams.validate import parse_raw


def test_enriched_record_is_the_validated_one():
    raw = {"post_id": "t:1", "site": "bbs.example.cn", "source": "example", "kind": "forum",
           "url": "https://bbs.example.cn/t/1", "title": "县卫生局回应", "text": "县卫生局今天回应了群众反映的问题，效果不错。",
           "author": "网友", "published_at": "2026-11-30T01:00:00+08:00", "crawled_at": "2026-11-30T01:01:00+08:00",
           "tags": {"region": "某县"}}
    post = parse_raw(b"t:1", json.dumps(raw, ensure_ascii=False).encode())
    a = analyze(post.title, post.text, Resources.load())
    built = enrich(post, a, "hash-1")
    validated = EnrichedPost(**post.model_dump(), tokens=a.tokens, keywords=a.keywords, entities=a.entities,
                             watch_terms=a.watch_terms, subjects=a.subjects, sentiment=a.sentiment,
                             sentiment_label=a.sentiment_label, simhash=f"{a.simhash:016x}", sketch=a.sketch,
                             content_hash="hash-1", cluster_id="t:1")
    assert built.to_bytes() == validated.to_bytes()
    assert EnrichedPost.from_bytes(built.to_bytes()) == validated
    assert built.tokens and built.cluster_id == "t:1" and not built.is_repost


def test_the_document_is_the_same_from_the_fields_the_record_and_its_json():
    """The analyze stage indexes from enriched_fields (Python values, no record built); the
    index stage from the JSON of posts.enriched: one document either way, times as JSON has them."""
    from datetime import datetime, timezone

    from indexer.documents import post_document
    from streams.agents import enriched_fields, mentions_of

    raw = {"post_id": "t:2", "site": "bbs.example.cn", "source": "example", "kind": "forum",
           "url": "https://bbs.example.cn/t/2", "title": "", "text": "某县城管局回应占道经营问题，网友称处理及时。",
           "published_at": "2026-11-30T01:00:00.250+08:00", "crawled_at": "2026-11-30T01:01:00Z",
           "produced_at": "2026-11-30T01:01:00.000001+00:00", "tags": {"region": "某县"}}
    post = parse_raw(b"t:2", json.dumps(raw, ensure_ascii=False).encode())
    a = analyze(post.title, post.text, Resources.load())
    now = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
    fields = enriched_fields(post, a, "hash-2", 1764435660000)
    record = enrich(post, a, "hash-2", 1764435660000)
    from_json = post_document(json.loads(record.to_bytes()), now)
    assert post_document(fields, now) == from_json == post_document(record, now)
    assert from_json["published_at"] == "2026-11-29T17:00:00.250000Z" and from_json["produced_at"].endswith(".000001Z")
    subjects = dict(fields, subjects=["城管局"])
    [mention] = mentions_of(subjects)
    assert (mention.subject, mention.post_id, mention.title) == ("城管局", "t:2", post.text[:60])
    assert mention.published_at == post.published_at and not mention.is_repost


def test_a_title_only_item_clusters_with_its_copy_on_another_site():
    """The cluster key's length counts the title: a news item with its content in the title and an
    empty or stub body is a duplicate of the same item crawled from another site."""
    from streams.agents import cluster_key_fields, enriched_fields
    from streams.cluster_state import ClusterState
    from streams.records import ClusterKey
    from streams.textnorm import prepared_content_hash

    title = "城西物流园一仓库突发大火，消防部门已赶赴现场，暂无人员伤亡报告"
    state, decisions = ClusterState(14 * 86400), []
    for n, (site, text) in enumerate([("a.example.cn", ""), ("b.example.cn", ""), ("c.example.cn", "详见原文")]):
        raw = {"post_id": f"{site}:1", "site": site, "source": "example", "kind": "news", "url": f"https://{site}/1",
               "title": title, "text": text, "published_at": "2026-11-30T01:00:00+08:00",
               "crawled_at": "2026-11-30T01:01:00+08:00"}
        post = parse_raw(f"{site}:1".encode(), json.dumps(raw, ensure_ascii=False).encode())
        content_hash, prepared = prepared_content_hash(post.title, post.text)
        a = analyze(post.title, post.text, Resources.load(), content_hash, prepared)
        fields = cluster_key_fields(post, content_hash, enriched_fields(post, a, content_hash), a)
        assert fields[4] == len(title) + len(text)
        decisions.append(state.apply(ClusterKey(**dict(zip(ClusterKey.model_fields, fields))), float(n)))
    assert [(d.kind, d.cluster_id) for d in decisions] == [
        ("new", "a.example.cn:1"), ("duplicate", "a.example.cn:1"), ("repost", "a.example.cn:1")]
