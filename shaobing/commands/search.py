"""`shaobing search 关键词`: top hits from the posts index, with highlights."""
from __future__ import annotations

import sys
from datetime import datetime, timezone


def register(sub) -> None:
    p = sub.add_parser("search", help="全文检索 / full-text search over indexed posts")
    p.add_argument("text", help="the words to find (Chinese phrase or words)")
    p.add_argument("--site", action="append", default=[], help="only these sites (repeatable)")
    p.add_argument("--subject", action="append", default=[], help="only posts matching these watch-list subjects")
    p.add_argument("--sentiment", choices=["negative", "neutral", "positive"])
    p.add_argument("--entity", help="a person, place or organisation name")
    p.add_argument("--since", type=datetime.fromisoformat, help="ISO 8601 time (Asia/Shanghai if no offset)")
    p.add_argument("--no-reposts", action="store_true", help="first publishers (首发) only")
    p.add_argument("-n", "--size", type=int, default=10)
    p.set_defaults(func=run)


def run(args, settings) -> int:
    from elasticsearch import ApiError, TransportError

    from indexer.console import SHANGHAI, render_hits
    from indexer.documents import POSTS_ALIAS
    from indexer.queries import SearchRequest, build_search, segment_query

    since = args.since
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=SHANGHAI)
    req = SearchRequest(text=args.text, sites=tuple(args.site), subjects=tuple(args.subject), sentiment=args.sentiment,
                        entity=args.entity, since=since.astimezone(timezone.utc) if since else None,
                        reposts=not args.no_reposts, size=args.size)
    from shaobing.connections import es_client, redact_urls

    tokens = segment_query(args.text)
    try:
        with es_client(settings, request_timeout=15) as es:
            resp = es.search(index=settings.alias(POSTS_ALIAS), **build_search(req, tokens))
    except (ApiError, TransportError) as exc:
        print(f"错误 / error: search at {settings.es_url_display} failed: {redact_urls(str(exc))}", file=sys.stderr)
        return 1
    print(render_hits(resp.body, color=sys.stdout.isatty()))
    return 0

