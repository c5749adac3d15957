"""`shaobing index migrate` at size: fill a posts index made by template version 1
(tests/fixtures/templates/posts-v1.json) with N invented posts through the worker's bulk sink,
then time the migration to the current mapping (the production path:
shaobing.commands.index.migrate_posts) and compare the two indices' sizes.

    nice -n 10 .venv/bin/python bench/migrate.py            # 50,000 posts
    .venv/bin/python bench/migrate.py --docs 200000

Posts are invented (a few Chinese phrases recombined, 40 sites, 30 days), never rows of
../shared/data: the copy's cost depends on document size, not on the words. Everything runs in a
namespace of its own, whose indices are deleted at the end. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.documents import post_document  # noqa: E402
from indexer.sink import PostSink  # noqa: E402
from indexer.templates import first_index  # noqa: E402
from shaobing.commands.index import migrate_posts  # noqa: E402
from shaobing.connections import es_client, es_options  # noqa: E402
from shaobing.settings import load_settings  # noqa: E402
from streams.records import EnrichedPost  # noqa: E402

V1 = json.loads((ROOT / "tests" / "fixtures" / "templates" / "posts-v1.json").read_text("utf-8"))
BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)
PLACES = ["青石镇", "柳河乡", "白沙县", "东湖区", "南山街道", "西岭村"]
THINGS = ["化工厂排放异味", "菜价上涨", "道路施工绕行", "学校食堂卫生", "小区停水", "医院排队", "景区门票", "公交线路调整"]
TAILS = ["网友希望有关部门尽快调查处理。", "记者从相关部门了解到情况正在核实。", "附近居民表示已经持续了一周。",
         "当地回应称将在三日内公布结果。"]


def invented_document(n: int, rng: random.Random) -> dict:
    place, thing = rng.choice(PLACES), rng.choice(THINGS)
    text = f"{place}{thing}，" + "".join(rng.choice(TAILS) for _ in range(rng.randint(1, 6)))
    at = BASE + timedelta(seconds=rng.randrange(30 * 86400))
    site = f"site{rng.randrange(40)}"
    post = EnrichedPost(post_id=f"{site}:{n}", site=site, source=site, kind=rng.choice(["news", "forum", "api"]),
                        url=f"http://{site}.example/t/{n}", title=f"{place}{thing}", text=text, published_at=at,
                        crawled_at=at, tokens=[place, thing[:2], thing[2:]], keywords=[thing[:2]],
                        entities={"LOC": [place]}, watch_terms=[place], subjects=[place],
                        sentiment=rng.random(), sentiment_label=rng.choice(["negative", "neutral", "positive"]),
                        cluster_id=f"{site}:{n}", is_repost=False)
    return post_document(post, at)


async def fill(settings, n: int, batch: int) -> float:
    rng = random.Random(7)
    sink = PostSink(settings.elasticsearch_url, index=settings.alias("posts"), es_options=es_options(settings))
    started = time.perf_counter()
    try:
        async with sink.backfill():
            for start in range(0, n, batch):
                docs = {d["post_id"]: d for d in (invented_document(i, rng) for i in range(start, min(n, start + batch)))}
                versions = {pid: 1_764_547_200_000 + i for i, pid in enumerate(docs)}
                rejected = await sink.write_documents(docs, {}, versions)
                if rejected:
                    raise RuntimeError(f"{len(rejected)} posts rejected: {rejected[:3]}")
    finally:
        await sink.close()
    return time.perf_counter() - started


def store_mb(es, index: str) -> float:
    es.indices.forcemerge(index=index, max_num_segments=1)
    return es.indices.stats(index=index, metric="store")["_all"]["primaries"]["store"]["size_in_bytes"] / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--page", type=int, default=1000, help="the migration's page (posts per request)")
    args = ap.parse_args()
    settings = load_settings(namespace=f"bench-migrate-{uuid.uuid4().hex[:8]}")
    alias = settings.alias("posts")
    old, new = f"{alias}-v1", first_index(alias, "posts")
    es = es_client(settings, request_timeout=600)
    try:
        es.indices.create(index=old, settings=V1["template"]["settings"], mappings=V1["template"]["mappings"],
                          aliases={alias: {}})
        fill_s = asyncio.run(fill(settings, args.docs, args.batch))
        print(f"filled {old} with {args.docs} posts in {fill_s:.1f}s", file=sys.stderr, flush=True)
        started = time.perf_counter()
        counts = asyncio.run(migrate_posts(settings, page=args.page, echo=lambda line: print(line, file=sys.stderr)))
        migrate_s = time.perf_counter() - started
        assert es.count(index=new)["count"] == args.docs == counts["copied"]
        result = {"docs": args.docs, "page": args.page, "fill_docs_per_s": round(args.docs / fill_s),
                  "migrate_s": round(migrate_s, 1), "migrate_docs_per_s": round(args.docs / migrate_s),
                  "v1_mb": round(store_mb(es, old), 1), "v2_mb": round(store_mb(es, new), 1)}
    finally:
        es.indices.delete(index=f"{settings.namespace}-*", allow_no_indices=True)
        es.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
