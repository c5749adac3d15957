"""Alerting metrics, declared once: `shaobing_alerting_*`, labels limited to channel/outcome/reason.

`AlertingMetrics(registry)` takes a registry so tests pass a fresh CollectorRegistry; processes use
`default_metrics()`, which registers on the global registry exactly once. Reads no settings.
"""
from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

OUTCOMES = ("delivered", "retryable", "permanent")
SUPPRESS_REASONS = ("dedup", "silenced", "acked", "quiet_hours", "ratelimit")


class AlertingMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.notifications = Counter(
            "shaobing_alerting_notifications_total",
            "Notifications handed to a channel, by final outcome after retries.",
            ["channel", "outcome"], registry=registry)
        self.requests = Counter(
            "shaobing_alerting_notification_requests_total",
            "Individual send attempts, by outcome and low-cardinality reason (vendor code class).",
            ["channel", "outcome", "reason"], registry=registry)
        self.latency = Histogram(
            "shaobing_alerting_notification_latency_seconds",
            "Time one send attempt took.", ["channel"], registry=registry)
        self.surge_to_send = Histogram(
            "shaobing_alerting_surge_to_send_seconds",
            "From the first surge post entering the pipeline to the alert being sent.",
            buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800), registry=registry)
        self.suppressed = Counter(
            "shaobing_alerting_alerts_suppressed_total",
            "Alerts or notifications held back, by reason.", ["reason"], registry=registry)
        self.digests = Counter(
            "shaobing_alerting_digest_messages_total",
            "Digest messages sent because a channel's rate limit was reached.", ["channel"], registry=registry)
        self.escalations = Counter(
            "shaobing_alerting_escalations_total",
            "Alerts sent to a fallback channel (not acknowledged, or primary channel failed).",
            ["reason"], registry=registry)
        self.operator_alerts = Counter(
            "shaobing_alerting_operator_alerts_total",
            "Operator alerts received from Alertmanager (shaobing ops-receiver), by status (or invalid).",
            ["status"], registry=registry)
        self.firing = Gauge(
            "shaobing_alerting_alerts_firing", "Alerts currently firing in this worker's state.",
            registry=registry)

    def init_channels(self, channels: list[str]) -> None:
        """Create the known label sets so dashboards show zeros, not gaps."""
        for channel in channels:
            for outcome in OUTCOMES:
                self.notifications.labels(channel=channel, outcome=outcome)
            self.latency.labels(channel=channel)
            self.digests.labels(channel=channel)
        for reason in SUPPRESS_REASONS:
            self.suppressed.labels(reason=reason)
        for reason in ("unacknowledged", "channel_failed"):
            self.escalations.labels(reason=reason)


_default: AlertingMetrics | None = None


def default_metrics() -> AlertingMetrics:
    global _default
    if _default is None:
        _default = AlertingMetrics()
    return _default
