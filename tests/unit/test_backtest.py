"""`shaobing backtest`: a row out for every row in, causal, any interval, errors name the line."""
from __future__ import annotations

import csv
import math
import random
import statistics
from datetime import datetime, timedelta, timezone

import pytest

from alerting import backtest
from alerting.rules import DEFAULT_RULES, load_rules
from shaobing.cli import main

DEFAULT_SURGE = load_rules(DEFAULT_RULES).spec.surge


def write_series(path, counts, start=datetime(2025, 3, 3), step=timedelta(minutes=1), fmt="%Y-%m-%d %H:%M:%S",
                 header=True):
    with path.open("w", encoding="utf-8") as fh:
        if header:
            fh.write("timestamp,value\n")
        for i, c in enumerate(counts):
            fh.write(f"{(start + i * step).strftime(fmt)},{c}\n")


def read_out(path):
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["timestamp", "is_alert", "score"]
    return [r[:2] for r in rows[1:]]


def series(n, level=4.0, seed=1, surge_at=None, extra=40, length=10):
    rng = random.Random(seed)
    out = [max(0, round(rng.gauss(level, math.sqrt(level)))) for _ in range(n)]
    if surge_at is not None:
        for i in range(surge_at, surge_at + length):
            out[i] += extra
    return out


def short_rules(tmp_path):
    """The packaged surge rules with a 30-minute warm-up instead of a day, for series of hours: with
    no daily peaks to learn from, they judge at a fixed line (z 5, 3x usual) instead of the tail."""
    text = (DEFAULT_RULES.read_text(encoding="utf-8").replace("warmup_s: 86400", "warmup_s: 1800")
            .replace("new_subject_min_count: 1000", "new_subject_min_count: null")
            .replace("  z: 3.0", "  z: 5.0\n  single_factor: 1.6").replace("ratio: 1.5", "ratio: 3.0"))
    assert "warmup_s: 1800" in text and "new_subject_min_count: null" in text and "z: 5.0" in text
    path = tmp_path / "short.yml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_new_subject_does_not_page_on_its_first_busy_hour(tmp_path):
    src, out = tmp_path / "s.csv", tmp_path / "o.csv"
    write_series(src, [0] * 5 + [30] * 60 + series(300))     # busy from its first hour: not news
    assert main(["backtest", "--series", str(src), "--out", str(out)]) == 0
    assert [f for _, f in read_out(out)].count("1") == 0
    write_series(src, [0] * 5 + [30] * 60 + [400] * 10)        # unless it crosses the rules' absolute line
    assert main(["backtest", "--series", str(src), "--out", str(out)]) == 0
    assert [f for _, f in read_out(out)].count("1") == 1


def test_every_input_row_gets_a_flag_and_the_surge_is_found(tmp_path, capsys):
    src, out = tmp_path / "s.csv", tmp_path / "o.csv"
    write_series(src, series(600, surge_at=400))
    assert main(["backtest", "--series", str(src), "--out", str(out), "--rules", short_rules(tmp_path)]) == 0
    rows = read_out(out)
    assert len(rows) == 600 and rows[0][0] == "2025-03-03 00:00:00"
    alerts = [i for i, (_, flag) in enumerate(rows) if flag == "1"]
    assert len(alerts) == 1 and 400 <= alerts[0] <= 404
    assert "告警 1 行" in capsys.readouterr().out


def test_causal_no_look_ahead(tmp_path):
    counts = series(700, surge_at=500)
    full, cut = tmp_path / "full.csv", tmp_path / "cut.csv"
    write_series(full, counts)
    write_series(cut, counts[:503])
    main(["backtest", "--series", str(full), "--out", str(tmp_path / "a.csv")])
    main(["backtest", "--series", str(cut), "--out", str(tmp_path / "b.csv")])
    assert read_out(tmp_path / "a.csv")[:503] == read_out(tmp_path / "b.csv")


@pytest.mark.parametrize("step,fmt", [(timedelta(hours=1), "%Y-%m-%dT%H:%M:%S+08:00"),
                                      (timedelta(seconds=10), "%Y-%m-%dT%H:%M:%SZ"),
                                      (timedelta(minutes=5), "%Y-%m-%d %H:%M:%S")])
def test_any_regular_interval_and_iso_timestamps(tmp_path, step, fmt):
    src, out = tmp_path / "s.csv", tmp_path / "o.csv"
    write_series(src, series(300, level=20, surge_at=200, extra=200, length=12), step=step, fmt=fmt, header=False)
    assert main(["backtest", "--series", str(src), "--out", str(out), "--rules", short_rules(tmp_path)]) == 0
    alerts = [i for i, (_, flag) in enumerate(read_out(out)) if flag == "1"]
    assert alerts and all(200 <= i <= 211 for i in alerts)


def test_mark_active_flags_the_whole_episode(tmp_path):
    src, out = tmp_path / "s.csv", tmp_path / "o.csv"
    write_series(src, series(600, surge_at=400, extra=250, length=20))   # a new subject: the absolute line
    main(["backtest", "--series", str(src), "--out", str(out), "--mark", "active"])
    flags = [int(f) for _, f in read_out(out)]
    assert sum(flags[400:420]) >= 15 and sum(flags[:400]) == 0


@pytest.mark.parametrize("text,line,what", [
    ("timestamp,value\n2025-03-03 00:00:00,1\n2025-03-03 00:01:00,x\n", 3, "bad value"),
    ("timestamp,value\n2025-03-03 00:00:00,1\n2025-03-03 00:01:00\n", 3, "expected 'timestamp,value'"),
    ("2025-03-03 00:00:00,1\nyesterday,2\n", 2, "bad timestamp"),
    ("2025-03-03 00:00:00,1\n2025-03-03 00:00:00,2\n", 2, "is not after line 1"),
    ("2025-03-03 00:00:00,1\n2025-03-03 00:01:00,-3\n", 2, "count >= 0"),
    ("2025-03-03 00:01:00,1\n2025-03-03 00:02:00,1\n2025-03-03 00:01:30,1\n", 3, "is not after line 2"),
    ("2025-03-03 00:00:00,1\n2025-03-03 00:01:00,NaN\n", 2, "count >= 0"),
    ("2025-03-03 00:00:00,1\n2025-03-03 00:01:00,inf\n", 2, "count >= 0"),
    ("2025-03-03 00:00:00,1\n2025-03-03 00:01:00,1.7e308\n", 2, "at most 1e+15"),   # overflowed the model
])
def test_malformed_row_is_an_error_naming_its_line(tmp_path, capsys, text, line, what):
    src = tmp_path / "bad.csv"
    src.write_text(text, encoding="utf-8")
    assert main(["backtest", "--series", str(src), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert f"bad.csv:{line}:" in err and what in err


def test_with_the_interval_given_nothing_is_read_ahead_even_when_the_spacing_changes(tmp_path, capsys):
    """The inferred interval is the median gap of the whole file; --interval removes that look-ahead."""
    start = datetime(2025, 3, 3)
    times = [start + timedelta(minutes=5 * i) for i in range(600)]
    times += [times[-1] + timedelta(minutes=i + 1) for i in range(900)]        # then one row a minute
    counts = series(1500, level=20, seed=3, surge_at=550, extra=120, length=6)
    full, cut = tmp_path / "full.csv", tmp_path / "cut.csv"
    full.write_text("".join(f"{t:%Y-%m-%d %H:%M:%S},{c}\n" for t, c in zip(times, counts)), encoding="utf-8")
    cut.write_text("".join(f"{t:%Y-%m-%d %H:%M:%S},{c}\n" for t, c in zip(times[:600], counts)), encoding="utf-8")
    rules = ["--rules", short_rules(tmp_path)]
    flags = {}
    for name, src, extra in (("full", full, []), ("cut", cut, []), ("full60", full, ["--interval", "60"]),
                             ("cut60", cut, ["--interval", "60"])):
        assert main(["backtest", "--series", str(src), "--out", str(tmp_path / f"{name}.out"), *rules, *extra]) == 0
        flags[name] = read_out(tmp_path / f"{name}.out")
    assert flags["full"][:600] != flags["cut"]            # inferred: 60 s from the whole file, 300 s from the cut
    assert flags["full60"][:600] == flags["cut60"]        # given: the same answer, row for row


def test_rows_coming_faster_than_the_interval_are_an_error_not_a_drifting_grid(tmp_path, capsys):
    start = datetime(2025, 3, 3)
    times = [start + timedelta(minutes=5 * i) for i in range(2000)]
    times += [times[-1] + timedelta(minutes=i + 1) for i in range(12_000)]   # 4 minutes ahead a row: 33 days
    src, out = tmp_path / "mixed.csv", tmp_path / "o.csv"
    src.write_text("".join(f"{t:%Y-%m-%d %H:%M:%S},5\n" for t in times), encoding="utf-8")
    assert main(["backtest", "--series", str(src), "--out", str(out), "--interval", "300"]) == 2
    assert "mixed.csv:" in capsys.readouterr().err and not out.exists()   # no half-written result
    out.write_text("the last good result", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(out)
    for target in (out, link):                # a failed replay touches neither a file nor a link
        assert main(["backtest", "--series", str(src), "--out", str(target), "--interval", "300"]) == 2
    assert link.is_symlink() and out.read_text(encoding="utf-8") == "the last good result"


def test_an_output_that_cannot_be_written_fails_before_the_replay(tmp_path, capsys):
    src = tmp_path / "s.csv"
    write_series(src, series(50))
    for out, what in ((tmp_path, "is a directory"), (tmp_path / "no" / "o.csv", "no folder"),
                      (src, "is the series itself")):
        assert main(["backtest", "--series", str(src), "--out", str(out)]) == 2
        assert what in capsys.readouterr().err
    src.write_bytes("timestamp,value\n2025-03-03 00:00:00,1\n2025-03-03 00:01:00,1 \xe9\n".encode("latin-1"))
    assert main(["backtest", "--series", str(src), "--out", str(tmp_path / "o.csv")]) == 2
    assert f"{src}: not UTF-8" in capsys.readouterr().err


def test_the_new_subject_line_is_per_five_minutes_at_hour_long_buckets_too(tmp_path):
    src, out = tmp_path / "s.csv", tmp_path / "o.csv"
    hour = timedelta(hours=1)
    write_series(src, [50] * 20 + [1200], step=hour)          # 100 per 5 minutes: under the line of 1000
    assert main(["backtest", "--series", str(src), "--out", str(out)]) == 0
    assert [f for _, f in read_out(out)].count("1") == 0
    write_series(src, [50] * 20 + [12_500], step=hour)        # past 1000 per 5 minutes
    assert main(["backtest", "--series", str(src), "--out", str(out)]) == 0
    assert [f for _, f in read_out(out)][-1] == "1"
    assert backtest.scaled_params(DEFAULT_SURGE, 3600).new_subject_min_count == 12_000
    assert backtest.scaled_params(DEFAULT_SURGE, 60).new_subject_min_count == 1000
    assert backtest.scaled_params(DEFAULT_SURGE, 240).new_subject_min_count == 800       # one 4-minute bucket
    given = {"bucket_s": 60, "window_buckets": 10, "new_subject_min_count": 1000}         # the rules' own window
    assert backtest.scaled_params(given, 60).new_subject_min_count == 1000


def test_index_replay_asks_for_one_minute_buckets_unless_told(tmp_path, monkeypatch):
    import contextlib

    import shaobing.connections

    asked = []

    class FakeES:
        def search(self, index, body):
            interval = body["aggs"]["per_bucket"]["date_histogram"]["fixed_interval"]
            asked.append(interval)
            step = int(interval[:-1])
            return {"aggregations": {"per_bucket": {"buckets": [
                {"key_as_string": (datetime(2026, 11, 1) + timedelta(seconds=step * i)).strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                 "doc_count": 3, "negative": {"doc_count": 0}} for i in range(30)]}}}

    monkeypatch.setattr(shaobing.connections, "es_client", lambda settings, **kw: contextlib.nullcontext(FakeES()))
    for extra, interval in (([], "60s"), (["--interval", "300"], "300s")):
        out = tmp_path / f"idx{interval}.csv"
        assert main(["backtest", "--index", "--subject", "某县", "--since", "2026-11-01", "--until", "2026-11-01T01:00",
                     "--out", str(out), *extra]) == 0
        assert asked[-1] == interval and len(read_out(out)) == 30


def test_a_single_row_is_an_error_naming_the_file(tmp_path, capsys):
    src = tmp_path / "one.csv"
    src.write_text("timestamp,value\n2025-03-03 00:00:00,1\n", encoding="utf-8")
    assert main(["backtest", "--series", str(src), "--out", str(tmp_path / "o.csv")]) == 2
    assert "one.csv: need at least 2 data rows" in capsys.readouterr().err


def test_gaps_and_off_grid_rows_are_handled_as_documented(tmp_path):
    """A missing stretch counts as zero mentions, a row off the grid goes to its bucket: every
    input row still gets exactly one output row, and the surge after the gap is found."""
    counts = series(700, surge_at=600, extra=250)     # a new subject: the absolute line
    start, step = datetime(2025, 3, 3), timedelta(minutes=1)
    lines = ["timestamp,value"]
    for i, c in enumerate(counts):
        if 300 <= i < 330:                   # a 30-minute gap
            continue
        at = start + i * step + (timedelta(seconds=20) if i == 450 else timedelta(0))
        lines.append(f"{at:%Y-%m-%d %H:%M:%S},{c}")
    src, out = tmp_path / "gap.csv", tmp_path / "o.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["backtest", "--series", str(src), "--out", str(out)]) == 0
    rows = read_out(out)
    assert len(rows) == 670 and rows[420][0] == "2025-03-03 07:30:20"
    alerts = [rows[i][0] for i, (_, flag) in enumerate(rows) if flag == "1"]
    assert alerts and all(a >= "2025-03-03 10:00:00" for a in alerts)


def test_rules_file_parameters_are_used(tmp_path):
    src, rules = tmp_path / "s.csv", tmp_path / "rules.yml"
    write_series(src, series(600, surge_at=400, extra=8))
    rules.write_text("version: 1\nsurge: {ratio: 1.8, z: 2, min_count: 5}\nchannels: [{name: c, type: console}]\n"
                     "default_route: {channels: [c]}\n", encoding="utf-8")
    main(["backtest", "--series", str(src), "--out", str(tmp_path / "default.csv")])
    main(["backtest", "--series", str(src), "--out", str(tmp_path / "tuned.csv"), "--rules", str(rules)])
    assert sum(int(f) for _, f in read_out(tmp_path / "tuned.csv")) > sum(int(f) for _, f in read_out(tmp_path / "default.csv"))


def test_index_query_and_answer_are_plain_dicts():
    start = datetime(2025, 3, 3, tzinfo=timezone.utc)
    body = backtest.histogram_query("某县", start, start + timedelta(hours=1), 60)
    assert body["query"]["bool"]["filter"][0] == {"term": {"subjects": "某县"}}
    assert body["aggs"]["per_bucket"]["date_histogram"]["fixed_interval"] == "60s"
    answer = {"aggregations": {"per_bucket": {"buckets": [
        {"key_as_string": "2025-03-03T00:00:00.000Z", "doc_count": 5, "negative": {"doc_count": 2}},
        {"key_as_string": "2025-03-03T00:01:00.000Z", "doc_count": 0, "negative": {"doc_count": 0}}]}}}
    rows = backtest.rows_from_histogram(answer)
    assert [(r.value, r.negative) for r in rows] == [(5, 2), (0, 0)] and rows[1].at.minute == 1


@pytest.mark.parametrize("gap,interval", [(301, 300), (299.5, 300), (3590, 3600), (60, 60), (90, 90),
                                          (10, 10), (1.4, 1), (421, 420)])
def test_the_interval_is_the_median_gap_snapped_to_whole_minutes(gap, interval):
    assert backtest.snap_interval(gap) == interval


def _busy_rows(seed, jitter=0, phase=0, missing=range(0), days=8, level=50):
    """A busy subject (about `level` mentions per 5 minutes, with a daily rhythm) and no surge."""
    rng, out = random.Random(seed), []
    start = datetime(2025, 3, 3, tzinfo=backtest.SHANGHAI)
    for k in range(288 * days):
        usual = level * (1 + 0.6 * math.sin(2 * math.pi * k / 288))
        value = max(0, round(rng.gauss(usual, math.sqrt(usual))))
        at = start + timedelta(seconds=300 * k + phase + rng.randint(-jitter, jitter))
        if k not in missing:
            out.append(backtest.Row(len(out) + 2, at.isoformat(), at, value))
    return out


def test_a_jittered_clock_never_puts_two_rows_into_one_bucket():
    rows = _busy_rows(0, jitter=60)               # rows up to a minute either side of the 5-minute marks
    grid = list(backtest.on_grid(rows, backtest.infer_interval(rows)))
    assert [b.row for b in grid] == list(range(len(rows)))          # one bucket per row, none filled
    assert all((b.at - a.at).total_seconds() == 300 for a, b in zip(grid, grid[1:]))
    for seed in (0, 2):                           # bucketing by the clock doubled counts and paged 8 and 1 times
        rows = _busy_rows(seed, jitter=60)
        assert sum(backtest.run(rows, backtest.scaled_params(DEFAULT_SURGE, backtest.infer_interval(rows)))) == 0


def test_an_outage_of_a_busy_series_is_missing_data_not_zero_mentions():
    missing = range(288 * 5 + 100, 288 * 5 + 172)                   # 6 hours without rows on day 6
    for seed in (0, 2):                           # zero-filled, the resumption paged once on each
        rows = _busy_rows(seed, missing=missing)
        assert sum(backtest.run(rows, backtest.scaled_params(DEFAULT_SURGE, 300))) == 0
    grid = list(backtest.on_grid(_busy_rows(0, missing=missing), 300))
    filled = [b for b in grid if b.row is None]
    assert len(filled) == 72 and len(grid) == 288 * 8
    value = {b.at: b.value for b in grid}       # the median of the same bucket on the days before the gap
    assert all(b.value == statistics.median(value[b.at - timedelta(days=d)] for d in range(1, 6)) for b in filled)


def test_a_gap_in_a_sparse_count_series_is_zero_and_in_a_measurement_the_value_before():
    start = datetime(2025, 3, 3, tzinfo=backtest.SHANGHAI)

    def values(raw, step=300):
        rows = [backtest.Row(i + 2, "", start + timedelta(seconds=step * i), v)
                for i, v in enumerate(raw) if v is not None]
        return [(b.value, b.row) for b in backtest.on_grid(rows, step)]
    assert values([0, 1, 0, 2, None, None, 3]) == [(0, 0), (1, 1), (0, 2), (2, 3), (0, None), (0, None), (3, 4)]
    assert [v for v, _ in values([20.5, 21.0, None, 22.5])] == [20.5, 21.0, 21.0, 22.5]
    assert [v for v, _ in values([0.3, 0.5, 0.25, None, 0.4])] == [0.3, 0.5, 0.25, 0.25, 0.4]   # small, yet measured
    # a bursty subject exported sparsely (only its non-zero buckets, each >= 5): the rows' own
    # median is high, but most buckets of its day had no row, so a gap still reads as zeros
    bursty = [None] * 288
    for k in range(0, 288, 5):
        bursty[k] = 7
    assert {v for v, row in values(bursty + [None, None, 9]) if row is None} == {0}


def test_an_outage_longer_than_the_filled_week_does_not_page_on_resumption():
    for seed in (0, 2):
        rows = _busy_rows(seed, days=20, missing=range(288 * 6, 288 * 15))       # 9 days without rows
        flags = backtest.run(rows, backtest.scaled_params(DEFAULT_SURGE, 300))
        resumed = next(i for i, r in enumerate(rows) if r.at >= rows[0].at + timedelta(days=15))
        assert sum(flags[resumed:resumed + 12]) == 0


def test_a_years_long_gap_in_a_one_second_series_fills_a_bounded_number_of_buckets():
    start = datetime(2025, 3, 3, tzinfo=backtest.SHANGHAI)
    rows = [backtest.Row(i + 2, "", start + timedelta(seconds=i), 50) for i in range(5)]
    rows.append(backtest.Row(7, "", start + timedelta(days=800), 50))
    grid = list(backtest.on_grid(rows, 1))
    assert sum(b.row is None for b in grid) == backtest.FILL_MAX and grid[-1].row == 5


@pytest.mark.parametrize("header,fmt", [
    ('"timestamp","value"', '"{at:%Y-%m-%d %H:%M:%S}","{v}"'),        # quoted fields
    ("时间,数量", "{epoch},{v}"),                                       # Unix seconds, a header of names
    ("time,count", "{epoch_ms},{v}"),                                   # Unix milliseconds
    ("", "{epoch}.250,{v}"),                                            # no header, decimal seconds
])
def test_quoted_fields_unix_times_and_any_header_of_names(tmp_path, header, fmt):
    start = datetime(2025, 3, 3, tzinfo=backtest.SHANGHAI)
    lines = [header] if header else []
    for i, v in enumerate(series(300, level=20, surge_at=200, extra=200, length=12)):
        at = start + timedelta(hours=i)
        lines.append(fmt.format(at=at, v=v, epoch=int(at.timestamp()), epoch_ms=int(at.timestamp()) * 1000))
    src, out = tmp_path / "s.csv", tmp_path / "o.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["backtest", "--series", str(src), "--out", str(out), "--rules", short_rules(tmp_path)]) == 0
    alerts = [i for i, (_, flag) in enumerate(read_out(out)) if flag == "1"]
    assert len(read_out(out)) == 300 and alerts and all(200 <= i <= 211 for i in alerts)
    rows = backtest.parse_series(lines, "s.csv")
    assert rows[0].at == start.replace(microsecond=250000 if "250" in fmt else 0)


def test_a_second_outage_after_a_long_one_is_still_missing_data():
    """Buckets filled with the usual counts are not 'low': a day mostly filled must not make the next gap zeros."""
    day = 288
    missing = set(range(6 * day, 7 * day)) | set(range(7 * day + 36, 7 * day + 72))    # 24 h out, 3 h back, 3 h out
    grid = list(backtest.on_grid(_busy_rows(3, missing=missing), 300))
    second = [b.value for b in grid[7 * day + 36:7 * day + 72]]
    assert all(b.row is None for b in grid[7 * day + 36:7 * day + 72]) and min(second) > 10


@pytest.mark.parametrize("empty", [0.55, 0.8])
def test_a_sparse_export_with_most_buckets_empty_keeps_its_interval(empty):
    rng = random.Random(5)
    start = datetime(2025, 3, 3, tzinfo=backtest.SHANGHAI)
    rows = [backtest.Row(k + 2, "", start + timedelta(minutes=5 * k), rng.randint(1, 9))
            for k in range(2000) if rng.random() > empty]
    assert backtest.infer_interval(rows) == 300            # the median gap is 600 s or more


@pytest.mark.parametrize("text,what", [
    ("2025-13-03 00:05:00,-\n2025-03-03 00:10:00,1\n2025-03-03 00:15:00,1\n", "bad timestamp"),  # not a header
    ('2025-03-03 00:05:00,"1,234"\n2025-03-03 00:10:00,1\n', "bad value '1,234'"),
])
def test_a_first_line_that_is_data_is_never_taken_for_a_header(text, what):
    with pytest.raises(backtest.SeriesError, match=f"s.csv:1: {what}"):
        backtest.parse_series(text.splitlines(), "s.csv")
