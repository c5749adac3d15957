"""False alarms that an irregular series file causes in `shaobing backtest` (no surge anywhere).

    .venv/bin/python bench/surge_irregular.py                # seeds 0-9
    .venv/bin/python bench/surge_irregular.py --seeds 0-19

A busy subject with no surge: about 50 mentions per 5 minutes (a daily rhythm of +-60 %, counts
drawn around it with 1.3x Poisson spread), 20 days, the packaged rules. The same series is written
the ways real exports come:

- `regular`: every row on the 5-minute mark (the base rate of false alarms of this series);
- `jitter20` / `jitter60` / `jitter140`: each row's timestamp off its mark by up to 20 / 60 / 140
  seconds either way (a collector's clock), the rows 53 seconds past the mark (as NAB's files);
- `jitter60@0`: jitter of 60 seconds around the marks themselves, so rows straddle bucket edges;
- `outage30m` / `outage6h`: no rows for 30 minutes / 6 hours on day 16 (a collector's outage).

Each variant runs through `alerting.backtest` exactly as `shaobing backtest` does (median-gap
interval, `run`), and reports the alerts per series (onsets; the subject's first day is not
skipped) and the interval inferred. An irregular file should raise no more alerts than `regular`.
Last line one JSON object: alerts per variant summed over the seeds, and the intervals seen.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from alerting import backtest  # noqa: E402
from alerting.rules import DEFAULT_RULES, load_rules  # noqa: E402
from surge_why import parse_seeds  # noqa: E402

DAYS = 20
STEP = 300
VARIANTS = {            # name -> (jitter seconds, phase seconds, missing rows)
    "regular": (0, 53, range(0)),
    "jitter20": (20, 53, range(0)),
    "jitter60": (60, 53, range(0)),
    "jitter140": (140, 53, range(0)),
    "jitter60@0": (60, 0, range(0)),
    "outage30m": (0, 53, range(288 * 15 + 90, 288 * 15 + 96)),
    "outage6h": (0, 53, range(288 * 15 + 90, 288 * 15 + 162)),
}


def counts(seed: int) -> list[int]:
    rng = random.Random(seed)
    out = []
    for k in range(DAYS * 288):
        usual = 50 * (1 + 0.6 * math.sin(2 * math.pi * (k % 288) / 288))
        out.append(max(0, round(rng.gauss(usual, 1.3 * math.sqrt(usual)))))
    return out


def rows(values: list[int], seed: int, jitter: int, phase: int, missing: range) -> list[backtest.Row]:
    rng = random.Random(1000 + seed)           # the clock's own draws: every variant has the same counts
    start = datetime(2025, 3, 3, tzinfo=backtest.SHANGHAI)
    out = []
    for k, value in enumerate(values):
        at = start + timedelta(seconds=STEP * k + phase + (rng.randint(-jitter, jitter) if jitter else 0))
        if k not in missing:
            out.append(backtest.Row(len(out) + 2, at.isoformat(), at, value))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"))
    args = ap.parse_args(argv)
    surge = load_rules(DEFAULT_RULES).spec.surge
    alerts = {name: 0 for name in VARIANTS}
    intervals: dict[str, set[int]] = {name: set() for name in VARIANTS}
    for seed in args.seeds:
        values = counts(seed)
        line = []
        for name, (jitter, phase, missing) in VARIANTS.items():
            series = rows(values, seed, jitter, phase, missing)
            interval = backtest.infer_interval(series, name)
            n = sum(backtest.run(series, backtest.scaled_params(surge, interval)))
            alerts[name] += n
            intervals[name].add(interval)
            line.append(f"{name} {n}")
        print(f"seed {seed}: " + ", ".join(line))
    print(json.dumps({"bench": "surge_irregular", "seeds": len(args.seeds), "days": DAYS, "alerts": alerts,
                      "intervals": {k: sorted(v) for k, v in intervals.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
