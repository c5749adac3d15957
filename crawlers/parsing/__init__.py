"""Pure helpers for reading Chinese web pages: times, numbers, charsets. No Scrapy, no I/O."""
