"""Charset choice when the header, the meta tag and the bytes disagree; and the middleware."""
from __future__ import annotations

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawlers.middlewares import CharsetMiddleware
from crawlers.parsing.charset import choose_encoding
from crawlers.spiders import ForumSpider

TEXT = "青石镇化工厂附近有刺鼻异味，窗户都不敢开。大家出门戴口罩，希望县生态环境分局赶紧出来说明情况！"
TEXT_TW = "青石鎮化工廠附近有刺鼻異味，窗戶都不敢開。大家出門戴口罩，希望縣生態環境分局趕緊出來說明情況！"


def page(meta: str = "", text: str = TEXT) -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return f"<html><head>{head}<title>BBS</title></head><body><div class='content'>{text}</div></body></html>"


@pytest.mark.parametrize("body, content_type, expected", [
    (page("gbk").encode("gbk"), "text/html; charset=utf-8", ("gb18030", "meta")),       # the header lies
    (page("utf-8").encode("utf-8"), "text/html; charset=gbk", ("utf-8", "utf-8")),       # the header lies the other way
    (page("gb2312").encode("gb18030"), "text/html", ("gb18030", "meta")),
    (page().encode("gbk"), "text/html; charset=gbk", ("gb18030", "header")),
    (page().encode("gbk"), "text/html", ("gb18030", "detected")),                         # no declaration at all
    (page(text=TEXT_TW).encode("big5"), "text/html", ("big5hkscs", "detected")),
    (b"\xef\xbb\xbf" + page().encode("utf-8"), "text/html; charset=gbk", ("utf-8", "bom")),
])
def test_choose_encoding(body, content_type, expected):
    codec, how = choose_encoding(body, content_type)
    assert (codec, how) == expected
    decoded = body.decode(codec).replace("\ufeff", "")
    assert TEXT in decoded or TEXT_TW in decoded


def test_middleware_re_decodes_a_page_whose_header_lies():
    crawler = get_crawler(ForumSpider, {})
    crawler.stats.open_spider()
    mw = CharsetMiddleware.from_crawler(crawler)
    url = "http://demo.test/forum/board/help"
    lying = HtmlResponse(url, body=page("gbk").encode("gbk"), request=scrapy.Request(url),
                         headers={"Content-Type": "text/html; charset=utf-8"})
    assert TEXT not in lying.text                              # what Scrapy alone would parse
    fixed = mw.process_response(lying.request, lying)
    assert TEXT in fixed.css("div.content::text").get()
    assert crawler.stats.get_value("shaobing/charset_fixed") == 1
    honest = HtmlResponse(url, body=page("utf-8").encode("utf-8"), request=scrapy.Request(url),
                          headers={"Content-Type": "text/html; charset=utf-8"})
    assert mw.process_response(honest.request, honest) is honest

