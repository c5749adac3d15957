"""A busy subject's longer refractory bar (streams.surge). A subject that paged `busy_pages` times
in the last `busy_days` days pages more often than news happens (on the labelled mention series we
know of, about one story per subject per two weeks), so its pages are mostly its own chatter: after
each page a new one needs `busy_escalation` x that episode's peak score, a bar halving every
`busy_refractory` buckets instead of every `refractory` buckets. One page per story and its
aftershocks, not one per burst of chatter around it; a subject that pages rarely keeps the short
bar. Pure, plain-JSON state (`pages`: the last onsets); `p` is a streams.surge.SurgeParams."""
from __future__ import annotations

from streams import surge_gates as gates


def busy(state: dict, end: int, p) -> bool:
    """Whether this subject paged `busy_pages` times in the `busy_days` before bucket `end`."""
    pages = state.get("pages", [])
    return bool(p.busy_pages) and len(pages) >= p.busy_pages and end - pages[-p.busy_pages] < p.busy_buckets


def escalation_bar(state: dict, end: int, p, escalated: bool = True) -> float:
    """The score a new episode needs after the last one: the refractory bar
    (streams.surge_gates.escalation_bar), or a busy subject's longer one; without the escalation
    factor (x 1 the last peak) when not `escalated`."""
    if not p.busy_refractory_buckets or not busy(state, end, p):
        return gates.escalation_bar(state, end, p, escalated)
    since = end - state["onset"][0]
    factor = p.busy_escalation if escalated else 1.0
    return factor * state["onset"][1] * 0.5 ** (since / p.busy_refractory_buckets)


def learn_page(state: dict, end: int, p) -> None:
    """Remember a surge episode's onset (the last `busy_pages` of them)."""
    if p.busy_pages:
        state["pages"] = (state.get("pages", []) + [end])[-p.busy_pages:]
