"""The report's one Elasticsearch edge: reads a period's numbers from the posts, alerts and
cases indices into the plain dict `build_report` takes. Query bodies are built by the pure
functions below (tested by equality); `gather` only sends them. `gather` reads no settings: the caller
passes the index aliases and the acknowledgements (console.duty); `report_for` maps settings to them."""
from __future__ import annotations

from indexer.queries import SearchRequest, build_query
from indexer.reports.model import Period

TOP_STORIES = 10
TERMS = 50


def period_query(period: Period) -> dict:
    return build_query(SearchRequest("", since=period.start, until=period.end))


def build_overview(period: Period) -> dict:
    return {"size": 0, "track_total_hits": True, "query": period_query(period),
            "aggs": {"negative": {"filter": {"term": {"sentiment_label": "negative"}}},
                     "sites": {"terms": {"field": "site", "size": TERMS}},
                     "subjects": {"terms": {"field": "subjects", "size": TERMS}},
                     "keywords": {"terms": {"field": "keywords", "size": TERMS}},
                     "stories": {"terms": {"field": "cluster_id", "size": TOP_STORIES,
                                           "order": [{"_count": "desc"}, {"_key": "asc"}]},
                                 "aggs": {"first": {"top_hits": {"size": 1, "sort": [{"published_at": "asc"}, {"post_id": "asc"}],
                                                                 "_source": ["post_id", "site", "url", "title", "text", "published_at"]}},
                                          "sites": {"terms": {"field": "site", "size": TERMS}},
                                          "sentiments": {"terms": {"field": "sentiment_label", "size": 3}}}}}}


def build_topics(period: Period) -> dict:
    return {"size": 0, "query": period_query(period),
            "aggs": {"subjects": {"terms": {"field": "subjects", "size": 1000}},
                     "keywords": {"terms": {"field": "keywords", "size": 1000}}}}


def build_period_alerts(period: Period, size: int = 500) -> dict:
    return {"size": size, "query": {"range": {"fired_at": {"gte": period.start.isoformat(), "lt": period.end.isoformat()}}},
            "sort": [{"fired_at": "asc"}, {"alert_id": "asc"}]}


def _rows(agg: dict) -> list[tuple[str, int]]:
    return [(b["key"], b["doc_count"]) for b in agg["buckets"]]


def shape(current: dict, previous: dict, prev_topics: dict, alerts: dict, acks: dict, cases: list[dict]) -> dict:
    """The gathered dict from the raw responses (pure)."""
    aggs = current["aggregations"]
    stories = [{"cluster_id": b["key"], "count": b["doc_count"], "first": b["first"]["hits"]["hits"][0]["_source"],
                "sites": [k for k, _ in _rows(b["sites"])], "sentiments": dict(_rows(b["sentiments"]))}
               for b in aggs["stories"]["buckets"]]
    status = {}
    for case in sorted(cases, key=lambda c: (c["updated_at"], c["case_id"])):   # the newest case wins
        for cluster in case.get("cluster_ids", []):
            status[cluster] = case["status"]
    return {
        "total": current["hits"]["total"]["value"], "previous_total": previous["hits"]["total"]["value"],
        "negative": aggs["negative"]["doc_count"], "sites": _rows(aggs["sites"]), "stories": stories,
        "subjects": _rows(aggs["subjects"]), "keywords": _rows(aggs["keywords"]),
        "previous_subjects": _rows(prev_topics["aggregations"]["subjects"]),
        "previous_keywords": _rows(prev_topics["aggregations"]["keywords"]),
        "alerts": [{**h["_source"], "ack": acks.get(h["_source"].get("dedup_key"))} for h in alerts["hits"]["hits"]],
        "case_status": status,
    }


async def gather(es, period: Period, *, posts: str, alerts: str, cases: str | None, acks: dict) -> dict:
    """Everything the report needs, from an AsyncElasticsearch client."""
    current = (await es.search(index=posts, **build_overview(period))).body
    previous = (await es.search(index=posts, size=0, track_total_hits=True, query=period_query(period.previous))).body
    prev_topics = (await es.search(index=posts, **build_topics(period.previous))).body
    fired = (await es.search(index=alerts, **build_period_alerts(period))).body
    found = []
    clusters = [b["key"] for b in current["aggregations"]["stories"]["buckets"]]
    if cases and clusters and await es.indices.exists(index=cases):
        resp = await es.search(index=cases, size=1000, query={"terms": {"cluster_ids": clusters}},
                               source=["case_id", "status", "updated_at", "cluster_ids"])
        found = [h["_source"] for h in resp.body["hits"]["hits"]]
    return shape(current, previous, prev_topics, fired, acks, found)


async def report_for(es, settings, period: Period, acks: dict):
    """The Report of `period` in settings' namespace (CLI and console share this)."""
    from indexer.cases import CASES_ALIAS
    from indexer.documents import ALERTS_ALIAS, POSTS_ALIAS
    from indexer.reports.model import build_report

    data = await gather(es, period, posts=settings.alias(POSTS_ALIAS), alerts=settings.alias(ALERTS_ALIAS),
                        cases=settings.alias(CASES_ALIAS), acks=acks)
    return build_report(data, period, settings)
