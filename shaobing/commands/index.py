"""`shaobing index migrate`: move the namespace's posts to the current mapping (`posts-v<N>` of
indexer/templates/posts.json) and swap the alias; safe to run again, it resumes. Reads Settings
(Elasticsearch URL and options, namespace, index_batch_bytes)."""
from __future__ import annotations

import asyncio
import sys


def register(sub) -> None:
    p = sub.add_parser("index", help="索引维护 / index maintenance")
    act = p.add_subparsers(dest="action", required=True)
    m = act.add_parser("migrate", help="把帖子迁到当前映射并切换别名 / copy the posts to the current mapping's "
                                       "index and swap the alias (resumes when run again)")
    m.add_argument("--delete-old", action="store_true",
                   help="delete the old index once the alias names the new one (default: keep it)")
    m.add_argument("--page", type=int, default=1000, help="posts read and written per request (default 1000)")
    p.set_defaults(func=run)


async def migrate_posts(settings, *, page: int = 1000, delete_old: bool = False, echo=print) -> dict:
    """The namespace's posts alias moved to the current mapping (indexer.migrate); returns counts."""
    from indexer.documents import POSTS_ALIAS
    from indexer.migrate import PostsMigration
    from indexer.sink import ES_SERIALIZERS, PostSink
    from indexer.templates import first_index, load_template
    from shaobing.connections import async_es_client

    alias = settings.alias(POSTS_ALIAS)
    es = async_es_client(settings, request_timeout=120, serializers=ES_SERIALIZERS)
    target = first_index(alias, POSTS_ALIAS)
    sink = PostSink(settings.elasticsearch_url, index=target, es=es, max_bytes=settings.index_batch_bytes)
    try:
        migration = PostsMigration(es, sink, alias, load_template(POSTS_ALIAS), page=page, echo=echo)
        return await migration.run(await migration.plan(target), delete_old=delete_old)
    finally:
        await sink.close()


def run(args, settings) -> int:
    from elasticsearch import ApiError, TransportError

    from indexer.migrate import MigrationError
    from shaobing.connections import redact_urls

    if not 1 <= args.page <= 10_000:
        print("错误 / error: --page must be between 1 and 10000", file=sys.stderr)
        return 2
    try:
        counts = asyncio.run(migrate_posts(settings, page=args.page, delete_old=args.delete_old,
                                           echo=lambda line: print(line, flush=True)))
    except MigrationError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 1
    except (ApiError, TransportError) as exc:
        print(f"错误 / error: Elasticsearch at {settings.es_url_display}: {redact_urls(str(exc))[:500]}; "
              "run the command again to resume", file=sys.stderr)
        return 1
    print(f"已迁移 / migrated: {counts['copied']:,} posts copied, "
          f"{counts['superseded']:,} kept the newer version already in the new index")
    return 0
