"""Surge-detection quality on real labelled series (NAB corpus, nab_dev), scored the NAB way.

    .venv/bin/python bench/surge_nab.py                     # the reporting half (default)
    .venv/bin/python bench/surge_nab.py --half tuning       # the half we tune on
    .venv/bin/python bench/surge_nab.py --half all -v       # every file, one line per file

Data: `../shared/data/nab_dev/` next to the repository (or $SHAOBING_NAB_DIR, or --data): files
`data/<family>/<file>.csv` (timestamp,value) and `labels/combined_windows.json` (NAB's anomaly
windows, already sized by NAB: 10 % of a file's length shared among its windows).

Split (decided before any tuning, never changed): within each family, files sorted by name; the
1st, 3rd, 5th ... file is the TUNING half, the 2nd, 4th, 6th ... the REPORTING half.

Scored files: the detector is one-sided (upward surges only). A file is scored when at least one
of its labelled windows rises above 1.2 x the 95th percentile of the 300 rows before it (a
mechanical test, `surge_like`), or it has no window at all (a pure false-alarm test). The other
files (anomalies that are drops or changes of shape) are reported apart as `all_files`.

Each file is replayed exactly as `shaobing backtest --series FILE --out OUT` does with the
packaged rules (alerting.backtest: parse, interval, scaled parameters, causal run, onset flags).
A file that the command rejects counts as a detector that never fires, and is listed.

Scores, per family and overall:
- NAB standard profile, from NAB's documentation (our own code): the first detection in a window
  earns A_TP * sigma(y), y = relative position in the window (-1 at its start, 0 at its end),
  sigma(y) = 2 / (1 + e^(5y)) - 1; a detection outside every window costs A_FP * |sigma(y)|, y =
  distance after the previous window's end in window widths (-1 before any window); a window
  without a detection costs A_FN. A_TP = 1, A_FP = 0.11, A_FN = 1. Detections in the probationary
  period (the first min(15 % of rows, 750) rows) are ignored. Normalised over the summed raw
  scores: 100 * (raw - null) / (perfect - null), null = never fires, perfect = fires on each
  window's first row.
- Events: alert onsets less than 60 min apart are one event; an event with an alert inside a
  window is a true event, else a false alarm. Precision = true events / events, recall = windows
  with an alert / windows, F1; false alarms per series-day over the whole file.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerting import backtest  # noqa: E402
from alerting.rules import load_rules  # noqa: E402

A_TP, A_FP, A_FN = 1.0, 0.11, 1.0
PROBATION_SHARE, PROBATION_MAX = 0.15, 750
MERGE = timedelta(minutes=60)


def data_dir(given: Path | None) -> Path:
    candidates = [given] if given else []
    if os.environ.get("SHAOBING_NAB_DIR"):
        candidates.append(Path(os.environ["SHAOBING_NAB_DIR"]))
    candidates += [ROOT.parent / "shared/data/nab_dev", ROOT.parents[1] / "shared/data/nab_dev"]
    for c in candidates:
        if c and (c / "labels/combined_windows.json").is_file():
            return c
    raise SystemExit("nab_dev not found: pass --data DIR or set SHAOBING_NAB_DIR")


def split(names: list[str]) -> dict[str, str]:
    """file -> 'tuning' | 'reporting': alternate within each family, files sorted by name."""
    out: dict[str, str] = {}
    families: dict[str, list[str]] = {}
    for name in names:
        families.setdefault(name.split("/")[0], []).append(name)
    for members in families.values():
        for i, name in enumerate(sorted(members)):
            out[name] = "tuning" if i % 2 == 0 else "reporting"
    return out


def read_rows(path: Path) -> tuple[list[datetime], list[float]]:
    times, values = [], []
    with path.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            t, v = line.strip().split(",")
            times.append(datetime.fromisoformat(t))
            values.append(float(v))
    return times, values


def window_rows(times: list[datetime], windows) -> list[tuple[int, int]]:
    out = []
    for start, end in windows:
        a, b = datetime.fromisoformat(start), datetime.fromisoformat(end)
        inside = [i for i, t in enumerate(times) if a <= t <= b]
        if inside:
            out.append((inside[0], inside[-1]))
    return out


def surge_like(values: list[float], wins: list[tuple[int, int]]) -> bool:
    if not wins:
        return True
    for lo, hi in wins:
        before = sorted(values[max(0, lo - 300):lo])
        if before and max(values[lo:hi + 1]) > 1.2 * before[int(0.95 * len(before))] + 1e-9:
            return True
    return False


def sigma(y: float) -> float:
    """NAB's scaled sigmoid: ~0.987 at y = -1, 0 at y = 0, towards -1 past y = 3 (then -1)."""
    return -1.0 if y > 3.0 else 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def nab_raw(flags: list[int], wins: list[tuple[int, int]]) -> tuple[float, float, float]:
    """(raw, null, perfect) scores of one file under the standard profile."""
    n = len(flags)
    probation = min(math.floor(PROBATION_SHARE * n), PROBATION_MAX)
    hit = [False] * len(wins)
    raw = 0.0
    for i, f in enumerate(flags):
        if not f or i < probation:
            continue
        inside = next((j for j, (lo, hi) in enumerate(wins) if lo <= i <= hi), None)
        if inside is not None:
            if not hit[inside]:
                lo, hi = wins[inside]
                hit[inside] = True
                raw += A_TP * sigma(-(hi - i + 1) / (hi - lo + 1))
            continue
        prev = [(lo, hi) for lo, hi in wins if hi < i]
        if prev:
            lo, hi = prev[-1]
            raw += A_FP * sigma(abs(hi - i) / max(1, hi - lo))
        else:
            raw -= A_FP
    raw -= A_FN * hit.count(False)
    null = -A_FN * len(wins)
    perfect = sum(A_TP * sigma(-1.0) for _ in wins)
    return raw, null, perfect


def events(flags: list[int], times: list[datetime], wins) -> tuple[int, int, int]:
    """(events, true events, windows caught) with alerts < 60 min apart merged."""
    onsets = [i for i, f in enumerate(flags) if f]
    groups: list[list[int]] = []
    for i in onsets:
        if groups and times[i] - times[groups[-1][-1]] < MERGE:
            groups[-1].append(i)
        else:
            groups.append([i])
    inside = lambda i: any(lo <= i <= hi for lo, hi in wins)  # noqa: E731
    true = sum(1 for g in groups if any(inside(i) for i in g))
    caught = sum(1 for lo, hi in wins if any(lo <= i <= hi for i in onsets))
    return len(groups), true, caught


def ordered_lines(path: Path) -> tuple[list[str], list[int]]:
    """The file's lines minus rows whose timestamp is not after the previous kept row (a few NAB
    files repeat or step back an hour at a clock change). `shaobing backtest` rejects such rows
    with the line number, so a user cleans them first; the bench does it for them and keeps the
    row numbers of the series the windows refer to."""
    lines = path.read_text(encoding="utf-8").splitlines()
    kept, dropped, last = [lines[0]], [], None
    for number, line in enumerate(lines[1:], 2):
        at = datetime.fromisoformat(line.split(",")[0])
        if last is not None and at <= last:
            dropped.append(number)
            continue
        kept.append(line)
        last = at
    return kept, dropped


def replay(path: Path, surge: dict) -> tuple[list[int] | None, str]:
    """Onset flags (one per row of the file) as `shaobing backtest` writes them for the file with
    out-of-order rows removed (a removed row gets 0), or None and the command's error."""
    lines, dropped = ordered_lines(path)
    try:
        rows = backtest.parse_series(lines, str(path))
        interval = backtest.infer_interval(rows, str(path))
        params = backtest.scaled_params(surge, interval)
    except (backtest.SeriesError, ValueError) as exc:
        return None, str(exc)
    flags = backtest.run(rows, params)
    if len(flags) != len(rows):
        return None, "row count changed"
    for number in dropped:                       # line number n is row n - 2 of the file
        flags.insert(number - 2, 0)
    return flags, ""


def score_file(job) -> dict:
    name, path, windows, surge = job
    times, values = read_rows(path)
    wins = window_rows(times, windows)
    started = time.perf_counter()
    flags, error = replay(path, surge)
    seconds = time.perf_counter() - started
    if flags is None:
        flags = [0] * len(times)
    raw, null, perfect = nab_raw(flags, wins)
    n_events, true, caught = events(flags, times, wins)
    days = (times[-1] - times[0]).total_seconds() / 86400
    return {"file": name, "family": name.split("/")[0], "scored": surge_like(values, wins), "error": error,
            "rows": len(times), "days": days, "windows": len(wins), "caught": caught, "events": n_events,
            "true_events": true, "raw": raw, "null": null, "perfect": perfect, "seconds": seconds}


def summarise(results: list[dict]) -> dict:
    if not results:
        return {}
    tot = {k: sum(r[k] for r in results) for k in ("days", "windows", "caught", "events", "true_events",
                                                   "raw", "null", "perfect")}
    false = tot["events"] - tot["true_events"]
    precision = tot["true_events"] / tot["events"] if tot["events"] else 0.0
    recall = tot["caught"] / tot["windows"] if tot["windows"] else 0.0
    span = tot["perfect"] - tot["null"]
    return {"files": len(results), "series_days": round(tot["days"], 1), "windows": tot["windows"],
            "caught": tot["caught"], "windows_caught": round(recall, 3), "events": tot["events"],
            "false_alarms": false, "false_per_series_day": round(false / tot["days"], 3),
            "precision": round(precision, 3), "recall": round(recall, 3),
            "f1": round(2 * precision * recall / (precision + recall), 3) if precision + recall else 0.0,
            "nab_standard": round(100 * (tot["raw"] - tot["null"]) / span, 1) if span else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=["reporting", "tuning", "all"], default="reporting")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--rules", type=Path, help="rules YAML (default: the packaged rules)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per file")
    args = parser.parse_args()
    root = data_dir(args.data)
    labels = json.loads((root / "labels/combined_windows.json").read_text(encoding="utf-8"))
    halves = split(list(labels))
    surge = dict(load_rules(args.rules).spec.surge)
    jobs = [(name, root / "data" / name, labels[name], surge) for name in sorted(labels)
            if args.half == "all" or halves[name] == args.half]
    if args.jobs > 1:
        with multiprocessing.Pool(args.jobs) as pool:
            results = pool.map(score_file, jobs)
    else:
        results = [score_file(j) for j in jobs]
    if args.verbose:
        for r in results:
            print(f"{r['file']:<60} {'scored' if r['scored'] else 'skip  '} windows {r['caught']}/{r['windows']}"
                  f" events {r['events']} true {r['true_events']} nab {r['raw']:.2f} ({r['null']:.0f}..{r['perfect']:.2f})"
                  f"{'  ERROR ' + r['error'] if r['error'] else ''}")
    scored = [r for r in results if r["scored"]]
    families = sorted({r["family"] for r in results})
    report = {"half": args.half, "files": [r["file"] for r in scored],
              "not_scored": [r["file"] for r in results if not r["scored"]],
              "errors": {r["file"]: r["error"] for r in results if r["error"]},
              "families": {f: summarise([r for r in scored if r["family"] == f]) for f in families},
              "overall": summarise(scored), "all_files": summarise(results),
              "rows_per_s": round(sum(r["rows"] for r in results) / max(1e-9, sum(r["seconds"] for r in results)))}
    for f in families:
        print(f"{f}: {json.dumps(report['families'][f], ensure_ascii=False)}")
    print(f"overall (scored files): {json.dumps(report['overall'], ensure_ascii=False)}")
    print(f"all files: {json.dumps(report['all_files'], ensure_ascii=False)}")
    print(json.dumps(report, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
