"""Why the surge rule did or did not fire on a bucket (streams.surge): a pure re-evaluation of its
gates from the state, in the order streams.surge._verdicts applies them, for the replay tool
(bench/surge_why.py). streams.surge calls `explain` only when a trace callback is passed down
(`observe_many(..., trace=...)`, `alerting.backtest.run(..., trace=...)`); the agent's path passes
none and pays one `is None` test per judged bucket. `p` is a streams.surge.SurgeParams.

The gates, in order (the first that holds the bucket is its `gate`):
  warm-up          the subject is younger than `warmup` (only `new_subject_min_count` may fire)
  min_count/ratio  no window reaches `min_count` and `ratio` x its usual count
  episode          the windows that do reach them still overlap the last episode
  z                the best score (spreads) is under `z` (x `young_factor` on the first day)
  tail 7-day       ... under `tail_factor` x the second-highest daily peak of `tail_days`
  tail 30-day      ... under `tail_memory_factor` x that of `tail_memory_days`
  confirm          a busy subject of whole counts just past the line, the window before not (streams.surge_confirm)
  refractory bar   ... under `escalation` x the last episode's peak, halving every `refractory`
  busy bar         ... under a busy subject's bar (streams.surge_busy)
(a window past its span record, streams.surge_span, faces the bar without its escalation: `span`)
A bucket a gate held may still fire through the record gate (`via` "record"; otherwise `via` is
"spread" or "new subject"); one that fires while an episode is open sends nothing (`alert` False).
"""
from __future__ import annotations

from typing import Callable

from streams import surge_busy as busy_
from streams import surge_confirm as confirm_
from streams import surge_gates as gates
from streams import surge_model as model_
from streams import surge_rare as rare_
from streams import surge_span as span_

Trace = Callable[[dict], None]
GATES = ("warm-up", "min_count/ratio", "episode", "z", "tail 7-day", "tail 30-day", "confirm",
         "refractory bar", "busy bar")


def tail_parts(state: dict, p) -> tuple[float, float]:
    """The tail line's two parts (streams.surge_gates.tail_line is their max): the week's and the
    month's (0 while the subject remembers no more than `tail_days` days)."""
    week = p.tail_factor * gates.usual_peak(state, p.tail_days)
    month = 0.0
    if len(state["peaks"][2]) > p.tail_days:
        month = p.tail_memory_factor * gates.usual_peak(state, p.tail_memory_days)
    return week, month


def explain(state: dict, end: int, x: float, wins, strict: float, closed: bool, fires: bool, p) -> dict:
    """The account of bucket `end` (count `x`) judged with windows `wins` (streams.surge._windows), before the
    bucket teaches the state: the best score, each line it faced, the first gate that held it
    (None if none did), how it fired (`via`: "spread", "rarity", "record", "new subject" or None), and the
    detector's own verdict (`fires`) for the caller to check the account against. `best` is the
    highest score of the windows that pass `min_count` and `ratio` (the one the lines judge), `score`
    the highest of any window."""
    model = state["model"]
    last = state.get("last_episode", -10**12)
    best, score, candidates, held_by_episode = 0.0, 0.0, 0, 0
    spreads = model_.spreads(model, end, p.bucket_s)
    for n, (length, (count, judged, usual, d)) in enumerate(zip(p.windows, wins)):
        z = d / spreads[n]
        score = max(score, z)
        if judged >= p.min_count and judged >= p.ratio * usual:
            if end - length < last:
                held_by_episode += 1
                continue
            candidates += 1
            z /= p.single_factor if length == 1 and p.persist_buckets > 1 else 1.0
            best = max(best, z)
    week, month = tail_parts(state, p)
    warm = end - state["born"] >= p.warmup_buckets
    bar = span_.bar(state, end, wins, p)
    past_span = bool(p.span_factor) and span_.past(state, end, wins, p) is not None
    busy = bool(p.busy_refractory_buckets) and busy_.busy(state, end, p)
    episode = "surge" in state["episodes"]
    gate = None
    if not warm:
        young_fire = p.new_subject_min_count is not None and wins[0][0] >= p.new_subject_min_count
        if not young_fire or gates.in_refractory(state, end, p):
            gate = "warm-up"
    elif not candidates:
        gate = "episode" if held_by_episode else "min_count/ratio"
    elif best < p.z * strict:
        gate = "z"
    elif best < max(week, month):
        gate = "tail 7-day" if week >= month else "tail 30-day"
    elif confirm_.held(state, end, best, max(p.z * strict, week, month), p):
        gate = "confirm"
    if gate is None and best < bar:
        gate = "busy bar" if busy else "refractory bar"
    record = gates.record_line(state, p) if warm and gate is not None and not episode else None
    ends = [end - length >= last for length in p.windows]
    rare_at, rare = rare_.fires(state, end, wins, ends, p) if warm else (None, None)
    via = None
    if gate is None:
        via = "spread" if warm else "new subject"
    elif rare_at is not None and not episode:
        via = "rarity"
    elif record is not None and gates.record_beaten(state, x, wins[0][0], p):
        via = "record"
    return {"end": end, "closed": closed, "count": x, "best": round(best, 3), "score": round(score, 3),
            "z": p.z * strict, "tail_week": round(week, 3), "tail_month": round(month, 3), "bar": round(bar, 3),
            "busy": busy, "span": past_span, "record": record, "rarity": round(rare or 0.0, 3), "gate": gate,
            "via": via, "episode": episode, "alert": via is not None and not episode, "fires": fires}


def margin(account: dict) -> float:
    """How close a held bucket came to firing: its best score over the line of the gate that held
    it (1.0 or more: it passed that line; 0 for a gate with no score line)."""
    line = {"z": account["z"], "tail 7-day": account["tail_week"], "tail 30-day": account["tail_month"],
            "confirm": max(account["z"], account["tail_week"], account["tail_month"]),
            "refractory bar": account["bar"], "busy bar": account["bar"]}.get(account["gate"])
    return account["best"] / line if line else 0.0


def stage(account: dict) -> int:
    """How many gates a bucket passed (the GATES order; past them all: len(GATES))."""
    gate = account["gate"]
    if gate is None:
        return len(GATES)
    if gate == "busy bar":
        return GATES.index("refractory bar")
    return GATES.index(gate)


class Collector:
    """A trace callback for `alerting.backtest.run(rows, params, scores=c.scores, trace=c)`: keeps
    each account tagged with the row whose replay step judged it (the row `run` flags when the
    bucket alerts: `run` appends one score per row, so their number is the row being replayed),
    and counts the accounts whose re-evaluation disagrees with the detector's verdict."""

    def __init__(self) -> None:
        self.scores: list[float] = []
        self.accounts: list[dict] = []
        self.disagree = 0

    def __call__(self, account: dict) -> None:
        account["row"] = len(self.scores)
        self.disagree += (account["via"] is not None) != account["fires"]
        self.accounts.append(account)


LINES = ("count", "best", "score", "z", "tail_week", "tail_month", "bar", "busy", "span", "record")


def closest(accounts: list[dict]) -> dict | None:
    """The bucket that came nearest to alerting: the most gates passed, then the largest margin."""
    return max(accounts, key=lambda a: (stage(a), margin(a), a["best"]), default=None)


def why_missed(accounts: list[dict], span: tuple[int, int]) -> dict:
    """Why nothing alerted in rows span[0]..span[1]: the gate that held the closest bucket
    ("episode open": it fired inside an open episode), its score against each line, the highest
    best score and score in the span, and how many of the span's judged buckets each gate held."""
    inside = [a for a in accounts if span[0] <= a["row"] <= span[1]]
    near = closest(inside)
    return {"gate": near and ("episode open" if near["via"] else near["gate"]),
            "best_max": max((a["best"] for a in inside), default=0.0),
            "score_max": max((a["score"] for a in inside), default=0.0),
            "at": {"row": near["row"], **{k: near[k] for k in LINES}} if near else None, "held": _held(inside)}


def _held(inside: list[dict]) -> dict[str, int]:
    """How many of these accounts each gate held ("episode open": fired inside an open episode)."""
    held: dict[str, int] = {}
    for a in inside:
        gate = "episode open" if a["via"] else a["gate"]
        held[gate] = held.get(gate, 0) + 1
    return held


def why_late(accounts: list[dict], visible: int, onset: int) -> dict:
    """Why a caught surge paged at row `onset` and not at row `visible` (where it could first be told
    from noise): the delay in rows after visible (1 = paged in the row it became visible, as
    bench/surge_eval.py counts it) and how many accounts of rows visible..onset-1 each gate held. The
    accounts are counted by the row that judged them (Collector): a row holds its own open bucket's
    and the previous bucket's closed one, so the count takes in the closed bucket just before
    `visible` and leaves out bucket onset-1's closed one (judged in the paging row); the total
    is the same (two accounts a row where both buckets are judged)."""
    inside = [a for a in accounts if visible <= a["row"] < onset]
    return {"delay": max(1, onset - visible + 1), "held": _held(inside)}


def why_fired(accounts: list[dict], row: int) -> dict:
    """How the alert flagged at `row` fired (`via`) and its score against each line."""
    a = next((a for a in accounts if a["row"] == row and a["alert"]), None)
    return {"via": a["via"] if a else None, "at": {k: a[k] for k in LINES} if a else None}


def best_by_row(accounts: list[dict]) -> dict[int, float]:
    """Each replayed row's highest best score (a row may hold an open and a closed account)."""
    best: dict[int, float] = {}
    for a in accounts:
        best[a["row"]] = max(best.get(a["row"], 0.0), a["best"])
    return best


def history(best: dict[int, float], onsets: list[int], row: int, per_day: int) -> dict:
    """What the subject did before the alert at `row` (`best`: best_by_row; `onsets`: every alert
    row; `per_day`: rows per day): the loudest best score of the previous day and 7 days (the last
    hour left out: the alert's own rise), how many of the previous 7 days of the series held a row as
    loud as this alert, its alerts in the previous day and 7 days, hours since the last one, and
    the alert's score against them."""
    hour, score = max(1, per_day // 24), best.get(row, 0.0)

    def loudest(days: int) -> float:
        lo = max(0, row - days * per_day)
        return max((best.get(r, 0.0) for r in range(lo, max(lo, row - hour))), default=0.0)

    day = row // per_day
    days_as_loud = sum(max((best.get(r, 0.0) for r in range(k * per_day, (k + 1) * per_day)), default=0.0) >= score
                       for k in range(max(0, day - 7), day))
    before = [i for i in onsets if row - 7 * per_day <= i < row]
    return {"loudest_1d": round(loudest(1), 3), "loudest_7d": round(loudest(7), 3), "days_as_loud": days_as_loud,
            "alerts_1d": sum(i >= row - per_day for i in before), "alerts_7d": len(before),
            "hours_since_alert": round((row - before[-1]) * 24 / per_day, 1) if before else None}


def run_past(best: dict[int, float], row: int, line: float) -> int:
    """How many rows in a row, from `row`, kept a best score at or past `line`."""
    n = 0
    while best.get(row + n, 0.0) >= line:
        n += 1
    return n
