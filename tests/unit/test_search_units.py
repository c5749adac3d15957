from datetime import datetime, timezone

from indexer.console import render_hits, terminal_safe
from indexer.queries import HIGHLIGHT_POST, HIGHLIGHT_PRE, SearchRequest, build_search


def test_full_text_with_filters():
    since = datetime(2026, 11, 26, tzinfo=timezone.utc)
    body = build_search(SearchRequest("化工厂异味", sites=("bbs",), sentiment="negative", since=since, reposts=False, size=5),
                        ["化工厂", "异味"])
    assert body["size"] == 5
    assert body["query"]["bool"]["should"] == [
        {"match_phrase": {"title": {"query": "化工厂异味", "boost": 3}}},
        {"match_phrase": {"text": {"query": "化工厂异味", "boost": 2}}},
        {"match": {"tokens": {"query": "化工厂 异味", "operator": "and"}}},
    ]
    assert body["query"]["bool"]["minimum_should_match"] == 1
    assert body["query"]["bool"]["filter"] == [
        {"terms": {"site": ["bbs"]}},
        {"term": {"sentiment_label": "negative"}},
        {"range": {"published_at": {"gte": "2026-11-26T00:00:00+00:00"}}},
        {"term": {"is_repost": False}},
    ]


def test_empty_text_is_a_pure_filter_query():
    body = build_search(SearchRequest("  ", subjects=("安全事故",)))
    assert "should" not in body["query"]["bool"]
    assert body["query"]["bool"]["filter"] == [{"terms": {"subjects": ["安全事故"]}}]


def test_terminal_output_strips_escape_sequences_and_bidi():
    hostile = f"正常\x1b]0;pwned\x07标题\u202e反转{HIGHLIGHT_PRE}命中{HIGHLIGHT_POST}"
    assert terminal_safe(hostile) == "正常]0;pwned标题反转【命中】"


def test_render_hits_shows_site_time_in_shanghai_and_repost_flag():
    resp = {"hits": {"total": {"value": 1}, "hits": [{
        "_source": {"title": "标题", "text": "正文", "site": "bbs", "url": "http://x/1", "is_repost": True,
                    "published_at": "2026-11-26T00:30:00+00:00", "sentiment_label": "negative"},
        "highlight": {"text": [f"正{HIGHLIGHT_PRE}文{HIGHLIGHT_POST}"]}}]}}
    out = render_hits(resp)
    assert "共 1 条结果" in out
    assert "标题 [转载]  (bbs · 2026-11-26 08:30 · 负面)" in out
    assert "正【文】" in out
