"""The fault suite (bench/faults.py) in its reduced form: every fault of the full run — fuzzed
records, kill -9 of a worker, kill -9 of one broker of a private three-broker cluster and back,
Elasticsearch frozen with SIGSTOP, the primary duty channel down (HTTP 500 and timeouts) with a
canary of another subject — with shorter durations, on a private stack of its own. Reads the
bench's JSON line and asserts nothing was lost or duplicated, every bad record was dead-lettered, and
another subject's alert was not held behind the dead channel.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REDUCED = ["--fuzz", "500", "--outage-s", "60", "--es-freeze-s", "15", "--broker-down-s", "10",
           "--restart-after-s", "5", "--surge-at-s", "60", "--tail-s", "60"]


def test_reduced_fault_suite_loses_nothing_duplicates_nothing_and_dead_letters_every_bad_record(live_stack):
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "faults.py"), *REDUCED], cwd=REPO,
                          capture_output=True, text=True, timeout=780)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    context = json.dumps(result, ensure_ascii=False)
    assert result["error"] is None, context
    totals = {k: result[k] for k in ("posts_lost", "duplicate_docs", "alerts_missing", "alerts_duplicated",
                                     "bad_records_not_dead_lettered")}
    assert totals == dict.fromkeys(totals, 0), context
    assert result["workers_alive"] == 2, context
    faults = result["faults"]
    assert set(faults) == {"fuzz", "worker_kill", "broker_kill", "es_freeze", "channel_down"}, context
    for name in ("worker_kill", "broker_kill", "es_freeze"):
        assert faults[name]["posts_lost"] == 0 and faults[name]["workers_alive"] == 2, (name, context)
    # posts were flowing while the worker and the broker were down (the freeze is too short to say)
    assert faults["worker_kill"]["posts_in_window"] > 0 and faults["broker_kill"]["posts_in_window"] > 0, context
    # the broker really was killed and came back: every replica in sync again
    assert faults["broker_kill"]["down_s"] >= 10 and faults["broker_kill"]["replicas_in_sync_after_s"] is not None
    assert faults["fuzz"]["dead_letters"] == faults["fuzz"]["injected"] == 500, context
    assert faults["fuzz"]["other_dead_letters"] == {}, context
    down = faults["channel_down"]
    assert down["requests_refused"] > 0 and down["requests_hung"] > 0, context
    # the scenario's subject and the canary: each on the fallback while down, on the primary after
    assert len(down["alerts_expected"]) >= 2 and down["missing_on_primary"] == down["missing_on_fallback"] == []
    # another subject's alert is not held behind the dead channel: the canary escalated to the
    # fallback while the primary was still down (its delay against the retry budget is a timing,
    # reported by the bench, not asserted here)
    assert down["canary_on_fallback_before_recovery"], context
