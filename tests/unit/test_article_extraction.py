"""Generic article extraction (trafilatura) on saved pages, and the news spider's use of it for
sources without title/body selectors."""
from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawlers import stats as S
from crawlers.errors import SourceConfigError
from crawlers.parsing.article import extract_article
from crawlers.parsing.times import SHANGHAI
from crawlers.sources import load_sources
from crawlers.spiders import NewsSpider
from crawlers.state import CrawlState

FIXTURES = Path(__file__).parents[1] / "fixtures" / "crawl"
BASE = "http://demo.test"
URL = f"{BASE}/news/article/500012.html"
NOISE = ["首页", "登录", "广告", "推广", "相关阅读", "热点排行", "网友评论", "澄溪老王", "停水都停怕了",
         "修路修了一年", "分享到", "版权所有", "ICP", "当前位置", "_hmt", "责任编辑"]


def page(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_noisy_chinese_article_keeps_the_article_and_drops_the_noise():
    got = extract_article(page("news_article_noisy.html"), URL)
    assert got["title"] == "澄溪县城区供水管网改造工程全面启动"
    paras = got["text"].split("\n")
    assert len(paras) == 5
    assert paras[0].startswith("5月16日上午，澄溪县城区供水管网改造工程在城东片区正式开工。")
    assert paras[-1] == "据悉，整个工程计划于今年十月底前全部完工，县纪委监委将对工程资金使用和施工质量全程监督。"
    for word in NOISE:
        assert word not in got["text"], word
    assert got["published"] == datetime(2026, 5, 16, 9, 45, tzinfo=SHANGHAI)
    assert got["published"].utcoffset().total_seconds() == 8 * 3600
    assert "李明远" in got["author"]


def test_short_article_is_read_as_paragraphs_without_title_or_meta_line():
    got = extract_article(page("news_article.html"), URL)
    assert got["title"] == "青石镇一化工厂发生爆炸 暂无人员伤亡报告"
    assert got["text"].split("\n") == ["今日，青石镇一化工厂发生爆炸，现场冒出浓烟，周边群众反映闻到刺鼻异味。",
                                       "接报后，县应急管理局、县消防救援大队第一时间赶赴现场处置。",
                                       "据初步了解，事故暂无人员伤亡报告，具体原因正在调查中。"]
    assert got["published"] == datetime(2026, 5, 17, 8, 20, tzinfo=SHANGHAI)
    assert got["author"] == "记者 王晓峰"


def test_hostile_page_scripts_styles_and_comments_stay_out():
    got = extract_article(page("news_article_hostile.html"), URL)
    assert got["title"] == "县医院门诊楼加装电梯 方便老年患者就医"
    assert "门诊楼加装的两部电梯正式投入使用" in got["text"]
    assert "住院楼的无障碍设施" in got["text"]
    for marker in ("FAKE_SCRIPT_TITLE", "SCRIPT_TEXT_INSIDE", "UNCLOSED_SCRIPT_BODY", "SVG_SCRIPT", "STYLE_TEXT",
                   "NOSCRIPT_TEXT", "COMMENT_TEXT", "TRAILING_SCRIPT", "alert", "evil.example", "document.cookie"):
        assert marker not in got["text"] and marker not in got["title"], marker
    assert got["published"] is None and got["author"] == ""


@pytest.mark.parametrize("html", ["", "   ", "<", "\x00\x00\x00", "<html>" + "<div>" * 20000,
                                  "<?xml version='1.0'?><a>", "<p>\udcff</p>", "<script>" * 500,
                                  "<html><body><script>var a = '正文';</script></body></html>"])
def test_nothing_found_gives_empty_fields_and_never_raises(html):
    got = extract_article(html, "")
    assert got == {"title": "", "text": "", "published": None, "author": ""}


# --- the news spider without article selectors

def spider(state: CrawlState | None = None):
    crawler = get_crawler(NewsSpider, {})
    source = load_sources()["demo-news-generic"].with_base_url(BASE)
    return NewsSpider.from_crawler(crawler, source=source, state=state or CrawlState())


def response(name: str, url: str):
    request = scrapy.Request(url, meta={"aid": "500012"})
    return HtmlResponse(url, body=(FIXTURES / name).read_bytes(), request=request,
                        headers={"Content-Type": "text/html; charset=utf-8", "Date": "Sun, 17 May 2026 04:30:00 GMT"})


def test_generic_source_has_no_article_selectors_and_is_disabled():
    source = load_sources()["demo-news-generic"]
    assert source.selectors.generic and not source.enabled
    assert source.site == load_sources()["demo-news"].site
    assert not load_sources()["demo-news"].selectors.generic


def test_spider_reads_articles_generically_without_selectors():
    sp = spider()
    (item,) = list(sp.parse_article(response("news_article_noisy.html", URL)))
    assert item["post_id"] == "demo-news:500012" and item["source"] == "demo-news-generic"
    assert item["title"] == "澄溪县城区供水管网改造工程全面启动"
    assert item["text"].count("\n") == 4 and "网友评论" not in item["text"]
    assert item["published_at"] == datetime(2026, 5, 16, 9, 45, tzinfo=SHANGHAI)
    assert "李明远" in item["author"]
    stats = sp.crawler.stats
    assert stats.get_value(S.FIELDS_READ) == 3 and not stats.get_value(S.FIELDS_EMPTY)


def test_spider_counts_empty_fields_and_skips_a_page_with_no_article():
    sp = spider()
    request = scrapy.Request(URL, meta={"aid": "500012"})
    empty = HtmlResponse(URL, body="<html><body><script>var t='x';</script></body></html>".encode(), request=request,
                         headers={"Content-Type": "text/html; charset=utf-8"})
    assert list(sp.parse_article(empty)) == []
    assert sp.crawler.stats.get_value(S.FIELDS_EMPTY) == 2


NEWS = """
  - name: county-news
    kind: news
    site: county-news
    base_url: http://news.example.test
    start_urls: [/list]
    selectors:
      article_link: ul a::attr(href)
      next_page: a.next::attr(href)
      title: h1::text
      body: div.body p::text
      published: span.time::text
      article_id_pattern: /a/(\\d+)
"""


@pytest.mark.parametrize("drop, field", [
    ("      title: h1::text\n", "selectors.body"),
    ("      body: div.body p::text\n", "selectors.body"),
    ("      published: span.time::text\n", "selectors.published"),
])
def test_title_body_published_go_together_and_errors_name_the_field(tmp_path, drop, field):
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n" + textwrap.dedent(NEWS.replace(drop, "")), encoding="utf-8")
    with pytest.raises(SourceConfigError) as exc:
        load_sources(path)
    assert f"{path}: sources[0] (county-news): {field}:" in str(exc.value)


def test_a_source_without_title_body_published_is_valid(tmp_path):
    body = NEWS
    for line in ("      title: h1::text\n", "      body: div.body p::text\n", "      published: span.time::text\n"):
        body = body.replace(line, "")
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n" + textwrap.dedent(body), encoding="utf-8")
    assert load_sources(path)["county-news"].selectors.generic


def test_a_megabyte_line_without_spaces_is_read_in_linear_work():
    from crawlers.parsing import article

    # every 记者 is a place the meta pattern could start, and without spaces each try ran to the
    # line's end (quadratic: minutes for 1 MB); it is only tried on the line's head now, so its
    # work is bounded by the window, not the line
    body = "记者很" * 333_334
    assert len(body) > 1_000_000 > 1000 * article._META_HEAD_WINDOW
    assert article._strip_head(body, "", "") == body
    head = "来源：澄溪发布 " + body
    assert article._strip_head(head, "", "") == body
    page = f"<html><body><article><h1>标题</h1><p>来源：澄溪发布 {body}</p></article></body></html>"
    found = extract_article(page, "http://news.example.cn/a/1.html")
    assert found["text"].endswith("记者很" * 100) and "来源" not in found["text"][:20]
