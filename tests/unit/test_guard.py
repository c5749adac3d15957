"""The SSRF guard: no request to a private, loopback or link-local address, unless the source's
own base host is written as one. Resolution is faked: nothing is sent anywhere."""
from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawlers.guard import BLOCKED, AddressGuardMiddleware, BlockedAddress, allowed_internal_host, blocked_reason, is_internal
from crawlers.sources import load_sources
from crawlers.spiders import NewsSpider
from crawlers.state import CrawlState

DNS = {"news.example.cn": ["1.2.3.4"], "intranet.news.example.cn": ["10.0.0.5"],
       "metadata.news.example.cn": ["169.254.169.254"], "lo.news.example.cn": ["127.0.0.1"],
       "v6.news.example.cn": ["::1"], "mapped.news.example.cn": ["::ffff:192.168.1.1"],
       "mixed.news.example.cn": ["1.2.3.5", "172.16.0.1"]}


@pytest.mark.parametrize("address,internal", [
    ("10.1.2.3", True), ("172.31.255.1", True), ("192.168.0.1", True), ("127.0.0.1", True),
    ("169.254.169.254", True), ("0.0.0.0", True), ("::1", True), ("fe80::1", True), ("fc00::1", True),
    ("::ffff:10.0.0.1", True), ("100.64.0.1", True), ("224.0.0.1", True),
    ("8.8.8.8", False), ("2001:4860:4860::8888", False)])
def test_internal_addresses(address, internal):
    assert is_internal(address) is internal


def test_only_an_internal_base_host_written_out_is_allowed():
    assert allowed_internal_host("http://127.0.0.1:8765") == "127.0.0.1"
    assert allowed_internal_host("http://localhost:8000/bbs") == "localhost"
    assert allowed_internal_host("https://bbs.example.cn") is None
    assert allowed_internal_host("http://8.8.8.8") is None
    assert blocked_reason("127.0.0.1", ["127.0.0.1"], "127.0.0.1") is None
    assert "10.0.0.5" in blocked_reason("intranet.news.example.cn", ["10.0.0.5"], None)
    assert blocked_reason("news.example.cn", ["1.2.3.4"], None) is None


def guard_for(base_url: str):
    source = load_sources()["demo-news"].with_base_url(base_url)
    crawler = get_crawler(NewsSpider)
    crawler.spider = NewsSpider.from_crawler(crawler, source=source, state=CrawlState())
    crawler.stats.open_spider()
    return AddressGuardMiddleware(crawler, resolve=lambda host, port: DNS.get(host, [])), crawler


@pytest.mark.parametrize("url", [
    "http://intranet.news.example.cn/a.html", "http://metadata.news.example.cn/latest/meta-data/",
    "http://lo.news.example.cn:6379/", "http://v6.news.example.cn/", "http://mapped.news.example.cn/",
    "http://mixed.news.example.cn/", "http://127.0.0.1:9200/_cat/indices", "http://[::1]/", "http://localhost/"])
async def test_requests_resolving_inside_are_blocked(url):
    guard, crawler = guard_for("https://news.example.cn")
    with pytest.raises(BlockedAddress):
        await guard.process_request(Request(url))
    assert crawler.stats.get_value(BLOCKED) == 1


async def test_public_hosts_and_the_sources_own_loopback_base_pass():
    guard, _ = guard_for("https://news.example.cn")
    assert await guard.process_request(Request("https://news.example.cn/list")) is None
    demo, crawler = guard_for("http://127.0.0.1:8765")
    assert await demo.process_request(Request("http://127.0.0.1:8765/news/list")) is None
    with pytest.raises(BlockedAddress):           # the same loopback under another name is not the base host
        await demo.process_request(Request("http://lo.news.example.cn:8765/news/list"))
    with pytest.raises(BlockedAddress):
        await demo.process_request(Request("http://169.254.169.254/"))
    assert crawler.stats.get_value(BLOCKED) == 2
