"""The console's Elasticsearch bodies, by dict equality (indexer/queries.py, indexer/analytics.py)."""
from datetime import datetime, timedelta, timezone

from indexer.analytics import (build_alert_history, build_event, build_facets, build_spread, build_trend,
                               event_interval, shape_trend)
from indexer.queries import HIGHLIGHT, SearchRequest, build_query, build_search

T0 = datetime(2026, 11, 26, tzinfo=timezone.utc)
NEG = {"term": {"sentiment_label": "negative"}}
BY_SENTIMENT = {"sentiment": {"terms": {"field": "sentiment_label", "size": 3}}}


def test_words_mode_needs_every_word_and_kinds_filter():
    assert build_query(SearchRequest("化工厂 异味", mode="words", kinds=("news",))) == {"bool": {
        "filter": [{"terms": {"kind": ["news"]}}],
        "must": [{"multi_match": {"query": "化工厂", "type": "phrase", "fields": ["title^3", "text^2"]}},
                 {"multi_match": {"query": "异味", "type": "phrase", "fields": ["title^3", "text^2"]}}]}}


def test_time_sort_pages_with_search_after_and_a_tiebreaker():
    body = build_search(SearchRequest("", sort="time", size=5, search_after=("2026-11-26T00:00:00Z", "a:1"),
                                      highlight=False))
    assert body == {"query": {"bool": {"filter": []}}, "size": 5, "track_total_hits": 10_000,
                    "sort": [{"published_at": "desc"}, {"post_id": "asc"}], "_source": {"excludes": ["tokens"]},
                    "search_after": ["2026-11-26T00:00:00Z", "a:1"]}


def test_trend_is_a_shanghai_histogram_stacked_by_sentiment_with_exclusive_until():
    req = SearchRequest("", sentiment="negative", since=T0, until=T0 + timedelta(days=1))
    assert build_trend(req, "hour") == {"size": 0, "track_total_hits": True,
                                        "query": {"bool": {"filter": [NEG, {"range": {"published_at": {
                                            "gte": "2026-11-26T00:00:00+00:00", "lt": "2026-11-27T00:00:00+00:00"}}}]}},
                                        "aggs": {"trend": {"date_histogram": {
                                            "field": "published_at", "calendar_interval": "1h", "time_zone": "Asia/Shanghai",
                                            "min_doc_count": 0, "extended_bounds": {
                                                "min": "2026-11-26T00:00:00+00:00", "max": "2026-11-26T23:59:59.999000+00:00"}},
                                            "aggs": BY_SENTIMENT}}}


def test_shape_trend_fills_missing_sentiments_with_zero():
    resp = {"hits": {"total": {"value": 3}}, "aggregations": {"trend": {"buckets": [
        {"key_as_string": "2026-11-26T08:00:00.000+08:00", "doc_count": 3,
         "sentiment": {"buckets": [{"key": "negative", "doc_count": 2}, {"key": "neutral", "doc_count": 1}]}}]}}}
    assert shape_trend(resp, "hour") == {"total": 3, "interval": "hour", "buckets": [
        {"t": "2026-11-26T08:00:00.000+08:00", "total": 3, "negative": 2, "neutral": 1, "positive": 0}]}


def test_facets_and_spread_share_the_query():
    req = SearchRequest("", sentiment="negative", size=10, highlight=True)
    facets = build_facets(req, size=5)
    assert facets["query"] == build_query(req) and facets["aggs"]["sites"] == {"terms": {"field": "site", "size": 5}}
    assert facets["aggs"]["persons"] == {"terms": {"field": "entities.PER", "size": 5}}
    spread = build_spread(req, offset=20)
    assert spread["aggs"]["stories"]["terms"] == {"field": "cluster_id", "size": 30,
                                                  "order": [{"_count": "desc"}, {"_key": "asc"}]}
    assert spread["aggs"]["stories"]["aggs"]["first"]["top_hits"]["highlight"] == HIGHLIGHT


def test_alert_history_and_event_window():
    assert build_alert_history(status="firing", since=T0, size=10) == {
        "size": 10, "track_total_hits": True,
        "query": {"bool": {"filter": [{"term": {"status": "firing"}},
                                      {"range": {"fired_at": {"gte": "2026-11-26T00:00:00+00:00"}}}]}},
        "sort": [{"fired_at": "desc"}, {"alert_id": "asc"}]}
    event = build_event({"subject": "青石镇", "window_start": "2026-11-26T02:00:00+00:00",
                         "window_end": "2026-11-26T02:01:00+00:00"})
    assert event["query"]["bool"]["filter"] == [
        {"terms": {"subjects": ["青石镇"]}},
        {"range": {"published_at": {"gte": "2026-11-26T01:00:00+00:00", "lt": "2026-11-26T03:01:00+00:00"}}}]
    assert event["aggs"]["timeline"]["date_histogram"]["fixed_interval"] == "5m"      # 2 h 1 min in 25 bars


def test_event_interval_keeps_the_timeline_readable():
    assert event_interval(timedelta(hours=1)) == "1m"
    assert event_interval(timedelta(hours=6, minutes=1)) == "5m"
    assert event_interval(timedelta(days=3)) == "1h"
    assert event_interval(timedelta(days=400)) == "1d"
