"""Fault suite (issue 16): the whole pipeline under load, faults injected one after another,
the outcome counted against the scenario's ground truth.

    nice -n 10 .venv/bin/python bench/faults.py        # the issue's full scenario, ~15-20 min
    .venv/bin/python bench/faults.py --fuzz 500 --outage-s 60 --es-freeze-s 15 --broker-down-s 10 \
        --restart-after-s 5 --tail-s 60                   # the reduced form `make test` runs

What runs: `shaobing demo`'s pipeline (demo web with a steady stream of real posts and one surge
-> crawler -> Kafka -> 2 workers -> Elasticsearch -> duty receivers) in a namespace of its own, on
a PRIVATE stack started for the run on spare ports: three Kafka brokers (KRaft, replication 3,
min.insync.replicas 2: what `shaobing stack up --brokers 3` runs) and one Elasticsearch node.
The shared stack is not touched. Faults:
  fuzz         --fuzz hostile raw records (bad JSON, bad UTF-8, deep nesting, oversize, wrong
               types, NaN, key mismatch, non-objects, tombstones) produced to posts.raw from the
               start while posts flow; each must come out of posts.dlq with a reason (by its key)
  channel_down the primary duty channel answers HTTP 500 or hangs past the 10 s attempt timeout
               from the start for --outage-s (and until the canary below reached the fallback);
               rules: retry.deadline 20s, a second receiver as the fallback. Every alert must
               reach the fallback once while the primary is down and the primary once after;
               a canary surge of another subject, sent while the primary is down, must reach the
               fallback within its own retry budget (not wait behind the dead channel)
Then, from 5 s after the surge starts, one after another:
  worker_kill  kill -9 one of the two workers, restarted --restart-after-s later
  broker_kill  kill -9 one broker of three, restarted --broker-down-s later
  es_freeze    SIGSTOP the Elasticsearch node for --es-freeze-s, then SIGCONT
Totals: posts_lost (posts online by the scenario's end missing from the index), duplicate_docs
(exact copies indexed), alerts_missing / alerts_duplicated (per surge alert, at the primary
after it recovers and at the fallback while it is down), bad_records_not_dead_lettered,
workers_alive. Per fault: what it did. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerting.delivery import RetryPolicy  # noqa: E402
from bench.fault_kit import (FlakyReceiver, LagMonitor, PrivateStack, arrivals, dead_letters, fuzzed, notifications,  # noqa: E402
                             surge_episodes, freeze, in_sync_after, indexed_docs, inject, say, send_canary)
from shaobing.demo import Demo, DemoConfig  # noqa: E402
from shaobing.processes import spawn_shaobing  # noqa: E402
from shaobing.settings import load_settings  # noqa: E402
from streams.topics import ALL_TOPICS  # noqa: E402

CONFIG = DemoConfig(seed=23, history_s=900, surge_at_s=40, surge_span_s=60, tail_s=150, crawl_interval_s=3,
                    workers=2, once=True, timeout_s=900, fallback=True, retry_deadline="20s")
GROUP_WAIT_S, GROUP_INTERVAL_S, TICK_S = 5.0, 60.0, 2.0   # the demo rules' group timing; the alert tick
# how late an alert may reach the fallback: group_wait, the primary's retry deadline (its last
# attempt may hang for a whole attempt timeout) and a tick to notice, another to send
RETRY_BUDGET_S = GROUP_WAIT_S + 20.0 + RetryPolicy().timeout_s + 2 * TICK_S
CANARY = "故障演练·探针主题"
DEFAULTS = {"fuzz": 10_000, "outage_s": 600.0, "es_freeze_s": 60.0, "broker_down_s": 30.0,
            "restart_after_s": 10.0, "surge_at_s": 100.0, "tail_s": 150.0}


def workers_alive(demo: Demo) -> int:
    return sum(1 for c in demo.children if c.name.startswith("worker") and c.alive())


def kill_worker(demo: Demo, after_s: float) -> dict:
    worker = next(c for c in demo.children if c.name == "worker-1")
    t0, at_s = time.monotonic(), demo.scenario.now_s()
    os.killpg(worker.proc.pid, signal.SIGKILL)      # the worker and anything it started
    worker.proc.wait()
    demo.children.remove(worker)
    say(f"faults: worker-1 killed (-9) at scenario t={at_s:.0f}s")
    time.sleep(after_s)
    child = spawn_shaobing("worker-1b", ["worker"], {**demo.env, "SHAOBING_WORKER_NAME": "worker-1b"},
                           demo.workdir / "logs")
    demo.children.append(child)
    demo.metrics_ports[0] = int(child.wait_for(r"METRICS_PORT=(\d+)", 300).group(1))
    child.wait_for(r"\[\^Worker\]: Ready", 300)
    return {"t0": t0, "t1": time.monotonic(), "at_s": at_s, "end_s": demo.scenario.now_s(),
            "restarted_after_s": after_s, "ready_after_kill_s": round(time.monotonic() - t0, 1)}


def kill_broker(demo: Demo, stack: PrivateStack, down_s: float) -> dict:
    victim = stack.brokers[1]
    t0, at_s = time.monotonic(), demo.scenario.now_s()
    victim.kill()
    say(f"faults: broker {victim.name} killed (-9) at scenario t={at_s:.0f}s")
    time.sleep(down_s)
    t_restart = time.monotonic()
    stack.restart_broker(victim)
    t1 = time.monotonic()
    say(f"faults: broker {victim.name} back in the cluster after {t1 - t_restart:.0f}s")
    topics = [demo.settings.topic(t.name) for t in ALL_TOPICS]
    return {"t0": t0, "t1": t1, "at_s": at_s, "end_s": demo.scenario.now_s(), "broker": victim.name,
            "down_s": round(t_restart - t0, 1), "healthy_after_restart_s": round(t1 - t_restart, 1),
            "replicas_in_sync_after_s": in_sync_after(demo.settings, topics)}


def freeze_es(demo: Demo, stack: PrivateStack, seconds: float) -> dict:
    t0, at_s = time.monotonic(), demo.scenario.now_s()
    say(f"faults: Elasticsearch frozen (SIGSTOP) for {seconds:.0f}s at scenario t={at_s:.0f}s")
    freeze(stack.es.pid(), seconds)
    say("faults: Elasticsearch thawed (SIGCONT)")
    t1 = time.monotonic()
    return {"t0": t0, "t1": t1, "at_s": at_s, "end_s": demo.scenario.now_s(), "frozen_s": round(t1 - t0, 1)}


def channel_outage(demo: Demo, primary: FlakyReceiver, outage_s: float, sequence_done: threading.Event,
                   out: dict) -> None:
    """Primary down from the start; once the faults are over and the fallback has carried the
    scenario's alert, a canary of another subject; the primary comes back after outage_s and
    once the canary reached the fallback (or was given up on)."""
    t0, fallback = time.monotonic(), demo.fallback_receiver
    canary_t = None
    while True:
        elapsed = time.monotonic() - t0
        fb = arrivals(fallback)
        if canary_t is None and sequence_done.is_set() and fb:
            out["canary_sent"] = send_canary(demo.settings, CANARY)
            canary_t = time.monotonic()
            say(f"faults: canary surge ({CANARY}) sent with the primary channel down")
        canary_done = canary_t is not None and (any(a["labels"].get("subject") == CANARY for _, a in fb)
                                                or time.monotonic() - canary_t > 5 * RETRY_BUDGET_S)
        if (elapsed >= outage_s and canary_done) or elapsed > outage_s + 1800:
            break
        time.sleep(1)
    primary.down = False
    out.update(t_recovered=time.monotonic(), recovered_at=datetime.now(timezone.utc),
               outage_s=round(time.monotonic() - t0, 1))
    say(f"faults: primary channel back after {out['outage_s']}s ({primary.refused} requests refused)")


def post_times(demo: Demo) -> dict[str, float]:
    return {p.key: p.at_s for p in demo.scenario.posts}


def window(fault: dict, keys: set[str], at: dict[str, float]) -> set[str]:
    return {k for k in keys if fault["at_s"] <= at[k] <= fault["end_s"]}


def alert_accounting(settings, primary, fallback, recovered_at) -> dict:
    episodes = surge_episodes(settings)                  # (subject, rule) -> (fired, resolved)
    surges = {k: fired for k, (fired, _) in episodes.items()}
    prim, fb = arrivals(primary), arrivals(fallback)

    def key(a):
        return a["labels"].get("subject"), a["labels"].get("alertname")

    on_primary = {key(a) for _, a in prim}
    first_on_fallback = {}
    for at, a in sorted(fb, key=lambda x: x[0]):
        first_on_fallback.setdefault(key(a), at)
    # escalation was due for every alert detected while the primary was down with its budget to
    # spare (an alert that joins a group already notified waits for the group's next flush)
    due = {k for k, at in surges.items() if at + timedelta(seconds=GROUP_INTERVAL_S + RETRY_BUDGET_S) < recovered_at}
    # the primary, once back, gets every alert still firing at its group's next flush; one that
    # resolved while it was down was never notified there, so nothing (not a resolve) is due
    settle = recovered_at + timedelta(seconds=GROUP_INTERVAL_S + RETRY_BUDGET_S)
    resolved_during_outage = {k for k, (_, resolved) in episodes.items() if resolved and resolved < settle}
    missing_primary = sorted(set(surges) - on_primary - resolved_during_outage)
    missing_fallback = sorted(due - set(first_on_fallback))
    dup, relisted = 0, 0
    for receiver in (primary, fallback):
        # a notification is its group's full firing set (Alertmanager's way): one that re-lists
        # alerts beside a new one is a group update; one that brings nothing new is a duplicate
        seen: set[str] = set()
        for note in notifications(receiver):
            fps = {a["fingerprint"] for a in note}
            if fps <= seen:
                dup += len(fps)
            else:
                relisted += len(fps & seen)
            seen |= fps
    late = {f"{s}/{r}": round((first_on_fallback[(s, r)] - at).total_seconds(), 1)
            for (s, r), at in surges.items() if (s, r) in first_on_fallback}
    return {"expected": [f"{s}/{r}" for s, r in sorted(surges)], "missing_on_primary": missing_primary,
            "missing_on_fallback": missing_fallback, "missing": len(missing_primary) + len(missing_fallback),
            "duplicated": dup, "relisted_in_group_updates": relisted, "sent_primary": len(prim), "sent_fallback": len(fb),
            "detected_to_fallback_s": late,
            "resolved_before_primary_back": [f"{s}/{r}" for s, r in sorted(resolved_during_outage)],
            "detected_before_recovery_s": {f"{s}/{r}": round((recovered_at - at).total_seconds(), 1)
                                           for (s, r), at in surges.items()}}


def wait_for_primary(settings, primary: FlakyReceiver, timeout_s: float) -> None:
    """After the outage, the primary gets every alert at its group's next flush: wait for it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = {(a["labels"].get("subject"), a["labels"].get("alertname")) for _, a in arrivals(primary)}
        if {k for k, (_, resolved) in surge_episodes(settings).items() if resolved is None} <= got:
            return
        time.sleep(5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz", type=int, default=DEFAULTS["fuzz"], help="hostile raw records to inject")
    parser.add_argument("--outage-s", type=float, default=DEFAULTS["outage_s"],
                        help="seconds the primary channel is down from the start")
    parser.add_argument("--es-freeze-s", type=float, default=DEFAULTS["es_freeze_s"], help="SIGSTOP of Elasticsearch")
    parser.add_argument("--broker-down-s", type=float, default=DEFAULTS["broker_down_s"],
                        help="seconds one broker of three stays killed")
    parser.add_argument("--restart-after-s", type=float, default=DEFAULTS["restart_after_s"],
                        help="seconds before the killed worker restarts")
    parser.add_argument("--surge-at-s", type=float, default=DEFAULTS["surge_at_s"],
                        help="scenario seconds until the surge (the workers take ~1 min to join)")
    parser.add_argument("--tail-s", type=float, default=DEFAULTS["tail_s"],
                        help="scenario seconds after the surge (posts keep flowing through the faults)")
    args = parser.parse_args()
    form = "full" if all(getattr(args, k) == v for k, v in DEFAULTS.items()) else "reduced"
    namespace = f"faults-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    stack = PrivateStack(load_settings(), namespace)
    say(f"faults: starting a private stack (3 brokers on {stack.settings.kafka_servers}, Elasticsearch on "
        f"{stack.es_url})")
    try:
        stack.start()
        stack_s = round(time.monotonic() - started, 1)
        settings = load_settings(namespace=namespace, kafka_bootstrap=stack.settings.kafka_servers, es_url=stack.es_url)
        result = run(settings, stack, args)
    finally:
        stack.stop()
    result = {"bench": "faults", "form": form, "args": vars(args), **result, "private_stack_start_s": stack_s,
              "elapsed_s": round(time.monotonic() - started, 1)}
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0


def run(settings, stack: PrivateStack, args) -> dict:
    config = dataclasses.replace(CONFIG, surge_at_s=args.surge_at_s, tail_s=args.tail_s, timeout_s=args.outage_s + 900)
    demo = Demo(settings, config, echo=say)
    demo.receiver = primary = FlakyReceiver(secret=demo.receiver.secret, on_alert=demo._on_alert)
    lag, outage, fuzz, sequence_done = LagMonitor(settings), {}, {}, threading.Event()
    error = None
    try:
        demo.start()
        lag.start()
        threading.Thread(target=channel_outage, args=(demo, primary, args.outage_s, sequence_done, outage),
                         daemon=True).start()
        records = fuzzed(args.fuzz, random.Random(5))
        injector = threading.Thread(target=inject, args=(settings, records, fuzz), name="fuzz")
        injector.start()                          # while the posts and the surge flow
        while demo.scenario.now_s() < config.surge_at_s + 5:
            time.sleep(1)
            demo.check_children()
        faults = {"worker_kill": kill_worker(demo, args.restart_after_s)}
        faults["worker_kill"]["workers_alive"] = workers_alive(demo)
        faults["broker_kill"] = kill_broker(demo, stack, args.broker_down_s)
        faults["broker_kill"]["workers_alive"] = workers_alive(demo)
        faults["es_freeze"] = freeze_es(demo, stack, args.es_freeze_s)
        faults["es_freeze"]["workers_alive"] = workers_alive(demo)
        sequence_done.set()
        injector.join()
        try:
            summary = demo.run_until_finished()
        except RuntimeError as exc:              # a child died: say so in the JSON, count what is there
            error, summary = str(exc)[:2000], {}
        wait_for_primary(settings, primary, GROUP_INTERVAL_S + 3 * RETRY_BUDGET_S)
        alive = workers_alive(demo)
        truth = demo.scenario.ground_truth(until_s=demo.scenario.params.end_s)
        docs = indexed_docs(settings)
        dlq = dead_letters(settings)
        recovered_at = outage.get("recovered_at") or datetime.now(timezone.utc)
        alerts = alert_accounting(settings, primary, demo.fallback_receiver, recovered_at)
    finally:
        lag.stop()
        demo.stop()

    at = post_times(demo)
    ids = [d[0] for d in docs]
    by_id = {d[0]: d for d in docs}
    lost = set(truth.keys) - set(ids)
    # a verbatim copy is indexed as a repost in its original's cluster: one first publisher per
    # story; two first publishers (or two clusters) is the duplicate the pipeline must not make
    copies = {c for c in truth.verbatim_copies if c in by_id and truth.repost_of[c] in by_id
              and (by_id[c][1] != by_id[truth.repost_of[c]][1] or not (by_id[c][2] or by_id[truth.repost_of[c]][2]))}
    indexed_twice = len(ids) - len(by_id)
    for f in faults.values():
        in_window = window(f, set(truth.keys), at)
        f.update(posts_in_window=len(in_window), posts_lost=len(lost & in_window),
                 duplicate_docs=len(window(f, copies, at)), drained_after_s=lag.drained_after(f["t1"]),
                 max_lag=lag.max_lag_between(f["t0"], f["t1"] + 30),
                 at_s=round(f["at_s"]), end_s=round(f["end_s"]))
        del f["t0"], f["t1"]
    not_dead_lettered = Counter(kind for k, _, kind in records if k.decode() not in dlq)
    reasons = Counter(dlq[k.decode()].split(":")[0][:40] for k, _, _ in records if k.decode() in dlq)
    fuzz_keys = {k.decode() for k, _, _ in records}
    faults["fuzz"] = {"injected": len(records), "by_kind": dict(Counter(kind for _, _, kind in records)), **fuzz,
                      "dead_letters": len(records) - sum(not_dead_lettered.values()),
                      "not_dead_lettered_by_kind": dict(not_dead_lettered), "reasons": dict(reasons.most_common(16)),
                      "other_dead_letters": {k: v for k, v in dlq.items() if k not in fuzz_keys}}
    canary_at = [t for t, a in arrivals(demo.fallback_receiver) if a["labels"].get("subject") == CANARY]
    canary_delay = (round((min(canary_at) - outage["canary_sent"]).total_seconds(), 1)
                    if canary_at and "canary_sent" in outage else None)
    primary_times = [t for t, _ in arrivals(primary)]
    faults["channel_down"] = {
        "outage_s": outage.get("outage_s"), "requests_refused": primary.refused, "requests_hung": primary.hung,
        "alerts_expected": alerts["expected"], "alerts_sent_primary": alerts["sent_primary"],
        "alerts_sent_fallback": alerts["sent_fallback"], "missing_on_primary": alerts["missing_on_primary"],
        "missing_on_fallback": alerts["missing_on_fallback"], "alerts_duplicated": alerts["duplicated"],
        "relisted_in_group_updates": alerts["relisted_in_group_updates"],
        "detected_to_fallback_s": alerts["detected_to_fallback_s"],
        "resolved_before_primary_back": alerts["resolved_before_primary_back"],
        "canary_to_fallback_s": canary_delay, "retry_budget_s": RETRY_BUDGET_S,
        "canary_on_fallback_before_recovery": bool(canary_at and "recovered_at" in outage
                                                   and min(canary_at) < outage["recovered_at"]),
        "alerts_delayed_over_budget": int(canary_delay is None or canary_delay > RETRY_BUDGET_S),
        "primary_caught_up_after_s": (round(max(primary_times).timestamp() - outage["recovered_at"].timestamp(), 1)
                                      if primary_times and "recovered_at" in outage else None)}
    return {
        "namespace": settings.namespace,
        "posts_lost": len(lost), "duplicate_docs": len(copies) + indexed_twice,
        "alerts_missing": alerts["missing"], "alerts_duplicated": alerts["duplicated"],
        "alerts_delayed_over_budget": faults["channel_down"]["alerts_delayed_over_budget"],
        "bad_records_not_dead_lettered": sum(not_dead_lettered.values()), "workers_alive": alive,
        "faults": faults, "lost_posts": {k: round(at[k]) for k in sorted(lost)[:20]},
        "duplicates": {"indexed_twice": indexed_twice, "copies_not_clustered": sorted(copies)[:20]},
        "error": error or summary.get("error"),
        "pipeline": {k: summary.get(k) for k in ("posts_crawled", "posts_indexed", "dead_letters", "surges",
                                                 "alerts_delivered", "alert_latency_s")},
        "ground_truth_posts": len(truth.keys), "indexed": len(by_id),
    }


if __name__ == "__main__":
    sys.exit(main())
