"""The stream stages' errors. `InvalidRecord` means "skip this record": it goes to posts.dlq
with its reason, counted in metrics, and the worker carries on."""
from __future__ import annotations


class StreamError(Exception):
    """Base of shaobing.streams errors."""


class InvalidRecord(StreamError):
    """A record that cannot be processed; `kind` is a low-cardinality metric label."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
