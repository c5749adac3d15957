"""Why the surge detector missed a labelled surge or raised a false alarm: a replay with the gates named.

    .venv/bin/python bench/surge_why.py                              # generated tuning seeds 0-11, low volume
    .venv/bin/python bench/surge_why.py --regime normal --seeds 0-11 # or tweet
    .venv/bin/python bench/surge_why.py --nab tuning                 # the nab_dev tuning half (or a file name)
    .venv/bin/python bench/surge_why.py --set busy_pages=0           # a rules setting changed (counterfactual)

Runs the production detector exactly as `shaobing backtest` does (alerting.backtest.run, the rules
file's surge section scaled to the series' interval) with a trace collector passed down
(streams.surge_why: each judged bucket's best score, the lines it faced and the first gate that
held it), and checks that the trace's re-evaluation of the gates agrees with the detector's own
verdict on every bucket (`disagree`, which must be 0). Then, scored as the benches score
(bench/surge_eval.py for generated seeds: an onset in [start, end + 5 min); bench/surge_nab.py for
nab_dev: an onset inside the window, one event per 60 min):

- every MISSED surge/window: the gate that held its closest bucket (the one that passed the most
  gates, then came nearest the line of the gate that held it), its best score against each line
  (z, the tail line's week and month parts, the refractory/busy bar), the highest best score
  anywhere in it, and how many of its judged buckets each gate held;
- every FALSE alarm: how it fired (`spread`: the best score passed every line; `record`: the record
  gate; `new subject`), its score against the lines, and `before`: what the subject did in the
  previous day and 7 days (loudest best score, days as loud, alerts, hours since the last one;
  streams.surge_why.history) and how many buckets from the alert stayed past z and past its line;
- every generated surge caught LATE (more than 2 buckets after it became visible, the issue's
  goal): its rows (first and last, inclusive, like MISSED's), the row it became visible and the row
  it paged, its delay and how many of the accounts judged between visible and the page each gate
  held (streams.surge_why.why_late); the summary's `late` sums them over every caught surge.

Generated seeds are the TUNING seeds unless you name others: test seeds (2000..) are for the one
reporting run. Last line one JSON object: counts of missed surges per gate, false alarms per way
and per `before` class (`false_before`), and for generated seeds `late` (the delay after visible).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import surge_eval  # noqa: E402
import surge_nab  # noqa: E402
from alerting import backtest  # noqa: E402
from alerting.rules import load_rules  # noqa: E402
from streams import surge_why as why_  # noqa: E402

LATE_GOAL = 2      # issue 9: a caught surge pages at most 2 buckets after it becomes visible


def replay(rows: list[backtest.Row], params) -> tuple[list[int], why_.Collector]:
    collector = why_.Collector()
    flags = backtest.run(rows, params, scores=collector.scores, trace=collector)
    return flags, collector


def missed(accounts: list[dict], name: str, span: tuple[int, int], extra: dict) -> dict:
    return {"series": name, "rows": list(span), **extra, **why_.why_missed(accounts, span)}


def false_alarm(accounts: list[dict], name: str, row: int, onsets: list[int], per_day: int,
                best: dict[int, float] | None = None) -> dict:
    """How the alert at `row` fired, its lines, what the subject did before it (streams.surge_why.history)
    and how many rows from it stayed past z and past its line (`past_z`, `past_line`)."""
    best = why_.best_by_row(accounts) if best is None else best
    out = {"series": name, "row": row, **why_.why_fired(accounts, row)}
    at = out["at"]
    if at is not None:
        line = max(at["z"], at["tail_week"], at["tail_month"])
        out["before"] = {**why_.history(best, onsets, row, per_day),
                         "past_z": why_.run_past(best, row, at["z"]), "past_line": why_.run_past(best, row, line)}
    return out


def generated(surge: dict, regime: str, seeds) -> tuple[list[dict], list[dict], list[dict], int, int]:
    """(missed, false, late, surges, disagreements) over generated seeds, scored as bench/surge_eval.py;
    `late`: each caught surge's delay after visible and the gates that held it (streams.surge_why.why_late)."""
    out_late: list[dict] = []
    step = surge_eval.TWEET_STEP if regime == "tweet" else 1
    days = surge_eval.TWEET_DAYS if regime == "tweet" else 7
    params = backtest.scaled_params(surge, 60 * step)
    skip = surge_eval.DAY // step * (2 if step > 1 else 1)
    late_ok, aftermath = max(1, surge_eval.LATE_OK // step), surge_eval.AFTERMATH // step
    out_missed, out_false, total, disagree = [], [], 0, 0
    for seed in seeds:
        counts, surges = (surge_eval.generate_tweet(seed) if regime == "tweet"
                          else surge_eval.generate(seed, days, regime))
        rows = [backtest.Row(m + 1, "", surge_eval.START + timedelta(minutes=m * step), c)
                for m, c in enumerate(counts)]
        flags, col = replay(rows, params)
        disagree += col.disagree
        onsets = [i for i, f in enumerate(flags) if f and i >= skip]
        claimed = set()
        for s, e, peak, visible in surges:
            total += 1
            claimed.update(i for i in onsets if s <= i < e + aftermath)
            caught = [i for i in onsets if s <= i < e + late_ok]
            if not caught:
                out_missed.append(missed(col.accounts, f"{regime}:{seed}", (s, e + late_ok - 1),
                                         {"peak": round(peak, 1), "minutes": (e - s) * step}))
            else:
                out_late.append({"series": f"{regime}:{seed}", "rows": [s, e - 1], "visible": visible, "paged": caught[0],
                                 "peak": round(peak, 1), **why_.why_late(col.accounts, visible, caught[0])})
        best = why_.best_by_row(col.accounts)
        every = [i for i, f in enumerate(flags) if f]
        out_false += [false_alarm(col.accounts, f"{regime}:{seed}", i, every, surge_eval.DAY // step, best)
                      for i in onsets if i not in claimed]
    return out_missed, out_false, out_late, total, disagree


def nab(surge: dict, which: str, root: Path | None) -> tuple[list[dict], list[dict], int, int]:
    """(missed, false, windows, disagreements) over nab_dev files (a half, or one file), scored
    files only, as bench/surge_nab.py scores them."""
    root = surge_nab.data_dir(root)
    labels = json.loads((root / "labels/combined_windows.json").read_text(encoding="utf-8"))
    halves = surge_nab.split(list(labels))
    names = [n for n in sorted(labels) if which in (halves[n], n, "all")]
    if not names:
        raise SystemExit(f"no nab_dev file or half named {which!r}")
    out_missed, out_false, total, disagree = [], [], 0, 0
    for name in names:
        path = root / "data" / name
        times, values = surge_nab.read_rows(path)
        wins = surge_nab.window_rows(times, labels[name])
        if not surge_nab.surge_like(values, wins):
            continue
        lines, dropped = surge_nab.ordered_lines(path)
        rows = backtest.parse_series(lines, str(path))
        interval = backtest.infer_interval(rows, str(path))
        params = backtest.scaled_params(surge, interval)
        flags, col = replay(rows, params)
        disagree += col.disagree
        original = [n - 2 for n in range(2, len(times) + 2) if n not in set(dropped)]
        for a in col.accounts:                     # rows of the series as run -> rows of the file
            a["row"] = original[min(a["row"], len(original) - 1)]
        full = [0] * len(times)
        for i, f in enumerate(flags):
            full[original[i]] = f
        total += len(wins)
        for lo, hi in wins:
            if not any(full[lo:hi + 1]):
                out_missed.append(missed(col.accounts, name, (lo, hi), {"rows_long": hi - lo + 1}))
        onsets = [i for i, f in enumerate(full) if f]
        groups: list[list[int]] = []
        for i in onsets:
            if groups and times[i] - times[groups[-1][-1]] < surge_nab.MERGE:
                groups[-1].append(i)
            else:
                groups.append([i])
        best = why_.best_by_row(col.accounts)
        for g in groups:
            if not any(lo <= i <= hi for i in g for lo, hi in wins):
                out_false.append(false_alarm(col.accounts, name, g[0], onsets, max(1, 86400 // int(interval)), best))
    return out_missed, out_false, total, disagree


def before_counts(out_false: list[dict]) -> dict:
    """How many false alarms had a row as loud in the previous 7 days, 2+ alerts in them, and stayed
    past z for at most 2 rows (the classes of docs/quality.md, session 9b)."""
    seen = [(f["at"], f["before"]) for f in out_false if f.get("before")]
    return {"as_loud_7d": sum(b["loudest_7d"] >= a["best"] for a, b in seen),
            "alerts_7d_2plus": sum(b["alerts_7d"] >= 2 for a, b in seen),
            "past_z_2_or_less": sum(b["past_z"] <= 2 for a, b in seen)}


def late_summary(out_late: list[dict]) -> dict:
    """The caught surges' median delay after visible, how many came later than the goal, and the
    judged buckets each gate held between visible and the page, summed over the caught surges."""
    held: Counter = Counter()
    for late in out_late:
        held.update(late["held"])
    return {"delay_after_visible_median": statistics.median(late["delay"] for late in out_late),
            f"over_{LATE_GOAL}": sum(late["delay"] > LATE_GOAL for late in out_late), "held_by_gate": dict(held)}


def parse_seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def parse_set(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set {pair!r}: expected KEY=VALUE")
        try:
            out[key] = json.loads(value) if value not in ("", "None") else None
        except json.JSONDecodeError:
            raise SystemExit(f"--set {pair!r}: the value must be a number, true/false or null (JSON)") from None
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regime", choices=["low", "normal", "tweet"], default="low")
    parser.add_argument("--seeds", default="0-11", help="generated seeds, e.g. 0-11 (the tuning seeds)")
    parser.add_argument("--nab", help="a nab_dev half (tuning, reporting, all) or file (family/name.csv)")
    parser.add_argument("--data", type=Path, help="the nab_dev folder (default as bench/surge_nab.py)")
    parser.add_argument("--rules", type=Path, help="rules YAML (default: the packaged rules)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a surge setting (JSON value), e.g. busy_pages=0")
    parser.add_argument("-q", "--quiet", action="store_true", help="the summary only")
    args = parser.parse_args()
    surge = {**dict(load_rules(args.rules).spec.surge), **parse_set(args.set)}
    out_late: list[dict] = []       # nab_dev windows have no "visible" row
    if args.nab:
        what = f"nab_dev {args.nab}"
        out_missed, out_false, total, disagree = nab(surge, args.nab, args.data)
    else:
        what = f"{args.regime} seeds {args.seeds}"
        out_missed, out_false, out_late, total, disagree = generated(surge, args.regime, parse_seeds(args.seeds))
    if not args.quiet:
        for m in out_missed:
            print("MISSED", json.dumps(m, ensure_ascii=False))
        for f in out_false:
            print("FALSE ", json.dumps(f, ensure_ascii=False))
        for late in out_late:
            if late["delay"] > LATE_GOAL:
                print("LATE  ", json.dumps(late, ensure_ascii=False))
    summary = {"bench": "surge_why", "set": what, "overrides": parse_set(args.set), "surges": total,
               "caught": total - len(out_missed), "missed_by_gate": dict(Counter(m["gate"] for m in out_missed)),
               "false": len(out_false), "false_by_way": dict(Counter(f["via"] for f in out_false)),
               "false_before": before_counts(out_false),
               "disagree": disagree}
    if out_late:
        summary["late"] = late_summary(out_late)
    print(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
