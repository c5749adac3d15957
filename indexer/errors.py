"""How the stream worker answers an Elasticsearch failure, decided once at the sink boundary.

The pinned client (elasticsearch 8.19) raises two unrelated families: `TransportError` (no
answer: connection refused or reset, timeout) and `ApiError` (an HTTP answer, e.g. a whole-request
429 / 503 after the client's own retries, or 413 for a body over http.max_content_length). Both
are turned here into one of three actions, so no library exception escapes into an agent:

  RETRY   the node is unreachable or overloaded; wait with backoff and send the same again
  SPLIT   the request is too large (413); send its halves (a single document: REJECT)
  REJECT  the node refuses this content for itself; the documents go to the dead-letter topic
Pure; reads no settings.
"""
from __future__ import annotations

from elasticsearch import ApiError, SerializationError, TransportError

RETRY, SPLIT, REJECT = "retry", "split", "reject"
RETRYABLE_STATUS = frozenset({408, 429, 502, 503, 504})
ES_ERRORS = (ApiError, TransportError)     # what the sink catches; everything else is a bug


def classify(exc: BaseException) -> str:
    if isinstance(exc, SerializationError):
        return REJECT
    if isinstance(exc, ApiError):
        status = exc.status_code
        if status == 413:
            return SPLIT
        return RETRY if status in RETRYABLE_STATUS or status >= 500 else REJECT
    if isinstance(exc, TransportError):
        return RETRY
    raise TypeError(f"not an Elasticsearch error: {exc.__class__.__name__}")


def describe(exc: BaseException) -> str:
    """A short reason for logs and dead letters: the class and HTTP status, never the node URL."""
    status = getattr(exc, "status_code", None)
    return f"{exc.__class__.__name__}" + (f" HTTP {status}" if isinstance(status, int) else "")
