"""Scrapy settings for shaobing's crawlers: polite defaults (robots.txt obeyed, one request at a
time per domain, a delay, AutoThrottle, bounded retries) and `crawler_settings()`, which layers
one source's politeness and the Kafka wiring on top. Reads no environment: the entry point passes
shaobing.settings.Settings values in."""
from __future__ import annotations

from scrapy.settings import Settings as ScrapySettings

BOT_NAME = "shaobing"
USER_AGENT = "shaobing/0.1 (舆情哨兵 public-opinion monitor; +https://github.com/shaobing)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
DOWNLOAD_TIMEOUT = 20
# Scrapy's defaults are 1 GiB / 32 MiB: one hostile or broken page could fill the memory. A forum
# or news page is well under 1 MiB; a response over the limit is cancelled (an error, counted),
# one over the warning size is logged.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 2                      # three attempts at most: no retry storms
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE_S = 1.0           # then 2 s: the pause before each retry doubles
RETRY_BACKOFF_MAX_S = 30.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
ITEM_PIPELINES = {
    "crawlers.pipelines.seen.SeenFilterPipeline": 100,
    "crawlers.pipelines.kafka.KafkaPipeline": 800,
}
DOWNLOADER_MIDDLEWARES = {
    # below HttpCompressionMiddleware (590): its process_response runs first, so bodies are decompressed
    "crawlers.middlewares.CharsetMiddleware": 580,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    # answers before the retry middleware does: a 429/403/567 or a verification page means back off, not retry
    "crawlers.middlewares.VerificationWallMiddleware": 560,
    # first of all: no request reaches a private, loopback or link-local address (SSRF)
    "crawlers.guard.AddressGuardMiddleware": 50,
}
KAFKA_PRODUCER_FACTORY = "crawlers.pipelines.kafka.make_producer"
KAFKA_API_VERSION = "3.9"
KAFKA_LINGER_MS = 20
KAFKA_FLUSH_TIMEOUT_S = 30.0

# what Scrapy's own test helper uses in an asyncio app with no Twisted reactor (lowercase: not a setting)
reactorless_settings = {
    "TWISTED_REACTOR_ENABLED": False,
    "DOWNLOAD_HANDLERS": {
        "ftp": None,
        "http": "scrapy.core.downloader.handlers._aiohttp.AiohttpDownloadHandler",
        "https": "scrapy.core.downloader.handlers._aiohttp.AiohttpDownloadHandler",
    },
}


def crawler_settings(source, kafka_servers: str = "", producer_factory=None, overrides: dict | None = None,
                     reactorless: bool = False) -> ScrapySettings:
    """Settings for one source's crawler."""
    settings = ScrapySettings()
    settings.setmodule(__name__, priority="project")
    values = {
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.politeness.concurrency,
        "DOWNLOAD_DELAY": source.politeness.delay_s,
        "AUTOTHROTTLE_START_DELAY": max(source.politeness.delay_s, 0.05),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(source.politeness.concurrency),
        "KAFKA_SERVERS": kafka_servers,
    }
    if producer_factory is not None:
        values["KAFKA_PRODUCER_FACTORY"] = producer_factory
    if reactorless:
        values.update(reactorless_settings)
    settings.setdict({**values, **(overrides or {})}, priority="cmdline")
    return settings
