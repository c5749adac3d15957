"""The scenario clock over the generated posts: what is visible at a scenario time, the views the
pages need (boards, threads, the news list), and the ground truth tests check crawls against.

Scenario time runs `speed` times faster than the wall clock from the moment the Scenario is built;
the clock is passed in so tests pin it. Reads no settings.
"""
from __future__ import annotations

import bisect
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from infra.demo_web import vocabulary
from infra.demo_web.generator import BOARDS, NEWS_SITE, WEIBO_SITE, DemoPost, Params, generate


@dataclass(frozen=True)
class ThreadView:
    thread: DemoPost
    replies: tuple[DemoPost, ...]       # visible replies, floor order

    @property
    def last_at_s(self) -> float:
        return self.replies[-1].at_s if self.replies else self.thread.at_s


@dataclass(frozen=True)
class GroundTruth:
    """What a complete crawl up to a scenario time must have found. Keys are `site:native_id`."""

    keys: frozenset[str]
    surge_keys: frozenset[str]
    repost_of: dict[str, str]           # repost key -> original key (both in `keys`)
    verbatim_copies: frozenset[str]     # reposts whose text is the original's, unchanged
    subject: str

    @property
    def total_unique(self) -> int:
        return len(self.keys)

    @property
    def originals(self) -> frozenset[str]:
        return self.keys - self.repost_of.keys()


class Scenario:
    def __init__(self, seed: int = 7, start: datetime | None = None, speed: float = 1.0,
                 surge_at_s: float = 300.0, *, clock: Callable[[], float] = time.monotonic, **params):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.params = Params(seed=seed, surge_at_s=surge_at_s, **params)
        self.start = (start or datetime.now(timezone.utc)).replace(microsecond=0)
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.speed = speed
        self._clock = clock
        self._origin = clock()
        self.posts: tuple[DemoPost, ...] = tuple(generate(self.params))
        self._times = [p.at_s for p in self.posts]
        self.by_key = {p.key: p for p in self.posts}
        self._threads: dict[str, list[DemoPost]] = {}
        for p in self.posts:
            if p.kind in ("thread", "reply"):
                self._threads.setdefault(p.thread_id, []).append(p)

    # --- clock
    def now_s(self) -> float:
        return (self._clock() - self._origin) * self.speed

    def at(self, at_s: float) -> datetime:
        return self.start + timedelta(seconds=at_s)

    def visible(self, now_s: float | None = None) -> tuple[DemoPost, ...]:
        now_s = self.now_s() if now_s is None else now_s
        return self.posts[: bisect.bisect_right(self._times, now_s)]

    # --- page views
    def board(self, slug: str, now_s: float) -> list[ThreadView]:
        """Threads of a board, most recently active first (a reply bumps its thread)."""
        if slug not in BOARDS:
            raise KeyError(slug)
        views = [self.thread(p.native_id, now_s) for p in self.visible(now_s)
                 if p.kind == "thread" and p.board == slug]
        return sorted(views, key=lambda v: (v.last_at_s, v.thread.native_id), reverse=True)

    def thread(self, tid: str, now_s: float) -> ThreadView:
        posts = [p for p in self._threads.get(tid, ()) if p.at_s <= now_s]
        if not posts or posts[0].kind != "thread":
            raise KeyError(tid)
        return ThreadView(posts[0], tuple(posts[1:]))

    def articles(self, now_s: float) -> list[DemoPost]:
        return [p for p in reversed(self.visible(now_s)) if p.site == NEWS_SITE]

    def article(self, aid: str, now_s: float) -> DemoPost:
        post = self.by_key.get(f"{NEWS_SITE}:{aid}")
        if post is None or post.at_s > now_s:
            raise KeyError(aid)
        return post

    def statuses(self, now_s: float, since_id: int = 0, max_id: int | None = None, count: int = 20) -> list[DemoPost]:
        """Microblog statuses newest first, with id > since_id and id <= max_id (the search API's paging)."""
        out = []
        for p in reversed(self.visible(now_s)):
            if p.site != WEIBO_SITE or int(p.native_id) <= since_id or (max_id is not None and int(p.native_id) > max_id):
                continue
            out.append(p)
            if len(out) == count:
                break
        return out

    def status(self, sid: str, now_s: float) -> DemoPost:
        post = self.by_key.get(f"{WEIBO_SITE}:{sid}")
        if post is None or post.at_s > now_s:
            raise KeyError(sid)
        return post

    # --- ground truth
    def ground_truth(self, until_s: float | None = None) -> GroundTruth:
        posts = self.visible(until_s)
        keys = frozenset(p.key for p in posts)
        reposts = {p.key: p.repost_of for p in posts if p.repost_of and p.repost_of in keys}
        return GroundTruth(
            keys=keys,
            surge_keys=frozenset(p.key for p in posts if p.surge),
            repost_of=reposts,
            verbatim_copies=frozenset(k for k in reposts if self.by_key[k].edit == "verbatim"),
            subject=vocabulary.SURGE_SUBJECT,
        )

    def status(self, now_s: float | None = None) -> dict:
        """The `/_scenario` document the demo orchestrator polls."""
        now_s = self.now_s() if now_s is None else now_s
        truth = self.ground_truth(now_s)
        counts: dict[str, int] = {}
        for p in self.visible(now_s):
            counts[p.kind] = counts.get(p.kind, 0) + 1
        return {
            "seed": self.params.seed, "speed": self.speed, "start": self.start.isoformat(),
            "now": self.at(now_s).isoformat(), "now_s": round(now_s, 3),
            "surge_at_s": self.params.surge_at_s, "surge_started": now_s >= self.params.surge_at_s,
            "end_s": self.params.end_s, "finished": now_s >= self.params.end_s,
            "subject": truth.subject, "visible": counts, "total_unique": truth.total_unique,
            "surge_posts": len(truth.surge_keys), "reposts": len(truth.repost_of),
            "layout_changed": self.params.layout_change_at_s is not None and now_s >= self.params.layout_change_at_s,
            "total_posts": len(self.posts),
        }
