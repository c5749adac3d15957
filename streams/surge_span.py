"""The span record of the surge rule (streams.surge): per window length, the highest judged count
(persistence-capped, streams.surge_bounds.judge) that length reached at this subject's quiet buckets
(outside episodes and refractory periods) on each of the last `span_days` days. A window above
`span_factor` x it (past days only: a story's rise, while it does not page yet, is quiet and would
raise its own line) is past its span record, and faces the refractory or busy bar without the
escalation: a story as loud as the last episode's peak pages, not only one twice as loud, when its
count is far beyond anything quiet this subject did at that window length. A one-minute blip sets
the line of the shortest window, not the one a one-hour story must beat. The spread, tail and record
gates are unchanged. Pure, plain-JSON state (`spans`: [day, today's highest per length or None while
no quiet bucket was seen today, [past days' highest per length, days with a quiet bucket only]]);
`p` is a SurgeParams.
"""
from __future__ import annotations

from streams import surge_busy as busy_


def lines(state: dict, p) -> list[float] | None:
    """Per window length, the judged count that beats the subject's span record; None while the
    gate is off or fewer than two past days are remembered."""
    spans = state.get("spans")
    if not p.span_factor or not spans or len(spans[2]) < 2:
        return None
    days = spans[2][-p.span_days:]          # past days only: a story's own rise must not teach it
    return [p.span_factor * max(day[n] for day in days) for n in range(len(p.windows))]


def past(state: dict, end: int, wins, p) -> int | None:
    """The window length number (longest first) whose judged count is past its span record and
    reaches `min_count` and `ratio` x usual, or None. `wins`: streams.surge._windows."""
    line = lines(state, p)
    if line is None:
        return None
    last = state.get("last_episode", -10**12)
    for n in range(len(p.windows) - 1, -1, -1):
        count, judged, usual, _ = wins[n]
        if end - p.windows[n] >= last and judged > line[n] and judged >= p.min_count and judged >= p.ratio * usual:
            return n
    return None


def learn(state: dict, end: int, judged: list[float] | None, p) -> None:
    """Roll the days over at each day of the subject's life; fold in a quiet closed bucket's judged
    window counts (None: in an episode or refractory period, teaches nothing)."""
    day = (end - state["born"]) * p.bucket_s // 86400
    spans = state.setdefault("spans", [day, None, []])
    if spans[0] != day:
        if spans[1] is not None:            # a day with no quiet bucket is no record of 0
            spans[2] = (spans[2] + [spans[1]])[-p.span_days:]
        spans[0], spans[1] = day, None
    if judged is not None:
        today = spans[1] or [0.0] * len(judged)
        spans[1] = [max(a, round(b, 3)) for a, b in zip(today, judged)]


def bar(state: dict, end: int, wins, p) -> float:
    """The refractory (or busy) bar a window must beat (streams.surge_busy.escalation_bar), or,
    for a window past its span record, that bar without its escalation: a story as loud as the
    last episode's peak, not twice as loud, pages."""
    line = busy_.escalation_bar(state, end, p)
    if not line or not p.span_factor or past(state, end, wins, p) is None:
        return line
    return busy_.escalation_bar(state, end, p, escalated=False)
