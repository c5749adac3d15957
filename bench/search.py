"""Analysts' search at scale: bulk-index N posts (default 1,000,000) through the project's own
bulk sink (indexer.documents.post_document + indexer.sink.PostSink.write_documents, the worker's
index stage), then time the console's typical queries, warm.

    nice -n 10 .venv/bin/python bench/search.py            # 1,000,000 posts; 7 min at load 3-4, 30 at 16-26
    .venv/bin/python bench/search.py --docs 50000          # a quick look

Texts: weibo_senti_100k/train.csv (development data, never committed). To stay affordable on a
shared 2-core machine, a subset of --analysed texts is analysed ONCE with the production text
analysis (streams.analysis.analyze: tokens, keywords, entities, sentiment, simhash); the N posts
are then varied from it: each post's text is one analysed text plus the first 40 characters of
another (its tokens, keywords and entities are the union of both analyses), over 40 sites, five
kinds, 30 days, 30 invented watch-list subjects, and 20 % of posts are reposts of an earlier one.

Queries run through the same builders and Elasticsearch edge as the console's routes
(console.params -> indexer.queries / indexer.analytics -> console.store), without HTTP: a search
page (phrase, jieba tokens, highlight, time or relevance sort, filters as the page sets them) and
the trend + facets pair the page asks for with each search (timed together, back to back), the
spread sort, and the whole page as the browser sends it (search, trend and facets at once: `page`);
then an export of the newest 100,000 posts as CSV and as XLSX, streamed as the route streams it.
The bulk runs as a backfill (PostSink.backfill: refresh off until the end; --live keeps the
live 1 s refresh) and reports the CPU per post of the bench and of the Elasticsearch node.
Everything runs in a namespace of its own, whose indices are deleted at the end.
Goals: search p95 <= 100 ms, trend + facets p95 <= 300 ms, bulk >= 5,000 docs/s.
The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console import params as P  # noqa: E402
from console.store import ConsoleStore  # noqa: E402
from indexer.analytics import build_facets, build_spread, build_trend  # noqa: E402
from indexer.queries import build_search, segment_query  # noqa: E402
from indexer.documents import post_document  # noqa: E402
from indexer.sink import PostSink  # noqa: E402
from infra.stack import apply_index_templates  # noqa: E402
from shaobing.connections import es_client, es_options  # noqa: E402
from shaobing.settings import load_settings  # noqa: E402

# ../shared/data beside the clone (as the issue names it), else the workplace's copy
_CANDIDATES = [Path(__file__).resolve().parents[2] / "shared", Path("/work/shared")]
DATA = next((c for c in _CANDIDATES if c.is_dir()), _CANDIDATES[-1]) / "data" / "weibo_senti_100k" / "train.csv"
SITES = [f"site-{n:02d}" for n in range(40)]
KINDS = ["news", "forum", "reply", "feed", "api"]
SUBJECTS = [f"主题{n:02d}" for n in range(30)]
NOW = datetime(2026, 11, 26, tzinfo=timezone.utc)
SPAN = timedelta(days=30)


def load_texts(path: Path, n: int) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        rows = [r["text"].strip() for r in csv.DictReader(fh) if r["text"].strip()]
    return rows[:n]


def analyse(texts: list[str]) -> list:
    from streams.analysis import Resources, analyze

    resources = Resources.load()
    return [analyze("", t, resources) for t in texts]


def make_posts(texts: list[str], analyses: list, n: int, seed: int = 42):
    """Yield n posts in their posts.enriched JSON form (what the worker's index stage reads),
    varied from the analysed texts. Post i joins texts i mod m and (7919 i + 13) mod m, so there
    are m pairs: their analysis-derived fields are built once per pair (this generator is the
    bench's own cost, not the sink's) and each post draws the rest."""
    rnd = random.Random(seed)
    m = len(texts)
    pairs: dict[int, dict] = {}

    def pair(a: int) -> dict:
        b = (a * 7919 + 13) % m
        first, second = analyses[a], analyses[b]
        return {
            "title": texts[a][:24], "text": f"{texts[a]} {texts[b][:40]}",
            "tokens": first.tokens + second.tokens[:12], "keywords": sorted({*first.keywords, *second.keywords[:2]}),
            "entities": {k: sorted({*first.entities.get(k, []), *second.entities.get(k, [])}) for k in ("PER", "LOC", "ORG")},
            "watch_terms": list(first.watch_terms), "subjects": set(first.subjects),
            "sentiment": first.sentiment, "sentiment_label": first.sentiment_label,
            "simhash": f"{first.simhash:016x}", "content_hash": first.content_hash,
        }

    for i in range(n):
        a = i % m
        fixed = pairs.get(a) or pairs.setdefault(a, pair(a))
        post_id = f"bench:{i}"
        published = NOW - SPAN * rnd.random()
        repost = i > 1000 and rnd.random() < 0.2
        cluster_id = f"bench:{rnd.randrange(0, i - 1000)}" if repost else post_id
        subjects = sorted({*fixed["subjects"], *([rnd.choice(SUBJECTS)] if rnd.random() < 0.3 else [])})
        site = rnd.choice(SITES)
        yield {
            **fixed, "post_id": post_id, "site": site, "source": site, "kind": rnd.choice(KINDS),
            "url": f"http://{site}.example/p/{i}",
            "author": f"user{rnd.randrange(50_000)}", "published_at": published.isoformat(),
            "crawled_at": (published + timedelta(seconds=rnd.randrange(30, 900))).isoformat(), "tags": {},
            "subjects": subjects, "cluster_id": cluster_id, "is_repost": repost,
        }


async def bulk(settings, posts, n: int, batch: int, in_flight: int, backfill: bool = True) -> float:
    """Write every post through PostSink.write_documents (post_document per post, as the
    worker's index stage does), `in_flight` batches at a time, as a backfill (PostSink.backfill:
    no periodic refresh until the end; the final refresh is timed too) unless `backfill` is
    False (the live stream's 1 s refresh); returns seconds."""
    sink = PostSink(settings.elasticsearch_url, index=settings.alias("posts"), es_options=es_options(settings))
    sem = asyncio.Semaphore(in_flight)
    rejected = 0

    async def write(chunk):
        nonlocal rejected
        async with sem:
            docs = {p["post_id"]: post_document(p, NOW) for p in chunk}
            rejected += len(await sink.write_documents(docs, {}))

    started = time.perf_counter()
    tasks, chunk = [], []
    try:
        async with sink.backfill() if backfill else contextlib.nullcontext():
            for post in posts:
                chunk.append(post)
                if len(chunk) == batch:
                    tasks.append(asyncio.create_task(write(chunk)))
                    chunk = []
                    if len(tasks) >= 4 * in_flight:
                        await asyncio.gather(*tasks)
                        tasks = []
            if chunk:
                tasks.append(asyncio.create_task(write(chunk)))
            await asyncio.gather(*tasks)
    finally:
        await sink.close()
    if rejected:
        raise RuntimeError(f"{rejected} of {n} posts rejected by Elasticsearch")
    return time.perf_counter() - started


def analyst_queries(analyses: list, n: int, seed: int = 7) -> list[dict]:
    """Query strings as the page builds them: a frequent keyword, a time range, the page's filters."""
    rnd = random.Random(seed)
    counts: dict[str, int] = {}
    for a in analyses:
        for k in a.keywords:
            counts[k] = counts.get(k, 0) + 1
    words = [w for w, _ in sorted(counts.items(), key=lambda kv: -kv[1])[:200]]
    out = []
    for _ in range(n):
        params = {"q": [rnd.choice(words)], "sort": [rnd.choice(["relevance", "time"])], "size": ["20"]}
        days = rnd.choice([1, 7, 30])
        params["since"] = [(NOW - timedelta(days=days)).isoformat()]
        params["until"] = [NOW.isoformat()]
        if rnd.random() < 0.4:
            params["sentiment"] = [rnd.choice(["negative", "positive", "neutral"])]
        if rnd.random() < 0.3:
            params["site"] = rnd.sample(SITES, 3)
        if rnd.random() < 0.3:
            params["first_only"] = ["true"]
        if rnd.random() < 0.2:
            params["subject"] = [rnd.choice(SUBJECTS)]
        params["interval"] = ["day" if days > 7 else "hour"]
        out.append(params)
    return out


def pick(params: dict, names: tuple[str, ...]) -> dict:
    return {k: v for k, v in params.items() if k in names}


async def time_export(settings, fmt: str, limit: int) -> tuple[float, int]:
    """Seconds and bytes to stream the newest `limit` posts as the export route does."""
    from console.export import csv_chunks, xlsx_chunks

    req, _ = P.parse_export({"limit": [str(limit)]})
    body = {"query": build_search(req)["query"], "sort": [{"published_at": "desc"}, {"post_id": "asc"}],
            "_source": {"excludes": ["tokens"]}}
    store = ConsoleStore(settings)
    started, size = time.perf_counter(), 0
    try:
        chunks = (csv_chunks if fmt == "csv" else xlsx_chunks)(store.scan_posts(body, limit))
        async for chunk in chunks:
            size += len(chunk)
    finally:
        await store.close()
    return time.perf_counter() - started, size


async def time_queries(settings, queries: list[dict]) -> dict[str, list[float]]:
    """Milliseconds per query: the search page alone, trend + facets back to back, the spread
    sort, and the whole page as the browser sends it (search, trend and facets at once)."""
    store = ConsoleStore(settings)
    ms: dict[str, list[float]] = {"search": [], "facets": [], "spread": [], "page": []}
    try:
        for warm_up in (True, False):
            for params in queries:
                t0 = time.perf_counter()
                req, _ = P.parse_search(pick(params, P.SEARCH_PARAMS))
                search = build_search(req, segment_query(req.text))
                await store.search_posts(search)
                t1 = time.perf_counter()
                treq, interval = P.parse_trend(pick(params, P.TREND_PARAMS))
                tokens = segment_query(treq.text)
                trend = build_trend(treq, interval, tokens)
                await store.search_posts(trend)
                freq, size = P.parse_facets(pick(params, P.FACET_PARAMS))
                facets = build_facets(freq, tokens, size)
                await store.search_posts(facets)
                t2 = time.perf_counter()
                sreq, offset = P.parse_search({**pick(params, P.SEARCH_PARAMS), "sort": ["spread"]})
                await store.search_posts(build_spread(sreq, offset, segment_query(sreq.text)))
                t3 = time.perf_counter()
                await asyncio.gather(*(store.search_posts(body) for body in (search, trend, facets)))
                t4 = time.perf_counter()
                if not warm_up:
                    for name, took in (("search", t1 - t0), ("facets", t2 - t1), ("spread", t3 - t2), ("page", t4 - t3)):
                        ms[name].append(took * 1000)
    finally:
        await store.close()
    return ms


def node_cpu_s(es) -> float:
    """CPU seconds the Elasticsearch node's process has used (all its threads), from its own stats."""
    return sum(n["process"]["cpu"]["total_in_millis"] for n in es.nodes.stats(metric="process")["nodes"].values()) / 1000


def settled_store_bytes(es, index: str, timeout_s: float = 300.0) -> tuple[int, float]:
    """The index's size once its merges are done (a merge's new files sit beside the segments
    it replaces until it ends), and the seconds waited for that."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        stats = es.indices.stats(index=index, metric="merge,store")["_all"]["primaries"]
        if stats["merges"]["current"] == 0:
            return stats["store"]["size_in_bytes"], time.perf_counter() - started
        time.sleep(1)
    raise RuntimeError(f"merges of {index} still running after {timeout_s:.0f}s")


def p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[-1], 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="a label,text CSV (default: weibo_senti_100k train)")
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--analysed", type=int, default=10_000, help="texts analysed once and varied")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=3)
    parser.add_argument("--live", action="store_true", help="bulk with the live 1 s refresh, not as a backfill")
    parser.add_argument("--export-rows", type=int, default=100_000, help="rows of each timed export (0: skip exports)")
    args = parser.parse_args()

    settings = load_settings(namespace=f"bench-search-{uuid.uuid4().hex[:8]}")
    texts = load_texts(args.data, args.analysed)
    t0 = time.perf_counter()
    analyses = analyse(texts)
    print(f"analysed {len(texts)} texts in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    apply_index_templates(settings.elasticsearch_url, settings.alias, es_options(settings))
    es = es_client(settings, request_timeout=300)
    try:
        heap_before = es.nodes.stats(metric="jvm")["nodes"]
        node_cpu, client_cpu = node_cpu_s(es), time.process_time()
        bulk_s = asyncio.run(bulk(settings, make_posts(texts, analyses, args.docs), args.docs, args.batch, args.in_flight,
                                not args.live))
        node_cpu, client_cpu = node_cpu_s(es) - node_cpu, time.process_time() - client_cpu
        print(f"indexed {args.docs} posts in {bulk_s:.1f}s (CPU: bench {client_cpu:.1f}s, node {node_cpu:.1f}s)",
              file=sys.stderr, flush=True)
        index = settings.alias("posts")
        es.indices.refresh(index=index)
        count = es.count(index=index)["count"]
        store_bytes = es.indices.stats(index=index, metric="store")["_all"]["primaries"]["store"]["size_in_bytes"]
        settled_bytes, merge_wait_s = settled_store_bytes(es, index)
        ms = asyncio.run(time_queries(settings, analyst_queries(analyses, args.queries)))
        jvm = next(iter(es.nodes.stats(metric="jvm")["nodes"].values()))["jvm"]["mem"]
        rows = min(args.export_rows, count)
        csv_s, csv_bytes = asyncio.run(time_export(settings, "csv", rows)) if rows else (0.0, 0)
        xlsx_s, xlsx_bytes = asyncio.run(time_export(settings, "xlsx", rows)) if rows else (0.0, 0)
        segments = es.indices.stats(index=index, metric="segments")["_all"]["primaries"]["segments"]
        result = {
            "docs": count,
            **{f"{name}_{q}_ms": (round(statistics.median(v), 1) if q == "p50" else p95(v))
               for name, v in ms.items() for q in ("p50", "p95")},
            "index_mb": round(store_bytes / 2**20, 1),
            "index_mb_per_million": round(store_bytes / 2**20 / count * 1_000_000, 1),
            "index_mb_settled": round(settled_bytes / 2**20, 1), "merge_wait_s": round(merge_wait_s, 1),
            "bulk_docs_per_s": round(args.docs / bulk_s), "bulk_backfill": not args.live,
            "bulk_bench_cpu_us_per_doc": round(client_cpu / args.docs * 1e6),
            "bulk_node_cpu_us_per_doc": round(node_cpu / args.docs * 1e6),
            "heap_used_mb": round(jvm["heap_used_in_bytes"] / 2**20), "heap_max_mb": round(jvm["heap_max_in_bytes"] / 2**20),
            "export_rows": rows, "export_csv_s": round(csv_s, 1), "export_csv_mb": round(csv_bytes / 2**20, 1),
            "export_xlsx_s": round(xlsx_s, 1), "export_xlsx_mb": round(xlsx_bytes / 2**20, 1),
            "segments": segments["count"], "queries": len(ms["search"]), "analysed_texts": len(texts),
            "load_avg_1m": round(os.getloadavg()[0], 1),
            "nodes": len(heap_before),
        }
    finally:
        es.indices.delete(index=f"{settings.namespace}-*", ignore_unavailable=True, allow_no_indices=True)
        es.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
