"""Names of the crawl's own stats (in Scrapy's stats collector), the signal the Kafka pipeline
sends when posts are confirmed, and the summary `shaobing crawl` prints."""
from __future__ import annotations

PAGES_FETCHED = "shaobing/pages_fetched"
PAGES_NOT_MODIFIED = "shaobing/pages_not_modified"
POSTS_EXTRACTED = "shaobing/posts_extracted"
POSTS_NEW = "shaobing/posts_new"
POSTS_SEEN = "shaobing/posts_seen"
FIELDS_EMPTY = "shaobing/fields_empty"
FIELDS_READ = "shaobing/fields_read"
ERRORS = "shaobing/errors"
FIELDS_TRUNCATED = "shaobing/fields_truncated"      # over the schema's length: cut, the post kept
POSTS_REJECTED = "shaobing/posts_rejected"          # refused by Kafka as too large: dead-lettered instead
PAGES_BLOCKED = "shaobing/pages_blocked"            # a verification wall or HTTP 403/429/567 (middlewares)
LOGIN_REQUIRED = "shaobing/login_required"          # a board that needs a login (discuz)
PAGES_CAPPED = "shaobing/pages_capped"              # thread pages left out by max_thread_pages

# sent by the Kafka pipeline at close: post_ids={post_id: fingerprint} confirmed by the broker, failed=int
posts_delivered = object()

SUMMARY_KEYS = {
    "pages_fetched": PAGES_FETCHED,
    "pages_not_modified": PAGES_NOT_MODIFIED,
    "posts_new": POSTS_NEW,
    "posts_seen": POSTS_SEEN,
    "posts_extracted": POSTS_EXTRACTED,
    "fields_empty": FIELDS_EMPTY,
    "fields_read": FIELDS_READ,
    "fields_truncated": FIELDS_TRUNCATED,
    "posts_rejected": POSTS_REJECTED,
    "requests_blocked": "shaobing/requests_blocked",     # crawlers.guard: internal addresses
    "pages_blocked": PAGES_BLOCKED,
    "login_required": LOGIN_REQUIRED,
    "pages_capped": PAGES_CAPPED,
}


def summary(stats: dict) -> dict:
    """The five numbers of the brief (plus two more), from one crawler's stats."""
    out = {name: int(stats.get(key, 0)) for name, key in SUMMARY_KEYS.items()}
    # parse errors raised in callbacks count too, not only the failures the spider saw itself
    out["errors"] = int(stats.get(ERRORS, 0)) + int(stats.get("spider_exceptions/count", 0))
    return out


def merge(summaries: list[dict]) -> dict:
    total: dict = {}
    for s in summaries:
        for key, value in s.items():
            if isinstance(value, (int, float)):
                total[key] = total.get(key, 0) + value
    return total
