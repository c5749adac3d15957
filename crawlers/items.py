"""The item every spider yields: one post, with the fields of streams.records.RawPost
(the pipeline stamps produced_at). post_id is deterministic: the site plus the post's native id."""
from __future__ import annotations

import scrapy


def post_id_for(site: str, native_id: str) -> str:
    """Stable across re-crawls and processes: `demo-forum:100023-5`."""
    return f"{site}:{native_id}"


class PostItem(scrapy.Item):
    post_id = scrapy.Field()
    site = scrapy.Field()
    source = scrapy.Field()
    kind = scrapy.Field()
    url = scrapy.Field()
    native_id = scrapy.Field()
    title = scrapy.Field()
    text = scrapy.Field()
    author = scrapy.Field()
    published_at = scrapy.Field()
    crawled_at = scrapy.Field()
    reply_to = scrapy.Field()
    tags = scrapy.Field()
