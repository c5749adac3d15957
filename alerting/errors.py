"""The alerting package's small error hierarchy. Reads no settings.

Library exceptions (httpx, smtplib, yaml, pydantic) are caught at the edge that calls them and
re-raised as one of these `from exc`, with any secret already redacted from the message.
"""
from __future__ import annotations


class AlertingError(Exception):
    """Base class for every error raised by the alerting package."""


class RulesError(AlertingError):
    """The rules file is invalid; the message names the file, the entry and the field."""


class ChannelConfigError(AlertingError):
    """A channel is configured wrongly (missing URL, bad type); never carries the secret."""


class StateError(AlertingError):
    """The persisted alert state cannot be read or written."""
