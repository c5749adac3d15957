"""The crawler package's errors. Library exceptions are caught at the edge and re-raised as these."""
from __future__ import annotations


class CrawlError(Exception):
    """Base of every error the crawlers raise on purpose."""


class SourceConfigError(CrawlError):
    """A sources file is invalid; the message names the file, the entry and the field."""


class ParseError(CrawlError, ValueError):
    """A field on a page could not be read (an unknown time format, a missing id)."""


class ProduceError(CrawlError):
    """A post could not be handed to Kafka."""
