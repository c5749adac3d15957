"""CPU time of the article clean-up's meta-line step (crawlers.parsing.article._strip_head) on
one long line without spaces, where every 记者 is a place the meta pattern could start: the
shipped version (pattern tried on the line's head only) against the unbounded pattern it replaced,
which is quadratic. Runnable with no arguments; the last line is one JSON object.

    .venv/bin/python bench/strip_head_bench.py
"""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.parsing.article import _META_HEAD, _strip_head  # noqa: E402


def cpu(fn, *args) -> float:
    started = time.process_time()
    fn(*args)
    return round(time.process_time() - started, 4)


def main() -> None:
    out = {}
    for chars in (12_000, 24_000, 96_000, 1_000_002):
        line = "记者很" * (chars // 3)
        out[f"shipped_{chars}_s"] = cpu(_strip_head, line, "", "")
        if chars <= 24_000:          # the old, unbounded pattern: minutes from 96 KB on
            out[f"unbounded_{chars}_s"] = cpu(re.compile(_META_HEAD.pattern).match, line)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
