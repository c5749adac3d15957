"""One spider per kind of site; a source (crawlers/sources.yml) says which kind and its selectors."""
from crawlers.spiders.api import ApiSpider
from crawlers.spiders.discuz import DiscuzSpider
from crawlers.spiders.feed import FeedSpider
from crawlers.spiders.forum import ForumSpider
from crawlers.spiders.news import NewsSpider
from crawlers.spiders.news_list import NewsListSpider

SPIDERS = {"forum": ForumSpider, "news": NewsSpider, "feed": FeedSpider, "api": ApiSpider, "discuz": DiscuzSpider,
           "news_list": NewsListSpider}
