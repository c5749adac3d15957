"""Detection cost per mention: `streams.surge.observe_mentions` as the detect_surges agent calls it
(decoded `Mention` records, built before the clock starts: decoding is not detection), one mention
per call (the agent's smallest batch), over generated mention streams, 60 s buckets, no Kafka or
table I/O.

    .venv/bin/python bench/surge_cost.py               # 20 subjects x 6 h at 1-20 mentions/min
    .venv/bin/python bench/surge_cost.py busy          # 4 subjects x 1 h at 100-500 mentions/min
    .venv/bin/python bench/surge_cost.py long          # 5 subjects x 3 days at 1-20 mentions/min
    .venv/bin/python bench/surge_cost.py defaults      # SurgeParams() defaults instead of the rules

The detector runs with the packaged rules' surge section (alerting/default_rules.yml, what the
worker runs; sessions 7-12 patched them in with a throw-away wrapper), or `SurgeParams()` defaults
with `defaults`.

Reports microseconds per mention (CPU time of this process: the shared machine's load does not
count; wall clock alongside) including the per-bucket model updates and
the episode logic; also the cost of one JSON round trip of the largest state (the agent writes a
subject's state to its table once per batch, not per mention); last line one JSON object.
"""
from __future__ import annotations

import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerting.rules import load_rules  # noqa: E402
from streams.records import Mention  # noqa: E402
from streams.surge import SurgeParams, observe_mentions  # noqa: E402

T0 = datetime(2025, 3, 3, tzinfo=timezone.utc)


def stream(subjects: int, hours: int, seed: int = 1, per_min: tuple[float, float] = (1, 20)):
    """(time, subject, post id, negative) in time order; a few subjects surge for 20 minutes."""
    rng = random.Random(seed)
    rates = [rng.uniform(*per_min) / 60 for _ in range(subjects)]          # per second
    events = []
    for s, rate in enumerate(rates):
        t, n = 0.0, 0
        while t < hours * 3600:
            surge = 3 if s % 5 == 0 and hours / 2 * 3600 <= t < hours / 2 * 3600 + 1200 else 1
            t += rng.expovariate(rate * surge)
            events.append((t, f"subject-{s}", f"{s}-{n}", rng.random() < 0.2))
            n += 1
    events.sort()
    return events


def main() -> int:
    defaults = "defaults" in sys.argv[1:]
    params = SurgeParams() if defaults else SurgeParams.from_mapping(dict(load_rules(None).spec.surge))
    busy, long = "busy" in sys.argv[1:], "long" in sys.argv[1:]
    # `long`: subjects with days of history (daily profile, daily peaks, the tail line in use)
    events = stream(4, 1, per_min=(100, 500)) if busy else stream(5, 72) if long else stream(20, 6)
    if len(sys.argv) > 1 and sys.argv[-1].isdigit():
        events = events[: int(sys.argv[-1])]
    mentions = [(T0 + timedelta(seconds=t), Mention(
        subject=subject, post_id=post_id, site="bbs.example", url=f"https://bbs.example/{post_id}", title="标题",
        published_at=T0 + timedelta(seconds=t), sentiment_label="negative" if negative else "neutral",
        is_repost=False, cluster_id=post_id)) for t, subject, post_id, negative in events]
    states: dict[str, dict | None] = {}
    signals = 0
    started, cpu = time.perf_counter(), time.process_time()
    for at, m in mentions:
        states[m.subject], out = observe_mentions(states.get(m.subject), [m], at, params)
        signals += len(out)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    state_bytes = max(len(json.dumps(s)) for s in states.values())
    # the agent writes each subject's state to its table once per batch (JSON): not per mention,
    # so not in the figure above; its cost per write, for the largest state, alongside
    largest = max(states.values(), key=lambda s: len(json.dumps(s)))
    began = time.process_time()
    for _ in range(200):
        json.loads(json.dumps(largest))
    state_json_us = (time.process_time() - began) / 200 * 1e6
    print(f"{len(events)} mentions, {len(states)} subjects, {signals} signals: "
          f"{cpu / len(events) * 1e6:.1f} µs CPU per mention, wall {total / len(events) * 1e6:.1f} µs")
    print(json.dumps({"load": "busy" if busy else "long" if long else "quiet", "params": "defaults" if defaults else "packaged rules",
                      "mentions": len(events), "subjects": len(states), "signals": signals,
                      "us_per_mention": round(cpu / len(events) * 1e6, 2),
                      "wall_us_per_mention": round(total / len(events) * 1e6, 2),
                      "max_state_bytes": state_bytes, "state_json_us_per_batch": round(state_json_us, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
