"""One spider per kind of site; a source (crawlers/sources.yml) says which kind and its selectors."""
from crawlers.spiders.api import ApiSpider
from crawlers.spiders.feed import FeedSpider
from crawlers.spiders.forum import ForumSpider
from crawlers.spiders.news import NewsSpider

SPIDERS = {"forum": ForumSpider, "news": NewsSpider, "feed": FeedSpider, "api": ApiSpider}
