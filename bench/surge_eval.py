"""Surge-detection quality on generated mention-count series with labelled surges.

    .venv/bin/python bench/surge_eval.py --tune            # grid on tuning seeds 0..N-1
    .venv/bin/python bench/surge_eval.py --test            # the default rules on test seeds 2000..
    .venv/bin/python bench/surge_eval.py --write DIR       # one series + labels as CSV for `shaobing backtest`
    .venv/bin/python bench/surge_eval.py                   # --test on both regimes; last line JSON
    .venv/bin/python bench/surge_eval.py --regime tweet    # the 47-day tweet-like regime (5-min buckets)
    .venv/bin/python bench/surge_eval.py --regime tweet --nab-centre visible   # NAB windows on the visible row

Each series is one subject, 60 s buckets, 7 days, starting on a Monday (Asia/Shanghai):
per-subject level log-uniform in 0.05..20 mentions/min; a two-peak daily rhythm (morning and
evening, night ~10 % of the day mean) and quieter weekends; slow day-to-day drift; gamma-Poisson
counts (heavy-tailed, variance lam + lam^2/3) plus rare Pareto one-minute blips (bot reposts) that
are NOT surges; about one labelled surge per 1.5 days after the first day: step, ramp or decaying
spike, 10-120 min, peak 2x-15x the level at its start. The detector is the production one, run
causally through `alerting.backtest.run` (the code behind `shaobing backtest`).

Tweet-like regime (`--regime tweet`): long, bursty histories like a microblog subject's mention
counts: 5-minute buckets, 47 days; level log-uniform in 5..150 mentions per 5 min, the same rhythm,
+-25 % day-to-day drift, a slow wander of the level within the day (AR(1) in log, sd 0.15, ~2 h
memory) and one level shift (x0.6..1.6) somewhere after day 10; gamma-Poisson counts (shape 5);
about 1.5 unlabelled chatter bursts a day whose height is heavy-tailed (Pareto, alpha 1.5: most are
+50 %..+2x, one in a hundred is 10x or more) and which decay with a half-life of 5-30 min (an
ordinary repost cascade), and about one unlabelled scheduled bump every 4 days (a broadcast: 1-4 h,
+50 %..+150 % at its top), which are NOT surges; about one labelled surge per two weeks (a news
story: 1-8 hours, ramp or decay, peak 3x-20x the level at its start). Its first two days are not
scored (the daily rhythm is learned). Session 7 added the wander, the half-lives (before: every
chatter burst lasted 1-6 buckets at 0.6x per bucket) and the bumps, drawn from their own random
stream, so the chatter's and surges' times and multipliers are those of session 5's generator.

Low-volume regime (`--regime low`): a county subject with 0.5-5 mentions per HOUR (same rhythm,
gamma-Poisson, rare 2-6-mention one-minute blips that are not surges); about one surge per 1.5 days
that lifts the rate to 30-50 mentions per hour for 30-120 min (step or ramp).

A surge is "visible" at the first minute t where the extra mentions it added since its start
(expected, from the generator) reach max(5, 3 sqrt(usual mentions over the same minutes)): before
that no detector could tell it from noise. Delay after visible = alert minute - visible minute + 1
(1 = the alert comes in the bucket the surge becomes visible; an alert before that counts as 1).

The tweet-like regime is also scored the NAB way, as issue 9's hidden measurement and
bench/surge_nab.py score real files (block `nab_style`, next to the keys above, which keep their
narrow scoring). Each series gets NAB-style windows: for n rows and k labelled surges, each window
is floor(0.1 n / k) rows (NAB shares 10 % of a file's length among its windows; about 450 rows,
37 h, for a 47-day series with 3 surges), centred on the surge's START row (`--nab-centre visible`:
on its visible row): w // 2 rows before the centre, the centre and the rest after it, clipped to
the series. No window is merged or dropped (NAB's labeller also merges overlapping windows and drops
one that starts in the probationary period). The flags are then scored with surge_nab's own
functions: the NAB standard profile (`nab_raw`, detections in the first min(15 % of rows, 750) rows
ignored), events (`events`: alert onsets < 60 min apart are one event; true if one of its alerts is
in a window, else a false alarm), and `summarise` (windows caught, events, false alarms, false per
series-day over the whole series including its first two days, precision, recall, F1, NAB
standard normalised over the summed raw scores of all series).
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import multiprocessing
import random
import statistics
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import surge_nab  # noqa: E402
from alerting.backtest import Row, run, scaled_params  # noqa: E402
from alerting.rules import load_rules  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 3, 3, tzinfo=SHANGHAI)          # a Monday
DAY = 1440
LATE_OK, AFTERMATH = 5, 60                             # minutes after a surge's end
NAB_SHARE = 0.1                                        # NAB: 10 % of a series' rows shared by its windows
CENTRES = ("start", "visible")                         # the row a NAB-style window is centred on


def _rhythm(minute: int) -> float:
    h = (minute % DAY) / 60
    return 0.12 + 1.0 * math.exp(-((h - 10.5) / 3) ** 2) + 1.4 * math.exp(-((h - 21) / 2.5) ** 2)


_MEAN_RHYTHM = sum(_rhythm(m) for m in range(DAY)) / DAY


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate(seed: int, days: int = 7, regime: str = "normal") -> tuple[list[int], list[tuple[int, int, float, int]]]:
    """Counts per minute and the labelled surges as (start, end exclusive, peak multiplier,
    first visible minute)."""
    rng = random.Random(seed)
    low = regime == "low"
    base = (math.exp(rng.uniform(math.log(0.05), math.log(20))) if not low
            else rng.uniform(0.5, 5) / 60)
    drift = [math.exp(rng.gauss(0, 0.2)) for _ in range(days)]
    n = days * DAY
    expected = [base * _rhythm(m) / _MEAN_RHYTHM * (0.8 if (m // DAY) % 7 >= 5 else 1.0) * drift[m // DAY]
                for m in range(n)]
    extra = [0.0] * n
    surges: list[tuple[int, int, float]] = []
    for _ in range(max(1, round((days - 1) / 1.5))):
        for _attempt in range(20):
            start, length = rng.randrange(DAY, n - 150), rng.choice([30, 60, 90, 120] if low else [10, 20, 30, 60, 120])
            if all(start > e + 120 or start + length + 120 < s for s, e, *_ in surges):
                break
        else:
            continue
        peak = math.exp(rng.uniform(math.log(2), math.log(15)))
        shape = rng.choice(["step", "ramp", "decay"])
        height = (peak - 1) * max(expected[start], 1.0)
        if low:                                   # the rate becomes 30-50 mentions per hour
            shape = rng.choice(["step", "ramp"])
            height = rng.uniform(30, 50) / 60
            peak = (height + expected[start]) / max(expected[start], 1e-9)
        for u in range(length):
            f = {"step": 1.0, "ramp": min(1.0, (u + 1) / max(1, length / 3)),
                 "decay": 0.5 ** (u / max(1, length / 4))}[shape]
            extra[start + u] += height * f
        added = usual = 0.0
        for u in range(length):
            added, usual = added + extra[start + u], usual + expected[start + u]
            if added >= max(5.0, 3 * math.sqrt(usual)):
                break
        surges.append((start, start + length, peak, start + u))
    counts = []
    for m in range(n):
        lam = expected[m] + extra[m]
        mixed = rng.gammavariate(3, lam / 3) if lam > 0 else 0.0
        if low:
            blip = rng.randint(2, 6) if rng.random() < 1 / DAY else 0
        else:
            blip = int(2 * max(1.0, base) * (1 - rng.random()) ** (-1 / 1.8)) if rng.random() < 2 / DAY else 0
        counts.append(_poisson(rng, mixed) + blip)
    return counts, sorted(surges)


TWEET_STEP, TWEET_DAYS = 5, 47          # minutes per bucket, days per series


def generate_tweet(seed: int) -> tuple[list[int], list[tuple[int, int, float, int]]]:
    """The tweet-like regime, in 5-minute buckets (see the docstring); same output as `generate`."""
    rng = random.Random(seed)
    per_day = DAY // TWEET_STEP
    n = TWEET_DAYS * per_day
    base = math.exp(rng.uniform(math.log(5), math.log(150)))
    drift = [math.exp(rng.gauss(0, 0.25)) for _ in range(TWEET_DAYS)]
    shift_at, shift = rng.randrange(10 * per_day, n), rng.uniform(0.6, 1.6)
    expected = [base * _rhythm(b * TWEET_STEP) / _MEAN_RHYTHM * (0.85 if (b // per_day) % 7 >= 5 else 1.0)
                * drift[b // per_day] * (shift if b >= shift_at else 1.0) for b in range(n)]
    extra = [0.0] * n
    more = random.Random(f"tweet-{seed}")       # the session-7 additions draw apart: same chatter, surges
    wander = 0.0                                # the level's slow wander within a day (AR(1) in log)
    for b in range(n):
        wander = 0.96 * wander + math.sqrt(1 - 0.96 ** 2) * more.gauss(0, 0.15)
        expected[b] *= math.exp(wander)
    for _ in range(round(1.5 * TWEET_DAYS)):                 # chatter: heavy-tailed, not labelled
        start, _length = rng.randrange(n), rng.randint(1, 6)
        height = expected[start] * (0.5 + (1 - rng.random()) ** (-1 / 1.5) - 1)
        half = math.exp(more.uniform(0, math.log(6)))       # half-life 5-30 min (an ordinary cascade)
        for u in range(min(round(4.3 * half) + 1, n - start)):
            extra[start + u] += height * 0.5 ** (u / half)
    for _ in range(round(TWEET_DAYS / 4)):                   # scheduled bumps (a broadcast): not labelled
        start, length, lift = more.randrange(n), more.randint(12, 48), more.uniform(0.5, 1.5)
        for u in range(min(length, n - start)):                # 1-4 h, +50 %..+150 % at the top
            extra[start + u] += lift * expected[start + u] * math.sin(math.pi * (u + 0.5) / length) ** 2
    surges: list[tuple[int, int, float, int]] = []
    for _ in range(round((TWEET_DAYS - 2) / 14)):
        for _attempt in range(20):
            start, length = rng.randrange(2 * per_day, n - 100), rng.randint(12, 96)
            if all(start > e + per_day or start + length + per_day < s for s, e, *_ in surges):
                break
        else:
            continue
        peak = math.exp(rng.uniform(math.log(3), math.log(20)))
        ramp = rng.choice([1, 3, 12])
        height = (peak - 1) * expected[start]
        added = usual = 0.0
        visible = None
        for u in range(length):
            f = min(1.0, (u + 1) / ramp) * 0.5 ** (max(0, u - ramp) / max(1, length / 3))
            extra[start + u] += height * f
            added, usual = added + height * f, usual + expected[start + u]
            if visible is None and added >= max(5.0, 3 * math.sqrt(usual)):
                visible = start + u
        surges.append((start, start + length, peak, start + length - 1 if visible is None else visible))
    counts = []
    for b in range(n):
        lam = expected[b] + extra[b]
        counts.append(_poisson(rng, rng.gammavariate(5, lam / 5) if lam > 0 else 0.0))
    return counts, sorted(surges)


def score(flags: list[int], surges, days: int, step: int = 1) -> dict:
    """`step`: minutes per bucket (flags and surges are in buckets); the first day (two for the
    tweet-like regime) is not scored."""
    skip = DAY // step * (2 if step > 1 else 1)
    late_ok, aftermath = max(1, LATE_OK // step), AFTERMATH // step
    onsets = [i for i, f in enumerate(flags) if f and i >= skip]
    hits, delays, visible, dupes = 0, [], [], 0
    claimed = set()
    for s, e, _, v in surges:
        inside = [i for i in onsets if s <= i < e + late_ok]
        if inside:
            hits += 1
            delays.append((inside[0] - s + 1) * step)   # minutes from the first surge minute to the alert
            visible.append(max(1, inside[0] - v + 1))
        near = [i for i in onsets if s <= i < e + aftermath]
        dupes += max(0, len(near) - 1)
        claimed.update(near)
    false = [i for i in onsets if i not in claimed]
    first_day = sum(1 for i, f in enumerate(flags[:skip]) if f)     # no daily profile yet; not scored above
    return {"surges": len(surges), "hits": hits, "delays": delays, "visible": visible, "false": len(false), "dupes": dupes,
            "days": days - skip * step // DAY, "first_day": first_day, "series": 1}


def nab_windows(n: int, surges, centre: str = "start") -> list[tuple[int, int]]:
    """NAB-style windows (first row, last row), one per labelled surge of a series of n rows:
    floor(0.1 n / k) rows for k surges, centred on the surge's start row (or its visible row),
    w // 2 rows before it; clipped to the series, never merged or dropped."""
    if centre not in CENTRES:
        raise ValueError(f"centre must be one of {CENTRES}, not {centre!r}")
    if not surges:
        return []
    width = math.floor(NAB_SHARE * n / len(surges))
    out = []
    for start, _end, _peak, visible in surges:
        first = (start if centre == "start" else visible) - width // 2
        out.append((max(0, first), min(n - 1, first + width - 1)))
    return out


def nab_series(flags: list[int], times: list[datetime], surges, centre: str = "start") -> dict:
    """One series' counts for surge_nab.summarise, scored with surge_nab's NAB profile and events."""
    wins = nab_windows(len(flags), surges, centre)
    raw, null, perfect = surge_nab.nab_raw(flags, wins)
    n_events, true, caught = surge_nab.events(flags, times, wins)
    return {"days": (times[-1] - times[0]).total_seconds() / 86400, "windows": len(wins), "caught": caught,
            "events": n_events, "true_events": true, "raw": raw, "null": null, "perfect": perfect}


def evaluate(mapping: dict, seeds, days: int = 7, by_size: bool = False, regime: str = "normal",
             nab_centre: str = "start") -> dict:
    """The summary over the seeds; for the tweet-like regime also `nab_style` (see the docstring)."""
    step = TWEET_STEP if regime == "tweet" else 1
    days = TWEET_DAYS if regime == "tweet" else days
    params = scaled_params(mapping, 60 * step)
    total = {"surges": 0, "hits": 0, "delays": [], "visible": [], "false": 0, "dupes": 0, "days": 0, "first_day": 0, "series": 0}
    sizes: dict[str, list[int]] = {"2-3x": [0, 0], "3-6x": [0, 0], "6-15x": [0, 0]}
    nab: list[dict] = []
    for seed in seeds:
        counts, surges = generate_tweet(seed) if regime == "tweet" else generate(seed, days, regime)
        times = [START + timedelta(minutes=m * step) for m in range(len(counts))]
        rows = [Row(m + 1, "", t, c) for m, (t, c) in enumerate(zip(times, counts))]
        flags = run(rows, params)
        result = score(flags, surges, days, step)
        if regime == "tweet":
            nab.append(nab_series(flags, times, surges, nab_centre))
        for key in total:
            total[key] += result[key]
        for s, e, peak, _ in surges:
            size = "2-3x" if peak < 3 else "3-6x" if peak < 6 else "6-15x"
            sizes[size][0] += 1
            sizes[size][1] += any(flag for flag in run_cache(rows, params)[s:e + LATE_OK]) if by_size else 0
    out = summary(total)
    if by_size:
        out["by_size"] = {k: f"{h}/{n}" for k, (n, h) in sizes.items()}
    if nab:
        out["nab_style"] = {**surge_nab.summarise(nab), "centre": nab_centre}
    return out


_cache: dict = {}


def run_cache(rows, params):
    key = (id(rows), params)
    if key not in _cache:
        _cache.clear()
        _cache[key] = run(rows, params)
    return _cache[key]


def summary(t: dict) -> dict:
    d = sorted(t["delays"])
    return {"hit_rate": t["hits"] / max(1, t["surges"]), "hits": f"{t['hits']}/{t['surges']}",
            "false_per_day": t["false"] / max(1, t["days"]), "dupes_per_surge": t["dupes"] / max(1, t["surges"]),
            "first_day_alerts_per_subject": t["first_day"] / max(1, t["series"]),
            "delay_median_min": statistics.median(d) if d else None,
            "delay_p90_min": d[int(0.9 * (len(d) - 1))] if d else None,
            "delay_after_visible_median": statistics.median(t["visible"]) if t["visible"] else None}


def fmt(r: dict) -> str:
    return (f"hit {r['hit_rate']:.1%} ({r['hits']})  false/day/subject {r['false_per_day']:.3f}  "
            f"dupes/surge {r['dupes_per_surge']:.2f}  delay median {r['delay_median_min']} min, "
            f"p90 {r['delay_p90_min']} min  after visible median {r['delay_after_visible_median']}  day-1 alerts/subject {r['first_day_alerts_per_subject']:.2f}"
            + (f"  by size {r['by_size']}" if "by_size" in r else "")
            + (f"\n  NAB-style: {json.dumps(r['nab_style'])}" if "nab_style" in r else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--test", action="store_true")
    parser.add_argument("--series", type=int, default=40, help="subjects (series) per run")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rules", type=Path, help="rules YAML whose surge section is evaluated")
    parser.add_argument("--regime", choices=["normal", "low", "tweet", "both"], default="both",
                        help="both = normal and low (the tweet-like regime runs only when named)")
    parser.add_argument("--write", type=Path, help="write test seed 2000 as series.csv + labels.csv here")
    parser.add_argument("--nab-centre", choices=CENTRES, default="start",
                        help="tweet regime's nab_style block: centre each window on the surge's start or visible row")
    args = parser.parse_args()
    if not (args.tune or args.test or args.write):
        args.test = True
    regimes = ["normal", "low"] if args.regime == "both" else [args.regime]
    base = dict(load_rules(args.rules).spec.surge)
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        tweet = regimes[0] == "tweet"
        counts, surges = generate_tweet(2000) if tweet else generate(2000, regime=regimes[0])
        step = TWEET_STEP if tweet else 1
        with (args.write / "series.csv").open("w", newline="") as fh:
            csv.writer(fh).writerows([("timestamp", "value")] + [
                ((START + timedelta(minutes=m * step)).strftime("%Y-%m-%d %H:%M:%S"), c) for m, c in enumerate(counts)])
        with (args.write / "labels.csv").open("w", newline="") as fh:
            csv.writer(fh).writerows([("start_row", "end_row", "peak", "visible_row")]
                                     + [(s, e, f"{p:.1f}", v) for s, e, p, v in surges])
    if args.tune:
        grid = list(itertools.product([2.5, 3.0, 4.0], [3.0, 4.0, 5.0], [8, 10, 15]))
        jobs = [({**base, "ratio": r, "z": z, "min_count": m}, range(args.series), 7, False, regimes[0])
                for r, z, m in grid]
        with multiprocessing.Pool(args.jobs) as pool:
            for (r, z, m), result in zip(grid, pool.starmap(evaluate, jobs)):
                print(f"ratio={r} z={z} min_count={m}: {fmt(result)}", flush=True)
    if args.test:
        # seeds 1000-1009 were looked at while designing the detector; the test set starts at 2000
        report = {}
        for regime in regimes:
            print(f"{regime}: test seeds 2000..{1999 + args.series}, rules surge section {base}:")
            report[regime] = evaluate(base, range(2000, 2000 + args.series), by_size=regime == "normal", regime=regime,
                                      nab_centre=args.nab_centre)
            print(fmt(report[regime]), flush=True)
        print(json.dumps(report, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
