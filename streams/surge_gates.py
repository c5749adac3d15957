"""The surge rule's gates on a subject's own history (streams.surge): its usual daily peak score
(the tail gate), the refractory bar after an episode, and its record bucket (the record gate). Pure, plain-JSON state;
`p` is a streams.surge.SurgeParams."""
from __future__ import annotations


def usual_peak(state: dict, days: int | None = None) -> float:
    """The subject's usual daily peak score: the second highest of the last `days` remembered days'
    peaks (all of them: None); while fewer than two days are remembered, the highest score seen so
    far (today's included)."""
    remembered = state["peaks"][2]
    past = sorted(remembered[-days:] if days else remembered, reverse=True)
    if len(past) > 1:
        return past[1]
    return max(past + [state["peaks"][1] or 0.0])


def tail_line(state: dict, p) -> float:
    """The score a window must beat besides z: `tail_factor` x the usual daily peak of the last
    `tail_days`, and `tail_memory_factor` x that of the whole memory (`tail_memory_days`)."""
    line = p.tail_factor * usual_peak(state, p.tail_days)
    if len(state["peaks"][2]) > p.tail_days:
        line = max(line, p.tail_memory_factor * usual_peak(state, p.tail_memory_days))
    return line


def learn_peak(state: dict, end: int, best: float | None, p) -> None:
    """Roll the daily peaks over at each day of the subject's life; fold in a closed bucket's
    best score (None: the bucket is in an episode or a refractory period and teaches nothing;
    nor does the subject's first hour)."""
    settled = (end - state["born"]) * p.bucket_s >= 3600 and end - state["born"] >= p.windows[-1]
    fold_daily_peak(state["peaks"], (end - state["born"]) * p.bucket_s // 86400,
                    best if settled else None,        # before that the spreads are still a guess
                    max(p.tail_days, p.tail_memory_days))


def fold_daily_peak(peaks: list, day: int, value: float | None, keep: int) -> None:
    """`peaks` = [day, today's peak or None, [past days' peaks]]: roll the days over (a day with no
    value is not a peak of 0), keep the last `keep` past days, fold in `value` (None: nothing)."""
    if day != peaks[0]:
        if peaks[1] is not None:
            peaks[2] = (peaks[2] + [peaks[1]])[-keep:]
        peaks[0], peaks[1] = day, None
    if value is not None:
        peaks[1] = round(max(peaks[1] or 0.0, value), 3)


def in_refractory(state: dict, end: int, p) -> bool:
    return end - state["onset"][0] < p.refractory_buckets


def escalation_bar(state: dict, end: int, p, escalated: bool = True) -> float:
    """The score a new episode needs after the last one: `escalation` x its peak score (x 1 when
    not `escalated`), halving every `refractory` buckets."""
    if not p.refractory_buckets:
        return 0.0
    factor = p.escalation if escalated else 1.0
    return factor * state["onset"][1] * 0.5 ** ((end - state["onset"][0]) / p.refractory_buckets)


def record_line(state: dict, p) -> float | None:
    """The bucket count that beats this subject's record: `record_factor` x its highest bucket of
    the last `record_days` days (today's so far included); None while the gate is off or fewer
    than two past days are remembered. Distribution-free: no spread, no count scale, so a
    one-bucket jump of a quiet subject to twice anything it had all week pages."""
    rec = state.get("records")
    if not p.record_factor or not rec or len(rec[2]) < 2:
        return None
    highest = max(rec[2][-p.record_days:] + [rec[1]])
    return p.record_factor * highest if highest > 0 else None      # a silent week is no record


def record_beaten(state: dict, x: float, window_count: float, p) -> bool:
    """Whether a bucket of count x fires the record gate: past the record line and, for mention
    counts, with `min_count` mentions in the window (one mention after a quiet week is no surge);
    a series of measurements (non-whole values, the `frac` flag) has no count to ask for."""
    line = record_line(state, p)
    return line is not None and x > line and (bool(state.get("frac")) or window_count >= p.min_count)


def learn_record(state: dict, end: int, count: float, p) -> None:
    """Roll the daily highest bucket over at each day of the subject's life; fold in a closed
    bucket's count (every bucket, in an episode or not: a surge is a record to beat next time)."""
    day = (end - state["born"]) * p.bucket_s // 86400
    rec = state.setdefault("records", [day, 0.0, []])
    if rec[0] != day:
        rec[2] = (rec[2] + [rec[1]])[-p.record_days:]
        rec[0], rec[1] = day, 0.0
    rec[1] = max(rec[1], count)
