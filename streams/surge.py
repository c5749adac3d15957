"""Surge detection core: per-subject event-time bucket counts against what this subject usually
does at this hour (streams.surge_model: variance-stabilised level, daily and weekly rhythm, the
subject's own noisiness). Pure: no faust, Kafka or network import; the clock is passed in.
Reads no settings; SurgeParams come from the rules file (alerting.rules) or the backtest command.

The surge rule judges windows of 1, 3 and 12 times `window_buckets` ending at each bucket: a window
fires when its count reaches `min_count`, `ratio` x its usual count, and `z` x the subject's usual
spread above it (on the stabilised scale); a window's largest bucket is capped at its second largest
(persistence: a one-bucket blip cannot carry it) and a one-bucket window needs `single_factor` x z.
The subject's own tail: a window fires only when its score also beats `tail_factor` x the
subject's usual daily peak (the second-highest of its daily peak scores over the last `tail_days`
days; buckets inside an episode or its refractory period do not count), so a burst that happens
every day, however many spreads it is, is not news; and `tail_memory_factor` x the second-highest
daily peak of the last `tail_memory_days` (a month: a burst this subject has every other week is
not news either). The record gate (streams.surge_gates): a bucket whose count is above
`record_factor` x the subject's highest bucket of the last `record_days` days fires whatever the
spreads, persistence, daily peaks or refractory bar say. One alert per episode; the episode holds while
the window length that fired stays `hold_z` above usual and resolves after `quiet` buckets that do
not. After an episode a new one needs `escalation` x that episode's peak score, a bar that halves
every `refractory` buckets (aftershocks of the same story stay quiet, a bigger wave pages); a
subject in warm-up pages at most once per `refractory`. A busy subject (`busy_pages` pages in
`busy_days`) gets `busy_escalation` and `busy_refractory` instead (streams.surge_busy); a window
past its span record (`span_factor` x its length's highest quiet count of past days) faces either
bar without the escalation (streams.surge_span). A low-volume subject (under `rare_rate` mentions an
hour, whole counts) also pages when a window's count is rarer than `rare_z` under Poisson noise and
than its usual daily peak rarity, past no spread or bar (streams.surge_rare). streams.surge_why
explains each judged bucket's gates to a `trace` callback, when one is passed (bench/surge_why.py).

The per-subject state is a JSON-serialisable plain dict (it lives in a Faust table keyed by subject):
  start    bucket index of counts[0]  (bucket index = floor(epoch seconds / bucket_s))
  counts   [[count, negative, usual], ...]; usual < 0 until the bucket is first judged
  ids      {bucket index: {post id: 1}} for the posts counted there, while in the grace period
  born     first bucket this subject was seen in; done: last closed bucket evaluated
  model    streams.surge_model state; folded: last bucket folded into it
  episodes {rule: {"since": idx, "quiet": n, "scale": k}}: one alert per episode
  onset    [bucket, peak score] of the last surge episode (refractory); peaks [day, today's peak, [past]]
  records  [day, today's highest bucket, [past days' highest]] (the record gate; only when it is on)
  pages    the last `busy_pages` surge onsets (streams.surge_busy; only when it is on)
  spans    [day, today's highest judged count per window length or None, [past days']] (streams.surge_span)
  rrate    [[raw mean per hour of day], [buckets in each], mean over all hours, buckets] (streams.surge_rare)
  rare     [day, today's highest rarity or None, [past days']]; frac: a non-whole count was seen
  rfast    the raw level of the last hours; rare_onset: [bucket, peak rarity] of a low-volume page
           (its episode then has "rare": 1 and also holds on rarity) (streams.surge_rare)
  samples  [[idx, sample-json, produced_at-iso|None], ...]; late: events dropped after the grace
  devs     {bucket index: [d per window length]} judged at close, taught to the model after the grace
  open, open_full, free, need: caches for the open bucket (the closed part of its windows, and the
           smallest counts at which it could fire without and with the learned spreads); derived
           from the rest and rebuilt whenever their key (bucket, done, model update, episode) moves
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from streams import surge_bounds as bounds
from streams import surge_busy as busy_
from streams import surge_confirm as confirm_
from streams import surge_gates as gates
from streams import surge_model as model_
from streams import surge_rare as rare_
from streams import surge_samples as samples_
from streams import surge_span as span_
from streams import surge_why as why_
from streams.records import Mention, SamplePost, Surge
from streams.surge_params import SurgeParams    # the parameters live there; imported from here too

RELATIVE_RULES = ("surge", "negative_surge")
Sample = SamplePost | Mention        # a sample post: anything with SamplePost's fields
STATE_VERSION = 3                    # a state of another version (an older detector's) is relearned


@dataclass(frozen=True)
class SurgeSignal:
    rule: str
    severity: str
    status: str                      # "firing" | "resolved"
    window_start: datetime
    window_end: datetime
    count: int
    baseline: float                  # the usual count of this window at this hour
    negative_share: float
    samples: tuple[SamplePost, ...] = ()
    first_produced_at: datetime | None = None
    trend: tuple[int, ...] = ()      # bucket counts, oldest first, ending with the window
    score: float = 0.0               # how many of the subject's usual spreads above usual
    since: datetime | None = None    # when the episode started
    peak: float = 0.0                # the subject's usual daily peak score, which this one beat
    record: float = 0.0              # the recent highest bucket this one's bucket more than doubled
                                     # (record_factor x it: the record gate), 0 when it did not

    def to_surge(self, subject: str, detected_at: datetime) -> Surge:
        return Surge(subject=subject, rule=self.rule, severity=self.severity, status=self.status,
                     window_start=self.window_start, window_end=self.window_end, count=self.count,
                     baseline=self.baseline, negative_share=self.negative_share,
                     samples=list(self.samples), trend=list(self.trend), detected_at=detected_at,
                     first_produced_at=self.first_produced_at, score=self.score, since=self.since,
                     peak=self.peak or None, record=self.record or None)


def _epoch(t: datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()


def _index(t: datetime, p: SurgeParams) -> int:
    return math.floor(_epoch(t) / p.bucket_s)


def _at(idx: int, p: SurgeParams) -> datetime:
    return datetime.fromtimestamp(idx * p.bucket_s, timezone.utc)


def _bucket(state: dict, i: int) -> list:
    j = i - state["start"]
    return state["counts"][j] if 0 <= j < len(state["counts"]) else [0, 0, -1]


def _negatives(state: dict, lo: int, hi: int) -> float:
    """The negative mentions of buckets lo .. hi: the same sum in the same order as over
    `_bucket(state, i)[1]`, from a slice when every bucket is stored."""
    start, counts = state["start"], state["counts"]
    if start <= lo and hi < start + len(counts):
        return sum([c[1] for c in counts[lo - start:hi - start + 1]])
    return sum(_bucket(state, i)[1] for i in range(lo, hi + 1))


def _touch(state: dict, i: int) -> list:
    if i < state["start"]:
        state["counts"][:0] = [[0, 0, -1] for _ in range(state["start"] - i)]
        state["start"] = i
    while i - state["start"] >= len(state["counts"]):
        state["counts"].append([0, 0, -1])
    return state["counts"][i - state["start"]]


def _new_state(idx: int, p: SurgeParams) -> dict:
    return {"v": STATE_VERSION, "start": idx, "counts": [], "ids": {}, "born": idx, "done": idx - 1,
            "model": model_.new_model(len(p.windows)), "folded": idx - 1, "episodes": {}, "samples": [],
            "late": 0, "redelivered": 0, "score": 0.0, "onset": [-10**12, 0.0], "peaks": [0, None, []], "seen": idx}


def is_late(state: dict | None, event_time: datetime, now: datetime, params: SurgeParams) -> bool:
    """True when an event is past the grace period and would not be counted."""
    return _late(state, _index(event_time, params), _epoch(now), params)


def _late(state: dict | None, idx: int, now_s: float, p: SurgeParams) -> bool:
    return (idx + 1) * p.bucket_s + p.grace_s < now_s or (bool(state) and idx < state["start"])


def observe(state: dict | None, event_time: datetime, negative: bool, sample: Sample | None,
            now: datetime, params: SurgeParams, *, produced_at: datetime | None = None,
            post_id: str | None = None) -> tuple[dict, list[SurgeSignal]]:
    """Count one mention of the subject and return the new state plus any surge signals. With
    `post_id`, a redelivered mention (same post, same bucket, within the grace period) counts once."""
    return observe_many(state, event_time, 1, int(negative), [sample] if sample else [], now, params,
                        produced_at=produced_at, post_ids=[post_id] if post_id else None)


def observe_many(state: dict | None, event_time: datetime, count: float, negative_count: float,
                 samples: list[Sample], now: datetime, params: SurgeParams, *,
                 produced_at: datetime | None = None, post_ids: list[str] | None = None,
                 trace: why_.Trace | None = None) -> tuple[dict, list[SurgeSignal]]:
    """Count `count` mentions in one bucket at once (the backtest feeds per-bucket counts).
    `post_ids` (one per mention) makes the count idempotent under redelivery. `trace`, if given,
    receives streams.surge_why's account of each judged bucket (which gate held or passed it)."""
    p = params
    now_s = _epoch(now)
    cur = math.floor(now_s / p.bucket_s)
    raw = math.floor(_epoch(event_time) / p.bucket_s)
    idx = min(raw, cur)
    if not (state and state.get("v") == STATE_VERSION):
        # a subject is born when it is first seen: a late first mention (an old post, an edit)
        # is dropped as late, not taken as the start of the subject's life
        state = _new_state(cur if _late(None, raw, now_s, p) else idx, p)
    if _late(state, raw, now_s, p):
        state["late"] += count
        return _run(state, cur, p, touched=None, trace=trace)
    if post_ids is not None:
        fresh = _fresh(state, idx, post_ids, p, ahead=raw > cur)
        if len(fresh) < len(post_ids):
            state["redelivered"] += len(post_ids) - len(fresh)
            if not fresh:
                return _run(state, cur, p, touched=None, trace=trace)
            negative_count = negative_count * len(fresh) / len(post_ids)
            count = len(fresh)
            samples = [s for s in samples if s.post_id in fresh]
    bucket = _touch(state, idx)
    bucket[0] += count
    state["seen"] = max(state.get("seen", idx), idx)       # the last bucket a mention was counted in
    if abs(count - round(count)) > 1e-6:
        state["frac"] = True                   # measurements, not counts: no Poisson rarity
    bucket[1] += negative_count
    samples_.keep_samples(state, idx, samples, produced_at, cur, p)
    return _run(state, cur, p, touched=idx, trace=trace)


def observe_mentions(state: dict | None, mentions: list[Mention], now: datetime, params: SurgeParams
                     ) -> tuple[dict | None, list[SurgeSignal]]:
    """One subject's batch of `mentions` records as the detect_surges agent receives them: ticks
    evaluate, mentions count once per post (a batch redelivered after a rebalance adds nothing)."""
    signals: list[SurgeSignal] = []
    now_s = _epoch(now)
    for m in mentions:
        if m.kind == "tick":
            state, found = tick(state, now, params)
        elif state and _count_quietly(state, m, now_s, params):
            continue
        else:
            # the mention is its own sample: it has a SamplePost's fields (no copy per mention)
            state, found = observe(state, m.published_at, m.sentiment_label == "negative", m, now, params,
                                   produced_at=m.produced_at, post_id=m.post_id)
        signals.extend(found)
    return state, signals


def _count_quietly(state: dict, m: Mention, now_s: float, p: SurgeParams) -> bool:
    """Count mention `m` in the open bucket of a live subject when nothing else can happen: what
    `observe` does in the common case, minus the steps that would do nothing (no bucket to close,
    fold or trim; no redelivery; the cached bound says the open bucket cannot fire yet). False, with
    the state untouched, when `observe` must take it (or when the count reaches the bound)."""
    bucket_s = p.bucket_s
    cur = math.floor(now_s / bucket_s)
    free = state.get("free")
    if not free or free[0] != cur or state.get("v") != STATE_VERSION:
        return False
    done, start, counts, at = state["done"], state["start"], state["counts"], m.published_at
    if (done != cur - 1 or free[1] != done or free[2] != state["onset"][0] or not m.post_id
            or free[3] != ("surge" in state["episodes"]) or cur - p.grace_buckets - 1 > state["folded"]
            or cur - p.kept_buckets + 1 > start or not 0 <= cur - start < len(counts)
            or math.floor((at.timestamp() if at.tzinfo else _epoch(at)) / bucket_s) != cur):
        return False
    ids = state["ids"]
    seen = ids.get(str(cur))
    bucket = counts[cur - start]
    x = bucket[0] + 1
    if seen is None or m.post_id in seen or (x >= free[5] and free[6] + bucket[1] + 1 >= p.negative_min_count):
        return False
    if x >= free[4]:                     # past the spread-free bound: the spread-aware one decides
        need = state.get("need")
        if (not need or need[0] != cur or need[1] != done or need[2] != state["model"]["n"]
                or need[3] != free[2] or need[4] != free[3] or x >= need[5]):
            return False
    seen[m.post_id] = 1
    _bound_ids(ids, p)
    bucket[0] += 1
    bucket[1] += int(m.sentiment_label == "negative")
    samples_.keep_one(state, cur, m, m.produced_at, cur, p)
    return True


def _fresh(state: dict, idx: int, post_ids: list[str], p: SurgeParams,
           ahead: bool = False) -> set[str] | tuple[str, ...]:
    """The post ids not yet counted in bucket `idx`; records them. Ids are kept per bucket until
    the bucket is past its grace period (a redelivery after that is dropped as late anyway).
    `ahead`: the posts are dated ahead of the clock, so counted in whichever bucket is open when they
    come: one redelivered after the open bucket moved on is looked for in every kept bucket."""
    ids = state["ids"]
    if ahead:
        post_ids = [i for i in post_ids if not any(i in kept for kept in ids.values())]
        if not post_ids:
            return ()
    seen = ids.get(str(idx))
    if seen is None:
        seen = ids[str(idx)] = {}
    if len(post_ids) == 1:                   # one mention (the agent's path): no set to build
        if post_ids[0] in seen:
            return ()
        seen[post_ids[0]] = 1
        fresh: set[str] | tuple[str, ...] = (post_ids[0],)
    else:
        fresh = {i for i in post_ids if i not in seen}
        seen.update(dict.fromkeys(sorted(fresh), 1))
    _bound_ids(ids, p)
    return fresh


def _bound_ids(ids: dict, p: SurgeParams) -> None:
    if len(ids) > 1:
        total = sum(map(len, ids.values()))
        while total > p.max_ids and len(ids) > 1:       # bounded memory: oldest bucket first
            oldest = min(ids, key=int)
            total -= len(ids.pop(oldest))


def dormant(state: dict | None, now: datetime, params: SurgeParams) -> bool:
    """Whether a subject need not be ticked: no mention counted for `dormant_days` and no open
    episode. A subject taken off the watch list (or a major event's subject after the event) would
    otherwise be ticked, and its state rewritten, every minute for ever. Its state is kept: when it
    speaks again the mention catches up (at most two days of buckets are taught, streams.surge._fold)
    and it is judged warm, against the history it had."""
    if not params.dormant_days or not state or state.get("v") != STATE_VERSION or state["episodes"]:
        return False
    seen = state.get("seen")
    return seen is not None and _index(now, params) - seen > params.dormant_days * 86400 // params.bucket_s


def tick(state: dict | None, now: datetime, params: SurgeParams) -> tuple[dict, list[SurgeSignal]]:
    """Evaluate the buckets that closed since the last call (episodes resolve even with no events)."""
    if not state or state.get("v") != STATE_VERSION:      # none yet, or the old detector's: relearn
        return {}, []
    cur = _index(now, params)
    state.setdefault("seen", cur)          # a state from before `seen` was kept: as if seen now
    return _run(state, cur, params, touched=None)


# --- evaluation --------------------------------------------------------------------------------

def _usual(state: dict, i: int, p: SurgeParams) -> float:
    b = _bucket(state, i)
    if b[2] >= 0:
        return b[2]
    value = model_.usual(state["model"], i, p.bucket_s)
    if state["start"] <= i < state["start"] + len(state["counts"]):
        b[2] = round(value, 4)
    return value


def _parts(state: dict, end: int, p: SurgeParams, upto: int) -> tuple[list[list], bool]:
    """Per window length ending at `end`: [count, usual, top k counts, buckets] over its buckets
    <= upto (one backward pass serves all lengths, shortest first), and whether every bucket was
    stored (a bucket past the stored ones has a usual count that moves with the model)."""
    start, stored, k = state["start"], state["counts"], p.persist_buckets
    last = start + len(stored) - 1
    out, count, usual, top, i, full = [], 0.0, 0.0, [], upto, True
    for length in p.windows:
        lo = max(end - length + 1, min(state["born"], end))    # nothing before the subject existed
        while i >= lo and (i > last or i < start):            # not stored: the model's guess
            usual += _usual(state, i, p)
            full = False
            i -= 1
        if i >= lo:                                            # stored buckets i .. max(lo, start)
            low = max(lo, start)
            floor = top[-1] if len(top) >= k else -math.inf       # what enters the top k
            j = i
            for x, _, u in reversed(stored[low - start:i - start + 1]):
                usual += u if u >= 0 else _usual(state, j, p)
                count += x
                j -= 1
                if x > floor:
                    if k == 2 and len(top) == 2:               # persistence 2 (the packaged rules):
                        top[0], top[1] = (x, top[0]) if x > top[0] else (top[0], x)   # as the sort
                        floor = top[1]
                        continue
                    top.append(x)
                    top.sort(reverse=True)                     # stable: a tie keeps the one met first
                    del top[k:]
                    floor = top[-1] if len(top) >= k else -math.inf
            i = low - 1
            while i >= lo:                                     # before the first stored bucket
                usual += _usual(state, i, p)
                full = False
                i -= 1
        out.append([float(count), usual, list(top), upto + 1 - lo])
    return out, full


def _windows(state: dict, end: int, p: SurgeParams, open_: bool = False) -> list[tuple[float, float, float, float]]:
    """Per window length: (count, judged count, usual count, d on the stabilised scale): the
    closed part of each window (buckets before `end`) plus bucket `end`. The closed part is cached
    in the state while `end` is the open bucket (one mention costs O(1)) and reused when it closes."""
    k = p.persist_buckets
    cached = state.get("open")
    if cached and cached[0] == end and (open_ or state.get("open_full")):
        parts = cached[1]
    else:
        parts, full = _parts(state, end, p, end - 1)
        if open_:
            state["open"], state["open_full"] = [end, parts], full
    j = end - state["start"]
    stored = 0 <= j < len(state["counts"])
    x = state["counts"][j][0] if stored else 0
    now_usual = _usual(state, end, p)
    out = []
    for count, usual, top, n in parts:
        if open_ or stored:                 # a closed bucket past the stored ones is not a count
            judged = bounds.judged_with(x, count, top, n, p)
            count, usual = count + x, usual + now_usual
        else:
            count, usual, n = count + x, usual + now_usual, n + 1
            judged = bounds.judge(count, top, k) if n >= k else count
        out.append((count, judged, usual, model_.stabilise(judged) - model_.stabilise(usual)))
    return out


def _verdicts(state: dict, end: int, wins, neg: float, strict: float, p: SurgeParams
              ) -> tuple[dict[str, tuple[bool, bool, str]], float, int, float, tuple[float | None, bool, bool, float]]:
    """rule -> (fires, holds, severity), the score, the window length number that fired, the best
    surge score (over the windows that pass min_count and ratio, one-bucket ones / single_factor) and
    (the rarest window's rarity, None unless low-volume; whether the rarity path fired; whether the
    confirmation held the window; the line the best score faced: z and the tail line)."""
    model = state["model"]
    scores, fired, best = [], None, 0.0
    episode = state["episodes"].get("surge")
    last = state.get("last_episode", -10**12)
    ends = [end - length >= last for length in p.windows]   # a window holding the last episode starts none
    spreads = model_.spreads(model, end, p.bucket_s)
    for n, (length, (count, judged, usual, d)) in enumerate(zip(p.windows, wins)):
        z = d / spreads[n]
        scores.append(z)
        if not ends[n]:
            continue
        if judged >= p.min_count and judged >= p.ratio * usual:
            z /= p.single_factor if length == 1 and p.persist_buckets > 1 else 1.0
            if z > best:
                fired, best = n, z
    line = max(p.z * strict, gates.tail_line(state, p))
    confirming = fired is not None and best >= line and confirm_.held(state, end, best, line, p)
    if fired is not None and (best < line or confirming):
        fired = None
    warm = end - state["born"] >= p.warmup_buckets
    count, usual = wins[0][0], wins[0][2]
    if not warm:
        fired = 0 if p.new_subject_min_count is not None and count >= p.new_subject_min_count else None
    if fired is not None and (gates.in_refractory(state, end, p) and not warm or best < span_.bar(state, end, wins, p)):
        fired = None
    rare_at, rare = rare_.fires(state, end, wins, ends, p) if warm else (None, None)
    by_rarity = fired is None and rare_at is not None and episode is None
    if by_rarity:                             # a low-volume subject's rare count: no spread or bar
        fired = rare_at
    held = episode["scale"] if episode else 0
    score = max(scores)
    if warm and fired is None and episode is None and gates.record_beaten(state, _bucket(state, end)[0], count, p):
        fired, best = 0, max(best, score)     # a record bucket: no spread, daily peak or refractory bar
    severity = "critical" if count >= p.critical_ratio * max(usual, p.min_count / 2) else "warning"
    share = neg / count if count else 0.0
    neg_line = max(p.negative_share, model["neg"] + p.negative_margin)
    out = {
        "surge": (fired is not None, scores[min(held, len(scores) - 1)] >= p.hold_z
                  or bool(episode and episode.get("rare") and rare_.holds(state, end, wins, held, p)), severity),
        "negative_surge": (warm and neg >= p.negative_min_count and share >= neg_line
                           and wins[0][1] >= p.negative_ratio * usual,
                           neg >= p.negative_min_count / 2 and share >= 0.8 * neg_line, "critical"),
    }
    if p.threshold is not None:
        out["threshold"] = (count >= p.threshold, count >= 0.8 * p.threshold, p.threshold_severity)
    return out, score, fired or 0, best, (rare, by_rarity, confirming, line)

def _evaluate(state: dict, end: int, p: SurgeParams, closed: bool, signals: list,
              trace: why_.Trace | None = None) -> None:
    """Judge the windows ending at bucket `end`; an open (partial) window may only start episodes."""
    wins = _windows(state, end, p, open_=not closed and end > state["done"])
    neg = _negatives(state, end - p.window_buckets + 1, end)
    x = _bucket(state, end)[0]             # judging and learning leave the counts as they are
    young = (end - state["born"] + 1) * p.bucket_s < 86400     # the daily rhythm is still a guess
    strict = p.young_factor if young else 1.0
    verdicts, score, scale, best, (rare, by_rarity, confirming, line) = _verdicts(state, end, wins, neg, strict, p)
    if trace is not None:                  # before this bucket teaches the gates anything
        trace(why_.explain(state, end, x, wins, strict, closed, verdicts["surge"][0], p))
    record = gates.record_line(state, p)                       # before this bucket teaches it
    beaten = record / p.record_factor if record is not None and x > record else 0.0
    episodes = state["episodes"]
    if closed or end <= state["done"]:         # closing, or a late mention re-judging a closed bucket
        confirm_.learn(state, end, best, line, p)
    if closed:
        state["score"] = round(score, 2)
        state.setdefault("devs", {})[str(end)] = [w[3] for w in wins]    # for _fold, unless a late event
        quiet = (not verdicts["surge"][0] and "surge" not in episodes and not gates.in_refractory(state, end, p)
                 and not confirming)
        gates.learn_peak(state, end, best if quiet else None, p)
        if p.rare_rate:
            rare_.learn(state, end, rare if quiet else None, p)     # None: not low-volume, teaches nothing
            rare_.learn_fast(state, x, p)
            if quiet:
                rare_.learn_rate(state, end, x, p)
        if p.record_factor:
            gates.learn_record(state, end, x, p)
        if p.span_factor:
            span_.learn(state, end, [w[1] for w in wins] if quiet else None, p)
        if "surge" in episodes:            # escalation is measured against the episode's peak
            state["onset"][1] = max(state["onset"][1], round(score, 3))
            if episodes["surge"].get("rare") and rare is not None:
                state["rare_onset"][1] = max(state["rare_onset"][1], round(rare, 3))
    count, usual = int(round(wins[0][0])), wins[0][2]
    for rule in sorted(episodes.keys() - verdicts.keys()):      # sorted: signals in a fixed order
        # an episode of a rule the current parameters no longer have (a major event's threshold,
        # after the event): it neither fires nor holds, so it resolves after `quiet` buckets
        verdicts[rule] = (False, False, episodes[rule]["severity"])
    for rule, (fires, holds, severity) in verdicts.items():
        episode = episodes.get(rule)
        if episode is None and fires:
            episodes[rule] = {"since": end, "quiet": 0, "severity": severity, "scale": scale}
            if rule == "surge":
                state["onset"] = [end, round(best, 3)]
                busy_.learn_page(state, end, p)
                if rare is not None:          # a low-volume subject: its episode also holds on rarity,
                    episodes[rule]["rare"] = 1    # and a rarity page within hours must beat this one
                    state["rare_onset"] = [end, round(rare, 3)]
            rarity = rule == "surge" and by_rarity        # shown with its rarity and the usual daily peak rarity
            signals.append(_signal(state, rule, severity, "firing", end, count, neg, usual,
                                   max(score, rare) if rarity else score, end, p,
                                   record=beaten if rule == "surge" else 0.0,
                                   peak=rare_.usual_peak(state, p) if rarity else None))
        elif episode is not None and closed:
            if rule == "surge":
                state["last_episode"] = end
            episode["quiet"] = 0 if holds else episode["quiet"] + 1
            if episode["quiet"] >= p.quiet:
                del episodes[rule]
                signals.append(_signal(state, rule, episode["severity"], "resolved", end, count, neg, usual,
                                       score, episode["since"], p))


def _signal(state: dict, rule: str, severity: str, status: str, end: int, count: int, neg: float,
            usual: float, score: float, since: int, p: SurgeParams, record: float = 0.0,
            peak: float | None = None) -> SurgeSignal:
    lo = end - p.window_buckets + 1
    inside = [s for s in state["samples"] if lo <= s[0] <= end]
    picked, seen = [], set()
    for s in inside[:1] + inside[::-1]:          # the first publisher, then the latest posts
        if s[1]["post_id"] not in seen and len(picked) < p.max_samples:
            seen.add(s[1]["post_id"])
            picked.append(SamplePost.model_validate(s[1]))
    produced = [datetime.fromisoformat(s[2]) for s in inside if s[2]]
    trend = tuple(int(round(_bucket(state, i)[0])) for i in range(end - 2 * p.window_buckets + 1, end + 1))
    return SurgeSignal(rule, severity, status, _at(lo, p), _at(end + 1, p), int(count), round(usual, 2),
                       round(neg / count, 3) if count else 0.0, tuple(picked),
                       min(produced) if produced else None, trend, round(score, 2),
                       _at(since - p.window_buckets + 1, p),
                       round(gates.usual_peak(state, p.tail_days) if peak is None else peak, 2),
                       round(record, 2))


def _fold(state: dict, final: int, p: SurgeParams) -> None:
    """Teach the model every bucket past the grace period (at most two days of them at once)."""
    if final <= state["folded"]:
        return
    first = max(state["folded"] + 1, final - 2 * 86400 // p.bucket_s, state["born"])
    in_episode = "surge" in state["episodes"]
    devs = state.setdefault("devs", {})
    for i in range(first, final + 1):
        d = devs.get(str(i)) or [w[3] for w in _windows(state, i, p)]
        b = _bucket(state, i)
        model_.learn(state["model"], i, b[0], b[1], d, p.bucket_s, in_episode)
    state["folded"] = max(state["folded"], final)
    for key in [k for k in devs if int(k) <= final]:
        del devs[key]
    for key in [k for k in state["ids"] if int(k) <= final]:
        del state["ids"][key]


def _least_open_count(state: dict, cur: int, p: SurgeParams, spreads: bool = True) -> tuple[float, float]:
    """The smallest count of open bucket `cur` at which the surge or threshold rule could fire, and
    the negative_surge rule (lower bounds: the refractory period and a young subject's strictness
    are left out; with spreads=False also the z line, so the bound holds whatever the model learns)."""
    cached = state.get("open")
    if not cached or cached[0] != cur:                  # the cached closed part, as _windows builds it
        parts, full = _parts(state, cur, p, cur - 1)
        state["open"], state["open_full"] = [cur, parts], full
    parts, now_usual = state["open"][1], _usual(state, cur, p)
    count0, usual0, top0, buckets0 = parts[0]
    need = p.threshold - count0 if p.threshold is not None else math.inf
    if cur - state["born"] < p.warmup_buckets:
        if p.new_subject_min_count is not None and "surge" not in state["episodes"]:
            need = min(need, p.new_subject_min_count - count0)
        return need, math.inf
    need_negative = bounds.least_x(count0, top0, buckets0, p.negative_ratio * (usual0 + now_usual), p)
    if "surge" in state["episodes"]:
        return need, need_negative
    record = gates.record_line(state, p)
    if record is not None:                               # the record gate fires past it
        need = min(need, math.floor(record))
    line = max(p.z, gates.tail_line(state, p)) if spreads else None
    widths = model_.spreads(state["model"], cur, p.bucket_s) if spreads else None
    last = state.get("last_episode", -10**12)
    rare_floor = rare_.low_volume(state, p)
    for n, (length, (count, usual, top, buckets)) in enumerate(zip(p.windows, parts)):
        if cur - length < last:
            continue
        at_least = max(p.min_count, p.ratio * (usual + now_usual))
        if rare_floor:                                  # the rarity path's floor (no closed form past it)
            need = min(need, bounds.least_x(count, top, buckets, p.rare_min_count, p))
        if spreads:
            scale = p.single_factor if length == 1 and p.persist_buckets > 1 else 1.0
            target = model_.stabilise(usual + now_usual) + line * scale * widths[n]
            at_least = max(at_least, (target / 2) ** 2 - 0.375)
        need = min(need, bounds.least_x(count, top, buckets, at_least, p))
    return need, need_negative


def _may_fire(state: dict, cur: int, x: float, p: SurgeParams) -> bool:
    """Whether open bucket `cur` at count x could fire a rule. Two bounds, each computed once per
    bucket: `free` leaves the learned spreads out (it survives the model's update at the bucket's
    start) and carries the negative rule's bound and the negatives of the window so far; `need`
    adds the spreads and is computed only for counts past `free`."""
    if x <= 0:                     # an empty open bucket is judged once, as before a first mention
        return True
    in_episode = "surge" in state["episodes"]
    free = state.get("free")
    if (not free or free[0] != cur or free[1] != state["done"] or free[2] != state["onset"][0]
            or free[3] != in_episode):
        negatives = _negatives(state, cur - p.window_buckets + 1, cur - 1)
        free = state["free"] = [cur, state["done"], state["onset"][0], in_episode,
                                *_least_open_count(state, cur, p, spreads=False), negatives]
    if x >= free[5] and free[6] + _bucket(state, cur)[1] >= p.negative_min_count:
        return True
    if x < free[4]:
        return False
    need = state.get("need")
    if (not need or need[0] != cur or need[1] != state["done"] or need[2] != state["model"]["n"]
            or need[3] != state["onset"][0] or need[4] != in_episode):
        need = state["need"] = [cur, state["done"], state["model"]["n"], state["onset"][0], in_episode,
                                _least_open_count(state, cur, p)[0]]
    return x >= need[5]


def _run(state: dict, cur: int, p: SurgeParams, touched: int | None,
         trace: why_.Trace | None = None) -> tuple[dict, list[SurgeSignal]]:
    signals: list[SurgeSignal] = []
    if touched is not None and touched <= state["done"]:
        state["open"] = state["need"] = state["free"] = None     # the cached closed part changed
        for key in [k for k in state.get("devs", {}) if int(k) >= touched]:
            del state["devs"][key]                        # and so did the windows over it
        _evaluate(state, touched, p, False, signals, trace)     # a late event inside an evaluated window
    if state["done"] < cur - 1:
        for end in range(max(state["done"] + 1, cur - p.windows[-1] - p.quiet - 1), cur):
            _evaluate(state, end, p, True, signals, trace)
        state["done"] = cur - 1
    cached, x = state.get("open"), _bucket(state, cur)[0]
    # the open bucket is re-judged only once its count can fire a rule (a bound computed once per
    # bucket), then when its count grew by 5 % (at least one) since it was last judged: counting a
    # mention is O(1) until the subject is near its line
    if not _may_fire(state, cur, x, p):
        pass
    elif not cached or cached[0] != cur or len(cached) < 3 or x >= cached[2] + max(1.0, 0.05 * cached[2]):
        _evaluate(state, cur, p, False, signals, trace)
        if state.get("open") and state["open"][0] == cur:
            state["open"][2:] = [x]
    if cur - p.grace_buckets - 1 > state["folded"]:
        _fold(state, cur - p.grace_buckets - 1, p)
    drop = cur - p.kept_buckets + 1 - state["start"]
    if drop > 0:
        del state["counts"][:drop]
        state["start"] += drop
    return state, signals
