"""`shaobing sources try NAME`: crawl a little of one source, in this process, into memory (no
Kafka, a throw-away crawl state), and return the posts it would produce, so a user sees in a
minute whether a site works. Bounded: one list page, one page per thread or article, at most
`max_pages` pages fetched. Politeness (robots.txt, the source's delay) and the SSRF guard stay."""
from __future__ import annotations

import asyncio
import tempfile

from crawlers.runner import crawl_once
from crawlers.sources import Limits
from streams.records import RawPost


class _Future:
    def add_callback(self, fn, *args):
        fn(*args, None)
        return self

    def add_errback(self, fn, *args):
        return self


class _Collect:
    """A producer that keeps what it is given and acknowledges it at once."""

    def __init__(self, kept: list):
        self.kept = kept

    def send(self, topic, key=None, value=None):
        self.kept.append(value)
        return _Future()

    def flush(self, timeout=None):
        pass

    def close(self, timeout=None):
        pass


async def try_source(source, max_pages: int = 6) -> tuple[list[RawPost], dict]:
    """(the posts, the crawl summary) of a small crawl of one source."""
    kept: list[bytes] = []
    small = source.model_copy(update={"limits": Limits(max_list_pages=1, max_thread_pages=1, max_articles=3)})
    with tempfile.TemporaryDirectory(prefix="shaobing-try-") as state_dir:
        summary = await crawl_once([small], state_dir, producer_factory=lambda _settings: _Collect(kept),
                                   overrides={"CLOSESPIDER_PAGECOUNT": max_pages, "CONCURRENT_REQUESTS": 1,
                                                               "CONCURRENT_REQUESTS_PER_DOMAIN": 1}, reactorless=True)
    return [RawPost.from_bytes(v) for v in kept], summary


def run_try(source, max_pages: int = 6) -> tuple[list[RawPost], dict]:
    return asyncio.run(try_source(source, max_pages))
