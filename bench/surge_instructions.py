"""Detection cost as instructions, and the detector's exact output, for comparing two checkouts on a
machine too noisy for CPU time: one subject of a `bench/surge_cost.py` stream, its mentions built
first, then detected `runs` times (0 or 1), as the agent does (one mention per call); prints a digest
of every signal and of the state after every 997th mention and at the end (`digest`: hashing has a
cost of its own, so a measured run does not hash).

    .venv/bin/python bench/surge_instructions.py long subject-3 digest  # must match main's
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \\
        .venv/bin/python bench/surge_instructions.py long subject-3 0   # I refs: the set-up
    (the same with 1)                                                   # minus it: detection

Run with PYTHONHASHSEED=0 (the instruction count then repeats to the last digit). Run this file
from the checkout being measured: it imports the detector next to it.
"""
from __future__ import annotations

import hashlib
import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from alerting.rules import load_rules  # noqa: E402
from streams.records import Mention  # noqa: E402
from streams.surge import SurgeParams, observe_mentions  # noqa: E402
from surge_cost import T0, stream  # noqa: E402


def main() -> int:
    load, subject, runs = sys.argv[1], sys.argv[2], sys.argv[3]
    check = runs == "digest"
    events = stream(5, 72) if load == "long" else stream(20, 6)
    mentions = [(T0 + timedelta(seconds=t), Mention(
        subject=s, post_id=post_id, site="bbs.example", url=f"https://bbs.example/{post_id}", title="标题",
        published_at=T0 + timedelta(seconds=t), sentiment_label="negative" if negative else "neutral",
        is_repost=False, cluster_id=post_id)) for t, s, post_id, negative in events if s == subject]
    params = SurgeParams.from_mapping(dict(load_rules(None).spec.surge))
    digest = hashlib.sha256()
    for _ in range(1 if check else int(runs)):
        state = None
        for n, (at, m) in enumerate(mentions, 1):
            state, out = observe_mentions(state, [m], at, params)
            if check:
                digest.update(repr(out).encode())
                if n % 997 == 0 or n == len(mentions):
                    digest.update(json.dumps(state, sort_keys=True).encode())
    print(json.dumps({"load": load, "subject": subject, "mentions": len(mentions), "runs": runs,
                      "digest": digest.hexdigest()[:16] if check else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
