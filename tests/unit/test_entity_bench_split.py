"""The entity bench's held-out splits (bench/eval_entities.py, issue 13): a random tenth shares its
articles with the rest; the tail, head and mid blocks hold whole articles out."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import eval_entities  # noqa: E402

SENTENCES = [f"s{i}" for i in range(95)]


def test_without_tune_everything_fits():
    assert eval_entities.split(SENTENCES, False, "tail") == (SENTENCES, [])


def test_tail_head_and_mid_hold_out_a_contiguous_tenth():
    fit, held = eval_entities.split(SENTENCES, True, "tail")
    assert held == SENTENCES[-9:] and fit == SENTENCES[:-9]
    fit, held = eval_entities.split(SENTENCES, True, "head")
    assert held == SENTENCES[:9] and fit == SENTENCES[9:]
    fit, held = eval_entities.split(SENTENCES, True, "mid")
    assert held == SENTENCES[42:51] and fit == SENTENCES[:42] + SENTENCES[51:]


def test_random_holds_out_a_scattered_tenth_the_same_way_each_time():
    fit, held = eval_entities.split(SENTENCES, True)
    assert len(held) == 9 and sorted(fit + held) == sorted(SENTENCES)
    assert held != SENTENCES[-9:] and held != SENTENCES[:9]
    assert eval_entities.split(SENTENCES, True, "random") == (fit, held)


def test_an_unknown_split_is_an_error():
    with pytest.raises(ValueError, match="block"):
        eval_entities.split(SENTENCES, True, "block")
