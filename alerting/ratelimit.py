"""Per-channel send limits as sliding windows, the way the vendors count (DingTalk and WeCom:
20 per minute per robot; Feishu: 5 per second and 100 per minute). A token bucket would allow
burst + rate in one minute and DingTalk locks a robot for 10 minutes when it sees a 21st message,
so the window is exact and the default keeps a small margin. Pure except for the in-memory log;
the clock is passed in. Reads no settings.

With several workers sending through the same robot, give each `share` = 1/number of workers.
"""
from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

# vendor limits: (messages, window seconds); margin leaves room for a manual test message
VENDOR_LIMITS = {
    "dingtalk": ((20, 60.0),),
    "wecom": ((20, 60.0),),
    "feishu": ((5, 1.0), (100, 60.0)),
}


class RateLimiter:
    def __init__(self, limits: tuple[tuple[int, float], ...], *, margin: int = 2, share: float = 1.0):
        self.limits = tuple((max(1, int((n - (margin if n > 10 else 0)) * share)), w) for n, w in limits)
        longest = max((w for _, w in self.limits), default=0.0)
        self._window = timedelta(seconds=longest)
        self._sent: deque[datetime] = deque()

    def _trim(self, now: datetime) -> None:
        while self._sent and now - self._sent[0] >= self._window:
            self._sent.popleft()

    def allows(self, now: datetime) -> bool:
        self._trim(now)
        for n, w in self.limits:
            edge = now - timedelta(seconds=w)
            if sum(1 for t in self._sent if t > edge) >= n:
                return False
        return True

    def acquire(self, now: datetime) -> bool:
        """Take a slot if one is free now."""
        if not self.allows(now):
            return False
        self._sent.append(now)
        return True


def limiter_for(kind: str, per_minute: int | None = None, share: float = 1.0) -> RateLimiter | None:
    if per_minute:
        return RateLimiter(((per_minute, 60.0),), margin=0, share=share)
    limits = VENDOR_LIMITS.get(kind)
    return RateLimiter(limits, share=share) if limits else None
