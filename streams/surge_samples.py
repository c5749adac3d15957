"""The sample posts a surge signal carries: the first and last few posts of the last two windows,
kept in the subject's surge state as plain JSON (streams.surge). Pure; `p` is a SurgeParams."""
from __future__ import annotations

from datetime import datetime, timezone


def sample_json(s) -> dict:
    """`s.model_dump(mode="json")`, built directly (this runs once per mention)."""
    at = s.published_at.isoformat()
    return {"post_id": s.post_id, "site": s.site, "url": s.url, "title": s.title,
            "published_at": at[:-6] + "Z" if at.endswith("+00:00") else at}


def _order(s: list) -> tuple:
    return s[0], s[1]["published_at"]


def keep_samples(state: dict, idx: int, samples: list, produced_at: datetime | None, cur: int, p) -> None:
    """The first and last max_samples posts of the last two windows (sorted by bucket, time)."""
    if len(samples) == 1:
        keep_one(state, idx, samples[0], produced_at, cur, p)
        return
    kept = _recent(state, cur, p)
    if not samples:
        return
    stamp = produced_at.astimezone(timezone.utc).isoformat() if produced_at else None
    _merge(state, kept, [[idx, sample_json(s), stamp] for s in samples], p)


def _recent(state: dict, cur: int, p) -> list:
    """The kept samples, those past the last two windows (and the grace period) dropped."""
    horizon = cur - 2 * p.window_buckets - p.grace_buckets
    kept = state["samples"]
    if kept and kept[0][0] < horizon:
        kept = state["samples"] = [s for s in kept if s[0] >= horizon]
    return kept


def keep_one(state: dict, idx: int, sample, produced_at: datetime | None, cur: int, p) -> None:
    """`keep_samples` for one sample (the agent's path, once per mention)."""
    kept = _recent(state, cur, p)
    post = sample_json(sample)
    new = [idx, post, produced_at.astimezone(timezone.utc).isoformat() if produced_at else None]
    if kept:
        last = kept[-1]
        if last[0] > idx or (last[0] == idx and last[1]["published_at"] > post["published_at"]):
            _merge(state, kept, [new], p)      # out of time order
            return
    kept.append(new)                     # in time order (the usual case): drop the middle one
    k = p.max_samples
    if len(kept) > 2 * k:
        del kept[k: len(kept) - k]


def _merge(state: dict, kept: list, news: list, p) -> None:
    k = p.max_samples
    kept = sorted(kept + news, key=_order)        # out of time order (a late post, a batch)
    state["samples"] = kept if len(kept) <= 2 * k else kept[:k] + kept[-k:]
