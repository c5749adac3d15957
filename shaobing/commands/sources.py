"""`shaobing sources check [FILE]`: validate a sources file; exits 2 with an error naming the
file, the entry and the field. `shaobing sources try NAME`: crawl a few pages of one source into
memory (no Kafka) and print what it would extract per post: kind, time, author, title and the
first 80 characters, crawled text made terminal-safe. Reads no settings."""
from __future__ import annotations

import logging
import sys

_KINDS = {"forum": "主帖", "reply": "回帖", "news": "新闻", "feed": "订阅", "api": "微博"}


def _where(s) -> str:
    if s.kind == "discuz":
        return f"boards {', '.join(map(str, s.boards))}"
    return f"{len(s.start_urls)} start URLs"


def _load(args):
    from crawlers.errors import SourceConfigError
    from crawlers.sources import DEFAULT_FILE, load_sources

    path = args.file or DEFAULT_FILE
    try:
        return path, load_sources(path)
    except SourceConfigError as exc:
        print(f"信息源配置有误 / invalid sources:\n{exc}", file=sys.stderr)
        return path, None


def _check(args) -> int:
    path, sources = _load(args)
    if sources is None:
        return 2
    for s in sources.values():
        state = "" if s.enabled else "  [停用 / disabled]"
        print(f"{s.name:<20} {s.kind:<9} {s.base_url}  ({_where(s)}, every {s.schedule.interval_s:g}s){state}")
    print(f"共 {len(sources)} 个信息源，校验通过 / {len(sources)} sources OK: {path}")
    return 0


def _try(args) -> int:
    from crawlers.parsing.times import SHANGHAI
    from crawlers.tryout import run_try
    from indexer.console import terminal_safe

    path, sources = _load(args)
    if sources is None:
        return 2
    if args.name not in sources:
        print(f"错误 / error: no source {args.name!r} in {path}; known: {', '.join(sources)}", file=sys.stderr)
        return 2
    source = sources[args.name].with_base_url(args.base_url)
    for noisy in ("scrapy", "crawlers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    posts, summary = run_try(source, args.pages)
    print(f"信息源 {source.name}（{source.kind}）{source.base_url}：抓取 {summary['pages_fetched']} 页，"
          f"抽取 {len(posts)} 条 / {summary['pages_fetched']} pages, {len(posts)} posts")
    for post in posts[: args.limit]:
        label = _KINDS.get(post.kind, post.kind)
        floor = f" #{post.tags['floor']}" if post.tags.get("floor") else ""
        when = post.published_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        title = f"  标题 {terminal_safe(post.title)}" if post.title else ""
        print(f"[{label}{floor}] {when}  作者 {terminal_safe(post.author) or '-'}{title}")
        print(f"    {terminal_safe(post.text[:80])}")
    notes = {k: summary.get(k, 0) for k in ("errors", "fields_empty", "login_required", "pages_blocked", "requests_blocked")}
    if any(notes.values()):
        print("注意 / note: " + ", ".join(f"{k}={v}" for k, v in notes.items() if v))
    return 0 if posts and not summary.get("errors") else 1


def _sources(args, settings) -> int:
    if args.action == "try":
        if not args.target:
            print("错误 / error: sources try NAME", file=sys.stderr)
            return 2
        args.name = args.target
        return _try(args)
    args.file = args.target or args.file
    return _check(args)


def register(subparsers) -> None:
    p = subparsers.add_parser("sources", help="信息源配置 / source definitions",
                              description="check: 校验信息源文件 / validate; try NAME: 试抓一个信息源 / crawl a few pages and show what comes out")
    p.add_argument("action", choices=["check", "try"])
    p.add_argument("target", nargs="?", default=None, help="check: the sources file; try: the source's name")
    p.add_argument("--file", default=None, help="try: the sources file (default: crawlers/sources.yml)")
    p.add_argument("--base-url", default=None, metavar="URL", help="try: override the source's base_url (host and port)")
    p.add_argument("--pages", type=int, default=6, metavar="N", help="try: at most N pages (default 6)")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="try: print at most N posts (default 20)")
    p.set_defaults(func=_sources)
