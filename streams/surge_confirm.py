"""Confirmation of a surge for bursty subjects (streams.surge): a subject whose own history bursts
often must keep its surge up for `confirm_buckets` closed buckets before it pages. Pure, plain-JSON
state; `p` is a streams.surge.SurgeParams. EXPERIMENT (session 7)."""
from __future__ import annotations


def needed(state: dict, p) -> int:
    """Buckets the surge must hold before it pages: 1 (no confirmation) unless this subject is
    bursty, i.e. at least `confirm_burst_share` of its remembered days had a peak score of z."""
    if p.confirm_buckets <= 1:
        return 1
    if p.confirm_after:
        span = p.budget_days * 86400 // p.bucket_s
        end = state["done"] + 1
        return p.confirm_buckets if sum(end - b < span for b, _ in state.get("pages", [])) >= p.confirm_after else 1
    past = state["peaks"][2][-p.tail_memory_days:]
    if p.confirm_burst_share > 0:
        if len(past) < 2 or sum(peak >= p.z for peak in past) < p.confirm_burst_share * len(past):
            return 1
    return p.confirm_buckets


def confirmed(state: dict, end: int, would: bool, best: float, line: float, closed: bool, p) -> bool:
    """Whether bucket `end` completes a run of `needed` buckets: the first one passed every line
    (`would`), the later ones kept the best score at `confirm_hold` x that line. A closed bucket
    records the run."""
    last, run = state.get("confirm", [-10**12, 0])
    held = last == end - 1 and run > 0
    ok = would or (held and best >= p.confirm_hold * line)
    now = run + 1 if ok and held else (1 if would else 0)
    if closed:
        state["confirm"] = [end, now]
    return ok and (now >= needed(state, p) or (would and p.confirm_skip and best >= p.confirm_skip * line))


def budget_line(state: dict, end: int, p) -> float:
    """EXPERIMENT: the score a new episode needs when this subject already paged `budget_alerts`
    times in the last `budget_days`: `budget_factor` x the budget_alerts-th highest of those pages."""
    if not p.budget_alerts:
        return 0.0
    span = p.budget_days * 86400 // p.bucket_s
    past = sorted((s for b, s in state.get("pages", []) if end - b < span), reverse=True)
    return p.budget_factor * past[p.budget_alerts - 1] if len(past) >= p.budget_alerts else 0.0


def learn_page(state: dict, end: int, score: float, p) -> None:
    span = p.budget_days * 86400 // p.bucket_s
    state["pages"] = [x for x in state.get("pages", []) if end - x[0] < span] + [[end, round(score, 3)]]


def busy(state: dict, end: int, p) -> bool:
    """EXPERIMENT: this subject paged `confirm_after` times in the last `budget_days`."""
    span = p.budget_days * 86400 // p.bucket_s
    return bool(p.confirm_after) and sum(end - b < span for b, _ in state.get("pages", [])) >= p.confirm_after


def bar(state: dict, end: int, p) -> float:
    """EXPERIMENT: the refractory bar, with a `busy_refractory`-bucket half-life and
    `busy_escalation` for a busy subject."""
    if p.busy_refractory and busy(state, end, p):
        return p.busy_escalation * state["onset"][1] * 0.5 ** ((end - state["onset"][0]) / p.busy_refractory)
    return p.escalation * state["onset"][1] * 0.5 ** ((end - state["onset"][0]) / p.refractory_buckets) if p.refractory_buckets else 0.0
