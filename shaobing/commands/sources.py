"""`shaobing sources check [FILE]`: validate a sources file; exits 2 with an error naming the
file, the entry and the field. Reads no settings."""
from __future__ import annotations

import sys


def _sources(args, settings) -> int:
    from crawlers.errors import SourceConfigError
    from crawlers.sources import DEFAULT_FILE, load_sources

    path = args.file or DEFAULT_FILE
    try:
        sources = load_sources(path)
    except SourceConfigError as exc:
        print(f"信息源配置有误 / invalid sources:\n{exc}", file=sys.stderr)
        return 2
    for s in sources.values():
        state = "" if s.enabled else "  [停用 / disabled]"
        print(f"{s.name:<20} {s.kind:<6} {s.base_url}  ({len(s.start_urls)} start URLs, every {s.schedule.interval_s:g}s){state}")
    print(f"共 {len(sources)} 个信息源，校验通过 / {len(sources)} sources OK: {path}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("sources", help="信息源配置 / source definitions")
    p.add_argument("action", choices=["check"])
    p.add_argument("file", nargs="?", default=None, help="default: crawlers/sources.yml")
    p.set_defaults(func=_sources)
