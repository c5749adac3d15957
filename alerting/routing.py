"""Routes: which channels an alert goes to and with what timing. First matching route wins.

A Route is frozen configuration; the lifecycle keeps runtime state elsewhere. Reads no settings;
alerting.rules builds the Router from the rules file.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from alerting.model import Alert

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Timing:
    group_wait_s: float = 0.0            # a surge is urgent: send at once by default
    group_interval_s: float = 300.0
    repeat_interval_s: float = 4 * 3600.0
    # safety net only: every producer (surge detector, crawler watchdog) signals an episode once and
    # sends "resolved" itself, so a live episode is never refreshed; this only closes an alert whose
    # resolve was lost, and must outlast any real episode (a story can stay hot for a day or two)
    resolve_timeout_s: float = 7 * 86400.0
    send_resolved: bool = True
    escalate_after_s: float | None = None
    group_by: tuple[str, ...] = ("subject",)


@dataclass(frozen=True)
class Route:
    name: str
    channels: tuple[str, ...]
    fallback: tuple[str, ...] = ()
    timing: Timing = field(default_factory=Timing)
    subjects: tuple[str, ...] = ()       # glob patterns; empty = any subject
    rules: tuple[str, ...] = ()          # empty = any rule
    min_severity: str = "info"
    mentions: tuple[str, ...] = ()       # mobiles / user ids to @ in the channel

    def matches(self, alert: Alert) -> bool:
        if self.subjects and not any(fnmatch.fnmatchcase(alert.subject, p) for p in self.subjects):
            return False
        if self.rules and alert.rule not in self.rules:
            return False
        return SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[self.min_severity]


class Router:
    def __init__(self, routes: list[Route], default: Route):
        self.routes = tuple(routes)
        self.default = default
        self.by_name = {r.name: r for r in (*routes, default)}

    def route(self, alert: Alert) -> Route:
        return next((r for r in self.routes if r.matches(alert)), self.default)

    def channel_names(self) -> set[str]:
        return {c for r in self.by_name.values() for c in (*r.channels, *r.fallback)}
