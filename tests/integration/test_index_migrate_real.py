"""`shaobing index migrate` on the real node: a posts index made by template version 1
(tests/fixtures/templates/posts-v1.json, the posts template as it was before commit ec52a69)
moves to the current mapping while a "live worker" writes, after a crash half way."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from console.store import ConsoleStore
from indexer.documents import post_document
from indexer.migrate import CHECKPOINT_PAGES, MigrationError
from indexer.queries import SearchRequest, build_search
from indexer.sink import PostSink
from indexer.templates import first_index
from shaobing.commands.index import migrate_posts
from shaobing.connections import es_client
from shaobing.settings import load_settings
from streams.records import EnrichedPost
from tests.integration.helpers import unique

V1 = json.loads((Path(__file__).parents[1] / "fixtures" / "templates" / "posts-v1.json").read_text("utf-8"))
BASE = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
N, PAGE = 1234, 50


class Crash(Exception):
    pass


def document(n: int, title: str = "") -> dict:
    at = BASE + timedelta(seconds=n)
    post = EnrichedPost(post_id=f"bbs:{n:05d}", site="bbs", source="bbs", kind="forum", url=f"http://bbs.example/t/{n}",
                        title=title or f"青石镇第{n}号帖", text=f"青石镇化工厂第{n}次被投诉夜间排放异味。", published_at=at,
                        crawled_at=at, tokens=["青石镇", "化工厂"], keywords=["化工厂"], entities={"LOC": ["青石镇"]},
                        watch_terms=["青石镇"], subjects=["青石镇"], sentiment=0.2, sentiment_label="negative",
                        cluster_id=f"bbs:{n:05d}", is_repost=False)
    return post_document(post, at)


@pytest.fixture
def v1_namespace(live_stack):
    settings = load_settings(namespace=unique("it-migrate"))
    alias = settings.alias("posts")
    with es_client(settings, request_timeout=60) as es:
        # as in the default namespace, a template whose pattern matches the new index names the alias
        es.indices.put_index_template(name=f"{settings.namespace}-posts", index_patterns=[f"{alias}-v*"], priority=300,
                                      template={"aliases": {alias: {}}})
        es.indices.create(index=f"{alias}-v1", settings=V1["template"]["settings"], mappings=V1["template"]["mappings"],
                          aliases={alias: {}})
        try:
            yield settings, es
        finally:
            es.indices.delete(index=f"{settings.namespace}-*", allow_no_indices=True)
            es.indices.delete_index_template(name=f"{settings.namespace}-posts")


def test_v1_posts_move_to_the_current_mapping_while_a_worker_writes(v1_namespace):
    settings, es = v1_namespace
    alias = settings.alias("posts")
    old, new = f"{alias}-v1", first_index(alias, "posts")
    assert new.endswith("-v2")

    async def fill():        # through the worker's sink, each post at version 100 (its Kafka timestamp)
        sink = PostSink(settings.elasticsearch_url, index=alias)
        try:
            docs = {d["post_id"]: d for d in map(document, range(N))}
            assert await sink.write_documents(docs, {}, {pid: 100 for pid in docs}) == []
        finally:
            await sink.close()
    asyncio.run(fill())
    es.indices.refresh(index=old)

    def crash(line: str) -> None:
        if line.startswith("copied "):
            raise Crash(line)
    with pytest.raises(Crash):
        asyncio.run(migrate_posts(settings, page=PAGE, echo=crash))
    assert list(es.indices.get_alias(name=alias)) == [old]        # still the old index, the new one outside
    state = es.indices.get_mapping(index=new)[new]["mappings"]["_meta"]["migration"]
    assert (state["phase"], state["copied"]) == ("copy", CHECKPOINT_PAGES * PAGE)

    def live_write(pid: str, version: int, title: str) -> None:
        n = int(pid.split(":")[1])
        es.index(index=alias, id=pid, document=document(n, title), version=version, version_type="external_gte")

    lines: list[str] = []

    def worker(line: str) -> None:
        lines.append(line)
        if line.startswith("copying"):      # the worker writes meanwhile, to the old index behind the alias
            live_write("bbs:00001", 200, "改后的帖子200")    # copied already in the first run
            live_write(f"bbs:{N:05d}", 200, "新帖子")        # a new post
        elif line.startswith("caught up") and not any(seen.startswith("alias ") for seen in lines):
            live_write("bbs:00000", 250, "改后的帖子250")    # after the catch-up before the swap: the one after
            live_write("bbs:00002", 250, "改后的帖子250")    # it brings these over
        elif line.startswith("alias "):     # swapped: the worker's next edit lands in the new index
            live_write("bbs:00000", 300, "再改的帖子300")

    counts = asyncio.run(migrate_posts(settings, page=PAGE, echo=worker))
    assert any("resuming after 500" in line for line in lines)
    assert list(es.indices.get_alias(name=alias)) == [new]
    assert es.count(index=new)["count"] == N + 1
    assert counts["superseded"] == 1       # the copy of bbs:00000 at 250 lost to the worker's 300
    newest = es.get(index=new, id="bbs:00000")
    assert (newest["_version"], newest["_source"]["title"]) == (300, "再改的帖子300")
    for pid, version, title in [("bbs:00001", 200, "改后的帖子200"), ("bbs:00002", 250, "改后的帖子250")]:
        caught_up = es.get(index=new, id=pid)
        assert (caught_up["_version"], caught_up["_source"]["title"]) == (version, title)
    assert es.get(index=new, id="bbs:00003")["_version"] == 100
    assert [line for line in lines if line.startswith("caught up")] == \
        [f"caught up 2 posts written to {old} meanwhile", f"caught up 2 posts written to {old} meanwhile"]
    assert es.get(index=new, id=f"bbs:{N:05d}")["_source"]["title"] == "新帖子"
    mapping = es.indices.get_mapping(index=new)[new]["mappings"]
    assert mapping["properties"]["tokens"]["index_options"] == "freqs"     # template version 2's mapping
    assert mapping["_meta"]["migration"]["phase"] == "done"
    assert es.indices.exists(index=old)

    async def search():
        store = ConsoleStore(settings)
        try:
            return await store.search_posts(build_search(SearchRequest(text="化工厂", size=3)))
        finally:
            await store.close()
    assert asyncio.run(search())["hits"]["total"]["value"] == N + 1

    with pytest.raises(MigrationError, match="already names .*--delete-old deletes it"):
        asyncio.run(migrate_posts(settings, echo=lambda _: None))
    out = subprocess.run([sys.executable, "-m", "shaobing.cli", "--namespace", settings.namespace, "index", "migrate",
                          "--delete-old"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"deleted the old index {old}" in out.stdout
    assert not es.indices.exists(index=old)
    assert list(es.indices.get_alias(name=alias)) == [new]
