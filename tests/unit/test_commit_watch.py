"""The commit watchdog: a hole at the head of a partition's acks stops Faust's commit for good;
the watchdog finds it once it has lasted `stall_s`, and only then."""
import faust
from faust.types import TP

from streams.agents import uncommitted_heads
from streams.commit_watch import CommitWatch

TP0, TP1 = TP("posts.enriched", 0), TP("posts.enriched", 1)


def test_a_hole_that_lasts_is_reported_once_per_stall_period():
    watch = CommitWatch(stall_s=30)
    assert watch.check({TP0: (100, 103)}, now=0.0) == []
    assert watch.check({TP0: (100, 103)}, now=29.0) == []
    assert watch.check({TP0: (100, 103)}, now=30.0) == [(TP0, 100)]
    # re-armed: the redelivery gets another stall period before it is asked again
    assert watch.check({TP0: (100, 103)}, now=31.0) == []
    assert watch.check({TP0: (100, 103)}, now=60.0) == [(TP0, 100)]


def test_no_hole_or_a_moving_commit_is_left_alone():
    watch = CommitWatch(stall_s=30)
    # acked from the committed offset on: commits normally; nothing acked: a batch in flight
    for t in range(0, 100, 10):
        assert watch.check({TP0: (100, 100), TP1: (50, None)}, now=float(t)) == []
    # a hole that the commit then passes is forgotten; a new hole starts its own clock
    watch.check({TP0: (100, 105)}, now=0.0)
    watch.check({TP0: (110, 112)}, now=25.0)
    assert watch.check({TP0: (110, 112)}, now=40.0) == []
    assert watch.check({TP0: (110, 112)}, now=55.0) == [(TP0, 110)]


def test_revoked_partitions_are_forgotten():
    watch = CommitWatch(stall_s=30)
    watch.check({TP0: (100, 103)}, now=0.0)
    watch.check({}, now=10.0)                     # TP0 went to another worker
    assert watch.check({TP0: (100, 103)}, now=35.0) == []      # back: timed afresh
    assert watch.check({TP0: (100, 103)}, now=65.0) == [(TP0, 100)]


def test_heads_read_from_faust_bookkeeping_and_faust_is_really_stuck():
    app = faust.App("shaobing-test-commit-watch", broker="kafka://127.0.0.1:1", web_enabled=False)
    try:
        consumer = app.consumer
        consumer._committed_offset[TP0] = 100
        consumer._acked[TP0].extend([102, 103, 104])       # 100 and 101 never acked
        consumer._committed_offset[TP1] = 7
        consumer._acked[TP1].extend([7, 8])
        heads = uncommitted_heads(consumer)
        assert heads == {TP0: (100, 102), TP1: (7, 7)}
        # Faust itself will not commit TP0 past the hole (the failure the watchdog exists for)
        assert consumer._new_offset(TP0) is None
        assert consumer._new_offset(TP1) == 9
        # an offset Faust recorded as a gap in the log (compaction, transaction markers) is no hole
        consumer._gap[TP0].addi(100, 102)
        assert uncommitted_heads(consumer)[TP0] == (100, 100)
    finally:
        app.loop.close()
        consumer._thread.thread_loop.close()     # made for the consumer thread, never started
