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
